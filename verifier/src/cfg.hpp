// The control-flow graph of a decoded program, built with Boost.Graph: functions (the entry
// program and the subprograms calls and callbacks name), basic blocks, dominators, natural and
// irreducible loops with their nesting, unreachable instructions, and register liveness. The
// abstract interpreter uses it to know where paths meet (where explored states are kept and
// compared), which registers still matter there, and where loops close.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"

namespace bpfvm::verifier {

// A function: the program's entry (at instruction 0) or a subprogram, which starts at the
// target of a local call or of a code-address ld_imm64 (a callback) and runs until the next
// function starts, as the loader lays them out.
struct Function {
    uint32_t entry = 0;  // instruction index
    uint32_t end = 0;    // one past the last instruction
};

struct BasicBlock {
    uint32_t first = 0;  // instruction indices, inclusive
    uint32_t last = 0;
    uint32_t function = 0;
    std::vector<uint32_t> successors;    // block indices, within the function
    std::vector<uint32_t> predecessors;  // (a local call falls through to the next block)
    bool reachable = false;              // from its function's entry
};

struct Loop {
    uint32_t head = 0;  // block index of the loop header
    // The jumps (instruction indices) that go back to the header.
    std::vector<uint32_t> back_edges;
    std::vector<uint32_t> blocks;    // every block of the body, head included, ascending
    std::optional<uint32_t> parent;  // index into loops() of the innermost enclosing loop
    uint32_t depth = 1;              // 1 for an outermost loop
    bool irreducible = false;        // entered other than through its header
};

// Registers as a bit set: bit n is rn.
using RegisterSet = uint16_t;

class ControlFlowGraph {
 public:
    // Fails (ErrorKind::InvalidInput, naming the instruction) when a jump leaves its function,
    // a function's last instruction can fall into the next one, or a call or callback target
    // is outside the program. The decoder already guarantees targets are instruction starts.
    static Result<ControlFlowGraph> build(const isa::Program& program);

    std::span<const Function> functions() const { return functions_; }
    uint32_t function_of(uint32_t instruction) const;
    // The function starting at `instruction`, if one does.
    std::optional<uint32_t> function_at(uint32_t instruction) const;

    std::span<const BasicBlock> blocks() const { return blocks_; }
    uint32_t block_of(uint32_t instruction) const;
    bool is_block_start(uint32_t instruction) const;

    // The immediate dominator of a block (within its function); nullopt for a function entry
    // and for unreachable blocks.
    std::optional<uint32_t> immediate_dominator(uint32_t block) const;
    bool dominates(uint32_t a, uint32_t b) const;  // block a dominates block b

    std::span<const Loop> loops() const { return loops_; }
    // Whether the instruction starts a loop header block.
    bool is_loop_head(uint32_t instruction) const;
    // The innermost loop containing the instruction.
    std::optional<uint32_t> loop_of(uint32_t instruction) const;
    // Whether the edge from block `from` to its successor `to` closes a cycle: a back edge of a
    // natural loop (`to` dominates `from`) or of an irreducible one (a depth-first search back
    // edge whose target does not dominate its source).
    bool is_back_edge(uint32_t from, uint32_t to) const;

    // Instructions no path from their function's entry reaches, and functions never called,
    // ascending.
    std::vector<uint32_t> unreachable_instructions() const;

    // Registers whose value may still be read on some path from the start of `instruction`
    // (before it executes). A helper call reads r1..rN for its N arguments (all five when the
    // helper is unknown) and leaves r1-r5 undefined; a local call reads r1-r5; exit reads r0;
    // r10 is always live.
    RegisterSet live_registers(uint32_t instruction) const;

    // Graphviz text: one node per reachable block labelled with its instructions (from
    // `instruction_text`) and whatever `block_note` adds (the abstract state at its entry), one
    // cluster per function, back edges dashed.
    std::string to_dot(const std::function<std::string(uint32_t instruction)>& instruction_text,
                       const std::function<std::string(uint32_t block)>& block_note = {}) const;

 private:
    std::vector<Function> functions_;
    std::vector<BasicBlock> blocks_;
    std::vector<uint32_t> block_of_;  // per instruction
    std::vector<std::optional<uint32_t>> idom_;
    std::vector<Loop> loops_;
    std::vector<std::optional<uint32_t>> loop_of_;  // per block: innermost loop
    std::vector<RegisterSet> live_in_;              // per instruction
    std::vector<uint32_t> unreachable_;
    // Per block: entry and exit times of a depth-first walk of its function's dominator tree
    // (a dominates b when a's interval holds b's), and whether the block heads a loop.
    std::vector<uint32_t> dom_enter_;
    std::vector<uint32_t> dom_leave_;
    std::vector<bool> loop_head_;
    std::vector<std::pair<uint32_t, uint32_t>> back_edges_;  // (from, to) blocks, sorted
    // Local calls and code-address loads in reachable code, for to_dot.
    struct CallEdge {
        uint32_t from_block;
        uint32_t callee;  // function index
        bool callback;    // a code-address ld_imm64 rather than a call
    };
    std::vector<CallEdge> calls_;
};

}  // namespace bpfvm::verifier
