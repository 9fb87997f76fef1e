// bpfvm-expect: program xdp xdp_ttl_histogram_unchecked xdp
// bpfvm-expect: program xdp xdp_ttl_histogram xdp
// bpfvm-expect: map ttl_hist array 4 128 2
// bpfvm-expect: verdict xdp_ttl_histogram_unchecked reject out-of-bounds invalid access to map value, value_size=128 off=248 size=8 R0 max value is outside of the allowed memory range
// bpfvm-expect: verdict xdp_ttl_histogram accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run ttl255 xdp_ttl_histogram --packet 02000000000202000000000108004500002800010000ff0666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result ttl255 {"r0": 2, "error": null, "maps": {"ttl_hist": {"entries": [{"key": 0, "value": {"slots": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]}}]}}}
// bpfvm-expect: run ttl64 xdp_ttl_histogram --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result ttl64 {"r0": 2, "error": null, "maps": {"ttl_hist": {"entries": [{"key": 0, "value": {"slots": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]}}]}}}
//
// REJECTED: an index computed from packet data is used to address an array
// inside a map value without checking it against the array's size. The IPv4
// TTL (0..255) divided by 8 gives 32 possible buckets, but the histogram has
// only 16 slots, so slots[ttl >> 3] can reach past the end of the 128-byte map
// value. The verifier tracks the index as a scalar in [0, 31] and refuses the
// access because its largest value is outside the value.
// The passing twin xdp_ttl_histogram clamps the bucket to the last slot first
// (buckets above 15 share it), the usual fix.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NSLOTS 16

struct histogram {
    __u64 slots[NSLOTS];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct histogram);
    __uint(max_entries, 2); // 0: IPv4 TTL, 1: unused
} ttl_hist SEC(".maps");

static __always_inline struct iphdr *ipv4_header(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return NULL;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return NULL;
    return ip;
}

SEC("xdp")
int xdp_ttl_histogram_unchecked(struct xdp_md *ctx) {
    struct iphdr *ip = ipv4_header(ctx);
    if (!ip)
        return XDP_PASS;
    __u32 key = 0;
    struct histogram *h = bpf_map_lookup_elem(&ttl_hist, &key);
    if (!h)
        return XDP_PASS;
    __u32 bucket = ip->ttl >> 3; // 0..31, but slots has 16 entries
    h->slots[bucket] += 1;
    return XDP_PASS;
}

SEC("xdp")
int xdp_ttl_histogram(struct xdp_md *ctx) {
    struct iphdr *ip = ipv4_header(ctx);
    if (!ip)
        return XDP_PASS;
    __u32 key = 0;
    struct histogram *h = bpf_map_lookup_elem(&ttl_hist, &key);
    if (!h)
        return XDP_PASS;
    __u32 bucket = ip->ttl >> 3;
    if (bucket >= NSLOTS)
        bucket = NSLOTS - 1;
    h->slots[bucket] += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
