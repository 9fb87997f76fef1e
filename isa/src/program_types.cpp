#include "bpfvm/isa/program_types.hpp"

#include <algorithm>
#include <array>

namespace bpfvm::isa {
namespace {

struct ProgramTypeName {
    ProgramType type;
    std::string_view name;
};

constexpr ProgramTypeName kProgramTypes[] = {
    {ProgramType::Unspec, "unspec"},
    {ProgramType::SocketFilter, "socket_filter"},
    {ProgramType::Kprobe, "kprobe"},
    {ProgramType::SchedCls, "sched_cls"},
    {ProgramType::SchedAct, "sched_act"},
    {ProgramType::Tracepoint, "tracepoint"},
    {ProgramType::Xdp, "xdp"},
    {ProgramType::PerfEvent, "perf_event"},
    {ProgramType::CgroupSkb, "cgroup_skb"},
    {ProgramType::CgroupSock, "cgroup_sock"},
    {ProgramType::LwtIn, "lwt_in"},
    {ProgramType::LwtOut, "lwt_out"},
    {ProgramType::LwtXmit, "lwt_xmit"},
    {ProgramType::SockOps, "sock_ops"},
    {ProgramType::SkSkb, "sk_skb"},
    {ProgramType::CgroupDevice, "cgroup_device"},
    {ProgramType::SkMsg, "sk_msg"},
    {ProgramType::RawTracepoint, "raw_tracepoint"},
    {ProgramType::CgroupSockAddr, "cgroup_sock_addr"},
    {ProgramType::LwtSeg6local, "lwt_seg6local"},
    {ProgramType::LircMode2, "lirc_mode2"},
    {ProgramType::SkReuseport, "sk_reuseport"},
    {ProgramType::FlowDissector, "flow_dissector"},
    {ProgramType::CgroupSysctl, "cgroup_sysctl"},
    {ProgramType::RawTracepointWritable, "raw_tracepoint_writable"},
    {ProgramType::CgroupSockopt, "cgroup_sockopt"},
    {ProgramType::Tracing, "tracing"},
    {ProgramType::StructOps, "struct_ops"},
    {ProgramType::Ext, "ext"},
    {ProgramType::Lsm, "lsm"},
    {ProgramType::SkLookup, "sk_lookup"},
    {ProgramType::Syscall, "syscall"},
    {ProgramType::Netfilter, "netfilter"},
    {ProgramType::Bytes, "bytes"},
};

constexpr std::string_view kMapTypeNames[] = {
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
};

constexpr auto kAllProgramTypes = [] {
    std::array<ProgramType, std::size(kProgramTypes)> types{};
    for (size_t i = 0; i < types.size(); ++i) types[i] = kProgramTypes[i].type;
    return types;
}();

constexpr auto kAllMapTypes = [] {
    std::array<MapType, std::size(kMapTypeNames)> types{};
    for (size_t i = 0; i < types.size(); ++i) types[i] = static_cast<MapType>(i);
    return types;
}();

struct SectionRule {
    std::string_view pattern;  // a trailing '+' also accepts "pattern/anything"
    ProgramType type;
    std::string_view attach;
    bool sleepable = false;
};

// libbpf's section definitions (libbpf.c section_defs), most specific first where one name is a
// prefix of another.
constexpr SectionRule kSectionRules[] = {
    {"socket", ProgramType::SocketFilter, ""},
    {"sk_reuseport/migrate", ProgramType::SkReuseport, "sk_reuseport_select_or_migrate"},
    {"sk_reuseport", ProgramType::SkReuseport, "sk_reuseport_select"},
    {"kprobe+", ProgramType::Kprobe, ""},
    {"uprobe+", ProgramType::Kprobe, ""},
    {"uprobe.s+", ProgramType::Kprobe, "", true},
    {"kretprobe+", ProgramType::Kprobe, ""},
    {"uretprobe+", ProgramType::Kprobe, ""},
    {"uretprobe.s+", ProgramType::Kprobe, "", true},
    {"kprobe.multi+", ProgramType::Kprobe, "trace_kprobe_multi"},
    {"kretprobe.multi+", ProgramType::Kprobe, "trace_kprobe_multi"},
    {"kprobe.session+", ProgramType::Kprobe, "trace_kprobe_session"},
    {"uprobe.multi+", ProgramType::Kprobe, "trace_uprobe_multi"},
    {"uretprobe.multi+", ProgramType::Kprobe, "trace_uprobe_multi"},
    {"uprobe.multi.s+", ProgramType::Kprobe, "trace_uprobe_multi", true},
    {"uretprobe.multi.s+", ProgramType::Kprobe, "trace_uprobe_multi", true},
    {"ksyscall+", ProgramType::Kprobe, ""},
    {"kretsyscall+", ProgramType::Kprobe, ""},
    {"usdt+", ProgramType::Kprobe, ""},
    {"usdt.s+", ProgramType::Kprobe, "", true},
    {"tc/ingress", ProgramType::SchedCls, "tcx_ingress"},
    {"tc/egress", ProgramType::SchedCls, "tcx_egress"},
    {"tcx/ingress", ProgramType::SchedCls, "tcx_ingress"},
    {"tcx/egress", ProgramType::SchedCls, "tcx_egress"},
    {"netkit/primary", ProgramType::SchedCls, "netkit_primary"},
    {"netkit/peer", ProgramType::SchedCls, "netkit_peer"},
    {"tc", ProgramType::SchedCls, ""},
    {"classifier", ProgramType::SchedCls, ""},
    {"action", ProgramType::SchedAct, ""},
    {"tracepoint+", ProgramType::Tracepoint, ""},
    {"tp+", ProgramType::Tracepoint, ""},
    {"raw_tracepoint+", ProgramType::RawTracepoint, ""},
    {"raw_tp+", ProgramType::RawTracepoint, ""},
    {"raw_tracepoint.w+", ProgramType::RawTracepointWritable, ""},
    {"raw_tp.w+", ProgramType::RawTracepointWritable, ""},
    {"tp_btf+", ProgramType::Tracing, "trace_raw_tp"},
    {"fentry+", ProgramType::Tracing, "trace_fentry"},
    {"fmod_ret+", ProgramType::Tracing, "modify_return"},
    {"fexit+", ProgramType::Tracing, "trace_fexit"},
    {"fentry.s+", ProgramType::Tracing, "trace_fentry", true},
    {"fmod_ret.s+", ProgramType::Tracing, "modify_return", true},
    {"fexit.s+", ProgramType::Tracing, "trace_fexit", true},
    {"freplace+", ProgramType::Ext, ""},
    {"lsm+", ProgramType::Lsm, "lsm_mac"},
    {"lsm.s+", ProgramType::Lsm, "lsm_mac", true},
    {"lsm_cgroup+", ProgramType::Lsm, "lsm_cgroup"},
    {"iter+", ProgramType::Tracing, "trace_iter"},
    {"iter.s+", ProgramType::Tracing, "trace_iter", true},
    {"syscall", ProgramType::Syscall, "", true},
    {"xdp.frags/devmap", ProgramType::Xdp, "xdp_devmap"},
    {"xdp/devmap", ProgramType::Xdp, "xdp_devmap"},
    {"xdp.frags/cpumap", ProgramType::Xdp, "xdp_cpumap"},
    {"xdp/cpumap", ProgramType::Xdp, "xdp_cpumap"},
    {"xdp.frags", ProgramType::Xdp, "xdp"},
    {"xdp", ProgramType::Xdp, "xdp"},
    {"perf_event", ProgramType::PerfEvent, ""},
    {"lwt_in", ProgramType::LwtIn, ""},
    {"lwt_out", ProgramType::LwtOut, ""},
    {"lwt_xmit", ProgramType::LwtXmit, ""},
    {"lwt_seg6local", ProgramType::LwtSeg6local, ""},
    {"sockops", ProgramType::SockOps, "cgroup_sock_ops"},
    {"sk_skb/stream_parser", ProgramType::SkSkb, "sk_skb_stream_parser"},
    {"sk_skb/stream_verdict", ProgramType::SkSkb, "sk_skb_stream_verdict"},
    {"sk_skb/verdict", ProgramType::SkSkb, "sk_skb_verdict"},
    {"sk_skb", ProgramType::SkSkb, ""},
    {"sk_msg", ProgramType::SkMsg, "sk_msg_verdict"},
    {"lirc_mode2", ProgramType::LircMode2, "lirc_mode2"},
    {"flow_dissector", ProgramType::FlowDissector, "flow_dissector"},
    {"cgroup_skb/ingress", ProgramType::CgroupSkb, "cgroup_inet_ingress"},
    {"cgroup_skb/egress", ProgramType::CgroupSkb, "cgroup_inet_egress"},
    {"cgroup/skb", ProgramType::CgroupSkb, ""},
    {"cgroup/sock_create", ProgramType::CgroupSock, "cgroup_inet_sock_create"},
    {"cgroup/sock_release", ProgramType::CgroupSock, "cgroup_inet_sock_release"},
    {"cgroup/sock", ProgramType::CgroupSock, "cgroup_inet_sock_create"},
    {"cgroup/post_bind4", ProgramType::CgroupSock, "cgroup_inet4_post_bind"},
    {"cgroup/post_bind6", ProgramType::CgroupSock, "cgroup_inet6_post_bind"},
    {"cgroup/bind4", ProgramType::CgroupSockAddr, "cgroup_inet4_bind"},
    {"cgroup/bind6", ProgramType::CgroupSockAddr, "cgroup_inet6_bind"},
    {"cgroup/connect4", ProgramType::CgroupSockAddr, "cgroup_inet4_connect"},
    {"cgroup/connect6", ProgramType::CgroupSockAddr, "cgroup_inet6_connect"},
    {"cgroup/connect_unix", ProgramType::CgroupSockAddr, "cgroup_unix_connect"},
    {"cgroup/sendmsg4", ProgramType::CgroupSockAddr, "cgroup_udp4_sendmsg"},
    {"cgroup/sendmsg6", ProgramType::CgroupSockAddr, "cgroup_udp6_sendmsg"},
    {"cgroup/sendmsg_unix", ProgramType::CgroupSockAddr, "cgroup_unix_sendmsg"},
    {"cgroup/recvmsg4", ProgramType::CgroupSockAddr, "cgroup_udp4_recvmsg"},
    {"cgroup/recvmsg6", ProgramType::CgroupSockAddr, "cgroup_udp6_recvmsg"},
    {"cgroup/recvmsg_unix", ProgramType::CgroupSockAddr, "cgroup_unix_recvmsg"},
    {"cgroup/getpeername4", ProgramType::CgroupSockAddr, "cgroup_inet4_getpeername"},
    {"cgroup/getpeername6", ProgramType::CgroupSockAddr, "cgroup_inet6_getpeername"},
    {"cgroup/getpeername_unix", ProgramType::CgroupSockAddr, "cgroup_unix_getpeername"},
    {"cgroup/getsockname4", ProgramType::CgroupSockAddr, "cgroup_inet4_getsockname"},
    {"cgroup/getsockname6", ProgramType::CgroupSockAddr, "cgroup_inet6_getsockname"},
    {"cgroup/getsockname_unix", ProgramType::CgroupSockAddr, "cgroup_unix_getsockname"},
    {"cgroup/sysctl", ProgramType::CgroupSysctl, "cgroup_sysctl"},
    {"cgroup/getsockopt", ProgramType::CgroupSockopt, "cgroup_getsockopt"},
    {"cgroup/setsockopt", ProgramType::CgroupSockopt, "cgroup_setsockopt"},
    {"cgroup/dev", ProgramType::CgroupDevice, "cgroup_device"},
    {"struct_ops+", ProgramType::StructOps, ""},
    {"struct_ops.s+", ProgramType::StructOps, "", true},
    {"sk_lookup", ProgramType::SkLookup, "sk_lookup"},
    {"netfilter", ProgramType::Netfilter, "netfilter"},
};

bool matches(std::string_view pattern, std::string_view section) {
    if (pattern.ends_with('+')) {
        pattern.remove_suffix(1);
        return section.starts_with(pattern) &&
               (section.size() == pattern.size() || section[pattern.size()] == '/');
    }
    return section == pattern;
}

}  // namespace

std::string_view program_type_name(ProgramType type) {
    for (const auto& p : kProgramTypes) {
        if (p.type == type) return p.name;
    }
    return "unknown";
}

std::string_view map_type_name(MapType type) {
    auto index = static_cast<uint32_t>(type);
    return index < std::size(kMapTypeNames) ? kMapTypeNames[index] : "unknown";
}

std::optional<ProgramType> program_type_from_name(std::string_view name) {
    for (const auto& p : kProgramTypes) {
        if (p.name == name) return p.type;
    }
    return std::nullopt;
}

std::optional<MapType> map_type_from_name(std::string_view name) {
    auto it = std::find(std::begin(kMapTypeNames), std::end(kMapTypeNames), name);
    if (it == std::end(kMapTypeNames)) return std::nullopt;
    return static_cast<MapType>(it - std::begin(kMapTypeNames));
}

std::span<const ProgramType> all_program_types() {
    return kAllProgramTypes;
}
std::span<const MapType> all_map_types() {
    return kAllMapTypes;
}

std::optional<SectionType> program_type_for_section(std::string_view section) {
    if (section.starts_with('?')) section.remove_prefix(1);
    for (const auto& rule : kSectionRules) {
        if (matches(rule.pattern, section)) return SectionType{rule.type, rule.attach, rule.sleepable};
    }
    return std::nullopt;
}

std::optional<ReturnRange> return_range(ProgramType type) {
    switch (type) {
        case ProgramType::CgroupSkb:
        case ProgramType::CgroupSock:
        case ProgramType::CgroupDevice:
        case ProgramType::CgroupSysctl:
        case ProgramType::CgroupSockopt:
        case ProgramType::CgroupSockAddr:
        case ProgramType::Netfilter: return ReturnRange{0, 1};
        case ProgramType::SkLookup: return ReturnRange{0, 1};  // SK_DROP, SK_PASS
        case ProgramType::Lsm: return ReturnRange{-4095, 0};   // 0 or -errno
        default: return std::nullopt;
    }
}

bool requires_perfmon(ProgramType type) {
    switch (type) {
        case ProgramType::Kprobe:
        case ProgramType::Tracepoint:
        case ProgramType::PerfEvent:
        case ProgramType::RawTracepoint:
        case ProgramType::RawTracepointWritable:
        case ProgramType::Tracing:
        case ProgramType::Lsm:
        case ProgramType::StructOps:
        case ProgramType::Ext: return true;
        default: return false;
    }
}

bool packet_writable(ProgramType type) {
    switch (type) {
        case ProgramType::SchedCls:
        case ProgramType::SchedAct:
        case ProgramType::Xdp:
        case ProgramType::LwtXmit:
        case ProgramType::SkSkb:
        case ProgramType::SkMsg:
        case ProgramType::Bytes: return true;
        default: return false;
    }
}

std::optional<std::string_view> verdict_name(ProgramType type, uint64_t r0) {
    // enum xdp_action and the TC_ACT_* values of linux/pkt_cls.h.
    static constexpr std::string_view kXdp[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
                                                "XDP_REDIRECT"};
    static constexpr std::string_view kTc[] = {"TC_ACT_OK",     "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
                                               "TC_ACT_PIPE",   "TC_ACT_STOLEN",     "TC_ACT_QUEUED",
                                               "TC_ACT_REPEAT", "TC_ACT_REDIRECT",   "TC_ACT_TRAP"};
    switch (type) {
        case ProgramType::Xdp:
            // The kernel reads the action as a 32-bit value.
            if (static_cast<uint32_t>(r0) < std::size(kXdp)) return kXdp[static_cast<uint32_t>(r0)];
            return std::nullopt;
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: {
            auto action = static_cast<int32_t>(r0);
            if (action == -1) return "TC_ACT_UNSPEC";
            if (action >= 0 && static_cast<size_t>(action) < std::size(kTc)) return kTc[action];
            return std::nullopt;
        }
        default: return std::nullopt;
    }
}

}  // namespace bpfvm::isa
