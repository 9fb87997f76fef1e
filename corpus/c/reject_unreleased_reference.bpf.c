// bpfvm-expect: program tracepoint/syscalls/sys_enter_openat trace_open_writes_leaky tracepoint
// bpfvm-expect: program tracepoint/syscalls/sys_enter_openat trace_open_writes tracepoint
// bpfvm-expect: map open_events ringbuf 0 0 262144
// bpfvm-expect: verdict trace_open_writes_leaky reject unreleased-reference Unreleased reference id=2 alloc_insn=5 BPF_EXIT instruction in main prog would lead to reference leak
// bpfvm-expect: verdict trace_open_writes accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run rdonly trace_open_writes --ctx inputs/openat_rdonly.tp
// bpfvm-expect: result rdonly {"r0": 0, "error": null, "events": []}
// bpfvm-expect: run wronly trace_open_writes --ctx inputs/openat_wronly_creat.tp
// bpfvm-expect: result wronly {"r0": 0, "error": null, "events": [{"map": "open_events", "data": "9210000041020000627066766d000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}]}
//
// REJECTED: bpf_ringbuf_reserve hands out a reference (a record of the ring
// buffer) that every path must give back with bpf_ringbuf_submit or
// bpf_ringbuf_discard. The opensnoop-like tracepoint program reserves the
// event first and then filters out read-only opens, returning without
// discarding the record on that path ("Unreleased reference").
// The passing twin discards the record on the filtered path.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define O_ACCMODE 3
#define O_RDONLY 0

// /sys/kernel/tracing/events/syscalls/sys_enter_openat/format
struct sys_enter_openat_args {
    __u16 common_type;
    __u8 common_flags;
    __u8 common_preempt_count;
    __s32 common_pid;
    __s32 syscall_nr;
    __u32 pad;
    __u64 dfd;
    __u64 filename;
    __u64 flags;
    __u64 mode;
};

struct open_event {
    __u32 tgid;
    __u32 flags;
    char comm[16];
    char fname[64];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} open_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_open_writes_leaky(struct sys_enter_openat_args *args) {
    struct open_event *e = bpf_ringbuf_reserve(&open_events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->flags = args->flags;
    if ((e->flags & O_ACCMODE) == O_RDONLY)
        return 0; // only opens for writing are reported: the record leaks here
    e->tgid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_user_str(e->fname, sizeof(e->fname), (const char *)args->filename);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_open_writes(struct sys_enter_openat_args *args) {
    struct open_event *e = bpf_ringbuf_reserve(&open_events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->flags = args->flags;
    if ((e->flags & O_ACCMODE) == O_RDONLY) {
        bpf_ringbuf_discard(e, 0);
        return 0;
    }
    e->tgid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_user_str(e->fname, sizeof(e->fname), (const char *)args->filename);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
