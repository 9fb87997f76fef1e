#include "bpfvm/isa/disassembler.hpp"

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "bpfvm/isa/decoder.hpp"

namespace bpfvm::isa {
namespace {

// ---- Numbers, as llvm-objdump prints them ----

uint64_t magnitude(int64_t value) {
    return value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
}

std::string unsigned_number(uint64_t value, bool hex) {
    char digits[24];
    auto result = std::to_chars(std::begin(digits), std::end(digits), value, hex ? 16 : 10);
    return (hex ? "0x" : "") + std::string(digits, result.ptr);
}

// `-2`, or `-0x2` in hex: the sign, then the magnitude.
std::string signed_number(int64_t value, bool hex) {
    return (value < 0 ? "-" : "") + unsigned_number(magnitude(value), hex);
}

// A relative jump always shows its sign: `+3`, `-0x2`.
std::string relative(int64_t value, bool hex) {
    return (value < 0 ? "-" : "+") + unsigned_number(magnitude(value), hex);
}

// ---- LLVM syntax ----

std::string reg(uint8_t number, bool is64) {
    return (is64 ? "r" : "w") + std::to_string(number);
}

// `r1 + 4`, `r10 - 0x8`.
std::string address(uint8_t base, int64_t offset, bool hex) {
    return "r" + std::to_string(base) + (offset < 0 ? " - " : " + ") +
           unsigned_number(magnitude(offset), hex);
}

// `u32`, `s16`: the C type of a memory access.
std::string access_type(uint8_t size, bool sign_extend) {
    return (sign_extend ? "s" : "u") + std::to_string(size * 8);
}

// `*(u32 *)(r1 + 4)`.
std::string memory(uint8_t size, bool sign_extend, uint8_t base, int64_t offset, bool hex) {
    return "*(" + access_type(size, sign_extend) + " *)(" + address(base, offset, hex) + ")";
}

std::string_view alu_operator(Op op) {
    switch (op) {
        case Op::Add: return "+=";
        case Op::Sub: return "-=";
        case Op::Mul: return "*=";
        case Op::Div: return "/=";
        case Op::SDiv: return "s/=";
        case Op::Or: return "|=";
        case Op::And: return "&=";
        case Op::Lsh: return "<<=";
        case Op::Rsh: return ">>=";
        case Op::Mod: return "%=";
        case Op::SMod: return "s%=";
        case Op::Xor: return "^=";
        case Op::Mov: return "=";
        case Op::Arsh: return "s>>=";
        default: return "?=";
    }
}

std::string_view jump_condition(Op op) {
    switch (op) {
        case Op::Jeq: return "==";
        case Op::Jgt: return ">";
        case Op::Jge: return ">=";
        case Op::Jset: return "&";
        case Op::Jne: return "!=";
        case Op::Jsgt: return "s>";
        case Op::Jsge: return "s>=";
        case Op::Jlt: return "<";
        case Op::Jle: return "<=";
        case Op::Jslt: return "s<";
        case Op::Jsle: return "s<=";
        default: return "?";
    }
}

std::string_view endian_name(Op op) {
    switch (op) {
        case Op::ToLe: return "le";
        case Op::ToBe: return "be";
        default: return "bswap";
    }
}

// The atomic read-modify-write operations: name in atomic_fetch_<name>, operator in `lock`.
struct AtomicSpelling {
    std::string_view name;
    std::string_view assign;
};

AtomicSpelling atomic_spelling(Op op) {
    switch (op) {
        case Op::AtomicAdd: return {"add", "+="};
        case Op::AtomicOr: return {"or", "|="};
        case Op::AtomicAnd: return {"and", "&="};
        case Op::AtomicXor: return {"xor", "^="};
        default: return {"?", "?="};
    }
}

// What `llvm-mc --disassemble -triple=bpfel -mcpu=v4` (LLVM 19) prints, without its leading tab.
struct LlvmPrinter {
    bool hex;
    const DisasmOptions& options;

    std::string operator()(const Alu& alu) const {
        const std::string dst = reg(alu.dst, alu.is64);
        if (alu.op == Op::Neg) return dst + " = -" + dst;
        const std::string src = alu.src.is_reg ? reg(alu.src.reg, alu.is64) : signed_number(alu.src.imm, hex);
        if (alu.op == Op::MovSx) return dst + " = (s" + std::to_string(alu.sx_bits) + ")" + src;
        return dst + " " + std::string(alu_operator(alu.op)) + " " + src;
    }

    std::string operator()(const Endian& endian) const {
        const std::string dst = reg(endian.dst, true);
        return dst + " = " + std::string(endian_name(endian.op)) + std::to_string(endian.bits) + " " + dst;
    }

    std::string operator()(const Jump& jump) const {
        if (jump.op == Op::Ja) return (jump.is32 ? "gotol " : "goto ") + relative(jump.offset, hex);
        const std::string src =
            jump.src.is_reg ? reg(jump.src.reg, !jump.is32) : signed_number(jump.src.imm, hex);
        return "if " + reg(jump.dst, !jump.is32) + " " + std::string(jump_condition(jump.op)) + " " + src +
               " goto " + relative(jump.offset, hex);
    }

    // Helper, local and kfunc calls all print their imm (a local call's is the relative offset).
    std::string operator()(const Call& call) const {
        if (call.op == Op::CallReg) return "callx " + reg(call.reg, true);
        if (call.op == Op::CallLocal && options.function_name) {
            return "call " + relative(call.imm, hex) + " <" + options.function_name(call.target) + ">";
        }
        return "call " + signed_number(call.imm, hex);
    }

    std::string operator()(const Exit&) const { return "exit"; }

    std::string operator()(const LoadImm64& load) const {
        if (load.src_kind == 0) {
            return reg(load.dst, true) + " = " + signed_number(static_cast<int64_t>(load.value()), hex) +
                   " ll";
        }
        if (load.src_kind == kPseudoFunc && options.function_name) {
            return reg(load.dst, true) + " = <" + options.function_name(load.target) + "> ll";
        }
        if ((load.src_kind == kPseudoMapIndex || load.src_kind == kPseudoMapIndexValue) && options.map_name) {
            std::string text =
                reg(load.dst, true) + " = map[" + options.map_name(static_cast<uint32_t>(load.imm_lo)) + "]";
            if (load.src_kind == kPseudoMapIndexValue)
                text += " + " + unsigned_number(static_cast<uint32_t>(load.imm_hi), hex);
            return text + " ll";
        }
        // LLVM prints the pseudo forms as `ld_pseudo\tr1, <src>, <imm>` (with that tab) and drops
        // the second slot's imm; we append it when it is not zero so nothing is lost.
        std::string text = "ld_pseudo\t" + reg(load.dst, true) + ", " + unsigned_number(load.src_kind, hex) +
                           ", " + unsigned_number(static_cast<uint32_t>(load.imm_lo), hex);
        if (load.imm_hi != 0) text += ", " + unsigned_number(static_cast<uint32_t>(load.imm_hi), hex);
        return text;
    }

    // With -mcpu=v4 LLVM writes zero-extending loads below 8 bytes to the 32-bit subregister.
    std::string operator()(const Load& load) const {
        const bool is64 = load.size == 8 || load.sign_extend;
        return reg(load.dst, is64) + " = " + memory(load.size, load.sign_extend, load.base, load.offset, hex);
    }

    std::string operator()(const Store& store) const {
        const std::string value =
            store.value.is_reg ? reg(store.value.reg, store.size == 8) : signed_number(store.value.imm, hex);
        return memory(store.size, false, store.base, store.offset, hex) + " = " + value;
    }

    std::string operator()(const Atomic& atomic) const {
        const bool is64 = atomic.size == 8;
        const std::string src = reg(atomic.src, is64);
        const std::string where = address(atomic.dst, atomic.offset, hex);
        const std::string type = "(" + access_type(atomic.size, false) + " *)";
        switch (atomic.op) {
            // LLVM 19 has no syntax for load-acquire and store-release; this is LLVM 20's.
            case Op::LoadAcquire:
                return reg(atomic.dst, is64) + " = load_acquire(" + type + "(" +
                       address(atomic.src, atomic.offset, hex) + "))";
            case Op::StoreRelease: return "store_release(" + type + "(" + where + "), " + src + ")";
            case Op::AtomicXchg:
                return src + " = " + (is64 ? "xchg_64(" : "xchg32_32(") + where + ", " + src + ")";
            case Op::AtomicCmpXchg: {
                const std::string r0 = reg(0, is64);
                return r0 + " = " + (is64 ? "cmpxchg_64(" : "cmpxchg32_32(") + where + ", " + r0 + ", " +
                       src + ")";
            }
            default: {
                const AtomicSpelling spelling = atomic_spelling(atomic.op);
                if (atomic.fetch) {
                    return src + " = atomic_fetch_" + std::string(spelling.name) + "(" + type + "(" + where +
                           "), " + src + ")";
                }
                return "lock *" + type + "(" + where + ") " + std::string(spelling.assign) + " " + src;
            }
        }
    }

    // LLVM prints BPF_IND as `skb[r1]` whatever its imm; we add a non-zero imm the way the
    // kernel's verifier log does (`skb[r1 + 4]`) rather than drop it.
    std::string operator()(const PacketLoad& load) const {
        std::string index = signed_number(load.imm, hex);
        if (load.indirect) index = load.imm == 0 ? reg(load.src, true) : address(load.src, load.imm, hex);
        return "r0 = *(" + access_type(load.size, false) + " *)skb[" + index + "]";
    }
};

// ---- bpf_conformance syntax (what isa::assemble reads) ----

std::string conformance_reg(uint8_t number) {
    return "%r" + std::to_string(number);
}

// `[%r1]`, `[%r1+4]`, `[%r10-8]`.
std::string conformance_memory(uint8_t base, int16_t offset, bool hex) {
    if (offset == 0) return "[" + conformance_reg(base) + "]";
    return "[" + conformance_reg(base) + relative(offset, hex) + "]";
}

struct ConformancePrinter {
    bool hex;
    std::string mnemonic;  // the table row's

    std::string value(const Operand& operand) const {
        return operand.is_reg ? conformance_reg(operand.reg) : signed_number(operand.imm, hex);
    }

    std::string operator()(const Alu& alu) const {
        const std::string text = mnemonic + " " + conformance_reg(alu.dst);
        return alu.op == Op::Neg ? text : text + ", " + value(alu.src);
    }

    std::string operator()(const Endian& endian) const {
        return mnemonic + " " + conformance_reg(endian.dst);
    }

    std::string operator()(const Jump& jump) const {
        const std::string target = relative(jump.offset, hex);
        if (jump.op == Op::Ja) return mnemonic + " " + target;
        return mnemonic + " " + conformance_reg(jump.dst) + ", " + value(jump.src) + ", " + target;
    }

    std::string operator()(const Call& call) const {
        switch (call.op) {
            // The reference syntax for callx is `call %r2`.
            case Op::CallReg: return "call " + conformance_reg(call.reg);
            case Op::CallLocal: return mnemonic + " " + relative(call.imm, hex);
            default: {
                std::string text = mnemonic + " " + signed_number(call.imm, hex);
                // A kfunc's BTF module index: our extension of `call runtime N`.
                if (call.offset != 0) text += ", " + signed_number(call.offset, hex);
                return text;
            }
        }
    }

    std::string operator()(const Exit&) const { return mnemonic; }

    std::string operator()(const LoadImm64& load) const {
        return mnemonic + " " + conformance_reg(load.dst) + ", " +
               signed_number(static_cast<int64_t>(load.value()), hex);
    }

    std::string operator()(const Load& load) const {
        return mnemonic + " " + conformance_reg(load.dst) + ", " +
               conformance_memory(load.base, load.offset, hex);
    }

    std::string operator()(const Store& store) const {
        return mnemonic + " " + conformance_memory(store.base, store.offset, hex) + ", " + value(store.value);
    }

    std::string operator()(const Atomic& atomic) const {
        if (atomic.op == Op::LoadAcquire) {
            return mnemonic + " " + conformance_reg(atomic.dst) + ", " +
                   conformance_memory(atomic.src, atomic.offset, hex);
        }
        return mnemonic + " " + conformance_memory(atomic.dst, atomic.offset, hex) + ", " +
               conformance_reg(atomic.src);
    }

    std::string operator()(const PacketLoad& load) const {
        const std::string imm = signed_number(load.imm, hex);
        if (load.indirect) return mnemonic + " " + conformance_reg(load.src) + ", " + imm;
        return mnemonic + " " + imm;
    }
};

}  // namespace

std::string disassemble(const Instruction& insn, const DisasmOptions& options) {
    if (options.syntax == Syntax::Conformance) {
        return std::visit(ConformancePrinter{options.hex, std::string(form_of(insn).mnemonic)}, insn);
    }
    return std::visit(LlvmPrinter{options.hex, options}, insn);
}

std::string listing_line(const Instruction& insn, uint32_t slot, const DisasmOptions& options) {
    // `%8u:` then a tab, as llvm-objdump -d numbers its lines.
    char number[16];
    std::snprintf(number, sizeof number, "%8u:", slot);
    std::string out = number;
    out += '\t';
    const Encoded encoded = encode(insn);
    const auto bytes = bytes_from_slots(std::span<const RawInstruction>(encoded.slots.data(), encoded.count));
    for (size_t b = 0; b < bytes.size(); ++b) {
        char byte[4];
        std::snprintf(byte, sizeof byte, "%02x", bytes[b]);
        if (b != 0) out += ' ';
        out += byte;
    }
    out += '\t';
    out += disassemble(insn, options);
    return out;
}

std::string listing(const Program& program, const DisasmOptions& options) {
    std::string out;
    uint32_t next_slot = 0;
    for (size_t i = 0; i < program.size(); ++i) {
        const Instruction& insn = program.instructions[i];
        const uint32_t slot = i < program.slot.size() ? program.slot[i] : next_slot;
        next_slot = slot + encode(insn).count;
        out += listing_line(insn, slot, options);
        out += '\n';
    }
    return out;
}

}  // namespace bpfvm::isa
