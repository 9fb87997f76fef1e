// Arbitrary bytes as a program: decoding must end in a program or an error; a decoded program
// must re-encode to a stable form, print, and run to a result or an error within its budget.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/vm/interpreter.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The first byte chooses how much input memory the program gets; the rest is the program.
    if (size < 1) return 0;
    std::vector<uint8_t> memory(data[0] % 64, 0x5a);
    auto program = isa::decode_program(std::span<const uint8_t>(data + 1, (size - 1) / 8 * 8));
    if (!program) return 0;

    auto encoded = isa::encode(*program);
    auto again = isa::decode_program(std::span<const isa::RawInstruction>(encoded));
    if (!again || isa::encode(*again) != encoded) std::abort();  // encoding is not stable
    for (const auto& insn : program->instructions) {
        if (isa::disassemble(insn).empty()) std::abort();
    }

    static const vm::HelperTable helpers = vm::conformance_helpers();
    vm::RunInput input;
    input.helpers = &helpers;
    input.instruction_budget = 20000;
    input.memory.add(memory.data(), memory.size(), true, "input");
    input.args = {reinterpret_cast<uint64_t>(memory.data()), memory.size(), 0, 0, 0};
    (void)vm::Interpreter().run(*program, input);
    return 0;
}
