// bpfvm-expect: program xdp xdp_globals xdp
// bpfvm-expect: map .data array 4 12 1
// bpfvm-expect: map .rodata array 4 35 1
// bpfvm-expect: map .bss array 4 16 1
// bpfvm-expect: verdict xdp_globals accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run tcp xdp_globals --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result tcp {"r0": 2, "maps": {".data": {"entries": [{"value": {"seen_bytes": 4258, "scale": 3}}]}, ".bss": {"entries": [{"value": {"packets": 1, "oversized": 0}}]}, ".rodata": {"entries": [{"value": {"max_len": 1500, "verbose": 0}}]}}}
//
// Global variables and subprograms.
// Demonstrates:
//  - .rodata: `const volatile` configuration the user sets before load (the
//    verifier knows its value once the map is frozen), and bpf_printk's format
//    string (a static const char array, also in .rodata);
//  - .data: initialised mutable globals;
//  - .bss: zero-initialised globals;
//  - a static __noinline subprogram (verified in the caller's context) and a
//    global (non-static) __noinline function, which the kernel verifies once,
//    on its own, for any argument values (so it must check its arguments).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// .rodata
const volatile __u32 max_len = 1500;
const volatile __u32 verbose = 0;

// .data
__u64 seen_bytes = 0x1000; // initial bias, just to make .data non-zero
__u32 scale = 3;

// .bss
__u64 packets;
__u64 oversized;

// Static subprogram: called with the caller's verifier state.
static __noinline __u64 scaled(__u64 len) {
    return len * scale;
}

// Global subprogram: verified independently of its callers; takes scalars only.
__noinline int clamp_len(int len, int limit) {
    if (len < 0)
        return 0;
    return len > limit ? limit : len;
}

SEC("xdp")
int xdp_globals(struct xdp_md *ctx) {
    int len = (int)(ctx->data_end - ctx->data);
    packets++;
    if ((__u32)len > max_len) {
        oversized++;
        if (verbose)
            bpf_printk("oversized packet: %d bytes", len);
    }
    seen_bytes += scaled(clamp_len(len, max_len));
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
