// String literals whose address escapes land in .rodata.str1.1 (a mergeable string section
// libbpf turns into its own global-data map); bpf_printk formats and consts go to .rodata;
// a legacy `version` section carries the kernel version.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int threshold = 100;

SEC("kprobe/do_nanosleep") int trace_sleep(void *ctx) {
    bpf_printk("nanosleep over %d", threshold);
    bpf_printk("pid %d", (int)(bpf_get_current_pid_tgid() >> 32));
    // A literal whose address escapes: clang puts it in the mergeable .rodata.str1.1.
    char copy[16];
    bpf_probe_read_kernel_str(copy, sizeof copy, "a string literal");
    return copy[0];
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060100;
