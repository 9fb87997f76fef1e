// Random straight-line ALU code with forward JMP/JMP32 branches and edge values, on both
// engines: every register is stored to memory at the end and the memory and r0 compared.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

constexpr int64_t kEdges[] = {INT64_MIN, -1,        0,         1,          63,        64, 31,
                              32,        INT32_MIN, INT32_MAX, 0xffffffff, INT64_MAX, -2, 7};
constexpr const char* kAlu[] = {"add", "sub", "mul", "div", "sdiv", "mod", "smod",
                                "or",  "and", "lsh", "rsh", "arsh", "xor", "mov"};
constexpr const char* kJmp[] = {"jeq",  "jne",  "jgt",  "jge",  "jlt", "jle",
                                "jset", "jsgt", "jsge", "jslt", "jsle"};
constexpr const char* kUnary[] = {"neg",       "neg32",    "be16",      "be32",     "be64",   "le16",
                                  "le32",      "le64",     "swap16",    "swap32",   "swap64", "movsx832",
                                  "movsx1632", "movsx864", "movsx1664", "movsx3264"};

std::string generate(std::mt19937_64& rng, int length) {
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    auto reg = [&] { return "%r" + std::to_string(pick(10)); };
    auto imm = [&]() -> std::string {
        if (pick(3) == 0) return std::to_string(static_cast<int32_t>(rng()));
        const int64_t e = kEdges[pick(std::size(kEdges))];
        return std::to_string(static_cast<int32_t>(e));
    };
    std::string text = "stxdw [%r10-8], %r1\n";
    for (int r = 0; r <= 9; ++r) {
        const int64_t v = pick(4) == 0 ? static_cast<int64_t>(rng()) : kEdges[pick(std::size(kEdges))];
        text += "lddw %r" + std::to_string(r) + ", " + std::to_string(v) + "\n";
    }
    int labels = 0;
    for (int i = 0; i < length; ++i) {
        const size_t kind = pick(10);
        if (kind < 6) {
            std::string op = kAlu[pick(std::size(kAlu))];
            if (pick(2)) op += "32";
            text += op + " " + reg() + ", " + (pick(2) ? reg() : imm()) + "\n";
        } else if (kind < 8) {
            std::string op = kUnary[pick(std::size(kUnary))];
            if (op.starts_with("movsx")) {
                text += op + " " + reg() + ", " + reg() + "\n";
            } else {
                text += op + " " + reg() + "\n";
            }
        } else {
            std::string op = kJmp[pick(std::size(kJmp))];
            if (pick(2)) op += "32";
            // A forward branch over the next instruction(s), to a label placed below.
            text +=
                op + " " + reg() + ", " + (pick(2) ? reg() : imm()) + ", L" + std::to_string(labels) + "\n";
            text += "xor " + reg() + ", " + imm() + "\n";
            text += "L" + std::to_string(labels++) + ":\n";
        }
    }
    text += "stxdw [%r10-16], %r0\nldxdw %r0, [%r10-8]\n";
    for (int r = 1; r <= 9; ++r)
        text += "stxdw [%r0+" + std::to_string(8 * r) + "], %r" + std::to_string(r) + "\n";
    text += "ldxdw %r1, [%r10-16]\nstxdw [%r0+0], %r1\nmov %r0, %r1\nexit\n";
    return text;
}

TEST(JitRandomDifferential, AluAndJumpsMatchTheInterpreter) {
    const int programs = 400;
    std::mt19937_64 rng(20240601);
    for (int n = 0; n < programs; ++n) {
        const std::string text = generate(rng, 40);
        isa::Program program = test::assemble_program(text);
        ASSERT_FALSE(program.instructions.empty()) << text;
        std::vector<uint8_t> memory[2];
        Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
        for (int engine = 0; engine < 2; ++engine) {
            memory[engine].assign(80, 0);
            vm::RunInput input;
            input.memory.add(memory[engine].data(), memory[engine].size(), true, "input");
            input.args[0] = reinterpret_cast<uint64_t>(memory[engine].data());
            input.args[1] = memory[engine].size();
            results[engine] =
                engine == 0 ? vm::Interpreter().run(program, input) : JitEngine().run(program, input);
        }
        ASSERT_TRUE(results[0].ok()) << results[0].error().to_string() << "\n" << text;
        ASSERT_TRUE(results[1].ok()) << results[1].error().to_string() << "\n" << text;
        ASSERT_EQ(results[1]->r0, results[0]->r0) << text;
        ASSERT_EQ(memory[1], memory[0]) << text;
    }
}

}  // namespace
}  // namespace bpfvm::jit
