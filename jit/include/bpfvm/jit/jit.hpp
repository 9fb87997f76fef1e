// The JIT engine: compiles the decoded program to native code and runs it with the same
// results, memory checks and errors as the interpreter (vm::Interpreter is the reference).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "bpfvm/vm/engine.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::jit {

struct JitOptions {
    vm::MemoryChecks checks = vm::MemoryChecks::Checked;
    // Constant blinding against JIT spraying: no immediate of the program appears in the code.
    bool blind_constants = false;
};

// Whether this host has a backend (x86-64 and AArch64).
bool host_supported();

// Keeps the last compiled module: a run with the same programs (compared by content, tail-call
// targets included) and options reuses it, so a capture's packets compile once. One engine per
// thread.
class JitEngine final : public vm::Engine {
 public:
    explicit JitEngine(JitOptions options = {});
    ~JitEngine() override;
    JitEngine(JitEngine&&) noexcept;
    JitEngine& operator=(JitEngine&&) noexcept;

    std::string_view name() const override {
        if (options_.checks == vm::MemoryChecks::Checked)
            return options_.blind_constants ? "jit (blinded)" : "jit";
        return options_.blind_constants ? "jit (trusted, blinded)" : "jit (trusted)";
    }
    // Compiles the program and the tail-call targets in input.programs (unless the last run had
    // the same ones), then runs it.
    Result<vm::RunResult> run(const isa::Program& program, const vm::RunInput& input) override;

    // Time spent compiling over this engine's runs, and how many compilations that was (for --stats).
    std::chrono::nanoseconds compile_time() const { return compile_time_; }
    uint64_t compilations() const { return compilations_; }

 private:
    struct Cache;
    JitOptions options_;
    std::unique_ptr<Cache> cache_;
    std::chrono::nanoseconds compile_time_{0};
    uint64_t compilations_ = 0;
};

}  // namespace bpfvm::jit
