// `bpfvm info` and `bpfvm disasm` on real clang-built objects: what they print must be what
// the loader found (programs, maps, names, source lines), in the documented JSON shape.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/commands.hpp"
#include "tools/tools_test_support.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

using test::corpus;
using test::Output;

Output info(const std::string& file, bool json, const std::string& type = "") {
    InfoOptions options;
    options.file = file;
    options.json = json;
    options.object.type = type;
    std::ostringstream out, err;
    int code = info_command(options, out, err);
    return {code, out.str(), err.str()};
}

Output disasm(DisasmOptions options) {
    std::ostringstream out, err;
    int code = disasm_command(options, out, err);
    return {code, out.str(), err.str()};
}

std::vector<fs::path> corpus_objects() {
    std::vector<fs::path> objects;
    for (const auto& entry : fs::directory_iterator(BPFVM_CORPUS_DIR)) {
        if (entry.path().string().ends_with(".bpf.o")) objects.push_back(entry.path());
    }
    return objects;
}

TEST(InfoCommand, JsonListsExactlyWhatTheLoaderFinds) {
    auto objects = corpus_objects();
    ASSERT_FALSE(objects.empty());
    for (const auto& path : objects) {
        SCOPED_TRACE(path.filename().string());
        Output result = info(path.string(), true);
        ASSERT_EQ(result.code, 0) << result.err;
        auto json = nlohmann::json::parse(result.out);
        auto object = loader::load_object(path);
        ASSERT_TRUE(object);
        ASSERT_EQ(json["programs"].size(), object->programs.size());
        for (size_t i = 0; i < object->programs.size(); ++i) {
            const auto& p = json["programs"][i];
            const loader::Program& expected = object->programs[i];
            EXPECT_EQ(p["section"], expected.section);
            EXPECT_EQ(p["function"], expected.function);
            EXPECT_EQ(p["type"], std::string(isa::program_type_name(expected.type)));
            EXPECT_EQ(p["instructions"], expected.code.slot_count());
            EXPECT_TRUE(p["source"].get<std::string>().ends_with(
                path.filename().string().substr(0, path.filename().string().size() - 2) + ".c"));
        }
        ASSERT_EQ(json["maps"].size(), object->maps.size());
        for (size_t i = 0; i < object->maps.size(); ++i) {
            const auto& m = json["maps"][i];
            const loader::MapDefinition& expected = object->maps[i];
            EXPECT_EQ(m["name"], expected.name);
            EXPECT_EQ(m["type"], std::string(isa::map_type_name(expected.type)));
            EXPECT_EQ(m["key_size"], expected.key_size);
            EXPECT_EQ(m["value_size"], expected.value_size);
            EXPECT_EQ(m["max_entries"], expected.max_entries);
            EXPECT_EQ(m["flags"], expected.flags);
            EXPECT_EQ(m["origin"], std::string(loader::map_origin_name(expected.origin)));
        }
        EXPECT_EQ(json["license"], object->license);
        EXPECT_EQ(json["btf"], true);
    }
}

TEST(InfoCommand, KnownObjectInBothForms) {
    Output json = info(corpus("global_data.bpf.o"), true);
    ASSERT_EQ(json.code, 0) << json.err;
    auto document = nlohmann::json::parse(json.out);
    EXPECT_EQ(document["license"], "GPL");
    EXPECT_EQ(document["programs"][0]["function"], "xdp_globals");
    EXPECT_EQ(document["programs"][0]["type"], "xdp");
    std::vector<std::string> names;
    for (const auto& m : document["maps"]) {
        names.push_back(m["name"]);
        EXPECT_EQ(m["origin"], "global_data");
        EXPECT_EQ(m["type"], "array");
    }
    EXPECT_EQ(names, (std::vector<std::string>{".rodata", ".data", ".bss"}));

    Output text = info(corpus("global_data.bpf.o"), false);
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("xdp_globals  section xdp  type xdp"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(".rodata  array  key 4  value 35  max_entries 1  flags 0x480  global_data"),
              std::string::npos)
        << text.out;
}

TEST(InfoCommand, TypeOverrideAndErrors) {
    Output typed = info(corpus("loader/text_only.bpf.o"), true, "socket_filter");
    ASSERT_EQ(typed.code, 0) << typed.err;
    auto document = nlohmann::json::parse(typed.out);
    for (const auto& p : document["programs"]) EXPECT_EQ(p["type"], "socket_filter");

    Output bad_type = info(corpus("loader/text_only.bpf.o"), true, "not_a_type");
    EXPECT_EQ(bad_type.code, 2);
    EXPECT_NE(bad_type.err.find("not_a_type"), std::string::npos);

    Output unknown_section = info(corpus("loader/unknown_section.bpf.o"), false);
    EXPECT_EQ(unknown_section.code, 2);
    EXPECT_NE(unknown_section.err.find("error[unsupported]"), std::string::npos) << unknown_section.err;
    EXPECT_NE(unknown_section.err.find("'mystery'"), std::string::npos) << unknown_section.err;

    Output missing = info("/nonexistent/prog.o", false);
    EXPECT_EQ(missing.code, 2);
}

TEST(DisasmCommand, ObjectListingHasMapNamesSubprogramsAndSourceLines) {
    DisasmOptions options;
    options.file = corpus("loops.bpf.o");
    options.source = true;
    options.function = "loop_callback";
    Output result = disasm(options);
    ASSERT_EQ(result.code, 0) << result.err;
    EXPECT_NE(result.out.find("r1 = map[data_buf] ll"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("r1 = map[.bss] + 0 ll"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("= <add_byte> ll"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("<add_byte>:"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("; int loop_callback("), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("loops.bpf.c:"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("sum_to_limit"), std::string::npos) << "--function selects one program";

    options.source = false;
    Output plain = disasm(options);
    ASSERT_EQ(plain.code, 0);
    EXPECT_EQ(plain.out.find("; int loop_callback("), std::string::npos);

    DisasmOptions calls;
    calls.file = corpus("loader/same_section_subprog.bpf.o");
    calls.section = "xdp";
    Output linked = disasm(calls);
    ASSERT_EQ(linked.code, 0) << linked.err;
    EXPECT_NE(linked.out.find("first_queue (section xdp"), std::string::npos) << linked.out;
    EXPECT_NE(linked.out.find("second_queue (section xdp"), std::string::npos) << linked.out;
    EXPECT_NE(linked.out.find("call +"), std::string::npos) << linked.out;
    EXPECT_NE(linked.out.find(" <triple>"), std::string::npos) << linked.out;
}

TEST(DisasmCommand, ObjectSelectionAndSyntaxErrors) {
    DisasmOptions options;
    options.file = corpus("loops.bpf.o");
    options.section = "no_such_section";
    Output none = disasm(options);
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("no_such_section"), std::string::npos) << none.err;

    DisasmOptions conformance;
    conformance.file = corpus("loops.bpf.o");
    conformance.syntax = "conformance";
    Output unsupported = disasm(conformance);
    EXPECT_EQ(unsupported.code, 2);
    EXPECT_NE(unsupported.err.find("error[unsupported]"), std::string::npos) << unsupported.err;
}

}  // namespace
}  // namespace bpfvm::tools
