// bpfvm-expect: program xdp xdp_redirect_map xdp
// bpfvm-expect: program xdp xdp_redirect_ifindex xdp
// bpfvm-expect: map tx_ports devmap 4 4 8
// bpfvm-expect: map .rodata array 4 4 1
// bpfvm-expect: verdict xdp_redirect_map accept
// bpfvm-expect: verdict xdp_redirect_ifindex accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run reflect xdp_redirect_ifindex --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result reflect {"r0": 4, "verdict": "XDP_REDIRECT", "redirect": {"map": null, "target": 1}, "packet": "02000000000102000000000208004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000"}
// bpfvm-expect: run miss xdp_redirect_map --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result miss {"r0": 2, "verdict": "XDP_PASS"}
// bpfvm-expect: run hit xdp_redirect_map --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000 --map tx_ports=inputs/tx_ports_1_to_5.json
// bpfvm-expect: result hit {"r0": 4, "verdict": "XDP_REDIRECT", "redirect": {"map": "tx_ports", "target": 1}}
//
// Two ways to forward a packet out of another interface from XDP:
//  - xdp_redirect_map: look up the egress port in a devmap keyed by the
//    ingress ifindex (bpf_redirect_map, falls back to XDP_PASS on a miss);
//  - xdp_redirect_ifindex: swap the MAC addresses and bpf_redirect to a fixed
//    ifindex taken from a .rodata configuration constant.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __type(key, __u32);   // ingress ifindex modulo 8
    __type(value, __u32); // egress ifindex
    __uint(max_entries, 8);
} tx_ports SEC(".maps");

const volatile __u32 egress_ifindex = 1;

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx) {
    __u32 slot = ctx->ingress_ifindex % 8;
    // The low bits of flags give the action returned when the slot is empty.
    return bpf_redirect_map(&tx_ports, slot, XDP_PASS);
}

SEC("xdp")
int xdp_redirect_ifindex(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    // Reflect: swap source and destination MAC addresses.
    unsigned char tmp[ETH_ALEN];
    __builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
    return bpf_redirect(egress_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
