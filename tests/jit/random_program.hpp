// The random program generator of the differential tests: straight-line ALU code with forward
// JMP/JMP32 branches, edge values (INT64_MIN, -1, shift 63/64, ...), and optionally stack
// loads, stores, sign-extending loads and atomics. The interpreter-vs-JIT test and the
// kernel-JIT test (three engines) both generate their programs here.
//
// A generated program is called with r1 pointing at a memory block of kMemorySize bytes (the
// raw memory of a bpfvm run, the context of a BPF_PROG_TYPE_SYSCALL program in the kernel):
//   [kRegistersOffset, +80)  r0..r9 as the program left them (written at the end)
//   [kScratchOffset, +48)    the stack scratch slots [r10-56, r10-8) at the end
//   [kInputsOffset, +80)     initial values of r0..r9 for the registers the program loads from
//                            memory rather than with lddw (unknown to a verifier, so it explores
//                            both sides of the branches on them)
// The program returns r0 as it was at the end of the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bpfvm::jit::test {

struct RandomProgramOptions {
    int length = 40;  // body instructions (a branch counts as one, with its skipped instruction)
    // No immediate the Linux verifier refuses: zero immediate divisors, immediate shift amounts
    // outside [0, width). Register operands keep every edge value (division by a zero register,
    // shift by 64 in a register are defined and accepted).
    bool kernel_verifiable = false;
    bool v4_alu = true;                 // sdiv/smod, movsx, bswap (swap16/32/64)
    bool memory = false;                // ldx/stx/st of every width on the stack scratch slots
    bool sign_extending_loads = false;  // ldxsb/ldxsh/ldxsw on the stack scratch slots (needs memory)
    bool atomics = false;               // lock [fetch] add/or/and/xor, xchg, cmpxchg, 32 and 64 bits
    bool inputs_from_memory = false;    // some registers start from the inputs area
};

struct RandomProgram {
    static constexpr size_t kRegistersOffset = 0;
    static constexpr size_t kScratchOffset = 80;
    static constexpr size_t kScratchSlots = 6;
    static constexpr size_t kInputsOffset = 128;
    static constexpr size_t kMemorySize = 208;

    std::string text;             // assembly (isa::assemble)
    std::vector<uint8_t> memory;  // the block's initial contents, kMemorySize bytes
};

RandomProgram generate_random_program(std::mt19937_64& rng, const RandomProgramOptions& options);

}  // namespace bpfvm::jit::test
