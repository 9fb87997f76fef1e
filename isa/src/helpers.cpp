#include "bpfvm/isa/helpers.hpp"

#include <cstddef>

namespace bpfvm::isa {
namespace {

// Helper names by id, in the order of the kernel's __BPF_FUNC_MAPPER (include/uapi/linux/bpf.h).
// The list is frozen upstream at cgrp_storage_delete (new kernel functions are kfuncs).
constexpr std::string_view kHelperNames[] = {
    "unspec",                          // 0
    "map_lookup_elem",                 // 1
    "map_update_elem",                 // 2
    "map_delete_elem",                 // 3
    "probe_read",                      // 4
    "ktime_get_ns",                    // 5
    "trace_printk",                    // 6
    "get_prandom_u32",                 // 7
    "get_smp_processor_id",            // 8
    "skb_store_bytes",                 // 9
    "l3_csum_replace",                 // 10
    "l4_csum_replace",                 // 11
    "tail_call",                       // 12
    "clone_redirect",                  // 13
    "get_current_pid_tgid",            // 14
    "get_current_uid_gid",             // 15
    "get_current_comm",                // 16
    "get_cgroup_classid",              // 17
    "skb_vlan_push",                   // 18
    "skb_vlan_pop",                    // 19
    "skb_get_tunnel_key",              // 20
    "skb_set_tunnel_key",              // 21
    "perf_event_read",                 // 22
    "redirect",                        // 23
    "get_route_realm",                 // 24
    "perf_event_output",               // 25
    "skb_load_bytes",                  // 26
    "get_stackid",                     // 27
    "csum_diff",                       // 28
    "skb_get_tunnel_opt",              // 29
    "skb_set_tunnel_opt",              // 30
    "skb_change_proto",                // 31
    "skb_change_type",                 // 32
    "skb_under_cgroup",                // 33
    "get_hash_recalc",                 // 34
    "get_current_task",                // 35
    "probe_write_user",                // 36
    "current_task_under_cgroup",       // 37
    "skb_change_tail",                 // 38
    "skb_pull_data",                   // 39
    "csum_update",                     // 40
    "set_hash_invalid",                // 41
    "get_numa_node_id",                // 42
    "skb_change_head",                 // 43
    "xdp_adjust_head",                 // 44
    "probe_read_str",                  // 45
    "get_socket_cookie",               // 46
    "get_socket_uid",                  // 47
    "set_hash",                        // 48
    "setsockopt",                      // 49
    "skb_adjust_room",                 // 50
    "redirect_map",                    // 51
    "sk_redirect_map",                 // 52
    "sock_map_update",                 // 53
    "xdp_adjust_meta",                 // 54
    "perf_event_read_value",           // 55
    "perf_prog_read_value",            // 56
    "getsockopt",                      // 57
    "override_return",                 // 58
    "sock_ops_cb_flags_set",           // 59
    "msg_redirect_map",                // 60
    "msg_apply_bytes",                 // 61
    "msg_cork_bytes",                  // 62
    "msg_pull_data",                   // 63
    "bind",                            // 64
    "xdp_adjust_tail",                 // 65
    "skb_get_xfrm_state",              // 66
    "get_stack",                       // 67
    "skb_load_bytes_relative",         // 68
    "fib_lookup",                      // 69
    "sock_hash_update",                // 70
    "msg_redirect_hash",               // 71
    "sk_redirect_hash",                // 72
    "lwt_push_encap",                  // 73
    "lwt_seg6_store_bytes",            // 74
    "lwt_seg6_adjust_srh",             // 75
    "lwt_seg6_action",                 // 76
    "rc_repeat",                       // 77
    "rc_keydown",                      // 78
    "skb_cgroup_id",                   // 79
    "get_current_cgroup_id",           // 80
    "get_local_storage",               // 81
    "sk_select_reuseport",             // 82
    "skb_ancestor_cgroup_id",          // 83
    "sk_lookup_tcp",                   // 84
    "sk_lookup_udp",                   // 85
    "sk_release",                      // 86
    "map_push_elem",                   // 87
    "map_pop_elem",                    // 88
    "map_peek_elem",                   // 89
    "msg_push_data",                   // 90
    "msg_pop_data",                    // 91
    "rc_pointer_rel",                  // 92
    "spin_lock",                       // 93
    "spin_unlock",                     // 94
    "sk_fullsock",                     // 95
    "tcp_sock",                        // 96
    "skb_ecn_set_ce",                  // 97
    "get_listener_sock",               // 98
    "skc_lookup_tcp",                  // 99
    "tcp_check_syncookie",             // 100
    "sysctl_get_name",                 // 101
    "sysctl_get_current_value",        // 102
    "sysctl_get_new_value",            // 103
    "sysctl_set_new_value",            // 104
    "strtol",                          // 105
    "strtoul",                         // 106
    "sk_storage_get",                  // 107
    "sk_storage_delete",               // 108
    "send_signal",                     // 109
    "tcp_gen_syncookie",               // 110
    "skb_output",                      // 111
    "probe_read_user",                 // 112
    "probe_read_kernel",               // 113
    "probe_read_user_str",             // 114
    "probe_read_kernel_str",           // 115
    "tcp_send_ack",                    // 116
    "send_signal_thread",              // 117
    "jiffies64",                       // 118
    "read_branch_records",             // 119
    "get_ns_current_pid_tgid",         // 120
    "xdp_output",                      // 121
    "get_netns_cookie",                // 122
    "get_current_ancestor_cgroup_id",  // 123
    "sk_assign",                       // 124
    "ktime_get_boot_ns",               // 125
    "seq_printf",                      // 126
    "seq_write",                       // 127
    "sk_cgroup_id",                    // 128
    "sk_ancestor_cgroup_id",           // 129
    "ringbuf_output",                  // 130
    "ringbuf_reserve",                 // 131
    "ringbuf_submit",                  // 132
    "ringbuf_discard",                 // 133
    "ringbuf_query",                   // 134
    "csum_level",                      // 135
    "skc_to_tcp6_sock",                // 136
    "skc_to_tcp_sock",                 // 137
    "skc_to_tcp_timewait_sock",        // 138
    "skc_to_tcp_request_sock",         // 139
    "skc_to_udp6_sock",                // 140
    "get_task_stack",                  // 141
    "load_hdr_opt",                    // 142
    "store_hdr_opt",                   // 143
    "reserve_hdr_opt",                 // 144
    "inode_storage_get",               // 145
    "inode_storage_delete",            // 146
    "d_path",                          // 147
    "copy_from_user",                  // 148
    "snprintf_btf",                    // 149
    "seq_printf_btf",                  // 150
    "skb_cgroup_classid",              // 151
    "redirect_neigh",                  // 152
    "per_cpu_ptr",                     // 153
    "this_cpu_ptr",                    // 154
    "redirect_peer",                   // 155
    "task_storage_get",                // 156
    "task_storage_delete",             // 157
    "get_current_task_btf",            // 158
    "bprm_opts_set",                   // 159
    "ktime_get_coarse_ns",             // 160
    "ima_inode_hash",                  // 161
    "sock_from_file",                  // 162
    "check_mtu",                       // 163
    "for_each_map_elem",               // 164
    "snprintf",                        // 165
    "sys_bpf",                         // 166
    "btf_find_by_name_kind",           // 167
    "sys_close",                       // 168
    "timer_init",                      // 169
    "timer_set_callback",              // 170
    "timer_start",                     // 171
    "timer_cancel",                    // 172
    "get_func_ip",                     // 173
    "get_attach_cookie",               // 174
    "task_pt_regs",                    // 175
    "get_branch_snapshot",             // 176
    "trace_vprintk",                   // 177
    "skc_to_unix_sock",                // 178
    "kallsyms_lookup_name",            // 179
    "find_vma",                        // 180
    "loop",                            // 181
    "strncmp",                         // 182
    "get_func_arg",                    // 183
    "get_func_ret",                    // 184
    "get_func_arg_cnt",                // 185
    "get_retval",                      // 186
    "set_retval",                      // 187
    "xdp_get_buff_len",                // 188
    "xdp_load_bytes",                  // 189
    "xdp_store_bytes",                 // 190
    "copy_from_user_task",             // 191
    "skb_set_tstamp",                  // 192
    "ima_file_hash",                   // 193
    "kptr_xchg",                       // 194
    "map_lookup_percpu_elem",          // 195
    "skc_to_mptcp_sock",               // 196
    "dynptr_from_mem",                 // 197
    "ringbuf_reserve_dynptr",          // 198
    "ringbuf_submit_dynptr",           // 199
    "ringbuf_discard_dynptr",          // 200
    "dynptr_read",                     // 201
    "dynptr_write",                    // 202
    "dynptr_data",                     // 203
    "tcp_raw_gen_syncookie_ipv4",      // 204
    "tcp_raw_gen_syncookie_ipv6",      // 205
    "tcp_raw_check_syncookie_ipv4",    // 206
    "tcp_raw_check_syncookie_ipv6",    // 207
    "ktime_get_tai_ns",                // 208
    "user_ringbuf_drain",              // 209
    "cgrp_storage_get",                // 210
    "cgrp_storage_delete",             // 211
};

constexpr ProgramTypeSet kEveryType = ProgramTypeSet::every_type();
// Types whose kernel helper table is bpf_tracing_func_proto (syscall programs reach it too).
constexpr ProgramTypeSet kTracing{
    ProgramType::Kprobe,        ProgramType::Tracepoint,
    ProgramType::RawTracepoint, ProgramType::RawTracepointWritable,
    ProgramType::PerfEvent,     ProgramType::Tracing,
    ProgramType::Syscall,
};
constexpr ProgramTypeSet kSocketFilter{ProgramType::SocketFilter};
constexpr ProgramTypeSet kTc{ProgramType::SchedCls, ProgramType::SchedAct};
constexpr ProgramTypeSet kXdp{ProgramType::Xdp};
constexpr ProgramTypeSet kBytes{ProgramType::Bytes};

// A modeled prototype, by name; the table below gives it its id.
struct Prototype {
    std::string_view name;
    ReturnKind ret;
    std::array<ArgKind, 5> args = {};  // r1..r5, None past the last
    ProgramTypeSet callers;
    bool gpl_only = false;
    bool packet_access = false;
    uint8_t ret_size_arg = 0;
};

using enum ArgKind;

// Written from the kernel's bpf_func_proto definitions (kernel/bpf/helpers.c, kernel/bpf/ringbuf.c,
// kernel/bpf/bpf_iter.c, kernel/trace/bpf_trace.c, net/core/filter.c) and the per-type helper
// tables (bpf_base_func_proto, bpf_tracing_func_proto, sk_filter/tc_cls_act/xdp_func_proto).
// Where the kernel has several protos for one id (perf_event_output per program type) they have
// the same argument kinds. Deliberate differences from the kernel's type rules: probe_read_* and
// get_current_* other than pid_tgid are for tracing types only (the kernel also gives
// probe_read_kernel/user and get_current_task to every type of a CAP_PERFMON loader);
// capabilities are not modeled (spin_lock, loop, trace_printk need CAP_BPF or CAP_PERFMON).
constexpr Prototype kPrototypes[] = {
    // Maps (bpf_base_func_proto).
    {.name = "map_lookup_elem",
     .ret = ReturnKind::PtrToMapValueOrNull,
     .args = {ConstMapPtr, PtrToMapKey},
     .callers = kEveryType,
     .packet_access = true},
    {.name = "map_update_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToMapKey, PtrToMapValue, Anything},
     .callers = kEveryType,
     .packet_access = true},
    {.name = "map_delete_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToMapKey},
     .callers = kEveryType,
     .packet_access = true},
    {.name = "map_push_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToMapValue, Anything},
     .callers = kEveryType,
     .packet_access = true},
    {.name = "map_pop_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToUninitMapValue},
     .callers = kEveryType},
    {.name = "map_peek_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToUninitMapValue},
     .callers = kEveryType},
    {.name = "map_lookup_percpu_elem",
     .ret = ReturnKind::PtrToMapValueOrNull,
     .args = {ConstMapPtr, PtrToMapKey, Anything},
     .callers = kEveryType,
     .packet_access = true},
    {.name = "for_each_map_elem",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToFunc, PtrToStackOrNull, Anything},
     .callers = kEveryType},
    {.name = "tail_call",
     .ret = ReturnKind::Void,
     .args = {PtrToCtx, ConstMapPtr, Anything},
     .callers = kEveryType},
    {.name = "loop",
     .ret = ReturnKind::Integer,
     .args = {Anything, PtrToFunc, PtrToStackOrNull, Anything},
     .callers = kEveryType},

    // Ring buffer (kernel/bpf/ringbuf.c).
    {.name = "ringbuf_output",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, PtrToReadonlyMem, ConstSizeOrZero, Anything},
     .callers = kEveryType},
    {.name = "ringbuf_reserve",
     .ret = ReturnKind::PtrToRingbufMemOrNull,
     .args = {ConstMapPtr, ConstAllocSizeOrZero, Anything},
     .callers = kEveryType,
     .ret_size_arg = 2},
    {.name = "ringbuf_submit",
     .ret = ReturnKind::Void,
     .args = {PtrToRingbufMem, Anything},
     .callers = kEveryType},
    {.name = "ringbuf_discard",
     .ret = ReturnKind::Void,
     .args = {PtrToRingbufMem, Anything},
     .callers = kEveryType},
    {.name = "ringbuf_query",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, Anything},
     .callers = kEveryType},

    // Time, randomness, CPU (bpf_base_func_proto).
    {.name = "ktime_get_ns", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "ktime_get_boot_ns", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "ktime_get_tai_ns", .ret = ReturnKind::Integer, .callers = kEveryType},
    // Not for tracing programs (the coarse clock's seqlock can deadlock in NMI): the kernel gives
    // it to networking types (bpf_sk_base_func_proto).
    {.name = "ktime_get_coarse_ns",
     .ret = ReturnKind::Integer,
     .callers = kSocketFilter | kTc | kXdp | kBytes},
    {.name = "jiffies64", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "get_prandom_u32", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "get_smp_processor_id", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "get_numa_node_id", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "spin_lock", .ret = ReturnKind::Void, .args = {PtrToSpinLock}, .callers = kEveryType},
    {.name = "spin_unlock", .ret = ReturnKind::Void, .args = {PtrToSpinLock}, .callers = kEveryType},

    // Strings and output.
    {.name = "strncmp",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMem, ConstSize, PtrToConstStr},
     .callers = kEveryType},
    {.name = "strtol",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMem, ConstSize, Anything, PtrToLong},
     .callers = kEveryType},
    {.name = "strtoul",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMem, ConstSize, Anything, PtrToLong},
     .callers = kEveryType},
    // The helper also reads r3..r5 as format arguments; the kernel leaves them unchecked.
    {.name = "trace_printk",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMem, ConstSize},
     .callers = kEveryType,
     .gpl_only = true},
    {.name = "trace_vprintk",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMem, ConstSize, PtrToReadonlyMemOrNull, ConstSizeOrZero},
     .callers = kEveryType,
     .gpl_only = true},
    {.name = "snprintf",
     .ret = ReturnKind::Integer,
     .args = {PtrToMemOrNull, ConstSizeOrZero, PtrToConstStr, PtrToReadonlyMemOrNull, ConstSizeOrZero},
     .callers = kEveryType,
     .gpl_only = true},
    {.name = "perf_event_output",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx, ConstMapPtr, Anything, PtrToReadonlyMem, ConstSizeOrZero},
     .callers = kTracing | kSocketFilter | kTc | kXdp,
     .gpl_only = true},

    // Tracing (kernel/trace/bpf_trace.c). probe_read and probe_read_str are the old forms that
    // pick user or kernel memory by address.
    {.name = "probe_read",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    {.name = "probe_read_str",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    {.name = "probe_read_kernel",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    {.name = "probe_read_kernel_str",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    {.name = "probe_read_user",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    {.name = "probe_read_user_str",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSizeOrZero, Anything},
     .callers = kTracing,
     .gpl_only = true},
    // Every type since Linux 6.10 (bpf_base_func_proto).
    {.name = "get_current_pid_tgid", .ret = ReturnKind::Integer, .callers = kEveryType},
    {.name = "get_current_uid_gid", .ret = ReturnKind::Integer, .callers = kTracing},
    {.name = "get_current_comm",
     .ret = ReturnKind::Integer,
     .args = {PtrToUninitMem, ConstSize},
     .callers = kTracing},
    {.name = "get_current_task", .ret = ReturnKind::Integer, .callers = kTracing, .gpl_only = true},
    {.name = "get_current_task_btf",
     .ret = ReturnKind::UnsupportedBtfPointer,
     .callers = kTracing,
     .gpl_only = true},
    // The kernel's verifier allows get_func_ip for kprobes and trampoline (fentry/fexit) programs
    // only, and get_attach_cookie where the attachment carries a cookie.
    {.name = "get_func_ip",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx},
     .callers = {ProgramType::Kprobe, ProgramType::Tracing},
     .gpl_only = true},
    {.name = "get_attach_cookie",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx},
     .callers = {ProgramType::Kprobe, ProgramType::Tracepoint, ProgramType::PerfEvent, ProgramType::Tracing}},

    // Packets (net/core/filter.c).
    {.name = "skb_load_bytes",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx, Anything, PtrToUninitMem, ConstSize},
     .callers = kSocketFilter | kTc},
    {.name = "skb_store_bytes",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx, Anything, PtrToReadonlyMem, ConstSize, Anything},
     .callers = kTc},
    {.name = "l3_csum_replace",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx, Anything, Anything, Anything, Anything},
     .callers = kTc},
    {.name = "l4_csum_replace",
     .ret = ReturnKind::Integer,
     .args = {PtrToCtx, Anything, Anything, Anything, Anything},
     .callers = kTc},
    {.name = "csum_diff",
     .ret = ReturnKind::Integer,
     .args = {PtrToReadonlyMemOrNull, ConstSizeOrZero, PtrToReadonlyMemOrNull, ConstSizeOrZero, Anything},
     .callers = kTc | kXdp,
     .packet_access = true},
    {.name = "redirect", .ret = ReturnKind::Integer, .args = {Anything, Anything}, .callers = kTc | kXdp},
    {.name = "redirect_map",
     .ret = ReturnKind::Integer,
     .args = {ConstMapPtr, Anything, Anything},
     .callers = kXdp},
    {.name = "xdp_adjust_head", .ret = ReturnKind::Integer, .args = {PtrToCtx, Anything}, .callers = kXdp},
    {.name = "xdp_adjust_tail", .ret = ReturnKind::Integer, .args = {PtrToCtx, Anything}, .callers = kXdp},
    {.name = "xdp_adjust_meta", .ret = ReturnKind::Integer, .args = {PtrToCtx, Anything}, .callers = kXdp},
};

constexpr size_t kNotFound = std::size(kHelperNames);

constexpr size_t id_of(std::string_view name) {
    for (size_t id = 0; id < std::size(kHelperNames); ++id) {
        if (kHelperNames[id] == name) return id;
    }
    return kNotFound;
}

constexpr bool every_prototype_names_one_helper() {
    for (size_t i = 0; i < std::size(kPrototypes); ++i) {
        if (id_of(kPrototypes[i].name) == kNotFound) return false;
        for (size_t j = 0; j < i; ++j) {
            if (kPrototypes[i].name == kPrototypes[j].name) return false;
        }
    }
    return true;
}
static_assert(every_prototype_names_one_helper(), "a prototype names no helper, or one twice");

constexpr auto kHelpers = [] {
    std::array<HelperPrototype, std::size(kHelperNames)> helpers{};
    for (size_t id = 0; id < helpers.size(); ++id) {
        helpers[id].id = static_cast<int32_t>(id);
        helpers[id].name = kHelperNames[id];
    }
    for (const Prototype& proto : kPrototypes) {
        HelperPrototype& helper = helpers[id_of(proto.name)];
        helper.known = true;
        helper.ret = proto.ret;
        helper.args = proto.args;
        while (helper.arg_count < helper.args.size() && helper.args[helper.arg_count] != None) {
            ++helper.arg_count;
        }
        helper.ret_size_arg = proto.ret_size_arg;
        helper.gpl_only = proto.gpl_only;
        helper.packet_access = proto.packet_access;
        helper.callers = proto.callers;
    }
    return helpers;
}();

}  // namespace

std::string_view arg_kind_name(ArgKind kind) {
    switch (kind) {
        case None: return "none";
        case Anything: return "anything";
        case ConstMapPtr: return "const_map_ptr";
        case PtrToMapKey: return "ptr_to_map_key";
        case PtrToMapValue: return "ptr_to_map_value";
        case PtrToUninitMapValue: return "ptr_to_uninit_map_value";
        case PtrToCtx: return "ptr_to_ctx";
        case PtrToMem: return "ptr_to_mem";
        case PtrToReadonlyMem: return "ptr_to_readonly_mem";
        case PtrToReadonlyMemOrNull: return "ptr_to_readonly_mem_or_null";
        case PtrToUninitMem: return "ptr_to_uninit_mem";
        case PtrToMemOrNull: return "ptr_to_mem_or_null";
        case ConstSize: return "const_size";
        case ConstSizeOrZero: return "const_size_or_zero";
        case ConstAllocSizeOrZero: return "const_alloc_size_or_zero";
        case PtrToStackOrNull: return "ptr_to_stack_or_null";
        case PtrToFunc: return "ptr_to_func";
        case PtrToConstStr: return "ptr_to_const_str";
        case PtrToRingbufMem: return "ptr_to_ringbuf_mem";
        case PtrToSpinLock: return "ptr_to_spin_lock";
        case PtrToLong: return "ptr_to_long";
    }
    return "unknown";
}

std::string_view return_kind_name(ReturnKind kind) {
    switch (kind) {
        case ReturnKind::Integer: return "integer";
        case ReturnKind::Void: return "void";
        case ReturnKind::PtrToMapValueOrNull: return "ptr_to_map_value_or_null";
        case ReturnKind::PtrToRingbufMemOrNull: return "ptr_to_ringbuf_mem_or_null";
        case ReturnKind::UnsupportedBtfPointer: return "unsupported_btf_pointer";
    }
    return "unknown";
}

bool is_sized_memory_arg(ArgKind kind) {
    return kind == PtrToMem || kind == PtrToReadonlyMem || kind == PtrToReadonlyMemOrNull ||
           kind == PtrToUninitMem || kind == PtrToMemOrNull;
}

bool is_memory_size_arg(ArgKind kind) {
    return kind == ConstSize || kind == ConstSizeOrZero;
}

const HelperPrototype* helper_by_id(int64_t id) {
    if (id < 0 || static_cast<uint64_t>(id) >= kHelpers.size()) return nullptr;
    return &kHelpers[static_cast<size_t>(id)];
}

const HelperPrototype* helper_by_name(std::string_view name) {
    if (name.starts_with("bpf_")) name.remove_prefix(4);
    size_t id = id_of(name);
    return id == kNotFound ? nullptr : &kHelpers[id];
}

std::span<const HelperPrototype> all_helpers() {
    return kHelpers;
}

bool helper_allowed_for(const HelperPrototype& helper, ProgramType type) {
    return helper.known && helper.callers.contains(type);
}

bool helper_changes_packet_data(int32_t id) {
    // net/core/filter.c: bpf_helper_changes_pkt_data.
    static constexpr std::string_view kChanging[] = {
        "skb_store_bytes",     "skb_change_head", "skb_change_tail", "skb_pull_data",
        "clone_redirect",      "skb_vlan_push",   "skb_vlan_pop",    "skb_change_proto",
        "skb_change_type",     "skb_adjust_room", "l3_csum_replace", "l4_csum_replace",
        "xdp_adjust_head",     "xdp_adjust_tail", "xdp_adjust_meta", "msg_pull_data",
        "msg_push_data",       "msg_pop_data",    "lwt_push_encap",  "lwt_seg6_store_bytes",
        "lwt_seg6_adjust_srh", "lwt_seg6_action", "store_hdr_opt",
    };
    const HelperPrototype* helper = helper_by_id(id);
    if (helper == nullptr) return false;
    for (std::string_view name : kChanging) {
        if (helper->name == name) return true;
    }
    return false;
}

CallbackKind helper_callback_kind(int32_t id) {
    const HelperPrototype* helper = helper_by_id(id);
    if (helper == nullptr) return CallbackKind::None;
    if (helper->name == "loop") return CallbackKind::Loop;
    if (helper->name == "for_each_map_elem") return CallbackKind::ForEachMapElem;
    for (ArgKind arg : helper->args) {
        if (arg == PtrToFunc) return CallbackKind::Other;
    }
    return CallbackKind::None;
}

}  // namespace bpfvm::isa
