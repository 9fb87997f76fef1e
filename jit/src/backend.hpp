// What the backends share around code generation: the frame-layout decisions, the errors
// generated code raises (prepared at compile time), driving a backend over a module's programs
// and placing the assembled code in sealed memory. What each BPF instruction does is
// program_compiler.hpp; each backend (x86_64_backend.cpp, aarch64_backend.cpp) holds only
// instruction selection.
#pragma once

#include <asmjit/core.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime.hpp"

namespace bpfvm::jit {

// ---- frame layout ----
// r10 of a callee is the caller's r10 - kStackSize (one flat stack of kStackBytes, see
// runtime.hpp); a BPF-to-BPF call made at state->depth > kDeepestCallingDepth overflows.
inline constexpr uint32_t kDeepestCallingDepth = isa::kMaxCallDepth - 2;

// Records an error for generated code to raise at instruction `slot` (stable address).
const Error* prepare_error(CompiledModule& module, ErrorKind kind, std::string message, uint32_t slot);

// The messages of errors every backend raises.
std::string call_too_deep_message();
std::string kfunc_message(int64_t btf_id);
std::string pseudo_lddw_message(uint8_t src_kind);
std::string misaligned_atomic_message(uint32_t size);

Error asmjit_error(std::string_view arch, asmjit::Error e);

// Backends emit without checking each instruction's result; asmjit reports an instruction it
// cannot encode (an immediate or a branch displacement out of range) here, and assemble_module
// fails with the first such error instead of running code with the instruction left out.
class FirstErrorHandler final : public asmjit::ErrorHandler {
 public:
    void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter*) override {
        if (error == asmjit::kErrorOk) {
            error = err;
            this->message = message;
        }
    }
    asmjit::Error error = asmjit::kErrorOk;
    std::string message;
};

// What a backend hands over after emitting: the trampoline's label and, per compiled program,
// one label per instruction.
struct EmittedCode {
    asmjit::Label trampoline;
    const std::vector<std::vector<asmjit::Label>>* program_labels;
};

// Places the finalized code in sealed memory and records the trampoline's and every
// instruction's address. compiled_index[i]: the index in program_labels of programs[i], or -1.
Status link_module(asmjit::CodeHolder& code, CompiledModule& module, const EmittedCode& emitted,
                   const std::vector<int>& compiled_index, std::string_view arch);

// Drives a backend's Compiler, which provides: Compiler(Assembler&, CompiledModule&, const
// JitOptions&), trampoline(), program(index, program), trampoline_label(), program_labels().
template <class Compiler, class Assembler>
Result<std::unique_ptr<CompiledModule>> assemble_module(asmjit::Arch arch, std::string_view name,
                                                        std::span<const isa::Program* const> programs,
                                                        const JitOptions& options) {
    auto module = std::make_unique<CompiledModule>();
    asmjit::CodeHolder code;
    asmjit::Environment env(arch);
    if (auto e = code.init(env); e != asmjit::kErrorOk) return asmjit_error(name, e);
    FirstErrorHandler errors;
    code.setErrorHandler(&errors);
    Assembler a(&code);
    Compiler compiler(a, *module, options);
    compiler.trampoline();
    std::vector<int> compiled_index;
    for (const isa::Program* p : programs) {
        module->programs.push_back(p);
        if (p == nullptr || p->instructions.empty()) {
            compiled_index.push_back(-1);
            continue;
        }
        compiled_index.push_back(static_cast<int>(compiler.program_labels().size()));
        compiler.program(static_cast<uint32_t>(module->programs.size() - 1), *p);
    }
    if (auto e = a.finalize(); e != asmjit::kErrorOk) return asmjit_error(name, e);
    if (errors.error != asmjit::kErrorOk) {
        return make_error(
            ErrorKind::Unsupported,
            "the " + std::string(name) + " JIT could not assemble the program: " + errors.message);
    }
    auto linked =
        link_module(code, *module, EmittedCode{compiler.trampoline_label(), &compiler.program_labels()},
                    compiled_index, name);
    if (!linked) return linked.error();
    return module;
}

}  // namespace bpfvm::jit
