// Constant blinding (`--blind-constants`), as the kernel does against JIT spraying: no
// immediate a program chooses reaches the generated code as it is. Each immediate operand is
// rewritten into `mov ax, imm ^ key; xor ax, key; op dst, ax` with a fresh random key, where
// ax is a register the program cannot name (kAuxRegister). The pass works on the typed program,
// so every backend gets it by mapping one more register.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::jit {

// The register the rewritten code uses for the unblinded value; backends map it to a scratch
// register that lives only from the `mov` to its use in the next instructions.
inline constexpr uint8_t kAuxRegister = isa::kRegisterCount;
inline constexpr unsigned kBackendRegisterCount = isa::kRegisterCount + 1;

struct BlindedProgram {
    isa::Program program;  // slot[] keeps each original instruction's slot, for errors
    // first[i]: the index in `program` where original instruction i begins (jump targets,
    // callback entries and tail calls use original indices).
    std::vector<uint32_t> first;
};

BlindedProgram blind_constants(const isa::Program& program, std::mt19937_64& keys);

}  // namespace bpfvm::jit
