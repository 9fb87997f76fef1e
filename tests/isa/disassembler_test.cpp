// Expected text of each instruction kind in the three outputs: LLVM syntax (checked against
// llvm-mc 19 by hand, and by llvm_oracle_test.cpp where LLVM is installed), LLVM with hex numbers
// (llvm-objdump 19) and the conformance syntax the assembler reads back.
#include <gtest/gtest.h>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

using test::raw;
using Slots = std::vector<RawInstruction>;

struct TextCase {
    Slots slots;
    const char* llvm;
    const char* llvm_hex;
    const char* conformance;
};

const TextCase kCases[] = {
    {{raw(0x07, 1, 0, 0, 2)}, "r1 += 2", "r1 += 0x2", "add %r1, 2"},
    {{raw(0x04, 1, 0, 0, -2)}, "w1 += -2", "w1 += -0x2", "add32 %r1, -2"},
    {{raw(0x3f, 1, 2, 1)}, "r1 s/= r2", "r1 s/= r2", "sdiv %r1, %r2"},
    {{raw(0x9c, 1, 2, 1)}, "w1 s%= w2", "w1 s%= w2", "smod32 %r1, %r2"},
    {{raw(0xc7, 1, 0, 0, 3)}, "r1 s>>= 3", "r1 s>>= 0x3", "arsh %r1, 3"},
    {{raw(0xb4, 1, 0, 0, -1)}, "w1 = -1", "w1 = -0x1", "mov32 %r1, -1"},
    {{raw(0x87, 1)}, "r1 = -r1", "r1 = -r1", "neg %r1"},
    {{raw(0x84, 1)}, "w1 = -w1", "w1 = -w1", "neg32 %r1"},
    {{raw(0xbf, 1, 2, 8)}, "r1 = (s8)r2", "r1 = (s8)r2", "movsx864 %r1, %r2"},
    {{raw(0xbc, 1, 2, 16)}, "w1 = (s16)w2", "w1 = (s16)w2", "movsx1632 %r1, %r2"},
    {{raw(0xdc, 1, 0, 0, 16)}, "r1 = be16 r1", "r1 = be16 r1", "be16 %r1"},
    {{raw(0xd4, 1, 0, 0, 32)}, "r1 = le32 r1", "r1 = le32 r1", "le32 %r1"},
    {{raw(0xd7, 1, 0, 0, 64)}, "r1 = bswap64 r1", "r1 = bswap64 r1", "swap64 %r1"},
    {{raw(0x25, 1, 0, 2, 3)}, "if r1 > 3 goto +2", "if r1 > 0x3 goto +0x2", "jgt %r1, 3, +2"},
    {{raw(0x2e, 1, 2, -2)}, "if w1 > w2 goto -2", "if w1 > w2 goto -0x2", "jgt32 %r1, %r2, -2"},
    {{raw(0x45, 1, 0, 2, 3)}, "if r1 & 3 goto +2", "if r1 & 0x3 goto +0x2", "jset %r1, 3, +2"},
    {{raw(0xd6, 1, 0, 0, -3)}, "if w1 s<= -3 goto +0", "if w1 s<= -0x3 goto +0x0", "jsle32 %r1, -3, +0"},
    {{raw(0x05, 0, 0, 3)}, "goto +3", "goto +0x3", "ja +3"},
    {{raw(0x06, 0, 0, 0, 3)}, "gotol +3", "gotol +0x3", "ja32 +3"},
    {{raw(0x85, 0, 0, 0, 12)}, "call 12", "call 0xc", "call 12"},
    {{raw(0x85, 0, 1, 0, -4)}, "call -4", "call -0x4", "call local -4"},
    {{raw(0x85, 0, 2, 0, 7)}, "call 7", "call 0x7", "call runtime 7"},
    {{raw(0x85, 0, 2, 3, 7)}, "call 7", "call 0x7", "call runtime 7, 3"},
    {{raw(0x8d, 1)}, "callx r1", "callx r1", "call %r1"},
    {{raw(0x95)}, "exit", "exit", "exit"},
    {{raw(0x18, 1, 0, 0, static_cast<int32_t>(0x9abcdef0)), raw(0, 0, 0, 0, 0x12345678)},
     "r1 = 1311768467463790320 ll",
     "r1 = 0x123456789abcdef0 ll",
     "lddw %r1, 1311768467463790320"},
    {{raw(0x18, 1, 0, 0, -1), raw(0, 0, 0, 0, -1)}, "r1 = -1 ll", "r1 = -0x1 ll", "lddw %r1, -1"},
    // LLVM prints the pseudo forms with a tab after ld_pseudo; the second imm is our addition.
    {{raw(0x18, 1, 1, 0, 5), raw(0)}, "ld_pseudo\tr1, 1, 5", "ld_pseudo\tr1, 0x1, 0x5", "lddw.map_fd %r1, 5"},
    {{raw(0x18, 1, 2, 0, 5), raw(0, 0, 0, 0, 7)},
     "ld_pseudo\tr1, 2, 5, 7",
     "ld_pseudo\tr1, 0x2, 0x5, 0x7",
     "lddw.map_value %r1, 30064771077"},
    {{raw(0x61, 0, 1, 4)}, "w0 = *(u32 *)(r1 + 4)", "w0 = *(u32 *)(r1 + 0x4)", "ldxw %r0, [%r1+4]"},
    {{raw(0x71, 0, 1, 0)}, "w0 = *(u8 *)(r1 + 0)", "w0 = *(u8 *)(r1 + 0x0)", "ldxb %r0, [%r1]"},
    {{raw(0x79, 0, 1, -32768)},
     "r0 = *(u64 *)(r1 - 32768)",
     "r0 = *(u64 *)(r1 - 0x8000)",
     "ldxdw %r0, [%r1-32768]"},
    {{raw(0x81, 0, 1, -4)}, "r0 = *(s32 *)(r1 - 4)", "r0 = *(s32 *)(r1 - 0x4)", "ldxsw %r0, [%r1-4]"},
    {{raw(0x7b, 10, 1, -8)}, "*(u64 *)(r10 - 8) = r1", "*(u64 *)(r10 - 0x8) = r1", "stxdw [%r10-8], %r1"},
    {{raw(0x63, 10, 1, -8)}, "*(u32 *)(r10 - 8) = w1", "*(u32 *)(r10 - 0x8) = w1", "stxw [%r10-8], %r1"},
    {{raw(0x62, 10, 0, -4, 5)}, "*(u32 *)(r10 - 4) = 5", "*(u32 *)(r10 - 0x4) = 0x5", "stw [%r10-4], 5"},
    {{raw(0x72, 10, 0, -4, -5)}, "*(u8 *)(r10 - 4) = -5", "*(u8 *)(r10 - 0x4) = -0x5", "stb [%r10-4], -5"},
    {{raw(0xdb, 10, 1, -8, 0x00)},
     "lock *(u64 *)(r10 - 8) += r1",
     "lock *(u64 *)(r10 - 0x8) += r1",
     "lock add [%r10-8], %r1"},
    {{raw(0xdb, 10, 1, -8, 0x01)},
     "r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)",
     "r1 = atomic_fetch_add((u64 *)(r10 - 0x8), r1)",
     "lock fetch add [%r10-8], %r1"},
    {{raw(0xc3, 10, 1, -8, 0x40)},
     "lock *(u32 *)(r10 - 8) |= w1",
     "lock *(u32 *)(r10 - 0x8) |= w1",
     "lock or32 [%r10-8], %r1"},
    {{raw(0xc3, 10, 1, -8, 0x51)},
     "w1 = atomic_fetch_and((u32 *)(r10 - 8), w1)",
     "w1 = atomic_fetch_and((u32 *)(r10 - 0x8), w1)",
     "lock fetch and32 [%r10-8], %r1"},
    {{raw(0xdb, 10, 1, -8, 0xa0)},
     "lock *(u64 *)(r10 - 8) ^= r1",
     "lock *(u64 *)(r10 - 0x8) ^= r1",
     "lock xor [%r10-8], %r1"},
    {{raw(0xdb, 10, 1, -8, 0xe1)},
     "r1 = xchg_64(r10 - 8, r1)",
     "r1 = xchg_64(r10 - 0x8, r1)",
     "lock xchg [%r10-8], %r1"},
    {{raw(0xc3, 10, 1, -8, 0xe1)},
     "w1 = xchg32_32(r10 - 8, w1)",
     "w1 = xchg32_32(r10 - 0x8, w1)",
     "lock xchg32 [%r10-8], %r1"},
    {{raw(0xdb, 10, 1, -8, 0xf1)},
     "r0 = cmpxchg_64(r10 - 8, r0, r1)",
     "r0 = cmpxchg_64(r10 - 0x8, r0, r1)",
     "lock cmpxchg [%r10-8], %r1"},
    {{raw(0xc3, 10, 1, -8, 0xf1)},
     "w0 = cmpxchg32_32(r10 - 8, w0, w1)",
     "w0 = cmpxchg32_32(r10 - 0x8, w0, w1)",
     "lock cmpxchg32 [%r10-8], %r1"},
    // Load-acquire and store-release in LLVM 20's syntax (LLVM 19 cannot print them).
    {{raw(0xd3, 0, 1, 0, 0x100)},
     "w0 = load_acquire((u8 *)(r1 + 0))",
     "w0 = load_acquire((u8 *)(r1 + 0x0))",
     "ldxacqb %r0, [%r1]"},
    {{raw(0xdb, 0, 1, 8, 0x100)},
     "r0 = load_acquire((u64 *)(r1 + 8))",
     "r0 = load_acquire((u64 *)(r1 + 0x8))",
     "ldxacqdw %r0, [%r1+8]"},
    {{raw(0xcb, 1, 2, 0, 0x110)},
     "store_release((u16 *)(r1 + 0), w2)",
     "store_release((u16 *)(r1 + 0x0), w2)",
     "stxrelh [%r1], %r2"},
    {{raw(0xdb, 1, 2, -8, 0x110)},
     "store_release((u64 *)(r1 - 8), r2)",
     "store_release((u64 *)(r1 - 0x8), r2)",
     "stxreldw [%r1-8], %r2"},
    {{raw(0x30, 0, 0, 0, 12)}, "r0 = *(u8 *)skb[12]", "r0 = *(u8 *)skb[0xc]", "ldabsb 12"},
    {{raw(0x20, 0, 0, 0, -1)}, "r0 = *(u32 *)skb[-1]", "r0 = *(u32 *)skb[-0x1]", "ldabsw -1"},
    {{raw(0x48, 0, 1, 0, 0)}, "r0 = *(u16 *)skb[r1]", "r0 = *(u16 *)skb[r1]", "ldindh %r1, 0"},
    // LLVM drops a BPF_IND imm; we print it the way the kernel's verifier log does.
    {{raw(0x40, 0, 1, 0, 4)}, "r0 = *(u32 *)skb[r1 + 4]", "r0 = *(u32 *)skb[r1 + 0x4]", "ldindw %r1, 4"},
};

TEST(Disassembler, EachKindInEachSyntax) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(c.llvm);
        auto insn = decode_instruction(c.slots, 0);
        ASSERT_TRUE(insn.ok()) << insn.error().to_string();
        EXPECT_EQ(disassemble(*insn), c.llvm);
        EXPECT_EQ(disassemble(*insn, {Syntax::Llvm, true}), c.llvm_hex);
        EXPECT_EQ(disassemble(*insn, {Syntax::Conformance, false}), c.conformance);

        // The conformance text, decimal or hex, assembles back to the same slots.
        for (bool hex : {false, true}) {
            const std::string text = disassemble(*insn, {Syntax::Conformance, hex});
            auto slots = assemble(text);
            ASSERT_TRUE(slots.ok()) << text << ": " << slots.error().to_string();
            EXPECT_EQ(*slots, c.slots) << text;
        }
    }
}

TEST(Disassembler, ConformanceSyntaxWithHexNumbers) {
    auto insn = decode_instruction(Slots{raw(0x26, 1, 0, -2, -3)}, 0);
    ASSERT_TRUE(insn.ok());
    EXPECT_EQ(disassemble(*insn, {Syntax::Conformance, true}), "jgt32 %r1, -0x3, -0x2");
    insn = decode_instruction(Slots{raw(0x61, 0, 1, 16)}, 0);
    ASSERT_TRUE(insn.ok());
    EXPECT_EQ(disassemble(*insn, {Syntax::Conformance, true}), "ldxw %r0, [%r1+0x10]");
}

Program decode_text(std::string_view text) {
    auto slots = assemble(text);
    EXPECT_TRUE(slots.ok()) << slots.error().to_string();
    auto program = decode_program(std::span<const RawInstruction>(*slots));
    EXPECT_TRUE(program.ok()) << program.error().to_string();
    return program.ok() ? *program : Program{};
}

TEST(Listing, SlotBytesAndTextLikeObjdump) {
    const Program program = decode_text("lddw %r1, 0x123456789abcdef0\njeq %r1, 0, +0\nexit\n");
    EXPECT_EQ(listing(program),
              "       0:\t18 01 00 00 f0 de bc 9a 00 00 00 00 78 56 34 12\tr1 = 1311768467463790320 ll\n"
              "       2:\t15 01 00 00 00 00 00 00\tif r1 == 0 goto +0\n"
              "       3:\t95 00 00 00 00 00 00 00\texit\n");
    EXPECT_EQ(listing(program, {Syntax::Conformance, true}),
              "       0:\t18 01 00 00 f0 de bc 9a 00 00 00 00 78 56 34 12\tlddw %r1, 0x123456789abcdef0\n"
              "       2:\t15 01 00 00 00 00 00 00\tjeq %r1, 0x0, +0x0\n"
              "       3:\t95 00 00 00 00 00 00 00\texit\n");
}

TEST(Listing, SlotNumbersAlignToEightColumns) {
    std::string text;
    for (int i = 0; i < 12; ++i) text += "mov %r0, 0\n";
    text += "exit\n";
    const std::vector<std::string> lines = test::split_lines(listing(decode_text(text)));
    ASSERT_EQ(lines.size(), 13u);
    EXPECT_TRUE(lines[9].starts_with("       9:\t")) << lines[9];
    EXPECT_TRUE(lines[12].starts_with("      12:\t")) << lines[12];
}

TEST(Listing, EmptyProgramIsEmpty) {
    EXPECT_EQ(listing(Program{}), "");
}

}  // namespace
}  // namespace bpfvm::isa
