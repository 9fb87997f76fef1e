// Arbitrary bytes as a bytes program (r1 = data, r2 = its length) through the verifier: it must
// end with a verdict within its budget, and a program it accepts must run in the checked
// interpreter without a memory fault, on data of the length the first input byte picks. The
// JIT then runs it trusted (no access checks; constants blinded when the first byte's top bit
// is set) on the same data and must leave the same r0 and data.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/jit/jit.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "bpfvm/vm/interpreter.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::vector<uint8_t> memory(data[0] % 96, 0x5a);
    auto program = isa::decode_program(std::span<const uint8_t>(data + 1, (size - 1) / 8 * 8));
    if (!program) return 0;

    verifier::VerifyOptions options;
    options.max_processed_instructions = 20000;
    verifier::VerifyResult result = verifier::verify(*program, isa::ProgramType::Bytes, {}, options);
    if (!result.accepted) {
        if (result.diagnostics.empty()) std::abort();  // a rejection always says why
        return 0;
    }
    // Helpers differ between the verifier's kernel prototypes and the conformance table: only
    // programs without calls run.
    for (const auto& insn : program->instructions) {
        if (std::holds_alternative<isa::Call>(insn)) return 0;
    }
    static const vm::HelperTable helpers = vm::conformance_helpers();
    vm::RunInput input;
    input.helpers = &helpers;
    input.instruction_budget = 200000;
    input.memory.add(memory.data(), memory.size(), true, "input");
    input.args = {reinterpret_cast<uint64_t>(memory.data()), memory.size(), 0, 0, 0};
    auto outcome = vm::Interpreter().run(*program, input);
    if (!outcome.ok() && outcome.error().kind == ErrorKind::MemoryFault) std::abort();  // unsound
    if (!outcome.ok() || !jit::host_supported()) return 0;
    // This run touched only memory it may: the trusted JIT, doing the same, is safe to compare.
    const std::vector<uint8_t> interpreted = memory;
    std::fill(memory.begin(), memory.end(), 0x5a);
    auto jitted = jit::JitEngine(jit::JitOptions{vm::MemoryChecks::Trusted, (data[0] & 0x80) != 0})
                      .run(*program, input);
    if (!jitted.ok() || jitted->r0 != outcome->r0 || memory != interpreted) std::abort();
    return 0;
}
