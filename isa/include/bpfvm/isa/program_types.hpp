// Program and map types of the platform ABI, as data: kernel enum values, libbpf's names and
// libbpf's table from ELF section names (SEC("xdp"), SEC("kprobe/...")) to program types.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace bpfvm::isa {

// enum bpf_prog_type values. Bytes is bpfvm's own "bytes in, r0 out" type for programs built
// for other eBPF runtimes (r1 = data, r2 = length); it has no kernel value.
enum class ProgramType : int32_t {
    Unspec = 0,
    SocketFilter = 1,
    Kprobe = 2,
    SchedCls = 3,
    SchedAct = 4,
    Tracepoint = 5,
    Xdp = 6,
    PerfEvent = 7,
    CgroupSkb = 8,
    CgroupSock = 9,
    LwtIn = 10,
    LwtOut = 11,
    LwtXmit = 12,
    SockOps = 13,
    SkSkb = 14,
    CgroupDevice = 15,
    SkMsg = 16,
    RawTracepoint = 17,
    CgroupSockAddr = 18,
    LwtSeg6local = 19,
    LircMode2 = 20,
    SkReuseport = 21,
    FlowDissector = 22,
    CgroupSysctl = 23,
    RawTracepointWritable = 24,
    CgroupSockopt = 25,
    Tracing = 26,
    StructOps = 27,
    Ext = 28,
    Lsm = 29,
    SkLookup = 30,
    Syscall = 31,
    Netfilter = 32,
    Bytes = -1,
};

// enum bpf_map_type values.
enum class MapType : uint32_t {
    Unspec = 0,
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PerfEventArray = 4,
    PercpuHash = 5,
    PercpuArray = 6,
    StackTrace = 7,
    CgroupArray = 8,
    LruHash = 9,
    LruPercpuHash = 10,
    LpmTrie = 11,
    ArrayOfMaps = 12,
    HashOfMaps = 13,
    Devmap = 14,
    Sockmap = 15,
    Cpumap = 16,
    Xskmap = 17,
    Sockhash = 18,
    CgroupStorage = 19,
    ReuseportSockarray = 20,
    PercpuCgroupStorage = 21,
    Queue = 22,
    Stack = 23,
    SkStorage = 24,
    DevmapHash = 25,
    StructOps = 26,
    Ringbuf = 27,
    InodeStorage = 28,
    TaskStorage = 29,
    BloomFilter = 30,
    UserRingbuf = 31,
    CgrpStorage = 32,
    Arena = 33,
};

// libbpf's names ("xdp", "sched_cls", "bytes"; "hash", "ringbuf"); "unknown" for other values.
std::string_view program_type_name(ProgramType type);
std::string_view map_type_name(MapType type);
std::optional<ProgramType> program_type_from_name(std::string_view name);
std::optional<MapType> map_type_from_name(std::string_view name);
std::span<const ProgramType> all_program_types();
std::span<const MapType> all_map_types();

// What a section name says about its programs.
struct SectionType {
    ProgramType type;
    std::string_view expected_attach_type;  // libbpf's attach type name, empty when none
    bool sleepable;
};

// libbpf's section-name rules: "name" matches exactly, "name+" also matches "name/anything";
// a leading '?' (do not autoload) is ignored. nullopt for a name libbpf does not know.
std::optional<SectionType> program_type_for_section(std::string_view section);

// The values the kernel's verifier lets a program of this type return (check_return_code), when
// it restricts them: cgroup programs return 0 or 1, sk_lookup SK_DROP or SK_PASS, ... nullopt
// for types whose return value is not checked (xdp, tc, tracing, socket filters, syscall).
struct ReturnRange {
    int64_t min;
    int64_t max;
};
std::optional<ReturnRange> return_range(ProgramType type);

// Whether only a loader with CAP_PERFMON may load programs of this type (the kernel's
// is_perfmon_prog_type: tracing, kprobes, perf events, LSM, struct_ops, extensions). Its verifier
// then always applies the privileged rules (pointer leaks and uninitialized stack reads allowed).
bool requires_perfmon(ProgramType type);

// Whether programs of this type may write packet data directly (the kernel's
// may_access_direct_pkt_data for writes); reads only need the context's packet pointers.
bool packet_writable(ProgramType type);

// What a program's return value means to the kernel, for the types whose values have names:
// "XDP_PASS" (xdp), "TC_ACT_SHOT" (sched_cls, sched_act; the low 32 bits, signed). nullopt for
// other types and for values without a name.
std::optional<std::string_view> verdict_name(ProgramType type, uint64_t r0);

}  // namespace bpfvm::isa
