// What `bpfvm verify` found, in a form the text, JSON and SARIF writers share: per file, its load
// error or its programs; per program, its own load error or the verdict and the verifier's
// diagnostics with every instruction they mention already described (slot, LLVM text, function,
// C source line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/loader/object.hpp"
#include "bpfvm/verifier/verifier.hpp"

namespace bpfvm::tools {

// One instruction of a verified program, as a reader finds it in `bpfvm disasm --source`.
struct InstructionRef {
    uint32_t instruction = 0;  // index into the program's instructions
    uint32_t slot = 0;         // as llvm-objdump numbers it
    std::string text;          // LLVM syntax, with map and function names
    std::string function;      // the C function it belongs to ("" for raw programs)
    std::optional<loader::SourceLocation> source;
};

struct PathStepReport {
    InstructionRef jump;
    bool taken = false;
};

struct DiagnosticReport {
    std::optional<verifier::Rule> rule;  // unset: the verifier itself failed (rule_id "internal-error")
    std::string rule_id;
    std::string message;
    InstructionRef at;
    std::vector<verifier::RegisterState> registers;
    std::vector<PathStepReport> path;        // oldest first
    std::vector<InstructionRef> call_stack;  // the calls, outermost first
};

struct ProgramReport {
    std::string section;        // "" for raw program files
    std::string function;       // "" for raw program files
    std::string type;           // libbpf's program type name
    uint32_t instructions = 0;  // slots, as `bpfvm info` counts them
    // Why the loader could not load this program of the object (loader::Program::load_error):
    // it was not verified, and is not accepted.
    std::optional<Error> load_error;
    bool accepted = false;
    std::vector<DiagnosticReport> diagnostics;
    verifier::Statistics stats;
    double seconds = 0;  // wall time of verify()

    // "xdp/xdp_prog", or "" for a raw program.
    std::string name() const { return section.empty() ? function : section + "/" + function; }
};

struct FileReport {
    std::string path;
    std::optional<std::string> error;  // why the file could not be loaded
    std::vector<ProgramReport> programs;
};

// "r0".."r10".
inline std::string register_name(uint8_t reg) {
    return "r" + std::to_string(reg);
}

}  // namespace bpfvm::tools
