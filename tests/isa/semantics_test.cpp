// Edge cases of the shared ALU/jump semantics, with expected values worked out by hand from
// RFC 9669 section 4.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "bpfvm/isa/semantics.hpp"

namespace bpfvm::isa {
namespace {

constexpr uint64_t kMin64 = 0x8000'0000'0000'0000ull;
constexpr uint32_t kMin32 = 0x8000'0000u;

TEST(SemanticsTest, DivisionByZero) {
    EXPECT_EQ(alu<uint64_t>(Op::Div, 9, 0), 0u);
    EXPECT_EQ(alu<uint64_t>(Op::SDiv, 9, 0), 0u);
    EXPECT_EQ(alu<uint64_t>(Op::Mod, 9, 0), 9u);
    EXPECT_EQ(alu<uint32_t>(Op::SMod, 0xfffffff7u, 0), 0xfffffff7u);
}

TEST(SemanticsTest, SignedOverflowWraps) {
    EXPECT_EQ(alu<uint64_t>(Op::SDiv, kMin64, ~0ull), kMin64);
    EXPECT_EQ(alu<uint64_t>(Op::SMod, kMin64, ~0ull), 0u);
    EXPECT_EQ(alu<uint32_t>(Op::SDiv, kMin32, ~0u), kMin32);
    EXPECT_EQ(alu<uint32_t>(Op::Neg, kMin32, 0), kMin32);
}

TEST(SemanticsTest, SignedRemainderTakesTheDividendSign) {
    EXPECT_EQ(static_cast<int64_t>(alu<uint64_t>(Op::SMod, static_cast<uint64_t>(-7), 3)), -1);
    EXPECT_EQ(static_cast<int64_t>(alu<uint64_t>(Op::SMod, 7, static_cast<uint64_t>(-3))), 1);
    EXPECT_EQ(static_cast<int64_t>(alu<uint64_t>(Op::SDiv, static_cast<uint64_t>(-7), 2)), -3);
}

TEST(SemanticsTest, ShiftsAreMaskedToTheWidth) {
    EXPECT_EQ(alu<uint64_t>(Op::Lsh, 1, 64), 1u);
    EXPECT_EQ(alu<uint64_t>(Op::Lsh, 1, 63), kMin64);
    EXPECT_EQ(alu<uint32_t>(Op::Rsh, kMin32, 32), kMin32);
    EXPECT_EQ(alu<uint32_t>(Op::Arsh, kMin32, 31), 0xffffffffu);
    EXPECT_EQ(alu<uint64_t>(Op::Arsh, kMin64, 0xff), ~0ull);  // 0xff & 63 = 63
}

TEST(SemanticsTest, SignExtension) {
    EXPECT_EQ(sign_extend(0x80, 8), 0xffffffffffffff80ull);
    EXPECT_EQ(sign_extend(0x17f, 8), 0x7full);
    EXPECT_EQ(sign_extend(0x8000, 16), 0xffffffffffff8000ull);
    EXPECT_EQ(sign_extend(0x80000000, 32), 0xffffffff80000000ull);
    EXPECT_EQ(sign_extend(0x1234, 64), 0x1234ull);
}

TEST(SemanticsTest, ByteOrder) {
    EXPECT_EQ(byte_order(Op::ToBe, 0x1122334455667788ull, 16), 0x8877u);
    EXPECT_EQ(byte_order(Op::ToBe, 0x1122334455667788ull, 32), 0x88776655u);
    EXPECT_EQ(byte_order(Op::ToBe, 0x1122334455667788ull, 64), 0x8877665544332211ull);
    EXPECT_EQ(byte_order(Op::ToLe, 0x1122334455667788ull, 16), 0x7788u);
    EXPECT_EQ(byte_order(Op::ToLe, 0x1122334455667788ull, 64), 0x1122334455667788ull);
    EXPECT_EQ(byte_order(Op::Swap, 0x1122334455667788ull, 32), 0x88776655u);
}

TEST(SemanticsTest, Conditions) {
    EXPECT_TRUE(condition<uint64_t>(Op::Jsgt, 1, ~0ull));  // 1 > -1 signed
    EXPECT_FALSE(condition<uint64_t>(Op::Jgt, 1, ~0ull));  // 1 < 2^64-1 unsigned
    EXPECT_TRUE(condition<uint32_t>(Op::Jslt, kMin32, 0));
    EXPECT_TRUE(condition<uint64_t>(Op::Jset, 0b1010, 0b0010));
    EXPECT_FALSE(condition<uint64_t>(Op::Jset, 0b1010, 0b0101));
    EXPECT_TRUE(condition<uint64_t>(Op::Jle, 3, 3));
    EXPECT_TRUE(condition<uint64_t>(Op::Jsge, static_cast<uint64_t>(-3), static_cast<uint64_t>(-3)));
}

TEST(SemanticsTest, AtomicResults) {
    EXPECT_EQ(atomic_result<uint32_t>(Op::AtomicAdd, 0xffffffffu, 1), 0u);
    EXPECT_EQ(atomic_result<uint64_t>(Op::AtomicAnd, 0b1100, 0b1010), 0b1000u);
    EXPECT_EQ(atomic_result<uint64_t>(Op::AtomicXchg, 5, 9), 9u);
}

}  // namespace
}  // namespace bpfvm::isa
