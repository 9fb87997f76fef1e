// The abstract interpreter: explores the program path by path from its entry, as the Linux
// verifier does, executing each instruction on the abstract state and checking its rules.
// Paths meet at the start of basic blocks, where explored states are kept; a path whose state an
// explored one covers stops there (its future was already checked). A loop comes back to its
// header with a new state each iteration until its exit is decided; coming back with the same
// registers and a covered state means it might never end.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "abstract_state.hpp"
#include "bpfvm/isa/helpers.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "cfg.hpp"

namespace bpfvm::verifier {

// "r3": how diagnostics name a register.
inline std::string reg_name(uint8_t r) {
    return "r" + std::to_string(r);
}

// Visits an isa::Instruction with one lambda per alternative.
template <typename... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

class Analyzer {
 public:
    Analyzer(const isa::Program& program, const ControlFlowGraph& cfg, isa::ProgramType type,
             std::span<const MapInfo> maps, const VerifyOptions& options);

    // Explores every path; the verdict, the first rule broken, statistics.
    VerifyResult run();

    // Per block, the join of the states that reached its start (record_block_states).
    std::vector<std::string> block_states() const;

 private:
    // A state kept at a meeting point, and the bookkeeping that decides when it may prune others:
    // `branches` counts the paths still being explored below it (0: its future is fully checked).
    // One executed instruction of a path, for tracing back where a value came from.
    struct HistoryEntry {
        uint32_t pc = 0;
        uint8_t frame = 0;       // the frame it ran in
        uint8_t slot_frame = 0;  // a fixed-offset stack access: the frame and slot it touched
        int8_t slot = -1;
        bool callback = false;  // a callback point: values flow through the helper (not traced)
    };

    struct Checkpoint {
        State state;
        // Which numbers must match exactly for this state to cover another: those a later check
        // (a decided branch, pointer arithmetic, a size) depended on. all_precise: every one.
        ReadMarks precise;
        bool all_precise = false;
        std::vector<HistoryEntry> history_before;  // the path from the parent to here
        uint32_t point = 0;
        Checkpoint* parent = nullptr;
        uint32_t branches = 1;
        ReadMarks read;            // what its successors read before writing
        ReadMarks written_before;  // what the path wrote between the parent and here
    };

    // The branch decisions of a path, shared between the paths that forked from it.
    struct PathNode {
        PathStep step;
        mutable std::shared_ptr<const PathNode> parent;

        PathNode() = default;
        PathNode(const PathNode&) = delete;
        PathNode& operator=(const PathNode&) = delete;
        // Frees the parents only this node holds one at a time: nested destructors would
        // overflow the stack on a path of a million branches.
        ~PathNode() {
            std::shared_ptr<const PathNode> next = std::move(parent);
            while (next && next.use_count() == 1) next = std::move(next->parent);
        }
    };

    struct Path {
        State state;
        uint32_t pc = 0;
        // At a helper call with a callback, between two calls of the callback (or before the first).
        bool callback_point = false;
        uint32_t came_from = 0;  // the previous instruction (the back edge, at a loop header)
        uint32_t since_checkpoint = 0;
        Checkpoint* checkpoint = nullptr;
        ReadMarks written;
        std::shared_ptr<const PathNode> steps;
        std::vector<HistoryEntry> history;  // since the checkpoint
    };

    enum class Visit { Continue, Pruned, Failed };

    // Exploration (analyzer.cpp).
    void explore(Path path);
    Visit visit(Path& path);
    void end_path(Path& path);
    void fork(Path& path, Path other);
    void add_step(Path& path, uint32_t jump, bool taken);
    bool fail(const Path& path, Rule rule, std::string message, std::initializer_list<uint8_t> regs = {});
    std::string too_complex_message(const Path& path) const;

    // Reads and writes of registers and stack slots: they record what later paths depend on.
    const Value* read_reg(Path& path, uint8_t reg);
    void write_reg(Path& path, uint8_t reg, Value value);
    void mark_reg_read(Path& path, size_t frame, uint8_t reg);
    void mark_slot_read(Path& path, size_t frame, uint32_t slot);
    void mark_slot_written(Path& path, size_t frame, uint32_t slot);
    void mark_frame_written(Path& path, size_t frame);
    std::string describe(const Path& path, uint8_t reg) const;

    // Precision (analyzer.cpp): the numbers in `need` (registers and stack slots of the running
    // frames) decided a check; trace them back along the path and mark them, and what they were
    // computed from, precise in every checkpoint on the way.
    // during_instruction: called by the instruction that uses them (the last history entry, which
    // has not taken effect); otherwise between instructions (pruning at a meeting point).
    void mark_precise(Path& path, ReadMarks need, bool during_instruction);
    void mark_precise_regs(Path& path, std::initializer_list<uint8_t> regs);
    // One instruction backwards: what `need` was before it. False: cannot tell (mark everything).
    bool backtrack(const HistoryEntry& entry, ReadMarks& need) const;
    void record_stack_access(Path& path, size_t frame, uint32_t slot);

    // One instruction (transfer_*.cpp). False: the path ended (error, exit, pruned fork).
    bool step(Path& path);
    bool alu(Path& path, const isa::Alu& insn);
    bool pointer_arithmetic(Path& path, const isa::Alu& insn, Value dst, const Value& src);
    bool endian(Path& path, const isa::Endian& insn);
    bool load_imm64(Path& path, const isa::LoadImm64& insn);
    bool load(Path& path, const isa::Load& insn);
    bool store(Path& path, const isa::Store& insn);
    bool atomic(Path& path, const isa::Atomic& insn);
    bool packet_load(Path& path, const isa::PacketLoad& insn);
    bool jump(Path& path, const isa::Jump& insn);
    bool call(Path& path, const isa::Call& insn);
    bool call_helper(Path& path, const isa::Call& insn);
    bool call_local(Path& path, uint32_t target);
    bool callback_point(Path& path);
    bool exit(Path& path);

    // Memory (transfer_memory.cpp).
    enum class Access : uint8_t { Load, Store, HelperRead, HelperWrite, HelperReadWrite };
    // Checks [ptr + offset, + size bytes) for an access through register `reg`; `size` may be a
    // range for helper memory arguments.
    bool check_access(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint64_t min_size,
                      uint64_t max_size, Access access);
    bool check_context_access(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint32_t size,
                              bool store, const isa::ContextField** field);
    std::optional<Value> stack_load(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint32_t size,
                                    bool sign_extend);
    bool stack_store(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint32_t size,
                     const Value& value);
    // After a helper filled stack memory, or an atomic changed it.
    void stack_clobber(Path& path, const Value& ptr, int64_t lo, int64_t hi);
    Value map_value_load(const Value& ptr, int64_t offset, uint32_t size, bool sign_extend) const;

    // Branches (transfer_branch.cpp).
    void refine_scalar(State& state, const Value& before, const Scalar& after);
    void mark_null_checked(State& state, uint32_t id, bool is_null);
    bool packet_compare(Path& path, const isa::Jump& insn, const Value& dst, const Value& src);

    // Helper arguments (transfer_call.cpp).
    struct CallFacts {
        const MapInfo* map = nullptr;
        std::optional<uint64_t> alloc_size;
        std::optional<uint32_t> callback;  // entry instruction
        std::optional<uint8_t> released_ref_reg;
        Value callback_context;
        // The key, when it is a number known on the stack (an array lookup of it cannot fail).
        std::optional<uint64_t> constant_key;
    };
    std::optional<uint64_t> constant_stack_key(Path& path, const Value& key, uint32_t key_size);
    bool check_helper_arg(Path& path, const isa::HelperPrototype& helper, uint8_t arg, CallFacts& facts);
    bool check_memory_arg(Path& path, const isa::HelperPrototype& helper, uint8_t arg, isa::ArgKind kind,
                          uint8_t size_reg, isa::ArgKind size_kind);
    bool check_snprintf_format(Path& path);
    void invalidate_packet_pointers(State& state);
    void release_reference(State& state, uint32_t ref);
    bool enter_callback(Path& path);

    const isa::Program& program_;
    const ControlFlowGraph& cfg_;
    isa::ProgramType type_;
    std::span<const MapInfo> maps_;
    const VerifyOptions& options_;

    std::vector<Path> pending_;
    std::vector<std::unique_ptr<Checkpoint>> checkpoints_;
    // Per point (2 * insn + callback_point): the checkpoints whose future is fully explored, the
    // only ones that may prune.
    std::vector<std::vector<Checkpoint*>> complete_;
    std::vector<uint32_t> checkpoints_at_;  // per point, for statistics
    std::optional<Diagnostic> error_;
    Statistics stats_;
    uint64_t stored_bytes_ = 0;
    std::vector<std::optional<State>> block_states_;
    // Observed calls between functions (by entry instruction) and each function's stack use,
    // for the combined stack size check.
    std::set<std::pair<uint32_t, uint32_t>> call_edges_;  // (caller entry, callee entry)
    std::vector<uint32_t> stack_depth_;                   // per instruction of function entries
};

}  // namespace bpfvm::verifier
