// The verifier's numeric domain: what a register or stack slot may hold as a set of 64-bit
// values. A Scalar is the reduced product of four intervals (signed and unsigned, over 64 bits
// and over the low 32 bits) and a tnum (which bits are known), the same shape as the Linux
// verifier's register bounds, so programs written against that verifier keep the facts they
// rely on: `x &= 0xff` bounds x, `if (x < n)` bounds x, `x >> 60` is small.
//
// Every operation is sound: for any concrete values inside its operands, the concrete result
// (as isa/semantics.hpp defines it) is inside the abstract result.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "bpfvm/isa/opcode_table.hpp"

namespace bpfvm::verifier {

// Known bits: a bit set in `mask` is unknown, the others are `value`'s. Invariant: value & mask
// == 0.
struct Tnum {
    uint64_t value = 0;
    uint64_t mask = ~uint64_t{0};

    static constexpr Tnum constant(uint64_t v) { return {v, 0}; }
    static constexpr Tnum unknown() { return {0, ~uint64_t{0}}; }
    // The smallest tnum holding every value of [min, max] (unsigned).
    static Tnum range(uint64_t min, uint64_t max);

    bool is_constant() const { return mask == 0; }
    bool contains(uint64_t v) const { return (v & ~mask) == value; }
    // Every value of `other` is one of this tnum's.
    bool contains(Tnum other) const;
    uint64_t min() const { return value; }
    uint64_t max() const { return value | mask; }

    Tnum add(Tnum other) const;
    Tnum sub(Tnum other) const;
    Tnum mul(Tnum other) const;
    Tnum bit_and(Tnum other) const;
    Tnum bit_or(Tnum other) const;
    Tnum bit_xor(Tnum other) const;
    Tnum shift_left(unsigned amount) const;                         // amount < 64
    Tnum shift_right(unsigned amount) const;                        // logical, amount < 64
    Tnum shift_right_arith(unsigned amount, unsigned width) const;  // width 32 or 64
    // Values in both (nullopt: none); values in either (over-approximated).
    std::optional<Tnum> intersect(Tnum other) const;
    Tnum join(Tnum other) const;
    // The low `bytes` bytes, zero-extended.
    Tnum truncate(unsigned bytes) const;

    bool operator==(const Tnum&) const = default;
};

class Scalar {
 public:
    // Any 64-bit value.
    Scalar();
    static Scalar constant(uint64_t value);
    static Scalar unknown() { return Scalar(); }
    static Scalar unsigned_range(uint64_t min, uint64_t max);  // min <= max
    static Scalar signed_range(int64_t min, int64_t max);      // min <= max
    // What a zero-extending load of `bytes` bytes of unknown memory gives: [0, 2^(8*bytes) - 1].
    static Scalar unknown_of_size(unsigned bytes);
    static Scalar from_tnum(Tnum bits);

    bool is_constant() const;
    uint64_t constant_value() const;  // only when is_constant()
    bool contains(uint64_t value) const;

    uint64_t umin() const { return umin_; }
    uint64_t umax() const { return umax_; }
    int64_t smin() const { return smin_; }
    int64_t smax() const { return smax_; }
    uint32_t u32_min() const { return u32_min_; }
    uint32_t u32_max() const { return u32_max_; }
    int32_t s32_min() const { return s32_min_; }
    int32_t s32_max() const { return s32_max_; }
    Tnum bits() const { return bits_; }

    // Every value of `other` is a value of this (used to prune a path whose state an explored
    // one covers).
    bool subsumes(const Scalar& other) const;
    // Values of either, over-approximated.
    Scalar join(const Scalar& other) const;
    // An upper bound of this and `next` that stops growing: bounds that moved go to the next
    // threshold past them (from `thresholds`, sorted ascending, then the type's limits), so a
    // chain of widenings is finite.
    Scalar widen(const Scalar& next, std::span<const int64_t> thresholds = {}) const;
    // Values in both; nullopt when none.
    std::optional<Scalar> meet(const Scalar& other) const;

    // dst OP src for every ALU op except MovSx (is64 false: on the low 32 bits, zero-extended,
    // as the ALU class does). Division and modulo by zero follow the ISA (x / 0 = 0, x % 0 = x).
    static Scalar alu(isa::Op op, bool is64, const Scalar& dst, const Scalar& src);
    // MovSx: the low `from_bits` bits sign-extended to 64 bits (is64) or to 32 bits then
    // zero-extended (ALU class). Also what a sign-extending load gives.
    Scalar sign_extend(unsigned from_bits, bool is64) const;
    // ToLe / ToBe / Swap of the low `bits` bits, zero-extended (isa::byte_order).
    Scalar byte_order(isa::Op op, unsigned bits) const;
    // The low `bytes` bytes, zero-extended: a narrow load of a known value, or a narrow spill.
    Scalar truncate(unsigned bytes) const;

    // Whether `dst OP src` (a conditional jump op; is32: JMP32, on the low 32 bits) holds for
    // every pair of values (true), for none (false), or it depends (nullopt).
    static std::optional<bool> compare(isa::Op op, bool is32, const Scalar& dst, const Scalar& src);
    // Both operands narrowed to the values for which `dst OP src` is `outcome`; nullopt when no
    // pair of values gives that outcome (the branch cannot be taken).
    static std::optional<std::pair<Scalar, Scalar>> assume(isa::Op op, bool is32, bool outcome,
                                                           const Scalar& dst, const Scalar& src);

    // "42", "-3", or the bounds that say something, as the kernel's log prints them:
    // "smin=-5,smax=5", "umax=255,var_off=(0x0; 0xff)".
    std::string to_string() const;

    bool operator==(const Scalar&) const = default;

 private:
    // The implementation's internal helpers (scalar.cpp), which build results view by view.
    friend struct ScalarImpl;

    // Brings the five views into agreement (each bound tightened by the others).
    void normalize();

    int64_t smin_;
    int64_t smax_;
    uint64_t umin_;
    uint64_t umax_;
    int32_t s32_min_;
    int32_t s32_max_;
    uint32_t u32_min_;
    uint32_t u32_max_;
    Tnum bits_;
};

}  // namespace bpfvm::verifier
