// The reference engine: executes the decoded form, checking every memory access.
#pragma once

#include "bpfvm/vm/engine.hpp"

namespace bpfvm::vm {

// Whether each load, store and atomic is checked against the run's memory regions.
enum class MemoryChecks : uint8_t {
    Checked,  // a stray access is a MemoryFault error, never a host crash
    // No check: only for programs the verifier accepted (`--trust-verified`), whose accesses it
    // proved in bounds. An unsound verdict here is undefined behaviour in the host.
    Trusted,
};

class Interpreter final : public Engine {
 public:
    explicit Interpreter(MemoryChecks checks = MemoryChecks::Checked) : checks_(checks) {}
    std::string_view name() const override {
        return checks_ == MemoryChecks::Checked ? "interpreter" : "interpreter (trusted)";
    }
    Result<RunResult> run(const isa::Program& program, const RunInput& input) override;

 private:
    MemoryChecks checks_;
};

}  // namespace bpfvm::vm
