// bpfvm-expect: program xdp xdp_flow_meter xdp
// bpfvm-expect: map flows lru_hash 40 24 16384
// bpfvm-expect: map shards percpu_array 4 16 8
// bpfvm-expect: map .rodata array 4 8 1
// bpfvm-expect: verdict xdp_flow_meter accept
// bpfvm-expect: bpfvm-verdict xdp_flow_meter reject pointer-leak unprivileged rules: clang computes data_end - data with a 32-bit copy of a pointer, which the kernel allows only with CAP_PERFMON (bpfvm verify --privileged accepts it)
// bpfvm-expect: loadable yes
// bpfvm-expect: run synflood xdp_flow_meter --repeat 5 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000029c400050000003e8000000005002faf000770000
// bpfvm-expect: result synflood {"r0": 1, "verdict": "XDP_DROP", "error": null, "maps": {"flows": {"entries": [{"key": {"sport": 16540, "dport": 20480, "proto": 6, "family": 4}, "value": {"packets": 5, "bytes": 270, "score": 15, "shard": 6}}]}, "shards": {"entries": [{"key": 6, "values": [{"packets": 5, "dropped": 2}]}]}}}
// bpfvm-expect: run capture xdp_flow_meter --pcap ../packets/firewall.pcap
// bpfvm-expect: result capture {"packets": 13, "verdicts": {"XDP_DROP": 5, "XDP_PASS": 8}, "error": null}
//
// A per-flow meter with a simple abuse detector, written the way larger XDP
// projects structure their code: several levels of __always_inline helpers
// around a few real (bpf-to-bpf) functions.
//  - static __noinline parse_packet(ctx, key, meta): the context and two
//    structs on the caller's stack, filled in by the callee, which calls a
//    second static __noinline function (parse_l4) with packet pointers;
//  - static __noinline hash_key(key): a pointer into the caller's stack, an
//    FNV-1a loop over its bytes, the hash returned and used to pick a shard;
//  - static __noinline account(value, bytes, flags): a map value pointer,
//    updated in place, the new packet count returned;
//  - a global function flow_verdict(value, limit), verified once on its own:
//    it gets a map value as a pointer to memory that may be NULL and must
//    check it;
//  - __always_inline chains: classify -> tcp_flag_score -> flag_weight.
// Counting is by packets, not time, so that a run is reproducible: a flow is
// dropped once it has sent more than `packet_limit` packets with a high
// suspicion score (SYN without ACK, FIN/RST storms).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SHARDS 8

struct flow_key {
    __u32 saddr[4];
    __u32 daddr[4];
    __u16 sport;
    __u16 dport;
    __u8 proto;
    __u8 family;
    __u16 pad;
};

struct packet_meta {
    __u32 bytes;
    __u8 tcp_flags;
    __u8 ttl;
    __u16 l4_offset;
};

struct flow_value {
    __u64 packets;
    __u64 bytes;
    __u32 score;
    __u32 shard;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
    __uint(max_entries, 16384);
} flows SEC(".maps");

struct shard_stats {
    __u64 packets;
    __u64 dropped;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct shard_stats);
    __uint(max_entries, SHARDS);
} shards SEC(".maps");

const volatile __u32 packet_limit = 3;
const volatile __u32 score_limit = 8;

enum parse_result { PARSE_OK, PARSE_SKIP, PARSE_BAD };

// --- the always-inline layers -------------------------------------------------

static __always_inline __u32 flag_weight(__u8 flags, __u8 bit, __u32 weight) {
    return (flags & bit) ? weight : 0;
}

static __always_inline __u32 tcp_flag_score(__u8 flags) {
    // SYN without ACK: a new connection; FIN or RST: a teardown; URG: rare.
    __u32 score = 0;
    if ((flags & 0x12) == 0x02)
        score += 3;
    score += flag_weight(flags, 0x01, 2); // FIN
    score += flag_weight(flags, 0x04, 2); // RST
    score += flag_weight(flags, 0x20, 4); // URG
    return score;
}

static __always_inline __u32 classify(const struct flow_key *key, const struct packet_meta *meta) {
    switch (key->proto) {
    case IPPROTO_TCP:
        return tcp_flag_score(meta->tcp_flags);
    case IPPROTO_UDP:
        return key->dport == bpf_htons(53) ? 0 : 1;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return meta->ttl < 16 ? 4 : 1; // traceroute-like probes
    default:
        return 2;
    }
}

// --- the real functions -----------------------------------------------------------

static __noinline int parse_l4(void *l4, void *data_end, struct flow_key *key, struct packet_meta *meta) {
    switch (key->proto) {
    case IPPROTO_TCP: {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return PARSE_BAD;
        key->sport = tcp->source;
        key->dport = tcp->dest;
        meta->tcp_flags = ((__u8 *)tcp)[13];
        return PARSE_OK;
    }
    case IPPROTO_UDP: {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return PARSE_BAD;
        key->sport = udp->source;
        key->dport = udp->dest;
        return PARSE_OK;
    }
    default:
        return PARSE_OK; // no ports
    }
}

static __noinline int parse_packet(struct xdp_md *ctx, struct flow_key *key, struct packet_meta *meta) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return PARSE_BAD;
    meta->bytes = data_end - data;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return PARSE_BAD;
        key->family = 4;
        key->proto = ip->protocol;
        key->saddr[0] = ip->saddr;
        key->daddr[0] = ip->daddr;
        meta->ttl = ip->ttl;
        meta->l4_offset = sizeof(*eth) + ip->ihl * 4;
        return parse_l4((void *)ip + ip->ihl * 4, data_end, key, meta);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end)
            return PARSE_BAD;
        key->family = 6;
        key->proto = ip6->nexthdr;
        __builtin_memcpy(key->saddr, &ip6->saddr, 16);
        __builtin_memcpy(key->daddr, &ip6->daddr, 16);
        meta->ttl = ip6->hop_limit;
        meta->l4_offset = sizeof(*eth) + sizeof(*ip6);
        return parse_l4(ip6 + 1, data_end, key, meta);
    }
    return PARSE_SKIP;
}

static __noinline __u32 hash_key(const struct flow_key *key) {
    const __u8 *bytes = (const __u8 *)key;
    __u32 hash = 2166136261u;
    for (int i = 0; i < (int)sizeof(*key); i++) {
        hash ^= bytes[i];
        hash *= 16777619u;
    }
    return hash;
}

static __noinline __u64 account(struct flow_value *value, __u32 bytes, __u32 score) {
    value->packets += 1;
    value->bytes += bytes;
    value->score += score;
    return value->packets;
}

// Global: verified without its callers' context, for any argument values.
__noinline int flow_verdict(const struct flow_value *value, __u32 limit) {
    if (!value)
        return XDP_PASS;
    if (value->packets > limit && value->score > score_limit)
        return XDP_DROP;
    return XDP_PASS;
}

// --- the program -------------------------------------------------------------------

static __always_inline void shard_count(__u32 shard, int dropped) {
    struct shard_stats *s = bpf_map_lookup_elem(&shards, &shard);
    if (!s)
        return;
    s->packets++;
    if (dropped)
        s->dropped++;
}

static __always_inline int meter(struct xdp_md *ctx) {
    struct flow_key key = {};
    struct packet_meta meta = {};
    int parsed = parse_packet(ctx, &key, &meta);
    if (parsed == PARSE_SKIP)
        return XDP_PASS;
    if (parsed == PARSE_BAD)
        return XDP_DROP;

    __u32 shard = hash_key(&key) % SHARDS;
    __u32 score = classify(&key, &meta);
    struct flow_value *value = bpf_map_lookup_elem(&flows, &key);
    if (!value) {
        struct flow_value fresh = {.shard = shard};
        bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST);
        value = bpf_map_lookup_elem(&flows, &key);
        if (!value)
            return XDP_PASS;
    }
    __u64 packets = account(value, meta.bytes, score);
    int verdict = flow_verdict(value, packet_limit);
    shard_count(shard, verdict == XDP_DROP);
    // The first packet of a flow always passes.
    return packets == 1 ? XDP_PASS : verdict;
}

SEC("xdp")
int xdp_flow_meter(struct xdp_md *ctx) {
    return meter(ctx);
}

char LICENSE[] SEC("license") = "GPL";
