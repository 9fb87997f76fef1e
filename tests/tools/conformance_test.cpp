// The conformance case format, the runner over the public suite and the plugin protocol.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/tools/commands.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

const fs::path kConformance = fs::path(BPFVM_SHARED_DIR) / "conformance";

size_t count_data_files(const fs::path& dir) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".data";
    return n;
}

std::string last_line(const std::string& text) {
    auto end = text.find_last_not_of('\n');
    auto start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1) + 1);
}

TEST(ConformanceCaseTest, ParsesEverySection) {
    auto c = parse_conformance_case(
        "# comment\n-- asm\nmov %r0, 1\n# inner comment\nexit\n-- mem\naa bb\ncc\n-- result\n0x10\n-- c\nint "
        "x;\n",
        "case.data");
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    EXPECT_EQ(c->assembly_first_line, 3u);
    EXPECT_EQ(c->memory, (std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
    EXPECT_EQ(c->result, 0x10u);
    EXPECT_FALSE(c->error);
}

TEST(ConformanceCaseTest, RawSectionInBothLayoutsMatchesAssembly) {
    auto words =
        parse_conformance_case("-- asm\nexit\n-- raw\n0x0000000000000095\n-- result\n0x0\n", "w.data");
    ASSERT_TRUE(words.ok());
    EXPECT_TRUE(program_bytes(*words).ok());
    auto bytes = parse_conformance_case("-- raw\n95 00 00 00 00 00 00 00\n-- result\n0x0\n", "b.data");
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes->raw->size(), 8u);
    auto mismatch = parse_conformance_case("-- asm\nexit\n-- raw\n0x0000000000000096\n", "m.data");
    ASSERT_TRUE(mismatch.ok());
    EXPECT_FALSE(program_bytes(*mismatch).ok());
}

TEST(ConformanceCaseTest, MalformedCasesAreErrorsWithLines) {
    auto unknown = parse_conformance_case("-- asm\nexit\n-- bogus\n", "u.data");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().where.line, 3u);
    EXPECT_FALSE(parse_conformance_case("-- mem\nzz\n", "m.data").ok());
    EXPECT_FALSE(parse_conformance_case("-- result\nbanana\n", "r.data").ok());
}

TEST(ConformanceCaseTest, AssemblyErrorsPointAtTheFileLine) {
    auto c = parse_conformance_case("# header\n-- asm\nmov %r0, 1\nbogus %r0\nexit\n", "e.data");
    ASSERT_TRUE(c.ok());
    auto bytes = program_bytes(*c);
    ASSERT_FALSE(bytes.ok());
    EXPECT_EQ(bytes.error().kind, ErrorKind::Syntax);
    EXPECT_EQ(bytes.error().where.line, 4u);
    EXPECT_EQ(bytes.error().where.file, "e.data");
}

TEST(ConformanceSuiteTest, EveryPublicCasePassesOnEveryEngine) {
    for (std::string engine : {"interpreter", "jit"}) {
        ConformanceOptions options;
        options.paths = {(kConformance / "tests").string()};
        options.engine = engine;
        std::ostringstream out, err;
        int rc = conformance_command(options, out, err);
        EXPECT_EQ(rc, 0) << engine << ": " << out.str() << err.str();
        EXPECT_EQ(last_line(out.str()),
                  std::to_string(count_data_files(kConformance / "tests")) + " passed, 0 failed")
            << engine << ": " << out.str();
    }
}

TEST(ConformanceSuiteTest, EveryNegativeCaseIsRejected) {
    ConformanceOptions options;
    options.paths = {(kConformance / "negative").string()};
    options.expect_reject = true;
    std::ostringstream out, err;
    EXPECT_EQ(conformance_command(options, out, err), 0) << out.str();
    EXPECT_EQ(last_line(out.str()),
              std::to_string(count_data_files(kConformance / "negative")) + " passed, 0 failed")
        << out.str();
}

TEST(ConformancePluginTest, PrintsR0InHex) {
    // ldxh r0, [r1+1]; exit: reads bytes 0x22 0x33 of the memory.
    PluginOptions options;
    options.memory_hex = "11  22  33  44  ";  // the reference runner doubles the spaces
    std::istringstream in("69 10 01 00 00 00 00 00  95 00 00 00 00 00 00 00\n");
    std::ostringstream out;
    EXPECT_EQ(conformance_plugin_command(options, in, out), 0);
    EXPECT_EQ(out.str(), "3322\n");
}

TEST(ConformancePluginTest, FailureExitsNonZeroWithTheErrorOnStdout) {
    PluginOptions options;
    std::istringstream in("ff 00 00 00 00 00 00 00\n");
    std::ostringstream out;
    EXPECT_NE(conformance_plugin_command(options, in, out), 0);
    EXPECT_NE(out.str().find("unknown opcode 0xff"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace bpfvm::tools

namespace bpfvm::tools {
namespace {

// Each negative case fails for the reason its name gives (see the conformance README), so a
// decoder that let a reserved field through would fail here even though the case still "ends
// not passing" in the runner.
TEST(ConformanceSuiteTest, NegativeCasesFailForTheirOwnReason) {
    vm::Interpreter engine;
    size_t checked = 0;
    for (const auto& entry : fs::directory_iterator(kConformance / "negative")) {
        if (entry.path().extension() != ".data") continue;
        std::string name = entry.path().filename().string();
        SCOPED_TRACE(name);
        ++checked;
        auto c = read_conformance_case(entry.path());
        if (name == "invalid_unknown_directive.data") {
            EXPECT_FALSE(c.ok());
            continue;
        }
        ASSERT_TRUE(c.ok()) << c.error().to_string();
        auto bytes = program_bytes(*c);
        if (name.starts_with("invalid_")) {
            ASSERT_FALSE(bytes.ok());
            EXPECT_EQ(bytes.error().kind, ErrorKind::Syntax);
            continue;
        }
        ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
        auto program = isa::decode_program(*bytes);
        if (name.starts_with("unused-")) {
            // A field that must be zero, or (mov with an offset) one whose value selects no form.
            ASSERT_FALSE(program.ok());
            auto kind = program.error().kind;
            EXPECT_TRUE(kind == ErrorKind::ReservedFieldSet || kind == ErrorKind::InvalidField)
                << program.error().to_string();
            EXPECT_EQ(program.error().where.instruction, 0u);
        } else if (name.starts_with("empty")) {
            ASSERT_FALSE(program.ok());
            EXPECT_EQ(program.error().kind, ErrorKind::EmptyProgram);
        } else {
            // error.data and incorrect_return_value_high_bits.data test the runner: they run,
            // and what they return is not what the case claims.
            ASSERT_TRUE(program.ok()) << program.error().to_string();
            auto outcome = run_conformance_case(*c, engine);
            EXPECT_FALSE(outcome.passed);
            EXPECT_FALSE(outcome.returned_expected);
            EXPECT_EQ(outcome.reason.rfind("returned", 0), 0u) << outcome.reason;
        }
    }
    EXPECT_EQ(checked, count_data_files(kConformance / "negative"));
}

}  // namespace
}  // namespace bpfvm::tools
