// The verifier: proves by abstract interpretation that a program is safe to run (every memory
// access in bounds, no uninitialized read, helpers called as their prototypes say, every loop
// ends), following the Linux verifier's rules so that what it accepts, bpfvm accepts. A
// rejection explains itself: the instruction, the rule, the abstract state of the registers
// involved and the branch decisions that led there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/contexts.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::verifier {

// What the verifier knows of a map the program refers to (by index: the pseudo map-index forms
// of ld_imm64 name maps by their position in the list given to verify()).
struct MapInfo {
    std::string name;
    isa::MapType type = isa::MapType::Hash;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    // The program may only read its values (.rodata, BPF_F_RDONLY_PROG); loads at known offsets
    // give the bytes of initial_data, as the kernel reads a frozen map.
    bool read_only = false;
    std::vector<uint8_t> initial_data;
    // Map of maps: what the inner maps look like.
    std::shared_ptr<const MapInfo> inner;
    // Where the value's struct bpf_spin_lock is, when it has one (from BTF).
    std::optional<uint32_t> spin_lock_offset;
};

// The rule a rejection breaks. Each has a stable id (SARIF rule ids, JSON, corpus expectations).
enum class Rule : uint8_t {
    InvalidControlFlow,      // a jump out of its function, a function that falls into the next
    InvalidInstruction,      // one the kernel refuses in any state: division by immediate 0, shift by 64
    InvalidMapReference,     // an ld_imm64 naming a map that was not given, or a map file descriptor
    UnreachableInstruction,  // code no path reaches (the kernel refuses it)
    UninitializedRegister,   // a read of a register nothing wrote
    UninitializedStack,      // a read of stack bytes nothing wrote
    InvalidMemoryAccess,     // a load or store through something that is not a pointer to memory
    OutOfBounds,             // an access outside its region (stack, map value, packet, context, memory)
    NullDereference,         // use of a map lookup (or reserve) result before checking it for null
    InvalidContextAccess,    // a context field the program type may not read or write that way
    ReadOnlyWrite,           // a store to read-only memory (.rodata, a read-only map, r10)
    InvalidPointerArithmetic,
    InvalidPointerComparison,
    PointerLeak,           // a pointer stored into a map, returned, or turned into a number
    HelperNotAllowed,      // an unknown helper, one the program type or license may not call
    HelperArgument,        // an argument its prototype does not allow
    ReturnValue,           // r0 at exit not a value the program type (or callback) may return
    UnreleasedReference,   // a ring buffer record neither submitted nor discarded on some path
    InvalidRelease,        // releasing something that is not an acquired reference
    SpinLock,              // lock discipline: unlock without lock, exit or call while locked
    CallDepth,             // too many nested calls, or their stack frames exceed 512 bytes together
    InfiniteLoop,          // a loop whose exit the analysis shows cannot be reached
    TooComplex,            // the analysis budget ran out before every path was checked
    UnresolvedRelocation,  // a CO-RE relocation the loader could not resolve is reachable
    Unsupported,           // a feature bpfvm does not model (kfuncs, kernel BTF objects)
};

std::string_view rule_id(Rule rule);           // "uninitialized-register"
std::string_view rule_description(Rule rule);  // one sentence, for SARIF rule metadata
std::optional<Rule> rule_from_id(std::string_view id);
std::span<const Rule> all_rules();

// One branch decision on the path to a diagnostic.
struct PathStep {
    uint32_t instruction = 0;  // the conditional jump
    bool taken = false;
};

struct RegisterState {
    uint8_t reg = 0;
    std::string value;  // "scalar(umax=255)", "pkt(off=14,r=14)", "map_value_or_null(map=flows)"
};

struct Diagnostic {
    Rule rule = Rule::TooComplex;
    std::string message;       // what is wrong, in plain words
    uint32_t instruction = 0;  // index into Program::instructions
    // The registers the rule looked at, with their abstract values just before the instruction.
    std::vector<RegisterState> registers;
    // Branch decisions from the entry to the instruction, oldest first (at most the last
    // kMaxPathSteps).
    std::vector<PathStep> path;
    // Call stack when the instruction is in a subprogram: the call instructions, outermost first.
    std::vector<uint32_t> call_stack;
};

inline constexpr size_t kMaxPathSteps = 64;

struct VerifyOptions {
    isa::Platform platform = isa::host_platform();
    // The kernel's privileged rules (CAP_BPF + CAP_PERFMON): pointer comparisons and pointer
    // values in maps allowed, reads of uninitialized stack allowed. Default: unprivileged, except
    // for the program types only a CAP_PERFMON loader may load (isa::requires_perfmon: kprobes,
    // tracepoints, tracing...), which the kernel always verifies with the privileged rules.
    bool privileged = false;
    bool gpl_compatible = true;
    // Instructions that must never run (CO-RE relocations the loader could not resolve), with why.
    std::map<uint32_t, std::string> poisoned;
    // Budget: instructions processed across all paths, as the kernel's 1M limit.
    uint64_t max_processed_instructions = 1'000'000;
    // Called with every instruction index and the abstract state before it, as the kernel's log
    // level 2 prints it (`-v`); unset: no log is built.
    std::function<void(uint32_t instruction, const std::string& state)> trace;
    // Keep, per basic block, the join of the states that reached its first instruction (for
    // `--dot`).
    bool record_block_states = false;
};

struct Statistics {
    uint64_t processed_instructions = 0;  // instruction visits over all paths
    uint64_t states_stored = 0;           // states kept at meeting points for pruning
    uint64_t paths_pruned = 0;
    uint32_t max_states_per_instruction = 0;
    uint64_t peak_state_bytes = 0;  // memory held by stored states at the peak
    uint32_t stack_depth = 0;       // bytes of stack the deepest call chain uses
};

struct VerifyResult {
    bool accepted = false;
    std::vector<Diagnostic> diagnostics;  // empty when accepted; the first is the rejection
    Statistics stats;
    // With record_block_states: per block of the CFG, its entry state ("" for blocks never reached).
    std::vector<std::string> block_states;
    // Graphviz text of the CFG (with the block states when recorded).
    std::string dot;
};

// Verifies one program of `type` that refers to `maps` by index.
VerifyResult verify(const isa::Program& program, isa::ProgramType type, std::span<const MapInfo> maps,
                    const VerifyOptions& options = {});

}  // namespace bpfvm::verifier
