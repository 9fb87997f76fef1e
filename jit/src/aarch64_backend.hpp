// AArch64 instruction selection: compiles programs into a CompiledModule (see runtime.hpp).
// asmjit assembles AArch64 on any host, so the code can be inspected (not run) on x86-64.
#pragma once

#include <memory>
#include <span>

#include "runtime.hpp"

namespace bpfvm::jit {

// programs[0] is the program to run; programs[i + 1] is RunInput::programs[i] (null or empty:
// no code, a tail call to it fails at run time).
Result<std::unique_ptr<CompiledModule>> compile_aarch64(std::span<const isa::Program* const> programs,
                                                        const JitOptions& options);

}  // namespace bpfvm::jit
