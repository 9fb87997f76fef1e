// The public bpf_conformance suite as assembler input: every test program assembles, decodes,
// re-encodes to the same bytes and reprints (in the conformance syntax) to text that assembles to
// the same bytes again. The suite's negative cases are rejected by the assembler or the decoder.
#include <gtest/gtest.h>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

std::string test_name(const std::filesystem::path& path) {
    std::string name = path.stem().string();
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

std::string reprint(const Program& program, bool hex) {
    std::string text;
    for (const auto& insn : program.instructions)
        text += disassemble(insn, {Syntax::Conformance, hex}) + "\n";
    return text;
}

class ConformanceProgram : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(ConformanceProgram, AssemblesDecodesAndRoundTrips) {
    const std::string source = test::asm_section(test::read_text_file(GetParam()));
    auto slots = assemble(source);
    ASSERT_TRUE(slots.ok()) << slots.error().to_string();

    auto program = decode_program(std::span<const RawInstruction>(*slots));
    ASSERT_TRUE(program.ok()) << program.error().to_string();
    EXPECT_EQ(encode(*program), *slots);
    EXPECT_EQ(program->slot_count(), slots->size());

    for (bool hex : {false, true}) {
        const std::string text = reprint(*program, hex);
        auto again = assemble(text);
        ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << text;
        EXPECT_EQ(*again, *slots) << text;
    }
    const std::string lines = listing(*program);
    EXPECT_EQ(static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n')), program->size());
}

INSTANTIATE_TEST_SUITE_P(Suite, ConformanceProgram, testing::ValuesIn(test::conformance_files("tests")),
                         [](const auto& info) { return test_name(info.param); });

TEST(ConformanceSuite, IsPresent) {
    // 313 programs at the time of writing; guards against a wrong BPFVM_SHARED_DIR.
    EXPECT_GE(test::conformance_files("tests").size(), 300u);
    EXPECT_FALSE(test::conformance_files("negative", "invalid_").empty());
}

class AssemblerNegative : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(AssemblerNegative, IsASyntaxError) {
    auto slots = assemble(test::asm_section(test::read_text_file(GetParam())));
    ASSERT_FALSE(slots.ok()) << "assembled to " << slots->size() << " slots";
    EXPECT_EQ(slots.error().kind, ErrorKind::Syntax);
    EXPECT_TRUE(slots.error().where.line.has_value());
    EXPECT_TRUE(slots.error().where.column.has_value());
}

INSTANTIATE_TEST_SUITE_P(Suite, AssemblerNegative,
                         testing::ValuesIn(test::conformance_files("negative", "invalid_")),
                         [](const auto& info) { return test_name(info.param); });

// error.data reads r10 as a source: legal text, so the assembler accepts it.
TEST(ConformanceSuite, ErrorDataAssembles) {
    const auto path = std::filesystem::path(BPFVM_SHARED_DIR) / "conformance/negative/error.data";
    auto slots = assemble(test::asm_section(test::read_text_file(path)));
    ASSERT_TRUE(slots.ok()) << slots.error().to_string();
    EXPECT_EQ(slots->size(), 2u);
}

class DecoderNegative : public testing::TestWithParam<std::filesystem::path> {};

// The `unused-*` cases set a field the form does not use. A field that selects the form (mov's
// offset picks mov or movsx) reports InvalidField, any other ReservedFieldSet.
TEST_P(DecoderNegative, IsRejectedAtLoad) {
    const std::vector<uint8_t> bytes = test::raw_section_bytes(test::read_text_file(GetParam()));
    ASSERT_FALSE(bytes.empty());
    auto program = decode_program(std::span<const uint8_t>(bytes));
    ASSERT_FALSE(program.ok());
    const ErrorKind kind = program.error().kind;
    EXPECT_TRUE(kind == ErrorKind::ReservedFieldSet || kind == ErrorKind::InvalidField)
        << error_kind_name(kind) << ": " << program.error().to_string();
    EXPECT_EQ(program.error().where.instruction, 0u);
}

INSTANTIATE_TEST_SUITE_P(Suite, DecoderNegative,
                         testing::ValuesIn(test::conformance_files("negative", "unused-")),
                         [](const auto& info) { return test_name(info.param); });

}  // namespace
}  // namespace bpfvm::isa
