// bpfvm-expect: program tracepoint/syscalls/sys_enter_write trace_write tracepoint
// bpfvm-expect: map write_events perf_event_array 4 4 0
// bpfvm-expect: map .bss array 4 4 1
// bpfvm-expect: verdict trace_write accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run large trace_write --ctx inputs/write_8192.tp
// bpfvm-expect: result large {"r0": 0, "events": [{"map": "write_events", "cpu": 0, "data": "92100000030000000020000000000000"}], "maps": {".bss": {"entries": [{"value": {"reported": 1}}]}}}
// bpfvm-expect: run small trace_write --ctx inputs/write_100.tp
// bpfvm-expect: result small {"r0": 0, "events": [], "maps": {".bss": {"entries": [{"value": {"reported": 0}}]}}}
//
// Reports large write(2) calls through a perf event array with
// bpf_perf_event_output (one perf buffer per CPU; max_entries 0 lets libbpf
// size the map to the number of CPUs).
// Demonstrates: a tracepoint context struct written by hand from
// /sys/kernel/tracing/events/syscalls/sys_enter_write/format, a .bss
// global, and BPF_F_CURRENT_CPU.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

// Layout of the sys_enter_write tracepoint record.
struct sys_enter_write_args {
    __u16 common_type;
    __u8 common_flags;
    __u8 common_preempt_count;
    __s32 common_pid;
    __s32 syscall_nr;
    __u32 pad;
    __u64 fd;
    __u64 buf;
    __u64 count;
};

struct write_event {
    __u32 pid;
    __u32 fd;
    __u64 count;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} write_events SEC(".maps");

__u32 reported = 0; // in .bss

SEC("tracepoint/syscalls/sys_enter_write")
int trace_write(struct sys_enter_write_args *ctx) {
    if (ctx->count < 4096)
        return 0;
    struct write_event e = {
        .pid = bpf_get_current_pid_tgid() >> 32,
        .fd = (__u32)ctx->fd,
        .count = ctx->count,
    };
    bpf_perf_event_output(ctx, &write_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
    __sync_fetch_and_add(&reported, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
