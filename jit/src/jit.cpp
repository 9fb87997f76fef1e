#include "bpfvm/jit/jit.hpp"

#include <random>
#include <vector>

#include "backends.hpp"
#include "constant_blinding.hpp"
#include "runtime.hpp"

namespace bpfvm::jit {

bool host_supported() {
#if defined(__x86_64__) || defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

namespace {

// The backend of this host's architecture.
Result<std::unique_ptr<CompiledModule>> compile_for_host(std::span<const isa::Program* const> programs,
                                                         const JitOptions& options) {
#if defined(__aarch64__)
    return compile_aarch64(programs, options);
#else
    return compile_x86_64(programs, options);
#endif
}

}  // namespace

Result<std::unique_ptr<CompiledModule>> compile_module(std::span<const isa::Program* const> programs,
                                                       const JitOptions& options) {
    if (!options.blind_constants) return compile_for_host(programs, options);
    std::random_device entropy;
    std::mt19937_64 keys((uint64_t{entropy()} << 32) | entropy());
    std::vector<BlindedProgram> blinded;
    blinded.reserve(programs.size());  // `rewritten` points into it
    std::vector<const isa::Program*> rewritten;
    for (const isa::Program* p : programs) {
        if (p == nullptr || p->instructions.empty()) {
            rewritten.push_back(p);
            continue;
        }
        blinded.push_back(blind_constants(*p, keys));
        rewritten.push_back(&blinded.back().program);
    }
    auto module = compile_for_host(rewritten, options);
    if (!module) return module;
    // The runtime knows the programs by their original instruction indices.
    size_t next = 0;
    for (size_t i = 0; i < programs.size(); ++i) {
        (*module)->programs[i] = programs[i];
        if (rewritten[i] == programs[i]) continue;
        std::vector<uint64_t>& addresses = (*module)->instruction_address[i];
        std::vector<uint64_t> original;
        for (uint32_t first : blinded[next++].first) original.push_back(addresses[first]);
        addresses = std::move(original);
    }
    return module;
}

struct JitEngine::Cache {
    std::vector<isa::Program> programs;  // copies of what was compiled (empty: a missing target)
    std::unique_ptr<CompiledModule> module;

    bool holds(std::span<const isa::Program* const> wanted) const {
        if (wanted.size() != programs.size()) return false;
        for (size_t i = 0; i < wanted.size(); ++i) {
            const bool missing = wanted[i] == nullptr || wanted[i]->instructions.empty();
            if (missing ? !programs[i].instructions.empty() : !(*wanted[i] == programs[i])) return false;
        }
        return true;
    }
};

JitEngine::JitEngine(JitOptions options) : options_(options) {}
JitEngine::~JitEngine() = default;
JitEngine::JitEngine(JitEngine&&) noexcept = default;
JitEngine& JitEngine::operator=(JitEngine&&) noexcept = default;

Result<vm::RunResult> JitEngine::run(const isa::Program& program, const vm::RunInput& input) {
    if (program.instructions.empty())
        return make_error(ErrorKind::EmptyProgram, "program has no instructions");
    if (!host_supported()) return make_error(ErrorKind::Unsupported, "the JIT has no backend for this host");
    std::vector<const isa::Program*> programs{&program};
    programs.insert(programs.end(), input.programs.begin(), input.programs.end());
    if (!cache_ || !cache_->holds(programs)) {
        cache_.reset();
        auto fresh = std::make_unique<Cache>();
        std::vector<const isa::Program*> copies;
        fresh->programs.reserve(programs.size());  // `copies` points into it
        for (const isa::Program* p : programs) {
            fresh->programs.push_back(p != nullptr ? *p : isa::Program{});
            copies.push_back(&fresh->programs.back());
        }
        const auto start = std::chrono::steady_clock::now();
        auto module = compile_module(copies, options_);
        compile_time_ += std::chrono::steady_clock::now() - start;
        ++compilations_;
        if (!module) return module.error();
        fresh->module = std::move(*module);
        cache_ = std::move(fresh);
    }
    return execute(*cache_->module, input);
}

}  // namespace bpfvm::jit
