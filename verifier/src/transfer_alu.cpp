// Transfer functions of arithmetic: ALU and byte-order instructions on scalars (the Scalar
// domain computes them), pointer arithmetic (which pointers may move, by how much), and
// ld_imm64 (constants, maps, functions).
#include <string>
#include <variant>

#include "analyzer.hpp"

namespace bpfvm::verifier {

namespace {

// Offsets a pointer may carry: the kernel refuses pointer arithmetic beyond 2^29 either way.
constexpr int64_t kMaxPointerOffset = int64_t{1} << 29;

std::string_view op_symbol(isa::Op op) {
    switch (op) {
        case isa::Op::Add: return "+=";
        case isa::Op::Sub: return "-=";
        case isa::Op::Mul: return "*=";
        case isa::Op::Div: return "/=";
        case isa::Op::SDiv: return "s/=";
        case isa::Op::Or: return "|=";
        case isa::Op::And: return "&=";
        case isa::Op::Lsh: return "<<=";
        case isa::Op::Rsh: return ">>=";
        case isa::Op::Neg: return "= -";
        case isa::Op::Mod: return "%=";
        case isa::Op::SMod: return "s%=";
        case isa::Op::Xor: return "^=";
        case isa::Op::Arsh: return "s>>=";
        default: return "?";
    }
}

bool is_division(isa::Op op) {
    return op == isa::Op::Div || op == isa::Op::SDiv || op == isa::Op::Mod || op == isa::Op::SMod;
}

bool is_shift(isa::Op op) {
    return op == isa::Op::Lsh || op == isa::Op::Rsh || op == isa::Op::Arsh;
}

// The Linux verifier computes bounds only for ops it can bound cheaply: division and modulo
// results, and shifts by an amount that is not one known value below the width, are unknown to
// it. bpfvm forgets them too, so that it never accepts a program that the kernel rejects because
// of a bound only bpfvm knew.
bool kernel_tracks_result(const isa::Alu& insn, const Scalar& src) {
    if (is_division(insn.op)) return false;
    if (!is_shift(insn.op)) return true;
    unsigned width = insn.is64 ? 64 : 32;
    bool constant = insn.is64 ? src.is_constant()
                              : src.bits().truncate(4).is_constant() && src.u32_min() == src.u32_max();
    return constant && src.umax() < width;
}

// x << k as the kernel bounds it: when the top bit might be shifted out (its test is one bit more
// cautious than it needs to be), only the known bits are left. The `x << 32` of a sign
// extension keeps its signed bounds.
Scalar kernel_shift_left(const Scalar& exact, const Scalar& dst, uint64_t k, bool is64) {
    if (is64) {
        if (dst.umax() <= (uint64_t{1} << (63 - k)) || (k == 32 && dst.s32_min() >= 0)) return exact;
    } else if (dst.u32_max() <= (uint64_t{1} << (31 - k))) {
        return exact;
    }
    return Scalar::from_tnum(exact.bits());
}

}  // namespace

bool Analyzer::step(Path& path) {
    HistoryEntry entry;
    entry.pc = path.pc;
    entry.frame = static_cast<uint8_t>(path.state.frames.size() - 1);
    entry.callback = path.callback_point;
    path.history.push_back(entry);
    if (path.callback_point) return callback_point(path);
    uint32_t pc = path.pc;
    if (auto poisoned = options_.poisoned.find(pc); poisoned != options_.poisoned.end()) {
        return fail(path, Rule::UnresolvedRelocation, poisoned->second);
    }
    bool ok = std::visit(Overloaded{
                             [&](const isa::Alu& insn) { return alu(path, insn); },
                             [&](const isa::Endian& insn) { return endian(path, insn); },
                             [&](const isa::Jump& insn) { return jump(path, insn); },
                             [&](const isa::Call& insn) { return call(path, insn); },
                             [&](const isa::Exit&) { return exit(path); },
                             [&](const isa::LoadImm64& insn) { return load_imm64(path, insn); },
                             [&](const isa::Load& insn) { return load(path, insn); },
                             [&](const isa::Store& insn) { return store(path, insn); },
                             [&](const isa::Atomic& insn) { return atomic(path, insn); },
                             [&](const isa::PacketLoad& insn) { return packet_load(path, insn); },
                         },
                         program_.instructions[pc]);
    if (ok && !path.callback_point) path.came_from = pc;
    return ok;
}

bool Analyzer::alu(Path& path, const isa::Alu& insn) {
    if (insn.dst == isa::kFramePointer) {
        return fail(path, Rule::ReadOnlyWrite, "r10 (the frame pointer) is read-only", {insn.dst});
    }
    if (!insn.src.is_reg && is_division(insn.op) && insn.src.imm == 0) {
        return fail(path, Rule::InvalidInstruction,
                    "division or modulo by the immediate 0 (the kernel refuses it; a divisor that may be 0 "
                    "belongs in a register)");
    }
    int32_t width = insn.is64 ? 64 : 32;
    if (!insn.src.is_reg && is_shift(insn.op) && (insn.src.imm < 0 || insn.src.imm >= width)) {
        return fail(path, Rule::InvalidInstruction,
                    "shift by " + std::to_string(insn.src.imm) + ": a " + std::to_string(width) +
                        "-bit shift by an immediate must be in [0, " + std::to_string(width - 1) + "]");
    }
    Value src;
    if (insn.op != isa::Op::Neg) {
        if (insn.src.is_reg) {
            const Value* s = read_reg(path, insn.src.reg);
            if (s == nullptr) return false;
            src = *s;
        } else {
            src = Value::constant(static_cast<uint64_t>(static_cast<int64_t>(insn.src.imm)));
        }
    }
    if (insn.op == isa::Op::Mov || insn.op == isa::Op::MovSx) {
        if (src.is_pointer()) {
            if (insn.op == isa::Op::Mov && insn.is64) {
                write_reg(path, insn.dst, src);
            } else if (!options_.privileged) {
                return fail(path, Rule::PointerLeak,
                            "a " + std::string(insn.is64 ? "sign-extending" : "32-bit") +
                                " move of pointer " + reg_name(insn.src.reg) +
                                " would expose part of its address",
                            {insn.src.reg});
            } else {
                write_reg(path, insn.dst, Value::scalar(insn.is64 ? Scalar() : Scalar::unknown_of_size(4)));
            }
        } else if (insn.op == isa::Op::MovSx) {
            write_reg(path, insn.dst, Value::scalar(src.num.sign_extend(insn.sx_bits, insn.is64)));
        } else if (insn.is64) {
            // Copies of a scalar stay linked: a bounds check on one bounds the other.
            if (insn.src.is_reg && !src.num.is_constant()) {
                if (src.id == 0) {
                    src.id = path.state.fresh_id();
                    path.state.frame().regs[insn.src.reg].id = src.id;
                }
            }
            write_reg(path, insn.dst, src);
        } else {
            write_reg(path, insn.dst, Value::scalar(Scalar::alu(isa::Op::Mov, false, Scalar(), src.num)));
        }
        ++path.pc;
        return true;
    }
    const Value* d = read_reg(path, insn.dst);
    if (d == nullptr) return false;
    Value dst = *d;
    if (dst.is_pointer() || src.is_pointer()) return pointer_arithmetic(path, insn, dst, src);
    Scalar result = Scalar::alu(insn.op, insn.is64, dst.num, src.num);
    if (!kernel_tracks_result(insn, src.num)) {
        result = insn.is64 ? Scalar() : Scalar::unknown_of_size(4);
    } else if (insn.op == isa::Op::Lsh) {
        result = kernel_shift_left(result, dst.num, src.num.umax(), insn.is64);
    }
    write_reg(path, insn.dst, Value::scalar(result));
    ++path.pc;
    return true;
}

bool Analyzer::pointer_arithmetic(Path& path, const isa::Alu& insn, Value dst, const Value& src) {
    uint8_t src_reg = insn.src.is_reg ? insn.src.reg : insn.dst;
    if (insn.op == isa::Op::Neg) {
        // The kernel's privileged rules let a negated pointer be a number, as any pointer may be.
        if (!options_.privileged) {
            return fail(path, Rule::InvalidPointerArithmetic,
                        "negating a pointer (" + reg_name(insn.dst) + ") is not allowed", {insn.dst});
        }
        write_reg(path, insn.dst, Value::scalar(insn.is64 ? Scalar() : Scalar::unknown_of_size(4)));
        ++path.pc;
        return true;
    }
    if (dst.is_pointer() && src.is_pointer()) {
        // The distance between two pointers into one region (data_end - data) is no address.
        if (insn.op == isa::Op::Sub && (options_.privileged || same_region(dst, src))) {
            write_reg(path, insn.dst, Value::scalar(insn.is64 ? Scalar() : Scalar::unknown_of_size(4)));
            ++path.pc;
            return true;
        }
        return fail(path, Rule::PointerLeak,
                    "arithmetic between two pointers (" + reg_name(insn.dst) + " " +
                        std::string(op_symbol(insn.op)) + " " + reg_name(src_reg) +
                        ") would expose their addresses",
                    {insn.dst, src_reg});
    }
    if (!insn.is64) {
        if (insn.op == isa::Op::Sub && options_.privileged) {
            write_reg(path, insn.dst, Value::scalar(Scalar::unknown_of_size(4)));
            ++path.pc;
            return true;
        }
        return fail(path, Rule::InvalidPointerArithmetic,
                    "32-bit arithmetic on a pointer (" + reg_name(dst.is_pointer() ? insn.dst : src_reg) +
                        ") is not allowed",
                    {insn.dst, src_reg});
    }
    bool pointer_is_dst = dst.is_pointer();
    if (insn.op != isa::Op::Add && !(insn.op == isa::Op::Sub && pointer_is_dst)) {
        return fail(path, Rule::InvalidPointerArithmetic,
                    "pointer arithmetic with " + std::string(op_symbol(insn.op)) +
                        " is not allowed: pointers may only be moved by adding or subtracting a number",
                    {insn.dst, src_reg});
    }
    Value ptr = pointer_is_dst ? dst : src;
    const Value& offset = pointer_is_dst ? src : dst;
    uint8_t ptr_reg = pointer_is_dst ? insn.dst : src_reg;
    // The number added decides where the pointer points: it must match exactly for pruning.
    if (insn.src.is_reg) mark_precise_regs(path, {pointer_is_dst ? insn.src.reg : insn.dst});
    if (ptr.maybe_null) {
        return fail(path, Rule::InvalidPointerArithmetic,
                    "arithmetic on " + reg_name(ptr_reg) + ", which may be null (" + ptr.to_string() +
                        "): check it against 0 first",
                    {ptr_reg});
    }
    switch (ptr.type) {
        case ValueType::Stack:
        case ValueType::Packet:
        case ValueType::PacketMeta:
        case ValueType::MapValue:
        case ValueType::MapKey:
        case ValueType::Mem:
        case ValueType::Ctx: break;
        default:
            return fail(path, Rule::InvalidPointerArithmetic,
                        "arithmetic on " + std::string(value_type_name(ptr.type)) + " (" + reg_name(ptr_reg) +
                            ") is not allowed",
                        {ptr_reg});
    }
    bool subtract = insn.op == isa::Op::Sub;
    if (subtract && ptr.type == ValueType::Stack) {
        // The kernel refuses it whatever the number (some JITs could not handle it).
        return fail(path, Rule::InvalidPointerArithmetic,
                    "subtracting from the stack pointer " + reg_name(ptr_reg) +
                        " is not allowed: add a negative number instead",
                    {insn.dst, src_reg});
    }
    if (offset.num.is_constant()) {
        int64_t delta = static_cast<int64_t>(offset.num.constant_value());
        bool small = delta > -kMaxPointerOffset && delta < kMaxPointerOffset;
        int64_t moved = 0;
        if (small)
            moved = subtract ? static_cast<int64_t>(ptr.off) - delta : static_cast<int64_t>(ptr.off) + delta;
        if (!small || moved <= -kMaxPointerOffset || moved >= kMaxPointerOffset) {
            return fail(path, Rule::InvalidPointerArithmetic,
                        "moving " + reg_name(ptr_reg) + " by " + std::to_string(delta) +
                            " bytes puts it out of any region (offsets are limited to 2^29)",
                        {insn.dst, src_reg});
        }
        ptr.off = static_cast<int32_t>(moved);
    } else {
        // A context pointer may move by a variable amount; only dereferencing it is refused.
        const Scalar& n = offset.num;
        if (n.smin() <= -kMaxPointerOffset || n.smax() >= kMaxPointerOffset) {
            return fail(path, Rule::InvalidPointerArithmetic,
                        "adding " + reg_name(pointer_is_dst ? src_reg : insn.dst) + " (" +
                            offset.to_string() +
                            ") to a pointer: its bounds are not known well enough (check it against a "
                            "constant or mask it first)",
                        {insn.dst, src_reg});
        }
        ptr.num = Scalar::alu(subtract ? isa::Op::Sub : isa::Op::Add, true, ptr.num, n);
        if (ptr.type == ValueType::Packet || ptr.type == ValueType::PacketMeta) {
            // A new variable part: nothing is proven about the bytes after it yet.
            ptr.id = path.state.fresh_id();
        }
    }
    write_reg(path, insn.dst, ptr);
    ++path.pc;
    return true;
}

bool Analyzer::endian(Path& path, const isa::Endian& insn) {
    if (insn.dst == isa::kFramePointer) {
        return fail(path, Rule::ReadOnlyWrite, "r10 (the frame pointer) is read-only", {insn.dst});
    }
    const Value* d = read_reg(path, insn.dst);
    if (d == nullptr) return false;
    if (d->is_pointer()) {
        if (!options_.privileged) {
            return fail(path, Rule::InvalidPointerArithmetic,
                        "byte swap of a pointer (" + reg_name(insn.dst) + ")", {insn.dst});
        }
        // Privileged: any pointer may become a number.
        write_reg(path, insn.dst, Value::scalar(Scalar::unknown_of_size(insn.bits / 8)));
        ++path.pc;
        return true;
    }
    write_reg(path, insn.dst, Value::scalar(d->num.byte_order(insn.op, insn.bits)));
    ++path.pc;
    return true;
}

bool Analyzer::load_imm64(Path& path, const isa::LoadImm64& insn) {
    if (insn.dst == isa::kFramePointer) {
        return fail(path, Rule::ReadOnlyWrite, "r10 (the frame pointer) is read-only", {insn.dst});
    }
    Value v;
    auto map_at = [&](uint32_t index) -> const MapInfo* {
        if (index >= maps_.size()) {
            fail(path, Rule::InvalidMapReference,
                 "ld_imm64 names map " + std::to_string(index) + " but the program has " +
                     std::to_string(maps_.size()) + " maps");
            return nullptr;
        }
        return &maps_[index];
    };
    switch (insn.src_kind) {
        case 0: v = Value::constant(insn.value()); break;
        case isa::kPseudoMapIndex: {
            const MapInfo* map = map_at(static_cast<uint32_t>(insn.imm_lo));
            if (map == nullptr) return false;
            v = Value::pointer(ValueType::MapPtr);
            v.map = map;
            break;
        }
        case isa::kPseudoMapIndexValue: {
            const MapInfo* map = map_at(static_cast<uint32_t>(insn.imm_lo));
            if (map == nullptr) return false;
            auto offset = static_cast<uint32_t>(insn.imm_hi);
            if (map->type != isa::MapType::Array || map->max_entries != 1) {
                return fail(
                    path, Rule::InvalidMapReference,
                    "a direct value address needs a single-element array map; " + map->name + " is not one");
            }
            if (offset >= map->value_size) {
                return fail(path, Rule::InvalidMapReference,
                            "a direct value address at offset " + std::to_string(offset) + " of " +
                                map->name + ", whose values are " + std::to_string(map->value_size) +
                                " bytes");
            }
            v = Value::pointer(ValueType::MapValue, static_cast<int32_t>(offset));
            v.map = map;
            break;
        }
        case isa::kPseudoMapFd:
        case isa::kPseudoMapValue:
            return fail(path, Rule::InvalidMapReference,
                        "ld_imm64 of map file descriptor " + std::to_string(insn.imm_lo) +
                            ": maps can only be resolved in programs loaded from object files");
        case isa::kPseudoBtfId:
            return fail(path, Rule::Unsupported,
                        "ld_imm64 of kernel symbol (BTF id " + std::to_string(insn.imm_lo) +
                            "): bpfvm has no kernel variables");
        case isa::kPseudoFunc:
            v = Value::pointer(ValueType::Func);
            v.aux = insn.target;
            break;
        default:
            return fail(path, Rule::Unsupported,
                        "ld_imm64 with unknown source " + std::to_string(insn.src_kind));
    }
    write_reg(path, insn.dst, v);
    ++path.pc;
    return true;
}

}  // namespace bpfvm::verifier
