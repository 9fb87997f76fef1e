// Programs whose code spans more than 1 MiB: on AArch64 conditional branches reach only that
// far, so jumps, stubs and the abort path need another form there. Both engines must agree.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

// A taken conditional jump over `n` checked loads, then `n` checked loads that are summed, then
// (if `fault`) a store to the read-only input at the end.
std::string large_program(int n, bool fault) {
    std::string text = "mov %r0, 1\njne %r0, 0, far\n";
    for (int i = 0; i < n; ++i) text += "ldxw %r0, [%r1+0]\n";
    text += "far:\nmov %r0, 0\n";
    for (int i = 0; i < n; ++i) text += "ldxb %r2, [%r1+" + std::to_string(i % 8) + "]\nadd %r0, %r2\n";
    if (fault) text += "stxw [%r1+0], %r0\n";  // the input is read-only
    text += "exit\n";
    return text;
}

void run_both(const std::string& text, Result<vm::RunResult> (&results)[2]) {
    isa::Program program = test::assemble_program(text);
    ASSERT_FALSE(program.instructions.empty());
    std::vector<uint8_t> memory = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int engine = 0; engine < 2; ++engine) {
        vm::RunInput input;
        input.memory.add(memory.data(), memory.size(), false, "input");
        input.args[0] = reinterpret_cast<uint64_t>(memory.data());
        results[engine] =
            engine == 0 ? vm::Interpreter().run(program, input) : JitEngine().run(program, input);
    }
}

TEST(JitLargeProgram, FarJumpsAndLoadsMatchTheInterpreter) {
    Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
    run_both(large_program(6000, false), results);
    ASSERT_TRUE(results[0].ok()) << test::describe(results[0]);
    ASSERT_TRUE(results[1].ok()) << test::describe(results[1]);
    EXPECT_EQ(results[0]->r0, 6000u / 8 * 36);
    EXPECT_EQ(results[1]->r0, results[0]->r0);
}

TEST(JitLargeProgram, FaultFarFromTheEntryGivesTheSameError) {
    Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
    run_both(large_program(6000, true), results);
    ASSERT_FALSE(results[0].ok());
    ASSERT_FALSE(results[1].ok()) << test::describe(results[1]);
    EXPECT_EQ(results[0].error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(results[1].error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(results[1].error().message, results[0].error().message);
    EXPECT_EQ(results[1].error().where.instruction, results[0].error().where.instruction);
}

}  // namespace
}  // namespace bpfvm::jit
