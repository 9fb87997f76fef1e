// bpfvm-expect: program kprobe/vfs_read vfs_read_entry kprobe
// bpfvm-expect: program kretprobe/vfs_read vfs_read_return kprobe
// bpfvm-expect: program tracepoint/syscalls/sys_enter_read sys_enter_read tracepoint
// bpfvm-expect: program tracepoint/syscalls/sys_exit_read sys_exit_read tracepoint
// bpfvm-expect: program raw_tracepoint/sched_process_exit sched_process_exit raw_tracepoint
// bpfvm-expect: map starts hash 4 24 10240
// bpfvm-expect: map syscall_hist percpu_array 4 108 1
// bpfvm-expect: map slow_syscalls perf_event_array 4 4 0
// bpfvm-expect: map hists array 4 108 2
// bpfvm-expect: map slow_events ringbuf 0 0 262144
// bpfvm-expect: map .rodata array 4 32 1
// bpfvm-expect: map .bss array 4 24 1
// bpfvm-expect: verdict vfs_read_entry accept
// bpfvm-expect: verdict vfs_read_return accept
// bpfvm-expect: verdict sys_enter_read accept
// bpfvm-expect: verdict sys_exit_read accept
// bpfvm-expect: verdict sched_process_exit accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run entry vfs_read_entry --ctx inputs/vfs_read_4096.pt_regs
// bpfvm-expect: result entry {"r0": 0, "error": null, "maps": {"starts": {"entries": [{"key": 4242, "value": {"ts": 1000000000, "count": 4096, "ino": 0}}]}}}
// bpfvm-expect: run slow vfs_read_return --ctx inputs/vfs_read_ret_4096.pt_regs --map starts=inputs/read_start_5ms.json
// bpfvm-expect: result slow {"r0": 0, "error": null, "events": [{"map": "slow_events", "data": "92100000921000008813000000000000001000000000000000100000000000004d00000000000000627066766d0000000000000000000000"}], "maps": {"starts": {"entries": []}, "hists": {"entries": [{"key": 0, "value": {"slots": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}}]}}}
// bpfvm-expect: run filtered vfs_read_return --ctx inputs/vfs_read_ret_4096.pt_regs --map starts=inputs/read_start_5ms.json --map .rodata=inputs/latency_comm_sshd.json
// bpfvm-expect: result filtered {"r0": 0, "error": null, "events": [], "maps": {".bss": {"entries": [{"value": {"discarded": 1, "missed_starts": 0}}]}}}
// bpfvm-expect: run missed vfs_read_return --ctx inputs/vfs_read_ret_4096.pt_regs
// bpfvm-expect: result missed {"r0": 0, "error": null, "events": [], "maps": {".bss": {"entries": [{"value": {"missed_starts": 1}}]}}}
// bpfvm-expect: run tp_enter sys_enter_read --ctx inputs/read_enter_fd3.tp
// bpfvm-expect: result tp_enter {"r0": 0, "error": null, "maps": {"starts": {"entries": [{"key": 4242, "value": {"count": 8192, "ino": 3}}]}}}
// bpfvm-expect: run tp_exit sys_exit_read --ctx inputs/read_exit_8192.tp --map starts=inputs/read_start_5ms.json
// bpfvm-expect: result tp_exit {"r0": 0, "error": null, "events": [{"map": "slow_syscalls", "cpu": 0, "data": "92100000921000008813000000000000001000000000000000200000000000004d00000000000000627066766d0000000000000000000000"}], "maps": {"syscall_hist": {"entries": [{"key": 0, "values": [{"slots": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]}]}}}
// bpfvm-expect: run exit sched_process_exit --ctx inputs/sys_enter_59.raw_tp --map starts=inputs/read_start_5ms.json
// bpfvm-expect: result exit {"r0": 0, "error": null, "maps": {"starts": {"entries": []}, ".bss": {"entries": [{"value": {"exits_cleaned": 1}}]}}}
//
// Latency tracing in the style of bcc / libbpf-tools (funclatency, fsdist,
// biolatency): an entry probe stores a timestamp per thread, the matching
// return probe computes the latency, adds it to a log2 histogram and reports
// slow calls one by one.
//  - kprobe/kretprobe on vfs_read: PT_REGS_PARM* arguments, the struct file
//    behind the first one read with bpf_probe_read_kernel (file->f_inode, then
//    inode->i_ino: two dependent reads, as BPF_CORE_READ expands to), a hash
//    map of start records keyed by thread id, the histogram in an array map
//    indexed by the classic branch-free log2 (libbpf-tools' bits.bpf.h), slow
//    calls sent through a ring buffer with bpf_ringbuf_reserve and either
//    bpf_ringbuf_submit or, for a filtered-out command name, bpf_ringbuf_discard;
//  - tracepoints syscalls/sys_enter_read and sys_exit_read (the record layout
//    spelled out): the same with a per-CPU histogram and the slow calls sent
//    through a perf event array with bpf_perf_event_output;
//  - a raw tracepoint on sched_process_exit that forgets the start record of
//    an exiting thread;
//  - `const volatile` filters (target tgid, minimum latency, a command name
//    prefix) in .rodata and .bss counters.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 27
#define TASK_COMM_LEN 16
#define MAX_ENTRIES 10240

struct start_rec {
    __u64 ts;
    __u64 count;   // bytes asked for
    __u64 ino;     // inode number of the file (0 if it could not be read)
};

struct hist {
    __u32 slots[MAX_SLOTS];
};

struct slow_event {
    __u32 tgid;
    __u32 tid;
    __u64 delta_us;
    __u64 count;
    __s64 ret;
    __u64 ino;
    char comm[TASK_COMM_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32); // thread id
    __type(value, struct start_rec);
    __uint(max_entries, MAX_ENTRIES);
} starts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct hist);
    __uint(max_entries, 2); // 0: vfs_read, 1: failed vfs_read
} hists SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct hist);
    __uint(max_entries, 1);
} syscall_hist SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} slow_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} slow_syscalls SEC(".maps");

const volatile __u32 targ_tgid = 0;       // 0: every process
const volatile __u64 min_lat_us = 1000;   // report calls slower than this
const volatile char targ_comm[TASK_COMM_LEN] = "bpf"; // prefix; "" for all

__u64 missed_starts; // returns without a start record
__u64 discarded;     // slow events dropped by the command filter
__u64 exits_cleaned;

// Kernel structures, only the members read (made-up layout: read through
// bpf_probe_read_kernel, so a wrong guess reads wrong data but stays safe).
struct inode_head {
    __u64 i_mode_and_flags;
    __u64 pad[7];
    __u64 i_ino;
};
struct file_head {
    __u64 f_u;
    __u64 f_path[2];
    struct inode_head *f_inode;
};

static __always_inline __u64 log2_u32(__u32 v) {
    __u32 shift, r;
    r = (v > 0xFFFF) << 4;
    v >>= r;
    shift = (v > 0xFF) << 3;
    v >>= shift;
    r |= shift;
    shift = (v > 0xF) << 2;
    v >>= shift;
    r |= shift;
    shift = (v > 0x3) << 1;
    v >>= shift;
    r |= shift;
    r |= (v >> 1);
    return r;
}

static __always_inline __u64 log2l(__u64 v) {
    __u32 hi = v >> 32;
    if (hi)
        return log2_u32(hi) + 32;
    return log2_u32(v);
}

static __always_inline int wanted_tgid(__u64 pid_tgid) {
    return targ_tgid == 0 || (pid_tgid >> 32) == targ_tgid;
}

// Whether comm starts with targ_comm.
static __always_inline int comm_matches(const char *comm) {
#pragma unroll
    for (int i = 0; i < TASK_COMM_LEN; i++) {
        if (targ_comm[i] == '\0')
            return 1;
        if (comm[i] != targ_comm[i])
            return 0;
    }
    return 1;
}

static __always_inline void record_start(__u32 tid, __u64 count, __u64 ino) {
    struct start_rec rec = {.ts = bpf_ktime_get_ns(), .count = count, .ino = ino};
    bpf_map_update_elem(&starts, &tid, &rec, BPF_ANY);
}

static __always_inline void add_to_hist(struct hist *h, __u64 delta_us) {
    __u64 slot = log2l(delta_us);
    if (slot >= MAX_SLOTS)
        slot = MAX_SLOTS - 1;
    __sync_fetch_and_add(&h->slots[slot], 1);
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(vfs_read_entry, struct file_head *file, char *buf, __u64 count) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if (!wanted_tgid(pid_tgid))
        return 0;
    struct inode_head *inode = NULL;
    __u64 ino = 0;
    if (bpf_probe_read_kernel(&inode, sizeof(inode), &file->f_inode) == 0 && inode)
        bpf_probe_read_kernel(&ino, sizeof(ino), &inode->i_ino);
    record_start((__u32)pid_tgid, count, ino);
    return 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(vfs_read_return, long ret) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid;
    struct start_rec *start = bpf_map_lookup_elem(&starts, &tid);
    if (!start) {
        __sync_fetch_and_add(&missed_starts, 1);
        return 0;
    }
    __u64 now = bpf_ktime_get_ns();
    __u64 delta_us = (now - start->ts) / 1000;
    __u64 count = start->count, ino = start->ino;
    bpf_map_delete_elem(&starts, &tid);

    __u32 key = ret < 0 ? 1 : 0;
    struct hist *h = bpf_map_lookup_elem(&hists, &key);
    if (h)
        add_to_hist(h, delta_us);
    if (delta_us < min_lat_us)
        return 0;

    struct slow_event *e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);
    if (!e)
        return 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (!comm_matches(e->comm)) {
        bpf_ringbuf_discard(e, 0);
        __sync_fetch_and_add(&discarded, 1);
        return 0;
    }
    e->tgid = pid_tgid >> 32;
    e->tid = tid;
    e->delta_us = delta_us;
    e->count = count;
    e->ret = ret;
    e->ino = ino;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

// /sys/kernel/tracing/events/syscalls/sys_{enter,exit}_read/format
struct sys_enter_read_args {
    __u64 common; // type, flags, preempt count, pid
    __s32 syscall_nr;
    __u32 pad;
    __u64 fd;
    __u64 buf;
    __u64 count;
};
struct sys_exit_read_args {
    __u64 common;
    __s32 syscall_nr;
    __u32 pad;
    __s64 ret;
};

SEC("tracepoint/syscalls/sys_enter_read")
int sys_enter_read(struct sys_enter_read_args *args) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if (!wanted_tgid(pid_tgid))
        return 0;
    record_start((__u32)pid_tgid, args->count, args->fd);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int sys_exit_read(struct sys_exit_read_args *args) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid;
    struct start_rec *start = bpf_map_lookup_elem(&starts, &tid);
    if (!start) {
        __sync_fetch_and_add(&missed_starts, 1);
        return 0;
    }
    struct slow_event e = {};
    e.delta_us = (bpf_ktime_get_ns() - start->ts) / 1000;
    e.count = start->count;
    e.ino = start->ino; // the fd, for this probe
    bpf_map_delete_elem(&starts, &tid);

    __u32 zero = 0;
    struct hist *h = bpf_map_lookup_elem(&syscall_hist, &zero);
    if (h) {
        __u64 slot = log2l(e.delta_us);
        if (slot >= MAX_SLOTS)
            slot = MAX_SLOTS - 1;
        h->slots[slot]++; // per-CPU: no atomic needed
    }
    if (e.delta_us < min_lat_us)
        return 0;
    e.tgid = pid_tgid >> 32;
    e.tid = tid;
    e.ret = args->ret;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
    bpf_perf_event_output(args, &slow_syscalls, BPF_F_CURRENT_CPU, &e, sizeof(e));
    return 0;
}

// sched_process_exit(struct task_struct *p): args[0]. The exiting thread is the
// current one, so its id comes from bpf_get_current_pid_tgid.
SEC("raw_tracepoint/sched_process_exit")
int sched_process_exit(struct bpf_raw_tracepoint_args *ctx) {
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    if (bpf_map_delete_elem(&starts, &tid) == 0)
        __sync_fetch_and_add(&exits_cleaned, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
