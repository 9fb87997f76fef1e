// The backends' entry points: each compiles programs into a CompiledModule (see runtime.hpp).
// asmjit assembles either architecture on any host, so code of the other one can be inspected
// (not run); compile_module (runtime.hpp) picks the host's.
#pragma once

#include <memory>
#include <span>

#include "runtime.hpp"

namespace bpfvm::jit {

// programs[0] is the program to run; programs[i + 1] is RunInput::programs[i] (null or empty:
// no code, a tail call to it fails at run time).
Result<std::unique_ptr<CompiledModule>> compile_x86_64(std::span<const isa::Program* const> programs,
                                                       const JitOptions& options);
Result<std::unique_ptr<CompiledModule>> compile_aarch64(std::span<const isa::Program* const> programs,
                                                        const JitOptions& options);

}  // namespace bpfvm::jit
