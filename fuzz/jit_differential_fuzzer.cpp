// Arbitrary bytes as a program, run by the interpreter and by the JIT (plain or with blinded
// constants) on the same memory: both must end alike — the same r0 and memory, or the same error
// kind at the same instruction. Runs that exhaust the budget are not compared (the engines count
// it differently), nor are r0 and memory where r10 flows into a value (stack addresses differ).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <variant>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/jit/jit.hpp"
#include "bpfvm/vm/interpreter.hpp"

using namespace bpfvm;

namespace {

// Whether the frame pointer is used as a value (not only as a load or store base).
bool frame_pointer_escapes(const isa::Program& program) {
    constexpr uint8_t fp = isa::kFramePointer;
    auto reads = [](const isa::Operand& o) { return o.is_reg && o.reg == fp; };
    for (const isa::Instruction& insn : program.instructions) {
        const bool escapes = std::visit(
            [&](const auto& x) -> bool {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, isa::Alu>) return x.dst == fp || reads(x.src);
                if constexpr (std::is_same_v<T, isa::Endian>) return x.dst == fp;
                if constexpr (std::is_same_v<T, isa::Jump>) return x.dst == fp || reads(x.src);
                if constexpr (std::is_same_v<T, isa::Store>) return reads(x.value);
                if constexpr (std::is_same_v<T, isa::Atomic>) return x.src == fp;
                if constexpr (std::is_same_v<T, isa::PacketLoad>) return x.indirect && x.src == fp;
                if constexpr (std::is_same_v<T, isa::Call>) return x.op == isa::Op::CallReg && x.reg == fp;
                return false;
            },
            insn);
        if (escapes) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The first byte: input memory size (low 6 bits) and whether the JIT blinds constants.
    if (size < 1) return 0;
    auto program = isa::decode_program(std::span<const uint8_t>(data + 1, (size - 1) / 8 * 8));
    if (!program) return 0;

    static const vm::HelperTable helpers = vm::conformance_helpers();
    std::vector<uint8_t> memory(data[0] % 64, 0x5a);
    std::vector<uint8_t> after[2];
    Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
    for (int engine = 0; engine < 2; ++engine) {
        std::fill(memory.begin(), memory.end(), 0x5a);
        vm::RunInput input;
        input.helpers = &helpers;
        input.instruction_budget = 20000;
        input.memory.add(memory.data(), memory.size(), true, "input");
        input.args = {reinterpret_cast<uint64_t>(memory.data()), memory.size(), 0, 0, 0};
        const jit::JitOptions options{vm::MemoryChecks::Checked, (data[0] & 0x80) != 0};
        results[engine] = engine == 0 ? vm::Interpreter().run(*program, input)
                                      : jit::JitEngine(options).run(*program, input);
        after[engine] = memory;
    }
    const Result<vm::RunResult>&interpreted = results[0], &jitted = results[1];
    if (!interpreted && interpreted.error().kind == ErrorKind::BudgetExhausted) return 0;
    if (interpreted.ok() != jitted.ok()) std::abort();
    if (!interpreted) {
        if (interpreted.error().kind != jitted.error().kind) std::abort();
        if (interpreted.error().where.instruction != jitted.error().where.instruction) std::abort();
        return 0;
    }
    if (frame_pointer_escapes(*program)) return 0;
    if (interpreted->r0 != jitted->r0 || after[0] != after[1]) std::abort();
    return 0;
}
