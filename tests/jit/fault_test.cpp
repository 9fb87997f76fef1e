// Faults end a JIT run with the interpreter's Error: kind, message and instruction (the budget
// is counted differently, so only its kind must match). Every test runs twice: with the JIT's
// plain code and with its constants blinded.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

class JitFaultTest : public ::testing::TestWithParam<bool> {
 protected:
    JitEngine jit_engine() const { return JitEngine(JitOptions{checks_, GetParam()}); }

    // Runs the program on both engines on the same memory (reset to `bytes` before each run,
    // so error messages name the same addresses); memory_[engine] is what each run left.
    void run_both(const std::string& text, std::vector<uint8_t> bytes, bool writable = true) {
        program_ = test::assemble_program(text);
        shared_ = bytes;
        for (int engine = 0; engine < 2; ++engine) {
            std::copy(bytes.begin(), bytes.end(), shared_.begin());
            vm::RunInput input;
            input.helpers = &helpers_;
            if (!bytes.empty()) {
                input.memory.add(shared_.data(), shared_.size(), writable, "input");
                input.args[0] = reinterpret_cast<uint64_t>(shared_.data());
                input.args[1] = shared_.size();
            }
            input.instruction_budget = budget_;
            input.packet = packet_;
            if (engine == 0) {
                interpreted_ = vm::Interpreter(checks_).run(program_, input);
            } else {
                jitted_ = jit_engine().run(program_, input);
            }
            memory_[engine] = shared_;
        }
    }
    // Both runs failed with the same error; `exact`: also message and instruction.
    void expect_same_error(ErrorKind kind, bool exact = true) {
        ASSERT_FALSE(interpreted_.ok()) << test::describe(interpreted_);
        ASSERT_FALSE(jitted_.ok()) << test::describe(jitted_);
        EXPECT_EQ(interpreted_.error().kind, kind) << interpreted_.error().to_string();
        EXPECT_EQ(jitted_.error().kind, kind) << jitted_.error().to_string();
        if (exact) {
            EXPECT_EQ(jitted_.error().message, interpreted_.error().message);
            EXPECT_EQ(jitted_.error().where.instruction, interpreted_.error().where.instruction);
        }
    }
    void expect_same_r0() {
        ASSERT_TRUE(interpreted_.ok()) << test::describe(interpreted_);
        ASSERT_TRUE(jitted_.ok()) << test::describe(jitted_);
        EXPECT_EQ(jitted_->r0, interpreted_->r0);
    }

    vm::HelperTable helpers_ = vm::conformance_helpers();
    vm::MemoryChecks checks_ = vm::MemoryChecks::Checked;
    uint64_t budget_ = vm::kDefaultInstructionBudget;
    std::vector<uint8_t> packet_;
    isa::Program program_;
    std::vector<uint8_t> shared_;
    std::vector<uint8_t> memory_[2];
    Result<vm::RunResult> interpreted_ = vm::RunResult{};
    Result<vm::RunResult> jitted_ = vm::RunResult{};
};

TEST_P(JitFaultTest, OutOfBoundsLoad) {
    run_both("mov %r0, 0\nldxw %r0, [%r1+2]\nexit", {1, 2, 3, 4});
    expect_same_error(ErrorKind::MemoryFault);
    EXPECT_NE(jitted_.error().message.find("load reads 4 bytes"), std::string::npos);
}

TEST_P(JitFaultTest, OutOfBoundsStore) {
    run_both("mov %r0, 0\nstxdw [%r1+1], %r0\nexit", {1, 2, 3, 4, 5, 6, 7, 8});
    expect_same_error(ErrorKind::MemoryFault);
    EXPECT_NE(jitted_.error().message.find("store writes 8 bytes"), std::string::npos);
}

TEST_P(JitFaultTest, StoreToReadOnlyMemory) {
    run_both("mov %r0, 0\nstb [%r1+0], 1\nexit", {1, 2, 3, 4}, /*writable=*/false);
    expect_same_error(ErrorKind::MemoryFault);
}

TEST_P(JitFaultTest, StackOverrun) {
    run_both("mov %r0, 0\nstxdw [%r10+0], %r0\nexit", {});
    ASSERT_FALSE(jitted_.ok());
    EXPECT_EQ(jitted_.error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(jitted_.error().where.instruction, interpreted_.error().where.instruction);
}

TEST_P(JitFaultTest, AtomicOutOfBounds) {
    run_both("mov %r0, 1\nlock add [%r1+8], %r0\nexit", {1, 2, 3, 4, 5, 6, 7, 8});
    expect_same_error(ErrorKind::MemoryFault);
}

TEST_P(JitFaultTest, MisalignedAtomic) {
    run_both("mov %r0, 1\nstdw [%r10-16], 0\nlock add [%r10-12], %r0\nexit", {});
    expect_same_error(ErrorKind::MemoryFault);
    EXPECT_NE(jitted_.error().message.find("misaligned"), std::string::npos);
}

TEST_P(JitFaultTest, MisalignedAtomicInTrustedModeToo) {
    checks_ = vm::MemoryChecks::Trusted;
    run_both("mov %r0, 1\nstdw [%r10-16], 0\nlock fetch add32 [%r10-10], %r0\nexit", {});
    expect_same_error(ErrorKind::MemoryFault);
}

TEST_P(JitFaultTest, TooDeepCalls) {
    run_both("mov %r0, 0\ncall local f\nexit\nf:\nadd %r0, 1\ncall local f\nexit", {});
    expect_same_error(ErrorKind::StackOverflow);
}

TEST_P(JitFaultTest, SevenNestedCallsAreAllowed) {
    std::string text = "mov %r0, 0\ncall local f1\nexit\n";
    for (int i = 1; i <= 7; ++i) {
        text += "f" + std::to_string(i) + ":\nadd %r0, 1\n";
        if (i < 7) text += "call local f" + std::to_string(i + 1) + "\n";
        text += "stxdw [%r10-8], %r0\nexit\n";
    }
    run_both(text, {});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 7u);
}

TEST_P(JitFaultTest, BudgetExhausted) {
    budget_ = 1000;
    run_both("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit", {});
    expect_same_error(ErrorKind::BudgetExhausted, /*exact=*/false);
    EXPECT_EQ(jitted_.error().message, interpreted_.error().message);
}

TEST_P(JitFaultTest, ZeroBudgetMeansNoLimit) {
    budget_ = 0;
    run_both("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 3000000, loop\nexit", {});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 3000000u);
}

TEST_P(JitFaultTest, UnknownHelper) {
    run_both("mov %r0, 0\ncall 99\nexit", {});
    expect_same_error(ErrorKind::UnknownHelper);
}

TEST_P(JitFaultTest, UnknownHelperThroughCallx) {
    run_both("mov %r0, 0\nmov %r3, 77\ncall %r3\nexit", {});
    expect_same_error(ErrorKind::UnknownHelper);
}

TEST_P(JitFaultTest, HelperFaultKeepsTheCallsInstruction) {
    run_both("mov %r2, 100\ncall 1\nexit", {1, 2, 3, 4});  // memfrob past the end
    expect_same_error(ErrorKind::MemoryFault);
}

TEST_P(JitFaultTest, LddwWithPseudoSourceIsUnsupported) {
    std::vector<isa::RawInstruction> slots = {
        {0x18, isa::RawInstruction::pack_regs(1, isa::kPseudoMapFd), 0, 3}, {0, 0, 0, 0}, {0x95, 0, 0, 0}};
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(slots));
    ASSERT_TRUE(program.ok()) << program.error().to_string();
    vm::RunInput input;
    auto expected = vm::Interpreter().run(*program, input);
    auto actual = jit_engine().run(*program, input);
    ASSERT_FALSE(actual.ok());
    EXPECT_EQ(actual.error().kind, ErrorKind::Unsupported);
    EXPECT_EQ(actual.error().message, expected.error().message);
    EXPECT_EQ(actual.error().where.instruction, expected.error().where.instruction);
}

TEST_P(JitFaultTest, LegacyPacketLoads) {
    packet_ = {0x12, 0x34, 0x56, 0x78, 0x9a};
    run_both("mov %r6, 1\nldabsh 1\nmov %r7, %r0\nldindw %r6, 0\nadd %r0, %r7\nexit", {});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 0x3456u + 0x3456789au);
    run_both("mov %r0, 5\nldabsw 3\nmov %r0, 9\nexit", {});  // past the end: r0 = 0
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 0u);
    packet_.clear();
    run_both("ldabsb 0\nexit", {});
    expect_same_error(ErrorKind::Unsupported);
}

TEST_P(JitFaultTest, TrustedModeRunsUnchecked) {
    checks_ = vm::MemoryChecks::Trusted;
    run_both("ldxw %r0, [%r1+0]\nadd %r0, 1\nstxw [%r1+0], %r0\nexit", {1, 0, 0, 0});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 2u);
    EXPECT_EQ(memory_[1], memory_[0]);
}

TEST_P(JitFaultTest, ContextPacketFieldsAreRedirected) {
    // A 4-byte load of a field the run names reads the 64-bit pointer behind it.
    std::vector<uint8_t> ctx(8, 0);
    uint64_t pointer = 0x1122334455667788;
    for (int engine = 0; engine < 2; ++engine) {
        program_ = test::assemble_program("ldxw %r0, [%r1+4]\nexit");
        vm::RunInput input;
        input.memory.add(ctx.data(), ctx.size(), false, "context");
        input.memory.add(&pointer, 8, false, "pointer");
        input.args[0] = reinterpret_cast<uint64_t>(ctx.data());
        input.context_packet_fields[1] = {reinterpret_cast<uint64_t>(ctx.data() + 4),
                                          reinterpret_cast<uint64_t>(&pointer)};
        auto r = engine == 0 ? vm::Interpreter().run(program_, input) : jit_engine().run(program_, input);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->r0, pointer);
    }
}

TEST_P(JitFaultTest, StopProgramFromHelper) {
    run_both("mov %r6, 7\nmov %r1, 0\ncall local f\nmov %r0, 1\nexit\nf:\ncall 5\nmov %r0, 2\nexit", {});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 0u);
}

// Callbacks (bpf_loop style) and tail calls through HelperReturn.
TEST_P(JitFaultTest, CallbacksAndTailCalls) {
    helpers_.add(50, "loop", [](const vm::HelperCall& call) -> Result<vm::HelperReturn> {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < call.args[0]; ++i) {
            auto r =
                call.functions.call_function(static_cast<uint32_t>(call.args[1]), {i, call.args[2], 0, 0, 0});
            if (!r) return r.error();
            sum += *r;
        }
        return vm::HelperReturn{sum};
    });
    helpers_.add(51, "tail", [](const vm::HelperCall& call) -> Result<vm::HelperReturn> {
        return vm::HelperReturn::tail_call_to(static_cast<uint32_t>(call.args[1]));
    });
    // r0 = r6 + the sum over i < 5 of (i * 10 + r3); the callback is instruction 7.
    run_both(
        "mov %r1, 5\nmov %r2, 7\nmov %r3, 3\nmov %r6, 100\ncall 50\nadd %r0, %r6\nexit\n"
        "mul %r1, 10\nadd %r1, %r2\nmov %r0, %r1\nmov %r6, 1\nexit",
        {});
    expect_same_r0();
    EXPECT_EQ(jitted_->r0, 100u + 0 + 10 + 20 + 30 + 40 + 5 * 3);

    isa::Program target = test::assemble_program("mov %r0, %r1\nadd %r0, 1000\nexit");
    const isa::Program* targets[] = {&target};
    program_ = test::assemble_program("mov %r1, 5\nmov %r2, 0\ncall 51\nmov %r0, 1\nexit");
    for (int engine = 0; engine < 2; ++engine) {
        vm::RunInput input;
        input.helpers = &helpers_;
        input.programs = targets;
        auto r = engine == 0 ? vm::Interpreter().run(program_, input) : jit_engine().run(program_, input);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->r0, 1005u);
    }
    // A tail call to a program the run does not have.
    program_ = test::assemble_program("mov %r2, 4\ncall 51\nexit");
    vm::RunInput input;
    input.helpers = &helpers_;
    input.programs = targets;
    auto expected = vm::Interpreter().run(program_, input);
    auto actual = jit_engine().run(program_, input);
    ASSERT_FALSE(actual.ok());
    EXPECT_EQ(actual.error().kind, expected.error().kind);
    EXPECT_EQ(actual.error().message, expected.error().message);
    EXPECT_EQ(actual.error().where.instruction, expected.error().where.instruction);
}

// A tail call replaces only the frame it is made in: from a subprogram, the target's exit returns
// to the subprogram's caller (whose r6-r9 and stack survive); from a callback, to the helper.
TEST_P(JitFaultTest, TailCallsFromSubprogramsAndCallbacks) {
    helpers_.add(50, "loop", [](const vm::HelperCall& call) -> Result<vm::HelperReturn> {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < call.args[0]; ++i) {
            auto r = call.functions.call_function(static_cast<uint32_t>(call.args[1]), {i, 0, 0, 0, 0});
            if (!r) return r.error();
            sum += *r;
        }
        return vm::HelperReturn{sum};
    });
    helpers_.add(51, "tail", [](const vm::HelperCall& call) -> Result<vm::HelperReturn> {
        return vm::HelperReturn::tail_call_to(static_cast<uint32_t>(call.args[1]));
    });
    // Target 0 returns r1 * 3 + 1000 and clobbers r6 and its own stack.
    isa::Program target = test::assemble_program(
        "mov %r0, %r1\nmul %r0, 3\nadd %r0, 1000\nmov %r6, 55\nstdw [%r10-8], 1\nexit");
    const isa::Program* targets[] = {&target};
    auto run_with_targets = [&](const std::string& text) {
        program_ = test::assemble_program(text);
        Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
        for (int engine = 0; engine < 2; ++engine) {
            vm::RunInput input;
            input.helpers = &helpers_;
            input.programs = targets;
            results[engine] =
                engine == 0 ? vm::Interpreter().run(program_, input) : jit_engine().run(program_, input);
            EXPECT_TRUE(results[engine].ok()) << results[engine].error().to_string();
        }
        if (!results[0] || !results[1]) return uint64_t{0};
        EXPECT_EQ(results[1]->r0, results[0]->r0);
        return results[1]->r0;
    };
    // From a subprogram: main's r6 and stack slot are intact after the call.
    EXPECT_EQ(run_with_targets("mov %r6, 7\nstdw [%r10-8], 20\nmov %r1, 4\ncall local f\nadd %r0, %r6\n"
                               "ldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
                               "f:\nmov %r6, 9\nmov %r2, 0\ncall 51\nmov %r0, 99\nexit"),
              1012u + 7 + 20);
    // From a callback (bpf_loop style), three times: the sum of 1000 + 3i over i < 3, plus main's r6.
    EXPECT_EQ(run_with_targets("mov %r6, 5\nmov %r1, 3\nmov %r2, 6\ncall 50\nadd %r0, %r6\nexit\n"
                               "mov %r2, 0\ncall 51\nmov %r0, 99\nexit"),
              3000u + 0 + 3 + 6 + 5);
}

// A run with the programs of the last one reuses its code: a change anywhere, tail-call targets
// included, compiles again.
TEST_P(JitFaultTest, CompilesOncePerProgramSet) {
    JitEngine jit = jit_engine();
    program_ = test::assemble_program("mov %r0, %r1\nadd %r0, 1\nexit");
    isa::Program target = test::assemble_program("mov %r0, 2\nexit");
    const isa::Program* targets[] = {&target};
    vm::RunInput input;
    for (uint64_t arg : {10u, 20u}) {
        input.args[0] = arg;
        auto r = jit.run(program_, input);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->r0, arg + 1);
    }
    EXPECT_EQ(jit.compilations(), 1u);
    EXPECT_GT(jit.compile_time().count(), 0);
    input.programs = targets;
    ASSERT_TRUE(jit.run(program_, input).ok());
    EXPECT_EQ(jit.compilations(), 2u);
    target = test::assemble_program("mov %r0, 3\nexit");  // same address, new content
    ASSERT_TRUE(jit.run(program_, input).ok());
    EXPECT_EQ(jit.compilations(), 3u);
    isa::Program changed = test::assemble_program("mov %r0, %r1\nadd %r0, 2\nexit");
    auto r = jit.run(changed, input);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->r0, 20u + 2);
    EXPECT_EQ(jit.compilations(), 4u);
    EXPECT_EQ(jit.name(), GetParam() ? "jit (blinded)" : "jit");
}

INSTANTIATE_TEST_SUITE_P(Code, JitFaultTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? "BlindedConstants" : "Plain";
                         });

}  // namespace
}  // namespace bpfvm::jit
