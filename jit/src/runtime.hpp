// The part of the JIT above the backends: the state generated code works on, the C++ functions
// it calls, sealed code memory, and running a compiled module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/jit/jit.hpp"
#include "bpfvm/vm/engine.hpp"
#include "constant_blinding.hpp"

namespace bpfvm::jit {

// What generated code reaches through its state register (a callee-saved host register).
// Standard layout: backends address fields with offsetof.
struct RunState {
    uint64_t regs[kBackendRegisterCount];  // BPF registers and ax, spilled around runtime calls
    uint64_t entry_sp;                     // host stack pointer of the innermost entry (abort path)
    uint64_t budget_left;                  // back edges and calls left before BudgetExhausted
    uint64_t stack_lo;                     // lowest address of the BPF stack (fast region check)
    uint64_t tail_target;                  // code address a tail call continues at
    uint64_t stop_r0;                      // r0 when an abort is a normal end (stop_program, ldabs)
    uint64_t ctx_field[3];                 // vm::ContextPacketField::field_address
    uint64_t ctx_pointer[3];               // vm::ContextPacketField::pointer_address
    uint32_t depth;                        // BPF frames below the current one
    uint32_t current_program;              // index into the module's programs
    void* execution;                       // the runtime's Execution (opaque to generated code)
};
static_assert(std::is_standard_layout_v<RunState>);

inline constexpr uint64_t kStackBytes = uint64_t{isa::kMaxCallDepth} * isa::kStackSize;

// Runtime entry points called from generated code (System V ABI). Each returns 0 to continue;
// nonzero means abort: an Error (or a normal end with stop_r0) has been recorded, and the
// generated code jumps to its exit path.
enum class AccessKind : uint32_t { Load = 0, Store = 1, AtomicRead = 2, AtomicWrite = 3 };
uint32_t rt_check_access(RunState* state, uint64_t addr, uint32_t size, uint32_t kind, uint32_t slot);
// Returns kRuntimeTailCall for a tail call: continue at state->tail_target with the registers
// unchanged.
inline constexpr uint32_t kRuntimeTailCall = 2;
uint32_t rt_call_helper(RunState* state, int64_t id, uint32_t slot);
// r0 in state->regs[0]; aborts with stop_r0 = 0 past the packet's end.
uint32_t rt_packet_load(RunState* state, uint64_t offset, uint32_t size, uint32_t slot);
uint32_t rt_budget_exhausted(RunState* state, uint32_t slot);
// Records an error prepared at compile time.
uint32_t rt_raise(RunState* state, const Error* error);

// Code memory: written while RW, then sealed read+execute (never both); freed with its owner.
class CodeMemory {
 public:
    CodeMemory() = default;
    CodeMemory(const CodeMemory&) = delete;
    CodeMemory& operator=(const CodeMemory&) = delete;
    ~CodeMemory();
    // Allocates `size` RW bytes.
    Status allocate(size_t size);
    Status seal();
    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

 private:
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// What a backend produces: the code of the entry trampoline and of every program.
// trampoline: uint32_t (*)(RunState*, uint64_t target) — loads the BPF registers from
// state->regs, calls target, stores r0 in state->regs[0]; returns 0, or 1 after an abort.
struct CompiledModule {
    CodeMemory code;
    uint64_t trampoline = 0;
    // Per program (0: the main one, i + 1: RunInput::programs[i]), the code address of each
    // instruction (empty for a missing tail-call target).
    std::vector<std::vector<uint64_t>> instruction_address;
    std::vector<const isa::Program*> programs;
    std::deque<Error> errors;  // prepared errors generated code raises (stable addresses)
};

// Compiles programs for this host (see backends.hpp for what programs holds), with their
// constants blinded when the options ask for it.
Result<std::unique_ptr<CompiledModule>> compile_module(std::span<const isa::Program* const> programs,
                                                       const JitOptions& options);

// Runs a compiled module's program 0 on the input (the memory checks are compiled in).
Result<vm::RunResult> execute(const CompiledModule& module, const vm::RunInput& input);

}  // namespace bpfvm::jit
