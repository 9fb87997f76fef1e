// Text forms of decoded instructions: the LLVM/kernel syntax users read in llvm-objdump and
// verifier logs, and the bpf_conformance syntax the assembler reads back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::isa {

enum class Syntax {
    Llvm,         // `r0 = *(u32 *)(r1 + 4)`, `w1 += 2`, `if r1 > 3 goto +2`, as llvm-objdump -d
    Conformance,  // `ldxw %r0, [%r1+4]`: what isa::assemble reads, so text round-trips
};

struct DisasmOptions {
    // A constructor rather than an aggregate, so `{Syntax::Llvm, true}` leaves the names unset.
    DisasmOptions(Syntax syntax_ = Syntax::Llvm, bool hex_ = false) : syntax(syntax_), hex(hex_) {}  // NOLINT

    Syntax syntax = Syntax::Llvm;
    // Print immediates and offsets in hex, as llvm-objdump does by default since LLVM 15
    // (`r1 += 0x2`, `goto +0x3`); off, the output matches llvm-mc and llvm-objdump-14.
    bool hex = false;
    // Names the loader resolved (LLVM syntax only), so an object's disassembly reads
    // `r1 = map[counters] ll`, `r1 = map[.rodata] + 8 ll`, `r2 = <callback> ll` and
    // `call +4 <sum>` instead of raw pseudo operands. Unset: printed as llvm-mc does.
    std::function<std::string(uint32_t map_index)> map_name;
    std::function<std::string(uint32_t instruction)> function_name;  // of a call or code-address target
};

std::string disassemble(const Instruction& insn, const DisasmOptions& options = {});

// One line per instruction: slot number, raw bytes and text, like `llvm-objdump -d`.
std::string listing(const Program& program, const DisasmOptions& options = {});
// One line of that listing (without its newline): `%8u:`, tab, the bytes, tab, the text.
std::string listing_line(const Instruction& insn, uint32_t slot, const DisasmOptions& options = {});

}  // namespace bpfvm::isa
