// Subcommands over ELF objects opened with the loader (`info`, and `disasm` of an object).
#pragma once

#include <iosfwd>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/tools/commands.hpp"

namespace bpfvm::tools {

// `bpfvm disasm prog.o`: every (selected) program, linked, with map and function names and,
// with --source, the C lines from BTF line info.
int disasm_object(const DisasmOptions& options, isa::DisasmOptions style, std::ostream& out,
                  std::ostream& err);

}  // namespace bpfvm::tools
