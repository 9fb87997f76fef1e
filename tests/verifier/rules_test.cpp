// Every verifier rule, each with a small program that breaks it and a nearly identical one that
// does not (the check that makes it safe): the rejection names the rule, the twin is accepted.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/verifier/verifier.hpp"

namespace bpfvm::verifier {
namespace {

using isa::MapType;
using isa::ProgramType;

MapInfo map(std::string name, MapType type, uint32_t key_size, uint32_t value_size,
            uint32_t max_entries = 16) {
    MapInfo info;
    info.name = std::move(name);
    info.type = type;
    info.key_size = key_size;
    info.value_size = value_size;
    info.max_entries = max_entries;
    return info;
}

struct Outcome {
    VerifyResult result;
    std::string error;  // assembling or decoding failed
};

using Tamper = std::function<void(isa::Program&)>;

// `tamper` changes the decoded program the way a buggy producer could (the decoder itself refuses
// some shapes, but programs built in memory reach the verifier without it).
Outcome verify_text(const std::string& text, ProgramType type, const std::vector<MapInfo>& maps = {},
                    const VerifyOptions& options = {}, const Tamper& tamper = {}) {
    auto slots = isa::assemble(text);
    if (!slots) return {{}, slots.error().to_string()};
    auto program = isa::decode_program(*slots);
    if (!program) return {{}, program.error().to_string()};
    if (tamper) tamper(*program);
    return {verify(*program, type, maps, options), ""};
}

// A rule's failing program and its accepted twin.
struct Twin {
    std::string name;
    Rule rule;
    ProgramType type;
    std::vector<MapInfo> maps;
    std::string rejected;
    std::string accepted;
    VerifyOptions options = {};
    Tamper tamper_rejected = {};
};

std::vector<Twin> twins() {
    std::vector<Twin> cases;
    MapInfo counters = map("counters", MapType::Array, 4, 8, 4);
    MapInfo ring = map("events", MapType::Ringbuf, 0, 0, 4096);
    MapInfo rodata = map(".rodata", MapType::Array, 4, 8, 1);
    rodata.read_only = true;
    rodata.initial_data = {1, 0, 0, 0, 0, 0, 0, 0};
    MapInfo locked = map("locked", MapType::Hash, 4, 8, 4);
    locked.spin_lock_offset = 0;

    // A map lookup of key 0 on the stack, result in r0; LOOKUP_CHECKED adds the null check.
    const std::string lookup =
        "stw [%r10-4], 0\n"
        "lddw.map_idx %r1, 0\n"
        "mov %r2, %r10\n"
        "add %r2, -4\n"
        "call 1\n";
    const std::string checked = lookup + "jeq %r0, 0, out\n";
    const std::string out = "out:\nmov %r0, 0\nexit\n";
    // xdp: r2 = data, r3 = data_end, r4 = data + 14 compared with data_end.
    const std::string packet =
        "ldxw %r2, [%r1+0]\n"
        "ldxw %r3, [%r1+4]\n"
        "mov %r4, %r2\n"
        "add %r4, 14\n"
        "jgt %r4, %r3, out\n";

    cases.push_back({"UninitializedRegister",
                     Rule::UninitializedRegister,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, %r2\nexit\n",
                     "mov %r2, 1\nmov %r0, %r2\nexit\n"});
    cases.push_back({"UninitializedStack",
                     Rule::UninitializedStack,
                     ProgramType::Xdp,
                     {},
                     "ldxdw %r0, [%r10-8]\nexit\n",
                     "stdw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit\n"});
    cases.push_back({"StackOutOfBounds",
                     Rule::OutOfBounds,
                     ProgramType::Xdp,
                     {},
                     "stdw [%r10-520], 1\nmov %r0, 0\nexit\n",
                     "stdw [%r10-512], 1\nmov %r0, 0\nexit\n"});
    cases.push_back({"PacketOutOfBounds",
                     Rule::OutOfBounds,
                     ProgramType::Xdp,
                     {},
                     packet + "ldxb %r0, [%r2+14]\nexit\n" + out,
                     packet + "ldxb %r0, [%r2+13]\nexit\n" + out});
    cases.push_back({"PacketUnchecked",
                     Rule::OutOfBounds,
                     ProgramType::Xdp,
                     {},
                     "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit\n",
                     packet + "ldxb %r0, [%r2+0]\nexit\n" + out});
    cases.push_back({"MapValueOutOfBounds",
                     Rule::OutOfBounds,
                     ProgramType::Xdp,
                     {counters},
                     checked + "ldxdw %r0, [%r0+8]\nexit\n" + out,
                     checked + "ldxdw %r0, [%r0+0]\nexit\n" + out});
    cases.push_back({"NullDereference",
                     Rule::NullDereference,
                     ProgramType::Xdp,
                     {counters},
                     lookup + "ldxdw %r0, [%r0+0]\nexit\n",
                     checked + "ldxdw %r0, [%r0+0]\nexit\n" + out});
    cases.push_back({"InvalidMemoryAccess",
                     Rule::InvalidMemoryAccess,
                     ProgramType::Xdp,
                     {},
                     "mov %r1, 64\nldxdw %r0, [%r1+0]\nexit\n",
                     "mov %r1, %r10\nstdw [%r1-8], 64\nldxdw %r0, [%r1-8]\nexit\n"});
    cases.push_back({"InvalidContextAccess",
                     Rule::InvalidContextAccess,
                     ProgramType::Xdp,
                     {},
                     "mov %r2, 0\nstxw [%r1+0], %r2\nmov %r0, 0\nexit\n",
                     "ldxw %r2, [%r1+12]\nmov %r0, 0\nexit\n"});
    cases.push_back({"ReadOnlyWrite",
                     Rule::ReadOnlyWrite,
                     ProgramType::Xdp,
                     {rodata},
                     "lddw.map_idx_value %r1, 0\nstw [%r1+0], 2\nmov %r0, 0\nexit\n",
                     "lddw.map_idx_value %r1, 0\nldxw %r0, [%r1+0]\nexit\n"});
    cases.push_back({"InvalidPointerArithmetic",
                     Rule::InvalidPointerArithmetic,
                     ProgramType::Xdp,
                     {counters},
                     lookup + "add %r0, 4\njeq %r0, 0, out\nldxw %r0, [%r0+0]\nexit\n" + out,
                     checked + "add %r0, 4\nldxw %r0, [%r0+0]\nexit\n" + out});
    cases.push_back({"InvalidPointerComparison",
                     Rule::InvalidPointerComparison,
                     ProgramType::Xdp,
                     {counters},
                     checked + "jgt %r0, %r10, out\nmov %r0, 1\nexit\n" + out,
                     checked + "ldxdw %r1, [%r0+0]\njgt %r1, 10, out\nmov %r0, 1\nexit\n" + out});
    cases.push_back({"PointerLeak",
                     Rule::PointerLeak,
                     ProgramType::Xdp,
                     {counters},
                     checked + "stxdw [%r0+0], %r10\nmov %r0, 0\nexit\n" + out,
                     checked + "mov %r1, 5\nstxdw [%r0+0], %r1\nmov %r0, 0\nexit\n" + out});
    // A helper copying stack bytes that hold a spilled pointer into a map.
    const std::string update =
        "stw [%r10-4], 0\n"
        "lddw.map_idx %r1, 0\n"
        "mov %r2, %r10\n"
        "add %r2, -4\n"
        "mov %r3, %r10\n"
        "add %r3, -16\n"
        "mov %r4, 0\n"
        "call 2\n"
        "mov %r0, 0\n"
        "exit\n";
    cases.push_back({"PointerLeakThroughHelper",
                     Rule::PointerLeak,
                     ProgramType::Xdp,
                     {counters},
                     "stxdw [%r10-16], %r1\n" + update,
                     "ldxw %r2, [%r1+12]\nstxdw [%r10-16], %r2\n" + update});
    // bpf_snprintf(buf, 16, fmt, data, 8): one u64 argument; .rodata holds "n=%d" at 0 and
    // "%d%d" at 8 (the high half of lddw.map_idx_value's immediate is the offset).
    MapInfo formats = map(".rodata", MapType::Array, 4, 16, 1);
    formats.read_only = true;
    formats.initial_data = {'n', '=', '%', 'd', 0, 0, 0, 0, '%', 'd', '%', 'd', 0, 0, 0, 0};
    auto snprintf_call = [](const std::string& format_address) {
        return "stdw [%r10-8], 7\n"
               "stdw [%r10-16], 0\n"
               "stdw [%r10-24], 0\n"
               "mov %r1, %r10\n"
               "add %r1, -24\n"
               "mov %r2, 16\n"
               "lddw.map_idx_value %r3, " +
               format_address +
               "\n"
               "mov %r4, %r10\n"
               "add %r4, -8\n"
               "mov %r5, 8\n"
               "call 165\n"
               "mov %r0, 0\n"
               "exit\n";
    };
    cases.push_back({"SnprintfFormat",
                     Rule::HelperArgument,
                     ProgramType::Kprobe,
                     {formats},
                     snprintf_call(std::to_string(uint64_t{8} << 32)),
                     snprintf_call("0")});
    cases.push_back({"PointerReturned",
                     Rule::PointerLeak,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, %r10\nexit\n",
                     "mov %r0, 2\nexit\n"});
    cases.push_back({"HelperNotAllowed",
                     Rule::HelperNotAllowed,
                     ProgramType::Xdp,
                     {},
                     "mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 26\nmov %r0, 0\nexit\n",
                     "call 5\nmov %r0, 0\nexit\n"});
    cases.push_back({"HelperArgument",
                     Rule::HelperArgument,
                     ProgramType::Xdp,
                     {counters},
                     "stw [%r10-4], 0\nmov %r1, 7\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit\n",
                     lookup + "mov %r0, 0\nexit\n"});
    cases.push_back(
        {"HelperKeyTooSmall",
         Rule::HelperArgument,
         ProgramType::Xdp,
         {map("wide", MapType::Hash, 64, 8)},
         "stw [%r10-4], 0\nlddw.map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit\n",
         "mov %r1, 0\nstxdw [%r10-8], %r1\nstxdw [%r10-16], %r1\nstxdw [%r10-24], %r1\n"
         "stxdw [%r10-32], %r1\nstxdw [%r10-40], %r1\nstxdw [%r10-48], %r1\nstxdw [%r10-56], %r1\n"
         "stxdw [%r10-64], %r1\n"
         "lddw.map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -64\ncall 1\nmov %r0, 0\nexit\n"});
    cases.push_back({"ReturnValue",
                     Rule::ReturnValue,
                     ProgramType::CgroupSkb,
                     {},
                     "mov %r0, 2\nexit\n",
                     "mov %r0, 1\nexit\n"});
    const std::string reserve =
        "lddw.map_idx %r1, 0\n"
        "mov %r2, 16\n"
        "mov %r3, 0\n"
        "call 131\n"
        "jeq %r0, 0, out\n"
        "stdw [%r0+8], 7\n";
    cases.push_back({"UnreleasedReference",
                     Rule::UnreleasedReference,
                     ProgramType::Xdp,
                     {ring},
                     reserve + "mov %r0, 0\nexit\n" + out,
                     reserve + "mov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n" + out});
    cases.push_back({"ReservationNotChecked",
                     Rule::NullDereference,
                     ProgramType::Xdp,
                     {ring},
                     "lddw.map_idx %r1, 0\nmov %r2, 16\nmov %r3, 0\ncall 131\nmov %r1, %r0\nmov %r2, 0\n"
                     "call 132\nmov %r0, 0\nexit\n",
                     reserve + "mov %r1, %r0\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit\n" + out});
    cases.push_back({"InvalidRelease",
                     Rule::InvalidRelease,
                     ProgramType::Xdp,
                     {ring},
                     "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n",
                     reserve + "mov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n" + out});
    cases.push_back(
        {"UseAfterRelease",
         Rule::UninitializedRegister,
         ProgramType::Xdp,
         {ring},
         reserve + "mov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nstdw [%r6+0], 1\nmov %r0, 0\nexit\n" +
             out,
         reserve + "mov %r6, %r0\nstdw [%r6+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n" +
             out});
    cases.push_back(
        {"SpinLock",
         Rule::SpinLock,
         ProgramType::SchedCls,
         {locked},
         checked + "mov %r6, %r0\nmov %r1, %r0\ncall 93\nmov %r0, 0\nexit\n" + out,
         checked + "mov %r6, %r0\nmov %r1, %r0\ncall 93\nmov %r1, %r6\ncall 94\nmov %r0, 0\nexit\n" + out});
    cases.push_back(
        {"CallDepth",
         Rule::CallDepth,
         ProgramType::Xdp,
         {},
         "stdw [%r10-512], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-8], 0\nmov %r0, 0\nexit\n",
         "stdw [%r10-256], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-8], 0\nmov %r0, 0\nexit\n"});
    cases.push_back({"InfiniteLoop",
                     Rule::InfiniteLoop,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r0, 0\njlt %r1, 10, loop\nexit\n",
                     "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nexit\n"});
    VerifyOptions small_budget;
    small_budget.max_processed_instructions = 20000;
    cases.push_back(
        {"TooComplex",
         Rule::TooComplex,
         ProgramType::Xdp,
         {},
         "ldxw %r2, [%r1+12]\nmov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\nadd %r0, 3\n"
         "jlt %r1, %r2, loop\nexit\n",
         "ldxw %r2, [%r1+12]\nand %r2, 15\nmov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\nadd %r0, 3\n"
         "jlt %r1, %r2, loop\nexit\n",
         small_budget});
    VerifyOptions poisoned;
    poisoned.poisoned[2] = "CO-RE relocation of task_struct::pids did not resolve";
    cases.push_back({"UnresolvedRelocation",
                     Rule::UnresolvedRelocation,
                     ProgramType::Xdp,
                     {},
                     "mov %r1, 1\njeq %r1, 0, +1\nmov %r0, 1\nmov %r0, 0\nexit\n",
                     "mov %r1, 0\njeq %r1, 0, +1\nmov %r0, 1\nmov %r0, 0\nexit\n",
                     poisoned});
    cases.push_back({"Unsupported",
                     Rule::Unsupported,
                     ProgramType::Xdp,
                     {},
                     "call runtime 1234, 0\nmov %r0, 0\nexit\n",
                     "call 5\nmov %r0, 0\nexit\n"});
    cases.push_back({"UnreachableInstruction",
                     Rule::UnreachableInstruction,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, 0\nexit\nmov %r0, 1\nexit\n",
                     "mov %r0, 0\njeq %r1, 0, +1\nexit\nmov %r0, 1\nexit\n"});
    cases.push_back({"DivisionByImmediateZero",
                     Rule::InvalidInstruction,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, 5\ndiv %r0, 0\nexit\n",
                     "mov %r0, 5\nmov %r1, 0\ndiv %r0, %r1\nexit\n"});
    cases.push_back({"ShiftBeyondWidth",
                     Rule::InvalidInstruction,
                     ProgramType::Xdp,
                     {},
                     "mov %r0, 1\nlsh32 %r0, 32\nexit\n",
                     "mov %r0, 1\nlsh %r0, 32\nexit\n"});
    cases.push_back({"InvalidMapReference",
                     Rule::InvalidMapReference,
                     ProgramType::Xdp,
                     {counters},
                     "lddw.map_idx %r1, 3\nmov %r0, 0\nexit\n",
                     "lddw.map_idx %r1, 0\nmov %r0, 0\nexit\n"});
    // The subprogram's jump is redirected into the caller.
    cases.push_back({"InvalidControlFlow",
                     Rule::InvalidControlFlow,
                     ProgramType::Xdp,
                     {},
                     "call local f\nmov %r0, 0\nexit\nf:\nja +0\nmov %r0, 0\nexit\n",
                     "call local f\nmov %r0, 0\nexit\nf:\nja +0\nmov %r0, 0\nexit\n",
                     {},
                     [](isa::Program& p) { std::get<isa::Jump>(p.instructions[3]).target = 1; }});
    return cases;
}

class RuleTwins : public testing::TestWithParam<Twin> {};

TEST_P(RuleTwins, RejectedProgramBreaksTheRuleAndTheTwinIsAccepted) {
    const Twin& twin = GetParam();
    Outcome bad = verify_text(twin.rejected, twin.type, twin.maps, twin.options, twin.tamper_rejected);
    ASSERT_EQ(bad.error, "");
    ASSERT_FALSE(bad.result.accepted) << "expected " << rule_id(twin.rule);
    ASSERT_FALSE(bad.result.diagnostics.empty());
    const Diagnostic& d = bad.result.diagnostics.front();
    EXPECT_EQ(rule_id(d.rule), rule_id(twin.rule)) << d.message;
    EXPECT_FALSE(d.message.empty());

    Outcome good = verify_text(twin.accepted, twin.type, twin.maps, twin.options);
    ASSERT_EQ(good.error, "");
    EXPECT_TRUE(good.result.accepted)
        << (good.result.diagnostics.empty() ? std::string()
                                            : std::string(rule_id(good.result.diagnostics[0].rule)) + ": " +
                                                  good.result.diagnostics[0].message + " at " +
                                                  std::to_string(good.result.diagnostics[0].instruction));
}

INSTANTIATE_TEST_SUITE_P(EveryRule, RuleTwins, testing::ValuesIn(twins()),
                         [](const testing::TestParamInfo<Twin>& info) { return info.param.name; });

TEST(RuleTwins, EveryRuleHasATwin) {
    std::vector<Twin> cases = twins();
    for (Rule rule : all_rules()) {
        bool covered = std::any_of(cases.begin(), cases.end(), [&](const Twin& t) { return t.rule == rule; });
        EXPECT_TRUE(covered) << rule_id(rule);
    }
}

// After a helper that may move the packet, packet pointers are stale wherever they are: in
// registers and spilled on the stack. As in the kernel, unprivileged rules make them unreadable,
// privileged ones numbers; either way they cannot be dereferenced.
TEST(StalePointers, PacketPointersSpilledBeforeAdjustHeadCannotBeUsed) {
    const std::string head =
        "mov %r6, %r1\n"
        "ldxw %r2, [%r1+0]\n"
        "ldxw %r3, [%r1+4]\n"
        "mov %r4, %r2\n"
        "add %r4, 14\n"
        "jgt %r4, %r3, out\n"
        "stxdw [%r10-8], %r2\n"
        "mov %r7, %r2\n"
        "mov %r1, %r6\n"
        "mov %r2, 0\n"
        "call 44\n";
    const std::string out = "out:\nmov %r0, 0\nexit\n";
    struct Case {
        std::string use;
        bool privileged;
        Rule rule;
    };
    const Case cases[] = {
        {"ldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n", false, Rule::UninitializedRegister},
        {"ldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n", true, Rule::InvalidMemoryAccess},
        {"ldxw %r2, [%r10-8]\nmov %r0, 0\nexit\n", false, Rule::UninitializedStack},
        {"ldxb %r0, [%r7+0]\nexit\n", false, Rule::UninitializedRegister},
        {"ldxb %r0, [%r7+0]\nexit\n", true, Rule::InvalidMemoryAccess},
    };
    for (const Case& c : cases) {
        VerifyOptions options;
        options.privileged = c.privileged;
        Outcome outcome = verify_text(head + c.use + out, ProgramType::Xdp, {}, options);
        ASSERT_EQ(outcome.error, "");
        ASSERT_FALSE(outcome.result.accepted) << c.use;
        EXPECT_EQ(rule_id(outcome.result.diagnostics.front().rule), rule_id(c.rule))
            << c.use << (c.privileged ? " (privileged): " : ": ")
            << outcome.result.diagnostics.front().message;
    }
    // Reloading data from the context after the call is the fix.
    Outcome reloaded =
        verify_text(head +
                        "ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, out\n"
                        "ldxb %r0, [%r2+0]\nexit\n" +
                        out,
                    ProgramType::Xdp);
    EXPECT_TRUE(reloaded.result.accepted)
        << (reloaded.result.diagnostics.empty() ? "" : reloaded.result.diagnostics.front().message);
}

TEST(RuleIds, RoundTripAndAreUnique) {
    std::vector<std::string_view> seen;
    for (Rule rule : all_rules()) {
        EXPECT_EQ(rule_from_id(rule_id(rule)), rule);
        EXPECT_FALSE(rule_description(rule).empty());
        EXPECT_EQ(std::count(seen.begin(), seen.end(), rule_id(rule)), 0);
        seen.push_back(rule_id(rule));
    }
    EXPECT_FALSE(rule_from_id("no-such-rule").has_value());
}

}  // namespace
}  // namespace bpfvm::verifier
