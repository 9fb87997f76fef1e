// bpfvm-expect: program xdp xdp_entry xdp
// bpfvm-expect: program xdp xdp_tcp xdp
// bpfvm-expect: program xdp xdp_udp xdp
// bpfvm-expect: map stages prog_array 4 4 2
// bpfvm-expect: map redirect_ports hash 2 4 64
// bpfvm-expect: map tx_devs devmap 4 4 8
// bpfvm-expect: map l4_stats array 4 32 2
// bpfvm-expect: map .rodata array 4 8 1
// bpfvm-expect: map .bss array 4 16 1
// bpfvm-expect: verdict xdp_entry accept
// bpfvm-expect: verdict xdp_tcp accept
// bpfvm-expect: verdict xdp_udp accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run tcp xdp_entry --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000029c400050000003e8000000005002faf000770000
// bpfvm-expect: result tcp {"r0": 2, "error": null, "maps": {"l4_stats": {"entries": [{"key": 0, "value": {"packets": 1, "bytes": 20, "redirected": 0}}, {"key": 1, "value": {"packets": 0}}]}, ".bss": {"entries": [{"value": {"no_meta": 0, "not_handled": 0}}]}}}
// bpfvm-expect: run redirect xdp_entry --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000029c400016000003e8000000005002faf000b10000 --map redirect_ports=inputs/redirect_port_22.json --map tx_devs=inputs/tx_dev_1_ifindex_7.json
// bpfvm-expect: result redirect {"r0": 4, "verdict": "XDP_REDIRECT", "redirect": {"map": "tx_devs", "target": 1}, "error": null, "maps": {"l4_stats": {"entries": [{"key": 0, "value": {"packets": 1, "redirected": 1}}]}}}
// bpfvm-expect: run udp_trim xdp_entry --packet 0200000000020200000000010800450000e400010000401166060a0000010a0000020fa0270f00d0e065000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7
// bpfvm-expect: result udp_trim {"r0": 2, "error": null, "packet": "0200000000020200000000010800450000e400010000401166060a0000010a0000020fa0270f00d0e065000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f", "maps": {"l4_stats": {"entries": [{"key": 1, "value": {"packets": 1, "bytes": 200, "trimmed": 1}}]}}}
// bpfvm-expect: run direct_udp xdp_udp --packet 02000000000202000000000108004500003000010000401166ba0a0000010a0000020fa00035001c6d707171717171717171717171717171717171717171
// bpfvm-expect: result direct_udp {"r0": 2, "error": null, "maps": {".bss": {"entries": [{"value": {"no_meta": 1}}]}}}
// bpfvm-expect: run udp_small xdp_entry --packet 02000000000202000000000108004500003000010000401166ba0a0000010a0000020fa00035001c6d707171717171717171717171717171717171717171
// bpfvm-expect: result udp_small {"r0": 2, "error": null, "packet": "02000000000202000000000108004500003000010000401166ba0a0000010a0000020fa00035001c6d707171717171717171717171717171717171717171", "maps": {"l4_stats": {"entries": [{"key": 1, "value": {"packets": 1, "bytes": 20, "trimmed": 0}}]}}}
// bpfvm-expect: run no_meta xdp_tcp --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000029c400050000003e8000000005002faf000770000
// bpfvm-expect: result no_meta {"r0": 2, "error": null, "maps": {".bss": {"entries": [{"value": {"no_meta": 1}}]}, "l4_stats": {"entries": [{"key": 0, "value": {"packets": 0}}]}}}
//
// A parse-once pipeline, as Cilium and other XDP datapaths split their work:
// the entry program parses the headers, leaves what it found in the XDP
// metadata area in front of the packet (bpf_xdp_adjust_meta), and tail-calls
// the program for the L4 protocol through a prog_array; those read the
// metadata back through ctx->data_meta instead of parsing again.
//  - data_meta pointers: the metadata must be checked against data (not
//    data_end) before it is read; the stages remove it again once read;
//  - offsets read from the metadata are bounded before use in packet
//    pointer arithmetic;
//  - the TCP stage redirects flows for some ports to another interface with
//    bpf_redirect_map on a devmap (XDP_PASS when the slot is empty);
//  - the UDP stage trims oversized datagrams to a sampling length with
//    bpf_xdp_adjust_tail when asked to (a `const volatile` flag), and
//    otherwise counts them;
//  - prog_array slots are filled at load time from the `.values` initialiser.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { SLOT_TCP, SLOT_UDP, SLOTS };

struct meta {
    __u16 l3_offset;
    __u16 l4_offset;
    __u8 proto;
    __u8 family;
    __u16 payload_len; // L4 header and payload, from the IP header
};

struct l4_stats {
    __u64 packets;
    __u64 bytes;
    __u64 redirected;
    __u64 trimmed;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct l4_stats);
    __uint(max_entries, SLOTS);
} l4_stats SEC(".maps");

// Egress interfaces by slot; TCP ports to slots in redirect_ports.
struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 8);
} tx_devs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);   // TCP destination port, host order
    __type(value, __u32); // tx_devs slot
    __uint(max_entries, 64);
} redirect_ports SEC(".maps");

const volatile bool trim_udp = true;
const volatile __u32 udp_sample_len = 128; // bytes of UDP payload kept

__u64 no_meta;     // .bss: stage programs run without metadata
__u64 not_handled; // entry: nothing to tail-call to

int xdp_tcp(struct xdp_md *ctx);
int xdp_udp(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, SLOTS);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} stages SEC(".maps") = {
    .values = {[SLOT_TCP] = (void *)&xdp_tcp, [SLOT_UDP] = (void *)&xdp_udp},
};

static __always_inline void count(__u32 slot, __u64 bytes, int redirected, int trimmed) {
    struct l4_stats *s = bpf_map_lookup_elem(&l4_stats, &slot);
    if (!s)
        return;
    __sync_fetch_and_add(&s->packets, 1);
    __sync_fetch_and_add(&s->bytes, bytes);
    if (redirected)
        __sync_fetch_and_add(&s->redirected, 1);
    if (trimmed)
        __sync_fetch_and_add(&s->trimmed, 1);
}

// Copies the metadata in front of the packet to *out and removes it from the
// packet (this pipeline consumes it; one handing it on to tc would leave it).
// Returns 0, or -1 when there is none.
static __always_inline int take_meta(struct xdp_md *ctx, struct meta *out) {
    void *data = (void *)(long)ctx->data;
    struct meta *m = (void *)(long)ctx->data_meta;
    if ((void *)(m + 1) > data) {
        __sync_fetch_and_add(&no_meta, 1);
        return -1;
    }
    *out = *m;
    bpf_xdp_adjust_meta(ctx, sizeof(*m));
    return 0;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct meta m = {};
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    m.l3_offset = sizeof(*eth);
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = data + m.l3_offset;
        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return XDP_DROP;
        m.family = 4;
        m.proto = ip->protocol;
        m.l4_offset = m.l3_offset + ip->ihl * 4;
        m.payload_len = bpf_ntohs(ip->tot_len) - ip->ihl * 4;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = data + m.l3_offset;
        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        m.family = 6;
        m.proto = ip6->nexthdr;
        m.l4_offset = m.l3_offset + sizeof(*ip6);
        m.payload_len = bpf_ntohs(ip6->payload_len);
    } else {
        return XDP_PASS;
    }
    __u32 slot;
    if (m.proto == IPPROTO_TCP)
        slot = SLOT_TCP;
    else if (m.proto == IPPROTO_UDP)
        slot = SLOT_UDP;
    else
        return XDP_PASS;

    // Make room for the metadata and copy it there: the packet pointers are
    // invalid after the helper, data_meta and data are loaded again.
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)))
        return XDP_PASS;
    struct meta *room = (void *)(long)ctx->data_meta;
    if ((void *)(room + 1) > (void *)(long)ctx->data)
        return XDP_PASS;
    *room = m;
    bpf_tail_call(ctx, &stages, slot);
    // No program in the slot: take the metadata back out.
    __sync_fetch_and_add(&not_handled, 1);
    bpf_xdp_adjust_meta(ctx, sizeof(struct meta));
    return XDP_PASS;
}

SEC("xdp")
int xdp_tcp(struct xdp_md *ctx) {
    struct meta m;
    if (take_meta(ctx, &m))
        return XDP_PASS;
    __u32 l4_offset = m.l4_offset;
    __u16 payload_len = m.payload_len;
    if (l4_offset > 14 + 60 + 40) // at most Ethernet + IPv4 with options or IPv6
        return XDP_DROP;
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct tcphdr *tcp = data + l4_offset;
    if ((void *)(tcp + 1) > data_end)
        return XDP_DROP;
    __u16 dport = bpf_ntohs(tcp->dest);
    __u32 *dev_slot = bpf_map_lookup_elem(&redirect_ports, &dport);
    if (dev_slot) {
        long action = bpf_redirect_map(&tx_devs, *dev_slot, XDP_PASS);
        count(SLOT_TCP, payload_len, action == XDP_REDIRECT, 0);
        return action;
    }
    count(SLOT_TCP, payload_len, 0, 0);
    return XDP_PASS;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx) {
    struct meta m;
    if (take_meta(ctx, &m))
        return XDP_PASS;
    __u32 l4_offset = m.l4_offset;
    if (l4_offset > 14 + 60 + 40)
        return XDP_DROP;
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct udphdr *udp = data + l4_offset;
    if ((void *)(udp + 1) > data_end)
        return XDP_DROP;
    __u32 payload = bpf_ntohs(udp->len);
    if (payload < sizeof(*udp))
        return XDP_DROP;
    payload -= sizeof(*udp);
    __u32 have = data_end - (void *)(udp + 1);
    if (trim_udp && payload > udp_sample_len && have > udp_sample_len) {
        // Keep the headers and udp_sample_len bytes of payload.
        int excess = have - udp_sample_len;
        if (bpf_xdp_adjust_tail(ctx, -excess))
            return XDP_ABORTED;
        count(SLOT_UDP, payload, 0, 1);
        return XDP_PASS;
    }
    count(SLOT_UDP, payload, 0, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
