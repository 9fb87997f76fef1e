// Random straight-line ALU code with forward JMP/JMP32 branches, edge values, stack loads,
// stores, sign-extending loads and atomics (random_program.hpp), on the interpreter and the JIT,
// plain and with blinded constants: every register and the stack scratch slots are stored to
// memory at the end and the memory and r0 compared. kernel_jit_differential_test.cpp runs programs from the same generator through the
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
        std::vector<uint8_t> expected_memory = generated.memory;
        vm::Interpreter interpreter;
        const Result<vm::RunResult> expected = test::run_on_memory(interpreter, program, expected_memory);
        ASSERT_TRUE(expected.ok()) << expected.error().to_string() << "\n" << text;
        for (bool blind : {false, true}) {
            JitEngine jit(JitOptions{vm::MemoryChecks::Checked, blind});
            std::vector<uint8_t> memory = generated.memory;
            const Result<vm::RunResult> actual = test::run_on_memory(jit, program, memory);
            ASSERT_TRUE(actual.ok()) << jit.name() << ": " << actual.error().to_string() << "\n" << text;
            ASSERT_EQ(actual->r0, expected->r0) << jit.name() << "\n" << text;
            ASSERT_EQ(memory, expected_memory) << jit.name() << "\n" << text;
        }
    }
}

}  // namespace
}  // namespace bpfvm::jit
