// bpfvm-expect: program kprobe/vfs_read kprobe_describe_caller_mismatched kprobe
// bpfvm-expect: program kprobe/vfs_read kprobe_describe_caller kprobe
// bpfvm-expect: map descriptions array 4 48 1
// bpfvm-expect: map .rodata array 4 67 1
// bpfvm-expect: verdict kprobe_describe_caller_mismatched reject helper-argument Invalid format string
// bpfvm-expect: verdict kprobe_describe_caller accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run describe kprobe_describe_caller --ctx inputs/vfs_read_4096.pt_regs
// bpfvm-expect: result describe {"r0": 0, "error": null, "maps": {"descriptions": {"entries": [{"key": 0, "value": {"length": 36, "text": "tgid 4242 read 4096 bytes into file"}}]}}}
//
// REJECTED: bpf_snprintf's format is checked when the program is loaded, against
// the arguments passed with it.
//  - kprobe_describe_caller_mismatched prints "tgid %u read %lu bytes into %s":
//    three conversions, but its argument array holds two u64s (the kernel:
//    "Invalid format string").
// The passing twin kprobe_describe_caller passes the three arguments the
// format asks for (the buffer address for %s is read by the helper) and
// stores the formatted length beside the text.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct description {
    __u64 length;
    char text[40];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct description);
    __uint(max_entries, 1);
} descriptions SEC(".maps");

static const char kind[] = "file";

SEC("kprobe/vfs_read")
int kprobe_describe_caller_mismatched(struct pt_regs* ctx) {
    static const char format[] = "tgid %u read %lu bytes into %s";
    __u32 key = 0;
    struct description* d = bpf_map_lookup_elem(&descriptions, &key);
    if (!d) return 0;
    __u64 args[2] = {bpf_get_current_pid_tgid() >> 32, PT_REGS_PARM3(ctx)};
    d->length = bpf_snprintf(d->text, sizeof(d->text), format, args, sizeof(args));
    return 0;
}

SEC("kprobe/vfs_read")
int kprobe_describe_caller(struct pt_regs* ctx) {
    static const char format[] = "tgid %u read %lu bytes into %s";
    __u32 key = 0;
    struct description* d = bpf_map_lookup_elem(&descriptions, &key);
    if (!d) return 0;
    __u64 args[3] = {bpf_get_current_pid_tgid() >> 32, PT_REGS_PARM3(ctx), (__u64)(long)kind};
    d->length = bpf_snprintf(d->text, sizeof(d->text), format, args, sizeof(args));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
