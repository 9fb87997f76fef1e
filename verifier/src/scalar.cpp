// The numeric domain: tnum arithmetic and the reduced product of intervals and a tnum.
//
// Each operation computes its result view by view (unsigned and signed intervals at the
// operation's width, and the tnum), then normalize() lets the views tighten one another.
// Intervals that may wrap are handled exactly: a set of consecutive integers, taken modulo
// 2^width, is a circular interval, which gives an unsigned interval when it does not wrap past
// the top and a signed interval when it does not wrap past the sign boundary.
#include "scalar.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <limits>

#include "bpfvm/isa/semantics.hpp"

namespace bpfvm::verifier {

namespace {

using u128 = unsigned __int128;
using i128 = __int128;
using isa::Op;

constexpr uint64_t kAll = ~uint64_t{0};
constexpr uint64_t kLow32 = 0xffff'ffffu;
constexpr uint64_t kSign64 = uint64_t{1} << 63;
constexpr uint32_t kSign32 = uint32_t{1} << 31;

constexpr uint64_t low_mask(unsigned n) {
    return n >= 64 ? kAll : (uint64_t{1} << n) - 1;
}
// std::has_single_bit without a popcount call on targets that lack the instruction.
constexpr bool single_bit(uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

// An operation width: all 64 bits, or the low 32 bits (then unsigned values are below 2^32 and
// signed ones are the low 32 bits read as int32, held in an int64).
struct Width {
    unsigned bits;
    constexpr uint64_t mask() const { return low_mask(bits); }
    constexpr uint64_t sign() const { return uint64_t{1} << (bits - 1); }
    constexpr int64_t smax() const { return static_cast<int64_t>(mask() >> 1); }
    constexpr int64_t smin() const { return -smax() - 1; }
    constexpr int64_t to_signed(uint64_t v) const {
        v &= mask();
        return static_cast<int64_t>((v ^ sign()) - sign());
    }
    constexpr uint64_t to_unsigned(int64_t v) const { return static_cast<uint64_t>(v) & mask(); }
};
constexpr Width k64{64};
constexpr Width k32{32};

constexpr Tnum restrict_to(Tnum t, Width w) {
    return {t.value & w.mask(), t.mask & w.mask()};
}

// The values at one width, as the three views an operation computes.
struct View {
    uint64_t umin;
    uint64_t umax;
    int64_t smin;
    int64_t smax;
    Tnum t;
};

constexpr View full_view(Width w) {
    return {0, w.mask(), w.smin(), w.smax(), Tnum{0, w.mask()}};
}

constexpr View constant_view(Width w, uint64_t c) {
    c &= w.mask();
    return {c, c, w.to_signed(c), w.to_signed(c), Tnum::constant(c)};
}

// The single value of a view, if any view pins it.
constexpr std::optional<uint64_t> constant_of(const View& v, Width w) {
    if (v.umin == v.umax) return v.umin;
    if (v.smin == v.smax) return w.to_unsigned(v.smin);
    if (v.t.is_constant()) return v.t.value;
    return std::nullopt;
}

View hull(const View& a, const View& b) {
    return {std::min(a.umin, b.umin), std::max(a.umax, b.umax), std::min(a.smin, b.smin),
            std::max(a.smax, b.smax), a.t.join(b.t)};
}

// Intersects v's intervals with the values start, start + 1, ..., start + span (mod 2^width).
void meet_circular(View& v, Width w, uint64_t start, u128 span) {
    const uint64_t m = w.mask();
    if (span > m) return;
    const uint64_t x = start & m;
    const uint64_t y = (x + static_cast<uint64_t>(span)) & m;
    if (x <= y) {
        v.umin = std::max(v.umin, x);
        v.umax = std::min(v.umax, y);
    }
    if ((x ^ w.sign()) <= (y ^ w.sign())) {
        v.smin = std::max(v.smin, w.to_signed(x));
        v.smax = std::min(v.smax, w.to_signed(y));
    }
}

constexpr uint64_t uspan(const View& v) {
    return v.umax - v.umin;
}
constexpr uint64_t sspan(const View& v) {
    return static_cast<uint64_t>(v.smax) - static_cast<uint64_t>(v.smin);
}

// --- Tnum search: the members of a tnum nearest to a value --------------------------------------

// Moves x up to the smallest member of t that is >= x (t and x within a width); false if none.
// (Out-parameters rather than std::optional: these run inside every normalization.)
bool tnum_ceil(Tnum t, uint64_t& x) {
    const uint64_t conflict = (x ^ t.value) & ~t.mask;
    if (conflict == 0) return true;
    const unsigned k = 63 - static_cast<unsigned>(std::countl_zero(conflict));
    const uint64_t bit_k = uint64_t{1} << k;
    if (t.value & bit_k) {
        // x has a 0 where t has a known 1: keep x's higher bits, set bit k, the rest minimal.
        x = (x & ~low_mask(k + 1)) | bit_k | (t.value & (bit_k - 1));
        return true;
    }
    // x has a 1 where t has a known 0: the higher bits must grow; raise the lowest unknown bit
    // above k that x has clear and make everything below it minimal.
    const uint64_t raisable = t.mask & ~x & ~low_mask(k + 1);
    if (raisable == 0) return false;
    const unsigned j = static_cast<unsigned>(std::countr_zero(raisable));
    const uint64_t bit_j = uint64_t{1} << j;
    x = (x & ~low_mask(j + 1)) | bit_j | (t.value & (bit_j - 1));
    return true;
}

// Moves x down to the largest member of t that is <= x; false if none (the complement of the
// smallest member >= ~x of the complement).
bool tnum_floor(Tnum t, uint64_t& x, Width w) {
    const uint64_t m = w.mask();
    uint64_t c = ~x & m;
    if (!tnum_ceil(Tnum{~t.value & ~t.mask & m, t.mask}, c)) return false;
    x = ~c & m;
    return true;
}

// t narrowed to the members of `other` too; false if none.
bool meet_tnum(Tnum& t, Tnum other) {
    if ((t.value ^ other.value) & ~t.mask & ~other.mask) return false;
    t.mask &= other.mask;
    t.value = (t.value | other.value) & ~t.mask;
    return true;
}

// [lo, hi] (unsigned, within w) shrunk to its smallest and largest members of t.
bool tighten_by_tnum(uint64_t& lo, uint64_t& hi, Tnum t, Width w) {
    if (t.mask == w.mask()) return lo <= hi;  // nothing known
    return tnum_ceil(t, lo) && tnum_floor(t, hi, w) && lo <= hi;
}

// The same in signed order (flipping the sign bit maps signed order to unsigned order).
bool tighten_signed_by_tnum(int64_t& lo, int64_t& hi, Tnum t, Width w) {
    const uint64_t flip = w.sign();
    uint64_t l = w.to_unsigned(lo) ^ flip;
    uint64_t h = w.to_unsigned(hi) ^ flip;
    if (!tighten_by_tnum(l, h, Tnum{t.value ^ (flip & ~t.mask), t.mask}, w)) return false;
    lo = w.to_signed(l ^ flip);
    hi = w.to_signed(h ^ flip);
    return true;
}

// [lo, hi] (unsigned order) shrunk to the values also in the circular interval from x up to y
// (wrapping past the top when x > y).
bool clip(uint64_t& lo, uint64_t& hi, uint64_t x, uint64_t y) {
    if (x <= y) {
        lo = std::max(lo, x);
        hi = std::min(hi, y);
    } else {
        if (lo > y) lo = std::max(lo, x);
        if (hi < x) hi = std::min(hi, y);
    }
    return lo <= hi;
}

// The smallest value >= a whose low 32 bits lie in the circular interval [x, y].
bool ceil_low32(uint64_t& a, uint32_t x, uint32_t y) {
    const auto l = static_cast<uint32_t>(a);
    const uint64_t high = a & ~kLow32;
    if (x <= y ? (l >= x && l <= y) : (l >= x || l <= y)) return true;
    if (l < x) {
        a = high | x;
        return true;
    }
    if (high == ~kLow32) return false;
    a = (high + (uint64_t{1} << 32)) | x;
    return true;
}

// The largest value <= a whose low 32 bits lie in the circular interval [x, y].
bool floor_low32(uint64_t& a, uint32_t x, uint32_t y) {
    const auto l = static_cast<uint32_t>(a);
    const uint64_t high = a & ~kLow32;
    if (x <= y ? (l >= x && l <= y) : (l >= x || l <= y)) return true;
    if (l > y) {
        a = high | y;
        return true;
    }
    if (high == 0) return false;
    a = (high - (uint64_t{1} << 32)) | y;
    return true;
}

// --- Operations on views --------------------------------------------------------------------------

View op_add(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = restrict_to(a.t.add(b.t), w);
    meet_circular(r, w, a.umin + b.umin, u128{uspan(a)} + uspan(b));
    meet_circular(r, w, static_cast<uint64_t>(a.smin) + static_cast<uint64_t>(b.smin),
                  u128{sspan(a)} + sspan(b));
    return r;
}

View op_sub(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = restrict_to(a.t.sub(b.t), w);
    meet_circular(r, w, a.umin - b.umax, u128{uspan(a)} + uspan(b));
    meet_circular(r, w, static_cast<uint64_t>(a.smin) - static_cast<uint64_t>(b.smax),
                  u128{sspan(a)} + sspan(b));
    return r;
}

View op_mul(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = restrict_to(a.t.mul(b.t), w);
    const u128 lo = u128{a.umin} * b.umin;
    const u128 hi = u128{a.umax} * b.umax;
    if (lo <= hi) meet_circular(r, w, static_cast<uint64_t>(lo), hi - lo);
    const i128 c[4] = {i128{a.smin} * b.smin, i128{a.smin} * b.smax, i128{a.smax} * b.smin,
                       i128{a.smax} * b.smax};
    const i128 slo = std::min({c[0], c[1], c[2], c[3]});
    const i128 shi = std::max({c[0], c[1], c[2], c[3]});
    meet_circular(r, w, static_cast<uint64_t>(slo), static_cast<u128>(shi - slo));
    return r;
}

View op_and(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = a.t.bit_and(b.t);
    r.umin = r.t.min();
    r.umax = std::min({a.umax, b.umax, r.t.max()});
    if (a.smin >= 0 || b.smin >= 0) {
        // x & y lies in [0, y] for a non-negative y.
        r.smin = 0;
        r.smax = std::min(a.smin >= 0 ? a.smax : w.smax(), b.smin >= 0 ? b.smax : w.smax());
    } else if (a.smax < 0 && b.smax < 0) {
        // Both negative: the result is negative and at most either (unsigned order).
        r.smax = std::min(a.smax, b.smax);
    }
    return r;
}

View op_or(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = a.t.bit_or(b.t);
    r.umin = std::max({a.umin, b.umin, r.t.min()});
    r.umax = r.t.max();
    if (a.smin >= 0 && b.smin >= 0) {
        r.smin = std::max(a.smin, b.smin);
    } else {
        // A negative operand makes the result negative and no smaller than it.
        if (a.smax < 0) r.smin = std::max(r.smin, a.smin), r.smax = -1;
        if (b.smax < 0) r.smin = std::max(r.smin, b.smin), r.smax = -1;
    }
    return r;
}

View op_xor(Width w, const View& a, const View& b) {
    View r = full_view(w);
    r.t = a.t.bit_xor(b.t);
    r.umin = r.t.min();
    r.umax = r.t.max();
    return r;
}

View shl_const(Width w, const View& a, unsigned k) {
    View r = full_view(w);
    r.t = restrict_to(a.t.shift_left(k), w);
    meet_circular(r, w, a.umin << k, u128{uspan(a)} << k);
    meet_circular(r, w, static_cast<uint64_t>(a.smin) << k, u128{sspan(a)} << k);
    return r;
}

View shr_const(Width w, const View& a, unsigned k) {
    if (k == 0) return a;
    View r = full_view(w);
    r.t = a.t.shift_right(k);
    r.umin = a.umin >> k;
    r.umax = a.umax >> k;
    return r;
}

View arsh_const(Width w, const View& a, unsigned k) {
    View r = full_view(w);
    r.t = a.t.shift_right_arith(k, w.bits);
    r.smin = a.smin >> k;
    r.smax = a.smax >> k;
    return r;
}

// A shift by the amounts in b (masked to the width): by a known amount, or the hull over every
// possible amount.
template <typename F>
View op_shift(Width w, const View& a, const View& b, F by_const) {
    const uint64_t amount_mask = w.bits - 1;
    const Tnum amounts = Tnum{b.t.value & amount_mask, b.t.mask & amount_mask};
    uint64_t lo = amounts.min();
    uint64_t hi = amounts.max();
    if (b.umax <= amount_mask) {
        lo = std::max(lo, b.umin);
        hi = std::min(hi, b.umax);
    }
    std::optional<View> r;
    for (uint64_t k = lo; k <= hi; ++k) {
        if (!amounts.contains(k)) continue;
        View v = by_const(w, a, static_cast<unsigned>(k));
        r = r ? hull(*r, v) : v;
    }
    return r ? *r : full_view(w);
}

View op_udiv(Width w, const View& a, const View& b) {
    if (b.umax == 0) return constant_view(w, 0);  // x / 0 = 0
    if (auto c = constant_of(b, w); c && single_bit(*c))
        return shr_const(w, a, static_cast<unsigned>(std::countr_zero(*c)));
    View r = full_view(w);
    const uint64_t dmin = std::max<uint64_t>(b.umin, 1);
    r.umin = b.umin == 0 ? 0 : a.umin / b.umax;
    r.umax = a.umax / dmin;
    return r;
}

View op_umod(Width w, const View& a, const View& b) {
    if (b.umax == 0) return a;  // x % 0 = x
    if (auto c = constant_of(b, w); c && single_bit(*c)) return op_and(w, a, constant_view(w, *c - 1));
    // Every non-zero divisor exceeds every dividend: x % y = x (and x % 0 = x).
    if (a.umax < std::max<uint64_t>(b.umin, 1)) return a;
    View r = full_view(w);
    r.umin = 0;
    r.umax = b.umin > 0 ? std::min(a.umax, b.umax - 1) : a.umax;
    return r;
}

// The hull of signed intervals, built piece by piece.
struct SignedHull {
    bool any = false;
    int64_t lo = 0;
    int64_t hi = 0;
    void add(int64_t l, int64_t h) {
        lo = any ? std::min(lo, l) : l;
        hi = any ? std::max(hi, h) : h;
        any = true;
    }
};

// The range of trunc(x / d) for x in [a.smin, a.smax], d in [p, q] with 0 and -1 outside [p, q]:
// monotone in each argument, so the corners bound it.
void sdiv_corners(SignedHull& h, const View& a, int64_t p, int64_t q) {
    const int64_t c[4] = {a.smin / p, a.smin / q, a.smax / p, a.smax / q};
    h.add(std::min({c[0], c[1], c[2], c[3]}), std::max({c[0], c[1], c[2], c[3]}));
}

View op_sdiv(Width w, const View& a, const View& b) {
    SignedHull h;
    if (b.smin <= 0 && b.smax >= 0) h.add(0, 0);  // x / 0 = 0
    if (b.smin <= -1 && b.smax >= -1) {
        // x / -1 = -x, where -INT_MIN wraps to INT_MIN.
        if (a.smin == w.smin())
            h.add(w.smin(), a.smax == w.smin() ? w.smin() : w.smax());
        else
            h.add(-a.smax, -a.smin);
    }
    if (b.smax >= 1) sdiv_corners(h, a, std::max<int64_t>(b.smin, 1), b.smax);
    if (b.smin <= -2) sdiv_corners(h, a, b.smin, std::min<int64_t>(b.smax, -2));
    View r = full_view(w);
    if (h.any) r.smin = h.lo, r.smax = h.hi;
    return r;
}

View op_smod(Width w, const View& a, const View& b) {
    SignedHull h;
    if (b.smin <= 0 && b.smax >= 0) h.add(a.smin, a.smax);  // x % 0 = x
    if (b.smin <= -1 && b.smax >= -1) h.add(0, 0);          // x % -1 = 0
    if (b.smin < -1 || b.smax > 0) {
        // Other divisors: the remainder has the dividend's sign, |r| <= |x| and |r| < |d|.
        const uint64_t pos = b.smax > 0 ? static_cast<uint64_t>(b.smax) : 0;
        const uint64_t neg = b.smin < -1 ? uint64_t{0} - static_cast<uint64_t>(b.smin) : 0;
        const uint64_t limit = std::max(pos, neg) - 1;
        const int64_t hi =
            a.smax <= 0 ? 0 : static_cast<int64_t>(std::min(static_cast<uint64_t>(a.smax), limit));
        const int64_t lo =
            a.smin >= 0 ? 0
                        : -static_cast<int64_t>(std::min(uint64_t{0} - static_cast<uint64_t>(a.smin), limit));
        h.add(lo, hi);
    }
    View r = full_view(w);
    if (h.any) r.smin = h.lo, r.smax = h.hi;
    return r;
}

View op_view(Op op, Width w, const View& a, const View& b) {
    switch (op) {
        case Op::Add: return op_add(w, a, b);
        case Op::Sub: return op_sub(w, a, b);
        case Op::Mul: return op_mul(w, a, b);
        case Op::Div: return op_udiv(w, a, b);
        case Op::SDiv: return op_sdiv(w, a, b);
        case Op::Mod: return op_umod(w, a, b);
        case Op::SMod: return op_smod(w, a, b);
        case Op::And: return op_and(w, a, b);
        case Op::Or: return op_or(w, a, b);
        case Op::Xor: return op_xor(w, a, b);
        case Op::Lsh: return op_shift(w, a, b, shl_const);
        case Op::Rsh: return op_shift(w, a, b, shr_const);
        case Op::Arsh: return op_shift(w, a, b, arsh_const);
        case Op::Neg: return op_sub(w, constant_view(w, 0), a);
        case Op::Mov: return b;
        default: return full_view(w);
    }
}

// Ops whose low 32 result bits depend only on the operands' low 32 bits, the same at 32 and 64
// bits: the 64-bit result's 32-bit views are the 32-bit op's.
constexpr bool keeps_low_bits(Op op) {
    switch (op) {
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
        case Op::And:
        case Op::Or:
        case Op::Xor:
        case Op::Neg:
        case Op::Mov: return true;
        default: return false;
    }
}

// Every shift amount in b (masked to 63) is at least 32.
constexpr bool shifts_out_high_half(const View& b) {
    return (b.t.value & 32) != 0 || (b.umin >= 32 && b.umax <= 63);
}

// --- Conditions -------------------------------------------------------------------------------------

std::optional<bool> negate(std::optional<bool> b) {
    if (!b) return std::nullopt;
    return !*b;
}

bool disjoint(const View& a, const View& b) {
    return a.umin > b.umax || b.umin > a.umax || a.smin > b.smax || b.smin > a.smax ||
           ((a.t.value ^ b.t.value) & ~a.t.mask & ~b.t.mask) != 0;
}

std::optional<bool> compare_views(Op op, Width w, const View& a, const View& b) {
    switch (op) {
        case Op::Ja: return true;
        case Op::Jeq: {
            if (disjoint(a, b)) return false;
            auto ca = constant_of(a, w);
            auto cb = constant_of(b, w);
            if (ca && cb && *ca == *cb) return true;
            return std::nullopt;
        }
        case Op::Jne: return negate(compare_views(Op::Jeq, w, a, b));
        case Op::Jgt:
            if (a.umin > b.umax) return true;
            if (a.umax <= b.umin) return false;
            return std::nullopt;
        case Op::Jge:
            if (a.umin >= b.umax) return true;
            if (a.umax < b.umin) return false;
            return std::nullopt;
        case Op::Jlt: return compare_views(Op::Jgt, w, b, a);
        case Op::Jle: return compare_views(Op::Jge, w, b, a);
        case Op::Jsgt:
            if (a.smin > b.smax) return true;
            if (a.smax <= b.smin) return false;
            return std::nullopt;
        case Op::Jsge:
            if (a.smin >= b.smax) return true;
            if (a.smax < b.smin) return false;
            return std::nullopt;
        case Op::Jslt: return compare_views(Op::Jsgt, w, b, a);
        case Op::Jsle: return compare_views(Op::Jsge, w, b, a);
        case Op::Jset:
            if (a.t.value & b.t.value) return true;
            if ((a.t.max() & b.t.max()) == 0 || a.umax == 0 || b.umax == 0) return false;
            return std::nullopt;
        default: return std::nullopt;
    }
}

bool valid(const View& v) {
    return v.umin <= v.umax && v.smin <= v.smax;
}

// x > y (unsigned).
bool refine_ugt(Width w, View& x, View& y) {
    if (y.umin == w.mask() || x.umax == 0) return false;
    x.umin = std::max(x.umin, y.umin + 1);
    y.umax = std::min(y.umax, x.umax - 1);
    return valid(x) && valid(y);
}

bool refine_uge(View& x, View& y) {
    x.umin = std::max(x.umin, y.umin);
    y.umax = std::min(y.umax, x.umax);
    return valid(x) && valid(y);
}

bool refine_sgt(Width w, View& x, View& y) {
    if (y.smin == w.smax() || x.smax == w.smin()) return false;
    x.smin = std::max(x.smin, y.smin + 1);
    y.smax = std::min(y.smax, x.smax - 1);
    return valid(x) && valid(y);
}

bool refine_sge(View& x, View& y) {
    x.smin = std::max(x.smin, y.smin);
    y.smax = std::min(y.smax, x.smax);
    return valid(x) && valid(y);
}

bool refine_eq(View& x, View& y) {
    auto t = x.t.intersect(y.t);
    if (!t) return false;
    View m{std::max(x.umin, y.umin), std::min(x.umax, y.umax), std::max(x.smin, y.smin),
           std::min(x.smax, y.smax), *t};
    x = y = m;
    return valid(m);
}

// x != c: trims c off x's bounds (and off a two-member tnum).
bool exclude_constant(Width w, View& x, uint64_t c) {
    if (x.umin == c) {
        if (x.umax == c) return false;
        ++x.umin;
    } else if (x.umax == c) {
        --x.umax;
    }
    const int64_t sc = w.to_signed(c);
    if (x.smin == sc) {
        if (x.smax == sc) return false;
        ++x.smin;
    } else if (x.smax == sc) {
        --x.smax;
    }
    if (x.t.is_constant() && x.t.value == c) return false;
    if (single_bit(x.t.mask) && x.t.contains(c)) x.t = Tnum::constant(c ^ x.t.mask);
    return valid(x);
}

bool refine_ne(Width w, View& x, View& y) {
    if (auto c = constant_of(y, w); c && !exclude_constant(w, x, *c)) return false;
    if (auto c = constant_of(x, w); c && !exclude_constant(w, y, *c)) return false;
    return true;
}

// x & y != 0: each has a bit the other may have, so each is at least the lowest such bit.
bool refine_set(View& x, View& y) {
    const uint64_t common = x.t.max() & y.t.max();
    if (common == 0) return false;
    const uint64_t lowest = uint64_t{1} << std::countr_zero(common);
    x.umin = std::max(x.umin, lowest);
    y.umin = std::max(y.umin, lowest);
    // A single possible common bit is known set in both.
    if (single_bit(common)) {
        auto tx = x.t.intersect(Tnum{common, ~common});
        auto ty = y.t.intersect(Tnum{common, ~common});
        if (!tx || !ty) return false;
        x.t = *tx;
        y.t = *ty;
    }
    return valid(x) && valid(y);
}

// x & y == 0: a bit known set in one is clear in the other.
bool refine_nset(View& x, View& y) {
    if (x.t.value & y.t.value) return false;
    x.t.mask &= ~y.t.value;
    y.t.mask &= ~x.t.value;
    return true;
}

// --- Widening and printing --------------------------------------------------------------------------

// The smallest threshold >= v within the type (else the type's maximum).
i128 widen_up(i128 v, std::span<const int64_t> th, i128 type_max) {
    auto it = std::lower_bound(th.begin(), th.end(), v, [](int64_t t, i128 x) { return i128{t} < x; });
    if (it != th.end() && i128{*it} <= type_max) return *it;
    return type_max;
}

// The largest threshold <= v within the type (else the type's minimum).
i128 widen_down(i128 v, std::span<const int64_t> th, i128 type_min) {
    auto it = std::upper_bound(th.begin(), th.end(), v, [](i128 x, int64_t t) { return x < i128{t}; });
    if (it != th.begin() && i128{*(it - 1)} >= type_min) return *(it - 1);
    return type_min;
}

template <typename T>
void append_number(std::string& out, T v, int base = 10) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v, base);
    out.append(buf, res.ptr);
}

template <typename T>
void append_entry(std::string& out, const char* name, T v) {
    if (!out.empty()) out += ',';
    out += name;
    out += '=';
    append_number(out, v);
}

}  // namespace

// --- Tnum -------------------------------------------------------------------------------------------

Tnum Tnum::range(uint64_t min, uint64_t max) {
    const uint64_t differ = min ^ max;
    if (differ == 0) return constant(min);
    const unsigned width = 64 - static_cast<unsigned>(std::countl_zero(differ));
    const uint64_t low = low_mask(width);
    return {min & ~low, low};
}

bool Tnum::contains(Tnum other) const {
    return (other.mask & ~mask) == 0 && (other.value & ~mask) == value;
}

Tnum Tnum::add(Tnum other) const {
    const uint64_t mask_sum = mask + other.mask;
    const uint64_t value_sum = value + other.value;
    // Bits where the sum with every unknown bit set differs from the sum with none set had a
    // carry that depends on unknown bits.
    const uint64_t carries = (mask_sum + value_sum) ^ value_sum;
    const uint64_t unknown = carries | mask | other.mask;
    return {value_sum & ~unknown, unknown};
}

Tnum Tnum::sub(Tnum other) const {
    const uint64_t diff = value - other.value;
    // The largest and smallest differences bound the bits a borrow may reach.
    const uint64_t borrows = (diff + mask) ^ (diff - other.mask);
    const uint64_t unknown = borrows | mask | other.mask;
    return {diff & ~unknown, unknown};
}

Tnum Tnum::mul(Tnum other) const {
    if (is_constant() && other.is_constant()) return constant(value * other.value);
    // Shift-and-add over this tnum's bits: the known product of the known parts, plus for
    // each bit of this that is set (or may be) the other's unknown part (or all of it), shifted.
    const uint64_t known_product = value * other.value;
    Tnum uncertain = constant(0);
    Tnum a = *this;
    Tnum b = other;
    while (a.value != 0 || a.mask != 0) {
        if (a.value & 1)
            uncertain = uncertain.add(Tnum{0, b.mask});
        else if (a.mask & 1)
            uncertain = uncertain.add(Tnum{0, b.value | b.mask});
        a = a.shift_right(1);
        b = b.shift_left(1);
    }
    return constant(known_product).add(uncertain);
}

Tnum Tnum::bit_and(Tnum other) const {
    const uint64_t v = value & other.value;
    return {v, (value | mask) & (other.value | other.mask) & ~v};
}

Tnum Tnum::bit_or(Tnum other) const {
    const uint64_t v = value | other.value;
    return {v, (mask | other.mask) & ~v};
}

Tnum Tnum::bit_xor(Tnum other) const {
    const uint64_t unknown = mask | other.mask;
    return {(value ^ other.value) & ~unknown, unknown};
}

Tnum Tnum::shift_left(unsigned amount) const {
    amount &= 63;
    return {value << amount, mask << amount};
}

Tnum Tnum::shift_right(unsigned amount) const {
    amount &= 63;
    return {value >> amount, mask >> amount};
}

Tnum Tnum::shift_right_arith(unsigned amount, unsigned width) const {
    if (width == 32) {
        amount = std::min(amount, 31u);
        const auto v = static_cast<int32_t>(static_cast<uint32_t>(value));
        const auto m = static_cast<int32_t>(static_cast<uint32_t>(mask));
        return {static_cast<uint32_t>(v >> amount), static_cast<uint32_t>(m >> amount)};
    }
    amount = std::min(amount, 63u);
    return {static_cast<uint64_t>(static_cast<int64_t>(value) >> amount),
            static_cast<uint64_t>(static_cast<int64_t>(mask) >> amount)};
}

std::optional<Tnum> Tnum::intersect(Tnum other) const {
    if ((value ^ other.value) & ~mask & ~other.mask) return std::nullopt;
    const uint64_t unknown = mask & other.mask;
    return Tnum{(value | other.value) & ~unknown, unknown};
}

Tnum Tnum::join(Tnum other) const {
    const uint64_t unknown = mask | other.mask | (value ^ other.value);
    return {value & ~unknown, unknown};
}

Tnum Tnum::truncate(unsigned bytes) const {
    if (bytes >= 8) return *this;
    const uint64_t m = low_mask(8 * bytes);
    return {value & m, mask & m};
}

// --- Scalar internals -------------------------------------------------------------------------------

struct ScalarImpl {
    static View view(const Scalar& s, Width w) {
        if (w.bits == 64) return {s.umin_, s.umax_, s.smin_, s.smax_, s.bits_};
        return {s.u32_min_, s.u32_max_, s.s32_min_, s.s32_max_, restrict_to(s.bits_, k32)};
    }

    // Replaces the views of width w (for 32: the low-32 views and the tnum's low bits).
    static void set_view(Scalar& s, Width w, const View& v) {
        if (w.bits == 64) {
            s.umin_ = v.umin;
            s.umax_ = v.umax;
            s.smin_ = v.smin;
            s.smax_ = v.smax;
            s.bits_ = v.t;
            return;
        }
        s.u32_min_ = static_cast<uint32_t>(v.umin);
        s.u32_max_ = static_cast<uint32_t>(v.umax);
        s.s32_min_ = static_cast<int32_t>(v.smin);
        s.s32_max_ = static_cast<int32_t>(v.smax);
        s.bits_ = {(s.bits_.value & ~kLow32) | (v.t.value & kLow32),
                   (s.bits_.mask & ~kLow32) | (v.t.mask & kLow32)};
    }

    // A 32-bit result, zero-extended to 64 bits.
    static Scalar from_view32(const View& v) {
        Scalar s;
        s.umin_ = 0;
        s.umax_ = kLow32;
        s.smin_ = 0;
        s.smax_ = static_cast<int64_t>(kLow32);
        s.bits_ = Tnum{0, kLow32};
        set_view(s, k32, v);
        s.normalize();
        return s;
    }

    static bool ordered(const Scalar& s) {
        return s.umin_ <= s.umax_ && s.smin_ <= s.smax_ && s.u32_min_ <= s.u32_max_ &&
               s.s32_min_ <= s.s32_max_ && (s.bits_.value & s.bits_.mask) == 0;
    }

    // The tnum's bounds tighten the intervals.
    static bool tnum_to_bounds(Scalar& s) {
        if (!tighten_by_tnum(s.umin_, s.umax_, s.bits_, k64)) return false;
        if (!tighten_signed_by_tnum(s.smin_, s.smax_, s.bits_, k64)) return false;
        const Tnum low = restrict_to(s.bits_, k32);
        uint64_t ulo = s.u32_min_, uhi = s.u32_max_;
        int64_t slo = s.s32_min_, shi = s.s32_max_;
        if (!tighten_by_tnum(ulo, uhi, low, k32) || !tighten_signed_by_tnum(slo, shi, low, k32)) return false;
        s.u32_min_ = static_cast<uint32_t>(ulo);
        s.u32_max_ = static_cast<uint32_t>(uhi);
        s.s32_min_ = static_cast<int32_t>(slo);
        s.s32_max_ = static_cast<int32_t>(shi);
        return true;
    }

    // Signed and unsigned 64-bit intervals tighten each other.
    static bool sync64(Scalar& s) {
        if (!clip(s.umin_, s.umax_, static_cast<uint64_t>(s.smin_), static_cast<uint64_t>(s.smax_)))
            return false;
        uint64_t lo = static_cast<uint64_t>(s.smin_) ^ kSign64;
        uint64_t hi = static_cast<uint64_t>(s.smax_) ^ kSign64;
        if (!clip(lo, hi, s.umin_ ^ kSign64, s.umax_ ^ kSign64)) return false;
        s.smin_ = static_cast<int64_t>(lo ^ kSign64);
        s.smax_ = static_cast<int64_t>(hi ^ kSign64);
        return true;
    }

    // Tightens the 32-bit intervals to the circular interval [x, y] of low halves.
    static bool clip32(Scalar& s, uint32_t x, uint32_t y) {
        uint64_t ulo = s.u32_min_, uhi = s.u32_max_;
        if (!clip(ulo, uhi, x, y)) return false;
        uint64_t slo = static_cast<uint32_t>(s.s32_min_) ^ kSign32;
        uint64_t shi = static_cast<uint32_t>(s.s32_max_) ^ kSign32;
        if (!clip(slo, shi, x ^ kSign32, y ^ kSign32)) return false;
        s.u32_min_ = static_cast<uint32_t>(ulo);
        s.u32_max_ = static_cast<uint32_t>(uhi);
        s.s32_min_ = static_cast<int32_t>(static_cast<uint32_t>(slo) ^ kSign32);
        s.s32_max_ = static_cast<int32_t>(static_cast<uint32_t>(shi) ^ kSign32);
        return true;
    }

    // Signed and unsigned 32-bit intervals tighten each other.
    static bool sync32(Scalar& s) {
        return clip32(s, static_cast<uint32_t>(s.s32_min_), static_cast<uint32_t>(s.s32_max_)) &&
               clip32(s, s.u32_min_, s.u32_max_);
    }

    // A 64-bit interval spanning fewer than 2^32 values has its low halves in a circular interval.
    static bool low_from_64(Scalar& s) {
        if (s.umax_ - s.umin_ <= kLow32 &&
            !clip32(s, static_cast<uint32_t>(s.umin_), static_cast<uint32_t>(s.umax_)))
            return false;
        if (static_cast<uint64_t>(s.smax_) - static_cast<uint64_t>(s.smin_) <= kLow32 &&
            !clip32(s, static_cast<uint32_t>(s.smin_), static_cast<uint32_t>(s.smax_)))
            return false;
        return true;
    }

    // The 64-bit bounds move to the nearest values whose low halves the 32-bit views allow.
    static bool high_from_32(Scalar& s) {
        const uint32_t ranges[2][2] = {
            {s.u32_min_, s.u32_max_}, {static_cast<uint32_t>(s.s32_min_), static_cast<uint32_t>(s.s32_max_)}};
        uint64_t slo = static_cast<uint64_t>(s.smin_) ^ kSign64;
        uint64_t shi = static_cast<uint64_t>(s.smax_) ^ kSign64;
        for (const auto& r : ranges) {
            if (!ceil_low32(s.umin_, r[0], r[1]) || !floor_low32(s.umax_, r[0], r[1]) ||
                !ceil_low32(slo, r[0], r[1]) || !floor_low32(shi, r[0], r[1]))
                return false;
        }
        if (s.umin_ > s.umax_ || slo > shi) return false;
        s.smin_ = static_cast<int64_t>(slo ^ kSign64);
        s.smax_ = static_cast<int64_t>(shi ^ kSign64);
        return true;
    }

    // The intervals' tnums tighten the tnum.
    static bool bounds_to_tnum(Scalar& s) {
        const Tnum low = Tnum::range(s.u32_min_, s.u32_max_);
        return meet_tnum(s.bits_, Tnum::range(s.umin_, s.umax_)) &&
               meet_tnum(s.bits_, Tnum{low.value, low.mask | ~kLow32});
    }

    // normalize(), reporting an empty set as false.
    static bool reduce(Scalar& s) {
        if (!ordered(s)) return false;
        for (int round = 0; round < 4; ++round) {
            const Scalar before = s;
            if (!tnum_to_bounds(s) || !sync64(s) || !low_from_64(s) || !sync32(s) || !high_from_32(s) ||
                !sync64(s) || !bounds_to_tnum(s))
                return false;
            if (s == before) break;
        }
        return true;
    }

    static bool refine(Op op, bool outcome, Width w, View& a, View& b) {
        switch (op) {
            case Op::Jeq: return outcome ? refine_eq(a, b) : refine_ne(w, a, b);
            case Op::Jne: return outcome ? refine_ne(w, a, b) : refine_eq(a, b);
            case Op::Jgt: return outcome ? refine_ugt(w, a, b) : refine_uge(b, a);
            case Op::Jge: return outcome ? refine_uge(a, b) : refine_ugt(w, b, a);
            case Op::Jlt: return outcome ? refine_ugt(w, b, a) : refine_uge(a, b);
            case Op::Jle: return outcome ? refine_uge(b, a) : refine_ugt(w, a, b);
            case Op::Jsgt: return outcome ? refine_sgt(w, a, b) : refine_sge(b, a);
            case Op::Jsge: return outcome ? refine_sge(a, b) : refine_sgt(w, b, a);
            case Op::Jslt: return outcome ? refine_sgt(w, b, a) : refine_sge(a, b);
            case Op::Jsle: return outcome ? refine_sge(b, a) : refine_sgt(w, a, b);
            case Op::Jset: return outcome ? refine_set(a, b) : refine_nset(a, b);
            default: return true;
        }
    }
};

// --- Scalar -----------------------------------------------------------------------------------------

Scalar::Scalar()
    : smin_(std::numeric_limits<int64_t>::min()),
      smax_(std::numeric_limits<int64_t>::max()),
      umin_(0),
      umax_(kAll),
      s32_min_(std::numeric_limits<int32_t>::min()),
      s32_max_(std::numeric_limits<int32_t>::max()),
      u32_min_(0),
      u32_max_(std::numeric_limits<uint32_t>::max()),
      bits_(Tnum::unknown()) {}

Scalar Scalar::constant(uint64_t value) {
    Scalar s;
    s.umin_ = s.umax_ = value;
    s.smin_ = s.smax_ = static_cast<int64_t>(value);
    s.u32_min_ = s.u32_max_ = static_cast<uint32_t>(value);
    s.s32_min_ = s.s32_max_ = static_cast<int32_t>(static_cast<uint32_t>(value));
    s.bits_ = Tnum::constant(value);
    return s;
}

Scalar Scalar::unsigned_range(uint64_t min, uint64_t max) {
    Scalar s;
    s.umin_ = min;
    s.umax_ = max;
    s.normalize();
    return s;
}

Scalar Scalar::signed_range(int64_t min, int64_t max) {
    Scalar s;
    s.smin_ = min;
    s.smax_ = max;
    s.normalize();
    return s;
}

Scalar Scalar::unknown_of_size(unsigned bytes) {
    if (bytes >= 8) return unknown();
    return unsigned_range(0, low_mask(8 * bytes));
}

Scalar Scalar::from_tnum(Tnum bits) {
    Scalar s;
    s.bits_ = bits;
    s.normalize();
    return s;
}

bool Scalar::is_constant() const {
    return umin_ == umax_ || smin_ == smax_ || bits_.is_constant();
}

uint64_t Scalar::constant_value() const {
    if (umin_ == umax_) return umin_;
    if (smin_ == smax_) return static_cast<uint64_t>(smin_);
    return bits_.value;
}

bool Scalar::contains(uint64_t value) const {
    const auto s = static_cast<int64_t>(value);
    const auto low = static_cast<uint32_t>(value);
    const auto slow = static_cast<int32_t>(low);
    return value >= umin_ && value <= umax_ && s >= smin_ && s <= smax_ && low >= u32_min_ &&
           low <= u32_max_ && slow >= s32_min_ && slow <= s32_max_ && bits_.contains(value);
}

void Scalar::normalize() {
    if (!ScalarImpl::reduce(*this)) {
        // No value fits every view (only reachable from operands that were empty without it
        // being detected): any answer is sound; the least surprising one is "anything".
        *this = Scalar();
    }
}

bool Scalar::subsumes(const Scalar& other) const {
    return umin_ <= other.umin_ && umax_ >= other.umax_ && smin_ <= other.smin_ && smax_ >= other.smax_ &&
           u32_min_ <= other.u32_min_ && u32_max_ >= other.u32_max_ && s32_min_ <= other.s32_min_ &&
           s32_max_ >= other.s32_max_ && bits_.contains(other.bits_);
}

Scalar Scalar::join(const Scalar& other) const {
    Scalar r;
    r.umin_ = std::min(umin_, other.umin_);
    r.umax_ = std::max(umax_, other.umax_);
    r.smin_ = std::min(smin_, other.smin_);
    r.smax_ = std::max(smax_, other.smax_);
    r.u32_min_ = std::min(u32_min_, other.u32_min_);
    r.u32_max_ = std::max(u32_max_, other.u32_max_);
    r.s32_min_ = std::min(s32_min_, other.s32_min_);
    r.s32_max_ = std::max(s32_max_, other.s32_max_);
    r.bits_ = bits_.join(other.bits_);
    r.normalize();
    return r;
}

Scalar Scalar::widen(const Scalar& next, std::span<const int64_t> thresholds) const {
    // Not normalized afterwards: tightening a widened bound could let it grow again, and a
    // chain of widenings must stop.
    Scalar r = *this;
    const auto& th = thresholds;
    if (next.umin_ < umin_) r.umin_ = static_cast<uint64_t>(widen_down(next.umin_, th, 0));
    if (next.umax_ > umax_) r.umax_ = static_cast<uint64_t>(widen_up(next.umax_, th, kAll));
    if (next.smin_ < smin_)
        r.smin_ = static_cast<int64_t>(widen_down(next.smin_, th, std::numeric_limits<int64_t>::min()));
    if (next.smax_ > smax_)
        r.smax_ = static_cast<int64_t>(widen_up(next.smax_, th, std::numeric_limits<int64_t>::max()));
    if (next.u32_min_ < u32_min_) r.u32_min_ = static_cast<uint32_t>(widen_down(next.u32_min_, th, 0));
    if (next.u32_max_ > u32_max_) r.u32_max_ = static_cast<uint32_t>(widen_up(next.u32_max_, th, kLow32));
    if (next.s32_min_ < s32_min_)
        r.s32_min_ = static_cast<int32_t>(widen_down(next.s32_min_, th, std::numeric_limits<int32_t>::min()));
    if (next.s32_max_ > s32_max_)
        r.s32_max_ = static_cast<int32_t>(widen_up(next.s32_max_, th, std::numeric_limits<int32_t>::max()));
    r.bits_ = bits_.join(next.bits_);
    return r;
}

std::optional<Scalar> Scalar::meet(const Scalar& other) const {
    auto t = bits_.intersect(other.bits_);
    if (!t) return std::nullopt;
    Scalar r;
    r.umin_ = std::max(umin_, other.umin_);
    r.umax_ = std::min(umax_, other.umax_);
    r.smin_ = std::max(smin_, other.smin_);
    r.smax_ = std::min(smax_, other.smax_);
    r.u32_min_ = std::max(u32_min_, other.u32_min_);
    r.u32_max_ = std::min(u32_max_, other.u32_max_);
    r.s32_min_ = std::max(s32_min_, other.s32_min_);
    r.s32_max_ = std::min(s32_max_, other.s32_max_);
    r.bits_ = *t;
    if (!ScalarImpl::reduce(r)) return std::nullopt;
    return r;
}

Scalar Scalar::alu(isa::Op op, bool is64, const Scalar& dst, const Scalar& src) {
    if (op == Op::Mov) return is64 ? src : src.truncate(4);
    if (!is64)
        return ScalarImpl::from_view32(
            op_view(op, k32, ScalarImpl::view(dst, k32), ScalarImpl::view(src, k32)));
    Scalar r;
    const View src64 = ScalarImpl::view(src, k64);
    View wide = op_view(op, k64, ScalarImpl::view(dst, k64), src64);
    if (op == Op::Lsh && shifts_out_high_half(src64)) {
        // x << k for k >= 32 depends on the low half only, and the 32-bit views may know more
        // about it (the `x << 32 s>> 32` sign extension clang emits).
        const View alt = op_shift(k64, ScalarImpl::view(dst, k32), src64, shl_const);
        if (meet_tnum(wide.t, alt.t)) {
            wide.umin = std::max(wide.umin, alt.umin);
            wide.umax = std::min(wide.umax, alt.umax);
            wide.smin = std::max(wide.smin, alt.smin);
            wide.smax = std::min(wide.smax, alt.smax);
        }
    }
    ScalarImpl::set_view(r, k64, wide);
    if (keeps_low_bits(op)) {
        const View low = op_view(op, k32, ScalarImpl::view(dst, k32), ScalarImpl::view(src, k32));
        const Tnum wide = r.bits_;
        ScalarImpl::set_view(r, k32, low);
        // Both tnums are sound; keep what either knows.
        if (auto t = wide.intersect(r.bits_)) r.bits_ = *t;
    }
    r.normalize();
    return r;
}

Scalar Scalar::sign_extend(unsigned from_bits, bool is64) const {
    // From 32 bits or more, the low half is unchanged.
    if (!is64 && from_bits >= 32) return truncate(4);
    if (from_bits >= 64) return *this;
    if (from_bits == 0) return is64 ? unknown() : unknown_of_size(4);
    const unsigned b = from_bits;
    const uint64_t sign = uint64_t{1} << (b - 1);
    // The low b bits as a signed b-bit interval.
    int64_t lo = -static_cast<int64_t>(sign);
    int64_t hi = static_cast<int64_t>(sign - 1);
    if (b == 32) {
        lo = s32_min_;
        hi = s32_max_;
    } else if (b < 32 && u32_max_ - u32_min_ <= low_mask(b)) {
        const uint64_t m = low_mask(b);
        const uint64_t x = u32_min_ & m;
        const uint64_t y = u32_max_ & m;
        if ((x ^ sign) <= (y ^ sign)) {
            lo = static_cast<int64_t>((x ^ sign) - sign);
            hi = static_cast<int64_t>((y ^ sign) - sign);
        }
    }
    const Tnum t = bits_.shift_left(64 - b).shift_right_arith(64 - b, 64);
    Scalar r;
    if (b > 32) {
        // 33..63 bits (not an ISA width): the tnum and the low half carry over.
        r.bits_ = t;
        r.u32_min_ = u32_min_;
        r.u32_max_ = u32_max_;
        r.s32_min_ = s32_min_;
        r.s32_max_ = s32_max_;
        r.normalize();
        return r;
    }
    r.s32_min_ = static_cast<int32_t>(lo);
    r.s32_max_ = static_cast<int32_t>(hi);
    if (b == 32) {
        r.u32_min_ = u32_min_;
        r.u32_max_ = u32_max_;
    }
    if (is64) {
        r.smin_ = lo;
        r.smax_ = hi;
        r.bits_ = t;
    } else {
        r.umin_ = 0;
        r.umax_ = kLow32;
        r.smin_ = 0;
        r.smax_ = static_cast<int64_t>(kLow32);
        r.bits_ = restrict_to(t, k32);
    }
    r.normalize();
    return r;
}

Scalar Scalar::byte_order(isa::Op op, unsigned bits) const {
    const unsigned bytes = bits == 16 ? 2 : bits == 32 ? 4 : 8;
    if (isa::byte_order(op, 1, bits) == 1) return truncate(bytes);  // no swap: a truncation
    // A byte swap permutes bits: the tnum follows exactly.
    return from_tnum(Tnum{isa::byte_order(op, bits_.value, bits), isa::byte_order(op, bits_.mask, bits)});
}

Scalar Scalar::truncate(unsigned bytes) const {
    if (bytes >= 8) return *this;
    if (bytes == 0) return constant(0);
    const unsigned b = 8 * bytes;
    const uint64_t m = low_mask(b);
    Scalar r;
    r.bits_ = bits_.truncate(bytes);
    r.umin_ = 0;
    r.umax_ = m;
    if (b == 32) {
        r.umin_ = r.u32_min_ = u32_min_;
        r.umax_ = r.u32_max_ = u32_max_;
        r.s32_min_ = s32_min_;
        r.s32_max_ = s32_max_;
    } else {
        // The low b bits of consecutive values: an interval unless they wrap.
        const uint64_t lo = b < 32 ? u32_min_ : umin_;
        const uint64_t hi = b < 32 ? u32_max_ : umax_;
        if (hi - lo <= m && (lo & m) <= (hi & m)) {
            r.umin_ = lo & m;
            r.umax_ = hi & m;
        }
    }
    r.normalize();
    return r;
}

std::optional<bool> Scalar::compare(isa::Op op, bool is32, const Scalar& dst, const Scalar& src) {
    const Width w = is32 ? k32 : k64;
    return compare_views(op, w, ScalarImpl::view(dst, w), ScalarImpl::view(src, w));
}

std::optional<std::pair<Scalar, Scalar>> Scalar::assume(isa::Op op, bool is32, bool outcome,
                                                        const Scalar& dst, const Scalar& src) {
    const Width w = is32 ? k32 : k64;
    View a = ScalarImpl::view(dst, w);
    View b = ScalarImpl::view(src, w);
    if (auto known = compare_views(op, w, a, b)) {
        if (*known != outcome) return std::nullopt;
        return std::pair{dst, src};
    }
    if (!ScalarImpl::refine(op, outcome, w, a, b)) return std::nullopt;
    std::pair<Scalar, Scalar> r{dst, src};
    ScalarImpl::set_view(r.first, w, a);
    ScalarImpl::set_view(r.second, w, b);
    if (!ScalarImpl::reduce(r.first) || !ScalarImpl::reduce(r.second)) return std::nullopt;
    return r;
}

std::string Scalar::to_string() const {
    std::string out;
    if (is_constant()) {
        if (smin_ < 0)
            append_number(out, static_cast<int64_t>(constant_value()));
        else
            append_number(out, constant_value());
        return out;
    }
    constexpr int64_t kS64Min = std::numeric_limits<int64_t>::min();
    constexpr int64_t kS64Max = std::numeric_limits<int64_t>::max();
    constexpr int32_t kS32Min = std::numeric_limits<int32_t>::min();
    constexpr int32_t kS32Max = std::numeric_limits<int32_t>::max();
    // 64 bits: when the signed range is non-negative it is the unsigned one.
    const bool same64 =
        smin_ >= 0 && static_cast<uint64_t>(smin_) == umin_ && static_cast<uint64_t>(smax_) == umax_;
    if (!same64) {
        if (smin_ != kS64Min) append_entry(out, "smin", smin_);
        if (smax_ != kS64Max) append_entry(out, "smax", smax_);
    }
    if (umin_ != 0) append_entry(out, "umin", umin_);
    if (umax_ != kAll) append_entry(out, "umax", umax_);
    // 32 bits: omitted where the 64-bit ranges already say it.
    const bool s32_implied = s32_min_ == smin_ && s32_max_ == smax_;
    const bool u32_implied = u32_min_ == umin_ && u32_max_ == umax_;
    const bool same32 = s32_min_ >= 0 && static_cast<uint32_t>(s32_min_) == u32_min_ &&
                        static_cast<uint32_t>(s32_max_) == u32_max_;
    if (!s32_implied && !(same32 && !u32_implied)) {
        if (s32_min_ != kS32Min) append_entry(out, "smin32", s32_min_);
        if (s32_max_ != kS32Max) append_entry(out, "smax32", s32_max_);
    }
    if (!u32_implied && !(same32 && s32_implied)) {
        if (u32_min_ != 0) append_entry(out, "umin32", u32_min_);
        if (u32_max_ != std::numeric_limits<uint32_t>::max()) append_entry(out, "umax32", u32_max_);
    }
    if (bits_.mask != kAll) {
        if (!out.empty()) out += ',';
        out += "var_off=(0x";
        append_number(out, bits_.value, 16);
        out += "; 0x";
        append_number(out, bits_.mask, 16);
        out += ')';
    }
    if (out.empty()) out = "unknown";
    return out;
}

}  // namespace bpfvm::verifier
