// bpfvm-expect: program xdp xdp_asm_skip xdp
// bpfvm-expect: program xdp xdp_asm_skip_if xdp
// bpfvm-expect: verdict xdp_asm_skip reject unreachable-instruction unreachable insn 2
// bpfvm-expect: verdict xdp_asm_skip_if accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run pass xdp_asm_skip_if --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result pass {"r0": 2, "verdict": "XDP_PASS", "error": null}
//
// REJECTED: an instruction no path reaches. The kernel's control-flow check
// walks every edge from the entry before verification starts and refuses a
// program with instructions outside that walk ("unreachable insn N"). C code
// does not produce them (clang drops dead code); hand-written asm does: the
// unconditional `goto +1` in xdp_asm_skip jumps over the instruction that
// follows it, which nothing else jumps to.
// The passing twin makes the jump conditional. That the condition is always
// true does not matter: the instruction after it is reachable in the
// control-flow graph, and the verifier, which knows the register's value,
// simply never explores that branch.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_asm_skip(struct xdp_md *ctx) {
    int verdict = XDP_PASS;
    asm volatile("goto +1; %[v] = 1" : [v] "+r"(verdict));
    return verdict;
}

SEC("xdp")
int xdp_asm_skip_if(struct xdp_md *ctx) {
    int verdict = XDP_PASS;
    asm volatile("if %[v] == 2 goto +1; %[v] = 1" : [v] "+r"(verdict));
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
