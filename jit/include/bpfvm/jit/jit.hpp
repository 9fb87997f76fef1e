// The JIT engine: compiles the decoded program to native code and runs it with the same
// results, memory checks and errors as the interpreter (vm::Interpreter is the reference).
#pragma once

#include <chrono>
#include <string_view>

#include "bpfvm/vm/engine.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::jit {

struct JitOptions {
    vm::MemoryChecks checks = vm::MemoryChecks::Checked;
    // Constant blinding against JIT spraying: no immediate of the program appears in the code.
    bool blind_constants = false;
};

// Whether this host has a backend (x86-64 today).
bool host_supported();

class JitEngine final : public vm::Engine {
 public:
    explicit JitEngine(JitOptions options = {}) : options_(options) {}
    std::string_view name() const override {
        if (options_.checks == vm::MemoryChecks::Checked)
            return options_.blind_constants ? "jit (blinded)" : "jit";
        return options_.blind_constants ? "jit (trusted, blinded)" : "jit (trusted)";
    }
    // Compiles the program and the tail-call targets in input.programs, then runs it.
    Result<vm::RunResult> run(const isa::Program& program, const vm::RunInput& input) override;

    // How long the last run() spent compiling (for --stats).
    std::chrono::nanoseconds last_compile_time() const { return last_compile_time_; }

 private:
    JitOptions options_;
    std::chrono::nanoseconds last_compile_time_{0};
};

}  // namespace bpfvm::jit
