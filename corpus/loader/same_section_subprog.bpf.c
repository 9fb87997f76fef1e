// A static function placed in the programs' own section: clang resolves the calls itself (no
// relocation, the call's imm is already relative), and both programs must link it in.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline, section("xdp"))) int triple(int x) { return x * 3; }

SEC("xdp") int first_queue(struct xdp_md *ctx) { return triple(ctx->ingress_ifindex) & 3; }

SEC("xdp") int second_queue(struct xdp_md *ctx) { return triple(ctx->rx_queue_index + 1) & 3; }

char LICENSE[] SEC("license") = "GPL";
