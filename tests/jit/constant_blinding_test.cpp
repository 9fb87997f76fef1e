// Constant blinding: no immediate the program chooses appears in the generated code, in any
// instruction form that carries one. (That blinded code computes the same results is checked by
// the conformance differential and the fault tests, which run blinded too.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"
#include "runtime.hpp"

namespace bpfvm::jit {
namespace {

// One distinct 32-bit pattern per immediate form (the kind a JIT-spraying attack plants).
constexpr uint32_t kPattern = 0x3c1a2b00;

std::string program_with_every_immediate_form() {
    auto imm = [](unsigned n) { return std::to_string(kPattern + n); };
    return "mov32 %r0, " + imm(1) + "\nmov %r1, " + imm(2) + "\nadd %r0, " + imm(3) + "\nadd32 %r0, " +
           imm(4) + "\nmul %r0, " + imm(5) + "\ndiv %r0, " + imm(6) + "\nmod32 %r0, " + imm(7) +
           "\nxor %r0, " + imm(8) + "\njeq %r0, " + imm(9) + ", next\nnext:\njsgt32 %r0, " + imm(10) +
           ", after\nafter:\nstw [%r10-8], " + imm(11) + "\nstdw [%r10-16], " + imm(12) + "\nlddw %r2, " +
           std::to_string((uint64_t{kPattern + 14} << 32) | (kPattern + 13)) + "\nldabsw " + imm(15) +
           "\nmov %r6, 0\nldindw %r6, " + imm(16) + "\ncall " + imm(17) + "\nmov32 %r0, " + imm(18) +
           "\nexit";
}
constexpr unsigned kForms = 18;

// Whether the code holds `value` as the host's backend materializes an immediate: x86-64 has
// its 4 bytes in an instruction; AArch64 builds it from 16-bit halves in the imm16 field (bits
// 5-20) of movz/movk words, the low half a few words before the high one.
bool holds_immediate(const CompiledModule& module, uint32_t value) {
    const uint8_t* code = module.code.data();
    const size_t size = module.code.size();
#if defined(__aarch64__)
    auto imm16 = [&](size_t word) {
        uint32_t insn;
        std::memcpy(&insn, code + 4 * word, 4);
        return static_cast<uint16_t>(insn >> 5);
    };
    const size_t words = size / 4;
    for (size_t i = 0; i < words; ++i) {
        if (imm16(i) != static_cast<uint16_t>(value)) continue;
        for (size_t j = i + 1; j < words && j <= i + 3; ++j) {
            if (imm16(j) == static_cast<uint16_t>(value >> 16)) return true;
        }
    }
    return false;
#else
    uint8_t bytes[4];
    std::memcpy(bytes, &value, 4);
    return std::search(code, code + size, bytes, bytes + 4) != code + size;
#endif
}

std::vector<unsigned> planted_patterns_found(const CompiledModule& module) {
    std::vector<unsigned> found;
    for (unsigned n = 1; n <= kForms; ++n) {
        if (holds_immediate(module, kPattern + n)) found.push_back(n);
    }
    return found;
}

TEST(ConstantBlinding, NoImmediateOfTheProgramReachesTheCode) {
    isa::Program program = test::assemble_program(program_with_every_immediate_form());
    ASSERT_FALSE(program.instructions.empty());
    const isa::Program* programs[] = {&program};

    // Without blinding, every planted pattern is in the code: the search finds what it looks for.
    auto plain = compile_module(programs, JitOptions{});
    ASSERT_TRUE(plain.ok()) << plain.error().to_string();
    EXPECT_EQ(planted_patterns_found(**plain).size(), kForms);

    for (int attempt = 0; attempt < 20; ++attempt) {  // fresh keys each compile
        auto blinded = compile_module(programs, JitOptions{vm::MemoryChecks::Checked, true});
        ASSERT_TRUE(blinded.ok()) << blinded.error().to_string();
        EXPECT_EQ(planted_patterns_found(**blinded), std::vector<unsigned>{});
        EXPECT_EQ((*blinded)->instruction_address[0].size(), program.size())
            << "addresses are kept per original instruction";
    }
}

TEST(ConstantBlinding, BlindedRunsGiveThePlainResults) {
    // The rewritten forms on real values: every result folds into r0.
    const std::string text =
        "mov32 %r0, -7\nmov %r1, -1\nadd %r0, -100\nadd32 %r1, 5\nmul %r1, -3\nsdiv %r0, -2\n"
        "mod32 %r1, 7\nxor %r0, 0x55aa\njsgt %r0, -1, skip\nadd %r0, 1000\nskip:\njeq32 %r1, 5, skip2\n"
        "add %r0, 77\nskip2:\nstw [%r10-8], -2\nstdw [%r10-16], -3\nldxdw %r2, [%r10-8]\n"
        "ldxdw %r3, [%r10-16]\nadd %r0, %r2\nadd %r0, %r3\nlddw %r4, 0x8000000000000001\nadd %r0, %r4\n"
        "lsh %r0, 3\narsh32 %r1, 2\nadd %r0, %r1\nexit";
    isa::Program program = test::assemble_program(text);
    vm::RunInput input;
    auto expected = vm::Interpreter().run(program, input);
    ASSERT_TRUE(expected.ok()) << expected.error().to_string();
    for (bool blind : {false, true}) {
        auto actual = JitEngine(JitOptions{vm::MemoryChecks::Checked, blind}).run(program, input);
        ASSERT_TRUE(actual.ok()) << actual.error().to_string();
        EXPECT_EQ(actual->r0, expected->r0) << (blind ? "blinded" : "plain");
    }
}

}  // namespace
}  // namespace bpfvm::jit
