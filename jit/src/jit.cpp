#include "bpfvm/jit/jit.hpp"

#include <vector>

#include "aarch64_backend.hpp"
#include "runtime.hpp"
#include "x86_64_backend.hpp"

namespace bpfvm::jit {

bool host_supported() {
#if defined(__x86_64__) || defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

Result<vm::RunResult> JitEngine::run(const isa::Program& program, const vm::RunInput& input) {
    if (program.instructions.empty())
        return make_error(ErrorKind::EmptyProgram, "program has no instructions");
    if (!host_supported()) return make_error(ErrorKind::Unsupported, "the JIT has no backend for this host");
    std::vector<const isa::Program*> programs{&program};
    programs.insert(programs.end(), input.programs.begin(), input.programs.end());
    const auto start = std::chrono::steady_clock::now();
#if defined(__aarch64__)
    auto module = compile_aarch64(programs, options_);
#else
    auto module = compile_x86_64(programs, options_);
#endif
    last_compile_time_ = std::chrono::steady_clock::now() - start;
    if (!module) return module.error();
    return execute(**module, input);
}

}  // namespace bpfvm::jit
