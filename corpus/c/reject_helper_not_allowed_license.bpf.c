// bpfvm-expect: program kprobe/do_execveat_common kprobe_exec_comm_gpl_helper kprobe
// bpfvm-expect: program kprobe/do_execveat_common kprobe_exec_count kprobe
// bpfvm-expect: map last_exec array 4 32 1
// bpfvm-expect: map execs_by_uid hash 4 8 256
// bpfvm-expect: verdict kprobe_exec_comm_gpl_helper reject helper-not-allowed cannot call GPL-restricted function from non-GPL compatible program
// bpfvm-expect: verdict kprobe_exec_count accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run count kprobe_exec_count --ctx inputs/vfs_read_4096.pt_regs --repeat 2
// bpfvm-expect: result count {"r0": 0, "error": null, "maps": {"execs_by_uid": {"entries": [{"key": 1000, "value": 2}]}}}
//
// REJECTED: some helpers are GPL-only: a program whose license is not
// GPL-compatible may not call them. This object's license is "Proprietary",
// and kprobe_exec_comm_gpl_helper calls bpf_probe_read_kernel (GPL-only) to
// copy the name of the file being executed ("cannot call GPL-restricted
// function from non-GPL compatible program").
// The passing twin counts execs per user with helpers that are not
// GPL-restricted (pid/tgid, uid/gid, map helpers).
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32); // uid
    __type(value, __u64);
    __uint(max_entries, 256);
} execs_by_uid SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, char[32]);
    __uint(max_entries, 1);
} last_exec SEC(".maps");

// int do_execveat_common(int fd, struct filename *filename, ...): the first
// member of struct filename is `const char *name`.
SEC("kprobe/do_execveat_common")
int kprobe_exec_comm_gpl_helper(struct pt_regs *ctx) {
    const void *filename = (const void *)PT_REGS_PARM2(ctx);
    __u32 zero = 0;
    char *out = bpf_map_lookup_elem(&last_exec, &zero);
    if (!out)
        return 0;
    const char *name = NULL;
    bpf_probe_read_kernel(&name, sizeof(name), filename);
    bpf_probe_read_kernel_str(out, 32, name);
    return 0;
}

SEC("kprobe/do_execveat_common")
int kprobe_exec_count(struct pt_regs *ctx) {
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    __u64 one = 1, *n = bpf_map_lookup_elem(&execs_by_uid, &uid);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&execs_by_uid, &uid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "Proprietary";
