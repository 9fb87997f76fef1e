// Reads a program from the files users hand the CLI: raw `.bin` bytecode, bpf_conformance
// `.data` cases and assembly text.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/vm/engine.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::tools {

struct ProgramFile {
    std::vector<uint8_t> bytes;                  // the program, 8 bytes per slot
    std::optional<std::vector<uint8_t>> memory;  // a `.data` case's `-- mem`
};

// By extension: `.data` (conformance case), `.asm`/`.s` (assembly), anything else raw bytes.
// ELF objects are recognised and refused: the loader reads them.
Result<ProgramFile> load_program_file(const std::filesystem::path& path);

// load_program_file, then the decoder; errors carry the file's name.
struct DecodedProgramFile {
    ProgramFile file;
    isa::Program program;
};
Result<DecodedProgramFile> load_and_decode(const std::filesystem::path& path);

Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path);

// Whether the file starts with the ELF magic (an object to open with the loader).
Result<bool> is_elf_file(const std::filesystem::path& path);

// "interpreter", "jit" or "auto".
// What --stats says of a run: the engine, what it counted (instructions, or the JIT's back edges
// and calls) and, for the JIT, its compile time.
std::string engine_stats(const vm::Engine& engine, uint64_t counted, bool exact);

struct EngineChoice {
    std::string_view name = "auto";  // "interpreter", "jit" or "auto"
    vm::MemoryChecks checks = vm::MemoryChecks::Checked;
    bool blind_constants = false;  // the JIT's constant blinding (refused for the interpreter)
};
Result<std::unique_ptr<vm::Engine>> make_engine(const EngineChoice& choice);

}  // namespace bpfvm::tools
