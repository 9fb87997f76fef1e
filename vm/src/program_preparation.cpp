#include "program_preparation.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <set>
#include <string>

#include "context_memory.hpp"

namespace bpfvm::vm {
namespace {

using isa::Instruction;

// What the analysis knows of a register or a spilled stack slot: enough to tell which memory
// accesses go through the context pointer. The kernel's verifier tracks the same fact as the
// PTR_TO_CTX register type.
enum class Value : uint8_t {
    Other,      // not the context (a scalar, another pointer, uninitialized)
    Context,    // the context pointer, unmodified
    Offset,     // the context pointer plus something: the kernel refuses accesses through it
    Ambiguous,  // the context on some paths, something else on others
};

Value join(Value a, Value b) {
    if (a == b) return a;
    auto contextual = [](Value v) { return v == Value::Context || v == Value::Offset; };
    if (contextual(a) && contextual(b)) return Value::Offset;
    return Value::Ambiguous;
}

constexpr size_t kStackSlots = isa::kStackSize / 8;

struct State {
    std::array<Value, isa::kRegisterCount> regs{};
    std::array<Value, kStackSlots> slots{};  // 8-byte slots below r10: slot i is r10 - 8 * (i + 1)

    bool join_from(const State& other) {
        bool changed = false;
        for (size_t i = 0; i < regs.size(); ++i) {
            Value v = join(regs[i], other.regs[i]);
            changed |= v != regs[i];
            regs[i] = v;
        }
        for (size_t i = 0; i < slots.size(); ++i) {
            Value v = join(slots[i], other.slots[i]);
            changed |= v != slots[i];
            slots[i] = v;
        }
        return changed;
    }
};

// The 8-byte stack slots an r10-relative access of `size` bytes at `offset` touches, as
// [first, last] (slot i is r10 - 8 * (i + 1)); nullopt when it touches none.
std::optional<std::pair<size_t, size_t>> stack_slots(int32_t offset, uint32_t size) {
    const int32_t begin = std::max(offset, -static_cast<int32_t>(isa::kStackSize));
    const int32_t end = std::min(offset + static_cast<int32_t>(size), 0);  // exclusive
    if (begin >= end) return std::nullopt;
    return std::pair<size_t, size_t>{static_cast<size_t>((-end) / 8), static_cast<size_t>((-begin - 1) / 8)};
}

// The slot an 8-byte aligned access fills exactly, if it does.
std::optional<size_t> whole_slot(int32_t offset, uint32_t size) {
    if (size != 8 || offset >= 0 || offset < -static_cast<int32_t>(isa::kStackSize) || offset % 8 != 0) {
        return std::nullopt;
    }
    return static_cast<size_t>(-offset / 8 - 1);
}

Error context_error(uint32_t slot, std::string message) {
    Location where;
    where.instruction = slot;
    return make_error(ErrorKind::InvalidContextAccess, std::move(message), std::move(where));
}

class Preparation {
 public:
    Preparation(const isa::Program& code, isa::ProgramType type, isa::Platform platform,
                const ProgramLinks& links)
        : code_(code),
          type_(type),
          platform_(platform),
          links_(links),
          layout_(isa::context_layout(type, platform)),
          states_(code.size()) {}

    Result<PreparedProgram> run() {
        PreparedProgram prepared{code_, {}};
        collect_function_entries(prepared.function_entries);
        if (auto s = resolve_references(prepared.code); !s) return s.error();
        if (layout_ != nullptr && !layout_->struct_name.empty()) {
            analyse();
            if (auto s = rewrite_context_accesses(prepared.code); !s) return s.error();
        }
        return prepared;
    }

 private:
    void collect_function_entries(std::vector<uint32_t>& entries) {
        std::set<uint32_t> found{0};
        for (const Instruction& insn : code_.instructions) {
            if (const auto* call = std::get_if<isa::Call>(&insn); call && call->op == isa::Op::CallLocal) {
                found.insert(call->target);
            } else if (const auto* load = std::get_if<isa::LoadImm64>(&insn);
                       load && load->src_kind == isa::kPseudoFunc) {
                found.insert(load->target);
                callbacks_.insert(load->target);
            }
        }
        entries.assign(found.begin(), found.end());
    }

    Status resolve_references(isa::Program& code) {
        for (size_t i = 0; i < code.instructions.size(); ++i) {
            auto* load = std::get_if<isa::LoadImm64>(&code.instructions[i]);
            if (load == nullptr || load->src_kind == 0) continue;
            Location where;
            where.instruction = code.slot[i];
            uint64_t value = 0;
            switch (load->src_kind) {
                case isa::kPseudoFunc: value = kFunctionAddressTag | load->target; break;
                case isa::kPseudoMapIndex: {
                    auto handle = links_.map_handle(static_cast<uint32_t>(load->imm_lo));
                    if (!handle) return with_location(handle.error(), where);
                    value = *handle;
                    break;
                }
                case isa::kPseudoMapIndexValue: {
                    auto address = links_.map_value_address(static_cast<uint32_t>(load->imm_lo),
                                                            static_cast<uint32_t>(load->imm_hi));
                    if (!address) return with_location(address.error(), where);
                    value = *address;
                    break;
                }
                case isa::kPseudoMapFd:
                case isa::kPseudoMapValue:
                    return make_error(
                        ErrorKind::Unsupported,
                        "ld_imm64 of a map file descriptor (src=" + std::to_string(load->src_kind) +
                            "): programs refer to maps by index once loaded from an object file",
                        where);
                default:
                    return make_error(ErrorKind::Unsupported,
                                      "ld_imm64 of a kernel variable (src=" + std::to_string(load->src_kind) +
                                          ", BTF id " + std::to_string(load->imm_lo) + ") is not supported",
                                      where);
            }
            *load = isa::LoadImm64{load->dst, 0, static_cast<int32_t>(static_cast<uint32_t>(value)),
                                   static_cast<int32_t>(static_cast<uint32_t>(value >> 32)), 0};
        }
        return Ok{};
    }

    static Error with_location(Error error, const Location& where) {
        if (!error.where.instruction) error.where.instruction = where.instruction;
        return error;
    }

    // A forward data-flow pass to a fixed point: which registers and stack slots hold the
    // context at each instruction. Subprograms start with the arguments of every call site;
    // callbacks start with nothing known (their arguments come from a helper).
    void analyse() {
        State entry;
        entry.regs[1] = Value::Context;
        flow_into(0, entry);
        for (uint32_t callback : callbacks_) {
            if (callback < states_.size() && callback != 0) flow_into(callback, State{});
        }
        while (!work_.empty()) {
            const uint32_t index = work_.front();
            work_.pop_front();
            queued_[index] = false;
            State state = *states_[index];
            step(index, state);
        }
    }

    void flow_into(uint32_t index, const State& state) {
        if (index >= states_.size()) return;
        if (!states_[index]) {
            states_[index] = state;
        } else if (!states_[index]->join_from(state)) {
            return;
        }
        if (queued_.size() != states_.size()) queued_.assign(states_.size(), false);
        if (!queued_[index]) {
            queued_[index] = true;
            work_.push_back(index);
        }
    }

    static void clobber_slots(State& state, int32_t offset, uint32_t size) {
        if (auto slots = stack_slots(offset, size)) {
            for (size_t i = slots->first; i <= slots->second; ++i) state.slots[i] = Value::Other;
        }
    }

    static void clobber_call(State& state) {
        for (int r = 0; r <= 5; ++r) state.regs[r] = Value::Other;
    }

    void step(uint32_t index, State state) {
        const Instruction& insn = code_.instructions[index];
        const uint32_t next = index + 1;
        if (const auto* alu = std::get_if<isa::Alu>(&insn)) {
            Value& dst = state.regs[alu->dst];
            const Value src = alu->src.is_reg ? state.regs[alu->src.reg] : Value::Other;
            if (alu->op == isa::Op::Mov && alu->is64 && alu->src.is_reg) {
                dst = src;
            } else if ((alu->op == isa::Op::Add || alu->op == isa::Op::Sub) && alu->is64) {
                const bool adds_zero = !alu->src.is_reg && alu->src.imm == 0;
                if (dst == Value::Context && !adds_zero) {
                    dst = Value::Offset;
                } else if (dst == Value::Other && src != Value::Other && alu->op == isa::Op::Add) {
                    dst = src == Value::Ambiguous ? Value::Ambiguous : Value::Offset;
                }
            } else {
                dst = Value::Other;
            }
            flow_into(next, state);
        } else if (const auto* endian = std::get_if<isa::Endian>(&insn)) {
            state.regs[endian->dst] = Value::Other;
            flow_into(next, state);
        } else if (const auto* jump = std::get_if<isa::Jump>(&insn)) {
            flow_into(jump->target, state);
            if (jump->op != isa::Op::Ja) flow_into(next, state);
        } else if (const auto* call = std::get_if<isa::Call>(&insn)) {
            if (call->op == isa::Op::CallLocal) {
                State callee;
                for (int r = 1; r <= 5; ++r) callee.regs[r] = state.regs[r];
                flow_into(call->target, callee);
            }
            clobber_call(state);
            flow_into(next, state);
        } else if (std::holds_alternative<isa::Exit>(insn)) {
            // Returns to every call site, whose state after the call does not depend on it.
        } else if (const auto* load = std::get_if<isa::LoadImm64>(&insn)) {
            state.regs[load->dst] = Value::Other;
            flow_into(next, state);
        } else if (const auto* ld = std::get_if<isa::Load>(&insn)) {
            Value loaded = Value::Other;
            if (ld->base == isa::kFramePointer) {
                if (auto slot = whole_slot(ld->offset, ld->size)) loaded = state.slots[*slot];
            }
            state.regs[ld->dst] = loaded;
            flow_into(next, state);
        } else if (const auto* st = std::get_if<isa::Store>(&insn)) {
            if (st->base == isa::kFramePointer) {
                clobber_slots(state, st->offset, st->size);
                if (auto slot = whole_slot(st->offset, st->size); slot && st->value.is_reg) {
                    state.slots[*slot] = state.regs[st->value.reg];
                }
            }
            flow_into(next, state);
        } else if (const auto* atomic = std::get_if<isa::Atomic>(&insn)) {
            if (atomic->op == isa::Op::LoadAcquire) {
                state.regs[atomic->dst] = Value::Other;
            } else {
                if (atomic->dst == isa::kFramePointer) clobber_slots(state, atomic->offset, atomic->size);
                if (atomic->fetch) state.regs[atomic->src] = Value::Other;
                if (atomic->op == isa::Op::AtomicCmpXchg) state.regs[0] = Value::Other;
            }
            flow_into(next, state);
        } else if (std::holds_alternative<isa::PacketLoad>(insn)) {
            clobber_call(state);  // ld_abs / ld_ind clobber r1-r5 and set r0
            flow_into(next, state);
        }
    }

    // Checks each reached access through a register that may be the context and rewrites the
    // loads of packet pointer fields.
    Status rewrite_context_accesses(isa::Program& code) {
        const ContextMemoryLayout memory = context_memory_layout(layout_->size);
        for (size_t i = 0; i < code.instructions.size(); ++i) {
            if (!states_[i]) continue;
            const State& state = *states_[i];
            Instruction& insn = code.instructions[i];
            const uint32_t slot = code.slot[i];
            if (auto* ld = std::get_if<isa::Load>(&insn)) {
                auto field =
                    context_access(state, ld->base, ld->offset, ld->size, isa::ContextAccess::Load, slot);
                if (!field) return field.error();
                if (*field == nullptr) continue;
                const isa::ContextField& f = **field;
                if (f.kind == isa::ContextFieldKind::PacketStart ||
                    f.kind == isa::ContextFieldKind::PacketEnd ||
                    f.kind == isa::ContextFieldKind::PacketMeta) {
                    ld->offset = static_cast<int16_t>(memory.pointer_offset(f.kind));
                    ld->size = 8;
                    ld->sign_extend = false;
                }
            } else if (const auto* st = std::get_if<isa::Store>(&insn)) {
                auto field =
                    context_access(state, st->base, st->offset, st->size, isa::ContextAccess::Store, slot);
                if (!field) return field.error();
            } else if (const auto* atomic = std::get_if<isa::Atomic>(&insn)) {
                const uint8_t base = atomic->op == isa::Op::LoadAcquire ? atomic->src : atomic->dst;
                if (state.regs[base] != Value::Other) {
                    return context_error(slot,
                                         "atomic access through r" + std::to_string(base) +
                                             ", which points to the context: the kernel allows only plain "
                                             "loads and stores of context fields");
                }
            }
        }
        return Ok{};
    }

    // The context field an access touches: nullptr when the base is not the context, an error
    // when the kernel would refuse the access.
    Result<const isa::ContextField*> context_access(const State& state, uint8_t base, int16_t offset,
                                                    uint8_t size, isa::ContextAccess access, uint32_t slot) {
        const Value value = state.regs[base];
        const char* verb = access == isa::ContextAccess::Load ? "load" : "store";
        const std::string what = std::to_string(size) + "-byte " + verb + " through r" + std::to_string(base);
        switch (value) {
            case Value::Other: return static_cast<const isa::ContextField*>(nullptr);
            case Value::Ambiguous:
                return context_error(slot,
                                     what +
                                         ", which points to the context on some paths and elsewhere on "
                                         "others: the kernel refuses an instruction used with different "
                                         "pointer types");
            case Value::Offset:
                return context_error(slot,
                                     what +
                                         ", the context pointer plus an offset: the kernel allows context "
                                         "accesses only at a constant offset from the unmodified pointer");
            case Value::Context: break;
        }
        const std::string struct_name(layout_->struct_name);
        if (offset < 0) {
            return context_error(
                slot, what + " at offset " + std::to_string(offset) + " before the start of " + struct_name);
        }
        const isa::ContextField* field =
            isa::context_field(type_, static_cast<uint32_t>(offset), size, access, platform_);
        if (field == nullptr) {
            return context_error(slot, what + " at offset " + std::to_string(offset) + " of " + struct_name +
                                           describe_refusal(static_cast<uint32_t>(offset), size, access));
        }
        return field;
    }

    // Why context_field refused an access: the field it falls in and what that field allows.
    std::string describe_refusal(uint32_t offset, uint32_t size, isa::ContextAccess access) const {
        for (const isa::ContextField& f : layout_->fields) {
            if (offset < f.offset || offset - f.offset >= f.size) continue;
            const std::string name = "field '" + std::string(f.name) + "'";
            const bool permitted = access == isa::ContextAccess::Load ? f.readable : f.writable;
            if (!permitted) {
                return std::string(" (") + name + " may not be " +
                       (access == isa::ContextAccess::Load ? "read" : "written") + " by " +
                       std::string(isa::program_type_name(type_)) + " programs)";
            }
            if (offset % size != 0) return " (" + name + ": the access is not aligned to its size)";
            return " (" + name + " is " + std::to_string(f.size) + " bytes at offset " +
                   std::to_string(f.offset) +
                   (f.sizes == isa::AccessSizes::WholeField ? " and must be accessed whole)" : ")");
        }
        if (offset >= layout_->size) return " (past its end, " + std::to_string(layout_->size) + " bytes)";
        return " (padding between fields)";
    }

    const isa::Program& code_;
    isa::ProgramType type_;
    isa::Platform platform_;
    const ProgramLinks& links_;
    const isa::ContextLayout* layout_;
    std::vector<std::optional<State>> states_;
    std::vector<bool> queued_;
    std::deque<uint32_t> work_;
    std::set<uint32_t> callbacks_;
};

}  // namespace

Result<PreparedProgram> prepare_program(const isa::Program& code, isa::ProgramType type,
                                        isa::Platform platform, const ProgramLinks& links) {
    if (code.instructions.empty()) return make_error(ErrorKind::EmptyProgram, "program has no instructions");
    return Preparation(code, type, platform, links).run();
}

}  // namespace bpfvm::vm
