// bpfvm-expect: program xdp xdp_sample_rodata xdp
// bpfvm-expect: program xdp xdp_sample_bss xdp
// bpfvm-expect: map .rodata array 4 4 1
// bpfvm-expect: map .bss array 4 12 1
// bpfvm-expect: verdict xdp_sample_rodata reject read-only-write write into map forbidden, value_size=4 off=0 size=4
// bpfvm-expect: verdict xdp_sample_bss accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run every4 xdp_sample_bss --repeat 4 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result every4 {"r0": 2, "error": null, "maps": {".bss": {"entries": [{"value": {"sampled_bytes": 54, "countdown": 0}}]}, ".rodata": {"entries": [{"value": {"sample_every": 4}}]}}}
//
// REJECTED: `const volatile` globals live in .rodata, which libbpf freezes
// after filling it in, and the kernel maps it into programs read-only
// (BPF_F_RDONLY_PROG). xdp_sample_rodata casts the const away to reset a
// countdown kept in the configuration variable itself; the store into the
// read-only map value is refused.
// The passing twin xdp_sample_bss keeps the countdown in a mutable .bss
// variable and only reads the .rodata configuration.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 sample_every = 4; // sample one packet in sample_every
__u32 countdown;                      // .bss
__u64 sampled_bytes;                  // .bss

SEC("xdp")
int xdp_sample_rodata(struct xdp_md *ctx) {
    __u32 left = sample_every;
    if (left > 1) {
        *(volatile __u32 *)&sample_every = left - 1; // writes into .rodata
        return XDP_PASS;
    }
    sampled_bytes += ctx->data_end - ctx->data;
    return XDP_PASS;
}

SEC("xdp")
int xdp_sample_bss(struct xdp_md *ctx) {
    if (countdown == 0)
        countdown = sample_every;
    if (--countdown != 0)
        return XDP_PASS;
    sampled_bytes += ctx->data_end - ctx->data;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
