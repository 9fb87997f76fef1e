// bpfvm-expect: program xdp xdp_route xdp
// bpfvm-expect: map routes lpm_trie 8 4 256
// bpfvm-expect: map flows hash 8 16 4096
// bpfvm-expect: map recent_sources lru_hash 4 8 1024
// bpfvm-expect: map per_cpu_totals percpu_array 4 16 1
// bpfvm-expect: map new_flows queue 0 8 128
// bpfvm-expect: verdict xdp_route accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run tcp xdp_route --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result tcp {"r0": 2, "maps": {"flows": {"entries": [{"key": {"saddr": 16777226, "daddr": 33554442}, "value": {"packets": 1, "bytes": 54}}]}, "new_flows": {"values": [16777226]}, "per_cpu_totals": {"entries": [{"key": 0, "values": [{"packets": 1, "bytes": 54}]}]}, "recent_sources": {"entries": [{"key": 16777226, "value": 1000000000}]}}}
//
// One program using five map types as they are usually combined:
//  - routes (LPM trie, needs BPF_F_NO_PREALLOC): longest-prefix match of the
//    IPv4 destination; the value is an action (XDP_PASS or XDP_DROP);
//  - flows (hash): packet and byte counters per (saddr, daddr);
//  - recent_sources (LRU hash): last-seen timestamp per source address;
//  - per_cpu_totals (per-CPU array): lock-free totals;
//  - new_flows (queue, no key): source addresses of newly seen flows, for
//    user space to pop.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_v4_key {
    __u32 prefixlen; // in bits, must come first
    __u32 addr;      // network byte order
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_v4_key);
    __type(value, __u32);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct flow_key {
    __u32 saddr;
    __u32 daddr;
};
struct flow_stats {
    __u64 packets;
    __u64 bytes;
};
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
    __uint(max_entries, 4096);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1024);
} recent_sources SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct flow_stats);
    __uint(max_entries, 1);
} per_cpu_totals SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __type(value, __u64);
    __uint(max_entries, 128);
} new_flows SEC(".maps");

SEC("xdp")
int xdp_route(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    __u64 len = data_end - data;

    __u32 zero = 0;
    struct flow_stats *total = bpf_map_lookup_elem(&per_cpu_totals, &zero);
    if (total) {
        total->packets++;
        total->bytes += len;
    }

    __u32 saddr = ip->saddr;
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&recent_sources, &saddr, &now, BPF_ANY);

    struct flow_key fk = {.saddr = ip->saddr, .daddr = ip->daddr};
    struct flow_stats *fs = bpf_map_lookup_elem(&flows, &fk);
    if (fs) {
        __sync_fetch_and_add(&fs->packets, 1);
        __sync_fetch_and_add(&fs->bytes, len);
    } else {
        struct flow_stats init = {.packets = 1, .bytes = len};
        bpf_map_update_elem(&flows, &fk, &init, BPF_NOEXIST);
        __u64 src = saddr;
        bpf_map_push_elem(&new_flows, &src, BPF_EXIST); // BPF_EXIST: overwrite oldest when full
    }

    struct lpm_v4_key key = {.prefixlen = 32, .addr = ip->daddr};
    __u32 *action = bpf_map_lookup_elem(&routes, &key);
    if (action && *action == XDP_DROP)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
