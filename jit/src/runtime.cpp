#include "runtime.hpp"

#include <asmjit/core.h>

#include <cstring>
#include <optional>
#include <string>

// Generated code has no function-type signature before its entry, which clang's
// -fsanitize=function reads at an indirect call (and faults on when the code starts a page).
#if defined(__clang__)
#define NO_SANITIZE_FUNCTION __attribute__((no_sanitize("function")))
#else
#define NO_SANITIZE_FUNCTION
#endif

namespace bpfvm::jit {
namespace {

using Trampoline = uint32_t (*)(RunState*, uint64_t);

Error error_at(ErrorKind kind, uint32_t slot, std::string message) {
    Location where;
    where.instruction = slot;
    return make_error(kind, std::move(message), std::move(where));
}

// One run of a compiled module: the memory map (input regions and the stack), the recorded
// error, and callbacks for helpers.
class Execution final : public vm::FunctionCaller {
 public:
    Execution(const CompiledModule& module, const vm::RunInput& input)
        : module_(module), input_(input), memory_(input.memory), stack_(kStackBytes / 8, 0) {
        auto* base = reinterpret_cast<uint8_t*>(stack_.data());
        memory_.add(base, kStackBytes, true, "stack");
        std::memset(&state_, 0, sizeof(state_));
        for (size_t i = 0; i < input.args.size(); ++i) state_.regs[1 + i] = input.args[i];
        state_.regs[isa::kFramePointer] = reinterpret_cast<uint64_t>(base + kStackBytes);
        state_.stack_lo = reinterpret_cast<uint64_t>(base);
        state_.budget_left = input.instruction_budget == 0 ? UINT64_MAX : input.instruction_budget;
        for (size_t i = 0; i < input.context_packet_fields.size(); ++i) {
            state_.ctx_field[i] = input.context_packet_fields[i].field_address;
            state_.ctx_pointer[i] = input.context_packet_fields[i].pointer_address;
        }
        state_.execution = this;
    }

    Result<vm::RunResult> run() {
        const uint64_t start_budget = state_.budget_left;
        uint32_t aborted = enter(module_.instruction_address[0][0]);
        if (error_) return *error_;
        vm::RunResult result;
        result.r0 = aborted ? state_.stop_r0 : state_.regs[0];
        result.instructions = start_budget - state_.budget_left;  // back edges and calls
        result.instructions_exact = false;
        return result;
    }

    Result<uint64_t> call_function(uint32_t entry, const std::array<uint64_t, 5>& args) override {
        const uint32_t prog = state_.current_program;
        const isa::Program* program = module_.programs[prog];
        if (entry >= program->size()) {
            return error_at(ErrorKind::HelperFailed, slot_,
                            "callback at instruction " + std::to_string(entry) + " lies outside the program");
        }
        if (state_.depth + 1 >= isa::kMaxCallDepth) {
            return error_at(ErrorKind::StackOverflow, slot_,
                            "call would nest " + std::to_string(state_.depth + 2) + " frames; at most " +
                                std::to_string(isa::kMaxCallDepth) + " are allowed");
        }
        uint64_t saved_regs[isa::kRegisterCount];
        std::memcpy(saved_regs, state_.regs, sizeof(saved_regs));
        const uint32_t saved_depth = state_.depth, saved_slot = slot_;
        ++state_.depth;
        ++callbacks_;
        for (size_t i = 0; i < args.size(); ++i) state_.regs[1 + i] = args[i];
        state_.regs[isa::kFramePointer] -= isa::kStackSize;
        uint32_t aborted = enter(module_.instruction_address[prog][entry]);
        --callbacks_;
        const uint64_t r0 = aborted ? state_.stop_r0 : state_.regs[0];
        std::memcpy(state_.regs, saved_regs, sizeof(saved_regs));
        state_.depth = saved_depth;
        state_.current_program = prog;
        slot_ = saved_slot;
        if (error_) {
            // The helper decides what the callback's error does, as with the interpreter.
            Error e = std::move(*error_);
            error_.reset();
            return e;
        }
        return r0;
    }

    uint32_t fail(Error e) {
        error_ = std::move(e);
        return 1;
    }

    uint32_t check_access(uint64_t addr, uint32_t size, AccessKind kind, uint32_t slot) {
        static constexpr std::string_view kWhat[] = {"load", "store", "atomic", "atomic"};
        const vm::Access access =
            kind == AccessKind::Load || kind == AccessKind::AtomicRead ? vm::Access::Read : vm::Access::Write;
        auto s = memory_.check(addr, size, access, slot, kWhat[static_cast<uint32_t>(kind)]);
        if (!s) return fail(s.error());
        return 0;
    }

    uint32_t call_helper(int64_t id, uint32_t slot) {
        const vm::Helper* helper = input_.helpers ? input_.helpers->find(id) : nullptr;
        if (helper == nullptr) {
            return fail(
                error_at(ErrorKind::UnknownHelper, slot,
                         "call to helper " + std::to_string(id) + ", which this run does not provide"));
        }
        const uint32_t saved_slot = slot_;
        slot_ = slot;
        vm::HelperCall call{{state_.regs[1], state_.regs[2], state_.regs[3], state_.regs[4], state_.regs[5]},
                            memory_,
                            slot,
                            *this};
        auto ret = helper->function(call);
        slot_ = saved_slot;
        if (!ret) {
            Error e = ret.error();
            if (!e.where.instruction) e.where.instruction = slot;
            return fail(std::move(e));
        }
        if (ret->tail_call) {
            const uint32_t index = *ret->tail_call;
            if (index >= input_.programs.size() || input_.programs[index] == nullptr ||
                input_.programs[index]->instructions.empty()) {
                return fail(error_at(
                    ErrorKind::HelperFailed, slot,
                    "tail call to program " + std::to_string(index) + ", which this run does not have"));
            }
            state_.current_program = index + 1;
            state_.tail_target = module_.instruction_address[index + 1][0];
            return kRuntimeTailCall;
        }
        state_.regs[0] = ret->r0;
        if (ret->stop_program) {
            if (callbacks_ > 0)
                return fail(
                    error_at(ErrorKind::HelperFailed, slot, "a helper ended the program inside a callback"));
            state_.stop_r0 = ret->r0;
            return 1;
        }
        return 0;
    }

    uint32_t packet_load(uint64_t offset, uint32_t size, uint32_t slot) {
        const auto packet = input_.packet;
        if (packet.empty()) {
            return fail(error_at(ErrorKind::Unsupported, slot,
                                 "legacy packet load (ldabs/ldind) needs a packet, and this run has none"));
        }
        // As in the kernel, an access past the packet ends the program with r0 = 0.
        if (offset >= packet.size() || packet.size() - offset < size) {
            state_.stop_r0 = 0;
            return 1;
        }
        uint64_t v = 0;
        for (uint32_t i = 0; i < size; ++i) v = (v << 8) | packet[offset + i];  // network order
        state_.regs[0] = v;
        return 0;
    }

    uint32_t budget_exhausted(uint32_t slot) {
        const uint64_t budget = input_.instruction_budget;
        return fail(error_at(ErrorKind::BudgetExhausted, slot,
                             "instruction budget of " + std::to_string(budget) +
                                 " exhausted (does the program loop forever?)"));
    }

 private:
    NO_SANITIZE_FUNCTION uint32_t enter(uint64_t target) {
        auto trampoline = reinterpret_cast<Trampoline>(module_.trampoline);
        return trampoline(&state_, target);
    }

    const CompiledModule& module_;
    const vm::RunInput& input_;
    vm::MemoryMap memory_;
    std::vector<uint64_t> stack_;  // all frames, 8-byte aligned
    RunState state_;
    std::optional<Error> error_;
    uint32_t slot_ = 0;       // the helper call being served (callback errors)
    uint32_t callbacks_ = 0;  // callbacks running
};

Execution& execution(RunState* state) {
    return *static_cast<Execution*>(state->execution);
}

}  // namespace

uint32_t rt_check_access(RunState* state, uint64_t addr, uint32_t size, uint32_t kind, uint32_t slot) {
    return execution(state).check_access(addr, size, static_cast<AccessKind>(kind), slot);
}
uint32_t rt_call_helper(RunState* state, int64_t id, uint32_t slot) {
    return execution(state).call_helper(id, slot);
}
uint32_t rt_packet_load(RunState* state, uint64_t offset, uint32_t size, uint32_t slot) {
    return execution(state).packet_load(offset, size, slot);
}
uint32_t rt_budget_exhausted(RunState* state, uint32_t slot) {
    return execution(state).budget_exhausted(slot);
}
uint32_t rt_raise(RunState* state, const Error* error) {
    return execution(state).fail(*error);
}

CodeMemory::~CodeMemory() {
    if (data_ != nullptr) asmjit::VirtMem::release(data_, size_);
}

Status CodeMemory::allocate(size_t size) {
    void* p = nullptr;
    if (asmjit::VirtMem::alloc(&p, size, asmjit::VirtMem::MemoryFlags::kAccessRW) != asmjit::kErrorOk) {
        return make_error(ErrorKind::Unsupported,
                          "cannot allocate " + std::to_string(size) + " bytes of code memory");
    }
    data_ = static_cast<uint8_t*>(p);
    size_ = size;
    return Ok{};
}

Status CodeMemory::seal() {
    if (asmjit::VirtMem::protect(data_, size_, asmjit::VirtMem::MemoryFlags::kAccessRX) != asmjit::kErrorOk) {
        return make_error(ErrorKind::Unsupported, "cannot make the JIT code executable");
    }
    // Instruction and data caches are not coherent on AArch64 (a no-op on x86-64).
    asmjit::VirtMem::flushInstructionCache(data_, size_);
    return Ok{};
}

Result<vm::RunResult> execute(const CompiledModule& module, const vm::RunInput& input) {
    Execution execution(module, input);
    return execution.run();
}

}  // namespace bpfvm::jit
