// bpfvm-expect: program kprobe/vfs_read kprobe_read_file_direct kprobe
// bpfvm-expect: program kprobe/vfs_read kprobe_read_file kprobe
// bpfvm-expect: map reads percpu_array 4 32 1
// bpfvm-expect: verdict kprobe_read_file_direct reject invalid-memory-access R6 invalid mem access 'scalar'
// bpfvm-expect: verdict kprobe_read_file accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run probe kprobe_read_file --ctx inputs/vfs_read_4096.pt_regs --repeat 2
// bpfvm-expect: result probe {"r0": 0, "error": null, "maps": {"reads": {"entries": [{"key": 0, "values": [{"calls": 2, "bytes_requested": 8192, "nonblocking": 0, "faults": 2}]}]}}}
//
// REJECTED: a kprobe's arguments are plain numbers to the verifier. The first
// argument of vfs_read(struct file *file, char __user *buf, size_t count,
// loff_t *pos) is a kernel pointer, but a tracing program cannot dereference
// it directly the way kernel code does: reading file->f_flags through it is an
// access through a scalar ("R6 invalid mem access 'scalar'"). (With
// BTF-typed programs, fentry or tp_btf, the same pointer would be a
// PTR_TO_BTF_ID the program may read.)
// The passing twin reads the fields with bpf_probe_read_kernel, which copies
// from any kernel address and fails cleanly (-EFAULT, zeroed buffer) when it
// is not mapped, as bcc and libbpf-tools programs do with BPF_CORE_READ.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// The start of struct file is not part of the uapi: a made-up stand-in.
struct file_head {
    __u64 f_u;
    __u64 f_path[2];
    __u64 f_inode;
    __u32 f_flags;
    __u32 f_mode;
};

struct read_stats {
    __u64 calls;
    __u64 bytes_requested;
    __u64 nonblocking;
    __u64 faults;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct read_stats);
    __uint(max_entries, 1);
} reads SEC(".maps");

#define O_NONBLOCK 04000

SEC("kprobe/vfs_read")
int kprobe_read_file_direct(struct pt_regs *ctx) {
    struct file_head *file = (struct file_head *)PT_REGS_PARM1(ctx);
    __u64 count = PT_REGS_PARM3(ctx);
    __u32 zero = 0;
    struct read_stats *s = bpf_map_lookup_elem(&reads, &zero);
    if (!s)
        return 0;
    s->calls++;
    s->bytes_requested += count;
    if (file->f_flags & O_NONBLOCK) // a load through a number
        s->nonblocking++;
    return 0;
}

SEC("kprobe/vfs_read")
int kprobe_read_file(struct pt_regs *ctx) {
    struct file_head *file = (struct file_head *)PT_REGS_PARM1(ctx);
    __u64 count = PT_REGS_PARM3(ctx);
    __u32 zero = 0;
    struct read_stats *s = bpf_map_lookup_elem(&reads, &zero);
    if (!s)
        return 0;
    s->calls++;
    s->bytes_requested += count;
    __u32 flags = 0;
    if (bpf_probe_read_kernel(&flags, sizeof(flags), &file->f_flags) < 0)
        s->faults++;
    else if (flags & O_NONBLOCK)
        s->nonblocking++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
