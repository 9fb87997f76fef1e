// bpfvm-expect: program xdp xdp_no_bounds_check xdp
// bpfvm-expect: program xdp xdp_bounds_checked xdp
// bpfvm-expect: verdict xdp_no_bounds_check reject out-of-bounds invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0) R1 offset is outside of the packet
// bpfvm-expect: verdict xdp_bounds_checked accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run ipv6 xdp_bounds_checked --packet 02000000000202000000000186dd6000000000083b40200100000000000000000000000000012001000000000000000000000000000002aaaaaaaaaaaaaaaa
// bpfvm-expect: result ipv6 {"r0": 1, "verdict": "XDP_DROP"}
// bpfvm-expect: run runt xdp_bounds_checked --packet 020000000002020000000001
// bpfvm-expect: result runt {"r0": 1, "verdict": "XDP_DROP"}
//
// REJECTED: reads the EtherType at data+12 without first comparing
// data + sizeof(struct ethhdr) against data_end. The verifier only allows
// packet reads inside a range proven by such a comparison ("invalid access to
// packet, off=12 size=1, R1(id=0,off=12,r=0)": clang reads the EtherType a
// byte at a time).
// The passing twin xdp_bounds_checked has the check (and drops runts).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_no_bounds_check(struct xdp_md *ctx) {
    struct ethhdr *eth = (void *)(long)ctx->data;
    // Missing: if ((void *)(eth + 1) > (void *)(long)ctx->data_end) return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int xdp_bounds_checked(struct xdp_md *ctx) {
    struct ethhdr *eth = (void *)(long)ctx->data;
    if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
