// Text forms of decoded instructions: the LLVM/kernel syntax users read in llvm-objdump and
// verifier logs, and the bpf_conformance syntax the assembler reads back.
#pragma once

#include <string>

#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::isa {

enum class Syntax {
    Llvm,         // `r0 = *(u32 *)(r1 + 4)`, `w1 += 2`, `if r1 > 3 goto +2`, as llvm-objdump -d
    Conformance,  // `ldxw %r0, [%r1+4]`: what isa::assemble reads, so text round-trips
};

struct DisasmOptions {
    Syntax syntax = Syntax::Llvm;
    // Print immediates and offsets in hex, as llvm-objdump does by default since LLVM 15
    // (`r1 += 0x2`, `goto +0x3`); off, the output matches llvm-mc and llvm-objdump-14.
    bool hex = false;
};

std::string disassemble(const Instruction& insn, const DisasmOptions& options = {});

// One line per instruction: slot number, raw bytes and text, like `llvm-objdump -d`.
std::string listing(const Program& program, const DisasmOptions& options = {});

}  // namespace bpfvm::isa
