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
};

// Whether this host has a backend (x86-64 and AArch64).
bool host_supported();

class JitEngine final : public vm::Engine {
 public:
    explicit JitEngine(JitOptions options = {}) : options_(options) {}
    std::string_view name() const override {
        return options_.checks == vm::MemoryChecks::Checked ? "jit" : "jit (trusted)";
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
