// Raw bytes to the typed form, with the load-time structural checks every engine relies on.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::isa {

// Splits bytes into 8-byte slots; a length that is not a multiple of 8 is an error.
Result<std::vector<RawInstruction>> slots_from_bytes(std::span<const uint8_t> bytes);
std::vector<uint8_t> bytes_from_slots(std::span<const RawInstruction> slots);

// Decodes the instruction starting at slots[pc] on its own (jump targets left unresolved).
// Rejects unknown opcodes, forms the table does not have, reserved fields that are not zero,
// registers above r10, writes to r10 and a truncated LD_IMM64.
Result<Instruction> decode_instruction(std::span<const RawInstruction> slots, uint32_t pc);

// Decodes a whole program and checks its structure: not empty, every jump and local call lands
// on the start of an instruction inside the same subprogram, and no subprogram can fall off its
// end (its last instruction is exit or an unconditional jump).
Result<Program> decode_program(std::span<const RawInstruction> slots);
Result<Program> decode_program(std::span<const uint8_t> bytes);

}  // namespace bpfvm::isa
