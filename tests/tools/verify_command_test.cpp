// `bpfvm verify` on clang-built corpus objects and raw programs: exit codes, the text a rejection
// reads as (C line, rule, instruction), the JSON and SARIF documents, program selection, --dot and
// -v. Expected source lines are found in the .c files, not written down here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/commands.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "object_conversion.hpp"
#include "tools/tools_test_support.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::corpus;
using test::Output;

Output verify(VerifyOptions options) {
    std::ostringstream out, err;
    const int code = verify_command(options, out, err);
    return {code, out.str(), err.str()};
}

Output verify(std::vector<std::string> files, const std::string& format = "text") {
    VerifyOptions options;
    options.files = std::move(files);
    options.format = format;
    return verify(options);
}

json verify_json(VerifyOptions options) {
    options.format = "json";
    Output result = verify(options);
    EXPECT_NE(result.code, 2) << result.err;
    return json::parse(result.out);
}

std::string source_path(const std::string& name) {
    return (fs::path(BPFVM_SOURCE_DIR) / "corpus" / "c" / name).string();
}

// The 1-based line of the first line of the corpus source `name` that contains `needle`.
uint32_t line_of(const std::string& name, const std::string& needle) {
    std::ifstream in(source_path(name));
    std::string line;
    for (uint32_t number = 1; std::getline(in, line); ++number) {
        if (line.find(needle) != std::string::npos) return number;
    }
    ADD_FAILURE() << needle << " is not in " << name;
    return 0;
}

std::string trimmed(const std::string& text) {
    const size_t start = text.find_first_not_of(" \t");
    return start == std::string::npos ? "" : text.substr(start);
}

const loader::Program* find_program(const loader::Object& object, const std::string& function) {
    for (const loader::Program& program : object.programs) {
        if (program.function == function) return &program;
    }
    return nullptr;
}

class VerifyCommandTest : public test::ScratchDirTest {};

// ---------------------------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, ExitCodeZeroWhenEveryProgramIsAccepted) {
    Output result = verify({corpus("xdp_firewall.bpf.o")});
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_NE(result.out.find(": accepted"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find(": rejected"), std::string::npos) << result.out;
}

TEST_F(VerifyCommandTest, ExitCodeOneWhenAProgramIsRejected) {
    // reject_packet_oob has a rejected program and its accepted twin: both are listed.
    Output result = verify({corpus("reject_packet_oob.bpf.o")});
    EXPECT_EQ(result.code, 1) << result.out << result.err;
    EXPECT_NE(result.out.find("xdp/xdp_no_bounds_check (xdp, "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("): rejected"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("xdp/xdp_bounds_checked (xdp, "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("): accepted"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("2 programs: 1 accepted, 1 rejected"), std::string::npos) << result.out;
}

TEST_F(VerifyCommandTest, ExitCodeTwoWhenAFileCannotBeLoaded) {
    Output missing = verify({(dir_ / "missing.bpf.o").string()});
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("missing.bpf.o"), std::string::npos) << missing.err;

    Output garbage = verify({write("garbage.o", "this is not an object file\n")});
    EXPECT_EQ(garbage.code, 2);
    EXPECT_NE(garbage.err.find("garbage.o"), std::string::npos) << garbage.err;

    // A load failure wins over a rejection, and the other files are still verified.
    Output mixed = verify({corpus("reject_null_check.bpf.o"), (dir_ / "missing.o").string()});
    EXPECT_EQ(mixed.code, 2);
    EXPECT_NE(mixed.out.find("xdp_no_null_check"), std::string::npos) << mixed.out;
}

TEST_F(VerifyCommandTest, BadFormatIsAUsageError) {
    Output result = verify({corpus("xdp_firewall.bpf.o")}, "xml");
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("--format"), std::string::npos) << result.err;
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, TextRejectionNamesTheSourceLineRuleAndInstruction) {
    VerifyOptions options;
    options.files = {corpus("reject_null_check.bpf.o")};
    options.function = "xdp_no_null_check";
    Output text = verify(options);
    ASSERT_EQ(text.code, 1) << text.out << text.err;

    // The faulty statement: the first `*value += 1;` of the file is in xdp_no_null_check.
    const uint32_t line = line_of("reject_null_check.bpf.c", "*value += 1;");
    EXPECT_NE(text.out.find("reject_null_check.bpf.c:" + std::to_string(line) + ":"), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("*value += 1;"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("error[null-dereference]"), std::string::npos) << text.out;

    // The instruction as `bpfvm disasm` prints it, at the index and slot the JSON gives.
    json doc = verify_json(options);
    const json& d = doc["files"][0]["programs"][0]["diagnostics"][0];
    auto object = loader::load_object(corpus("reject_null_check.bpf.o"));
    ASSERT_TRUE(object);
    const loader::Program* program = find_program(*object, "xdp_no_null_check");
    ASSERT_NE(program, nullptr);
    const uint32_t index = d["instruction"];
    ASSERT_LT(index, program->code.size());
    const std::string expected_text =
        isa::disassemble(program->code.instructions[index], with_object_names({}, *object, *program));
    EXPECT_EQ(d["text"], expected_text);
    EXPECT_EQ(d["slot"], program->code.slot[index]);
    EXPECT_NE(text.out.find(expected_text), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("insn " + std::to_string(index)), std::string::npos) << text.out;
    // The register the rule looked at, with its abstract value.
    EXPECT_NE(text.out.find("r0 = map_value_or_null"), std::string::npos) << text.out;
}

TEST_F(VerifyCommandTest, TextShowsThePathAndTheCallStack) {
    // The histogram bucket is only reached past the packet and null checks: the path names them.
    VerifyOptions options;
    options.files = {corpus("reject_out_of_bounds.bpf.o")};
    options.function = "xdp_ttl_histogram_unchecked";
    Output oob = verify(options);
    ASSERT_EQ(oob.code, 1) << oob.out;
    EXPECT_NE(oob.out.find("error[out-of-bounds]"), std::string::npos) << oob.out;
    EXPECT_NE(oob.out.find("not taken"), std::string::npos) << oob.out;
    EXPECT_NE(oob.out.find("if (!h)"), std::string::npos) << oob.out;

    // Nine nested frames: the calls that led to the ninth are listed outermost first.
    options.files = {corpus("reject_call_depth.bpf.o")};
    options.function = "nest_too_deep";
    Output deep = verify(options);
    ASSERT_EQ(deep.code, 1) << deep.out;
    EXPECT_NE(deep.out.find("error[call-depth]"), std::string::npos) << deep.out;
    const size_t stack = deep.out.find("call stack");
    ASSERT_NE(stack, std::string::npos) << deep.out;
    const size_t first = deep.out.find("nest_too_deep, insn", stack);
    const size_t later = deep.out.find("nest6, insn", stack);
    EXPECT_NE(first, std::string::npos) << deep.out;
    EXPECT_NE(later, std::string::npos) << deep.out;
    EXPECT_LT(first, later) << deep.out;
}

TEST_F(VerifyCommandTest, StatsArePrintedPerProgram) {
    VerifyOptions options;
    options.files = {corpus("xdp_firewall.bpf.o")};
    options.stats = true;
    Output result = verify(options);
    ASSERT_EQ(result.code, 0) << result.out;
    EXPECT_NE(result.out.find("instructions processed: "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(" per second)"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("states stored: "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("paths pruned: "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("peak state memory: "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("stack depth: "), std::string::npos) << result.out;
}

TEST_F(VerifyCommandTest, MapsCarryTheirSpinLockFromBtf) {
    // tc_police is accepted only if the verifier knows where the value's bpf_spin_lock is.
    VerifyOptions options;
    options.files = {corpus("reject_spin_lock.bpf.o")};
    json doc = verify_json(options);
    ASSERT_EQ(doc["files"][0]["programs"].size(), 2u);
    for (const json& program : doc["files"][0]["programs"]) {
        if (program["function"] == "tc_police") {
            EXPECT_EQ(program["verdict"], "accepted") << program.dump(2);
        }
        if (program["function"] == "tc_police_early_return") {
            EXPECT_EQ(program["verdict"], "rejected");
            EXPECT_EQ(program["diagnostics"][0]["rule"], "spin-lock") << program.dump(2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw program files
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, RawProgramsAreVerifiedAsBytesPrograms) {
    Output ok = verify({write("ok.asm", "mov %r0, 1\nexit\n")});
    EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("ok.asm (bytes, 2 instructions): accepted"), std::string::npos) << ok.out;

    VerifyOptions options;
    options.files = {write("uninit.asm", "mov %r0, %r3\nexit\n")};
    options.format = "json";
    Output bad = verify(options);
    EXPECT_EQ(bad.code, 1) << bad.out << bad.err;
    json doc = json::parse(bad.out);
    const json& program = doc["files"][0]["programs"][0];
    EXPECT_TRUE(program["section"].is_null());
    EXPECT_EQ(program["type"], "bytes");
    EXPECT_EQ(program["verdict"], "rejected");
    EXPECT_EQ(program["diagnostics"][0]["rule"], "uninitialized-register");
    EXPECT_EQ(program["diagnostics"][0]["instruction"], 0);
    EXPECT_TRUE(program["diagnostics"][0]["source"].is_null());

    options.format = "text";
    options.object.type = "nonsense";
    EXPECT_EQ(verify(options).code, 2);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, JsonHasEveryProgramVerdictAndDiagnostic) {
    VerifyOptions options;
    options.files = {corpus("reject_packet_oob.bpf.o"), (dir_ / "missing.bpf.o").string()};
    options.format = "json";
    Output result = verify(options);
    ASSERT_EQ(result.code, 2);
    json doc = json::parse(result.out);  // exactly one document
    ASSERT_EQ(doc["files"].size(), 2u);

    const json& file = doc["files"][0];
    EXPECT_EQ(file["path"], corpus("reject_packet_oob.bpf.o"));
    EXPECT_TRUE(file["error"].is_null());
    auto object = loader::load_object(corpus("reject_packet_oob.bpf.o"));
    ASSERT_TRUE(object);
    ASSERT_EQ(file["programs"].size(), object->programs.size());
    const json* rejected = nullptr;
    const json* accepted = nullptr;
    for (size_t i = 0; i < object->programs.size(); ++i) {
        const json& program = file["programs"][i];
        EXPECT_EQ(program["section"], object->programs[i].section);
        EXPECT_EQ(program["function"], object->programs[i].function);
        EXPECT_EQ(program["type"], "xdp");
        EXPECT_EQ(program["instructions"], object->programs[i].code.slot_count());
        EXPECT_GT(program["stats"]["processed_instructions"].get<uint64_t>(), 0u);
        for (const char* key : {"states_stored", "paths_pruned", "peak_state_bytes", "stack_depth",
                                "instructions_per_second", "seconds"})
            EXPECT_TRUE(program["stats"].contains(key)) << key;
        if (program["function"] == "xdp_no_bounds_check") rejected = &program;
        if (program["function"] == "xdp_bounds_checked") accepted = &program;
    }
    ASSERT_NE(rejected, nullptr);
    ASSERT_NE(accepted, nullptr);

    EXPECT_EQ((*rejected)["verdict"], "rejected");
    ASSERT_EQ((*rejected)["diagnostics"].size(), 1u);
    const json& d = (*rejected)["diagnostics"][0];
    EXPECT_EQ(d["rule"], "out-of-bounds");
    EXPECT_FALSE(d["message"].get<std::string>().empty());
    EXPECT_TRUE(d["source"]["file"].get<std::string>().ends_with("/reject_packet_oob.bpf.c")) << d.dump(2);
    EXPECT_EQ(d["source"]["line"],
              line_of("reject_packet_oob.bpf.c", "if (eth->h_proto == bpf_htons(ETH_P_IPV6))"));
    EXPECT_GT(d["source"]["column"].get<uint32_t>(), 0u);
    EXPECT_EQ(trimmed(d["source"]["text"]), "if (eth->h_proto == bpf_htons(ETH_P_IPV6))");
    ASSERT_FALSE(d["registers"].empty());
    EXPECT_EQ(d["registers"][0]["reg"], "r1");
    EXPECT_EQ(d["registers"][0]["value"].get<std::string>().rfind("pkt", 0), 0u) << d.dump(2);
    EXPECT_TRUE(d["path"].is_array());
    EXPECT_TRUE(d["call_stack"].is_array());
    EXPECT_TRUE(d["call_stack"].empty());

    EXPECT_EQ((*accepted)["verdict"], "accepted");
    EXPECT_TRUE((*accepted)["diagnostics"].empty());

    const json& missing = doc["files"][1];
    EXPECT_EQ(missing["path"], (dir_ / "missing.bpf.o").string());
    ASSERT_TRUE(missing["error"].is_string());
    EXPECT_TRUE(missing["programs"].empty());
}

TEST_F(VerifyCommandTest, JsonPathStepsAreTheConditionalJumpsOnTheWay) {
    VerifyOptions options;
    options.files = {corpus("reject_out_of_bounds.bpf.o")};
    options.function = "xdp_ttl_histogram_unchecked";
    json doc = verify_json(options);
    const json& d = doc["files"][0]["programs"][0]["diagnostics"][0];
    EXPECT_EQ(d["rule"], "out-of-bounds");
    auto object = loader::load_object(corpus("reject_out_of_bounds.bpf.o"));
    ASSERT_TRUE(object);
    const loader::Program* program = find_program(*object, "xdp_ttl_histogram_unchecked");
    ASSERT_NE(program, nullptr);
    ASSERT_FALSE(d["path"].empty());
    uint32_t previous = 0;
    for (const json& step : d["path"]) {
        const uint32_t index = step["instruction"];
        ASSERT_LT(index, program->code.size());
        EXPECT_TRUE(step["taken"].is_boolean());
        EXPECT_EQ(step["slot"], program->code.slot[index]);
        EXPECT_TRUE(std::holds_alternative<isa::Jump>(program->code.instructions[index])) << step.dump();
        EXPECT_LT(index, d["instruction"].get<uint32_t>());  // no loop: every jump comes before
        EXPECT_GE(index, previous);
        previous = index;
    }
    // The last decision is the null check of the map value.
    EXPECT_EQ(trimmed(d["path"].back()["source"]["text"]), "if (!h)");
}

TEST_F(VerifyCommandTest, JsonCallStackListsTheCalls) {
    VerifyOptions options;
    options.files = {corpus("reject_call_depth.bpf.o")};
    options.function = "nest_too_deep";
    json doc = verify_json(options);
    const json& d = doc["files"][0]["programs"][0]["diagnostics"][0];
    EXPECT_EQ(d["rule"], "call-depth");
    ASSERT_GE(d["call_stack"].size(), 7u);
    EXPECT_EQ(d["call_stack"][0]["function"], "nest_too_deep");
    for (const json& call : d["call_stack"])
        EXPECT_EQ(call["text"].get<std::string>().rfind("call ", 0), 0u) << call.dump();
}

// ---------------------------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, SarifHasEveryRuleAndLocatesTheRejectionInTheSource) {
    Output result = verify({corpus("reject_null_check.bpf.o")}, "sarif");
    ASSERT_EQ(result.code, 1) << result.err;
    json log = json::parse(result.out);
    EXPECT_EQ(log["version"], "2.1.0");
    EXPECT_EQ(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    ASSERT_EQ(log["runs"].size(), 1u);
    const json& run = log["runs"][0];
    const json& driver = run["tool"]["driver"];
    EXPECT_EQ(driver["name"], "bpfvm");
    EXPECT_TRUE(driver["version"].is_string());

    std::set<std::string> ids;
    for (const json& rule : driver["rules"]) {
        ids.insert(rule["id"].get<std::string>());
        EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
        EXPECT_FALSE(rule["fullDescription"]["text"].get<std::string>().empty());
        EXPECT_TRUE(rule["help"]["text"].is_string());  // GitHub code scanning wants it
        EXPECT_EQ(rule["defaultConfiguration"]["level"], "error");
    }
    for (verifier::Rule rule : verifier::all_rules())
        EXPECT_TRUE(ids.count(std::string(verifier::rule_id(rule)))) << verifier::rule_id(rule);
    EXPECT_EQ(ids.size(), verifier::all_rules().size());

    ASSERT_EQ(run["results"].size(), 1u);
    const json& r = run["results"][0];
    EXPECT_EQ(r["ruleId"], "null-dereference");
    EXPECT_EQ(r["level"], "error");
    EXPECT_EQ(driver["rules"][r["ruleIndex"].get<size_t>()]["id"], "null-dereference");
    EXPECT_NE(r["message"]["text"].get<std::string>().find("xdp/xdp_no_null_check"), std::string::npos);
    const json& physical = r["locations"][0]["physicalLocation"];
    EXPECT_TRUE(physical["artifactLocation"]["uri"].get<std::string>().ends_with("/reject_null_check.bpf.c"))
        << physical.dump(2);
    EXPECT_EQ(physical["region"]["startLine"], line_of("reject_null_check.bpf.c", "*value += 1;"));
    EXPECT_GE(physical["region"]["startColumn"].get<uint32_t>(), 1u);
    const json& logical = r["locations"][0]["logicalLocations"][0];
    EXPECT_EQ(logical["name"], "xdp_no_null_check");
    EXPECT_NE(logical["fullyQualifiedName"].get<std::string>().find("xdp/xdp_no_null_check"),
              std::string::npos);
    EXPECT_NE(logical["fullyQualifiedName"].get<std::string>().find("instruction"), std::string::npos);

    ASSERT_EQ(run["invocations"].size(), 1u);
    EXPECT_EQ(run["invocations"][0]["executionSuccessful"], true);
}

TEST_F(VerifyCommandTest, SarifCodeFlowFollowsTheBranches) {
    VerifyOptions options;
    options.files = {corpus("reject_out_of_bounds.bpf.o")};
    options.format = "sarif";
    Output result = verify(options);
    ASSERT_EQ(result.code, 1);
    json log = json::parse(result.out);
    const json& r = log["runs"][0]["results"][0];
    EXPECT_EQ(r["ruleId"], "out-of-bounds");
    ASSERT_TRUE(r.contains("codeFlows"));
    const json& steps = r["codeFlows"][0]["threadFlows"][0]["locations"];
    ASSERT_GE(steps.size(), 2u);
    for (const json& step : steps) {
        const json& physical = step["location"]["physicalLocation"];
        EXPECT_TRUE(
            physical["artifactLocation"]["uri"].get<std::string>().ends_with("reject_out_of_bounds.bpf.c"));
        EXPECT_GE(physical["region"]["startLine"].get<uint32_t>(), 1u);
    }
    // The flow ends where the result is.
    EXPECT_EQ(steps.back()["location"]["physicalLocation"]["region"]["startLine"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"]);
}

TEST_F(VerifyCommandTest, SarifReportsFilesThatDoNotLoadAsNotifications) {
    Output result = verify({corpus("xdp_firewall.bpf.o"), write("garbage.o", "garbage")}, "sarif");
    EXPECT_EQ(result.code, 2);
    json log = json::parse(result.out);
    const json& invocation = log["runs"][0]["invocations"][0];
    EXPECT_EQ(invocation["executionSuccessful"], false);
    ASSERT_EQ(invocation["toolExecutionNotifications"].size(), 1u);
    const json& n = invocation["toolExecutionNotifications"][0];
    EXPECT_EQ(n["level"], "error");
    EXPECT_NE(n["message"]["text"].get<std::string>().find("garbage.o"), std::string::npos);
    EXPECT_TRUE(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].get<std::string>().ends_with(
        "garbage.o"));
    EXPECT_TRUE(log["runs"][0]["results"].empty());
}

// ---------------------------------------------------------------------------------------------
// Selection, --dot, -v
// ---------------------------------------------------------------------------------------------

TEST_F(VerifyCommandTest, SectionAndFunctionSelectPrograms) {
    VerifyOptions options;
    options.files = {corpus("reject_packet_oob.bpf.o")};
    options.function = "xdp_bounds_checked";
    json doc = verify_json(options);
    ASSERT_EQ(doc["files"][0]["programs"].size(), 1u);
    EXPECT_EQ(doc["files"][0]["programs"][0]["function"], "xdp_bounds_checked");
    options.format = "text";
    EXPECT_EQ(verify(options).code, 0);  // the rejected twin is not verified

    options.function.clear();
    options.section = "xdp";
    EXPECT_EQ(verify_json(options)["files"][0]["programs"].size(), 2u);

    options.section = "tc";
    Output none = verify(options);
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("no program matches"), std::string::npos) << none.err;
}

TEST_F(VerifyCommandTest, DotWritesOneGraphPerProgram) {
    VerifyOptions options;
    options.files = {corpus("reject_packet_oob.bpf.o")};
    options.dot_dir = (dir_ / "graphs").string();
    Output result = verify(options);
    ASSERT_EQ(result.code, 1) << result.err;
    for (const char* name : {"xdp_xdp_no_bounds_check.dot", "xdp_xdp_bounds_checked.dot"}) {
        std::ifstream in(dir_ / "graphs" / name);
        ASSERT_TRUE(in) << name;
        std::string first;
        in >> first;
        EXPECT_EQ(first, "digraph") << name;
    }
}

TEST_F(VerifyCommandTest, VerbosePrintsTheStateBeforeEachInstruction) {
    VerifyOptions options;
    options.files = {corpus("reject_null_check.bpf.o")};
    options.function = "xdp_no_null_check";
    options.verbose = true;
    Output result = verify(options);
    ASSERT_EQ(result.code, 1);

    // The same trace straight from the verifier: the lines are "SLOT: state" and "SLOT: insn".
    auto object = loader::load_object(corpus("reject_null_check.bpf.o"));
    ASSERT_TRUE(object);
    const loader::Program* program = find_program(*object, "xdp_no_null_check");
    ASSERT_NE(program, nullptr);
    std::vector<std::pair<uint32_t, std::string>> trace;
    verifier::VerifyOptions verify_options;
    verify_options.trace = [&](uint32_t insn, const std::string& state) { trace.emplace_back(insn, state); };
    verifier::verify(program->code, program->type, {}, verify_options);
    ASSERT_FALSE(trace.empty());
    const auto& [insn, state] = trace.front();
    EXPECT_NE(result.out.find(std::to_string(program->code.slot[insn]) + ": " + state + "\n"),
              std::string::npos)
        << result.out;
    const std::string text =
        isa::disassemble(program->code.instructions[insn], with_object_names({}, *object, *program));
    EXPECT_NE(result.out.find(std::to_string(program->code.slot[insn]) + ": " + text + "\n"),
              std::string::npos)
        << result.out;

    // In JSON the trace goes to the error stream, so the output stays one document.
    options.format = "json";
    Output machine = verify(options);
    EXPECT_TRUE(json::accept(machine.out)) << machine.out;
    EXPECT_NE(machine.err.find(std::to_string(program->code.slot[insn]) + ": " + text), std::string::npos);
}

}  // namespace
}  // namespace bpfvm::tools
