// bpfvm-expect: program kprobe/do_sys_openat2 trace_openat2 kprobe
// bpfvm-expect: program kretprobe/do_sys_openat2 trace_openat2_ret kprobe
// bpfvm-expect: map events ringbuf 0 0 65536
// bpfvm-expect: verdict trace_openat2 accept
// bpfvm-expect: verdict trace_openat2_ret accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run entry trace_openat2 --ctx inputs/openat_entry.pt_regs
// bpfvm-expect: result entry {"r0": 0, "error": null, "events": [{"map": "events", "cpu": 0, "data": "921000009cffffffffffffffffffffff627066766d00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}]}
// bpfvm-expect: run return trace_openat2_ret --ctx inputs/openat_return.pt_regs
// bpfvm-expect: result return {"r0": 0, "error": null, "events": [{"map": "events", "data": "92100000000000000300000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}]}
//
// Traces file opens: the kprobe reads do_sys_openat2(dfd, filename, how)
// arguments from pt_regs with the PT_REGS_PARM macros, copies the user-space
// path with bpf_probe_read_user_str, and sends an event through a ring buffer
// (reserve/submit). The kretprobe reads the return value with PT_REGS_RC.
// vmlinux.h is not used: struct pt_regs comes from the uapi <asm/ptrace.h>.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct open_event {
    __u32 pid;
    __s32 dfd;
    __s64 ret; // -1 on entry events
    char comm[16];
    char path[128];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024); // bytes, a power of two multiple of the page size
} events SEC(".maps");

SEC("kprobe/do_sys_openat2")
int trace_openat2(struct pt_regs *ctx) {
    int dfd = (int)PT_REGS_PARM1(ctx);
    const char *filename = (const char *)PT_REGS_PARM2(ctx);

    struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0; // ring full: drop the event
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->dfd = dfd;
    e->ret = -1;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("kretprobe/do_sys_openat2")
int trace_openat2_ret(struct pt_regs *ctx) {
    long ret = PT_REGS_RC(ctx);
    struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0;
    __builtin_memset(e, 0, sizeof(*e));
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->ret = ret;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
