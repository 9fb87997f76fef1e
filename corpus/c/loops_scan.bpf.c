// bpfvm-expect: program xdp xdp_scan_payload xdp
// bpfvm-expect: program syscall aggregate_ports syscall
// bpfvm-expect: map port_packets array 4 8 256
// bpfvm-expect: map last_scan array 4 24 1
// bpfvm-expect: map port_states hash 2 16 1024
// bpfvm-expect: map .rodata array 4 28 1
// bpfvm-expect: map .bss array 4 32 1
// bpfvm-expect: verdict xdp_scan_payload accept
// bpfvm-expect: verdict aggregate_ports accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run http xdp_scan_payload --packet 02000000000202000000000108004500004200010000400666b30a0000010a0000029c400050000003e8000000007018faf0f4eb0000020405b401010402474554202f20485454502f312e300d0a0d0a
// bpfvm-expect: result http {"r0": 2, "error": null, "maps": {"last_scan": {"entries": [{"key": 0, "value": {"mss": 1460, "signature": 1, "scanned": 18, "nonprint": 4, "word_sum": 56991, "words": 9}}]}, "port_packets": {"entries": [{"key": 80, "value": 1}]}}}
// bpfvm-expect: run ssh xdp_scan_payload --packet 02000000000202000000000108004500004b00010000400666aa0a0000010a0000029c410016000003e8000000008018faf002c300000101080a00000000000000005353482d322e302d4f70656e5353485f392e320d0a0001
// bpfvm-expect: result ssh {"r0": 1, "verdict": "XDP_DROP", "error": null, "maps": {"last_scan": {"entries": [{"key": 0, "value": {"mss": 0, "signature": 4, "scanned": 23, "nonprint": 4, "word_sum": 50088, "words": 11}}]}}}
// bpfvm-expect: run binary xdp_scan_payload --packet 02000000000202000000000108004500008c00010000400666690a0000010a0000029c4201bb000003e8000000005018faf0c6f4000000020406080a0c0e10121416181a1c1e20222426282a2c2e30323436383a3c3e40424446484a4c4e50525456585a5c5e60626466686a6c6e70727476787a7c7e80828486888a8c8e90929496989a9c9ea0a2a4a6a8aaacaeb0b2b4b6b8babcbec0c2c4c6
// bpfvm-expect: result binary {"r0": 2, "error": null, "maps": {"last_scan": {"entries": [{"key": 0, "value": {"mss": 0, "signature": 0, "scanned": 64, "nonprint": 16, "word_sum": 51207, "words": 32}}]}, "port_packets": {"entries": [{"key": 187, "value": 1}]}}}
// bpfvm-expect: run aggregate aggregate_ports --map port_packets=inputs/port_packets_3.json --map port_states=inputs/port_states_5.json
// bpfvm-expect: result aggregate {"r0": 256, "error": null, "maps": {".bss": {"entries": [{"value": {"summary": {"total": 14, "max": 7, "max_port": 187, "nonzero": 3, "stale_deleted": 2}}}]}}}
//
// Every loop form the kernel verifier accepts, in the jobs real programs use
// them for:
//  - xdp_scan_payload (an IDS-like payload scanner):
//    * `#pragma unroll` over the TCP options (at most 10, one option per
//      iteration, kinds 0/1 and length-prefixed ones), to find the MSS;
//    * a bounded `for` with a constant trip count: an unrolled compare of the
//      first bytes against each signature of a small table in .rodata;
//    * a loop bounded by a checked variable: the payload length, clamped
//      with `if (n > MAX_SCAN) n = MAX_SCAN`, then a byte loop with a packet
//      bounds check inside;
//    * bpf_loop() with a context struct on the stack (packet pointers, an
//      offset and an accumulator) to add up the payload's 16-bit words;
//  - aggregate_ports (a syscall program user space runs on demand):
//    * bpf_for_each_map_elem over an array map (sum, maximum and its index),
//    * bpf_for_each_map_elem over a hash map, deleting stale entries from
//      inside the callback and stopping early after a budget of deletions.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_TCP_OPTIONS 10
#define MAX_SCAN 64
#define SIG_LEN 4
#define NSIGS 4

struct scan_result {
    __u32 mss;
    __u32 signature; // 1 + index of the matched signature, 0 for none
    __u32 scanned;   // payload bytes looked at
    __u32 nonprint;  // of those, bytes outside 0x20..0x7e
    __u32 word_sum;  // one's complement sum of the payload's 16-bit words
    __u32 words;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct scan_result);
    __uint(max_entries, 1);
} last_scan SEC(".maps");

// Packets per destination port (low 8 bits), and per-port state for the
// aggregation.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 256);
} port_packets SEC(".maps");

struct port_state {
    __u64 last_seen; // a sequence number, not a time
    __u64 packets;
};
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);
    __type(value, struct port_state);
    __uint(max_entries, 1024);
} port_states SEC(".maps");

struct bpf_map; // opaque: the callbacks only pass it back to map helpers

const volatile char signatures[NSIGS][SIG_LEN] = {"GET ", "POST", "HTTP", "SSH-"};
const volatile __u64 stale_before = 100; // entries last seen before this are stale
const volatile __u32 delete_budget = 2;

struct aggregate {
    __u64 total;
    __u64 max;
    __u32 max_port;
    __u32 nonzero;
    __u32 stale_deleted;
    __u32 live;
};
struct aggregate summary; // .bss

// --- XDP --------------------------------------------------------------------------

static __always_inline __u32 tcp_mss(struct tcphdr *tcp, void *data_end) {
    __u8 *opt = (__u8 *)(tcp + 1);
    __u8 *end = (__u8 *)tcp + tcp->doff * 4;
    __u32 mss = 0;
#pragma unroll
    for (int i = 0; i < MAX_TCP_OPTIONS; i++) {
        // Two bytes (kind and length) must be there; a no-op in the very last
        // byte of the packet is not worth a second bounds check.
        if ((void *)(opt + 2) > data_end || opt >= end)
            break;
        __u8 kind = opt[0];
        if (kind == 0) // end of options
            break;
        __u8 len = kind == 1 ? 1 : opt[1]; // a no-op is one byte
        if (len == 0)
            break;
        if (kind == 2 && len == 4 && (void *)(opt + 4) <= data_end)
            mss = (opt[2] << 8) | opt[3];
        opt += len;
    }
    return mss;
}

static __always_inline __u32 match_signature(__u8 *payload, void *data_end) {
    if ((void *)(payload + SIG_LEN) > data_end)
        return 0;
    for (int s = 0; s < NSIGS; s++) {
        int same = 1;
        for (int i = 0; i < SIG_LEN; i++) {
            if (payload[i] != (__u8)signatures[s][i])
                same = 0;
        }
        if (same)
            return s + 1;
    }
    return 0;
}

struct sum_ctx {
    void *data;
    void *data_end;
    __u32 offset;
    __u32 sum;
    __u32 words;
};

static int add_word(__u32 index, void *ctx) {
    struct sum_ctx *c = ctx;
    if (c->offset > 1500)
        return 1;
    __u16 *word = c->data + c->offset;
    if ((void *)(word + 1) > c->data_end)
        return 1;
    c->sum += bpf_ntohs(*word);
    c->offset += 2;
    c->words++;
    return 0;
}

SEC("xdp")
int xdp_scan_payload(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_TCP)
        return XDP_PASS;
    struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
    if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
        return XDP_PASS;

    __u32 port = bpf_ntohs(tcp->dest) & 0xff;
    __u64 *count = bpf_map_lookup_elem(&port_packets, &port);
    if (count)
        __sync_fetch_and_add(count, 1);

    __u32 zero = 0;
    struct scan_result *r = bpf_map_lookup_elem(&last_scan, &zero);
    if (!r)
        return XDP_PASS;
    __builtin_memset(r, 0, sizeof(*r));
    r->mss = tcp_mss(tcp, data_end);

    __u8 *payload = (__u8 *)tcp + tcp->doff * 4;
    if ((void *)payload > data_end)
        return XDP_PASS;
    r->signature = match_signature(payload, data_end);

    // The payload length as the IP header gives it, clamped for the verifier.
    __u32 n = bpf_ntohs(ip->tot_len) - ip->ihl * 4 - tcp->doff * 4;
    if (n > MAX_SCAN)
        n = MAX_SCAN;
    __u32 nonprint = 0, i;
    for (i = 0; i < n; i++) {
        if ((void *)(payload + i + 1) > data_end)
            break;
        __u8 c = payload[i];
        if (c < 0x20 || c > 0x7e)
            nonprint++;
    }
    r->scanned = i;
    r->nonprint = nonprint;

    struct sum_ctx sc = {.data = data, .data_end = data_end, .offset = (void *)payload - data};
    bpf_loop(MAX_SCAN / 2, add_word, &sc, 0);
    while (sc.sum >> 16)
        sc.sum = (sc.sum & 0xffff) + (sc.sum >> 16);
    r->word_sum = sc.sum;
    r->words = sc.words;
    return r->signature == 4 ? XDP_DROP : XDP_PASS; // no SSH here
}

// --- syscall: aggregation over maps ----------------------------------------------------

static long sum_ports(struct bpf_map *map, __u32 *key, __u64 *value, struct aggregate *agg) {
    if (*value == 0)
        return 0;
    agg->total += *value;
    agg->nonzero++;
    if (*value > agg->max) {
        agg->max = *value;
        agg->max_port = *key;
    }
    return 0; // go on
}

struct sweep_ctx {
    __u64 stale_before;
    __u32 budget;
    __u32 deleted;
    __u32 live;
};

static long sweep_states(struct bpf_map *map, __u16 *key, struct port_state *state, struct sweep_ctx *sc) {
    if (state->last_seen >= sc->stale_before) {
        sc->live++;
        return 0;
    }
    if (sc->deleted >= sc->budget)
        return 1; // stop: enough work for one run
    bpf_map_delete_elem(map, key);
    sc->deleted++;
    return 0;
}

SEC("syscall")
int aggregate_ports(void *ctx) {
    struct aggregate agg = {};
    long visited = bpf_for_each_map_elem(&port_packets, sum_ports, &agg, 0);
    struct sweep_ctx sc = {.stale_before = stale_before, .budget = delete_budget};
    bpf_for_each_map_elem(&port_states, sweep_states, &sc, 0);
    agg.stale_deleted = sc.deleted;
    agg.live = sc.live;
    summary = agg;
    return visited;
}

char LICENSE[] SEC("license") = "GPL";
