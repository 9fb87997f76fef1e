// What ALU, byte-order and jump operations compute, defined once (RFC 9669 section 4) so the
// interpreter, the verifier's constant folding and the JIT tests agree on every edge case:
// division by zero, INT_MIN / -1, masked shift amounts, 32-bit zero extension.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "bpfvm/isa/opcode_table.hpp"

namespace bpfvm::isa {

namespace detail {
template <typename U>
constexpr U shift_mask() {
    return sizeof(U) * 8 - 1;
}
}  // namespace detail

// dst OP src at width U (uint32_t or uint64_t). MovSx is handled by sign_extend below.
template <typename U>
constexpr U alu(Op op, U dst, U src) {
    using S = std::make_signed_t<U>;
    constexpr U kMin = U{1} << (sizeof(U) * 8 - 1);
    switch (op) {
        case Op::Add: return dst + src;
        case Op::Sub: return dst - src;
        case Op::Mul: return dst * src;
        case Op::Div: return src == 0 ? 0 : dst / src;
        case Op::SDiv:
            if (src == 0) return 0;
            if (dst == kMin && static_cast<S>(src) == -1) return kMin;  // overflow wraps
            return static_cast<U>(static_cast<S>(dst) / static_cast<S>(src));
        case Op::Or: return dst | src;
        case Op::And: return dst & src;
        case Op::Lsh: return dst << (src & detail::shift_mask<U>());
        case Op::Rsh: return dst >> (src & detail::shift_mask<U>());
        case Op::Neg: return static_cast<U>(0) - dst;
        case Op::Mod: return src == 0 ? dst : dst % src;
        case Op::SMod:
            if (src == 0) return dst;
            if (static_cast<S>(src) == -1) return 0;  // also avoids INT_MIN % -1
            return static_cast<U>(static_cast<S>(dst) % static_cast<S>(src));
        case Op::Xor: return dst ^ src;
        case Op::Mov: return src;
        case Op::Arsh: return static_cast<U>(static_cast<S>(dst) >> (src & detail::shift_mask<U>()));
        default: return dst;
    }
}

// Sign-extends the low `bits` bits of v to 64 bits.
constexpr uint64_t sign_extend(uint64_t v, unsigned bits) {
    if (bits >= 64) return v;
    uint64_t sign = uint64_t{1} << (bits - 1);
    v &= (uint64_t{1} << bits) - 1;
    return (v ^ sign) - sign;
}

// ToLe/ToBe/Swap of the low `bits` bits (on either host byte order; std::byteswap is C++23), zero-extended to
// 64 bits.
constexpr uint64_t byte_order(Op op, uint64_t v, unsigned bits) {
    bool swap = op == Op::Swap || (op == Op::ToBe) == (std::endian::native == std::endian::little);
    switch (bits) {
        case 16: return swap ? __builtin_bswap16(static_cast<uint16_t>(v)) : static_cast<uint16_t>(v);
        case 32: return swap ? __builtin_bswap32(static_cast<uint32_t>(v)) : static_cast<uint32_t>(v);
        default: return swap ? __builtin_bswap64(v) : v;
    }
}

// Whether a conditional jump is taken, comparing at width U.
template <typename U>
constexpr bool condition(Op op, U dst, U src) {
    using S = std::make_signed_t<U>;
    switch (op) {
        case Op::Ja: return true;
        case Op::Jeq: return dst == src;
        case Op::Jne: return dst != src;
        case Op::Jgt: return dst > src;
        case Op::Jge: return dst >= src;
        case Op::Jlt: return dst < src;
        case Op::Jle: return dst <= src;
        case Op::Jset: return (dst & src) != 0;
        case Op::Jsgt: return static_cast<S>(dst) > static_cast<S>(src);
        case Op::Jsge: return static_cast<S>(dst) >= static_cast<S>(src);
        case Op::Jslt: return static_cast<S>(dst) < static_cast<S>(src);
        case Op::Jsle: return static_cast<S>(dst) <= static_cast<S>(src);
        default: return false;
    }
}

// Atomic read-modify-write: the value stored for old OP operand.
template <typename U>
constexpr U atomic_result(Op op, U old, U operand) {
    switch (op) {
        case Op::AtomicAdd: return old + operand;
        case Op::AtomicOr: return old | operand;
        case Op::AtomicAnd: return old & operand;
        case Op::AtomicXor: return old ^ operand;
        case Op::AtomicXchg: return operand;
        default: return old;
    }
}

}  // namespace bpfvm::isa
