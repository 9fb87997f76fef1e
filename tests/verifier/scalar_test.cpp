// The numeric domain: worked examples with the precise results real programs rely on, and
// brute-force soundness checks. The brute-force tests build many abstract values whose members
// can be listed (short ranges around the edges of the 32- and 64-bit signed and unsigned number
// lines, tnums with a few unknown bits, meets of those, branch refinements), apply the concrete
// operation of isa/semantics.hpp to every member (pair) and require the abstract result to hold
// each concrete result.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <random>
#include <vector>

#include "bpfvm/isa/semantics.hpp"
#include "scalar.hpp"

namespace bpfvm::verifier {
namespace {

using isa::Op;

constexpr uint64_t kMax = ~uint64_t{0};
constexpr int64_t kS64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kS64Max = std::numeric_limits<int64_t>::max();
constexpr int32_t kS32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kS32Max = std::numeric_limits<int32_t>::max();

uint64_t u(int64_t v) {
    return static_cast<uint64_t>(v);
}
Scalar k(uint64_t v) {
    return Scalar::constant(v);
}
Scalar ks(int64_t v) {
    return Scalar::constant(u(v));
}

uint64_t concrete_alu(Op op, bool is64, uint64_t d, uint64_t s) {
    if (is64) return isa::alu<uint64_t>(op, d, s);
    return isa::alu<uint32_t>(op, static_cast<uint32_t>(d), static_cast<uint32_t>(s));
}

bool concrete_condition(Op op, bool is32, uint64_t d, uint64_t s) {
    if (is32) return isa::condition<uint32_t>(op, static_cast<uint32_t>(d), static_cast<uint32_t>(s));
    return isa::condition<uint64_t>(op, d, s);
}

constexpr std::array kAluOps = {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::SDiv, Op::Mod, Op::SMod, Op::And,
                                Op::Or,  Op::Xor, Op::Lsh, Op::Rsh, Op::Arsh, Op::Neg, Op::Mov};
constexpr std::array kJumpOps = {Op::Ja,  Op::Jeq,  Op::Jne,  Op::Jgt,  Op::Jge,  Op::Jlt,
                                 Op::Jle, Op::Jset, Op::Jsgt, Op::Jsge, Op::Jslt, Op::Jsle};

// ---------------------------------------------------------------------------------------------
// Tnum examples

TEST(Tnum, Range) {
    EXPECT_EQ(Tnum::range(0, 255), (Tnum{0, 0xff}));
    EXPECT_EQ(Tnum::range(16, 31), (Tnum{16, 15}));
    EXPECT_EQ(Tnum::range(16, 32), (Tnum{0, 63}));
    EXPECT_EQ(Tnum::range(7, 7), Tnum::constant(7));
    EXPECT_EQ(Tnum::range(0, kMax), Tnum::unknown());
    EXPECT_EQ(Tnum::range(u(1) << 63, kMax), (Tnum{u(1) << 63, kMax >> 1}));
}

TEST(Tnum, ContainsAndMinMax) {
    const Tnum t{0x10, 0x0f};
    EXPECT_TRUE(t.contains(0x10));
    EXPECT_TRUE(t.contains(0x1f));
    EXPECT_FALSE(t.contains(0x20));
    EXPECT_EQ(t.min(), 0x10u);
    EXPECT_EQ(t.max(), 0x1fu);
    EXPECT_TRUE(t.contains(Tnum{0x12, 0x05}));
    EXPECT_FALSE(t.contains(Tnum{0x12, 0x21}));
    EXPECT_TRUE(Tnum::unknown().contains(t));
    EXPECT_FALSE(t.contains(Tnum::unknown()));
}

TEST(Tnum, Arithmetic) {
    EXPECT_EQ(Tnum::constant(5).add(Tnum::constant(7)), Tnum::constant(12));
    EXPECT_EQ((Tnum{0, 3}).add(Tnum::constant(1)), (Tnum{0, 7}));  // {1..4}
    EXPECT_EQ((Tnum{0, 0xf0}).add(Tnum::constant(1)), (Tnum{1, 0xf0}));
    EXPECT_EQ(Tnum::constant(5).sub(Tnum::constant(7)), Tnum::constant(u(-2)));
    EXPECT_EQ((Tnum{0x10, 0xf}).sub(Tnum::constant(0x10)), (Tnum{0, 0xf}));
    EXPECT_EQ(Tnum::constant(3).mul(Tnum::constant(5)), Tnum::constant(15));
    EXPECT_EQ((Tnum{0, 1}).mul(Tnum::constant(4)), (Tnum{0, 4}));
    EXPECT_EQ((Tnum{0, 0xff}).mul(Tnum::constant(8)), (Tnum{0, 0x7f8}));
    EXPECT_EQ(Tnum::unknown().mul(Tnum::constant(0)), Tnum::constant(0));
}

TEST(Tnum, Bitwise) {
    EXPECT_EQ(Tnum::unknown().bit_and(Tnum::constant(0xff)), (Tnum{0, 0xff}));
    EXPECT_EQ((Tnum{0xf0, 0x0f}).bit_and(Tnum::constant(0x3c)), (Tnum{0x30, 0x0c}));
    EXPECT_EQ((Tnum{0xf0, 0x0f}).bit_or(Tnum::constant(1)), (Tnum{0xf1, 0x0e}));
    EXPECT_EQ((Tnum{0xf0, 0x0f}).bit_xor(Tnum::constant(0xff)), (Tnum{0x00, 0x0f}));
    EXPECT_EQ((Tnum{0xf0, 0x0f}).bit_xor(Tnum::constant(0x1ff)), (Tnum{0x100, 0x0f}));
    EXPECT_EQ((Tnum{1, 2}).shift_left(4), (Tnum{0x10, 0x20}));
    EXPECT_EQ((Tnum{0x10, 0x20}).shift_right(4), (Tnum{1, 2}));
    EXPECT_EQ(Tnum::constant(u(1) << 63).shift_right_arith(4, 64), Tnum::constant(0xf800000000000000));
    EXPECT_EQ(Tnum::constant(0x80000000).shift_right_arith(4, 32), Tnum::constant(0xf8000000));
    EXPECT_EQ((Tnum{0, 0x80000000}).shift_right_arith(31, 32), (Tnum{0, 0xffffffff}));
    EXPECT_EQ(Tnum::unknown().shift_right(60), (Tnum{0, 0xf}));
}

TEST(Tnum, IntersectJoinTruncate) {
    EXPECT_EQ((Tnum{0, 0xf}).intersect(Tnum{0x3, ~u(0xf)}), Tnum::constant(3));
    EXPECT_EQ((Tnum{0, 0xf}).intersect(Tnum::constant(0x10)), std::nullopt);
    EXPECT_EQ(Tnum::constant(1).join(Tnum::constant(3)), (Tnum{1, 2}));
    EXPECT_EQ((Tnum{0x100, 0xff}).join(Tnum::constant(0x1ff)), (Tnum{0x100, 0xff}));
    EXPECT_EQ(Tnum::unknown().truncate(1), (Tnum{0, 0xff}));
    EXPECT_EQ(Tnum::constant(0x123456789).truncate(4), Tnum::constant(0x23456789));
    EXPECT_EQ(Tnum::unknown().truncate(8), Tnum::unknown());
}

// Tnums with at most 4 unknown bits, and their members.
struct SmallTnum {
    Tnum t;
    std::vector<uint64_t> members;
};

SmallTnum random_small_tnum(std::mt19937_64& rng) {
    static constexpr unsigned kInteresting[] = {0, 1, 2, 3, 7, 8, 15, 16, 30, 31, 32, 33, 62, 63};
    uint64_t mask = 0;
    const unsigned n = rng() % 5;
    for (unsigned i = 0; i < n; ++i) {
        unsigned bit =
            rng() % 2 ? kInteresting[rng() % std::size(kInteresting)] : static_cast<unsigned>(rng() % 64);
        mask |= u(1) << bit;
    }
    uint64_t value = rng();
    switch (rng() % 4) {
        case 0: value &= 0xff; break;
        case 1: value |= 0xffffffff00000000; break;
        default: break;
    }
    SmallTnum r{Tnum{value & ~mask, mask}, {}};
    // Every subset of the unknown bits.
    for (uint64_t sub = mask;; sub = (sub - 1) & mask) {
        r.members.push_back(r.t.value | sub);
        if (sub == 0) break;
    }
    return r;
}

TEST(Tnum, BruteForceSound) {
    std::mt19937_64 rng(1);
    for (int iter = 0; iter < 10000; ++iter) {
        const SmallTnum a = random_small_tnum(rng);
        const SmallTnum b = random_small_tnum(rng);
        const Tnum add = a.t.add(b.t), sub = a.t.sub(b.t), mul = a.t.mul(b.t), band = a.t.bit_and(b.t),
                   bor = a.t.bit_or(b.t), bxor = a.t.bit_xor(b.t), join = a.t.join(b.t);
        const auto meet = a.t.intersect(b.t);
        const unsigned sh = static_cast<unsigned>(rng() % 64);
        for (uint64_t x : a.members) {
            ASSERT_TRUE(join.contains(x));
            ASSERT_TRUE(a.t.shift_left(sh).contains(x << sh));
            ASSERT_TRUE(a.t.shift_right(sh).contains(x >> sh));
            ASSERT_TRUE(a.t.shift_right_arith(sh, 64).contains(u(static_cast<int64_t>(x) >> sh)));
            ASSERT_TRUE(a.t.shift_right_arith(sh % 32, 32)
                            .contains(static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(x)) >>
                                                            (sh % 32))));
            for (unsigned bytes : {1u, 2u, 4u, 8u})
                ASSERT_TRUE(a.t.truncate(bytes).contains(bytes == 8 ? x : x & ((u(1) << (8 * bytes)) - 1)));
            ASSERT_EQ(meet.has_value() && meet->contains(x), b.t.contains(x));
            for (uint64_t y : b.members) {
                ASSERT_TRUE(add.contains(x + y)) << x << " " << y;
                ASSERT_TRUE(sub.contains(x - y)) << x << " " << y;
                ASSERT_TRUE(mul.contains(x * y)) << x << " " << y;
                ASSERT_TRUE(band.contains(x & y));
                ASSERT_TRUE(bor.contains(x | y));
                ASSERT_TRUE(bxor.contains(x ^ y));
            }
        }
        for (uint64_t y : b.members) ASSERT_TRUE(join.contains(y));
        ASSERT_TRUE(join.contains(a.t));
        ASSERT_TRUE(join.contains(b.t));
        // range() holds every value between the bounds of a few values.
        const uint64_t lo = std::min(a.members.front(), a.members.back());
        const uint64_t hi = std::max(a.members.front(), a.members.back());
        const Tnum r = Tnum::range(lo, hi);
        ASSERT_TRUE(r.contains(lo) && r.contains(hi) && r.contains(lo + (hi - lo) / 2));
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar examples

TEST(Scalar, Constructors) {
    const Scalar any;
    EXPECT_EQ(any.umin(), 0u);
    EXPECT_EQ(any.umax(), kMax);
    EXPECT_EQ(any.smin(), kS64Min);
    EXPECT_EQ(any.s32_max(), kS32Max);
    EXPECT_EQ(any.bits(), Tnum::unknown());
    EXPECT_FALSE(any.is_constant());

    const Scalar c = k(42);
    EXPECT_TRUE(c.is_constant());
    EXPECT_EQ(c.constant_value(), 42u);
    EXPECT_TRUE(c.contains(42));
    EXPECT_FALSE(c.contains(43));

    const Scalar byte = Scalar::unknown_of_size(1);
    EXPECT_EQ(byte.umax(), 255u);
    EXPECT_EQ(byte.smin(), 0);
    EXPECT_EQ(byte.smax(), 255);
    EXPECT_EQ(byte.bits(), (Tnum{0, 0xff}));
    EXPECT_EQ(Scalar::unknown_of_size(4).u32_max(), 0xffffffffu);
    EXPECT_EQ(Scalar::unknown_of_size(8), Scalar::unknown());

    const Scalar t = Scalar::from_tnum(Tnum{0x100, 0x0f});
    EXPECT_EQ(t.umin(), 0x100u);
    EXPECT_EQ(t.umax(), 0x10fu);
}

TEST(Scalar, NormalizeDeducesViews) {
    // A signed range that does not cross zero is the unsigned one.
    const Scalar neg = Scalar::signed_range(-10, -5);
    EXPECT_EQ(neg.umin(), u(-10));
    EXPECT_EQ(neg.umax(), u(-5));
    EXPECT_EQ(neg.s32_min(), -10);
    EXPECT_EQ(neg.s32_max(), -5);
    // An unsigned range crossing 2^63 says nothing about the signed order...
    const Scalar cross = Scalar::unsigned_range(kS64Max - 1, u(kS64Min) + 1);
    EXPECT_EQ(cross.smin(), kS64Min);
    EXPECT_EQ(cross.smax(), kS64Max);
    // ...but its low halves are a small signed 32-bit range.
    EXPECT_EQ(cross.s32_min(), -2);
    EXPECT_EQ(cross.s32_max(), 1);
    // Low halves wrap when the upper halves differ.
    const Scalar wrap32 = Scalar::unsigned_range(0xfffffffb, 0x100000005);
    EXPECT_EQ(wrap32.u32_min(), 0u);
    EXPECT_EQ(wrap32.u32_max(), 0xffffffffu);
    EXPECT_EQ(wrap32.s32_min(), -5);
    EXPECT_EQ(wrap32.s32_max(), 5);
    // Same upper half: the low halves are the range itself.
    const Scalar same = Scalar::unsigned_range(0x500000010, 0x500000020);
    EXPECT_EQ(same.u32_min(), 0x10u);
    EXPECT_EQ(same.u32_max(), 0x20u);
    // A wide range has unknown low halves.
    const Scalar wide = Scalar::unsigned_range(0x10, 0x100000020);
    EXPECT_EQ(wide.u32_min(), 0u);
    EXPECT_EQ(wide.u32_max(), 0xffffffffu);
    // The tnum bounds the ranges and the ranges bound the tnum.
    EXPECT_EQ(Scalar::unsigned_range(0, 1000).bits(), (Tnum{0, 0x3ff}));
    const auto even = Scalar::from_tnum(Tnum{0, ~u(1)}).meet(Scalar::unsigned_range(3, 9));
    ASSERT_TRUE(even);
    EXPECT_EQ(even->umin(), 4u);
    EXPECT_EQ(even->umax(), 8u);
    // 32-bit facts with the upper half known zero bound the 64-bit value.
    const auto low = Scalar::unknown_of_size(4).meet(Scalar::signed_range(-100, 100));
    ASSERT_TRUE(low);
    EXPECT_EQ(low->umax(), 100u);
}

TEST(Scalar, AddSub) {
    const Scalar r = Scalar::alu(Op::Add, true, Scalar::unsigned_range(0, 255), k(10));
    EXPECT_EQ(r.umin(), 10u);
    EXPECT_EQ(r.umax(), 265u);
    EXPECT_EQ(r.smin(), 10);
    EXPECT_EQ(r.smax(), 265);
    const Scalar both =
        Scalar::alu(Op::Add, true, Scalar::unsigned_range(10, 20), Scalar::unsigned_range(1, 2));
    EXPECT_EQ(both.umin(), 11u);
    EXPECT_EQ(both.umax(), 22u);
    EXPECT_EQ(Scalar::alu(Op::Add, true, k(2), k(3)), k(5));
    // Signed ranges add without regard to the unsigned wrap.
    const Scalar s = Scalar::alu(Op::Add, true, Scalar::signed_range(-5, 5), Scalar::signed_range(-1, 1));
    EXPECT_EQ(s.smin(), -6);
    EXPECT_EQ(s.smax(), 6);
    // Both bounds wrapping past 2^64 is still a range.
    const Scalar wrapped = Scalar::alu(Op::Add, true, Scalar::unsigned_range(kMax - 1, kMax), k(3));
    EXPECT_EQ(wrapped.umin(), 1u);
    EXPECT_EQ(wrapped.umax(), 2u);
    const Scalar sub =
        Scalar::alu(Op::Sub, true, Scalar::unsigned_range(10, 20), Scalar::unsigned_range(0, 5));
    EXPECT_EQ(sub.umin(), 5u);
    EXPECT_EQ(sub.umax(), 20u);
    const Scalar neg = Scalar::alu(Op::Sub, true, Scalar::unsigned_range(0, 100), k(200));
    EXPECT_EQ(neg.smin(), -200);
    EXPECT_EQ(neg.smax(), -100);
    EXPECT_EQ(neg.umin(), u(-200));
    EXPECT_EQ(neg.umax(), u(-100));
    // 32-bit: the low halves add and wrap at 2^32; the result is zero-extended.
    const Scalar a32 = Scalar::alu(Op::Add, false, Scalar::unknown(), k(0));
    EXPECT_EQ(a32.umin(), 0u);
    EXPECT_EQ(a32.umax(), 0xffffffffu);
    EXPECT_EQ(Scalar::alu(Op::Add, false, k(0xffffffff), k(2)), k(1));
    EXPECT_EQ(Scalar::alu(Op::Sub, false, k(0), k(1)), k(0xffffffff));
    // A 64-bit add keeps what it knows of the low half.
    const auto x = Scalar::unknown().meet(Scalar::from_tnum(Tnum{0, ~u(0xffffff00)}));  // low 32 in [0, 255]
    ASSERT_TRUE(x);
    const Scalar low = Scalar::alu(Op::Add, true, *x, k(5));
    EXPECT_EQ(low.u32_min(), 5u);
    EXPECT_EQ(low.u32_max(), 260u);
}

TEST(Scalar, MulDivMod) {
    const Scalar mul = Scalar::alu(Op::Mul, true, Scalar::unsigned_range(0, 255), k(4));
    EXPECT_EQ(mul.umax(), 1020u);
    EXPECT_EQ(mul.bits(), (Tnum{0, 0x3fc}));
    const Scalar smul = Scalar::alu(Op::Mul, true, Scalar::signed_range(-3, 4), Scalar::signed_range(-2, 5));
    EXPECT_EQ(smul.smin(), -15);
    EXPECT_EQ(smul.smax(), 20);
    EXPECT_EQ(Scalar::alu(Op::Mul, false, k(0x10000), k(0x10000)), k(0));

    const Scalar div = Scalar::alu(Op::Div, true, Scalar::unsigned_range(100, 200), k(10));
    EXPECT_EQ(div.umin(), 10u);
    EXPECT_EQ(div.umax(), 20u);
    const Scalar maybe_zero =
        Scalar::alu(Op::Div, true, Scalar::unsigned_range(100, 200), Scalar::unsigned_range(0, 10));
    EXPECT_EQ(maybe_zero.umin(), 0u);
    EXPECT_EQ(maybe_zero.umax(), 200u);
    EXPECT_EQ(Scalar::alu(Op::Div, true, k(7), k(0)), k(0));
    EXPECT_EQ(Scalar::alu(Op::Div, true, Scalar::unknown(), k(1u << 20)).umax(), kMax >> 20);
    EXPECT_EQ(Scalar::alu(Op::Div, false, Scalar::unknown(), k(0x10000)).umax(), 0xffffu);

    const Scalar mod = Scalar::alu(Op::Mod, true, Scalar::unknown(), k(10));
    EXPECT_EQ(mod.umin(), 0u);
    EXPECT_EQ(mod.umax(), 9u);
    EXPECT_EQ(Scalar::alu(Op::Mod, true, Scalar::unsigned_range(0, 5), k(10)), Scalar::unsigned_range(0, 5));
    EXPECT_EQ(Scalar::alu(Op::Mod, true, Scalar::unsigned_range(3, 5), k(0)), Scalar::unsigned_range(3, 5));
    EXPECT_EQ(Scalar::alu(Op::Mod, true, Scalar::unsigned_range(0, 5), k(100)).umax(), 5u);
    EXPECT_EQ(Scalar::alu(Op::Mod, false, Scalar::unknown(), k(1000)).umax(), 999u);
    EXPECT_EQ(Scalar::alu(Op::Mod, true, Scalar::from_tnum(Tnum{0x13, ~u(0xff)}), k(16)), k(3));

    const Scalar sdiv = Scalar::alu(Op::SDiv, true, Scalar::signed_range(-100, 100), k(10));
    EXPECT_EQ(sdiv.smin(), -10);
    EXPECT_EQ(sdiv.smax(), 10);
    EXPECT_EQ(Scalar::alu(Op::SDiv, true, ks(kS64Min), ks(-1)), ks(kS64Min));
    EXPECT_EQ(Scalar::alu(Op::SDiv, false, k(0x80000000), k(0xffffffff)), k(0x80000000));
    EXPECT_EQ(Scalar::alu(Op::SDiv, true, ks(-7), ks(2)), ks(-3));
    const Scalar sdiv_neg = Scalar::alu(Op::SDiv, true, Scalar::signed_range(-100, 50), ks(-10));
    EXPECT_EQ(sdiv_neg.smin(), -5);
    EXPECT_EQ(sdiv_neg.smax(), 10);

    const Scalar smod = Scalar::alu(Op::SMod, true, Scalar::signed_range(-100, 100), k(7));
    EXPECT_EQ(smod.smin(), -6);
    EXPECT_EQ(smod.smax(), 6);
    EXPECT_EQ(Scalar::alu(Op::SMod, true, Scalar::unknown(), ks(-1)), k(0));
    EXPECT_EQ(Scalar::alu(Op::SMod, true, ks(-7), k(0)), ks(-7));
    EXPECT_EQ(Scalar::alu(Op::SMod, true, Scalar::unsigned_range(0, 100), ks(-7)).smax(), 6);
}

TEST(Scalar, Bitwise) {
    const Scalar a = Scalar::alu(Op::And, true, Scalar::unknown(), k(0xff));
    EXPECT_EQ(a.umin(), 0u);
    EXPECT_EQ(a.umax(), 255u);
    EXPECT_EQ(a.smin(), 0);
    EXPECT_EQ(a.bits(), (Tnum{0, 0xff}));
    EXPECT_EQ(
        Scalar::alu(Op::And, true, Scalar::unsigned_range(0, 1000), Scalar::unsigned_range(0, 100)).umax(),
        100u);
    EXPECT_EQ(Scalar::alu(Op::And, false, Scalar::unknown(), ks(-1)), Scalar::unknown_of_size(4));
    const Scalar o = Scalar::alu(Op::Or, true, Scalar::unsigned_range(0, 15), k(0x10));
    EXPECT_EQ(o.umin(), 16u);
    EXPECT_EQ(o.umax(), 31u);
    EXPECT_EQ(Scalar::alu(Op::Or, true, Scalar::signed_range(-8, -1), k(1)).smax(), -1);
    EXPECT_EQ(Scalar::alu(Op::Xor, true, k(0xf0), k(0xff)), k(0x0f));
    const Scalar x = Scalar::alu(Op::Xor, true, Scalar::unsigned_range(0, 7), k(8));
    EXPECT_EQ(x.umin(), 8u);
    EXPECT_EQ(x.umax(), 15u);
}

TEST(Scalar, Shifts) {
    const Scalar l = Scalar::alu(Op::Lsh, true, Scalar::unsigned_range(0, 255), k(8));
    EXPECT_EQ(l.umax(), 0xff00u);
    EXPECT_EQ(l.bits(), (Tnum{0, 0xff00}));
    EXPECT_EQ(Scalar::alu(Op::Lsh, true, k(1), k(64 + 3)), k(8));   // amount masked to 63
    EXPECT_EQ(Scalar::alu(Op::Lsh, false, k(1), k(32 + 3)), k(8));  // amount masked to 31
    EXPECT_EQ(Scalar::alu(Op::Lsh, false, k(0xff), k(28)), k(0xf0000000));
    const Scalar var = Scalar::alu(Op::Lsh, true, Scalar::unsigned_range(1, 3), Scalar::unsigned_range(0, 2));
    EXPECT_EQ(var.umin(), 1u);
    EXPECT_EQ(var.umax(), 12u);

    const Scalar r = Scalar::alu(Op::Rsh, true, Scalar::unknown(), k(60));
    EXPECT_EQ(r.umin(), 0u);
    EXPECT_EQ(r.umax(), 15u);
    const Scalar r32 = Scalar::alu(Op::Rsh, false, Scalar::unknown(), k(28));
    EXPECT_EQ(r32.umax(), 15u);
    const Scalar rvar = Scalar::alu(Op::Rsh, true, Scalar::unsigned_range(0, 1024), Scalar::unknown());
    EXPECT_EQ(rvar.umax(), 1024u);

    const Scalar ar = Scalar::alu(Op::Arsh, true, Scalar::signed_range(-16, 15), k(2));
    EXPECT_EQ(ar.smin(), -4);
    EXPECT_EQ(ar.smax(), 3);
    const Scalar ar_all = Scalar::alu(Op::Arsh, true, Scalar::unknown(), k(60));
    EXPECT_EQ(ar_all.smin(), -8);
    EXPECT_EQ(ar_all.smax(), 7);
    EXPECT_EQ(Scalar::alu(Op::Arsh, false, k(0x80000000), k(31)), k(0xffffffff));
    EXPECT_EQ(Scalar::alu(Op::Arsh, true, k(0x80000000), k(31)), k(1));

    // `x <<= 32; x s>>= 32` sign-extends the low half, and `x <<= 32; x >>= 32` zero-extends it.
    auto low = Scalar::assume(Op::Jsle, true, true, Scalar::unknown(), k(5));
    ASSERT_TRUE(low);
    low = Scalar::assume(Op::Jsge, true, true, low->first, ks(-5));
    ASSERT_TRUE(low);
    const Scalar up = Scalar::alu(Op::Lsh, true, low->first, k(32));
    EXPECT_EQ(up.smin(), -5 * (int64_t{1} << 32));
    EXPECT_EQ(up.smax(), 5 * (int64_t{1} << 32));
    const Scalar sext = Scalar::alu(Op::Arsh, true, up, k(32));
    EXPECT_EQ(sext, Scalar::signed_range(-5, 5));
    auto small = Scalar::assume(Op::Jle, true, true, Scalar::unknown(), k(100));
    ASSERT_TRUE(small);
    const Scalar zext = Scalar::alu(Op::Rsh, true, Scalar::alu(Op::Lsh, true, small->first, k(32)), k(32));
    EXPECT_EQ(zext, Scalar::unsigned_range(0, 100));
}

TEST(Scalar, NegMov) {
    const Scalar n = Scalar::alu(Op::Neg, true, Scalar::unsigned_range(1, 10), Scalar::unknown());
    EXPECT_EQ(n.smin(), -10);
    EXPECT_EQ(n.smax(), -1);
    EXPECT_EQ(Scalar::alu(Op::Neg, true, ks(kS64Min), Scalar()), ks(kS64Min));
    EXPECT_EQ(Scalar::alu(Op::Neg, false, k(1), Scalar()), k(0xffffffff));
    EXPECT_EQ(Scalar::alu(Op::Mov, true, Scalar(), k(7)), k(7));
    EXPECT_EQ(Scalar::alu(Op::Mov, false, Scalar(), k(0xffffffff00000005)), k(5));
    EXPECT_EQ(Scalar::alu(Op::Mov, false, Scalar(), Scalar()), Scalar::unknown_of_size(4));
}

TEST(Scalar, SignExtend) {
    const Scalar b = Scalar::unknown_of_size(1).sign_extend(8, true);
    EXPECT_EQ(b.smin(), -128);
    EXPECT_EQ(b.smax(), 127);
    EXPECT_EQ(k(0x80).sign_extend(8, true), ks(-128));
    EXPECT_EQ(k(0x7f).sign_extend(8, true), k(0x7f));
    EXPECT_EQ(k(0x80).sign_extend(8, false), k(0xffffff80));
    EXPECT_EQ(k(0x12348000).sign_extend(16, true), ks(-32768));
    const Scalar w = Scalar::unknown_of_size(4).sign_extend(32, true);
    EXPECT_EQ(w.smin(), kS32Min);
    EXPECT_EQ(w.smax(), kS32Max);
    const Scalar small = Scalar::unsigned_range(0x100000010, 0x100000020).sign_extend(32, true);
    EXPECT_EQ(small.smin(), 0x10);
    EXPECT_EQ(small.smax(), 0x20);
    const Scalar low = Scalar::unsigned_range(0x1f0, 0x1ff).sign_extend(8, true);
    EXPECT_EQ(low.smin(), -16);
    EXPECT_EQ(low.smax(), -1);
    EXPECT_EQ(ks(-5).sign_extend(32, false), k(0xfffffffb));
}

TEST(Scalar, ByteOrderTruncate) {
    EXPECT_EQ(k(0x1234).byte_order(Op::Swap, 16), k(0x3412));
    EXPECT_EQ(k(0x1234).byte_order(Op::ToBe, 16), k(isa::byte_order(Op::ToBe, 0x1234, 16)));
    EXPECT_EQ(k(0x1122334455667788).byte_order(Op::Swap, 64), k(0x8877665544332211));
    EXPECT_EQ(k(0x1122334455667788).byte_order(Op::Swap, 32), k(0x88776655));
    EXPECT_EQ(Scalar::unknown().byte_order(Op::ToLe, 16), Scalar::unknown_of_size(2));
    EXPECT_EQ(Scalar::unknown().byte_order(Op::Swap, 32), Scalar::unknown_of_size(4));
    const Scalar swapped = Scalar::unsigned_range(0, 255).byte_order(Op::Swap, 16);
    EXPECT_EQ(swapped.bits(), (Tnum{0, 0xff00}));

    const Scalar t = Scalar::unsigned_range(0x100, 0x10f).truncate(1);
    EXPECT_EQ(t.umin(), 0u);
    EXPECT_EQ(t.umax(), 15u);
    EXPECT_EQ(k(0x123456789).truncate(4), k(0x23456789));
    EXPECT_EQ(Scalar::unknown().truncate(2), Scalar::unknown_of_size(2));
    EXPECT_EQ(Scalar::unsigned_range(0xfe, 0x101).truncate(1), Scalar::unknown_of_size(1));
    EXPECT_EQ(Scalar::signed_range(-3, 4).truncate(8), Scalar::signed_range(-3, 4));
}

TEST(Scalar, Compare) {
    const Scalar r = Scalar::unsigned_range(0, 10);
    EXPECT_EQ(Scalar::compare(Op::Jgt, false, r, k(10)), false);
    EXPECT_EQ(Scalar::compare(Op::Jle, false, r, k(10)), true);
    EXPECT_EQ(Scalar::compare(Op::Jgt, false, Scalar::unsigned_range(11, 20), k(10)), true);
    EXPECT_EQ(Scalar::compare(Op::Jgt, false, Scalar::unsigned_range(5, 15), k(10)), std::nullopt);
    EXPECT_EQ(Scalar::compare(Op::Jge, false, r, k(0)), true);
    EXPECT_EQ(Scalar::compare(Op::Jlt, false, r, k(11)), true);
    EXPECT_EQ(Scalar::compare(Op::Jeq, false, k(3), k(3)), true);
    EXPECT_EQ(Scalar::compare(Op::Jeq, false, r, k(11)), false);
    EXPECT_EQ(Scalar::compare(Op::Jne, false, r, k(11)), true);
    EXPECT_EQ(Scalar::compare(Op::Jne, false, r, k(5)), std::nullopt);
    EXPECT_EQ(Scalar::compare(Op::Jeq, false, Scalar::from_tnum(Tnum{0, ~u(1)}), k(3)),
              false);  // even vs odd
    EXPECT_EQ(Scalar::compare(Op::Jset, false, r, k(0xf0)), false);
    EXPECT_EQ(Scalar::compare(Op::Jset, false, Scalar::from_tnum(Tnum{1, ~u(1)}), k(1)), true);
    EXPECT_EQ(Scalar::compare(Op::Jset, false, r, k(1)), std::nullopt);
    EXPECT_EQ(Scalar::compare(Op::Jslt, false, Scalar::signed_range(-5, -1), k(0)), true);
    EXPECT_EQ(Scalar::compare(Op::Jsgt, false, Scalar::signed_range(-5, -1), k(0)), false);
    EXPECT_EQ(Scalar::compare(Op::Jgt, false, Scalar::signed_range(-5, -1), k(0)), true);
    EXPECT_EQ(Scalar::compare(Op::Jsge, false, r, ks(-1)), true);
    EXPECT_EQ(Scalar::compare(Op::Jsle, false, r, ks(-1)), false);
    EXPECT_EQ(Scalar::compare(Op::Ja, false, Scalar(), Scalar()), true);
    // 32-bit compares look at the low halves.
    EXPECT_EQ(Scalar::compare(Op::Jeq, true, k(0x100000005), k(5)), true);
    EXPECT_EQ(Scalar::compare(Op::Jeq, false, k(0x100000005), k(5)), false);
    EXPECT_EQ(Scalar::compare(Op::Jslt, true, k(0x80000000), k(0)), true);
    EXPECT_EQ(Scalar::compare(Op::Jslt, false, k(0x80000000), k(0)), false);
    EXPECT_EQ(Scalar::compare(Op::Jlt, true, Scalar::unknown_of_size(1), k(256)), true);
}

TEST(Scalar, Assume) {
    const Scalar x = Scalar::unknown();
    auto gt = Scalar::assume(Op::Jgt, false, false, x, k(10));
    ASSERT_TRUE(gt);
    EXPECT_EQ(gt->first.umax(), 10u);
    EXPECT_EQ(gt->first.smin(), 0);
    EXPECT_EQ(gt->second, k(10));
    auto taken = Scalar::assume(Op::Jgt, false, true, x, k(10));
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->first.umin(), 11u);
    // Both operands narrow.
    auto lt =
        Scalar::assume(Op::Jlt, false, true, Scalar::unsigned_range(0, 100), Scalar::unsigned_range(50, 200));
    ASSERT_TRUE(lt);
    EXPECT_EQ(lt->first, Scalar::unsigned_range(0, 100));
    EXPECT_EQ(lt->second, Scalar::unsigned_range(50, 200));
    auto ge =
        Scalar::assume(Op::Jge, false, true, Scalar::unsigned_range(0, 100), Scalar::unsigned_range(50, 200));
    ASSERT_TRUE(ge);
    EXPECT_EQ(ge->first, Scalar::unsigned_range(50, 100));
    EXPECT_EQ(ge->second, Scalar::unsigned_range(50, 100));
    auto eq =
        Scalar::assume(Op::Jeq, false, true, Scalar::unsigned_range(0, 100), Scalar::unsigned_range(50, 200));
    ASSERT_TRUE(eq);
    EXPECT_EQ(eq->first, Scalar::unsigned_range(50, 100));
    EXPECT_EQ(eq->second, Scalar::unsigned_range(50, 100));
    auto ne = Scalar::assume(Op::Jne, false, true, Scalar::unsigned_range(0, 10), k(10));
    ASSERT_TRUE(ne);
    EXPECT_EQ(ne->first, Scalar::unsigned_range(0, 9));
    auto ne0 = Scalar::assume(Op::Jeq, false, false, Scalar::unsigned_range(0, 10), k(0));
    ASSERT_TRUE(ne0);
    EXPECT_EQ(ne0->first, Scalar::unsigned_range(1, 10));
    auto nset = Scalar::assume(Op::Jset, false, false, x, k(3));
    ASSERT_TRUE(nset);
    EXPECT_EQ(nset->first.bits(), (Tnum{0, ~u(3)}));
    auto set = Scalar::assume(Op::Jset, false, true, Scalar::unsigned_range(0, 255), k(0x10));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->first.bits(), (Tnum{0x10, 0xef}));
    EXPECT_EQ(set->first.umin(), 0x10u);
    auto sgt = Scalar::assume(Op::Jsgt, false, true, x, k(0));
    ASSERT_TRUE(sgt);
    EXPECT_EQ(sgt->first.smin(), 1);
    EXPECT_EQ(sgt->first.umax(), u(kS64Max));
    auto sle = Scalar::assume(Op::Jsle, false, true, x, ks(-1));
    ASSERT_TRUE(sle);
    EXPECT_EQ(sle->first.smax(), -1);
    EXPECT_EQ(sle->first.umin(), u(1) << 63);
    // 32-bit refines the low half; the upper half of an unknown stays unknown.
    auto lt32 = Scalar::assume(Op::Jlt, true, true, x, k(16));
    ASSERT_TRUE(lt32);
    EXPECT_EQ(lt32->first.u32_max(), 15u);
    EXPECT_EQ(lt32->first.umax(), 0xffffffff0000000fu);
    auto lt32z = Scalar::assume(Op::Jlt, true, true, Scalar::unknown_of_size(4), k(16));
    ASSERT_TRUE(lt32z);
    EXPECT_EQ(lt32z->first, Scalar::unsigned_range(0, 15));
    // Impossible outcomes.
    EXPECT_EQ(Scalar::assume(Op::Jgt, false, true, Scalar::unsigned_range(0, 5), k(10)), std::nullopt);
    EXPECT_EQ(Scalar::assume(Op::Jeq, false, true, Scalar::from_tnum(Tnum{0, ~u(1)}), k(3)), std::nullopt);
    EXPECT_EQ(Scalar::assume(Op::Ja, false, false, x, x), std::nullopt);
    EXPECT_EQ(Scalar::assume(Op::Jne, false, true, k(4), k(4)), std::nullopt);
    EXPECT_EQ(
        Scalar::assume(Op::Jeq, false, true, Scalar::unsigned_range(0, 10), Scalar::unsigned_range(11, 20)),
        std::nullopt);
}

TEST(Scalar, JoinMeetSubsumes) {
    const Scalar j = k(1).join(k(5));
    EXPECT_EQ(j.umin(), 1u);
    EXPECT_EQ(j.umax(), 5u);
    EXPECT_EQ(j.bits(), (Tnum{1, 4}));
    EXPECT_EQ(Scalar::unsigned_range(0, 10).join(Scalar::unsigned_range(20, 30)).umax(), 30u);
    const Scalar sj = ks(-1).join(k(1));
    EXPECT_EQ(sj.smin(), -1);
    EXPECT_EQ(sj.smax(), 1);

    EXPECT_EQ(Scalar::unsigned_range(0, 10).meet(Scalar::unsigned_range(5, 20)),
              Scalar::unsigned_range(5, 10));
    EXPECT_EQ(Scalar::unsigned_range(0, 4).meet(Scalar::unsigned_range(5, 10)), std::nullopt);
    EXPECT_EQ(Scalar::from_tnum(Tnum{0, ~u(1)}).meet(k(3)), std::nullopt);
    EXPECT_EQ(Scalar::from_tnum(Tnum{0, ~u(1)}).meet(Scalar::unsigned_range(5, 5)), std::nullopt);
    EXPECT_EQ(Scalar::signed_range(-5, 5).meet(Scalar::unsigned_range(0, 100)), Scalar::unsigned_range(0, 5));
    EXPECT_EQ(Scalar::unknown().meet(k(7)), k(7));

    EXPECT_TRUE(Scalar::unsigned_range(0, 10).subsumes(k(5)));
    EXPECT_FALSE(k(5).subsumes(Scalar::unsigned_range(0, 10)));
    EXPECT_TRUE(Scalar::unsigned_range(0, 10).subsumes(Scalar::unsigned_range(2, 3)));
    EXPECT_FALSE(Scalar::unsigned_range(0, 10).subsumes(Scalar::unsigned_range(2, 11)));
    EXPECT_TRUE(Scalar::unknown().subsumes(Scalar::signed_range(-5, 5)));
    EXPECT_TRUE(Scalar::signed_range(-5, 5).subsumes(ks(-5)));
    EXPECT_FALSE(Scalar::from_tnum(Tnum{0, ~u(1)}).subsumes(k(3)));
    EXPECT_TRUE(Scalar::from_tnum(Tnum{0, ~u(1)}).subsumes(k(4)));
}

TEST(Scalar, Widen) {
    const int64_t th[] = {-16, 0, 10, 100};
    const Scalar a = Scalar::unsigned_range(0, 1);
    const Scalar w = a.widen(Scalar::unsigned_range(0, 2), th);
    EXPECT_EQ(w.umin(), 0u);
    EXPECT_EQ(w.umax(), 10u);
    EXPECT_EQ(w.smax(), 10);
    EXPECT_EQ(a.widen(Scalar::unsigned_range(0, 2)).umax(), kMax);
    EXPECT_EQ(a.widen(Scalar::unsigned_range(0, 2)).smax(), kS64Max);
    const Scalar s = Scalar::signed_range(-1, 0);
    EXPECT_EQ(s.widen(Scalar::signed_range(-2, 0), th).smin(), -16);
    EXPECT_EQ(s.widen(Scalar::signed_range(-20, 0), th).smin(), kS64Min);
    EXPECT_EQ(s.widen(Scalar::signed_range(-2, 0)).smin(), kS64Min);
    // Nothing grew: unchanged.
    EXPECT_EQ(Scalar::unsigned_range(0, 10).widen(Scalar::unsigned_range(2, 5), th),
              Scalar::unsigned_range(0, 10));
    // A counted loop: i = 0; while (...) i++; stabilizes within a few steps.
    Scalar i = k(0);
    int steps = 0;
    for (; steps < 100; ++steps) {
        const Scalar next = i.widen(i.join(Scalar::alu(Op::Add, true, i, k(1))), th);
        if (next == i) break;
        ASSERT_TRUE(next.subsumes(i));
        i = next;
    }
    EXPECT_LT(steps, 100);
    EXPECT_TRUE(i.contains(1000));
}

TEST(Scalar, ToString) {
    EXPECT_EQ(k(42).to_string(), "42");
    EXPECT_EQ(ks(-3).to_string(), "-3");
    EXPECT_EQ(Scalar::unknown().to_string(), "unknown");
    EXPECT_EQ(Scalar::signed_range(-5, 5).to_string(), "smin=-5,smax=5");
    EXPECT_EQ(Scalar::unsigned_range(0, 255).to_string(), "umax=255,var_off=(0x0; 0xff)");
    EXPECT_EQ(Scalar::unknown_of_size(4).to_string(), "umax=4294967295,var_off=(0x0; 0xffffffff)");
    EXPECT_EQ(Scalar::unsigned_range(10, 20).to_string(), "umin=10,umax=20,var_off=(0x0; 0x1f)");
    // Bounds the tnum implies are printed too, as the kernel does.
    EXPECT_EQ(Scalar::from_tnum(Tnum{0, ~u(7)}).to_string(),
              "smax=9223372036854775800,umax=18446744073709551608,smax32=2147483640,umax32=4294967288,"
              "var_off=(0x0; 0xfffffffffffffff8)");
    const auto lt32 = Scalar::assume(Op::Jlt, true, true, Scalar::unknown(), k(16));
    ASSERT_TRUE(lt32);
    EXPECT_EQ(
        lt32->first.to_string(),
        "smax=9223372032559808527,umax=18446744069414584335,umax32=15,var_off=(0x0; 0xffffffff0000000f)");
}

// ---------------------------------------------------------------------------------------------
// Brute force: abstract values whose members are listed.

struct Sample {
    Scalar value;
    std::vector<uint64_t> members;  // sorted, each is in value (value may hold more)
    bool normalized = true;         // false for widened values, which are left as they are
};

std::vector<uint64_t> range_members(uint64_t lo, uint64_t hi) {
    std::vector<uint64_t> r;
    for (uint64_t v = lo;; ++v) {
        r.push_back(v);
        if (v == hi) break;
    }
    return r;
}

std::vector<Sample> make_samples() {
    std::mt19937_64 rng(20240601);
    std::vector<uint64_t> edges = {0,
                                   1,
                                   2,
                                   3,
                                   7,
                                   8,
                                   15,
                                   31,
                                   32,
                                   33,
                                   63,
                                   64,
                                   0x7f,
                                   0x80,
                                   0xff,
                                   0x100,
                                   0x7fff,
                                   0x8000,
                                   0xffff,
                                   0x7fffffff,
                                   0x80000000,
                                   0xffffffff,
                                   0x100000000,
                                   0x17fffffff,
                                   0x180000000,
                                   0x7fffffffffffffff,
                                   0x8000000000000000,
                                   0x800000007fffffff,
                                   kMax,
                                   kMax - 1,
                                   0xffffffff80000000,
                                   0xffffffff7fffffff,
                                   0xffffffff00000000};
    for (int i = 0; i < 6; ++i) edges.push_back(rng());
    std::vector<Sample> samples;
    auto add = [&](const Scalar& s, std::vector<uint64_t> members, bool normalized = true) {
        std::sort(members.begin(), members.end());
        members.erase(std::unique(members.begin(), members.end()), members.end());
        // Keep at most 16 (any subset of the members will do).
        while (members.size() > 16)
            members.erase(members.begin() + static_cast<std::ptrdiff_t>(rng() % members.size()));
        for (uint64_t m : members) EXPECT_TRUE(s.contains(m)) << s.to_string() << " lost " << m;
        samples.push_back({s, std::move(members), normalized});
    };
    for (uint64_t e : edges) {
        add(k(e), {e});
        for (int variant = 0; variant < 2; ++variant) {
            const uint64_t below = rng() % 9, above = rng() % 8;
            const uint64_t lo = e >= below ? e - below : 0;
            const uint64_t hi = e <= kMax - above ? e + above : kMax;
            add(Scalar::unsigned_range(lo, hi), range_members(lo, hi));
            const auto se = static_cast<int64_t>(e);
            const int64_t slo =
                se >= kS64Min + static_cast<int64_t>(below) ? se - static_cast<int64_t>(below) : kS64Min;
            const int64_t shi =
                se <= kS64Max - static_cast<int64_t>(above) ? se + static_cast<int64_t>(above) : kS64Max;
            std::vector<uint64_t> members;
            for (int64_t v = slo;; ++v) {
                members.push_back(u(v));
                if (v == shi) break;
            }
            add(Scalar::signed_range(slo, shi), members);
        }
    }
    std::vector<SmallTnum> tnums;
    for (int i = 0; i < 60; ++i) {
        tnums.push_back(random_small_tnum(rng));
        add(Scalar::from_tnum(tnums.back().t), tnums.back().members);
    }
    // Tnums within wide ranges (checks that meet and normalize keep every member).
    for (int i = 0; i < 120; ++i) {
        const SmallTnum& t = tnums[rng() % tnums.size()];
        uint64_t a = rng() % 3 ? edges[rng() % edges.size()] : t.members[rng() % t.members.size()];
        uint64_t b = rng() % 3 ? edges[rng() % edges.size()] : t.members[rng() % t.members.size()];
        const bool is_signed = rng() % 2;
        Scalar range;
        if (is_signed) {
            if (static_cast<int64_t>(a) > static_cast<int64_t>(b)) std::swap(a, b);
            range = Scalar::signed_range(static_cast<int64_t>(a), static_cast<int64_t>(b));
        } else {
            if (a > b) std::swap(a, b);
            range = Scalar::unsigned_range(a, b);
        }
        std::vector<uint64_t> members;
        for (uint64_t m : t.members) {
            if (is_signed ? static_cast<int64_t>(m) >= static_cast<int64_t>(a) &&
                                static_cast<int64_t>(m) <= static_cast<int64_t>(b)
                          : m >= a && m <= b)
                members.push_back(m);
        }
        const auto met = Scalar::from_tnum(t.t).meet(range);
        if (members.empty()) {
            EXPECT_EQ(met, std::nullopt) << range.to_string() << " " << Scalar::from_tnum(t.t).to_string();
            continue;
        }
        EXPECT_TRUE(met) << range.to_string() << " " << Scalar::from_tnum(t.t).to_string();
        if (met) add(*met, members);
    }
    // Branch refinements against constants near members (often on the low halves).
    const size_t base_count = samples.size();
    for (int i = 0; i < 150; ++i) {
        const Sample base = samples[rng() % base_count];
        const uint64_t m = base.members[rng() % base.members.size()];
        uint64_t c = m + (rng() % 5) - 2;
        if (rng() % 2) c &= 0xffffffff;
        const Op op = kJumpOps[1 + rng() % (kJumpOps.size() - 1)];
        const bool is32 = rng() % 2, outcome = rng() % 2;
        std::vector<uint64_t> members;
        for (uint64_t v : base.members)
            if (concrete_condition(op, is32, v, c) == outcome) members.push_back(v);
        const auto r = Scalar::assume(op, is32, outcome, base.value, k(c));
        if (members.empty()) continue;
        EXPECT_TRUE(r) << base.value.to_string() << " op " << static_cast<int>(op) << " " << c;
        if (r) add(r->first, members);
    }
    // Values made by the other operations, with the results of their members: mixes of views
    // that the constructors do not give (32-bit facts under unknown upper halves, wrapped
    // ranges, widened bounds).
    const size_t simple_count = samples.size();
    const int64_t thresholds[] = {-1000, -1, 0, 1, 255, 65536};
    for (int i = 0; i < 300; ++i) {
        const Sample a = samples[rng() % simple_count];
        const Sample b = samples[rng() % simple_count];
        std::vector<uint64_t> members;
        switch (rng() % 5) {
            case 0: {
                const Op op = kAluOps[rng() % kAluOps.size()];
                const bool is64 = rng() % 2;
                for (uint64_t d : a.members)
                    for (uint64_t s : b.members) members.push_back(concrete_alu(op, is64, d, s));
                add(Scalar::alu(op, is64, a.value, b.value), members);
                break;
            }
            case 1: {
                const unsigned bits = 8u << (rng() % 3);
                const bool is64 = rng() % 2;
                for (uint64_t d : a.members)
                    members.push_back(isa::sign_extend(d, bits) & (is64 ? kMax : 0xffffffff));
                add(a.value.sign_extend(bits, is64), members);
                break;
            }
            case 2:
                members = a.members;
                members.insert(members.end(), b.members.begin(), b.members.end());
                add(a.value.join(b.value), members);
                break;
            default:
                members = a.members;
                members.insert(members.end(), b.members.begin(), b.members.end());
                add(a.value.widen(b.value, thresholds), members, false);
                break;
        }
    }
    return samples;
}

const std::vector<Sample>& samples() {
    static const std::vector<Sample> all = make_samples();
    return all;
}

std::string describe(const Sample& s) {
    return s.value.to_string();
}

// The value is exactly the interval of its members.
bool is_plain_range(const Sample& s) {
    return s.normalized && s.members.size() == s.value.umax() - s.value.umin() + 1 &&
           s.members.front() == s.value.umin();
}

TEST(ScalarBruteForce, SamplesKeepMembers) {
    // Building the samples checks each keeps its members; also check normalization is stable.
    ASSERT_GT(samples().size(), 700u);
    for (const Sample& s : samples()) {
        if (!s.normalized) continue;
        const auto again = s.value.meet(Scalar::unknown());
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, s.value) << describe(s);
    }
}

TEST(ScalarBruteForce, AluSound) {
    const auto& all = samples();
    std::mt19937_64 rng(7);
    for (Op op : kAluOps) {
        for (bool is64 : {true, false}) {
            for (int iter = 0; iter < 15000; ++iter) {
                const Sample& a = all[rng() % all.size()];
                const Sample& b = all[rng() % all.size()];
                const Scalar r = Scalar::alu(op, is64, a.value, b.value);
                for (uint64_t d : a.members) {
                    for (uint64_t s : b.members) {
                        const uint64_t c = concrete_alu(op, is64, d, s);
                        ASSERT_TRUE(r.contains(c))
                            << "op " << static_cast<int>(op) << (is64 ? " alu64 " : " alu32 ") << describe(a)
                            << " (" << d << ") , " << describe(b) << " (" << s << ") = " << r.to_string()
                            << " lacks " << c;
                    }
                }
                if (a.normalized && b.normalized) {
                    const auto again = r.meet(Scalar::unknown());
                    ASSERT_TRUE(again);
                    ASSERT_EQ(*again, r) << "not normalized: " << r.to_string();
                }
            }
        }
    }
}

TEST(ScalarBruteForce, AddSubPreciseOnRanges) {
    // Without wrapping, the sum and difference of two unsigned ranges are exact hulls.
    const auto& all = samples();
    for (size_t i = 0; i < all.size(); i += 3) {
        for (size_t j = 0; j < all.size(); j += 5) {
            const Sample& a = all[i];
            const Sample& b = all[j];
            if (!is_plain_range(a) || !is_plain_range(b)) continue;
            if (a.value.umax() > (u(1) << 62) || b.value.umax() > (u(1) << 62)) continue;
            const Scalar add = Scalar::alu(Op::Add, true, a.value, b.value);
            EXPECT_EQ(add.umin(), a.value.umin() + b.value.umin());
            EXPECT_EQ(add.umax(), a.value.umax() + b.value.umax());
            if (a.value.umin() >= b.value.umax()) {
                const Scalar sub = Scalar::alu(Op::Sub, true, a.value, b.value);
                EXPECT_EQ(sub.umin(), a.value.umin() - b.value.umax());
                EXPECT_EQ(sub.umax(), a.value.umax() - b.value.umin());
            }
        }
    }
}

TEST(ScalarBruteForce, UnarySound) {
    for (const Sample& a : samples()) {
        for (bool is64 : {true, false}) {
            for (unsigned bits : {8u, 16u, 32u}) {
                const Scalar r = a.value.sign_extend(bits, is64);
                for (uint64_t v : a.members) {
                    uint64_t c = isa::sign_extend(v, bits);
                    if (!is64) c &= 0xffffffff;
                    ASSERT_TRUE(r.contains(c)) << describe(a) << " sext" << bits << " " << v;
                }
            }
        }
        for (Op op : {Op::ToLe, Op::ToBe, Op::Swap}) {
            for (unsigned bits : {16u, 32u, 64u}) {
                const Scalar r = a.value.byte_order(op, bits);
                for (uint64_t v : a.members)
                    ASSERT_TRUE(r.contains(isa::byte_order(op, v, bits))) << describe(a) << " bswap" << bits;
            }
        }
        for (unsigned bytes : {1u, 2u, 4u, 8u}) {
            const Scalar r = a.value.truncate(bytes);
            for (uint64_t v : a.members)
                ASSERT_TRUE(r.contains(bytes == 8 ? v : v & ((u(1) << (8 * bytes)) - 1)))
                    << describe(a) << " trunc" << bytes << " " << v;
        }
    }
}

TEST(ScalarBruteForce, CompareAndAssumeSound) {
    const auto& all = samples();
    std::mt19937_64 rng(11);
    int decided = 0;
    for (int iter = 0; iter < 10000; ++iter) {
        const Sample& a = all[rng() % all.size()];
        // Often compare against a constant near a member, as programs do.
        Sample constant;
        if (rng() % 2) {
            uint64_t c = a.members[rng() % a.members.size()] + (rng() % 3) - 1;
            constant = {k(c), {c}};
        }
        const Sample& b = constant.members.empty() ? all[rng() % all.size()] : constant;
        for (Op op : kJumpOps) {
            for (bool is32 : {false, true}) {
                bool any[2] = {false, false};
                for (uint64_t d : a.members)
                    for (uint64_t s : b.members) any[concrete_condition(op, is32, d, s)] = true;
                const auto known = Scalar::compare(op, is32, a.value, b.value);
                if (known) {
                    ++decided;
                    ASSERT_FALSE(any[!*known]) << "op " << static_cast<int>(op) << " is32 " << is32 << " "
                                               << describe(a) << " vs " << describe(b);
                }
                for (bool outcome : {false, true}) {
                    const auto r = Scalar::assume(op, is32, outcome, a.value, b.value);
                    if (!r) {
                        ASSERT_FALSE(any[outcome])
                            << "op " << static_cast<int>(op) << " is32 " << is32 << " outcome " << outcome
                            << " " << describe(a) << " vs " << describe(b);
                        continue;
                    }
                    for (uint64_t d : a.members) {
                        for (uint64_t s : b.members) {
                            if (concrete_condition(op, is32, d, s) != outcome) continue;
                            ASSERT_TRUE(r->first.contains(d) && r->second.contains(s))
                                << "op " << static_cast<int>(op) << " is32 " << is32 << " outcome " << outcome
                                << " " << describe(a) << " (" << d << ") vs " << describe(b) << " (" << s
                                << ") -> " << r->first.to_string() << " / " << r->second.to_string();
                        }
                    }
                }
            }
        }
    }
    EXPECT_GT(decided, 10000);
}

TEST(ScalarBruteForce, CompareExactOnRanges) {
    // On plain ranges (no gaps), an ordering compare is decided exactly when every pair agrees.
    std::vector<Sample> ranges;
    for (const Sample& s : samples()) {
        if (is_plain_range(s)) ranges.push_back(s);
    }
    ASSERT_GT(ranges.size(), 50u);
    for (const Sample& a : ranges) {
        for (const Sample& b : ranges) {
            for (Op op : {Op::Jgt, Op::Jge, Op::Jlt, Op::Jle, Op::Jeq, Op::Jne}) {
                bool any[2] = {false, false};
                for (uint64_t d : a.members)
                    for (uint64_t s : b.members) any[concrete_condition(op, false, d, s)] = true;
                const auto known = Scalar::compare(op, false, a.value, b.value);
                if (any[0] != any[1]) {
                    ASSERT_EQ(known, std::optional<bool>(any[1])) << describe(a) << " vs " << describe(b);
                } else {
                    ASSERT_EQ(known, std::nullopt);
                }
            }
        }
    }
}

TEST(ScalarBruteForce, LatticeSound) {
    const auto& all = samples();
    std::mt19937_64 rng(13);
    const int64_t th[] = {-4096, -1, 0, 1, 16, 255, 4096, 0x7fffffff};
    for (int iter = 0; iter < 40000; ++iter) {
        const Sample& a = all[rng() % all.size()];
        const Sample& b = all[rng() % all.size()];
        const Scalar j = a.value.join(b.value);
        const Scalar w = a.value.widen(b.value, th);
        const Scalar wj = a.value.widen(j);
        // join normalizes its result, which may tighten a widened (not normalized) operand's bounds.
        if (a.normalized && b.normalized) {
            ASSERT_TRUE(j.subsumes(a.value) && j.subsumes(b.value)) << describe(a) << " " << describe(b);
        }
        ASSERT_TRUE(w.subsumes(a.value) && w.subsumes(b.value));
        ASSERT_TRUE(wj.subsumes(a.value) && wj.subsumes(j));
        for (const Sample* s : {&a, &b}) {
            for (uint64_t v : s->members) {
                ASSERT_TRUE(j.contains(v) && w.contains(v) && wj.contains(v))
                    << describe(a) << " " << describe(b);
            }
        }
        if (a.value.subsumes(b.value)) {
            for (uint64_t v : b.members) ASSERT_TRUE(a.value.contains(v));
        }
        // A constant is subsumed exactly when it is a member.
        const uint64_t c = b.members[rng() % b.members.size()];
        ASSERT_EQ(a.value.subsumes(k(c)), a.value.contains(c)) << describe(a) << " " << c;
        const auto m = a.value.meet(b.value);
        bool common = false;
        for (uint64_t v : a.members) {
            if (!b.value.contains(v)) continue;
            common = common || std::find(b.members.begin(), b.members.end(), v) != b.members.end();
            ASSERT_TRUE(m && m->contains(v)) << describe(a) << " meet " << describe(b) << " lost " << v;
        }
        if (!m) {
            ASSERT_FALSE(common);
        }
    }
}

TEST(ScalarBruteForce, WideningChainsStop) {
    const auto& all = samples();
    std::mt19937_64 rng(17);
    const int64_t th[] = {-100, 0, 100, 1000};
    for (int chain = 0; chain < 200; ++chain) {
        Scalar x = all[rng() % all.size()].value;
        int changes = 0;
        for (int step = 0; step < 300; ++step) {
            const Scalar next = x.widen(x.join(all[rng() % all.size()].value), th);
            ASSERT_TRUE(next.subsumes(x));
            if (!(next == x)) ++changes;
            x = next;
        }
        // Each of the 8 bounds moves at most once per threshold plus once to its limit, and the
        // tnum loses at most 64 known bits.
        EXPECT_LE(changes, 8 * 5 + 64);
    }
}

}  // namespace
}  // namespace bpfvm::verifier
