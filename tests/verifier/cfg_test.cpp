// The control-flow graph: functions, basic blocks, dominators, natural and irreducible loops,
// unreachable code, register liveness and the Graphviz output, on small assembled programs, and
// a build over every program of the conformance suite.
#include "cfg.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/isa/helpers.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::verifier {
namespace {

using Blocks = std::vector<uint32_t>;
using Insns = std::vector<uint32_t>;

isa::Program decode(std::string_view text) {
    auto slots = isa::assemble(text);
    EXPECT_TRUE(slots.ok()) << slots.error().to_string() << "\n" << text;
    if (!slots.ok()) return {};
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
    EXPECT_TRUE(program.ok()) << program.error().to_string() << "\n" << text;
    return program.ok() ? std::move(*program) : isa::Program{};
}

Result<ControlFlowGraph> build(std::string_view text) {
    return ControlFlowGraph::build(decode(text));
}

RegisterSet regs(std::initializer_list<unsigned> list) {
    RegisterSet set = 0;
    for (unsigned r : list) set = static_cast<RegisterSet>(set | (1u << r));
    return set;
}
// Live sets always hold r10.
RegisterSet live(std::initializer_list<unsigned> list) {
    return static_cast<RegisterSet>(regs(list) | regs({10}));
}

Blocks successors(const ControlFlowGraph& cfg, uint32_t block) {
    return cfg.blocks()[block].successors;
}
Blocks predecessors(const ControlFlowGraph& cfg, uint32_t block) {
    return cfg.blocks()[block].predecessors;
}

TEST(Cfg, StraightLineIsOneBlock) {
    auto cfg = build(
        "mov %r0, 1\n"
        "add %r0, 2\n"
        "exit\n");
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions().size(), 1u);
    EXPECT_EQ(cfg->functions()[0].entry, 0u);
    EXPECT_EQ(cfg->functions()[0].end, 3u);
    ASSERT_EQ(cfg->blocks().size(), 1u);
    const BasicBlock& block = cfg->blocks()[0];
    EXPECT_EQ(block.first, 0u);
    EXPECT_EQ(block.last, 2u);
    EXPECT_EQ(block.function, 0u);
    EXPECT_TRUE(block.reachable);
    EXPECT_TRUE(block.successors.empty());
    EXPECT_TRUE(block.predecessors.empty());
    for (uint32_t i = 0; i < 3; ++i) {
        EXPECT_EQ(cfg->block_of(i), 0u);
        EXPECT_EQ(cfg->function_of(i), 0u);
        EXPECT_EQ(cfg->is_block_start(i), i == 0);
        EXPECT_FALSE(cfg->is_loop_head(i));
        EXPECT_FALSE(cfg->loop_of(i));
    }
    EXPECT_EQ(cfg->function_at(0), 0u);
    EXPECT_FALSE(cfg->function_at(1));
    EXPECT_FALSE(cfg->immediate_dominator(0));
    EXPECT_TRUE(cfg->dominates(0, 0));
    EXPECT_TRUE(cfg->loops().empty());
    EXPECT_TRUE(cfg->unreachable_instructions().empty());
    EXPECT_EQ(cfg->live_registers(0), live({}));
    EXPECT_EQ(cfg->live_registers(1), live({0}));
    EXPECT_EQ(cfg->live_registers(2), live({0}));
}

// 0: if r1 == 0 goto 3; 1-2: then, jump over else; 3: else; 4: join.
constexpr std::string_view kDiamond =
    "jeq %r1, 0, else\n"
    "mov %r0, 1\n"
    "ja join\n"
    "else:\n"
    "mov %r0, 2\n"
    "join:\n"
    "exit\n";

TEST(Cfg, DiamondHasFourBlocksJoinedUnderTheEntry) {
    auto cfg = build(kDiamond);
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->blocks().size(), 4u);
    EXPECT_EQ(cfg->blocks()[0].first, 0u);
    EXPECT_EQ(cfg->blocks()[0].last, 0u);
    EXPECT_EQ(cfg->blocks()[1].first, 1u);
    EXPECT_EQ(cfg->blocks()[1].last, 2u);
    EXPECT_EQ(cfg->blocks()[2].first, 3u);
    EXPECT_EQ(cfg->blocks()[3].first, 4u);
    // The fall-through successor first, then the jump target.
    EXPECT_EQ(successors(*cfg, 0), (Blocks{1, 2}));
    EXPECT_EQ(successors(*cfg, 1), (Blocks{3}));
    EXPECT_EQ(successors(*cfg, 2), (Blocks{3}));
    EXPECT_EQ(predecessors(*cfg, 3), (Blocks{1, 2}));
    EXPECT_EQ(predecessors(*cfg, 0), (Blocks{}));

    EXPECT_FALSE(cfg->immediate_dominator(0));
    EXPECT_EQ(cfg->immediate_dominator(1), 0u);
    EXPECT_EQ(cfg->immediate_dominator(2), 0u);
    EXPECT_EQ(cfg->immediate_dominator(3), 0u);
    EXPECT_TRUE(cfg->dominates(0, 3));
    EXPECT_FALSE(cfg->dominates(1, 3));
    EXPECT_FALSE(cfg->dominates(2, 3));
    EXPECT_FALSE(cfg->dominates(3, 0));
    EXPECT_FALSE(cfg->dominates(1, 2));
    EXPECT_TRUE(cfg->loops().empty());
    EXPECT_FALSE(cfg->is_back_edge(1, 3));

    // r0 is written on both arms before exit reads it; the branch reads r1.
    EXPECT_EQ(cfg->live_registers(0), live({1}));
    EXPECT_EQ(cfg->live_registers(1), live({}));
    EXPECT_EQ(cfg->live_registers(2), live({0}));
    EXPECT_EQ(cfg->live_registers(3), live({}));
    EXPECT_EQ(cfg->live_registers(4), live({0}));
}

TEST(Cfg, CountedLoopIsOneNaturalLoop) {
    auto cfg = build(
        "mov %r0, 0\n"        // 0
        "mov %r1, 10\n"       // 1
        "loop:\n"             //
        "add %r0, %r1\n"      // 2
        "sub %r1, 1\n"        // 3
        "jne %r1, 0, loop\n"  // 4
        "exit\n");            // 5
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->blocks().size(), 3u);
    EXPECT_EQ(cfg->blocks()[1].first, 2u);
    EXPECT_EQ(cfg->blocks()[1].last, 4u);
    EXPECT_EQ(successors(*cfg, 1), (Blocks{2, 1}));
    EXPECT_EQ(predecessors(*cfg, 1), (Blocks{0, 1}));
    EXPECT_EQ(cfg->immediate_dominator(2), 1u);

    ASSERT_EQ(cfg->loops().size(), 1u);
    const Loop& loop = cfg->loops()[0];
    EXPECT_EQ(loop.head, 1u);
    EXPECT_EQ(loop.back_edges, (Insns{4}));
    EXPECT_EQ(loop.blocks, (Blocks{1}));
    EXPECT_FALSE(loop.parent);
    EXPECT_EQ(loop.depth, 1u);
    EXPECT_FALSE(loop.irreducible);
    EXPECT_TRUE(cfg->is_back_edge(1, 1));
    EXPECT_FALSE(cfg->is_back_edge(0, 1));

    EXPECT_TRUE(cfg->is_loop_head(2));
    EXPECT_FALSE(cfg->is_loop_head(3));
    EXPECT_FALSE(cfg->is_loop_head(0));
    EXPECT_FALSE(cfg->is_loop_head(5));
    EXPECT_FALSE(cfg->loop_of(1));
    EXPECT_EQ(cfg->loop_of(2), 0u);
    EXPECT_EQ(cfg->loop_of(4), 0u);
    EXPECT_FALSE(cfg->loop_of(5));

    // r0 and r1 are carried around the loop; both are written before it.
    EXPECT_EQ(cfg->live_registers(0), live({}));
    EXPECT_EQ(cfg->live_registers(1), live({0}));
    EXPECT_EQ(cfg->live_registers(2), live({0, 1}));
    EXPECT_EQ(cfg->live_registers(4), live({0, 1}));
    EXPECT_EQ(cfg->live_registers(5), live({0}));
}

TEST(Cfg, NestedLoopsHaveDepthAndParent) {
    auto cfg = build(
        "mov %r0, 0\n"         // 0  block 0
        "mov %r1, 3\n"         // 1
        "outer:\n"             //
        "mov %r2, 4\n"         // 2  block 1
        "inner:\n"             //
        "add %r0, 1\n"         // 3  block 2
        "sub %r2, 1\n"         // 4
        "jne %r2, 0, inner\n"  // 5
        "sub %r1, 1\n"         // 6  block 3
        "jne %r1, 0, outer\n"  // 7
        "exit\n");             // 8  block 4
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->blocks().size(), 5u);
    ASSERT_EQ(cfg->loops().size(), 2u);
    const Loop& outer = cfg->loops()[0];
    const Loop& inner = cfg->loops()[1];
    EXPECT_EQ(outer.head, 1u);
    EXPECT_EQ(outer.blocks, (Blocks{1, 2, 3}));
    EXPECT_EQ(outer.back_edges, (Insns{7}));
    EXPECT_FALSE(outer.parent);
    EXPECT_EQ(outer.depth, 1u);
    EXPECT_EQ(inner.head, 2u);
    EXPECT_EQ(inner.blocks, (Blocks{2}));
    EXPECT_EQ(inner.back_edges, (Insns{5}));
    EXPECT_EQ(inner.parent, 0u);
    EXPECT_EQ(inner.depth, 2u);
    EXPECT_FALSE(outer.irreducible);
    EXPECT_FALSE(inner.irreducible);

    EXPECT_FALSE(cfg->loop_of(0));
    EXPECT_EQ(cfg->loop_of(2), 0u);
    EXPECT_EQ(cfg->loop_of(3), 1u);
    EXPECT_EQ(cfg->loop_of(5), 1u);
    EXPECT_EQ(cfg->loop_of(6), 0u);
    EXPECT_FALSE(cfg->loop_of(8));
    EXPECT_TRUE(cfg->is_loop_head(2));
    EXPECT_TRUE(cfg->is_loop_head(3));
    EXPECT_FALSE(cfg->is_loop_head(6));
    EXPECT_EQ(cfg->immediate_dominator(2), 1u);
    EXPECT_EQ(cfg->immediate_dominator(3), 2u);
    EXPECT_EQ(cfg->immediate_dominator(4), 3u);
    EXPECT_TRUE(cfg->dominates(1, 3));
    EXPECT_FALSE(cfg->dominates(3, 1));
}

// The cycle a -> b -> (ja a) is entered at a (fall-through) and at b (the first jump).
constexpr std::string_view kIrreducible =
    "mov %r0, 0\n"        // 0  block 0
    "jeq %r1, 0, b\n"     // 1
    "a:\n"                //
    "add %r0, 1\n"        // 2  block 1
    "jgt %r0, 10, out\n"  // 3
    "b:\n"                //
    "add %r0, 2\n"        // 4  block 2
    "jgt %r0, 20, out\n"  // 5
    "ja a\n"              // 6  block 3
    "out:\n"              //
    "exit\n";             // 7  block 4

TEST(Cfg, TwoEntriesIntoACycleMakeAnIrreducibleLoop) {
    auto cfg = build(kIrreducible);
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->blocks().size(), 5u);
    EXPECT_EQ(cfg->immediate_dominator(1), 0u);
    EXPECT_EQ(cfg->immediate_dominator(2), 0u);
    EXPECT_EQ(cfg->immediate_dominator(3), 2u);
    EXPECT_EQ(cfg->immediate_dominator(4), 0u);
    ASSERT_EQ(cfg->loops().size(), 1u);
    const Loop& loop = cfg->loops()[0];
    EXPECT_TRUE(loop.irreducible);
    EXPECT_EQ(loop.head, 1u);  // the search enters the cycle at a first (fall-through)
    EXPECT_EQ(loop.blocks, (Blocks{1, 2, 3}));
    EXPECT_EQ(loop.back_edges, (Insns{6}));
    EXPECT_FALSE(loop.parent);
    EXPECT_EQ(loop.depth, 1u);
    EXPECT_TRUE(cfg->is_loop_head(2));
    EXPECT_FALSE(cfg->is_loop_head(4));
    EXPECT_TRUE(cfg->is_back_edge(3, 1));
    EXPECT_FALSE(cfg->is_back_edge(1, 2));
    EXPECT_EQ(cfg->loop_of(4), 0u);
    EXPECT_EQ(cfg->loop_of(6), 0u);
    EXPECT_FALSE(cfg->loop_of(7));
    EXPECT_FALSE(cfg->loop_of(0));
    // r0 is read around the cycle, r1 only at the branch into it.
    EXPECT_EQ(cfg->live_registers(0), live({1}));
    EXPECT_EQ(cfg->live_registers(2), live({0}));
}

TEST(Cfg, IrreducibleLoopNestsInsideANaturalLoop) {
    auto cfg = build(
        "mov %r0, 0\n"          // 0  block 0
        "outer:\n"              //
        "jeq %r1, 0, b\n"       // 1  block 1
        "a:\n"                  //
        "add %r0, 1\n"          // 2  block 2
        "jgt %r0, 10, latch\n"  // 3
        "b:\n"                  //
        "add %r0, 2\n"          // 4  block 3
        "jgt %r0, 20, latch\n"  // 5
        "ja a\n"                // 6  block 4
        "latch:\n"              //
        "sub %r1, 1\n"          // 7  block 5
        "jne %r1, 0, outer\n"   // 8
        "exit\n");              // 9  block 6
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->blocks().size(), 7u);
    ASSERT_EQ(cfg->loops().size(), 2u);
    const Loop& outer = cfg->loops()[0];
    const Loop& cycle = cfg->loops()[1];
    EXPECT_FALSE(outer.irreducible);
    EXPECT_EQ(outer.head, 1u);
    EXPECT_EQ(outer.blocks, (Blocks{1, 2, 3, 4, 5}));
    EXPECT_EQ(outer.back_edges, (Insns{8}));
    EXPECT_EQ(outer.depth, 1u);
    EXPECT_TRUE(cycle.irreducible);
    EXPECT_EQ(cycle.head, 2u);
    EXPECT_EQ(cycle.blocks, (Blocks{2, 3, 4}));
    EXPECT_EQ(cycle.back_edges, (Insns{6}));
    EXPECT_EQ(cycle.parent, 0u);
    EXPECT_EQ(cycle.depth, 2u);
    EXPECT_EQ(cfg->loop_of(1), 0u);
    EXPECT_EQ(cfg->loop_of(4), 1u);
    EXPECT_EQ(cfg->loop_of(7), 0u);
    EXPECT_TRUE(cfg->is_loop_head(1));
    EXPECT_TRUE(cfg->is_loop_head(2));
    EXPECT_FALSE(cfg->is_loop_head(4));
}

// Slots: 0 mov, 1 call, 2-3 lddw.func (target slot 2 + 1 + 4 = 7), 4 exit, 5-6 fn, 7-8 callback.
constexpr std::string_view kSubprograms =
    "mov %r1, 1\n"        // insn 0
    "call local fn\n"     // insn 1
    "lddw.func %r2, 4\n"  // insn 2
    "exit\n"              // insn 3
    "fn:\n"               //
    "mov %r0, %r1\n"      // insn 4
    "exit\n"              // insn 5
    "mov %r0, 0\n"        // insn 6: the callback
    "exit\n";             // insn 7

TEST(Cfg, LocalCallsAndCallbacksStartFunctions) {
    auto cfg = build(kSubprograms);
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions().size(), 3u);
    EXPECT_EQ(cfg->functions()[0].entry, 0u);
    EXPECT_EQ(cfg->functions()[0].end, 4u);
    EXPECT_EQ(cfg->functions()[1].entry, 4u);
    EXPECT_EQ(cfg->functions()[1].end, 6u);
    EXPECT_EQ(cfg->functions()[2].entry, 6u);
    EXPECT_EQ(cfg->functions()[2].end, 8u);
    EXPECT_EQ(cfg->function_of(3), 0u);
    EXPECT_EQ(cfg->function_of(5), 1u);
    EXPECT_EQ(cfg->function_of(7), 2u);
    EXPECT_EQ(cfg->function_at(4), 1u);
    EXPECT_EQ(cfg->function_at(6), 2u);
    EXPECT_FALSE(cfg->function_at(5));

    // A local call does not end a block: one block per function.
    ASSERT_EQ(cfg->blocks().size(), 3u);
    for (uint32_t f = 0; f < 3; ++f) {
        const BasicBlock& block = cfg->blocks()[f];
        EXPECT_EQ(block.function, f);
        EXPECT_EQ(block.first, cfg->functions()[f].entry);
        EXPECT_EQ(block.last, cfg->functions()[f].end - 1);
        EXPECT_TRUE(block.reachable);
        EXPECT_TRUE(block.successors.empty());
        EXPECT_FALSE(cfg->immediate_dominator(f));
    }
    EXPECT_FALSE(cfg->dominates(0, 1));
    EXPECT_TRUE(cfg->unreachable_instructions().empty());

    // The call reads r1-r5 and leaves r0; the callee's liveness is its own.
    EXPECT_EQ(cfg->live_registers(0), live({2, 3, 4, 5}));
    EXPECT_EQ(cfg->live_registers(1), live({1, 2, 3, 4, 5}));
    EXPECT_EQ(cfg->live_registers(2), live({0}));
    EXPECT_EQ(cfg->live_registers(4), live({1}));
    EXPECT_EQ(cfg->live_registers(5), live({0}));
    EXPECT_EQ(cfg->live_registers(6), live({}));
}

TEST(Cfg, CodeAfterExitAndUncalledFunctionsAreUnreachable) {
    auto cfg = build(
        "mov %r0, 0\n"      // 0
        "exit\n"            // 1
        "mov %r0, 1\n"      // 2: after exit, no jump here
        "call local fn\n"   // 3: the only call of fn
        "exit\n"            // 4
        "fn:\n"             //
        "call local fn2\n"  // 5: fn2 is called only from fn
        "exit\n"            // 6
        "fn2:\n"            //
        "mov %r0, 2\n"      // 7
        "exit\n");          // 8
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions().size(), 3u);
    EXPECT_EQ(cfg->unreachable_instructions(), (Insns{2, 3, 4, 5, 6, 7, 8}));
    ASSERT_EQ(cfg->blocks().size(), 4u);
    EXPECT_TRUE(cfg->blocks()[0].reachable);
    EXPECT_FALSE(cfg->blocks()[1].reachable);
    EXPECT_FALSE(cfg->blocks()[2].reachable);
    EXPECT_FALSE(cfg->blocks()[3].reachable);
    EXPECT_FALSE(cfg->immediate_dominator(1));
    EXPECT_FALSE(cfg->dominates(1, 1));

    // A conditional jump over dead code leaves only what no path reaches.
    auto skip = build(
        "ja over\n"     // 0
        "mov %r0, 1\n"  // 1
        "mov %r0, 2\n"  // 2
        "over:\n"       //
        "mov %r0, 3\n"  // 3
        "exit\n");      // 4
    ASSERT_TRUE(skip.ok()) << skip.error().to_string();
    EXPECT_EQ(skip->unreachable_instructions(), (Insns{1, 2}));
    EXPECT_EQ(skip->immediate_dominator(skip->block_of(3)), 0u);
}

// Programs the decoder would refuse, built by hand.
isa::Program hand_made(std::vector<isa::Instruction> instructions) {
    isa::Program program;
    program.instructions = std::move(instructions);
    for (uint32_t i = 0; i < program.instructions.size(); ++i) program.slot.push_back(i);
    return program;
}

isa::Instruction jeq(uint8_t dst, uint32_t target) {
    return isa::Jump{isa::Op::Jeq, false, dst, isa::Operand::make_imm(0), 0, target};
}
isa::Instruction call_local(uint32_t target) {
    return isa::Call{isa::Op::CallLocal, 0, 0, 0, target};
}
isa::Instruction mov(uint8_t dst, int32_t imm) {
    return isa::Alu{isa::Op::Mov, true, dst, isa::Operand::make_imm(imm)};
}

void expect_invalid(const isa::Program& program, uint32_t instruction, std::string_view words) {
    auto cfg = ControlFlowGraph::build(program);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.error().kind, ErrorKind::InvalidInput);
    EXPECT_EQ(cfg.error().where.instruction, instruction) << cfg.error().to_string();
    EXPECT_NE(cfg.error().message.find(words), std::string::npos) << cfg.error().message;
}

TEST(Cfg, RejectsJumpsIntoAnotherFunction) {
    expect_invalid(hand_made({call_local(3), jeq(1, 4), isa::Exit{}, mov(0, 1), isa::Exit{}}), 1,
                   "jump to instruction 4 leaves the function starting at instruction 0");
    // From a subprogram back into the main function.
    expect_invalid(hand_made({call_local(2), isa::Exit{}, jeq(1, 1), isa::Exit{}}), 2,
                   "jump to instruction 1 leaves the function starting at instruction 2");
}

TEST(Cfg, RejectsFunctionsThatFallThrough) {
    expect_invalid(
        hand_made({call_local(2), mov(0, 0), isa::Exit{}}), 1,
        "the function starting at instruction 0 can fall into the function starting at instruction 2");
    expect_invalid(hand_made({mov(0, 0)}), 0, "can run off the end of the program");
    // A conditional jump cannot end a function either.
    expect_invalid(hand_made({mov(0, 0), jeq(0, 0)}), 1, "neither exit nor an unconditional jump");
}

TEST(Cfg, RejectsTargetsOutsideTheProgram) {
    expect_invalid(hand_made({call_local(7), isa::Exit{}}), 0,
                   "local call to instruction 7 is outside the program");
    expect_invalid(hand_made({isa::LoadImm64{1, isa::kPseudoFunc, 0, 0, 9}, isa::Exit{}}), 0,
                   "code address to instruction 9");
    expect_invalid(hand_made({jeq(1, 5), isa::Exit{}}), 0, "jump to instruction 5 is outside the program");
    auto empty = ControlFlowGraph::build(isa::Program{});
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().kind, ErrorKind::InvalidInput);
}

TEST(Cfg, RegisterWrittenBeforeItIsReadIsNotLiveBeforeTheWrite) {
    auto cfg = build(
        "mov %r2, 5\n"    // 0
        "mov %r0, %r2\n"  // 1
        "exit\n");        // 2
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    EXPECT_EQ(cfg->live_registers(0), live({}));
    EXPECT_EQ(cfg->live_registers(1), live({2}));
    EXPECT_EQ(cfg->live_registers(2), live({0}));

    // add reads its destination, mov does not.
    auto add = build(
        "add %r3, 1\n"    // 0
        "mov %r0, %r3\n"  // 1
        "exit\n");
    ASSERT_TRUE(add.ok());
    EXPECT_EQ(add->live_registers(0), live({3}));
}

TEST(Cfg, HelperCallsReadTheirArgumentsAndClobberR1ToR5) {
    const isa::HelperPrototype* lookup = isa::helper_by_id(1);
    ASSERT_NE(lookup, nullptr);
    ASSERT_TRUE(lookup->known);
    ASSERT_EQ(lookup->arg_count, 2);  // map_lookup_elem(map, key)
    auto cfg = build(
        "mov %r1, 1\n"    // 0
        "mov %r2, 2\n"    // 1
        "mov %r3, 3\n"    // 2: not an argument of the call, dead
        "mov %r6, 6\n"    // 3: callee-saved, read after the call
        "call 1\n"        // 4
        "mov %r1, 0\n"    // 5: r1 written again after the call
        "add %r0, %r1\n"  // 6
        "add %r0, %r6\n"  // 7
        "exit\n");        // 8
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    EXPECT_EQ(cfg->live_registers(4), live({1, 2, 6}));
    EXPECT_EQ(cfg->live_registers(3), live({1, 2}));
    EXPECT_EQ(cfg->live_registers(2), live({1, 2}));
    EXPECT_EQ(cfg->live_registers(0), live({}));
    EXPECT_EQ(cfg->live_registers(5), live({0, 6}));
    EXPECT_EQ(cfg->live_registers(6), live({0, 1, 6}));

    // An unknown helper may read all five argument registers.
    ASSERT_EQ(isa::helper_by_id(100000), nullptr);
    auto unknown = build(
        "call 100000\n"
        "exit\n");
    ASSERT_TRUE(unknown.ok()) << unknown.error().to_string();
    EXPECT_EQ(unknown->live_registers(0), live({1, 2, 3, 4, 5}));
}

TEST(Cfg, LivenessOfMemoryAtomicAndPacketForms) {
    auto cfg = build(
        "stxdw [%r10-8], %r1\n"           // 0: reads r10 and r1
        "mov %r0, 0\n"                    // 1
        "lock cmpxchg [%r10-8], %r2\n"    // 2: reads r0 (the expected value) and r2, writes r0
        "lock fetch add [%r10-8], %r3\n"  // 3: reads r3, returns the old value in r3
        "lock add [%r10-8], %r4\n"        // 4: reads r4, writes no register
        "ldxdw %r5, [%r10-8]\n"           // 5
        "ldindw %r5, 0\n"                 // 6: reads r6 (the context) and r5; writes r0, clobbers r1-r5
        "add %r0, %r3\n"                  // 7: r3 was clobbered by the packet load: its value is gone
        "exit\n");                        // 8
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    EXPECT_EQ(cfg->live_registers(8), live({0}));
    EXPECT_EQ(cfg->live_registers(7), live({0, 3}));
    EXPECT_EQ(cfg->live_registers(6), live({5, 6}));
    EXPECT_EQ(cfg->live_registers(5), live({6}));
    EXPECT_EQ(cfg->live_registers(4), live({4, 6}));
    EXPECT_EQ(cfg->live_registers(3), live({3, 4, 6}));
    EXPECT_EQ(cfg->live_registers(2), live({0, 2, 3, 4, 6}));
    EXPECT_EQ(cfg->live_registers(1), live({2, 3, 4, 6}));
    EXPECT_EQ(cfg->live_registers(0), live({1, 2, 3, 4, 6}));
}

TEST(Cfg, DotHasClustersLabelsAndDashedBackEdges) {
    auto program = decode(
        "mov %r0, 0\n"        // 0  block 0
        "mov %r1, 3\n"        // 1
        "loop:\n"             //
        "call local fn\n"     // 2  block 1
        "sub %r1, 1\n"        // 3
        "jne %r1, 0, loop\n"  // 4
        "exit\n"              // 5  block 2
        "fn:\n"               //
        "mov %r0, 1\n"        // 6  block 3
        "exit\n");            // 7
    auto cfg = ControlFlowGraph::build(program);
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    auto text = [&](uint32_t i) {
        return isa::disassemble(program.instructions[i], {isa::Syntax::Conformance});
    };
    const std::string dot = cfg->to_dot(text);
    EXPECT_TRUE(dot.starts_with("digraph ")) << dot;
    EXPECT_EQ(dot.back(), '\n');
    EXPECT_NE(dot.find("subgraph cluster_0 {"), std::string::npos) << dot;
    EXPECT_NE(dot.find("subgraph cluster_6 {"), std::string::npos) << dot;
    EXPECT_NE(dot.find("label=\"function at insn 6\""), std::string::npos) << dot;
    EXPECT_NE(dot.find("b0 [label=\"mov %r0, 0\\lmov %r1, 3\\l\"]"), std::string::npos) << dot;
    EXPECT_NE(dot.find("b1 -> b1 [style=dashed];"), std::string::npos) << dot;
    EXPECT_NE(dot.find("b0 -> b1;"), std::string::npos) << dot;
    EXPECT_NE(dot.find("b1 -> b2;"), std::string::npos) << dot;
    EXPECT_NE(dot.find("b1 -> b3 [style=dotted];"), std::string::npos) << dot;
    EXPECT_EQ(std::count(dot.begin(), dot.end(), '{'), std::count(dot.begin(), dot.end(), '}'));

    // Quotes, backslashes and line breaks of the text are escaped; the note comes first.
    const std::string noted =
        cfg->to_dot([](uint32_t) { return std::string("say \"hi\" \\ x"); },
                    [](uint32_t block) { return block == 3 ? std::string("r0=?\nr1=?") : std::string(); });
    EXPECT_NE(noted.find("b3 [label=\"r0=?\\lr1=?\\lsay \\\"hi\\\" \\\\ x\\lsay \\\"hi\\\" \\\\ x\\l\"]"),
              std::string::npos)
        << noted;
    EXPECT_NE(noted.find("b0 [label=\"say"), std::string::npos) << noted;
}

TEST(Cfg, DotLeavesOutUnreachableBlocks) {
    auto cfg = build(
        "mov %r0, 0\n"
        "exit\n"
        "mov %r0, 1\n"
        "exit\n");
    ASSERT_TRUE(cfg.ok());
    const std::string dot = cfg->to_dot([](uint32_t i) { return "insn " + std::to_string(i); });
    EXPECT_NE(dot.find("b0 [label=\"insn 0\\linsn 1\\l\"]"), std::string::npos) << dot;
    EXPECT_EQ(dot.find("b1 ["), std::string::npos) << dot;
}

// Structural facts every graph must satisfy.
void check_invariants(const isa::Program& program, const ControlFlowGraph& cfg, const std::string& name) {
    const auto n = static_cast<uint32_t>(program.size());
    uint32_t next = 0;
    for (uint32_t b = 0; b < cfg.blocks().size(); ++b) {
        const BasicBlock& block = cfg.blocks()[b];
        ASSERT_EQ(block.first, next) << name;
        ASSERT_LE(block.first, block.last) << name;
        next = block.last + 1;
        for (uint32_t i = block.first; i <= block.last; ++i) {
            EXPECT_EQ(cfg.block_of(i), b) << name;
            EXPECT_EQ(cfg.function_of(i), block.function) << name;
            EXPECT_NE(cfg.live_registers(i) & (1u << 10), 0u) << name;
        }
        for (uint32_t s : block.successors) {
            EXPECT_EQ(cfg.blocks()[s].function, block.function) << name;
            const auto& preds = cfg.blocks()[s].predecessors;
            EXPECT_NE(std::find(preds.begin(), preds.end(), b), preds.end()) << name;
            if (block.reachable) {
                EXPECT_TRUE(cfg.blocks()[s].reachable) << name;
            }
        }
        if (block.reachable && cfg.function_at(block.first) != block.function) {
            auto idom = cfg.immediate_dominator(b);
            ASSERT_TRUE(idom) << name << " block " << b;
            EXPECT_TRUE(cfg.dominates(*idom, b)) << name;
            EXPECT_FALSE(cfg.dominates(b, *idom)) << name;
        }
    }
    EXPECT_EQ(next, n) << name;
    for (const Loop& loop : cfg.loops()) {
        EXPECT_TRUE(cfg.is_loop_head(cfg.blocks()[loop.head].first)) << name;
        EXPECT_TRUE(std::is_sorted(loop.blocks.begin(), loop.blocks.end())) << name;
        EXPECT_TRUE(std::binary_search(loop.blocks.begin(), loop.blocks.end(), loop.head)) << name;
        EXPECT_FALSE(loop.back_edges.empty()) << name;
        if (loop.parent) {
            EXPECT_EQ(loop.depth, cfg.loops()[*loop.parent].depth + 1) << name;
        }
    }
}

TEST(Cfg, BuildsEveryConformanceProgram) {
    size_t built = 0;
    size_t with_loops = 0;
    for (const auto& path : isa::test::conformance_files("tests")) {
        const std::string name = path.filename().string();
        auto slots = isa::assemble(isa::test::asm_section(isa::test::read_text_file(path)));
        if (!slots.ok()) continue;
        auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
        if (!program.ok()) continue;
        auto cfg = ControlFlowGraph::build(*program);
        if (!cfg.ok()) {
            // The decoder checks the same structure, so only the documented kind may appear.
            EXPECT_EQ(cfg.error().kind, ErrorKind::InvalidInput) << name << ": " << cfg.error().to_string();
            continue;
        }
        ++built;
        if (!cfg->loops().empty()) ++with_loops;
        check_invariants(*program, *cfg, name);
    }
    EXPECT_GE(built, 300u);
    EXPECT_GE(with_loops, 1u);
}

// Many loops of both kinds, one after the other, build in roughly linear time (each
// irreducible cycle is its own strongly connected component of the same function).
TEST(Cfg, LargeProgramBuilds) {
    std::string text = "mov %r0, 0\nmov %r1, 0\n";
    constexpr size_t kLoops = 20000;
    for (size_t k = 0; k < kLoops; ++k) {
        const std::string n = std::to_string(k);
        text += "l" + n + ":\nadd %r0, 1\nadd %r1, 1\njlt %r1, 3, l" + n + "\n";  // natural
        text += "jeq %r1, 0, b" + n + "\na" + n + ":\nadd %r0, 1\njgt %r0, 10, o" + n + "\nb" + n +
                ":\nadd %r0, 2\njgt %r0, 20, o" + n + "\nja a" + n + "\no" + n + ":\n";  // irreducible
    }
    text += "exit\n";
    auto program = decode(text);
    auto cfg = ControlFlowGraph::build(program);
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->loops().size(), 2 * kLoops);
    EXPECT_EQ(
        std::count_if(cfg->loops().begin(), cfg->loops().end(), [](const Loop& l) { return l.irreducible; }),
        static_cast<std::ptrdiff_t>(kLoops));
    // Per round: the natural loop, the branch into the cycle, its two entries and its ja.
    EXPECT_EQ(cfg->blocks().size(), 5 * kLoops + 2);
    const Loop& last = cfg->loops().back();
    EXPECT_TRUE(last.irreducible);
    EXPECT_EQ(last.blocks.size(), 3u);
    EXPECT_FALSE(last.parent);
    EXPECT_TRUE(cfg->unreachable_instructions().empty());
    EXPECT_EQ(cfg->live_registers(2), live({0, 1}));
}

// Random single-function programs: dominators against the textbook dataflow definition, loops
// against their definitions, and liveness against an instruction-by-instruction fixpoint.
struct RandomProgram {
    isa::Program program;
    std::vector<RegisterSet> use, def;  // per instruction, for the reference liveness
};

RandomProgram random_program(std::mt19937& rng) {
    RandomProgram out;
    const uint32_t n = 4 + rng() % 40;
    auto pick = [&](uint32_t bound) { return static_cast<uint32_t>(rng() % bound); };
    std::vector<isa::Instruction> insns;
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t dst = static_cast<uint8_t>(pick(10));
        const bool reg = pick(2) == 0;
        const isa::Operand src = reg ? isa::Operand::make_reg(static_cast<uint8_t>(pick(10)))
                                     : isa::Operand::make_imm(static_cast<int32_t>(pick(4)));
        const RegisterSet src_use = reg ? regs({src.reg}) : RegisterSet{0};
        const uint32_t kind = i + 1 == n ? 6 + pick(2) : pick(100) % 8;
        switch (kind) {
            case 0:
            case 1:
                insns.push_back(isa::Alu{isa::Op::Mov, true, dst, src});
                out.use.push_back(src_use);
                out.def.push_back(regs({dst}));
                break;
            case 2:
                insns.push_back(isa::Alu{isa::Op::Add, true, dst, src});
                out.use.push_back(static_cast<RegisterSet>(src_use | regs({dst})));
                out.def.push_back(regs({dst}));
                break;
            case 3:
            case 4:
                insns.push_back(isa::Jump{isa::Op::Jeq, false, dst, src, 0, pick(n)});
                out.use.push_back(static_cast<RegisterSet>(src_use | regs({dst})));
                out.def.push_back(0);
                break;
            case 5:
                insns.push_back(isa::Call{isa::Op::CallHelper, 1});  // map_lookup_elem: r1, r2
                out.use.push_back(regs({1, 2}));
                out.def.push_back(regs({0, 1, 2, 3, 4, 5}));
                break;
            case 6:
                insns.push_back(isa::Jump{isa::Op::Ja, false, 0, {}, 0, pick(n)});
                out.use.push_back(0);
                out.def.push_back(0);
                break;
            default:
                insns.push_back(isa::Exit{});
                out.use.push_back(regs({0}));
                out.def.push_back(0);
        }
    }
    out.program = hand_made(std::move(insns));
    return out;
}

std::vector<uint32_t> insn_successors(const isa::Program& program, uint32_t i) {
    const auto& insn = program.instructions[i];
    if (std::holds_alternative<isa::Exit>(insn)) return {};
    if (const auto* jump = std::get_if<isa::Jump>(&insn)) {
        if (jump->op == isa::Op::Ja) return {jump->target};
        return {i + 1, jump->target};
    }
    return {i + 1};
}

TEST(Cfg, RandomProgramsMatchReferenceDefinitions) {
    std::mt19937 rng(20240601);
    size_t irreducible = 0, nested = 0, natural = 0;
    for (int round = 0; round < 400; ++round) {
        const RandomProgram random = random_program(rng);
        const isa::Program& program = random.program;
        auto built = ControlFlowGraph::build(program);
        ASSERT_TRUE(built.ok()) << built.error().to_string();
        const ControlFlowGraph& cfg = *built;
        const auto blocks = static_cast<uint32_t>(cfg.blocks().size());
        const std::string name = "round " + std::to_string(round);
        check_invariants(program, cfg, name);

        // Dominator sets: Dom(entry) = {entry}, Dom(b) = {b} + the meet of its reachable
        // predecessors' sets, iterated to the greatest fixpoint.
        std::vector<std::vector<bool>> dom(blocks, std::vector<bool>(blocks, true));
        dom[0].assign(blocks, false);
        dom[0][0] = true;
        for (bool changed = true; changed;) {
            changed = false;
            for (uint32_t b = 1; b < blocks; ++b) {
                if (!cfg.blocks()[b].reachable) continue;
                std::vector<bool> meet(blocks, true);
                for (uint32_t p : cfg.blocks()[b].predecessors) {
                    if (!cfg.blocks()[p].reachable) continue;
                    for (uint32_t x = 0; x < blocks; ++x) meet[x] = meet[x] && dom[p][x];
                }
                meet[b] = true;
                if (meet != dom[b]) {
                    dom[b] = meet;
                    changed = true;
                }
            }
        }
        for (uint32_t a = 0; a < blocks; ++a) {
            for (uint32_t b = 0; b < blocks; ++b) {
                const bool both = cfg.blocks()[a].reachable && cfg.blocks()[b].reachable;
                EXPECT_EQ(cfg.dominates(a, b), both && dom[b][a]) << name << " " << a << " dom " << b;
            }
        }

        // Loops: natural bodies are dominated by their header and every latch jumps to it;
        // bodies are nested or disjoint; parents and loop_of are the innermost containing loop.
        auto contains = [](const Loop& loop, uint32_t b) {
            return std::binary_search(loop.blocks.begin(), loop.blocks.end(), b);
        };
        for (uint32_t l = 0; l < cfg.loops().size(); ++l) {
            const Loop& loop = cfg.loops()[l];
            ++(loop.irreducible ? irreducible : natural);
            if (loop.parent) ++nested;
            for (uint32_t b : loop.blocks) {
                EXPECT_TRUE(cfg.blocks()[b].reachable) << name;
                if (!loop.irreducible) {
                    EXPECT_TRUE(cfg.dominates(loop.head, b)) << name;
                }
            }
            for (uint32_t jump : loop.back_edges) {
                EXPECT_TRUE(contains(loop, cfg.block_of(jump))) << name;
            }
            if (!loop.irreducible) {
                for (uint32_t jump : loop.back_edges) {
                    EXPECT_TRUE(cfg.is_back_edge(cfg.block_of(jump), loop.head)) << name;
                }
            }
            std::optional<uint32_t> smallest;
            for (uint32_t other = 0; other < cfg.loops().size(); ++other) {
                if (other == l) continue;
                const Loop& o = cfg.loops()[other];
                size_t shared = 0;
                for (uint32_t b : loop.blocks) shared += contains(o, b) ? 1 : 0;
                EXPECT_TRUE(shared == 0 || shared == loop.blocks.size() || shared == o.blocks.size())
                    << name << ": loops " << l << " and " << other << " overlap";
                if (shared == loop.blocks.size() && o.blocks.size() > loop.blocks.size() &&
                    (!smallest || o.blocks.size() < cfg.loops()[*smallest].blocks.size())) {
                    smallest = other;
                }
            }
            EXPECT_EQ(loop.parent, smallest) << name << " loop " << l;
        }
        for (uint32_t b = 0; b < blocks; ++b) {
            std::optional<uint32_t> innermost;
            for (uint32_t l = 0; l < cfg.loops().size(); ++l) {
                if (contains(cfg.loops()[l], b) &&
                    (!innermost || cfg.loops()[l].blocks.size() < cfg.loops()[*innermost].blocks.size())) {
                    innermost = l;
                }
            }
            EXPECT_EQ(cfg.loop_of(cfg.blocks()[b].first), innermost) << name << " block " << b;
        }

        // Without its back edges the reachable graph has no cycle (Kahn's algorithm empties it),
        // and every back edge ends at a loop head.
        std::vector<uint32_t> indegree(blocks, 0);
        for (uint32_t b = 0; b < blocks; ++b) {
            if (!cfg.blocks()[b].reachable) continue;
            for (uint32_t s : cfg.blocks()[b].successors) {
                if (cfg.is_back_edge(b, s)) {
                    EXPECT_TRUE(cfg.is_loop_head(cfg.blocks()[s].first)) << name;
                } else {
                    ++indegree[s];
                }
            }
        }
        std::vector<uint32_t> ready;
        size_t reachable = 0, sorted = 0;
        for (uint32_t b = 0; b < blocks; ++b) {
            if (!cfg.blocks()[b].reachable) continue;
            ++reachable;
            if (indegree[b] == 0) ready.push_back(b);
        }
        while (!ready.empty()) {
            const uint32_t b = ready.back();
            ready.pop_back();
            ++sorted;
            for (uint32_t s : cfg.blocks()[b].successors) {
                if (!cfg.is_back_edge(b, s) && --indegree[s] == 0) ready.push_back(s);
            }
        }
        EXPECT_EQ(sorted, reachable) << name;

        // Liveness instruction by instruction.
        const auto n = static_cast<uint32_t>(program.size());
        std::vector<RegisterSet> live_in(n, 0);
        for (bool changed = true; changed;) {
            changed = false;
            for (uint32_t i = n; i-- > 0;) {
                RegisterSet out = 0;
                for (uint32_t s : insn_successors(program, i)) out |= live_in[s];
                const auto in = static_cast<RegisterSet>(random.use[i] | (out & ~random.def[i]));
                if (in != live_in[i]) {
                    live_in[i] = in;
                    changed = true;
                }
            }
        }
        for (uint32_t i = 0; i < n; ++i) {
            EXPECT_EQ(cfg.live_registers(i), live_in[i] | regs({10})) << name << " instruction " << i;
        }
        // Unreachable instructions: those no instruction path from 0 reaches.
        std::vector<bool> seen(n, false);
        std::vector<uint32_t> stack{0};
        seen[0] = true;
        while (!stack.empty()) {
            const uint32_t i = stack.back();
            stack.pop_back();
            for (uint32_t s : insn_successors(program, i)) {
                if (!seen[s]) {
                    seen[s] = true;
                    stack.push_back(s);
                }
            }
        }
        Insns unreachable;
        for (uint32_t i = 0; i < n; ++i) {
            if (!seen[i]) unreachable.push_back(i);
        }
        EXPECT_EQ(cfg.unreachable_instructions(), unreachable) << name;
    }
    // The programs exercise every kind of loop.
    EXPECT_GE(natural, 50u);
    EXPECT_GE(irreducible, 20u);
    EXPECT_GE(nested, 20u);
}

// One loop around a long chain of branches: the dominator tree is as deep as the chain, deeper
// than Boost's recursive Lengauer-Tarjan could go on a default stack. Built by hand: assembling
// the text would take longer than the analysis.
TEST(Cfg, LongChainInsideALoop) {
    constexpr uint32_t kDiamonds = 150000;
    auto add = [](uint8_t dst) {
        return isa::Instruction{isa::Alu{isa::Op::Add, true, dst, isa::Operand::make_imm(1)}};
    };
    std::vector<isa::Instruction> insns{mov(0, 0), mov(1, 0)};
    for (uint32_t k = 0; k < kDiamonds; ++k) {
        insns.push_back(jeq(0, static_cast<uint32_t>(insns.size()) + 2));  // top: at instruction 2
        insns.push_back(add(0));
    }
    const auto last_add = static_cast<uint32_t>(insns.size());
    insns.push_back(add(1));
    insns.push_back(jeq(1, last_add + 3));
    insns.push_back(isa::Jump{isa::Op::Ja, false, 0, {}, 0, 2});
    insns.push_back(isa::Exit{});
    auto cfg = ControlFlowGraph::build(hand_made(std::move(insns)));
    ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
    ASSERT_EQ(cfg->loops().size(), 1u);
    const Loop& loop = cfg->loops()[0];
    EXPECT_EQ(loop.head, 1u);
    EXPECT_EQ(loop.blocks.size(), static_cast<size_t>(2 * kDiamonds + 2));
    EXPECT_EQ(loop.back_edges, (Insns{last_add + 2}));
    EXPECT_EQ(cfg->immediate_dominator(cfg->block_of(last_add)), cfg->block_of(last_add - 2));
    EXPECT_TRUE(cfg->dominates(1, cfg->block_of(last_add)));
    EXPECT_EQ(cfg->live_registers(2), live({0, 1}));
}

}  // namespace
}  // namespace bpfvm::verifier
