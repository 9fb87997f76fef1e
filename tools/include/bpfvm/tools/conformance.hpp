// The bpf_conformance test-case format (`-- asm`, `-- mem`, `-- result`, `-- error`, `-- raw`)
// and a runner that executes cases on an engine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/vm/engine.hpp"

namespace bpfvm::tools {

struct ConformanceCase {
    std::string name;
    std::optional<std::string> assembly;      // `-- asm`
    uint32_t assembly_first_line = 0;         // line of the file where the assembly starts
    std::optional<std::vector<uint8_t>> raw;  // `-- raw`
    std::vector<uint8_t> memory;              // `-- mem`
    std::optional<uint64_t> result;           // `-- result`
    std::optional<std::string> error;         // `-- error` (the reference runner's message)
};

Result<ConformanceCase> parse_conformance_case(std::string_view text, std::string name);
Result<ConformanceCase> read_conformance_case(const std::filesystem::path& path);

// Parses whitespace-separated hex bytes ("aa bb 0c"); used by `-- mem`, --mem and the plugin.
Result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text);

// The program bytes of a case: its assembly assembled (errors located in the case's file) or
// its raw bytes; when both are present they must agree.
Result<std::vector<uint8_t>> program_bytes(const ConformanceCase& c);

// Runs a program on memory (r1 = its address, r2 = its length, both 0 when the memory is
// empty) with the conformance helper set.
Result<vm::RunResult> run_on_memory(vm::Engine& engine, const isa::Program& program,
                                    std::vector<uint8_t> memory, uint64_t instruction_budget);

// Decodes program bytes and runs them as run_on_memory does.
Result<vm::RunResult> decode_and_run(vm::Engine& engine, std::span<const uint8_t> program,
                                     std::vector<uint8_t> memory, uint64_t instruction_budget);

struct CaseOutcome {
    bool passed;             // ended as the case expects: its r0 (all 64 bits), or an error
    bool returned_expected;  // ran to completion with exactly its `-- result`
    std::string reason;      // how it ended when that is not simply the expected r0
};

// Runs one case and compares with its expectation. A negative case (--expect-reject) must
// not return its `-- result`: it must be rejected, fault, or return something else.
CaseOutcome run_conformance_case(const ConformanceCase& c, vm::Engine& engine);

}  // namespace bpfvm::tools
