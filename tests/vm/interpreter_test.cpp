// The interpreter on small assembled programs: semantics, faults and limits.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::vm {
namespace {

isa::Program assemble_program(const std::string& text) {
    auto slots = isa::assemble(text);
    EXPECT_TRUE(slots.ok()) << (slots ? "" : slots.error().to_string());
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
    EXPECT_TRUE(program.ok()) << (program ? "" : program.error().to_string());
    return std::move(*program);
}

class InterpreterTest : public ::testing::Test {
 protected:
    Result<RunResult> run(const std::string& text, std::vector<uint8_t>* memory = nullptr,
                          bool writable = true) {
        program_ = assemble_program(text);
        RunInput input;
        input.helpers = &helpers_;
        if (memory != nullptr) {
            input.memory.add(memory->data(), memory->size(), writable, "input");
            input.args[0] = reinterpret_cast<uint64_t>(memory->data());
            input.args[1] = memory->size();
        }
        input.packet = packet_;
        input.instruction_budget = budget_;
        return Interpreter().run(program_, input);
    }
    uint64_t r0(const std::string& text, std::vector<uint8_t>* memory = nullptr) {
        auto result = run(text, memory);
        EXPECT_TRUE(result.ok()) << (result ? "" : result.error().to_string());
        return result ? result->r0 : 0xdeadbeef;
    }

    HelperTable helpers_ = conformance_helpers();
    isa::Program program_;
    std::vector<uint8_t> packet_;
    uint64_t budget_ = kDefaultInstructionBudget;
};

TEST_F(InterpreterTest, Alu32ZeroesUpperHalf) {
    EXPECT_EQ(r0("lddw %r0, 0xffffffffffffffff\nadd32 %r0, 1\nexit"), 0u);
    EXPECT_EQ(r0("lddw %r0, 0x1ffffffff\nmov32 %r0, %r0\nexit"), 0xffffffffu);
}

TEST_F(InterpreterTest, DivisionAndModuloByZeroFollowTheIsa) {
    EXPECT_EQ(r0("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0u);
    EXPECT_EQ(r0("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7u);
    EXPECT_EQ(r0("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit"), 7u);  // upper half zeroed
    EXPECT_EQ(r0("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"), static_cast<uint64_t>(-7));
    EXPECT_EQ(r0("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000u);
    EXPECT_EQ(r0("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0u);
}

TEST_F(InterpreterTest, ShiftAmountsAreMasked) {
    EXPECT_EQ(r0("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2u);
    EXPECT_EQ(r0("mov32 %r0, 1\nmov32 %r1, 33\nlsh32 %r0, %r1\nexit"), 2u);
}

TEST_F(InterpreterTest, LocalCallsPreserveCalleeSavedRegistersAndFrames) {
    const char* text = R"(
mov %r6, 6
stdw [%r10-8], 41
call local f
ldxdw %r1, [%r10-8]
add %r0, %r1
add %r0, %r6
exit
f:
mov %r6, 100
stdw [%r10-8], 1000
mov %r0, 1
exit
)";
    // r0 = 1 (callee) + 41 (caller's slot untouched by the callee's frame) + 6 (r6 restored).
    EXPECT_EQ(r0(text), 48u);
}

TEST_F(InterpreterTest, RecursionDeeperThanEightFramesStops) {
    auto result = run("call local f\nexit\nf:\ncall local f\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::StackOverflow);
    EXPECT_EQ(result.error().where.instruction, 2u);
}

TEST_F(InterpreterTest, InfiniteLoopEndsWithBudgetError) {
    budget_ = 5000;
    auto result = run("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::BudgetExhausted);
    EXPECT_NE(result.error().message.find("5000"), std::string::npos);
}

TEST_F(InterpreterTest, OutOfBoundsLoadNamesInstructionAddressAndSize) {
    std::vector<uint8_t> memory(8, 0);
    auto result = run("mov %r0, 0\nldxw %r0, [%r1+6]\nexit", &memory);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(result.error().where.instruction, 1u);
    char address[32];
    std::snprintf(address, sizeof address, "0x%llx",
                  static_cast<unsigned long long>(reinterpret_cast<uint64_t>(memory.data()) + 6));
    EXPECT_NE(result.error().message.find(address), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("4 bytes"), std::string::npos) << result.error().message;
}

TEST_F(InterpreterTest, StackAccessOutsideTheStackFaults) {
    auto above = run("ldxdw %r0, [%r10+0]\nexit");
    ASSERT_FALSE(above.ok());
    EXPECT_EQ(above.error().kind, ErrorKind::MemoryFault);
    auto below = run("stdw [%r10-4104], 1\nmov %r0, 0\nexit");  // past all eight frames
    ASSERT_FALSE(below.ok());
    EXPECT_EQ(below.error().kind, ErrorKind::MemoryFault);
}

TEST_F(InterpreterTest, StoreToReadOnlyRegionFaults) {
    std::vector<uint8_t> memory(8, 0);
    auto result = run("stb [%r1+0], 1\nmov %r0, 0\nexit", &memory, /*writable=*/false);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
    EXPECT_NE(result.error().message.find("read-only"), std::string::npos) << result.error().message;
    EXPECT_EQ(memory[0], 0);
}

TEST_F(InterpreterTest, NullPointerDereferenceFaults) {
    auto result = run("mov %r1, 0\nldxb %r0, [%r1+0]\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
}

TEST_F(InterpreterTest, AtomicsFetchAndCompareExchange) {
    EXPECT_EQ(
        r0("stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\n"
           "or %r0, %r1\nexit"),
        (8u << 8) | 5u);
    EXPECT_EQ(
        r0("stw [%r10-4], 9\nmov32 %r0, 9\nmov %r1, 4\nlock cmpxchg32 [%r10-4], %r1\nldxw %r2, [%r10-4]\n"
           "lsh %r0, 8\nor %r0, %r2\nexit"),
        (9u << 8) | 4u);
}

TEST_F(InterpreterTest, MisalignedAtomicFaults) {
    auto result = run("stdw [%r10-16], 0\nmov %r1, 1\nlock add [%r10-12], %r1\nmov %r0, 0\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
}

TEST_F(InterpreterTest, HelpersAreCheckedAgainstTheSameRegions) {
    std::vector<uint8_t> memory{1, 2, 3, 4};
    EXPECT_EQ(r0("mov %r2, 4\ncall 1\nldxb %r0, [%r1+0]\nexit", &memory), 1u ^ 42u);
    auto result = run("mov %r2, 5\ncall 1\nexit", &memory);  // one byte too many
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(result.error().where.instruction, 1u);
}

TEST_F(InterpreterTest, ConformanceHelpers) {
    EXPECT_EQ(r0("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 0x105\ncall 0\nexit"),
              0x0102030405u);
    EXPECT_EQ(r0("lddw %r1, 0xfffffffe00000001\ncall 3\nexit"), 0xffffffffu);
    EXPECT_EQ(r0("mov %r1, 99\ncall 3\nexit"), 9u);
    std::vector<uint8_t> strings{'a', 'b', 0, 'a', 'c', 0};
    EXPECT_GT(
        static_cast<int64_t>(r0("mov %r2, %r1\nadd %r2, 3\nmov %r6, %r1\nmov %r1, %r2\nmov %r2, %r6\ncall 4\n"
                                "exit",
                                &strings)),
        0);
    std::vector<uint8_t> unterminated{'a', 'b'};
    auto result = run("mov %r2, %r1\ncall 4\nexit", &unterminated);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryFault);
    EXPECT_EQ(r0("mov %r1, 0\ncall 5\nmov %r0, 7\nexit"), 0u);  // unwind stops the program
}

TEST_F(InterpreterTest, CallxDispatchesOnRegisterValue) {
    EXPECT_EQ(r0("mov %r1, 16\nmov %r6, 3\ncall %r6\nexit"), 4u);
    auto result = run("mov %r6, 77\ncall %r6\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::UnknownHelper);
}

TEST_F(InterpreterTest, LegacyPacketLoads) {
    auto without = run("ldabsh 0\nexit");
    ASSERT_FALSE(without.ok());
    EXPECT_EQ(without.error().kind, ErrorKind::Unsupported);

    packet_ = {0x12, 0x34, 0x56, 0x78};
    EXPECT_EQ(r0("ldabsh 1\nexit"), 0x3456u);
    EXPECT_EQ(r0("mov %r2, 1\nldindw %r2, -1\nexit"), 0x12345678u);
    EXPECT_EQ(r0("mov %r0, 5\nldabsw 1\nmov %r0, 9\nexit"), 0u);  // past the end: r0 = 0, program ends
}

TEST_F(InterpreterTest, MapReferencesNeedALoadedObject) {
    auto result = run("lddw.map_fd %r1, 3\nmov %r0, 0\nexit");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::Unsupported);
}

}  // namespace
}  // namespace bpfvm::vm
