// The AArch64 backend's code for chosen instructions, on any host (asmjit assembles AArch64
// everywhere; the code is never run here). Expected words come from GNU as
// (aarch64-linux-gnu-as), not from asmjit.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends.hpp"
#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

// The machine words of each instruction of a one-program module.
std::vector<std::vector<uint32_t>> words_of(const std::string& text,
                                            vm::MemoryChecks checks = vm::MemoryChecks::Trusted) {
    isa::Program program = test::assemble_program(text);
    const isa::Program* programs[] = {&program};
    auto module = compile_aarch64(programs, JitOptions{checks});
    EXPECT_TRUE(module.ok()) << (module ? "" : module.error().to_string());
    if (!module) return {};
    const CompiledModule& m = **module;
    const auto& addresses = m.instruction_address[0];
    std::vector<std::vector<uint32_t>> words;
    for (size_t i = 0; i < addresses.size(); ++i) {
        // The stubs follow the last instruction: it ends at the next 'ret' or at the code's end.
        const uint64_t end = i + 1 < addresses.size()
                                 ? addresses[i + 1]
                                 : reinterpret_cast<uint64_t>(m.code.data()) + m.code.size();
        std::vector<uint32_t> insn;
        for (uint64_t at = addresses[i]; at < end; at += 4) {
            uint32_t w;
            std::memcpy(&w, reinterpret_cast<const void*>(at), 4);
            insn.push_back(w);
        }
        words.push_back(std::move(insn));
    }
    return words;
}

using Words = std::vector<uint32_t>;

TEST(Aarch64Encoding, MovAndExit) {
    auto w = words_of("mov %r0, 1\nmov %r0, -1\nexit");
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0], Words({0xd2800027}));  // movz x7, #1 (r0 is x7)
    EXPECT_EQ(w[1], Words({0x92800007}));  // movn x7, #0
    EXPECT_EQ(w[2].front(), 0xd65f03c0u);  // ret
}

TEST(Aarch64Encoding, Alu) {
    auto w = words_of("add %r1, %r2\nadd32 %r1, 5\ndiv %r1, %r2\nmod32 %r1, %r2\nrsh32 %r2, %r3\nexit");
    ASSERT_EQ(w.size(), 6u);
    EXPECT_EQ(w[0], Words({0x8b010000}));              // add x0, x0, x1
    EXPECT_EQ(w[1], Words({0x11001400}));              // add w0, w0, #5
    EXPECT_EQ(w[2], Words({0x9ac10800}));              // udiv x0, x0, x1 (by zero: 0)
    EXPECT_EQ(w[3], Words({0x1ac1080b, 0x1b018160}));  // udiv w11, w0, w1; msub w0, w11, w1, w0
    EXPECT_EQ(w[4], Words({0x1ac22421}));              // lsr w1, w1, w2 (count mod 32)
}

TEST(Aarch64Encoding, Lddw) {
    auto w = words_of("lddw %r3, 0x1122334455667788\nbe64 %r4\nexit");
    ASSERT_EQ(w.size(), 3u);
    // movz x2, #0x7788; movk x2, #0x5566, lsl 16; movk x2, #0x3344, lsl 32; movk x2, #0x1122, lsl 48
    EXPECT_EQ(w[0], Words({0xd28ef102, 0xf2aaacc2, 0xf2c66882, 0xf2e22442}));
    EXPECT_EQ(w[1], Words({0xdac00c63}));  // rev x3, x3
}

TEST(Aarch64Encoding, UncheckedStackAccess) {
    auto w = words_of("stxdw [%r10-8], %r1\nexit");
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0], Words({0xd10022e9, 0xf9000120}));  // sub x9, x23, #8; str x0, [x9]
}

// asmjit 1.9 rejects stlxr with a 64-bit register and encodes its stlr() as stllr: the backend
// works around both.
TEST(Aarch64Encoding, StoreExclusiveAndRelease) {
    auto w = words_of("lock xchg [%r10-8], %r2\nstxreldw [%r10-8], %r2\nstxrelw [%r10-8], %r2\nexit");
    ASSERT_EQ(w.size(), 4u);
    // sub x9, x23, #8; tst x9, #7; b.ne stub; ldaxr x11, [x9]; stlxr w12, x1, [x9];
    // cbnz w12, retry; mov x1, x11
    ASSERT_EQ(w[0].size(), 7u);
    EXPECT_EQ(w[0][3], 0xc85ffd2bu);
    EXPECT_EQ(w[0][4], 0xc80cfd21u);
    EXPECT_EQ(w[1].back(), 0xc89ffd21u);  // stlr x1, [x9]
    EXPECT_EQ(w[2].back(), 0x889ffd21u);  // stlr w1, [x9]
}

TEST(Aarch64Encoding, CheckedAccessCallsTheRuntimeOffTheStack) {
    auto unchecked = words_of("ldxw %r0, [%r1]\nexit");
    auto checked = words_of("ldxw %r0, [%r1]\nexit", vm::MemoryChecks::Checked);
    ASSERT_EQ(checked.size(), 2u);
    EXPECT_GT(checked[0].size(), unchecked[0].size() + 10);
    // The inline stack test: ldr x10, [x24, stack_lo]; sub x10, x9, x10; cmp x10, #4092; b.ls ok.
    EXPECT_EQ(checked[0][2], 0xcb0a012au);
    EXPECT_EQ(checked[0][3], 0xf13ff15fu);
}

}  // namespace
}  // namespace bpfvm::jit
