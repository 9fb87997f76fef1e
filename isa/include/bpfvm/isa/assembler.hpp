// Assembler for the bpf_conformance text syntax (`mov32 %r0, 1`, `ldxdw %r1, [%r10-8]`,
// `lock fetch add [%r10-8], %r1`, `jne %r1, 0x3, label`, `call local fn`, `call %r2`, `lddw`).
#pragma once

#include <string_view>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::isa {

// Assembles a whole program. Errors are ErrorKind::Syntax with the 1-based line and column of
// the offending token (unknown mnemonic, operand count, register, immediate or offset out of
// range, unknown or duplicate label, unknown directive).
Result<std::vector<RawInstruction>> assemble(std::string_view text);

}  // namespace bpfvm::isa
