#include "cfg.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <pthread.h>

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/dominator_tree.hpp>
#include <boost/graph/strong_components.hpp>

#include "bpfvm/isa/helpers.hpp"

namespace bpfvm::verifier {
namespace {

// Graphs are built once from edge lists, so compressed sparse rows: a few arrays per graph
// rather than allocations per vertex and edge.
template <typename Directed>
using CsrGraph = boost::compressed_sparse_row_graph<Directed, boost::no_property, boost::no_property,
                                                    boost::no_property, uint32_t, uint32_t>;
using Graph = CsrGraph<boost::directedS>;
using BidiGraph = CsrGraph<boost::bidirectionalS>;
using Vertex = uint32_t;
using EdgeList = std::vector<std::pair<Vertex, Vertex>>;
static_assert(std::is_same_v<boost::graph_traits<Graph>::vertex_descriptor, Vertex>);

}  // namespace
}  // namespace bpfvm::verifier

namespace boost {
// Boost 1.74's bidirectional compressed sparse row graph has no degree(), which the
// BidirectionalGraph concept lengauer_tarjan_dominator_tree checks asks for (only the check
// calls it).
inline uint32_t degree(uint32_t v, const bpfvm::verifier::BidiGraph& g) {
    return out_degree(v, g) + in_degree(v, g);
}
}  // namespace boost

namespace bpfvm::verifier {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

constexpr RegisterSet reg_bit(unsigned r) {
    return static_cast<RegisterSet>(1u << r);
}
constexpr RegisterSet kR0 = reg_bit(0);
constexpr RegisterSet kArgRegs = 0x3e;  // r1-r5
constexpr RegisterSet kCallClobbered = kR0 | kArgRegs;
constexpr RegisterSet kAlwaysLive = reg_bit(isa::kFramePointer);

Error invalid(uint32_t instruction, std::string message) {
    Location where;
    where.instruction = instruction;
    return make_error(ErrorKind::InvalidInput, std::move(message), std::move(where));
}

// The subprogram a local call or code-address load names, if the instruction is one.
std::optional<uint32_t> function_target(const isa::Instruction& insn) {
    if (const auto* call = std::get_if<isa::Call>(&insn); call && call->op == isa::Op::CallLocal) {
        return call->target;
    }
    if (const auto* ld = std::get_if<isa::LoadImm64>(&insn); ld && ld->src_kind == isa::kPseudoFunc) {
        return ld->target;
    }
    return std::nullopt;
}

// Registers an instruction reads, and those it writes or leaves undefined.
struct UseDef {
    RegisterSet use = 0;
    RegisterSet def = 0;
};

RegisterSet operand_use(const isa::Operand& operand) {
    return operand.is_reg ? reg_bit(operand.reg) : 0;
}

UseDef use_def(const isa::Instruction& insn) {
    return std::visit(
        [](const auto& i) -> UseDef {
            using T = std::decay_t<decltype(i)>;
            if constexpr (std::is_same_v<T, isa::Alu>) {
                RegisterSet use = 0;
                if (i.op != isa::Op::Mov && i.op != isa::Op::MovSx) use |= reg_bit(i.dst);
                if (i.op != isa::Op::Neg) use |= operand_use(i.src);
                return {use, reg_bit(i.dst)};
            } else if constexpr (std::is_same_v<T, isa::Endian>) {
                return {reg_bit(i.dst), reg_bit(i.dst)};
            } else if constexpr (std::is_same_v<T, isa::Jump>) {
                if (i.op == isa::Op::Ja) return {};
                return {static_cast<RegisterSet>(reg_bit(i.dst) | operand_use(i.src)), 0};
            } else if constexpr (std::is_same_v<T, isa::Call>) {
                RegisterSet use = kArgRegs;
                if (i.op == isa::Op::CallHelper) {
                    const isa::HelperPrototype* helper = isa::helper_by_id(i.imm);
                    if (helper != nullptr && helper->known) {
                        use = static_cast<RegisterSet>(((1u << std::min<unsigned>(helper->arg_count, 5)) - 1)
                                                       << 1);
                    }
                } else if (i.op == isa::Op::CallReg) {
                    use |= reg_bit(i.reg);
                }
                return {use, kCallClobbered};
            } else if constexpr (std::is_same_v<T, isa::Exit>) {
                return {kR0, 0};
            } else if constexpr (std::is_same_v<T, isa::LoadImm64>) {
                return {0, reg_bit(i.dst)};
            } else if constexpr (std::is_same_v<T, isa::Load>) {
                return {reg_bit(i.base), reg_bit(i.dst)};
            } else if constexpr (std::is_same_v<T, isa::Store>) {
                return {static_cast<RegisterSet>(reg_bit(i.base) | operand_use(i.value)), 0};
            } else if constexpr (std::is_same_v<T, isa::Atomic>) {
                switch (i.op) {
                    case isa::Op::LoadAcquire: return {reg_bit(i.src), reg_bit(i.dst)};
                    case isa::Op::StoreRelease:
                        return {static_cast<RegisterSet>(reg_bit(i.dst) | reg_bit(i.src)), 0};
                    case isa::Op::AtomicCmpXchg:
                        return {static_cast<RegisterSet>(reg_bit(i.dst) | reg_bit(i.src) | kR0), kR0};
                    default: {
                        const bool fetch = i.fetch || i.op == isa::Op::AtomicXchg;
                        return {static_cast<RegisterSet>(reg_bit(i.dst) | reg_bit(i.src)),
                                fetch ? reg_bit(i.src) : RegisterSet{0}};
                    }
                }
            } else {
                static_assert(std::is_same_v<T, isa::PacketLoad>);
                // The legacy packet loads read the context from r6 and clobber r1-r5 like a call.
                RegisterSet use = reg_bit(6);
                if (i.indirect) use |= reg_bit(i.src);
                return {use, kCallClobbered};
            }
        },
        insn);
}

// Records what a depth-first walk from a function's entry discovers and its back edges.
struct ReachVisitor : boost::default_dfs_visitor {
    std::vector<Vertex>* discovered;
    EdgeList* back;

    void discover_vertex(Vertex v, const Graph&) const { discovered->push_back(v); }
    template <typename E>
    void back_edge(E e, const Graph& g) const {
        back->emplace_back(boost::source(e, g), boost::target(e, g));
    }
};

// Stamps entry and exit times on the vertices of a tree walked depth-first.
struct IntervalVisitor : boost::default_dfs_visitor {
    uint32_t* clock;
    std::vector<uint32_t>* enter;
    std::vector<uint32_t>* leave;

    void discover_vertex(Vertex v, const Graph&) const { (*enter)[v] = (*clock)++; }
    void finish_vertex(Vertex v, const Graph&) const { (*leave)[v] = (*clock)++; }
};

// Edges must be sorted by source.
Graph make_graph(const EdgeList& edges, uint32_t vertices) {
    return Graph(boost::edges_are_sorted, edges.begin(), edges.end(), vertices);
}

// Boost's Lengauer-Tarjan compresses dominator-forest paths recursively, one frame per block
// of the longest chain, so a large function would overflow the caller's stack: it runs on a
// thread with a stack sized for the function.
// A frame takes about 64 bytes (48 unoptimized), 1.4 KiB with AddressSanitizer's redzones.
#if defined(__SANITIZE_ADDRESS__)
#define BPFVM_CFG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BPFVM_CFG_ASAN 1
#endif
#endif
#ifdef BPFVM_CFG_ASAN
constexpr size_t kStackPerBlock = 4096;
#else
constexpr size_t kStackPerBlock = 256;
#endif
constexpr size_t kCallerStackBudget = size_t{1} << 20;
constexpr size_t kBlocksOnCallerStack = kCallerStackBudget / kStackPerBlock;

Status dominator_tree(const BidiGraph& g, std::vector<Vertex>& idom) {
    auto compute = [&] {
        boost::lengauer_tarjan_dominator_tree(
            g, Vertex{0},
            boost::make_iterator_property_map(idom.begin(), boost::get(boost::vertex_index, g)));
    };
    const auto count = static_cast<uint32_t>(boost::num_vertices(g));
    if (count <= kBlocksOnCallerStack) {
        compute();
        return Ok{};
    }
    // An exception (std::bad_alloc) is carried back to the caller's thread.
    std::exception_ptr thrown;
    auto task = [&] {
        try {
            compute();
        } catch (...) {
            thrown = std::current_exception();
        }
    };
    using Task = decltype(task);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return make_error(ErrorKind::Unsupported, "cannot start a thread");
    pthread_t thread;
    int failed = pthread_attr_setstacksize(&attr, kCallerStackBudget + count * kStackPerBlock);
    if (failed == 0) {
        failed = pthread_create(
            &thread, &attr,
            [](void* arg) -> void* {
                (*static_cast<Task*>(arg))();
                return nullptr;
            },
            &task);
    }
    pthread_attr_destroy(&attr);
    if (failed != 0) {
        return make_error(ErrorKind::Unsupported,
                          "cannot start a thread with the stack to analyse a function of " +
                              std::to_string(count) + " blocks");
    }
    pthread_join(thread, nullptr);
    if (thrown) std::rethrow_exception(thrown);
    return Ok{};
}

template <typename G>
void walk(const G& g, Vertex start, auto visitor) {
    std::vector<boost::default_color_type> colors(boost::num_vertices(g), boost::white_color);
    boost::depth_first_visit(
        g, start, visitor,
        boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g)));
}

// Parents and depths by body inclusion, and the innermost loop of every block. Loops whose
// bodies are larger are visited first, so the innermost loop already holding a loop's header
// is its parent (loop bodies are nested or disjoint).
void nest(std::vector<Loop>& loops, std::vector<std::optional<uint32_t>>& innermost) {
    std::vector<uint32_t> order(loops.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    // (std::sort with the index as a tie-break: std::stable_sort trips a libstdc++ deprecation
    // warning under clang.)
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        if (loops[a].blocks.size() != loops[b].blocks.size())
            return loops[a].blocks.size() > loops[b].blocks.size();
        return a < b;
    });
    for (uint32_t index : order) {
        Loop& loop = loops[index];
        loop.parent = innermost[loop.head];
        loop.depth = loop.parent ? loops[*loop.parent].depth + 1 : 1;
        for (uint32_t block : loop.blocks) innermost[block] = index;
    }
}

}  // namespace

Result<ControlFlowGraph> ControlFlowGraph::build(const isa::Program& program) {
    const auto& insns = program.instructions;
    if (insns.empty()) return make_error(ErrorKind::InvalidInput, "program has no instructions");
    if (insns.size() >= kNone) return make_error(ErrorKind::InvalidInput, "program is too large");
    const auto n = static_cast<uint32_t>(insns.size());
    ControlFlowGraph cfg;

    // ---- Functions: instruction 0 and every local call or code-address target. ----
    std::vector<uint8_t> is_entry(n, 0);
    is_entry[0] = 1;
    for (uint32_t i = 0; i < n; ++i) {
        if (auto target = function_target(insns[i])) {
            if (*target >= n) {
                const bool call = std::holds_alternative<isa::Call>(insns[i]);
                return invalid(i, std::string(call ? "local call" : "code address") + " to instruction " +
                                      std::to_string(*target) + " is outside the program (" +
                                      std::to_string(n) + " instructions)");
            }
            is_entry[*target] = 1;
        } else if (const auto* jump = std::get_if<isa::Jump>(&insns[i]); jump && jump->target >= n) {
            return invalid(i, "jump to instruction " + std::to_string(jump->target) +
                                  " is outside the program (" + std::to_string(n) + " instructions)");
        }
    }
    std::vector<uint32_t> function_of_insn(n);
    for (uint32_t i = 0; i < n; ++i) {
        if (is_entry[i]) {
            if (!cfg.functions_.empty()) cfg.functions_.back().end = i;
            cfg.functions_.push_back(Function{i, n});
        }
        function_of_insn[i] = static_cast<uint32_t>(cfg.functions_.size() - 1);
    }

    // ---- Structure: jumps stay in their function, no function falls into the next. ----
    for (uint32_t i = 0; i < n; ++i) {
        const Function& function = cfg.functions_[function_of_insn[i]];
        if (const auto* jump = std::get_if<isa::Jump>(&insns[i]);
            jump && function_of_insn[jump->target] != function_of_insn[i]) {
            return invalid(i, "jump to instruction " + std::to_string(jump->target) +
                                  " leaves the function starting at instruction " +
                                  std::to_string(function.entry));
        }
        if (i + 1 == function.end && !isa::ends_flow(insns[i])) {
            return invalid(i, "the function starting at instruction " + std::to_string(function.entry) +
                                  (i + 1 == n ? " can run off the end of the program"
                                              : " can fall into the function starting at instruction " +
                                                    std::to_string(i + 1)) +
                                  ": its last instruction is neither exit nor an unconditional jump");
        }
    }

    // ---- Basic blocks. ----
    std::vector<uint8_t> leader(n + 1, 0);
    for (uint32_t i = 0; i < n; ++i) {
        if (is_entry[i]) leader[i] = 1;
        if (const auto* jump = std::get_if<isa::Jump>(&insns[i])) {
            leader[jump->target] = 1;
            leader[i + 1] = 1;
        } else if (std::holds_alternative<isa::Exit>(insns[i])) {
            leader[i + 1] = 1;
        }
    }
    cfg.block_of_.resize(n);
    cfg.blocks_.reserve(static_cast<size_t>(std::count(leader.begin(), leader.end() - 1, 1)));
    for (uint32_t i = 0; i < n; ++i) {
        if (leader[i]) cfg.blocks_.push_back(BasicBlock{i, i, function_of_insn[i], {}, {}, false});
        cfg.blocks_.back().last = i;
        cfg.block_of_[i] = static_cast<uint32_t>(cfg.blocks_.size() - 1);
    }
    const auto block_count = static_cast<uint32_t>(cfg.blocks_.size());
    for (BasicBlock& block : cfg.blocks_) {
        const isa::Instruction& last = insns[block.last];
        if (std::holds_alternative<isa::Exit>(last)) continue;
        const auto* jump = std::get_if<isa::Jump>(&last);
        // Control falls through unless the block ends with exit or ja (checked above: never
        // into the next function).
        if (jump == nullptr || jump->op != isa::Op::Ja)
            block.successors.push_back(cfg.block_of_[block.last + 1]);
        if (jump != nullptr) {
            const uint32_t target = cfg.block_of_[jump->target];
            if (block.successors.empty() || block.successors.front() != target)
                block.successors.push_back(target);
        }
    }
    for (uint32_t b = 0; b < block_count; ++b) {
        for (uint32_t s : cfg.blocks_[b].successors) cfg.blocks_[s].predecessors.push_back(b);
    }

    // ---- Per function: reachability from its entry and depth-first back edges. ----
    const auto function_count = static_cast<uint32_t>(cfg.functions_.size());
    auto first_block = [&](uint32_t f) { return cfg.block_of_[cfg.functions_[f].entry]; };
    auto end_block = [&](uint32_t f) { return cfg.block_of_[cfg.functions_[f].end - 1] + 1; };
    std::vector<uint8_t> reached(block_count, 0);
    std::vector<uint32_t> discovery(block_count, kNone);  // depth-first discovery order
    EdgeList dfs_back_edges;                              // (u, h) blocks
    EdgeList edges;
    std::vector<Vertex> discovered;
    EdgeList function_back_edges;
    for (uint32_t f = 0; f < function_count; ++f) {
        const uint32_t base = first_block(f);
        edges.clear();
        for (uint32_t b = base; b < end_block(f); ++b) {
            for (uint32_t s : cfg.blocks_[b].successors) edges.emplace_back(b - base, s - base);
        }
        const Graph g = make_graph(edges, end_block(f) - base);
        discovered.clear();
        function_back_edges.clear();
        ReachVisitor visitor;
        visitor.discovered = &discovered;
        visitor.back = &function_back_edges;
        walk(g, 0, visitor);
        for (uint32_t k = 0; k < discovered.size(); ++k) {
            reached[base + discovered[k]] = 1;
            discovery[base + discovered[k]] = k;
        }
        for (auto [u, h] : function_back_edges) dfs_back_edges.emplace_back(base + u, base + h);
    }

    // ---- Functions called from the main function's reachable code, transitively. ----
    std::vector<uint8_t> called(function_count, 0);
    std::vector<uint32_t> pending{0};
    called[0] = 1;
    while (!pending.empty()) {
        const uint32_t f = pending.back();
        pending.pop_back();
        for (uint32_t b = first_block(f); b < end_block(f); ++b) {
            if (!reached[b]) continue;
            for (uint32_t i = cfg.blocks_[b].first; i <= cfg.blocks_[b].last; ++i) {
                auto target = function_target(insns[i]);
                if (!target) continue;
                const uint32_t callee = function_of_insn[*target];
                cfg.calls_.push_back(CallEdge{b, callee, !std::holds_alternative<isa::Call>(insns[i])});
                if (!called[callee]) {
                    called[callee] = 1;
                    pending.push_back(callee);
                }
            }
        }
    }
    std::sort(cfg.calls_.begin(), cfg.calls_.end(), [](const CallEdge& a, const CallEdge& b) {
        return std::tie(a.from_block, a.callee, a.callback) < std::tie(b.from_block, b.callee, b.callback);
    });
    for (uint32_t b = 0; b < block_count; ++b) {
        cfg.blocks_[b].reachable = reached[b] && called[cfg.blocks_[b].function];
    }

    // ---- Dominators of each called function's reachable blocks. ----
    cfg.idom_.assign(block_count, std::nullopt);
    cfg.dom_enter_.assign(block_count, 0);
    cfg.dom_leave_.assign(block_count, 0);
    uint32_t clock = 0;
    std::vector<uint32_t> dense(block_count, kNone);  // block -> vertex of its function's graph
    for (uint32_t f = 0; f < function_count; ++f) {
        if (!called[f]) continue;
        std::vector<uint32_t> members;  // reachable blocks, ascending; the entry first
        for (uint32_t b = first_block(f); b < end_block(f); ++b) {
            if (!reached[b]) continue;
            dense[b] = static_cast<uint32_t>(members.size());
            members.push_back(b);
        }
        const auto count = static_cast<uint32_t>(members.size());
        edges.clear();
        for (uint32_t v = 0; v < count; ++v) {
            for (uint32_t s : cfg.blocks_[members[v]].successors) edges.emplace_back(v, dense[s]);
        }
        std::vector<Vertex> idom(count, boost::graph_traits<BidiGraph>::null_vertex());
        {
            const BidiGraph g(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), count);
            if (auto done = dominator_tree(g, idom); !done) return done.error();
        }
        edges.clear();
        for (uint32_t v = 1; v < count; ++v) {
            cfg.idom_[members[v]] = members[idom[v]];
            edges.emplace_back(idom[v], v);
        }
        const Graph tree(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), count);
        std::vector<uint32_t> enter(count), leave(count);
        IntervalVisitor visitor;
        visitor.clock = &clock;
        visitor.enter = &enter;
        visitor.leave = &leave;
        walk(tree, 0, visitor);
        for (uint32_t v = 0; v < count; ++v) {
            cfg.dom_enter_[members[v]] = enter[v];
            cfg.dom_leave_[members[v]] = leave[v];
        }
    }

    // ---- Natural loops: a back edge u -> h where h dominates u; one loop per header. ----
    cfg.loop_head_.assign(block_count, false);
    std::vector<std::pair<uint32_t, uint32_t>> irreducible_edges;  // (u, h)
    std::vector<uint32_t> stamp(block_count, kNone);  // the generation that put a block in a body
    uint32_t generation = 0;
    {
        // Grouped by header (so by function: a function's blocks are consecutive).
        EdgeList& back = dfs_back_edges;
        std::erase_if(back, [&](const auto& edge) { return !cfg.blocks_[edge.first].reachable; });
        std::sort(back.begin(), back.end(), [](const auto& a, const auto& b) {
            return std::tie(a.second, a.first) < std::tie(b.second, b.first);
        });
        for (size_t k = 0; k < back.size();) {
            const uint32_t head = back[k].second;
            Loop loop;
            loop.head = head;
            const uint32_t index = generation++;
            stamp[head] = index;
            loop.blocks.push_back(head);
            std::vector<uint32_t> work;
            size_t next = k;
            for (; next < back.size() && back[next].second == head; ++next) {
                const uint32_t latch = back[next].first;
                if (!cfg.dominates(head, latch)) {
                    irreducible_edges.push_back(back[next]);
                    continue;
                }
                cfg.back_edges_.push_back(back[next]);
                loop.back_edges.push_back(cfg.blocks_[latch].last);
                if (stamp[latch] != index) {
                    stamp[latch] = index;
                    loop.blocks.push_back(latch);
                    work.push_back(latch);
                }
            }
            k = next;
            if (loop.back_edges.empty()) continue;
            // The body: every block that reaches a latch without passing the header.
            while (!work.empty()) {
                const uint32_t b = work.back();
                work.pop_back();
                for (uint32_t p : cfg.blocks_[b].predecessors) {
                    if (!reached[p] || stamp[p] == index) continue;
                    stamp[p] = index;
                    loop.blocks.push_back(p);
                    work.push_back(p);
                }
            }
            std::sort(loop.blocks.begin(), loop.blocks.end());
            std::sort(loop.back_edges.begin(), loop.back_edges.end());
            cfg.loop_head_[head] = true;
            cfg.loops_.push_back(std::move(loop));
        }
    }
    std::vector<std::optional<uint32_t>> natural_of(block_count);
    nest(cfg.loops_, natural_of);

    // ---- Irreducible loops: a depth-first back edge u -> h where h does not dominate u. The
    // cycle lies inside the innermost natural loop holding both ends (or the whole function),
    // without that loop's header; its body is the strongly connected component there. ----
    auto innermost_common = [&](std::optional<uint32_t> a,
                                std::optional<uint32_t> b) -> std::optional<uint32_t> {
        while (a && b && *a != *b) {
            if (cfg.loops_[*a].depth >= cfg.loops_[*b].depth) {
                a = cfg.loops_[*a].parent;
            } else {
                b = cfg.loops_[*b].parent;
            }
        }
        return a && b ? a : std::nullopt;
    };
    struct Pending {
        uint32_t function;
        uint32_t region;  // natural loop index, or kNone for the whole function
        uint32_t latch;
        uint32_t head;
    };
    std::vector<Pending> irreducible;
    for (auto [u, h] : irreducible_edges) {
        const auto region = innermost_common(natural_of[u], natural_of[h]);
        irreducible.push_back(Pending{cfg.blocks_[u].function, region.value_or(kNone), u, h});
        cfg.back_edges_.emplace_back(u, h);
        cfg.loop_head_[h] = true;
    }
    std::sort(irreducible.begin(), irreducible.end(), [](const Pending& a, const Pending& b) {
        return std::tie(a.function, a.region, a.head, a.latch) <
               std::tie(b.function, b.region, b.head, b.latch);
    });
    const auto natural_count = static_cast<uint32_t>(cfg.loops_.size());
    for (size_t k = 0; k < irreducible.size();) {
        size_t next = k;
        while (next < irreducible.size() && irreducible[next].function == irreducible[k].function &&
               irreducible[next].region == irreducible[k].region) {
            ++next;
        }
        // The region's blocks, as vertices of a graph of their own.
        std::vector<uint32_t> members;
        const uint32_t region = irreducible[k].region;
        if (region == kNone) {
            const uint32_t f = irreducible[k].function;
            for (uint32_t b = first_block(f); b < end_block(f); ++b) {
                if (reached[b]) members.push_back(b);
            }
        } else {
            for (uint32_t b : cfg.loops_[region].blocks) {
                if (b != cfg.loops_[region].head) members.push_back(b);
            }
        }
        for (uint32_t v = 0; v < members.size(); ++v) dense[members[v]] = v;
        const auto count = static_cast<uint32_t>(members.size());
        auto inside = [&](uint32_t b) { return dense[b] < count && members[dense[b]] == b; };
        edges.clear();
        for (uint32_t v = 0; v < count; ++v) {
            for (uint32_t s : cfg.blocks_[members[v]].successors) {
                if (inside(s)) edges.emplace_back(v, dense[s]);
            }
        }
        const Graph g = make_graph(edges, count);
        std::vector<uint32_t> component(count);
        const auto components = static_cast<uint32_t>(boost::strong_components(
            g, boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, g))));
        // The members of each component, ascending: component c holds
        // by_component[start[c]..start[c + 1]).
        std::vector<uint32_t> start(components + 1, 0);
        for (uint32_t c : component) ++start[c + 1];
        for (uint32_t c = 0; c < components; ++c) start[c + 1] += start[c];
        std::vector<uint32_t> by_component(count);
        {
            std::vector<uint32_t> fill(start.begin(), start.end() - 1);
            for (uint32_t v = 0; v < count; ++v) by_component[fill[component[v]]++] = members[v];
        }
        // One loop per component, headed by the back-edge target the search entered first.
        std::vector<uint32_t> loop_of_component(components, kNone);
        for (size_t e = k; e < next; ++e) {
            const Pending& edge = irreducible[e];
            if (!inside(edge.head)) continue;  // cannot happen: the header of a cycle lies in its region
            const uint32_t c = component[dense[edge.head]];
            if (loop_of_component[c] == kNone) {
                loop_of_component[c] = static_cast<uint32_t>(cfg.loops_.size());
                Loop loop;
                loop.head = edge.head;
                loop.irreducible = true;
                loop.blocks.assign(by_component.begin() + start[c], by_component.begin() + start[c + 1]);
                cfg.loops_.push_back(std::move(loop));
            }
            Loop& loop = cfg.loops_[loop_of_component[c]];
            if (discovery[edge.head] < discovery[loop.head]) loop.head = edge.head;
            loop.back_edges.push_back(cfg.blocks_[edge.latch].last);
        }
        for (uint32_t b : members) dense[b] = kNone;
        k = next;
    }
    for (uint32_t l = natural_count; l < cfg.loops_.size(); ++l) {
        auto& jumps = cfg.loops_[l].back_edges;
        std::sort(jumps.begin(), jumps.end());
        jumps.erase(std::unique(jumps.begin(), jumps.end()), jumps.end());
    }
    std::sort(cfg.back_edges_.begin(), cfg.back_edges_.end());

    // ---- Loop order (by header, outer first) and nesting over both kinds. ----
    std::sort(cfg.loops_.begin(), cfg.loops_.end(), [](const Loop& a, const Loop& b) {
        if (a.head != b.head) return a.head < b.head;
        if (a.blocks.size() != b.blocks.size()) return a.blocks.size() > b.blocks.size();
        if (a.irreducible != b.irreducible) return b.irreducible;
        return a.blocks < b.blocks;
    });
    cfg.loop_of_.assign(block_count, std::nullopt);
    nest(cfg.loops_, cfg.loop_of_);

    // ---- Unreachable instructions. ----
    for (const BasicBlock& block : cfg.blocks_) {
        if (block.reachable) continue;
        for (uint32_t i = block.first; i <= block.last; ++i) cfg.unreachable_.push_back(i);
    }

    // ---- Liveness: backward dataflow over blocks to a fixpoint, then within blocks. ----
    std::vector<UseDef> insn_use_def(n);
    std::vector<UseDef> block_use_def(block_count);
    for (uint32_t b = 0; b < block_count; ++b) {
        UseDef summary;
        for (uint32_t i = cfg.blocks_[b].last + 1; i-- > cfg.blocks_[b].first;) {
            const UseDef step = use_def(insns[i]);
            insn_use_def[i] = step;
            summary.use = static_cast<RegisterSet>(step.use | (summary.use & ~step.def));
            summary.def = static_cast<RegisterSet>(summary.def | step.def);
        }
        block_use_def[b] = summary;
    }
    std::vector<RegisterSet> live_in(block_count, 0);
    auto live_out = [&](uint32_t b) {
        RegisterSet out = 0;
        for (uint32_t s : cfg.blocks_[b].successors) out |= live_in[s];
        return out;
    };
    std::vector<uint32_t> work(block_count);
    std::vector<uint8_t> queued(block_count, 1);
    for (uint32_t b = 0; b < block_count; ++b) work[b] = b;  // popped last block first
    while (!work.empty()) {
        const uint32_t b = work.back();
        work.pop_back();
        queued[b] = 0;
        const RegisterSet in =
            static_cast<RegisterSet>(block_use_def[b].use | (live_out(b) & ~block_use_def[b].def));
        if (in == live_in[b]) continue;
        live_in[b] = in;
        for (uint32_t p : cfg.blocks_[b].predecessors) {
            if (!queued[p]) {
                queued[p] = 1;
                work.push_back(p);
            }
        }
    }
    cfg.live_in_.resize(n);
    for (uint32_t b = 0; b < block_count; ++b) {
        RegisterSet live = live_out(b);
        for (uint32_t i = cfg.blocks_[b].last + 1; i-- > cfg.blocks_[b].first;) {
            live = static_cast<RegisterSet>(insn_use_def[i].use | (live & ~insn_use_def[i].def));
            cfg.live_in_[i] = static_cast<RegisterSet>(live | kAlwaysLive);
        }
    }
    return cfg;
}

uint32_t ControlFlowGraph::function_of(uint32_t instruction) const {
    return blocks_[block_of_[instruction]].function;
}

std::optional<uint32_t> ControlFlowGraph::function_at(uint32_t instruction) const {
    auto it = std::lower_bound(functions_.begin(), functions_.end(), instruction,
                               [](const Function& f, uint32_t insn) { return f.entry < insn; });
    if (it == functions_.end() || it->entry != instruction) return std::nullopt;
    return static_cast<uint32_t>(it - functions_.begin());
}

uint32_t ControlFlowGraph::block_of(uint32_t instruction) const {
    return block_of_[instruction];
}

bool ControlFlowGraph::is_block_start(uint32_t instruction) const {
    return instruction < block_of_.size() && blocks_[block_of_[instruction]].first == instruction;
}

std::optional<uint32_t> ControlFlowGraph::immediate_dominator(uint32_t block) const {
    return block < idom_.size() ? idom_[block] : std::nullopt;
}

bool ControlFlowGraph::dominates(uint32_t a, uint32_t b) const {
    if (a >= blocks_.size() || b >= blocks_.size()) return false;
    if (!blocks_[a].reachable || !blocks_[b].reachable) return false;
    return dom_enter_[a] <= dom_enter_[b] && dom_leave_[b] <= dom_leave_[a];
}

bool ControlFlowGraph::is_loop_head(uint32_t instruction) const {
    return is_block_start(instruction) && loop_head_[block_of_[instruction]];
}

std::optional<uint32_t> ControlFlowGraph::loop_of(uint32_t instruction) const {
    if (instruction >= block_of_.size()) return std::nullopt;
    return loop_of_[block_of_[instruction]];
}

bool ControlFlowGraph::is_back_edge(uint32_t from, uint32_t to) const {
    return std::binary_search(back_edges_.begin(), back_edges_.end(), std::pair{from, to});
}

std::vector<uint32_t> ControlFlowGraph::unreachable_instructions() const {
    return unreachable_;
}

RegisterSet ControlFlowGraph::live_registers(uint32_t instruction) const {
    return instruction < live_in_.size() ? live_in_[instruction] : RegisterSet{0};
}

namespace {

// Text inside a double-quoted dot label: quotes and backslashes escaped, every line
// left-justified (`\l`).
void append_label_lines(std::string& out, const std::string& text) {
    if (text.empty()) return;
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\l"; break;
            case '\r': break;
            default: out += c;
        }
    }
    if (text.back() != '\n') out += "\\l";
}

}  // namespace

std::string ControlFlowGraph::to_dot(const std::function<std::string(uint32_t instruction)>& instruction_text,
                                     const std::function<std::string(uint32_t block)>& block_note) const {
    std::string out = "digraph cfg {\n  node [shape=box, fontname=\"monospace\"];\n";
    for (uint32_t f = 0; f < functions_.size(); ++f) {
        const std::string entry = std::to_string(functions_[f].entry);
        out += "  subgraph cluster_" + entry + " {\n    label=\"function at insn " + entry + "\";\n";
        const uint32_t first = block_of_[functions_[f].entry];
        const uint32_t end = block_of_[functions_[f].end - 1] + 1;
        for (uint32_t b = first; b < end; ++b) {
            const BasicBlock& block = blocks_[b];
            if (!block.reachable) continue;
            out += "    b" + std::to_string(b) + " [label=\"";
            if (block_note) append_label_lines(out, block_note(b));
            for (uint32_t i = block.first; i <= block.last; ++i) {
                append_label_lines(out, instruction_text ? instruction_text(i) : std::to_string(i));
            }
            out += "\"];\n";
        }
        for (uint32_t b = first; b < end; ++b) {
            if (!blocks_[b].reachable) continue;
            for (uint32_t s : blocks_[b].successors) {
                out += "    b" + std::to_string(b) + " -> b" + std::to_string(s);
                out += is_back_edge(b, s) ? " [style=dashed];\n" : ";\n";
            }
        }
        out += "  }\n";
    }
    for (const CallEdge& call : calls_) {
        out += "  b" + std::to_string(call.from_block) + " -> b" +
               std::to_string(block_of_[functions_[call.callee].entry]) +
               (call.callback ? " [style=dotted, label=\"callback\"];\n" : " [style=dotted];\n");
    }
    out += "}\n";
    return out;
}

}  // namespace bpfvm::verifier
