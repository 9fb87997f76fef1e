// bpfvm-expect: program xdp xdp_count xdp
// bpfvm-expect: map proto_counts array 4 8 256
// bpfvm-expect: map .bss array 4 8 1
// bpfvm-expect: verdict xdp_count accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run tcp xdp_count --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result tcp {"r0": 2, "verdict": "XDP_PASS", "maps": {"proto_counts": {"entries": [{"key": 6, "value": 1}, {"key": 17, "value": 0}]}}, "error": null}
// bpfvm-expect: run ipv6 xdp_count --packet 02000000000202000000000186dd00000000000000000000000000000000000000000000000000000000000000000000000000000000
// bpfvm-expect: result ipv6 {"r0": 2, "verdict": "XDP_PASS", "maps": {"proto_counts": {"entries": [{"key": 6, "value": 0}]}}}
//
// Counts packets per IP protocol in an array map and passes everything.
// Demonstrates: a BTF-defined array map, a .bss global counter, a static
// __noinline subprogram and an atomic add on a map value.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 256);
} proto_counts SEC(".maps");

__u64 total_packets = 0;

static __noinline int count(__u32 proto) {
    __u64 *value = bpf_map_lookup_elem(&proto_counts, &proto);
    if (!value)
        return 0;
    __sync_fetch_and_add(value, 1);
    return 1;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    total_packets++;
    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    count(ip->protocol);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
