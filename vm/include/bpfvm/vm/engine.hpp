// What a run needs and yields, and the Engine interface the interpreter and the JITs implement.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/vm/helpers.hpp"
#include "bpfvm/vm/memory.hpp"

namespace bpfvm::vm {

// Instructions an unverified program may execute before it is stopped, so an infinite loop
// ends with an error instead of a hang.
inline constexpr uint64_t kDefaultInstructionBudget = 1'000'000;

// One of a context's 32-bit packet pointer fields (data, data_end, data_meta) and the 64-bit
// pointer a load of it gives. Preparation rewrites the loads it can prove go through the
// context; a load through a pointer it cannot follow (the context pointer kept in a struct on
// the stack and read back in a callback or subprogram) is redirected by the engine instead.
struct ContextPacketField {
    uint64_t field_address = 0;    // the field in the context struct; 0: the context has none
    uint64_t pointer_address = 0;  // where the 64-bit pointer lives
};

struct RunInput {
    const HelperTable* helpers = nullptr;
    // Regions besides the stack, which the engine adds itself.
    MemoryMap memory;
    // Initial r1..r5 (r1 is the context or memory pointer, r2 its length for raw programs).
    std::array<uint64_t, 5> args{};
    // The packet that legacy BPF_ABS/BPF_IND loads read; empty when the program type has none.
    std::span<const uint8_t> packet{};
    // 0 means no limit (only for programs the caller trusts to terminate).
    uint64_t instruction_budget = kDefaultInstructionBudget;
    // The programs a tail call may enter, by the index a helper returns in
    // HelperReturn::tail_call; empty when the run has no tail call targets.
    std::span<const isa::Program* const> programs{};
    // The packet pointer fields of the context, for every 4-byte zero-extending load.
    std::array<ContextPacketField, 3> context_packet_fields{};
};

struct RunResult {
    uint64_t r0 = 0;
    // Instructions executed (the interpreter), or, when instructions_exact is false, the back
    // edges and calls counted against the budget (the JIT counts no single instructions).
    uint64_t instructions = 0;
    bool instructions_exact = true;
};

class Engine {
 public:
    virtual ~Engine() = default;
    virtual std::string_view name() const = 0;
    virtual Result<RunResult> run(const isa::Program& program, const RunInput& input) = 0;
};

}  // namespace bpfvm::vm
