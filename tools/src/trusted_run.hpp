// `bpfvm run --trust-verified`: a program runs without run-time access checks only once the
// verifier has accepted it and every program it may enter by a tail call, so the checks the
// interpreter skips are the ones the verifier proved unnecessary.
#pragma once

#include <cstddef>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/program_types.hpp"
#include "bpfvm/loader/object.hpp"

namespace bpfvm::tools {

// The program at `program_index` and, when the object has a prog array, every other program
// that loaded: an error naming the first rejection otherwise.
Status verify_for_trusted_run(const loader::Object& object, size_t program_index);

// A raw program (no maps) of `type`.
Status verify_for_trusted_run(const isa::Program& program, isa::ProgramType type);

}  // namespace bpfvm::tools
