#include "bpfvm/vm/interpreter.hpp"

#include <cstring>
#include <vector>

#include "bpfvm/isa/semantics.hpp"

namespace bpfvm::vm {
namespace {

using namespace bpfvm::isa;

enum class Flow : uint8_t { Next, Jump, Done };

struct Frame {
    const Program* program;  // the caller's: a tail call in the callee may replace the callee's
    uint32_t return_index;
    std::array<uint64_t, 4> callee_saved;  // r6..r9
    uint64_t frame_pointer;                // r10
    bool returns_to_helper;                // a callback: its exit ends call_function
};

Error error_at(ErrorKind kind, uint32_t slot, std::string message) {
    Location where;
    where.instruction = slot;
    return make_error(kind, std::move(message), std::move(where));
}

// One execution of a program: registers, frames and the stack live here.
class Execution final : public FunctionCaller {
 public:
    Execution(const Program& program, const RunInput& input, MemoryChecks checks)
        : program_(&program),
          input_(input),
          checked_(checks == MemoryChecks::Checked),
          memory_(input.memory),
          stack_(kMaxCallDepth * kStackSize / 8, 0) {
        auto* base = reinterpret_cast<uint8_t*>(stack_.data());
        memory_.add(base, stack_.size() * 8, true, "stack");
        regs_.fill(0);
        for (size_t i = 0; i < input.args.size(); ++i) regs_[1 + i] = input.args[i];
        regs_[kFramePointer] = reinterpret_cast<uint64_t>(base + stack_.size() * 8);
    }

    Result<RunResult> run() {
        auto flow = loop();
        if (!flow) return flow.error();
        return RunResult{regs_[0], executed_};
    }

    Result<uint64_t> call_function(uint32_t entry, const std::array<uint64_t, 5>& args) override {
        if (entry >= program_->size()) {
            return error_at(ErrorKind::HelperFailed, slot(),
                            "callback at instruction " + std::to_string(entry) + " lies outside the program");
        }
        const uint32_t saved_pc = pc_, saved_next = next_;
        if (auto pushed = push_frame(next_, true); !pushed) return pushed.error();
        for (size_t i = 0; i < args.size(); ++i) regs_[1 + i] = args[i];
        pc_ = entry;
        auto flow = loop();
        if (!flow) return flow.error();
        if (stopped_)
            return error_at(ErrorKind::HelperFailed, slot(), "a helper ended the program inside a callback");
        pc_ = saved_pc;
        next_ = saved_next;
        return regs_[0];
    }

 private:
    // Runs from pc_ until the outermost frame exits or a callback returns to its helper.
    Result<Flow> loop() {
        const uint64_t budget = input_.instruction_budget;
        while (true) {
            if (budget != 0 && executed_ == budget) {
                return error_at(ErrorKind::BudgetExhausted, slot(),
                                "instruction budget of " + std::to_string(budget) +
                                    " exhausted (does the program loop forever?)");
            }
            ++executed_;
            next_ = pc_ + 1;
            auto flow =
                std::visit([this](const auto& insn) { return step(insn); }, program_->instructions[pc_]);
            if (!flow) return flow.error();
            if (*flow == Flow::Done) return Flow::Done;
            pc_ = next_;
        }
    }

    uint32_t slot() const { return program_->slot[pc_]; }
    uint64_t operand64(const Operand& o) const {
        return o.is_reg ? regs_[o.reg] : static_cast<uint64_t>(static_cast<int64_t>(o.imm));
    }

    Result<Flow> step(const Alu& a) {
        uint64_t& dst = regs_[a.dst];
        uint64_t src = operand64(a.src);
        if (a.op == Op::MovSx) {
            uint64_t extended = sign_extend(src, a.sx_bits);
            dst = a.is64 ? extended : static_cast<uint32_t>(extended);
        } else if (a.is64) {
            dst = alu<uint64_t>(a.op, dst, src);
        } else {
            dst = alu<uint32_t>(a.op, static_cast<uint32_t>(dst), static_cast<uint32_t>(src));
        }
        return Flow::Next;
    }

    Result<Flow> step(const Endian& e) {
        regs_[e.dst] = byte_order(e.op, regs_[e.dst], e.bits);
        return Flow::Next;
    }

    Result<Flow> step(const Jump& j) {
        uint64_t dst = regs_[j.dst], src = operand64(j.src);
        bool taken = j.is32
                         ? condition<uint32_t>(j.op, static_cast<uint32_t>(dst), static_cast<uint32_t>(src))
                         : condition<uint64_t>(j.op, dst, src);
        if (taken) next_ = j.target;
        return Flow::Jump;
    }

    Result<Flow> step(const Call& c) {
        switch (c.op) {
            case Op::CallLocal: return call_local(c.target);
            case Op::CallHelper: return call_helper(c.imm);
            case Op::CallReg: return call_helper(static_cast<int64_t>(regs_[c.reg]));
            default:
                return error_at(ErrorKind::Unsupported, slot(),
                                "calls of kernel functions (kfunc, BTF id " + std::to_string(c.imm) +
                                    ") are not supported");
        }
    }

    Status push_frame(uint32_t return_index, bool returns_to_helper) {
        if (frames_.size() + 1 >= kMaxCallDepth) {
            return error_at(ErrorKind::StackOverflow, slot(),
                            "call would nest " + std::to_string(frames_.size() + 2) + " frames; at most " +
                                std::to_string(kMaxCallDepth) + " are allowed");
        }
        frames_.push_back(Frame{program_,
                                return_index,
                                {regs_[6], regs_[7], regs_[8], regs_[9]},
                                regs_[kFramePointer],
                                returns_to_helper});
        regs_[kFramePointer] -= kStackSize;
        return Ok{};
    }

    Result<Flow> call_local(uint32_t target) {
        if (auto pushed = push_frame(next_, false); !pushed) return pushed.error();
        next_ = target;
        return Flow::Jump;
    }

    Result<Flow> call_helper(int64_t id) {
        const Helper* helper = input_.helpers ? input_.helpers->find(id) : nullptr;
        if (helper == nullptr) {
            return error_at(ErrorKind::UnknownHelper, slot(),
                            "call to helper " + std::to_string(id) + ", which this run does not provide");
        }
        HelperCall call{{regs_[1], regs_[2], regs_[3], regs_[4], regs_[5]}, memory_, slot(), *this};
        auto ret = helper->function(call);
        if (!ret) {
            Error e = ret.error();
            if (!e.where.instruction) e.where.instruction = slot();
            return e;
        }
        if (ret->tail_call) return tail_call(*ret->tail_call);
        regs_[0] = ret->r0;
        if (ret->stop_program) {
            stopped_ = true;
            frames_.clear();
            return Flow::Done;
        }
        return Flow::Next;
    }

    Result<Flow> tail_call(uint32_t index) {
        if (index >= input_.programs.size() || input_.programs[index] == nullptr ||
            input_.programs[index]->instructions.empty()) {
            return error_at(
                ErrorKind::HelperFailed, slot(),
                "tail call to program " + std::to_string(index) + ", which this run does not have");
        }
        program_ = input_.programs[index];
        next_ = 0;
        return Flow::Jump;
    }

    Result<Flow> step(const Exit&) {
        if (frames_.empty()) return Flow::Done;
        const Frame f = frames_.back();
        frames_.pop_back();
        for (int i = 0; i < 4; ++i) regs_[6 + i] = f.callee_saved[i];
        regs_[kFramePointer] = f.frame_pointer;
        program_ = f.program;
        next_ = f.return_index;
        return f.returns_to_helper ? Flow::Done : Flow::Jump;
    }

    Result<Flow> step(const LoadImm64& l) {
        if (l.src_kind != 0) {
            return error_at(ErrorKind::Unsupported, slot(),
                            "lddw with src=" + std::to_string(l.src_kind) +
                                " refers to a map, variable or function that only a loaded object provides");
        }
        regs_[l.dst] = l.value();
        return Flow::Next;
    }

    Result<Flow> step(const Load& l) {
        uint64_t addr = regs_[l.base] + static_cast<int64_t>(l.offset);
        if (checked_) {
            if (auto s = memory_.check(addr, l.size, Access::Read, slot(), "load"); !s) return s.error();
        }
        if (l.size == 4 && !l.sign_extend) {
            if (const uint64_t pointer = context_packet_pointer(addr); pointer != 0) {
                std::memcpy(&regs_[l.dst], reinterpret_cast<const void*>(pointer), 8);
                return Flow::Next;
            }
        }
        uint64_t v = 0;
        std::memcpy(&v, reinterpret_cast<const void*>(addr), l.size);  // little-endian host
        regs_[l.dst] = l.sign_extend ? sign_extend(v, l.size * 8) : v;
        return Flow::Next;
    }

    // Where the 64-bit packet pointer behind a context field at `addr` lives, or 0.
    uint64_t context_packet_pointer(uint64_t addr) const {
        for (const ContextPacketField& field : input_.context_packet_fields) {
            if (field.field_address != 0 && field.field_address == addr) return field.pointer_address;
        }
        return 0;
    }

    Result<Flow> step(const Store& s) {
        uint64_t addr = regs_[s.base] + static_cast<int64_t>(s.offset);
        if (checked_) {
            if (auto st = memory_.check(addr, s.size, Access::Write, slot(), "store"); !st) return st.error();
        }
        uint64_t v = operand64(s.value);
        std::memcpy(reinterpret_cast<void*>(addr), &v, s.size);
        return Flow::Next;
    }

    Result<Flow> step(const Atomic& a) {
        bool acquire = a.op == Op::LoadAcquire;
        uint64_t addr = regs_[acquire ? a.src : a.dst] + static_cast<int64_t>(a.offset);
        Access access = acquire ? Access::Read : Access::Write;
        if (checked_) {
            if (auto s = memory_.check(addr, a.size, access, slot(), "atomic"); !s) return s.error();
        }
        if (addr % a.size != 0) {
            return error_at(ErrorKind::MemoryFault, slot(),
                            "atomic access of " + std::to_string(a.size) + " bytes at a misaligned address");
        }
        switch (a.size) {
            case 1: atomic<uint8_t>(a, addr); break;
            case 2: atomic<uint16_t>(a, addr); break;
            case 4: atomic<uint32_t>(a, addr); break;
            default: atomic<uint64_t>(a, addr); break;
        }
        return Flow::Next;
    }

    template <typename U>
    void atomic(const Atomic& a, uint64_t addr) {
        U* p = reinterpret_cast<U*>(addr);
        switch (a.op) {
            case Op::LoadAcquire: regs_[a.dst] = __atomic_load_n(p, __ATOMIC_ACQUIRE); return;
            case Op::StoreRelease:
                __atomic_store_n(p, static_cast<U>(regs_[a.src]), __ATOMIC_RELEASE);
                return;
            case Op::AtomicCmpXchg: {
                U expected = static_cast<U>(regs_[0]);
                __atomic_compare_exchange_n(p, &expected, static_cast<U>(regs_[a.src]), false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
                regs_[0] = expected;  // the old value, zero-extended
                return;
            }
            default: {
                U operand = static_cast<U>(regs_[a.src]);
                U old = __atomic_load_n(p, __ATOMIC_RELAXED);
                while (!__atomic_compare_exchange_n(p, &old, atomic_result<U>(a.op, old, operand), true,
                                                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
                }
                if (a.fetch) regs_[a.src] = old;
                return;
            }
        }
    }

    Result<Flow> step(const PacketLoad& p) {
        if (input_.packet.empty()) {
            return error_at(ErrorKind::Unsupported, slot(),
                            "legacy packet load (ldabs/ldind) needs a packet, and this run has none");
        }
        uint64_t offset = static_cast<uint64_t>(static_cast<int64_t>(p.imm));
        if (p.indirect) offset += regs_[p.src];
        // As in the kernel, an access past the packet ends the program with r0 = 0.
        if (offset >= input_.packet.size() || input_.packet.size() - offset < p.size) {
            regs_[0] = 0;
            return Flow::Done;
        }
        uint64_t v = 0;
        for (uint8_t i = 0; i < p.size; ++i) v = (v << 8) | input_.packet[offset + i];  // network order
        regs_[0] = v;
        return Flow::Next;
    }

    const Program* program_;
    const RunInput& input_;
    const bool checked_;  // MemoryChecks::Checked
    MemoryMap memory_;
    std::vector<uint64_t> stack_;  // all frames, 8-byte aligned
    std::array<uint64_t, kRegisterCount> regs_{};
    std::vector<Frame> frames_;
    uint32_t pc_ = 0;
    uint32_t next_ = 0;
    uint64_t executed_ = 0;
    bool stopped_ = false;  // a helper ended the program
};

}  // namespace

Result<RunResult> Interpreter::run(const isa::Program& program, const RunInput& input) {
    if (program.instructions.empty())
        return make_error(ErrorKind::EmptyProgram, "program has no instructions");
    Execution execution(program, input, checks_);
    return execution.run();
}

}  // namespace bpfvm::vm
