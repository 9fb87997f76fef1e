#include <array>
#include <string>

#include "analyzer.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "cfg.hpp"

namespace bpfvm::verifier {

namespace {

struct RuleText {
    Rule rule;
    std::string_view id;
    std::string_view description;
};

constexpr RuleText kRules[] = {
    {Rule::InvalidControlFlow, "invalid-control-flow",
     "Every jump stays inside its function and every function ends with exit or a jump."},
    {Rule::InvalidInstruction, "invalid-instruction",
     "No instruction is refused on its own: no division or modulo by an immediate 0, no shift by an "
     "immediate outside the operand's width."},
    {Rule::InvalidMapReference, "invalid-map-reference",
     "An ld_imm64 map reference names a map the program has, in a form the verifier can resolve."},
    {Rule::UnreachableInstruction, "unreachable-instruction",
     "Every instruction is reachable from the entry."},
    {Rule::UninitializedRegister, "uninitialized-register", "A register is written before it is read."},
    {Rule::UninitializedStack, "uninitialized-stack", "Stack bytes are written before they are read."},
    {Rule::InvalidMemoryAccess, "invalid-memory-access",
     "Loads and stores go through pointers to memory, aligned as the region requires."},
    {Rule::OutOfBounds, "out-of-bounds",
     "Every access lies inside its region: the stack frame, the map value, the packet bytes proven "
     "in bounds, the record."},
    {Rule::NullDereference, "null-dereference",
     "A pointer that may be null (a map lookup or ring buffer reservation result) is checked before use."},
    {Rule::InvalidContextAccess, "invalid-context-access",
     "Context fields are read and written only as the program type allows, at constant offsets."},
    {Rule::ReadOnlyWrite, "read-only-write",
     "Read-only memory (.rodata, read-only maps, the packet of some program types, r10) is not written."},
    {Rule::InvalidPointerArithmetic, "invalid-pointer-arithmetic",
     "Pointers are only moved by adding or subtracting bounded numbers, and only pointers into memory."},
    {Rule::InvalidPointerComparison, "invalid-pointer-comparison",
     "Pointers are only compared where that reveals nothing: packet pointers with data_end, nullable "
     "pointers with 0."},
    {Rule::PointerLeak, "pointer-leak",
     "Addresses do not leave the program: not stored into maps, packets or the context, not returned, "
     "not turned into numbers."},
    {Rule::HelperNotAllowed, "helper-not-allowed",
     "Only known helpers that the program type and license may call are called."},
    {Rule::HelperArgument, "helper-argument",
     "Helper arguments match the helper's prototype: maps, keys and values of the map's sizes, memory with "
     "bounded sizes."},
    {Rule::ReturnValue, "return-value", "The return value is one the program type or callback may return."},
    {Rule::UnreleasedReference, "unreleased-reference",
     "Every ring buffer record reserved is submitted or discarded on every path."},
    {Rule::InvalidRelease, "invalid-release", "Only records still held are released, each once."},
    {Rule::SpinLock, "spin-lock",
     "bpf_spin_lock is taken and released in pairs, with no call or exit in between."},
    {Rule::CallDepth, "call-depth", "Calls nest at most 8 deep and their frames fit in 512 bytes together."},
    {Rule::InfiniteLoop, "infinite-loop", "Every loop reaches its exit."},
    {Rule::TooComplex, "too-complex", "The analysis finishes within its budget."},
    {Rule::UnresolvedRelocation, "unresolved-relocation",
     "Code whose CO-RE relocation did not resolve is never reached."},
    {Rule::Unsupported, "unsupported", "The program uses only features bpfvm models."},
};

constexpr auto kAllRules = [] {
    std::array<Rule, std::size(kRules)> rules{};
    for (size_t i = 0; i < rules.size(); ++i) rules[i] = kRules[i].rule;
    return rules;
}();

const RuleText& text_of(Rule rule) {
    for (const RuleText& text : kRules) {
        if (text.rule == rule) return text;
    }
    return kRules[0];
}

Diagnostic diagnostic(Rule rule, uint32_t instruction, std::string message) {
    Diagnostic d;
    d.rule = rule;
    d.instruction = instruction;
    d.message = std::move(message);
    return d;
}

}  // namespace

std::string_view rule_id(Rule rule) {
    return text_of(rule).id;
}

std::string_view rule_description(Rule rule) {
    return text_of(rule).description;
}

std::optional<Rule> rule_from_id(std::string_view id) {
    for (const RuleText& text : kRules) {
        if (text.id == id) return text.rule;
    }
    return std::nullopt;
}

std::span<const Rule> all_rules() {
    return kAllRules;
}

VerifyResult verify(const isa::Program& program, isa::ProgramType type, std::span<const MapInfo> maps,
                    const VerifyOptions& options) {
    VerifyResult result;
    if (program.instructions.empty()) {
        result.diagnostics.push_back(
            diagnostic(Rule::InvalidControlFlow, 0, "the program has no instructions"));
        return result;
    }
    auto cfg = ControlFlowGraph::build(program);
    if (!cfg) {
        result.diagnostics.push_back(diagnostic(
            Rule::InvalidControlFlow, cfg.error().where.instruction.value_or(0), cfg.error().message));
        return result;
    }
    std::vector<uint32_t> unreachable = cfg->unreachable_instructions();
    if (!unreachable.empty()) {
        std::string message = "instruction " + std::to_string(unreachable.front()) + " is never reached";
        if (unreachable.size() > 1)
            message += " (nor are " + std::to_string(unreachable.size() - 1) + " more)";
        result.diagnostics.push_back(diagnostic(Rule::UnreachableInstruction, unreachable.front(), message));
        return result;
    }
    VerifyOptions effective = options;
    effective.privileged = options.privileged || isa::requires_perfmon(type);
    Analyzer analyzer(program, *cfg, type, maps, effective);
    result = analyzer.run();
    if (options.record_block_states) {
        result.block_states = analyzer.block_states();
        isa::DisasmOptions disasm;
        result.dot = cfg->to_dot(
            [&](uint32_t insn) {
                return std::to_string(insn) + ": " + isa::disassemble(program.instructions[insn], disasm);
            },
            [&](uint32_t block) { return result.block_states[block]; });
    }
    return result;
}

}  // namespace bpfvm::verifier
