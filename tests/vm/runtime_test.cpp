// The runtime on small assembled programs: context rewriting, helper argument checks, maps
// through helpers, tail calls, callbacks and events. The corpus tests run clang-built objects.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/vm/interpreter.hpp"
#include "bpfvm/vm/runtime.hpp"
#include "runtime_impl.hpp"
#include "vm/vm_test_support.hpp"

namespace bpfvm::vm {
namespace {

// Assembles text whose `lddw` lines may refer to maps and functions: `lddw %rN, map:K` is map K
// (BPF_PSEUDO_MAP_IDX), `lddw %rN, value:K` the value of map K, `lddw %rN, func:LABEL_OFFSET`
// the function LABEL_OFFSET slots after the lddw (BPF_PSEUDO_FUNC, as clang emits it).
isa::Program assemble(const std::string& text) {
    // One pass over the lines: strip the tags, remember which slot each tagged lddw lands in.
    std::vector<std::pair<size_t, uint8_t>> patches;  // slot, pseudo source
    std::string plain;
    size_t slot = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        for (auto [tag, src] : {std::pair<std::string, uint8_t>{"map:", isa::kPseudoMapIndex},
                                {"value:", isa::kPseudoMapIndexValue},
                                {"func:", isa::kPseudoFunc}}) {
            if (auto at = line.find(tag); at != std::string::npos) {
                line.erase(at, tag.size());
                patches.emplace_back(slot, src);
            }
        }
        const auto first = line.find_first_not_of(" \t");
        const bool instruction = first != std::string::npos && line[first] != '#' && line.back() != ':';
        if (instruction) slot += line.compare(first, 4, "lddw") == 0 ? 2 : 1;
        plain += line + "\n";
    }
    auto slots = isa::assemble(plain);
    EXPECT_TRUE(slots.ok()) << (slots ? "" : slots.error().to_string());
    if (!slots) return {};
    for (auto [at, src] : patches)
        (*slots)[at].regs = isa::RawInstruction::pack_regs((*slots)[at].dst(), src);
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
    EXPECT_TRUE(program.ok()) << (program ? "" : program.error().to_string());
    return program ? std::move(*program) : isa::Program{};
}

ProgramSpec program(std::string name, isa::ProgramType type, const std::string& text) {
    ProgramSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.code = assemble(text);
    return spec;
}

std::unique_ptr<Runtime> make(std::vector<MapSpec> maps, std::vector<ProgramSpec> programs,
                              RuntimeOptions options = {}) {
    auto runtime = Runtime::create(std::move(maps), std::move(programs), std::move(options));
    EXPECT_TRUE(runtime.ok()) << (runtime ? "" : runtime.error().to_string());
    return runtime ? std::move(*runtime) : nullptr;
}

RunOutcome run(Runtime& runtime, ProgramId id, RunRequest request = {}) {
    Interpreter engine;
    auto outcome = runtime.run(id, request, engine);
    EXPECT_TRUE(outcome.ok()) << (outcome ? "" : outcome.error().to_string());
    return outcome ? std::move(*outcome) : RunOutcome{};
}

std::vector<uint8_t> packet(size_t size) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i + 1);
    return bytes;
}

TEST(RuntimeContext, XdpPacketPointersAreRealPointers) {
    auto rt =
        make({}, {program("len", isa::ProgramType::Xdp,
                          "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit"),
                  program("first", isa::ProgramType::Xdp, "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+1]\nexit")});
    RunRequest request;
    request.packet = packet(60);
    EXPECT_EQ(run(*rt, 0, request).r0, 60u);
    EXPECT_EQ(run(*rt, 1, request).r0, 2u);
}

TEST(RuntimeContext, SpilledContextPointerIsFollowed) {
    auto rt = make({}, {program("spill", isa::ProgramType::Xdp,
                                "stxdw [%r10-8], %r1\nmov %r1, 0\nldxdw %r6, [%r10-8]\n"
                                "ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r0, %r3\nsub %r0, %r2\nexit")});
    RunRequest request;
    request.packet = packet(42);
    EXPECT_EQ(run(*rt, 0, request).r0, 42u);
}

TEST(RuntimeContext, SubprogramsReceivingTheContextAreRewrittenToo) {
    // main passes the context to a subprogram that measures the packet.
    auto rt = make({}, {program("sub", isa::ProgramType::Xdp,
                                "call local measure\nexit\nmeasure:\nldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n"
                                "mov %r0, %r3\nsub %r0, %r2\nexit")});
    RunRequest request;
    request.packet = packet(33);
    EXPECT_EQ(run(*rt, 0, request).r0, 33u);
}

TEST(RuntimeContext, XdpHeadAndTailAdjustmentsMoveThePacket) {
    // bpf_xdp_adjust_head(ctx, -4) then bpf_xdp_adjust_tail(ctx, 10): 4 + 20 + 10 bytes.
    auto rt = make({}, {program("adjust", isa::ProgramType::Xdp,
                                "mov %r6, %r1\nmov %r2, -4\ncall 44\njne %r0, 0, fail\n"
                                "mov %r1, %r6\nmov %r2, 10\ncall 65\njne %r0, 0, fail\n"
                                "ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nstb [%r2+0], 0xaa\n"
                                "mov %r0, %r3\nsub %r0, %r2\nexit\nfail:\nmov %r0, 1000\nexit")});
    RunRequest request;
    request.packet = packet(20);
    RunOutcome outcome = run(*rt, 0, request);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    EXPECT_EQ(outcome.r0, 34u);
    ASSERT_EQ(outcome.packet.size(), 34u);
    EXPECT_EQ(outcome.packet[0], 0xaa);  // the byte the program wrote into the new head
    EXPECT_EQ(outcome.packet[4], 1);     // the original first byte
    EXPECT_EQ(outcome.packet[33], 0);    // the grown tail is zeroed
}

TEST(RuntimeContext, ReadingPastThePacketFaults) {
    auto rt =
        make({}, {program("past", isa::ProgramType::Xdp, "ldxw %r2, [%r1+4]\nldxb %r0, [%r2+0]\nexit")});
    RunRequest request;
    request.packet = packet(20);
    RunOutcome outcome = run(*rt, 0, request);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::MemoryFault);
}

TEST(RuntimeContext, AccessesTheKernelRefusesAreErrors) {
    const std::pair<const char*, const char*> cases[] = {
        {"ldxh %r2, [%r1+0]\nmov %r0, 0\nexit", "must be accessed whole"},
        {"stw [%r1+12], 1\nmov %r0, 0\nexit", "may not be written"},
        {"add %r1, 4\nldxw %r0, [%r1+0]\nexit", "plus an offset"},
        {"mov %r2, %r10\njeq %r3, 0, +1\nmov %r2, %r1\nldxw %r0, [%r2-8]\nexit", "on some paths"},
        {"ldxw %r0, [%r1+24]\nexit", "past its end"},
        {"mov %r2, 1\nlock add [%r1+12], %r2\nmov %r0, 0\nexit", "atomic"},
    };
    for (const auto& [text, why] : cases) {
        auto rt = make({}, {program("bad", isa::ProgramType::Xdp, text)});
        auto prepared = rt->prepared(0);
        ASSERT_FALSE(prepared.ok()) << text;
        EXPECT_EQ(prepared.error().kind, ErrorKind::InvalidContextAccess) << text;
        EXPECT_NE(prepared.error().message.find(why), std::string::npos) << prepared.error().message;
        Interpreter engine;
        EXPECT_FALSE(rt->run(0, {}, engine).ok()) << text;
    }
}

TEST(RuntimeContext, TcProgramsWriteMarkAndReadProtocol) {
    auto rt = make({}, {program("tc", isa::ProgramType::SchedCls,
                                "stw [%r1+8], 77\nldxw %r0, [%r1+16]\nldxw %r2, [%r1+8]\nlsh %r2, 16\n"
                                "or %r0, %r2\nexit")});
    RunRequest request;
    request.packet = packet(60);
    request.packet[12] = 0x08;
    request.packet[13] = 0x00;
    // protocol is the EtherType as it lies in the frame (big-endian 0x0800 reads as 0x0008).
    EXPECT_EQ(run(*rt, 0, request).r0, (77u << 16) | 0x0008u);
}

TEST(RuntimeContext, SocketFiltersSeeThePacketFromTheNetworkHeader) {
    auto rt = make({}, {program("len", isa::ProgramType::SocketFilter, "ldxw %r0, [%r1+0]\nexit"),
                        program("abs", isa::ProgramType::SocketFilter, "ldabsb 0\nexit")});
    RunRequest request;
    request.packet = packet(60);
    EXPECT_EQ(run(*rt, 0, request).r0, 46u);
    EXPECT_EQ(run(*rt, 1, request).r0, 15u);  // the byte after the 14-byte Ethernet header
}

constexpr const char* kCountInHash =
    "mov %r6, 7\n"
    "stxw [%r10-4], %r6\n"
    "lddw %r1, map:0\n"
    "mov %r2, %r10\n"
    "add %r2, -4\n"
    "call 1\n"
    "jne %r0, 0, found\n"
    "stdw [%r10-16], 1\n"
    "lddw %r1, map:0\n"
    "mov %r2, %r10\n"
    "add %r2, -4\n"
    "mov %r3, %r10\n"
    "add %r3, -16\n"
    "mov %r4, 1\n"  // BPF_NOEXIST
    "call 2\n"
    "mov %r0, 1\n"
    "exit\n"
    "found:\n"
    "ldxdw %r1, [%r0+0]\n"
    "add %r1, 1\n"
    "stxdw [%r0+0], %r1\n"
    "mov %r0, %r1\n"
    "exit";

TEST(RuntimeMaps, HelpersUpdateAndLookUpThroughValuePointers) {
    auto rt = make({test::make_spec("counts", isa::MapType::Hash, 4, 8, 16)},
                   {program("count", isa::ProgramType::Bytes, kCountInHash)});
    EXPECT_EQ(run(*rt, 0).r0, 1u);
    EXPECT_EQ(run(*rt, 0).r0, 2u);
    EXPECT_EQ(run(*rt, 0).r0, 3u);
    auto* counts = dynamic_cast<ElementMap*>(&rt->map(0));
    ASSERT_NE(counts, nullptr);
    const uint32_t key = 7;
    auto value = counts->read(std::span(reinterpret_cast<const uint8_t*>(&key), 4));
    ASSERT_TRUE(value.has_value());
    uint64_t stored = 0;
    std::memcpy(&stored, value->data(), 8);
    EXPECT_EQ(stored, 3u);
}

TEST(RuntimeMaps, PerCpuValuesAreKeptPerCpu) {
    RuntimeOptions options;
    options.map_limits.cpus = 4;
    auto rt = make({test::make_spec("totals", isa::MapType::PercpuArray, 4, 8, 1)},
                   {program("add", isa::ProgramType::Bytes,
                            "stw [%r10-4], 0\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
                            "jeq %r0, 0, out\nldxdw %r1, [%r0+0]\nadd %r1, 5\nstxdw [%r0+0], %r1\n"
                            "out:\ncall 8\nexit")},
                   options);
    RunRequest request;
    request.cpu = 2;
    EXPECT_EQ(run(*rt, 0, request).r0, 2u);  // get_smp_processor_id
    auto* totals = dynamic_cast<ElementMap*>(&rt->map(0));
    const uint32_t key = 0;
    auto values = totals->read(std::span(reinterpret_cast<const uint8_t*>(&key), 4));
    ASSERT_TRUE(values.has_value());
    ASSERT_EQ(values->size(), 32u);
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
        uint64_t v = 0;
        std::memcpy(&v, values->data() + 8 * cpu, 8);
        EXPECT_EQ(v, cpu == 2 ? 5u : 0u) << "cpu " << cpu;
    }
    request.cpu = 4;
    Interpreter engine;
    EXPECT_FALSE(rt->run(0, request, engine).ok());  // no such CPU
}

TEST(RuntimeHelpers, KeyPastTheStackNamesHelperAndArgument) {
    auto rt = make({test::make_spec("counts", isa::MapType::Hash, 4, 8, 16)},
                   {program("bad_key", isa::ProgramType::Bytes,
                            "lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -2\ncall 1\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::HelperArgument);
    EXPECT_NE(outcome.error->message.find("bpf_map_lookup_elem argument 2"), std::string::npos)
        << outcome.error->message;
    EXPECT_NE(outcome.error->message.find("key of map 'counts'"), std::string::npos)
        << outcome.error->message;
    EXPECT_EQ(outcome.error->where.instruction, 4u);
}

TEST(RuntimeHelpers, SizeLargerThanTheBufferIsRefused) {
    auto rt = make({}, {program("big", isa::ProgramType::Bytes,
                                "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 64\ncall 6\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::HelperArgument);
    EXPECT_NE(outcome.error->message.find("bpf_trace_printk argument 1"), std::string::npos)
        << outcome.error->message;
    EXPECT_NE(outcome.error->message.find("64 bytes"), std::string::npos) << outcome.error->message;
}

TEST(RuntimeHelpers, ValuesThatAreNotMapsAreRefused) {
    auto rt = make({}, {program("fake", isa::ProgramType::Bytes,
                                "mov %r1, %r10\nmov %r2, %r10\nadd %r2, -8\ncall 1\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_NE(outcome.error->message.find("which is not a map"), std::string::npos) << outcome.error->message;
}

TEST(RuntimeHelpers, HelpersOfOtherProgramTypesAndUnimplementedOnesAreNamed) {
    auto rt = make({}, {program("tracing_only", isa::ProgramType::Xdp, "call 15\nexit"),
                        program("unimplemented", isa::ProgramType::Kprobe, "call 105\nexit")});
    RunRequest request;
    request.packet = packet(20);
    RunOutcome outcome = run(*rt, 0, request);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_NE(outcome.error->message.find("bpf_get_current_uid_gid is not available to xdp programs"),
              std::string::npos)
        << outcome.error->message;
    outcome = run(*rt, 1);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::UnknownHelper);
    EXPECT_NE(outcome.error->message.find("bpf_strtol"), std::string::npos) << outcome.error->message;
}

TEST(RuntimeHelpers, EmbeddersAddHelpersWithPrototypes) {
    // Helper 1000 sums `size` bytes at `pointer`; its prototype says so, so the runtime checks
    // the memory before the helper sees it.
    auto rt = make({}, {program("sum", isa::ProgramType::Bytes,
                                "stdw [%r10-8], 0x01020304\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\n"
                                "call 1000\nexit"),
                        program("overrun", isa::ProgramType::Bytes,
                                "mov %r1, %r10\nadd %r1, -8\nmov %r2, 16\ncall 1000\nexit")});
    isa::HelperPrototype prototype{};
    prototype.id = 1000;
    prototype.name = "sum_bytes";
    prototype.known = true;
    prototype.ret = isa::ReturnKind::Integer;
    prototype.args = {isa::ArgKind::PtrToReadonlyMem, isa::ArgKind::ConstSize};
    prototype.arg_count = 2;
    prototype.callers = isa::ProgramTypeSet::every_type();
    rt->add_helper(prototype, [](const HelperCall& call) -> Result<HelperReturn> {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < call.args[1]; ++i) sum += reinterpret_cast<const uint8_t*>(call.args[0])[i];
        return HelperReturn{sum};
    });
    EXPECT_EQ(run(*rt, 0).r0, 10u);
    RunOutcome outcome = run(*rt, 1);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::HelperArgument);
    EXPECT_NE(outcome.error->message.find("bpf_sum_bytes argument 1"), std::string::npos)
        << outcome.error->message;
}

TEST(RuntimeHelpers, EveryImplementedHelperHasAPrototypeAndIsInstalled) {
    // install_kernel_helpers skips a name without a prototype: none may be missing.
    auto rt = make({}, {});
    const auto names = kernel_helper_names();
    EXPECT_GE(names.size(), 50u);
    for (std::string_view name : names) {
        const isa::HelperPrototype* prototype = isa::helper_by_name(name);
        ASSERT_NE(prototype, nullptr) << name;
        EXPECT_TRUE(prototype->known) << name;
        EXPECT_NE(rt->helpers().find(prototype->id), nullptr) << name;
    }
}

TEST(RuntimeHelpers, TracePrintkFormatsLines) {
    // "n=%d\n" on the stack, as clang builds short strings.
    auto rt = make({}, {program("print", isa::ProgramType::Bytes,
                                "lddw %r1, 0x000a64253d6e\nstxdw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\n"
                                "mov %r2, 8\nmov %r3, 42\ncall 6\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    ASSERT_EQ(outcome.printk.size(), 1u);
    EXPECT_EQ(outcome.printk[0], "n=42");
    EXPECT_EQ(outcome.r0, 5u);  // bytes written, newline included
}

TEST(RuntimeTailCalls, AtMost33TailCallsFollowOneRun) {
    // Each run of the program adds one to a counter and tail-calls itself through slot 0.
    auto rt = make({test::make_spec("jump", isa::MapType::ProgArray, 4, 4, 1),
                    test::make_spec("counter", isa::MapType::Array, 4, 8, 1)},
                   {program("again", isa::ProgramType::Xdp,
                            "mov %r6, %r1\n"
                            "lddw %r2, value:1\n"
                            "mov %r3, 1\n"
                            "lock add [%r2+0], %r3\n"
                            "mov %r1, %r6\n"
                            "lddw %r2, map:0\n"
                            "mov %r3, 0\n"
                            "call 12\n"
                            "lddw %r2, value:1\n"
                            "ldxdw %r0, [%r2+0]\n"
                            "exit")});
    const uint32_t slot = 0;
    ASSERT_TRUE(rt->set_reference(0, std::span(reinterpret_cast<const uint8_t*>(&slot), 4), 0).ok());
    RunRequest request;
    request.packet = packet(20);
    RunOutcome outcome = run(*rt, 0, request);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    EXPECT_EQ(outcome.r0, 34u);  // the first run and 33 tail calls
}

TEST(RuntimeCallbacks, LoopCallsTheCallbackUntilItStops) {
    // bpf_loop(10, cb, &sum, 0) where cb(i, ctx) adds i to *ctx and stops after i == 4.
    auto rt = make({}, {program("loop", isa::ProgramType::Bytes,
                                "stdw [%r10-8], 0\n"
                                "mov %r1, 10\n"
                                "lddw %r2, func:9\n"
                                "mov %r3, %r10\n"
                                "add %r3, -8\n"
                                "mov %r4, 0\n"
                                "call 181\n"
                                "ldxdw %r1, [%r10-8]\n"
                                "lsh %r0, 32\n"
                                "or %r0, %r1\n"
                                "exit\n"
                                "ldxdw %r3, [%r2+0]\n"
                                "add %r3, %r1\n"
                                "stxdw [%r2+0], %r3\n"
                                "mov %r0, 0\n"
                                "jne %r1, 4, +1\n"
                                "mov %r0, 1\n"
                                "exit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    EXPECT_EQ(outcome.r0 >> 32, 5u);          // iterations, the stopping one included
    EXPECT_EQ(outcome.r0 & 0xffffffff, 10u);  // 0 + 1 + 2 + 3 + 4
}

TEST(RuntimeCallbacks, ForEachMapElemVisitsEveryElement) {
    // The callback adds key * 100 + value into the context; r0 = visited << 32 | sum. The second
    // program's callback writes to the key, which it may only read.
    const std::string main_part =
        "stdw [%r10-8], 0\nlddw %r1, map:0\nlddw %r2, func:9\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 164\nldxdw %r1, [%r10-8]\nlsh %r0, 32\nor %r0, %r1\nexit\n";
    auto rt =
        make({test::make_spec("table", isa::MapType::Hash, 4, 8, 8)},
             {program("sum", isa::ProgramType::Bytes,
                      main_part + "ldxw %r6, [%r2+0]\nmul %r6, 100\nldxdw %r7, [%r3+0]\nadd %r6, %r7\n"
                                  "ldxdw %r8, [%r4+0]\nadd %r8, %r6\nstxdw [%r4+0], %r8\nmov %r0, 0\nexit"),
              program("write_key", isa::ProgramType::Bytes, main_part + "stw [%r2+0], 9\nmov %r0, 0\nexit")});
    auto* table = dynamic_cast<ElementMap*>(&rt->map(0));
    for (auto [key, value] : {std::pair<uint32_t, uint64_t>{1, 5}, {2, 7}, {3, 11}}) {
        ASSERT_EQ(table->write(std::span(reinterpret_cast<const uint8_t*>(&key), 4),
                               std::span(reinterpret_cast<const uint8_t*>(&value), 8), kUpdateAny),
                  0);
    }
    RunOutcome outcome = run(*rt, 0);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    EXPECT_EQ(outcome.r0 >> 32, 3u);
    EXPECT_EQ(outcome.r0 & 0xffffffff, 623u);
    outcome = run(*rt, 1);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, ErrorKind::MemoryFault);
    EXPECT_NE(outcome.error->message.find("for_each_map_elem key"), std::string::npos)
        << outcome.error->message;
}

TEST(RuntimeCallbacks, CallbackMustBeAFunction) {
    auto rt = make(
        {}, {program("wild", isa::ProgramType::Bytes,
                     "mov %r1, 3\nlddw %r2, 0xbf0f000000000002\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_NE(outcome.error->message.find("not a function"), std::string::npos) << outcome.error->message;
}

TEST(RuntimeEvents, RingBufferRecordsReachTheReader) {
    MapSpec ring = test::make_spec("events", isa::MapType::Ringbuf, 0, 0, 4096);
    auto rt =
        make({ring}, {program("emit", isa::ProgramType::Bytes,
                              "lddw %r1, map:0\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, out\n"
                              "lddw %r1, 0x1122334455667788\nstxdw [%r0+0], %r1\nmov %r1, %r0\nmov %r2, 0\n"
                              "call 132\nout:\nmov %r0, 0\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->to_string();
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_EQ(outcome.events[0].map, "events");
    EXPECT_EQ(outcome.events[0].data, (std::vector<uint8_t>{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}));
}

TEST(RuntimeEvents, SubmittingSomethingElseIsAnError) {
    MapSpec ring = test::make_spec("events", isa::MapType::Ringbuf, 0, 0, 4096);
    auto rt = make({ring}, {program("bogus", isa::ProgramType::Bytes,
                                    "mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nexit")});
    RunOutcome outcome = run(*rt, 0);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_NE(outcome.error->message.find("bpf_ringbuf_submit"), std::string::npos) << outcome.error->message;
}

}  // namespace
}  // namespace bpfvm::vm
