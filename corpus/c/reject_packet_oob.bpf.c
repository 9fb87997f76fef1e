// bpfvm-expect: program xdp xdp_no_bounds_check xdp
// bpfvm-expect: verdict xdp_no_bounds_check reject packet access without data_end check
// bpfvm-expect: loadable yes
//
// REJECTED: reads the EtherType at data+12 without first comparing
// data + sizeof(struct ethhdr) against data_end. The verifier only allows
// packet reads inside a range proven by such a comparison ("invalid access to
// packet, off=12 size=2, R=0").
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

char LICENSE[] SEC("license") = "GPL";
