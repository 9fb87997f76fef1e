// The reference engine: executes the decoded form, checking every memory access.
#pragma once

#include "bpfvm/vm/engine.hpp"

namespace bpfvm::vm {

class Interpreter final : public Engine {
 public:
    std::string_view name() const override { return "interpreter"; }
    Result<RunResult> run(const isa::Program& program, const RunInput& input) override;
};

}  // namespace bpfvm::vm
