// Three engines, one answer: the random programs of the JIT differential test
// (random_program.hpp) run on bpfvm's interpreter, bpfvm's x86-64 JIT and the running Linux
// kernel's own JIT (BPF_PROG_LOAD + BPF_PROG_TEST_RUN), and every register, the stack scratch
// slots and the return value must be equal.
//
// The wrapper is BPF_PROG_TYPE_SYSCALL. Its context is a plain user buffer: BPF_PROG_TEST_RUN
// copies ctx_in (at most 64 KiB) into the kernel, runs the program with r1 pointing at the copy
// and copies the buffer back into ctx_in afterwards (the syscall type takes no ctx_out or
// data_in). The verifier lets a syscall program read and write any aligned offset of its
// context, so the generated programs need no wrapping at all: r1 points at the same memory
// block as in a bpfvm run, the program writes r0-r9 and its stack slots there at the end, and
// the buffer comes back with them. Syscall programs must be loaded sleepable (BPF_F_SLEEPABLE). test_run
// reports retval, the low 32 bits of r0 (the full r0 is in the buffer too). XDP would work too, but needs a
// data/data_end bounds check in every program and offers nothing more here.
//
// What the kernel's verifier refuses, and how the generator keeps within it (kernel_verifiable):
//  - immediate divisors of zero and immediate shift amounts outside [0, width) are refused at
//    load time; registers holding 0 or 64 are accepted (and defined by the ISA), so the edge
//    values stay, in registers;
//  - stack accesses must be aligned to their size (the generator aligns them) and read only
//    what was written (the scratch slots are initialised first);
//  - atomics are refused on the context, so they go to the stack.
// Some registers start from the context rather than from lddw, so the verifier does not know
// them and the kernel JIT really compiles both sides of the branches on them (with constants
// only, the verifier of a privileged loader rewrites decided branches and removes dead code).
// Programs the verifier still refuses (the complexity limit, rules not modelled here) are
// counted and skipped; the test requires more than 80% of the programs to be accepted so it
// cannot pass by testing nothing.
//
// Optional parts of the ISA (cpu v4: sdiv/smod, movsx, bswap, sign-extending loads; atomics
// with fetch, xchg, cmpxchg) are probed first, each by loading a small program: the generator
// uses only what the running kernel accepts, and the summary names what was left out.
//
// A second test runs the conformance cases (/work/shared/conformance) the same way, those that
// call no helper and that the kernel loads.
//
// Needs root (or CAP_BPF + CAP_PERFMON) on Linux: the test probes bpf() first and skips with a
// message where it is not permitted.
//
// Scaling: BPFVM_KERNEL_JIT_DIFF_PROGRAMS=N (default kDefaultPrograms),
// BPFVM_KERNEL_JIT_DIFF_SEED=S (default fixed). Program i is generated from (seed, i) alone.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "bpf_syscall_probe.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "jit/jit_test_support.hpp"
#include "jit/random_program.hpp"

namespace bpfvm::jit {
namespace {

constexpr uint64_t kDefaultSeed = 0x6b6a69740a2025ULL;
constexpr uint64_t kDefaultPrograms = 1500;

uint64_t env_number(const char* name, uint64_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    return std::strtoull(text, nullptr, 0);
}

std::string hex(uint64_t v) {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%016llx", static_cast<unsigned long long>(v));
    return buffer;
}

uint64_t read64(const std::vector<uint8_t>& memory, size_t offset) {
    uint64_t v;
    std::memcpy(&v, memory.data() + offset, 8);
    return v;
}

// A loaded kernel program, closed when it goes out of scope.
class KernelProgram {
 public:
    KernelProgram() = default;
    explicit KernelProgram(int fd) : fd_(fd) {}
    KernelProgram(KernelProgram&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    KernelProgram& operator=(KernelProgram&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~KernelProgram() {
        if (fd_ >= 0) close(fd_);
    }
    int fd() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

 private:
    int fd_ = -1;
};

struct KernelLoad {
    KernelProgram program;
    std::string reason;  // why the verifier refused it: the last line of its log
};

// Loads the bytes bpfvm runs as a BPF_PROG_TYPE_SYSCALL program.
KernelLoad load_syscall_program(const std::vector<isa::RawInstruction>& slots) {
    static_assert(sizeof(isa::RawInstruction) == sizeof(bpf_insn));
    std::vector<bpf_insn> insns(slots.size());
    std::memcpy(insns.data(), slots.data(), slots.size() * sizeof(bpf_insn));
    KernelLoad out;
    bpf_prog_load_opts quiet{};
    quiet.sz = sizeof quiet;
    quiet.prog_flags = BPF_F_SLEEPABLE;  // the only kind of syscall program the kernel loads
    out.program = KernelProgram(
        bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "bpfvm_kjit", "GPL", insns.data(), insns.size(), &quiet));
    if (out.program) return out;
    const int error = errno;
    // Again with a log, for the reason (the log rolls: its end, which has the error, is kept).
    std::vector<char> log(1 << 20, '\0');
    bpf_prog_load_opts opts{};
    opts.sz = sizeof opts;
    opts.prog_flags = BPF_F_SLEEPABLE;
    opts.log_level = 1;
    opts.log_size = static_cast<uint32_t>(log.size());
    opts.log_buf = log.data();
    KernelProgram again(
        bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "bpfvm_kjit", "GPL", insns.data(), insns.size(), &opts));
    if (again) {
        out.reason = "accepted when loaded again with a log";
        return out;
    }
    log.back() = '\0';
    std::istringstream lines(log.data());
    std::string line;
    std::string last;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.rfind("processed ", 0) != 0) last = line;
    }
    out.reason = last.empty() ? std::string("errno: ") + std::strerror(error) : last;
    return out;
}

struct KernelRun {
    bool ok = false;
    uint32_t retval = 0;
    std::string error;
};

// Runs a loaded syscall program once with `memory` as its context (updated in place).
KernelRun run_syscall_program(const KernelProgram& program, std::vector<uint8_t>& memory) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.ctx_in = memory.data();
    opts.ctx_size_in = static_cast<uint32_t>(memory.size());
    KernelRun out;
    if (bpf_prog_test_run_opts(program.fd(), &opts) != 0) {
        out.error = std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno);
        return out;
    }
    out.ok = true;
    out.retval = opts.retval;
    return out;
}

bool kernel_jited(const KernelProgram& program) {
    bpf_prog_info info{};
    uint32_t length = sizeof info;
    return bpf_obj_get_info_by_fd(program.fd(), &info, &length) == 0 && info.jited_prog_len > 0;
}

Result<std::vector<isa::RawInstruction>> assemble(const std::string& text) {
    return isa::assemble(text);
}

// Whether the kernel loads a small program: how the optional parts of the ISA are probed.
bool kernel_accepts(const std::string& text, std::string& reason) {
    auto slots = assemble(text);
    if (!slots) {
        reason = "probe does not assemble: " + slots.error().to_string();
        return false;
    }
    KernelLoad load = load_syscall_program(*slots);
    reason = load.reason;
    return static_cast<bool>(load.program);
}

std::string memory_report(const std::vector<uint8_t>& kernel, uint32_t kernel_retval,
                          const std::vector<uint8_t>& interpreter, uint64_t interpreter_r0,
                          const std::vector<uint8_t>& jit, uint64_t jit_r0) {
    using test::RandomProgram;
    std::string out = "           kernel             interpreter        jit\n";
    auto row = [&](const std::string& name, size_t offset) {
        const uint64_t k = read64(kernel, offset), i = read64(interpreter, offset), j = read64(jit, offset);
        out += name + std::string(11 - name.size(), ' ') + hex(k) + " " + hex(i) + " " + hex(j) +
               (k != i || i != j ? "  <--" : "") + "\n";
    };
    for (size_t r = 0; r <= 9; ++r) row("r" + std::to_string(r), RandomProgram::kRegistersOffset + 8 * r);
    for (size_t s = 0; s < RandomProgram::kScratchSlots; ++s) {
        row("[r10-" + std::to_string(56 - 8 * s) + "]", RandomProgram::kScratchOffset + 8 * s);
    }
    out += "retval     " + hex(kernel_retval) + " " + hex(interpreter_r0) + " " + hex(jit_r0) + "\n";
    out += "inputs (registers loaded from memory; the others by lddw):\n";
    for (size_t r = 0; r <= 9; ++r)
        out += "  r" + std::to_string(r) + " " + hex(read64(kernel, RandomProgram::kInputsOffset + 8 * r)) +
               "\n";
    return out;
}

TEST(KernelJitDifferential, KernelJitInterpreterAndJitAgree) {
    if (std::string why = test_support::probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;

    // The wrapper itself: a syscall program that writes its context and is run by test_run.
    {
        std::string reason;
        auto slots = assemble("mov %r2, 7\nstxdw [%r1+8], %r2\nmov %r0, 3\nexit\n");
        ASSERT_TRUE(slots.ok());
        KernelLoad load = load_syscall_program(*slots);
        if (!load.program)
            GTEST_SKIP() << "the kernel does not load BPF_PROG_TYPE_SYSCALL programs (" << load.reason
                         << "); Linux 5.14 or newer is needed";
        std::vector<uint8_t> memory(16, 0);
        KernelRun run = run_syscall_program(load.program, memory);
        ASSERT_TRUE(run.ok) << run.error;
        ASSERT_EQ(run.retval, 3u);
        ASSERT_EQ(read64(memory, 8), 7u) << "test_run did not copy the context back";
    }

    test::RandomProgramOptions options;
    options.kernel_verifiable = true;
    options.memory = true;
    options.inputs_from_memory = true;
    std::string left_out;
    std::string reason;
    options.v4_alu = kernel_accepts(
        "mov %r0, 5\nmov %r1, -2\nsdiv %r0, %r1\nsmod32 %r0, %r1\nmovsx864 %r0, %r1\nmovsx1632 %r0, %r1\n"
        "swap16 %r0\nswap64 %r0\nexit\n",
        reason);
    if (!options.v4_alu) left_out += "  sdiv/smod/movsx/bswap (cpu v4): " + reason + "\n";
    options.sign_extending_loads = kernel_accepts(
        "mov %r2, -1\nstxdw [%r10-8], %r2\nldxsb %r0, [%r10-8]\nldxsh %r0, [%r10-8]\nldxsw %r0, [%r10-8]\n"
        "exit\n",
        reason);
    if (!options.sign_extending_loads) left_out += "  ldxsb/ldxsh/ldxsw (cpu v4): " + reason + "\n";
    options.atomics = kernel_accepts(
        "mov %r0, 0\nmov %r2, 1\nstxdw [%r10-8], %r2\nlock add [%r10-8], %r2\nlock fetch xor32 [%r10-8], "
        "%r2\n"
        "lock xchg [%r10-8], %r2\nlock cmpxchg32 [%r10-8], %r2\nexit\n",
        reason);
    if (!options.atomics) left_out += "  atomics with fetch, xchg, cmpxchg: " + reason + "\n";

    const uint64_t seed = env_number("BPFVM_KERNEL_JIT_DIFF_SEED", kDefaultSeed);
    const uint64_t count = env_number("BPFVM_KERNEL_JIT_DIFF_PROGRAMS", kDefaultPrograms);

    uint64_t accepted = 0, jited = 0, compared = 0, mismatches = 0;
    std::map<std::string, uint64_t> rejections;  // verifier reason -> programs
    std::map<std::string, std::string> rejected_example;
    std::string failures;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < count; ++i) {
        std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                          static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32)};
        std::mt19937_64 rng(seq);
        options.length = 10 + static_cast<int>(rng() % 50);
        const test::RandomProgram generated = test::generate_random_program(rng, options);
        const std::string& text = generated.text;
        auto slots = assemble(text);
        ASSERT_TRUE(slots.ok()) << slots.error().to_string() << "\n" << text;
        isa::Program program = test::assemble_program(text);
        ASSERT_FALSE(program.instructions.empty()) << text;

        std::vector<uint8_t> memory[3] = {generated.memory, generated.memory, generated.memory};
        vm::Interpreter interpreter;
        JitEngine jit;
        const auto by_interpreter = test::run_on_memory(interpreter, program, memory[0]);
        const auto by_jit = test::run_on_memory(jit, program, memory[1]);
        ASSERT_TRUE(by_interpreter.ok()) << by_interpreter.error().to_string() << "\n" << text;
        ASSERT_TRUE(by_jit.ok()) << by_jit.error().to_string() << "\n" << text;

        KernelLoad load = load_syscall_program(*slots);
        if (!load.program) {
            // Numbers made generic, so one rule is one group.
            std::string key = load.reason;
            for (char& c : key) {
                if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
            }
            if (rejections[key]++ == 0) rejected_example[key] = text;
            continue;
        }
        ++accepted;
        if (kernel_jited(load.program)) ++jited;
        const KernelRun run = run_syscall_program(load.program, memory[2]);
        ASSERT_TRUE(run.ok) << run.error << "\n" << text;
        ++compared;
        const bool same = memory[2] == memory[0] && memory[1] == memory[0] &&
                          run.retval == static_cast<uint32_t>(by_interpreter->r0) &&
                          by_jit->r0 == by_interpreter->r0;
        if (!same) {
            if (++mismatches <= 5) {
                failures += "program " + std::to_string(i) + " (seed " + hex(seed) + "):\n" + text +
                            memory_report(memory[2], run.retval, memory[0], by_interpreter->r0, memory[1],
                                          by_jit->r0) +
                            "\n";
            }
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    utsname host{};
    uname(&host);
    std::ostringstream summary;
    summary << "kernel " << host.release << ", seed " << hex(seed) << ": " << count << " programs generated, "
            << accepted << " accepted by the kernel verifier (" << jited << " JIT-compiled by the kernel), "
            << compared << " compared on three engines, " << mismatches << " disagreements, " << seconds
            << " s\n";
    if (!left_out.empty()) summary << "left out of the programs (the kernel refuses them):\n" << left_out;
    for (const auto& [why, n] : rejections) summary << "  refused " << n << "x: " << why << "\n";
    std::cout << summary.str();
    int examples = 0;
    for (const auto& [why, example] : rejected_example) {
        if (examples++ < 3) std::cout << "example refused with \"" << why << "\":\n" << example << "\n";
    }

    EXPECT_EQ(mismatches, 0u) << failures;
    EXPECT_GT(accepted * 100, count * 80) << "the kernel refused too many generated programs:\n"
                                          << summary.str();
}

// Whether a program calls a helper (or a kfunc): the conformance suite's helper ids name other
// functions in the kernel (1 is map_lookup_elem, 5 ktime_get_ns), so such cases are left out.
bool calls_a_helper(const isa::Program& program) {
    return std::any_of(program.instructions.begin(), program.instructions.end(), [](const auto& insn) {
        const auto* call = std::get_if<isa::Call>(&insn);
        return call != nullptr && call->op != isa::Op::CallLocal;
    });
}

// The conformance cases with an expected result run on the three engines too, where the kernel
// loads them as syscall programs (r1 = the case's memory as the context; r2, its length in a
// bpfvm run, is uninitialised for the kernel, so the cases that read it are refused, as are
// those with unaligned context accesses or legacy packet loads).
TEST(KernelJitDifferential, ConformanceCasesAgreeWithTheKernel) {
    if (std::string why = test_support::probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    const std::filesystem::path dir = std::filesystem::path(BPFVM_SHARED_DIR) / "conformance" / "tests";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no conformance data at " << dir;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".data") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());

    size_t candidates = 0, accepted = 0, with_helpers = 0;
    std::string refused;
    for (const auto& file : files) {
        auto c = tools::read_conformance_case(file);
        ASSERT_TRUE(c.ok()) << c.error().to_string();
        if (!c->result) continue;  // an error case
        auto bytes = tools::program_bytes(*c);
        ASSERT_TRUE(bytes.ok()) << file << ": " << bytes.error().to_string();
        auto program = isa::decode_program(*bytes);
        ASSERT_TRUE(program.ok()) << file << ": " << program.error().to_string();
        if (calls_a_helper(*program)) {
            ++with_helpers;
            continue;
        }
        ++candidates;
        std::vector<uint8_t> memory[3] = {c->memory, c->memory, c->memory};
        vm::Interpreter interpreter;
        JitEngine jit;
        const auto by_interpreter = test::run_on_memory(interpreter, *program, memory[0]);
        const auto by_jit = test::run_on_memory(jit, *program, memory[1]);
        ASSERT_TRUE(by_interpreter.ok()) << file << ": " << by_interpreter.error().to_string();
        ASSERT_TRUE(by_jit.ok()) << file << ": " << by_jit.error().to_string();
        EXPECT_EQ(by_jit->r0, by_interpreter->r0) << file;
        EXPECT_EQ(memory[1], memory[0]) << file;

        std::vector<isa::RawInstruction> slots(bytes->size() / sizeof(isa::RawInstruction));
        std::memcpy(slots.data(), bytes->data(), slots.size() * sizeof(isa::RawInstruction));
        KernelLoad load = load_syscall_program(slots);
        if (!load.program) {
            refused += "  " + file.filename().string() + ": " + load.reason + "\n";
            continue;
        }
        ++accepted;
        const KernelRun run = run_syscall_program(load.program, memory[2]);
        ASSERT_TRUE(run.ok) << file << ": " << run.error;
        EXPECT_EQ(run.retval, static_cast<uint32_t>(by_interpreter->r0)) << file;
        EXPECT_EQ(memory[2], memory[0]) << file;
    }
    std::cout << files.size() << " conformance cases: " << with_helpers << " call helpers (left out), "
              << candidates << " without helper calls, " << accepted
              << " of them loaded by the kernel and compared on three engines; refused:\n"
              << refused;
    // Most of the suite is plain ALU, jump, load, store and atomic code the kernel accepts.
    EXPECT_GT(accepted * 2, candidates) << "the kernel refused most conformance cases";
}

}  // namespace
}  // namespace bpfvm::jit
