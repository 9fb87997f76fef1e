#include "analyzer.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace bpfvm::verifier {

namespace {

// Paths add a checkpoint at a meeting point only after this many instructions since their last
// one (loop headers always get one): fewer states to keep, little pruning lost.
constexpr uint32_t kCheckpointSpacing = 8;
// How many earlier visits of the same loop header on a path are compared for a repeat.
constexpr int kLoopRepeatWindow = 8;
constexpr size_t kMaxComparedStates = 64;

}  // namespace

Analyzer::Analyzer(const isa::Program& program, const ControlFlowGraph& cfg, isa::ProgramType type,
                   std::span<const MapInfo> maps, const VerifyOptions& options)
    : program_(program), cfg_(cfg), type_(type), maps_(maps), options_(options) {
    complete_.resize(2 * program.size());
    checkpoints_at_.assign(2 * program.size(), 0);
    stack_depth_.assign(program.size(), 0);
    if (options.record_block_states) block_states_.resize(cfg.blocks().size());
}

VerifyResult Analyzer::run() {
    Path root;
    Frame main;
    main.regs[isa::kFramePointer] = Value::pointer(ValueType::Stack);
    if (type_ == isa::ProgramType::Bytes) {
        // r1 is the data, r2 its length: checking r2 proves bytes of r1 readable.
        main.regs[1] = Value::pointer(ValueType::Packet);
        Value length = Value::scalar(Scalar::unsigned_range(0, 0xffffffff));
        length.id = root.state.fresh_id();
        root.state.length_id = length.id;
        main.regs[2] = length;
    } else {
        main.regs[1] = Value::pointer(ValueType::Ctx);
    }
    root.state.frames.push_back(std::move(main));
    pending_.push_back(std::move(root));
    while (!pending_.empty() && !error_) {
        Path path = std::move(pending_.back());
        pending_.pop_back();
        explore(std::move(path));
    }

    VerifyResult result;
    if (!error_) {
        // The deepest chain of calls must fit the 512 bytes the kernel gives all frames together.
        std::map<uint32_t, std::vector<uint32_t>> callees;
        for (const auto& [caller, callee] : call_edges_) callees[caller].push_back(callee);
        auto frame_size = [&](uint32_t function) {
            uint32_t depth = std::max<uint32_t>(stack_depth_[function], 1);
            return (depth + 31) / 32 * 32;
        };
        uint32_t worst = 0;
        auto walk = [&](auto&& self, uint32_t function, uint32_t total, size_t depth) -> void {
            total += frame_size(function);
            worst = std::max(worst, total);
            if (depth > isa::kMaxCallDepth) return;
            for (uint32_t callee : callees[function]) self(self, callee, total, depth + 1);
        };
        walk(walk, 0, 0, 1);
        stats_.stack_depth = worst;
        if (worst > isa::kStackSize) {
            Diagnostic d;
            d.rule = Rule::CallDepth;
            d.message =
                "the frames of the deepest call chain need " + std::to_string(worst) +
                " bytes of stack together (each rounded up to 32), more than the 512 the kernel allows";
            error_ = std::move(d);
        }
    }
    result.accepted = !error_.has_value();
    if (error_) result.diagnostics.push_back(std::move(*error_));
    result.stats = stats_;
    return result;
}

std::vector<std::string> Analyzer::block_states() const {
    std::vector<std::string> states;
    for (const auto& state : block_states_) states.push_back(state ? state->to_string() : "");
    return states;
}

// ---------------------------------------------------------------------------------------------
// Exploration
// ---------------------------------------------------------------------------------------------

void Analyzer::explore(Path path) {
    while (!error_) {
        if (++stats_.processed_instructions > options_.max_processed_instructions) {
            fail(path, Rule::TooComplex, too_complex_message(path));
            return;
        }
        if (path.callback_point || cfg_.is_block_start(path.pc) || path.checkpoint == nullptr) {
            Visit visit_result = visit(path);
            if (visit_result == Visit::Pruned) {
                end_path(path);
                return;
            }
            if (visit_result == Visit::Failed) return;
        }
        if (options_.trace && !path.callback_point) options_.trace(path.pc, path.state.to_string());
        ++path.since_checkpoint;
        if (!step(path)) return;
    }
}

Analyzer::Visit Analyzer::visit(Path& path) {
    uint32_t point = 2 * path.pc + (path.callback_point ? 1 : 0);
    // The most recently completed states first, and only so many: comparing with every state a
    // branchy program left at a point costs more than the few extra paths it would save.
    const auto& complete = complete_[point];
    size_t first = complete.size() > kMaxComparedStates ? complete.size() - kMaxComparedStates : 0;
    for (size_t i = complete.size(); i-- > first;) {
        const Checkpoint* checkpoint = complete[i];
        const ReadMarks* precise = checkpoint->all_precise ? nullptr : &checkpoint->precise;
        if (state_covers(checkpoint->state, path.state, &checkpoint->read, precise)) {
            // The numbers the explored future depended on must be as exact in this path's past.
            if (checkpoint->all_precise) {
                for (Checkpoint* c = path.checkpoint; c != nullptr; c = c->parent) c->all_precise = true;
            } else {
                mark_precise(path, checkpoint->precise, /*during_instruction=*/false);
            }
            // What the explored future reads, this path's past must keep.
            for (size_t f = 0; f < ReadMarks::kMaxFrames; ++f) {
                for (uint8_t r = 0; r < isa::kRegisterCount; ++r) {
                    if (checkpoint->read.reg(f, r)) mark_reg_read(path, f, r);
                }
                for (uint32_t s = 0; s < 64; ++s) {
                    if (checkpoint->read.slot(f, s)) mark_slot_read(path, f, s);
                }
            }
            ++stats_.paths_pruned;
            return Visit::Pruned;
        }
    }

    bool loop_head = !path.callback_point && cfg_.is_loop_head(path.pc);
    if (loop_head || path.callback_point) {
        int seen = 0;
        for (Checkpoint* earlier = path.checkpoint; earlier != nullptr && seen < kLoopRepeatWindow;
             earlier = earlier->parent) {
            if (earlier->point != point) continue;
            ++seen;
            if (path.callback_point) {
                // Calls of a callback: the helper bounds their number, so iterate to a fixpoint.
                if (state_covers(earlier->state, path.state, nullptr, nullptr)) {
                    ++stats_.paths_pruned;
                    return Visit::Pruned;
                }
                path.state = join_states(earlier->state, path.state, /*widen=*/true);
                break;
            }
            if (same_registers(earlier->state, path.state) &&
                state_covers(earlier->state, path.state, nullptr, nullptr)) {
                Path at_back_edge = path;
                at_back_edge.pc = path.came_from;
                fail(at_back_edge, Rule::InfiniteLoop,
                     "the loop at instruction " + std::to_string(path.pc) +
                         " comes back to its header in a state it was already in, so it may never end: "
                         "its exit condition does not depend on anything the loop changes");
                return Visit::Failed;
            }
        }
    }

    if (!block_states_.empty() && !path.callback_point && cfg_.is_block_start(path.pc)) {
        auto& recorded = block_states_[cfg_.block_of(path.pc)];
        recorded = recorded ? join_states(*recorded, path.state, false) : path.state;
    }

    bool add = path.checkpoint == nullptr || loop_head || path.callback_point ||
               path.since_checkpoint >= kCheckpointSpacing;
    if (add) {
        auto checkpoint = std::make_unique<Checkpoint>();
        checkpoint->state = path.state;
        checkpoint->point = point;
        checkpoint->parent = path.checkpoint;
        checkpoint->written_before = path.written;
        checkpoint->history_before = std::move(path.history);
        path.history.clear();
        path.written = ReadMarks{};
        path.checkpoint = checkpoint.get();
        path.since_checkpoint = 0;
        stored_bytes_ += checkpoint->state.memory_bytes() + sizeof(Checkpoint);
        stats_.peak_state_bytes = std::max(stats_.peak_state_bytes, stored_bytes_);
        ++stats_.states_stored;
        checkpoints_.push_back(std::move(checkpoint));
        stats_.max_states_per_instruction =
            std::max(stats_.max_states_per_instruction, ++checkpoints_at_[point]);
    }
    return Visit::Continue;
}

void Analyzer::end_path(Path& path) {
    for (Checkpoint* checkpoint = path.checkpoint; checkpoint != nullptr; checkpoint = checkpoint->parent) {
        if (--checkpoint->branches > 0) break;
        complete_[checkpoint->point].push_back(checkpoint);
    }
    path.checkpoint = nullptr;
}

void Analyzer::fork(Path& path, Path other) {
    if (path.checkpoint != nullptr) ++path.checkpoint->branches;
    pending_.push_back(std::move(other));
}

void Analyzer::add_step(Path& path, uint32_t jump, bool taken) {
    auto node = std::make_shared<PathNode>();
    node->step = PathStep{jump, taken};
    node->parent = std::move(path.steps);
    path.steps = std::move(node);
}

bool Analyzer::fail(const Path& path, Rule rule, std::string message, std::initializer_list<uint8_t> regs) {
    if (error_) return false;
    Diagnostic d;
    d.rule = rule;
    d.message = std::move(message);
    d.instruction = path.pc;
    for (uint8_t r : regs) {
        if (r < isa::kRegisterCount) d.registers.push_back({r, describe(path, r)});
    }
    std::vector<PathStep> steps;
    for (const PathNode* node = path.steps.get(); node != nullptr && steps.size() < kMaxPathSteps;
         node = node->parent.get()) {
        steps.push_back(node->step);
    }
    d.path.assign(steps.rbegin(), steps.rend());
    for (size_t f = 1; f < path.state.frames.size(); ++f)
        d.call_stack.push_back(path.state.frames[f].callsite);
    error_ = std::move(d);
    return false;
}

std::string Analyzer::too_complex_message(const Path& path) const {
    std::map<uint32_t, uint32_t> visits;  // loop header -> visits on this path
    for (const Checkpoint* c = path.checkpoint; c != nullptr; c = c->parent) {
        if (c->point % 2 == 0 && cfg_.is_loop_head(c->point / 2)) ++visits[c->point / 2];
    }
    std::string budget = std::to_string(options_.max_processed_instructions);
    auto most = std::max_element(visits.begin(), visits.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most != visits.end() && most->second >= 16) {
        return "the analysis budget of " + budget + " instructions ran out: the loop at instruction " +
               std::to_string(most->first) + " ran " + std::to_string(most->second) +
               " times on this path without its exit being decided (is its bound checked against a "
               "constant?)";
    }
    return "the analysis budget of " + budget + " instructions ran out before every path was checked";
}

// ---------------------------------------------------------------------------------------------
// Registers, stack slots and what later paths read
// ---------------------------------------------------------------------------------------------

const Value* Analyzer::read_reg(Path& path, uint8_t reg) {
    const Value& v = path.state.frame().regs[reg];
    if (v.type == ValueType::Uninit) {
        fail(path, Rule::UninitializedRegister,
             "r" + std::to_string(reg) + " is read before anything was written to it" +
                 (reg >= 1 && reg <= 5 ? " (calls leave r1-r5 undefined)" : ""));
        return nullptr;
    }
    mark_reg_read(path, path.state.frames.size() - 1, reg);
    return &v;
}

void Analyzer::write_reg(Path& path, uint8_t reg, Value value) {
    size_t f = path.state.frames.size() - 1;
    path.state.frame().regs[reg] = std::move(value);
    path.written.regs[f] |= static_cast<uint16_t>(1u << reg);
}

void Analyzer::mark_reg_read(Path& path, size_t frame, uint8_t reg) {
    if (frame >= ReadMarks::kMaxFrames || path.written.reg(frame, reg)) return;
    auto bit = static_cast<uint16_t>(1u << reg);
    for (Checkpoint* c = path.checkpoint; c != nullptr; c = c->parent) {
        if (c->read.reg(frame, reg)) break;
        c->read.regs[frame] |= bit;
        if (c->written_before.reg(frame, reg)) break;
    }
}

void Analyzer::mark_slot_read(Path& path, size_t frame, uint32_t slot) {
    if (frame >= ReadMarks::kMaxFrames || slot >= 64 || path.written.slot(frame, slot)) return;
    uint64_t bit = uint64_t{1} << slot;
    for (Checkpoint* c = path.checkpoint; c != nullptr; c = c->parent) {
        if (c->read.slot(frame, slot)) break;
        c->read.slots[frame] |= bit;
        if (c->written_before.slot(frame, slot)) break;
    }
}

void Analyzer::mark_slot_written(Path& path, size_t frame, uint32_t slot) {
    if (frame < ReadMarks::kMaxFrames && slot < 64) path.written.slots[frame] |= uint64_t{1} << slot;
}

void Analyzer::mark_frame_written(Path& path, size_t frame) {
    if (frame >= ReadMarks::kMaxFrames) return;
    path.written.regs[frame] = 0xffff;
    path.written.slots[frame] = ~uint64_t{0};
}

// ---------------------------------------------------------------------------------------------
// Precision
// ---------------------------------------------------------------------------------------------

namespace {

bool is_empty(const ReadMarks& marks) {
    for (size_t f = 0; f < ReadMarks::kMaxFrames; ++f) {
        if (marks.regs[f] != 0 || marks.slots[f] != 0) return false;
    }
    return true;
}

bool is_subset(const ReadMarks& a, const ReadMarks& b) {
    for (size_t f = 0; f < ReadMarks::kMaxFrames; ++f) {
        if ((a.regs[f] & ~b.regs[f]) != 0 || (a.slots[f] & ~b.slots[f]) != 0) return false;
    }
    return true;
}

}  // namespace

void Analyzer::record_stack_access(Path& path, size_t frame, uint32_t slot) {
    if (path.history.empty() || slot >= 64) return;
    path.history.back().slot_frame = static_cast<uint8_t>(frame);
    path.history.back().slot = static_cast<int8_t>(slot);
}

void Analyzer::mark_precise_regs(Path& path, std::initializer_list<uint8_t> regs) {
    ReadMarks need;
    size_t f = path.state.frames.size() - 1;
    for (uint8_t r : regs) {
        if (r < isa::kFramePointer) need.regs[f] |= static_cast<uint16_t>(1u << r);
    }
    mark_precise(path, need, /*during_instruction=*/true);
}

bool Analyzer::backtrack(const HistoryEntry& entry, ReadMarks& need) const {
    if (entry.callback) return is_empty(need);
    size_t f = entry.frame;
    auto has = [&](size_t frame, uint8_t r) { return frame < ReadMarks::kMaxFrames && need.reg(frame, r); };
    auto drop = [&](size_t frame, uint8_t r) {
        if (frame < ReadMarks::kMaxFrames) need.regs[frame] &= static_cast<uint16_t>(~(1u << r));
    };
    auto add = [&](size_t frame, uint8_t r) {
        if (frame < ReadMarks::kMaxFrames && r < isa::kFramePointer)
            need.regs[frame] |= static_cast<uint16_t>(1u << r);
    };
    bool slot_needed = entry.slot >= 0 && entry.slot_frame < ReadMarks::kMaxFrames &&
                       need.slot(entry.slot_frame, static_cast<uint32_t>(entry.slot));
    return std::visit(Overloaded{
                          [&](const isa::Alu& insn) {
                              if (!has(f, insn.dst)) return true;
                              if (insn.op == isa::Op::Mov || insn.op == isa::Op::MovSx) drop(f, insn.dst);
                              if (insn.src.is_reg) add(f, insn.src.reg);
                              return true;
                          },
                          [&](const isa::Endian&) { return true; },
                          [&](const isa::Jump&) { return true; },
                          [&](const isa::LoadImm64& insn) {
                              drop(f, insn.dst);
                              return true;
                          },
                          [&](const isa::Load& insn) {
                              if (!has(f, insn.dst)) return true;
                              drop(f, insn.dst);
                              if (entry.slot >= 0) need.slots[entry.slot_frame] |= uint64_t{1} << entry.slot;
                              return true;
                          },
                          [&](const isa::Store& insn) {
                              if (!slot_needed) return true;
                              if (insn.size == 8)
                                  need.slots[entry.slot_frame] &= ~(uint64_t{1} << entry.slot);
                              if (insn.value.is_reg) add(f, insn.value.reg);
                              return true;
                          },
                          [&](const isa::Atomic& insn) {
                              if (insn.op == isa::Op::LoadAcquire) {
                                  if (!has(f, insn.dst)) return true;
                                  drop(f, insn.dst);
                                  if (entry.slot >= 0)
                                      need.slots[entry.slot_frame] |= uint64_t{1} << entry.slot;
                                  return true;
                              }
                              if (insn.op == isa::Op::StoreRelease) {
                                  if (slot_needed) add(f, insn.src);
                                  return true;
                              }
                              if (insn.op == isa::Op::AtomicCmpXchg) drop(f, 0);
                              if (insn.fetch || insn.op == isa::Op::AtomicXchg) drop(f, insn.src);
                              return true;
                          },
                          [&](const isa::PacketLoad&) {
                              for (uint8_t r = 0; r <= 5; ++r) drop(f, r);
                              return true;
                          },
                          [&](const isa::Call& insn) {
                              if (insn.op == isa::Op::CallHelper) {
                                  drop(f, 0);
                                  return true;
                              }
                              if (insn.op != isa::Op::CallLocal || f + 1 >= ReadMarks::kMaxFrames)
                                  return is_empty(need);
                              // What the callee needed of r1-r5 the caller passed.
                              uint16_t args = need.regs[f + 1] & 0x3e;
                              need.regs[f] |= args;
                              need.regs[f + 1] = 0;
                              need.slots[f + 1] = 0;
                              return true;
                          },
                          [&](const isa::Exit&) {
                              if (f == 0) return true;
                              if (has(f - 1, 0)) {
                                  drop(f - 1, 0);
                                  add(f, 0);
                              }
                              return true;
                          },
                      },
                      program_.instructions[entry.pc]);
}

void Analyzer::mark_precise(Path& path, ReadMarks need, bool during_instruction) {
    auto give_up = [](Checkpoint* from) {
        for (Checkpoint* c = from; c != nullptr && !c->all_precise; c = c->parent) c->all_precise = true;
    };
    // The instruction being executed is the use itself: start before it.
    for (size_t i = path.history.size(); i-- > 0;) {
        if (during_instruction && i + 1 == path.history.size()) continue;
        if (!backtrack(path.history[i], need)) {
            give_up(path.checkpoint);
            return;
        }
        if (is_empty(need)) return;
    }
    for (Checkpoint* c = path.checkpoint; c != nullptr; c = c->parent) {
        if (is_empty(need) || c->all_precise || is_subset(need, c->precise)) return;
        c->precise.merge(need);
        for (size_t i = c->history_before.size(); i-- > 0;) {
            if (!backtrack(c->history_before[i], need)) {
                give_up(c->parent);
                return;
            }
            if (is_empty(need)) return;
        }
    }
}

std::string Analyzer::describe(const Path& path, uint8_t reg) const {
    return path.state.describe(path.state.frame().regs[reg]);
}

}  // namespace bpfvm::verifier
