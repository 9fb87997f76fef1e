// bpfvm-expect: program xdp xdp_verdict_uninit xdp
// bpfvm-expect: program xdp xdp_verdict_init xdp
// bpfvm-expect: verdict xdp_verdict_uninit reject uninitialized-register R0 !read_ok
// bpfvm-expect: verdict xdp_verdict_init accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run init xdp_verdict_init --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result init {"r0": 2, "verdict": "XDP_PASS", "error": null}
//
// REJECTED: the program returns a register nothing has written. In C this
// takes an asm statement that claims to produce a value but emits no
// instruction (as a hand-written "read a special register" wrapper might):
// clang gives the output its own register, r0 here, and nothing writes it
// before the exit ("R0 !read_ok").
// The passing twin gives the variable a value first (the asm then only
// "refines" it, as a "+r" operand).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_verdict_uninit(struct xdp_md *ctx) {
    int verdict;
    asm volatile("" : "=r"(verdict)); // no instruction: verdict is never written
    return verdict;
}

SEC("xdp")
int xdp_verdict_init(struct xdp_md *ctx) {
    int verdict = XDP_PASS;
    asm volatile("" : "+r"(verdict));
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
