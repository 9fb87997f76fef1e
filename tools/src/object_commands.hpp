// Subcommands over ELF objects opened with the loader (`info`, and `disasm` of an object).
#pragma once

#include <iosfwd>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/commands.hpp"

namespace bpfvm::tools {

// Loads an object as `--type` and `--btf` say.
Result<loader::Object> open_object(const std::string& file, const ObjectOptions& options);

// `bpfvm disasm prog.o`: every (selected) program, linked, with map and function names and,
// with --source, the C lines from BTF line info.
int disasm_object(const DisasmOptions& options, isa::DisasmOptions style, std::ostream& out,
                  std::ostream& err);

}  // namespace bpfvm::tools
