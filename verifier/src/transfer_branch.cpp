// Transfer functions of conditional jumps: what each branch learns. Comparing scalars narrows
// their bounds (and those of copies of them); comparing a packet pointer with data_end proves
// packet bytes readable; comparing a map lookup result with 0 makes it a value or null.
#include <string>

#include "analyzer.hpp"

namespace bpfvm::verifier {

namespace {

constexpr int32_t kMaxPacketOffset = 0xffff;

// The same comparison with its operands swapped: a < b is b > a.
isa::Op mirrored(isa::Op op) {
    switch (op) {
        case isa::Op::Jgt: return isa::Op::Jlt;
        case isa::Op::Jge: return isa::Op::Jle;
        case isa::Op::Jlt: return isa::Op::Jgt;
        case isa::Op::Jle: return isa::Op::Jge;
        case isa::Op::Jsgt: return isa::Op::Jslt;
        case isa::Op::Jsge: return isa::Op::Jsle;
        case isa::Op::Jslt: return isa::Op::Jsgt;
        case isa::Op::Jsle: return isa::Op::Jsge;
        default: return op;
    }
}

}  // namespace

void Analyzer::refine_scalar(State& state, const Value& before, const Scalar& after) {
    if (before.id == 0) return;
    state.for_each_value([&](Value& v) {
        if (v.type == ValueType::Scalar && v.id == before.id) v.num = after;
    });
    if (before.id == state.length_id && state.length_id != 0) {
        // bytes programs: a checked length proves that many bytes of r1 readable.
        auto proven = static_cast<int32_t>(std::min<uint64_t>(after.umin(), kMaxPacketOffset));
        state.set_packet_range(false, 0, proven);
    }
}

void Analyzer::mark_null_checked(State& state, uint32_t id, bool is_null) {
    uint32_t released = 0;
    state.for_each_value([&](Value& v) {
        if (!v.is_pointer() || !v.maybe_null || v.id != id) return;
        if (is_null) {
            if (v.ref != 0) released = v.ref;
            v = Value::constant(0);
        } else {
            v.maybe_null = false;
            bool keeps_identity = v.map != nullptr && v.map->spin_lock_offset.has_value();
            if (!keeps_identity && v.type != ValueType::Packet) v.id = 0;
        }
    });
    if (released != 0) {
        // A failed reservation holds nothing to release.
        std::erase_if(state.refs, [&](const Reference& r) { return r.id == released; });
    }
}

bool Analyzer::jump(Path& path, const isa::Jump& insn) {
    uint32_t pc = path.pc;
    if (insn.op == isa::Op::Ja) {
        path.pc = insn.target;
        return true;
    }
    const Value* d = read_reg(path, insn.dst);
    if (d == nullptr) return false;
    Value dst = *d;
    Value src;
    if (insn.src.is_reg) {
        const Value* s = read_reg(path, insn.src.reg);
        if (s == nullptr) return false;
        src = *s;
    } else {
        src = Value::constant(static_cast<uint64_t>(static_cast<int64_t>(insn.src.imm)));
    }

    auto go = [&](Path& p, bool taken) { p.pc = taken ? insn.target : pc + 1; };

    if (dst.type == ValueType::Scalar && src.type == ValueType::Scalar) {
        // A branch the values decide, or one whose refinement reaches linked copies, depends on
        // their exact bounds.
        auto depends = [&] {
            if (insn.src.is_reg) {
                mark_precise_regs(path, {insn.dst, insn.src.reg});
            } else {
                mark_precise_regs(path, {insn.dst});
            }
        };
        if (auto decided = Scalar::compare(insn.op, insn.is32, dst.num, src.num)) {
            depends();
            go(path, *decided);
            return true;
        }
        auto taken = Scalar::assume(insn.op, insn.is32, true, dst.num, src.num);
        auto not_taken = Scalar::assume(insn.op, insn.is32, false, dst.num, src.num);
        if (!taken || !not_taken || dst.id != 0 || src.id != 0) depends();
        auto apply = [&](Path& p, const std::pair<Scalar, Scalar>& refined) {
            p.state.frame().regs[insn.dst].num = refined.first;
            refine_scalar(p.state, dst, refined.first);
            if (insn.src.is_reg) {
                p.state.frame().regs[insn.src.reg].num = refined.second;
                refine_scalar(p.state, src, refined.second);
            }
        };
        if (!taken && !not_taken) {  // no value satisfies either: this path cannot happen
            end_path(path);
            return false;
        }
        if (!taken || !not_taken) {
            apply(path, taken ? *taken : *not_taken);
            go(path, taken.has_value());
            return true;
        }
        Path other = path;
        apply(other, *taken);
        go(other, true);
        add_step(other, pc, true);
        apply(path, *not_taken);
        go(path, false);
        add_step(path, pc, false);
        fork(path, std::move(other));
        return true;
    }

    if (packet_compare(path, insn, dst, src)) return !error_;

    // A pointer that may be null compared with 0: each branch knows which.
    bool eq_op = insn.op == isa::Op::Jeq || insn.op == isa::Op::Jne;
    const Value* pointer = dst.is_pointer() ? &dst : (src.is_pointer() ? &src : nullptr);
    const Value* other_side = pointer == &dst ? &src : &dst;
    if (eq_op && pointer != nullptr && other_side->is_null_constant()) {
        bool taken_means_null = insn.op == isa::Op::Jeq;
        if (!pointer->maybe_null) {
            go(path, !taken_means_null);  // a checked pointer is never null
            return true;
        }
    }
    if (eq_op && !insn.is32 && pointer != nullptr && other_side->is_null_constant()) {
        bool taken_means_null = insn.op == isa::Op::Jeq;
        Path other = path;
        mark_null_checked(other.state, pointer->id, taken_means_null);
        go(other, true);
        add_step(other, pc, true);
        mark_null_checked(path.state, pointer->id, !taken_means_null);
        go(path, false);
        add_step(path, pc, false);
        fork(path, std::move(other));
        return true;
    }

    bool both_pointers = dst.is_pointer() && src.is_pointer();
    if (!options_.privileged && !(both_pointers && same_region(dst, src))) {
        uint8_t reg = dst.is_pointer() ? insn.dst : insn.src.reg;
        return fail(path, Rule::InvalidPointerComparison,
                    "comparing pointer r" + std::to_string(reg) + " (" + describe(path, reg) +
                        ") this way would reveal its address: only packet pointers against data_end and "
                        "possibly-null pointers against 0 may be compared",
                    {insn.dst, insn.src.is_reg ? insn.src.reg : insn.dst});
    }
    Path other = path;
    go(other, true);
    add_step(other, pc, true);
    go(path, false);
    add_step(path, pc, false);
    fork(path, std::move(other));
    return true;
}

bool Analyzer::packet_compare(Path& path, const isa::Jump& insn, const Value& dst, const Value& src) {
    if (insn.is32) return false;
    // pkt OP pkt_end, or pkt_meta OP pkt (data itself): the pointer first, then the end.
    auto is_end_for = [](const Value& p, const Value& end) {
        if (p.type == ValueType::Packet) return end.type == ValueType::PacketEnd;
        if (p.type == ValueType::PacketMeta) {
            return end.type == ValueType::Packet && end.id == 0 && end.off == 0 && end.fixed_offset();
        }
        return false;
    };
    isa::Op op = insn.op;
    const Value* pointer = nullptr;
    if (is_end_for(dst, src)) {
        pointer = &dst;
    } else if (is_end_for(src, dst)) {
        pointer = &src;
        op = mirrored(op);
    } else {
        return false;
    }
    // pointer OP end. Which outcome proves `pointer + k <= end`, and for which k.
    std::optional<bool> proving_outcome;
    int32_t proven = 0;
    int32_t off = pointer->off;
    switch (op) {
        case isa::Op::Jgt:
            proving_outcome = false;
            proven = off;
            break;  // !(p > end): p <= end
        case isa::Op::Jge:
            proving_outcome = false;
            proven = off + 1;
            break;  // !(p >= end): p < end
        case isa::Op::Jlt:
            proving_outcome = true;
            proven = off + 1;
            break;
        case isa::Op::Jle:
            proving_outcome = true;
            proven = off;
            break;
        default: return false;  // == and != prove nothing; priv/unpriv rules below apply
    }
    bool meta = pointer->type == ValueType::PacketMeta;
    uint32_t pc = path.pc;
    auto go = [&](Path& p, bool taken) { p.pc = taken ? insn.target : pc + 1; };
    // Both outcomes are explored even when one was proven before, as the kernel does (so a
    // mistake on the branch it takes is not hidden). The proof holds only where the kernel's
    // does: a pointer at a negative offset, or one whose largest offset may pass 0xffff (it
    // could wrap past data_end), proves nothing; nor does `p < end` for p = data exactly.
    bool right_open = proven == off + 1;
    uint64_t largest = pointer->num.umax();
    bool proves = off >= 0 && !(off == 0 && right_open) && largest <= kMaxPacketOffset &&
                  largest + static_cast<uint64_t>(off) <= kMaxPacketOffset;
    Path other = path;
    Path& proving = *proving_outcome ? other : path;
    if (proves && proven > 0) proving.state.set_packet_range(meta, pointer->id, proven);
    go(other, true);
    add_step(other, pc, true);
    go(path, false);
    add_step(path, pc, false);
    fork(path, std::move(other));
    return true;
}

}  // namespace bpfvm::verifier
