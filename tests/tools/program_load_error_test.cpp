// The commands on an object one of whose programs cannot be loaded (an unknown opcode patched
// into corpus/loader/program_faults.bpf.o): `verify` lists it with its own error and still
// verifies the others, `run` refuses it saying where and why and runs the others, `info` and
// `disasm` show it beside the others.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bpfvm/tools/commands.hpp"
#include "loader/code_patch_support.hpp"
#include "loader/elf_test_support.hpp"
#include "tools/tools_test_support.hpp"

namespace bpfvm::tools {
namespace {

using json = nlohmann::json;
using test::Output;

// Three XDP programs (counted_pass, drop_runts, uses_twice); drop_runts is the broken one.
class ProgramLoadErrorCommandTest : public test::ScratchDirTest {
 protected:
    void SetUp() override {
        test::ScratchDirTest::SetUp();
        auto bytes = loader::test::read_bytes(loader::test::program_faults_object());
        ASSERT_FALSE(bytes.empty());
        const loader::test::FunctionCode drop = loader::test::function_code(bytes, "drop_runts");
        bad_slot_ = drop.slot(2);
        loader::test::set_opcode(bytes, drop.at(2), loader::test::kUnknownOpcode);
        object_ = write("partly_broken.bpf.o", std::string(bytes.begin(), bytes.end()));
    }

    Output verify(const std::string& format, const std::string& function = "") const {
        VerifyOptions options;
        options.files = {object_};
        options.format = format;
        options.function = function;
        std::ostringstream out, err;
        const int code = verify_command(options, out, err);
        return {code, out.str(), err.str()};
    }
    Output run(const std::string& function, bool as_json = false) const {
        RunOptions options;
        options.file = object_;
        options.function = function;
        options.packet_hex = "000102030405060708090a0b0c0d0e0f";
        options.dump_maps = true;
        options.json = as_json;
        std::ostringstream out, err;
        const int code = run_command(options, out, err);
        return {code, out.str(), err.str()};
    }

    std::string object_;
    uint32_t bad_slot_ = 0;
};

TEST_F(ProgramLoadErrorCommandTest, VerifyJsonListsTheProgramWithItsOwnErrorAndVerifiesTheOthers) {
    Output result = verify("json");
    // Not accepted, like a program the verifier cannot analyse; the file itself loaded.
    EXPECT_EQ(result.code, 1) << result.out << result.err;
    json doc = json::parse(result.out);
    ASSERT_EQ(doc["files"].size(), 1u);
    const json& file = doc["files"][0];
    EXPECT_TRUE(file["error"].is_null()) << file["error"];
    ASSERT_EQ(file["programs"].size(), 3u);
    for (const json& program : file["programs"]) {
        SCOPED_TRACE(program.dump());
        EXPECT_EQ(program["section"], "xdp");
        EXPECT_EQ(program["type"], "xdp");
        if (program["function"] == "drop_runts") {
            EXPECT_EQ(program["verdict"], "error");
            ASSERT_TRUE(program["error"].is_string());
            const std::string error = program["error"];
            // Where (file, section, slot) and why (the opcode, in which function).
            EXPECT_NE(error.find(object_), std::string::npos);
            EXPECT_NE(error.find("section xdp: instruction " + std::to_string(bad_slot_) + ":"),
                      std::string::npos);
            EXPECT_NE(error.find("'drop_runts'"), std::string::npos);
            EXPECT_NE(error.find("unknown opcode 0xff"), std::string::npos);
            EXPECT_EQ(program["instructions"], 0);
            EXPECT_TRUE(program["diagnostics"].empty());
        } else {
            EXPECT_EQ(program["verdict"], "accepted");
            EXPECT_TRUE(program["error"].is_null());
            EXPECT_GT(program["instructions"], 0);
        }
    }
}

TEST_F(ProgramLoadErrorCommandTest, VerifyTextNamesTheFaultAndCountsTheProgramAsNotLoaded) {
    Output result = verify("text");
    EXPECT_EQ(result.code, 1) << result.out << result.err;
    EXPECT_NE(result.out.find(object_ + ": xdp/drop_runts (xdp): not loaded\n"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("  error[unknown-opcode]: in function 'drop_runts': unknown opcode 0xff"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("= slot " + std::to_string(bad_slot_) + " of section xdp"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("xdp/counted_pass (xdp, "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("xdp/uses_twice (xdp, "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("3 programs: 2 accepted, 0 rejected, 1 not loaded\n"), std::string::npos)
        << result.out;

    // Picked alone it still fails; the others picked alone pass.
    EXPECT_EQ(verify("text", "drop_runts").code, 1);
    Output good = verify("text", "counted_pass");
    EXPECT_EQ(good.code, 0) << good.out << good.err;
    EXPECT_NE(good.out.find("): accepted"), std::string::npos) << good.out;
}

TEST_F(ProgramLoadErrorCommandTest, VerifySarifReportsTheLoadErrorAsANotification) {
    Output result = verify("sarif");
    EXPECT_EQ(result.code, 1) << result.err;
    json log = json::parse(result.out);
    const json& invocation = log["runs"][0]["invocations"][0];
    EXPECT_EQ(invocation["executionSuccessful"], false);
    ASSERT_EQ(invocation["toolExecutionNotifications"].size(), 1u) << invocation.dump(2);
    const std::string text = invocation["toolExecutionNotifications"][0]["message"]["text"];
    EXPECT_NE(text.find("xdp/drop_runts cannot be loaded"), std::string::npos) << text;
    EXPECT_NE(text.find("unknown opcode 0xff"), std::string::npos) << text;
    EXPECT_TRUE(log["runs"][0]["results"].empty());
}

TEST_F(ProgramLoadErrorCommandTest, RunRefusesTheProgramSayingWhereAndWhyAndRunsTheOthers) {
    Output bad = run("drop_runts");
    EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
    EXPECT_TRUE(bad.out.empty()) << bad.out;
    EXPECT_NE(bad.err.find("error[unknown-opcode]: " + object_ + ": section xdp: instruction " +
                           std::to_string(bad_slot_) + ": in function 'drop_runts': unknown opcode 0xff"),
              std::string::npos)
        << bad.err;
    EXPECT_NE(bad.err.find("drop_runts (section xdp) cannot be loaded"), std::string::npos) << bad.err;

    Output good = run("counted_pass", true);
    ASSERT_EQ(good.code, 0) << good.err;
    json doc = json::parse(good.out);
    EXPECT_EQ(doc["verdict"], "XDP_PASS");
    EXPECT_TRUE(doc["error"].is_null());
    EXPECT_EQ(doc["maps"]["hits"]["entries"][0]["value"], 1);

    Output calls = run("uses_twice");  // rx_queue 0: twice(0) != 2
    EXPECT_EQ(calls.code, 0) << calls.err;
    EXPECT_NE(calls.out.find("XDP_PASS"), std::string::npos) << calls.out;

    // Without a choice, the listing marks it.
    Output ambiguous = run("");
    EXPECT_EQ(ambiguous.code, 2);
    EXPECT_NE(ambiguous.err.find("drop_runts (section xdp, not loaded)"), std::string::npos) << ambiguous.err;
}

TEST_F(ProgramLoadErrorCommandTest, InfoAndDisasmShowItBesideTheOthers) {
    InfoOptions info;
    info.file = object_;
    info.json = true;
    std::ostringstream out, err;
    ASSERT_EQ(info_command(info, out, err), 0) << err.str();
    json doc = json::parse(out.str());
    ASSERT_EQ(doc["programs"].size(), 3u);
    for (const json& program : doc["programs"]) {
        if (program["function"] == "drop_runts") {
            ASSERT_TRUE(program["error"].is_string()) << program.dump();
            EXPECT_NE(program["error"].get<std::string>().find("unknown opcode 0xff"), std::string::npos);
            EXPECT_EQ(program["instructions"], 0);
        } else {
            EXPECT_TRUE(program["error"].is_null()) << program.dump();
        }
    }

    info.json = false;
    std::ostringstream text, text_err;
    ASSERT_EQ(info_command(info, text, text_err), 0) << text_err.str();
    EXPECT_NE(
        text.str().find("drop_runts  section xdp  type xdp  attach xdp  not loaded\n"
                        "      error[unknown-opcode]: section xdp: instruction " +
                        std::to_string(bad_slot_) + ": in function 'drop_runts': unknown opcode 0xff\n"),
        std::string::npos)
        << text.str();

    DisasmOptions disasm;
    disasm.file = object_;
    std::ostringstream listing, listing_err;
    EXPECT_EQ(disasm_command(disasm, listing, listing_err), 2);
    EXPECT_NE(listing.str().find("drop_runts (section xdp, xdp): not loaded"), std::string::npos)
        << listing.str();
    EXPECT_NE(listing.str().find("<counted_pass>:"), std::string::npos) << listing.str();
    EXPECT_NE(listing.str().find("<uses_twice>:"), std::string::npos) << listing.str();
    EXPECT_NE(listing_err.str().find("unknown opcode 0xff"), std::string::npos) << listing_err.str();

    disasm.function = "uses_twice";
    std::ostringstream one, one_err;
    EXPECT_EQ(disasm_command(disasm, one, one_err), 0) << one_err.str();
}

}  // namespace
}  // namespace bpfvm::tools
