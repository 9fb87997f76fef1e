// The bpf_conformance assembler syntax: what each form assembles to, labels, numbers, and the
// line and column of every kind of error.
#include <gtest/gtest.h>

#include <climits>
#include <random>

#include "bpfvm/isa/assembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

using test::raw;
using Slots = std::vector<RawInstruction>;

Slots assemble_ok(std::string_view text) {
    auto slots = assemble(text);
    EXPECT_TRUE(slots.ok()) << text << ": " << slots.error().to_string();
    return slots.ok() ? *slots : Slots{};
}

struct FormCase {
    const char* text;
    Slots expected;
};

// Opcode bytes here are written by hand from RFC 9669, independently of the opcode table.
const FormCase kForms[] = {
    {"mov32 %r0, 1", {raw(0xb4, 0, 0, 0, 1)}},
    {"mov %r1, %r2", {raw(0xbf, 1, 2)}},
    {"mov %r0, +5", {raw(0xb7, 0, 0, 0, 5)}},
    {"add %r0, -1", {raw(0x07, 0, 0, 0, -1)}},
    {"add32 %r3, %r4", {raw(0x0c, 3, 4)}},
    {"sdiv32 %r1, 3", {raw(0x34, 1, 0, 1, 3)}},
    {"smod %r1, %r2", {raw(0x9f, 1, 2, 1)}},
    {"arsh32 %r1, %r2", {raw(0xcc, 1, 2)}},
    {"neg %r0", {raw(0x87, 0)}},
    {"neg32 %r5", {raw(0x84, 5)}},
    {"movsx832 %r0, %r1", {raw(0xbc, 0, 1, 8)}},
    {"movsx1664 %r2, %r3", {raw(0xbf, 2, 3, 16)}},
    {"movsx3264 %r2, %r3", {raw(0xbf, 2, 3, 32)}},
    {"le16 %r0", {raw(0xd4, 0, 0, 0, 16)}},
    {"be32 %r1", {raw(0xdc, 1, 0, 0, 32)}},
    {"swap64 %r1", {raw(0xd7, 1, 0, 0, 64)}},
    {"bswap16 %r1", {raw(0xd7, 1, 0, 0, 16)}},
    {"ldxw %r0, [%r1+4]", {raw(0x61, 0, 1, 4)}},
    {"ldxsb %r0, [%r10-1]", {raw(0x91, 0, 10, -1)}},
    {"ldxdw %r0, [%r1]", {raw(0x79, 0, 1, 0)}},
    {"ldxh %r0, [%r1+0x10]", {raw(0x69, 0, 1, 16)}},
    {"ldxb %r0, [%r1+0xffff]", {raw(0x71, 0, 1, -1)}},
    {"ldxb %r0, [%r1-32768]", {raw(0x71, 0, 1, SHRT_MIN)}},
    {"ldxb %r0, [ %r1 + 4 ]", {raw(0x71, 0, 1, 4)}},
    {"stw [%r10-4], 5", {raw(0x62, 10, 0, -4, 5)}},
    {"stxdw [%r10-8], %r1", {raw(0x7b, 10, 1, -8)}},
    {"ldabsw 12", {raw(0x20, 0, 0, 0, 12)}},
    {"ldindh %r1, 4", {raw(0x48, 0, 1, 0, 4)}},
    {"lock add [%r10-8], %r1", {raw(0xdb, 10, 1, -8, 0x00)}},
    {"lock fetch add32 [%r10-4], %r1", {raw(0xc3, 10, 1, -4, 0x01)}},
    {"lock fetch xor [%r1], %r2", {raw(0xdb, 1, 2, 0, 0xa1)}},
    {"lock xchg [%r10-8], %r1", {raw(0xdb, 10, 1, -8, 0xe1)}},
    {"lock cmpxchg32 [%r10-8], %r1", {raw(0xc3, 10, 1, -8, 0xf1)}},
    {"ldxacqw %r0, [%r1+0]", {raw(0xc3, 0, 1, 0, 0x100)}},
    {"ldxacqdw %r3, [%r4+8]", {raw(0xdb, 3, 4, 8, 0x100)}},
    {"stxrelw [%r1+0], %r2", {raw(0xc3, 1, 2, 0, 0x110)}},
    {"stxrelb [%r1-2], %r2", {raw(0xd3, 1, 2, -2, 0x110)}},
    {"call 5", {raw(0x85, 0, 0, 0, 5)}},
    {"call helper 5", {raw(0x85, 0, 0, 0, 5)}},
    {"call runtime 7", {raw(0x85, 0, 2, 0, 7)}},
    {"call runtime 7, 3", {raw(0x85, 0, 2, 3, 7)}},
    {"call local +4", {raw(0x85, 0, 1, 0, 4)}},
    {"call %r2", {raw(0x8d, 2)}},
    {"callx %r2", {raw(0x8d, 2)}},
    {"exit", {raw(0x95)}},
    {"ja +3", {raw(0x05, 0, 0, 3)}},
    {"ja -1", {raw(0x05, 0, 0, -1)}},
    {"ja32 +70000", {raw(0x06, 0, 0, 0, 70000)}},
    {"jeq %r1, 5, +2", {raw(0x15, 1, 0, 2, 5)}},
    {"jeq %r1,%r2,-2", {raw(0x1d, 1, 2, -2)}},
    {"jne32 %r1, 0xffffffff, +1", {raw(0x56, 1, 0, 1, -1)}},
    {"jsle32 %r1, %r2, +0", {raw(0xde, 1, 2, 0)}},
    {"jset %r3, 0x80000000, +1", {raw(0x45, 3, 0, 1, INT_MIN)}},
    {"mov32 %r0, 0xffffffff", {raw(0xb4, 0, 0, 0, -1)}},
    {"mov32 %r0, -0x80000000", {raw(0xb4, 0, 0, 0, INT_MIN)}},
    {"mov32 %r0, -2147483648", {raw(0xb4, 0, 0, 0, INT_MIN)}},
    {"mov32 %r0, 2147483647", {raw(0xb4, 0, 0, 0, INT_MAX)}},
    {"mov32 %r0, 0X1f", {raw(0xb4, 0, 0, 0, 31)}},
    {"lddw %r0, 0x1122334455667788", {raw(0x18, 0, 0, 0, 0x55667788), raw(0, 0, 0, 0, 0x11223344)}},
    {"lddw %r0, 0xFFFFFFFFFFFFFFFF", {raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}},
    {"lddw %r0, -1", {raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}},
    {"lddw %r0, 18446744073709551615", {raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}},
    {"lddw %r0, -9223372036854775808", {raw(0x18, 0, 0, 0, 0), raw(0, 0, 0, 0, INT_MIN)}},
    {"lddw %r0, 2147483648", {raw(0x18, 0, 0, 0, INT_MIN), raw(0)}},
    {"lddw.map_fd %r1, 5", {raw(0x18, 1, 1, 0, 5), raw(0)}},
    {"lddw.map_value %r2, 0x700000005", {raw(0x18, 2, 2, 0, 5), raw(0, 0, 0, 0, 7)}},
    {"lddw.map_idx_value %r1, 3", {raw(0x18, 1, 6, 0, 3), raw(0)}},
};

TEST(Assembler, EachFormAssemblesToItsBytes) {
    for (const auto& form : kForms) EXPECT_EQ(assemble_ok(form.text), form.expected) << form.text;
}

TEST(Assembler, EmptyProgramIsAnEmptyVector) {
    EXPECT_TRUE(assemble_ok("").empty());
    EXPECT_TRUE(assemble_ok("# nothing but a comment\n\n   \n").empty());
}

TEST(Assembler, CommentsBlankLinesAndCrlf) {
    const Slots slots = assemble_ok("# header\n\nmov %r0, 1 # trailing comment\r\n\r\n\t exit  \r\n");
    EXPECT_EQ(slots, (Slots{raw(0xb7, 0, 0, 0, 1), raw(0x95)}));
}

TEST(Assembler, LabelsCountSlotsAndLddwTakesTwo) {
    const Slots slots = assemble_ok(
        "top:\n"
        "  mov %r0, 0\n"
        "  ja skip\n"  // slot 1; skip is slot 4 because lddw takes slots 2 and 3
        "  lddw %r0, 1\n"
        "skip:\n"
        "  jeq %r0, 0, top\n"  // slot 4 back to slot 0
        "  exit\n");
    ASSERT_EQ(slots.size(), 6u);
    EXPECT_EQ(slots[1], raw(0x05, 0, 0, 2));
    EXPECT_EQ(slots[4], raw(0x15, 0, 0, -5, 0));
}

TEST(Assembler, LabelMayShareALineWithAnInstruction) {
    EXPECT_EQ(assemble_ok("start: mov %r0, 1\nja start\n"),
              (Slots{raw(0xb7, 0, 0, 0, 1), raw(0x05, 0, 0, -2)}));
}

TEST(Assembler, LabelAfterTheLastInstructionPointsPastTheEnd) {
    EXPECT_EQ(assemble_ok("ja end\nexit\nend:\n"), (Slots{raw(0x05, 0, 0, 1), raw(0x95)}));
}

TEST(Assembler, FirstExitIsAnImplicitLabel) {
    const Slots slots = assemble_ok(
        "jne %r0, %r1, exit\n"
        "mov %r0, 1\n"
        "exit\n"
        "mov %r0, 2\n"
        "exit\n");
    EXPECT_EQ(slots[0], raw(0x5d, 0, 1, 1));
}

TEST(Assembler, ExplicitExitLabelWinsOverTheImplicitOne) {
    const Slots slots = assemble_ok(
        "jne %r0, 1, exit\n"
        "exit\n"
        "exit:\n"
        "mov %r0, 2\n"
        "exit\n");
    EXPECT_EQ(slots[0], raw(0x55, 0, 0, 1, 1));
}

TEST(Assembler, LocalCallAndGotolTakeLabels) {
    const Slots slots = assemble_ok(
        "call local fn\n"
        "ja32 done\n"
        "fn:\n"
        "mov %r0, 1\n"
        "exit\n"
        "done:\n"
        "exit\n");
    EXPECT_EQ(slots[0], raw(0x85, 0, 1, 0, 1));
    EXPECT_EQ(slots[1], raw(0x06, 0, 0, 0, 2));
}

// ---- Errors ----

struct ErrorCase {
    std::string text;
    uint32_t line;
    uint32_t column;
    const char* message_part;
};

const ErrorCase kErrors[] = {
    {"exit\n  ldxq %r0, %r1", 2, 3, "unknown mnemonic 'ldxq'"},
    {"or %r0, %r50", 1, 9, "invalid register '%r50'"},
    {"mov %r11, 1", 1, 5, "invalid register '%r11'"},
    {"mov r1, 1", 1, 5, "invalid register 'r1'"},
    {"ldxb %r0, [%r12+1]", 1, 12, "invalid register '%r12'"},
    {"mov32 %r0, 2147483648", 1, 12, "out of range for a 32-bit field"},
    {"mov32 %r0, 0x100000000", 1, 12, "out of range for a 32-bit field"},
    {"mov32 %r0, -2147483649", 1, 12, "out of range"},
    {"mov32 %r0, -0x80000001", 1, 12, "out of range"},
    {"stw [%r1], 99999999999999999999999", 1, 12, "out of range"},
    {"lddw %r0, 0x10000000000000000", 1, 11, "out of range for a 64-bit field"},
    {"lddw %r0, -9223372036854775809", 1, 11, "out of range"},
    {"mov %r0, 12abc", 1, 10, "invalid immediate '12abc'"},
    {"mov %r0, 0x", 1, 10, "invalid immediate"},
    {"mov %r0, --1", 1, 10, "invalid immediate"},
    {"ldxb %r0, [%r1+0x10000]", 1, 15, "out of range for a 16-bit field"},
    {"ldxb %r0, [%r1+32768]", 1, 15, "offset"},
    {"ldxb %r0, [%r1+x]", 1, 15, "invalid offset"},
    {"ldxb %r0, %r1", 1, 11, "memory operand"},
    {"stw [%r1+4], %r2", 1, 14, "expected an immediate, got '%r2'"},
    {"stxw [%r1], 5", 1, 13, "expected a register, got '5'"},
    {"add %r0, [%r1]", 1, 10, "invalid immediate '[%r1]'"},
    {"stxw %r1, %r2", 1, 6, "memory operand"},
    {"lddw %r0", 1, 1, "invalid number of operands for lddw: expected 2, got 1"},
    {"exit %r0", 1, 1, "invalid number of operands for exit: expected 0, got 1"},
    {"add %r0, 1, 2", 1, 1, "invalid number of operands for add: expected 2, got 3"},
    {"call runtime 1, 2, 3", 1, 1, "expected 1 or 2, got 3"},
    {"lock", 1, 1, "invalid number of operands for lock"},
    {"lock fetch", 1, 1, "invalid number of operands for lock"},
    {"lock or [%r10-8]", 1, 1, "invalid number of operands for lock or: expected 2, got 1"},
    {"lock nand [%r10-8], %r1", 1, 6, "invalid lock operation 'nand'"},
    {"lock fetch nand [%r10-8], %r1", 1, 12, "invalid lock operation 'nand'"},
    {"ja NOT_A_LABEL\nexit", 1, 4, "unknown label 'NOT_A_LABEL'"},
    {"ja exit\nmov %r0, 0", 1, 4, "unknown label 'exit'"},
    {"a:\nexit\n a:\nexit", 3, 2, "duplicate label 'a' (first defined on line 1)"},
    {"1abc:\nexit", 1, 1, "invalid label name '1abc'"},
    {"-- Unknown directive", 1, 1, "unknown directive '-- Unknown directive'"},
    {".text\nexit", 1, 1, "unknown directive '.text'"},
    {"add %r0 %r1", 1, 9, "expected ',' between operands"},
    {"jeq %r1, 5 +2", 1, 12, "expected ',' between operands"},
    {"add %r0,", 1, 8, "missing operand"},
    {"add %r0,, %r1", 1, 8, "missing operand"},
    {"exit ,", 1, 6, "expected an operand before ','"},
    {", exit", 1, 1, "expected a mnemonic"},
    {"ja 5", 1, 4, "invalid jump target '5'"},
    {"ja +32768", 1, 4, "out of range for a 16-bit field"},
    {"call local %r1", 1, 12, "invalid jump target"},
    {"call helper", 1, 1, "invalid number of operands for call: expected 1, got 0"},
};

TEST(AssemblerErrors, EachKindHasLineColumnAndMessage) {
    for (const auto& c : kErrors) {
        SCOPED_TRACE(c.text);
        auto result = assemble(c.text);
        ASSERT_FALSE(result.ok());
        const Error& error = result.error();
        EXPECT_EQ(error.kind, ErrorKind::Syntax);
        EXPECT_EQ(error.where.line, c.line);
        EXPECT_EQ(error.where.column, c.column);
        EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
    }
}

TEST(AssemblerErrors, ToStringNamesLineAndColumn) {
    auto result = assemble("exit\n  ldxq %r0, %r1");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().to_string(), "line 2, column 3: unknown mnemonic 'ldxq'");
}

TEST(AssemblerErrors, LabelTooFarForA16BitOffset) {
    std::string text = "ja far\n";
    for (int i = 0; i < 40000; ++i) text += "mov %r0, 0\n";
    text += "far:\nexit\n";
    auto result = assemble(text);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().where.line, 1u);
    EXPECT_EQ(result.error().where.column, 4u);
    EXPECT_NE(result.error().message.find("too far for a 16-bit jump offset"), std::string::npos)
        << result.error().message;

    // gotol has 32 bits for the same distance.
    text.replace(0, 2, "ja32");
    EXPECT_TRUE(assemble(text).ok());
}

// Token soup: whatever the text, the assembler returns slots or a located syntax error.
TEST(AssemblerErrors, RandomTextNeverCrashes) {
    std::vector<std::string> pieces = {"%r0",
                                       "%r1",
                                       "%r10",
                                       "%r11",
                                       "%r",
                                       "%",
                                       "[%r1+4]",
                                       "[%r10-8]",
                                       "[%r1",
                                       "[",
                                       "]",
                                       "+",
                                       "-",
                                       "+3",
                                       "-0x10",
                                       "0x",
                                       "0xffffffffffffffffff",
                                       "5",
                                       "-2147483649",
                                       "lbl",
                                       "lbl:",
                                       "exit",
                                       ":",
                                       ",",
                                       ",,",
                                       "#",
                                       " ",
                                       "\t",
                                       "\n",
                                       "fetch",
                                       "local",
                                       "runtime",
                                       "helper",
                                       "--",
                                       ".text",
                                       "lock"};
    for (const auto& form : opcode_forms()) pieces.emplace_back(form.mnemonic);
    std::mt19937 rng(7);
    size_t assembled = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        const size_t count = 1 + rng() % 12;
        for (size_t i = 0; i < count; ++i) {
            text += pieces[rng() % pieces.size()];
            text += rng() % 3 == 0 ? "" : rng() % 4 == 0 ? "\n" : " ";
        }
        const size_t lines = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
        auto result = assemble(text);
        if (result.ok()) {
            ++assembled;
            continue;
        }
        const Error& error = result.error();
        EXPECT_EQ(error.kind, ErrorKind::Syntax) << text;
        ASSERT_TRUE(error.where.line && error.where.column) << text;
        EXPECT_GE(*error.where.line, 1u);
        EXPECT_LE(*error.where.line, lines) << text;
        EXPECT_GE(*error.where.column, 1u) << text;
        EXPECT_FALSE(error.message.empty());
    }
    EXPECT_GT(assembled, 50u);  // both outcomes are exercised
}

}  // namespace
}  // namespace bpfvm::isa
