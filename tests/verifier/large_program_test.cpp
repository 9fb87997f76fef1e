// Programs of 100k instructions in the shapes large real programs have (fully unrolled parsers
// whose failed bounds checks return, big switch statements whose cases return) verify with work
// proportional to their size: the guard is the number of instructions processed, a count that
// does not depend on the machine (`bpfvm verify --stats` reports the time; a 100k-instruction
// program takes well under a second).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/verifier/verifier.hpp"

namespace bpfvm::verifier {
namespace {

VerifyResult verify_text(const std::string& text) {
    auto slots = isa::assemble(text);
    EXPECT_TRUE(slots) << slots.error().to_string();
    auto program = isa::decode_program(*slots);
    EXPECT_TRUE(program) << program.error().to_string();
    return verify(*program, isa::ProgramType::Bytes, {}, VerifyOptions{});
}

// 20000 unrolled steps: check the length, return on a short input, read a byte, accumulate.
TEST(LargePrograms, UnrolledParserOfOneHundredThousandInstructions) {
    std::mt19937 random(1);
    std::string text = "mov %r0, 0\n";
    for (int i = 0; i < 20000; ++i) {
        const unsigned offset = random() % 256;
        text += "jge %r2, " + std::to_string(offset + 1) + ", +2\nmov %r0, 1\nexit\n";
        text += "ldxb %r4, [%r1+" + std::to_string(offset) + "]\nadd %r0, %r4\n";
    }
    text += "exit\n";
    const VerifyResult result = verify_text(text);
    ASSERT_TRUE(result.accepted) << (result.diagnostics.empty() ? "" : result.diagnostics[0].message);
    EXPECT_LE(result.stats.processed_instructions, 2 * 100'001u);
}

// A 300-case switch on the first 16 bits whose cases each do 330 instructions of work and return.
TEST(LargePrograms, SwitchOfThreeHundredCases) {
    std::mt19937 random(2);
    std::string text = "mov %r0, 0\njge %r2, 64, +1\nexit\nldxh %r5, [%r1+0]\n";
    size_t size = 4;
    for (int c = 0; c < 300; ++c) {
        std::string body;
        for (int i = 0; i < 110; ++i) {
            body += "ldxb %r4, [%r1+" + std::to_string(random() % 64) + "]\nadd %r0, %r4\nrsh %r0, 1\n";
        }
        text += "jne %r5, " + std::to_string(c) + ", +331\n" + body + "exit\n";
        size += 332;
    }
    text += "exit\n";
    const VerifyResult result = verify_text(text);
    ASSERT_TRUE(result.accepted) << (result.diagnostics.empty() ? "" : result.diagnostics[0].message);
    EXPECT_GT(size, 99'000u);
    EXPECT_LE(result.stats.processed_instructions, 2 * size);
}

}  // namespace
}  // namespace bpfvm::verifier
