// Random straight-line ALU code with forward JMP/JMP32 branches, edge values, stack loads,
// stores, sign-extending loads and atomics (random_program.hpp), on both engines: every
// register and the stack scratch slots are stored to memory at the end and the memory and r0
// compared. kernel_jit_differential_test.cpp runs programs from the same generator through the
// Linux kernel's JIT as well.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"
#include "jit/random_program.hpp"

namespace bpfvm::jit {
namespace {

TEST(JitRandomDifferential, AluAndJumpsMatchTheInterpreter) {
    const int programs = 400;
    std::mt19937_64 rng(20240601);
    test::RandomProgramOptions options;
    options.memory = true;
    options.sign_extending_loads = true;
    options.atomics = true;
    options.inputs_from_memory = true;
    for (int n = 0; n < programs; ++n) {
        const test::RandomProgram generated = test::generate_random_program(rng, options);
        const std::string& text = generated.text;
        isa::Program program = test::assemble_program(text);
        ASSERT_FALSE(program.instructions.empty()) << text;
        std::vector<uint8_t> memory[2] = {generated.memory, generated.memory};
        vm::Interpreter interpreter;
        JitEngine jit;
        const Result<vm::RunResult> results[2] = {test::run_on_memory(interpreter, program, memory[0]),
                                                  test::run_on_memory(jit, program, memory[1])};
        ASSERT_TRUE(results[0].ok()) << results[0].error().to_string() << "\n" << text;
        ASSERT_TRUE(results[1].ok()) << results[1].error().to_string() << "\n" << text;
        ASSERT_EQ(results[1]->r0, results[0]->r0) << text;
        ASSERT_EQ(memory[1], memory[0]) << text;
    }
}

}  // namespace
}  // namespace bpfvm::jit
