// bpfvm-expect: program kprobe/wake_up_process kprobe_wakeup_state_pre514 kprobe
// bpfvm-expect: program kprobe/wake_up_process kprobe_wakeup_state kprobe
// bpfvm-expect: map states array 4 8 4
// bpfvm-expect: verdict kprobe_wakeup_state_pre514 reject unresolved-relocation failed to resolve CO-RE relocation <byte_off> [20] struct task_struct___pre514.state (0:0 @ offset 0)
// bpfvm-expect: verdict kprobe_wakeup_state accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run wakeup kprobe_wakeup_state --ctx inputs/vfs_read_4096.pt_regs
// bpfvm-expect: result wakeup {"r0": 0, "error": null, "maps": {"states": {"entries": [{"key": 0, "value": 1}, {"key": 3, "value": 0}]}}}
//
// REJECTED: a CO-RE relocation that the loader cannot resolve against the
// running kernel's BTF, on a path the program can take. The program reads
// task_struct's `state` member under its pre-5.14 name (a ___flavor struct);
// the running kernel only has `__state`, so libbpf cannot relocate the read:
// it replaces the instruction with a call to an invalid helper (the "poison"
// 0xbad2310), the verifier rejects the program when it reaches it ("invalid
// func unknown#195896080"), and libbpf rewrites that line of the log into the
// relocation it could not resolve.
// The passing twin guards each flavour with bpf_core_field_exists, as
// libbpf-tools does for fields that changed names: the poisoned read then sits
// on a branch the verifier knows is dead.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
    unsigned int __state;
    int pid;
} __attribute__((preserve_access_index));

struct task_struct___pre514 {
    long state;
} __attribute__((preserve_access_index));

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} states SEC(".maps");

static __always_inline void count_state(__u64 state) {
    __u32 key = state > 2 ? 3 : state; // 0 running, 1 interruptible, 2 uninterruptible, 3 other
    __u64 *n = bpf_map_lookup_elem(&states, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
}

// int wake_up_process(struct task_struct *p)
SEC("kprobe/wake_up_process")
int BPF_KPROBE(kprobe_wakeup_state_pre514, struct task_struct *p) {
    struct task_struct___pre514 *old = (void *)p;
    count_state(BPF_CORE_READ(old, state));
    return 0;
}

SEC("kprobe/wake_up_process")
int BPF_KPROBE(kprobe_wakeup_state, struct task_struct *p) {
    __u64 state;
    if (bpf_core_field_exists(p->__state)) {
        state = BPF_CORE_READ(p, __state);
    } else {
        struct task_struct___pre514 *old = (void *)p;
        state = BPF_CORE_READ(old, state);
    }
    count_state(state);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
