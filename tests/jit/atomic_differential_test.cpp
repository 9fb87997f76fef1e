// Every atomic form (add/or/and/xor with and without fetch, xchg, cmpxchg that matches and that
// does not, load-acquire, store-release) at every width, with edge values, on both engines:
// memory, the source register and r0 must agree. The backends implement these differently
// (x86-64 lock-prefixed instructions and cmpxchg loops, AArch64 LL/SC loops).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

constexpr uint64_t kValues[] = {0,
                                1,
                                0xffffffffffffffffull,
                                0x8000000000000000ull,
                                0x00000000ffffffffull,
                                0x7fffffff80000000ull,
                                0x123456789abcdef0ull};

void expect_same(const std::string& text) {
    isa::Program program = test::assemble_program(text);
    ASSERT_FALSE(program.instructions.empty()) << text;
    std::vector<uint8_t> memory[2];
    Result<vm::RunResult> results[2] = {vm::RunResult{}, vm::RunResult{}};
    for (int engine = 0; engine < 2; ++engine) {
        memory[engine].assign(32, 0);
        vm::RunInput input;
        input.memory.add(memory[engine].data(), memory[engine].size(), true, "input");
        input.args[0] = reinterpret_cast<uint64_t>(memory[engine].data());
        results[engine] =
            engine == 0 ? vm::Interpreter().run(program, input) : JitEngine().run(program, input);
    }
    ASSERT_TRUE(results[0].ok()) << test::describe(results[0]) << "\n" << text;
    ASSERT_TRUE(results[1].ok()) << test::describe(results[1]) << "\n" << text;
    EXPECT_EQ(results[1]->r0, results[0]->r0) << text;
    EXPECT_EQ(memory[1], memory[0]) << text;
}

// Memory at [r1] holds `mem`, r2 `src`, r0 `r0`; after `op`, r2 and r0 are stored behind it.
std::string program(const std::string& op, uint64_t mem, uint64_t src, uint64_t r0) {
    return "lddw %r3, " + std::to_string(mem) + "\nstxdw [%r1+0], %r3\nlddw %r2, " + std::to_string(src) +
           "\nlddw %r0, " + std::to_string(r0) + "\n" + op +
           "\nstxdw [%r1+8], %r2\nstxdw [%r1+16], %r0\nmov %r0, 0\nexit\n";
}

TEST(JitAtomicDifferential, ReadModifyWrite) {
    for (const char* width : {"", "32"}) {
        for (const char* op : {"add", "or", "and", "xor"}) {
            for (const char* fetch : {"", "fetch "}) {
                for (uint64_t mem : kValues) {
                    for (uint64_t src : kValues) {
                        expect_same(program(std::string("lock ") + fetch + op + width + " [%r1+0], %r2", mem,
                                            src, 0x5555));
                    }
                }
            }
        }
    }
}

TEST(JitAtomicDifferential, ExchangeAndCompareExchange) {
    for (const char* width : {"", "32"}) {
        const std::string w = width;
        for (uint64_t mem : kValues) {
            for (uint64_t src : kValues) {
                expect_same(program("lock xchg" + w + " [%r1+0], %r2", mem, src, 7));
                // r0 differs from memory; r0 equals it (for 32 bits: in the low half only).
                expect_same(program("lock cmpxchg" + w + " [%r1+0], %r2", mem, src, mem + 1));
                expect_same(program("lock cmpxchg" + w + " [%r1+0], %r2", mem, src,
                                    w.empty() ? mem : mem ^ 0xdead000000000000ull));
            }
        }
    }
}

TEST(JitAtomicDifferential, LoadAcquireAndStoreRelease) {
    for (const char* size : {"b", "h", "w", "dw"}) {
        for (uint64_t mem : kValues) {
            for (uint64_t src : kValues) {
                expect_same(program(std::string("ldxacq") + size + " %r0, [%r1+0]", mem, src, 3));
                expect_same(program(std::string("stxrel") + size + " [%r1+0], %r2", mem, src, 3));
            }
        }
    }
}

}  // namespace
}  // namespace bpfvm::jit
