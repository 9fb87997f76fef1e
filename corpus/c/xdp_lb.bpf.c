// bpfvm-expect: program xdp balancer_ingress xdp
// bpfvm-expect: map vip_map hash 20 8 16
// bpfvm-expect: map ch_rings array 4 4 1024
// bpfvm-expect: map reals array 4 20 64
// bpfvm-expect: map conn_table lru_hash 40 8 4096
// bpfvm-expect: map stats percpu_array 4 16 23
// bpfvm-expect: map ctl_array array 4 8 1
// bpfvm-expect: map .rodata array 4 182 1
// bpfvm-expect: verdict balancer_ingress accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run capture balancer_ingress --pcap inputs/lb.pcap --map vip_map=inputs/lb_vips.json --map ch_rings=inputs/lb_rings.json --map reals=inputs/lb_reals.json --map ctl_array=inputs/lb_ctl.json
// bpfvm-expect: result capture {"packets": 16, "verdicts": {"XDP_TX": 12, "XDP_PASS": 3, "XDP_DROP": 1}, "error": null, "maps": {"stats": {"entries": [{"key": 1, "values": [{"packets": 2, "bytes": 80}]}, {"key": 2, "values": [{"packets": 1, "bytes": 40}]}, {"key": 13, "values": [{"packets": 3, "bytes": 204}]}, {"key": 14, "values": [{"packets": 2, "bytes": 97}]}, {"key": 15, "values": [{"packets": 3, "bytes": 120}]}, {"key": 16, "values": [{"packets": 2}]}, {"key": 17, "values": [{"packets": 9}]}, {"key": 18, "values": [{"packets": 1}]}, {"key": 19, "values": [{"packets": 1, "bytes": 60}]}, {"key": 20, "values": [{"packets": 2}]}, {"key": 21, "values": [{"packets": 1}]}]}, "conn_table": {"entries": [{"value": {"real_index": 1, "vip_num": 1}}, {"value": {"real_index": 3, "vip_num": 2}}]}}}
// bpfvm-expect: run dynamic balancer_ingress --packet 02000000000202000000000108004500002800010000400664c30a0102030a000009c7381f90000003e8000000005002faf0b4340000 --map vip_map=inputs/lb_vips.json --map ch_rings=inputs/lb_rings.json --map reals=inputs/lb_reals.json --map ctl_array=inputs/lb_ctl.json
// bpfvm-expect: result dynamic {"r0": 3, "verdict": "XDP_TX", "error": null, "packet": "0200000000aa02000000000208004500003c000000004004302eac10dbd6c0a802014500002800010000400664c30a0102030a000009c7381f90000003e8000000005002faf0b4340000"}
// bpfvm-expect: run static_udp balancer_ingress --packet 02000000000202000000000108004500003900010000401166b10a0000020a00000114e9003500258b925a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
// bpfvm-expect: result static_udp {"r0": 3, "verdict": "XDP_TX", "error": null, "packet": "0200000000fe02000000000208004500004d0000000040044c12ac10c0d8c0a8010a4500003900010000401166b10a0000020a00000114e9003500258b925a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"}
// bpfvm-expect: run qinq_v6 balancer_ingress --packet 02000000000202000000000188a8000a8100006486dd600000000014064020010db800000000000000000000000120010db80000000000000000000000029c4301bb000003e8000000005002faf0b7960000
// bpfvm-expect: result qinq_v6 {"r0": 3, "verdict": "XDP_TX", "error": null, "packet": "0200000000fe02000000000286dd60025210003c2940fc0023070000000000000000a3c2521020010db800010000000000000000000a600000000014064020010db800000000000000000000000120010db80000000000000000000000029c4301bb000003e8000000005002faf0b7960000"}
// bpfvm-expect: run echo balancer_ingress --packet 02000000000202000000000108004500003c00010000400166be0a0000010a0000020800cfb4123400016161616161616161616161616161616161616161616161616161616161616161
// bpfvm-expect: result echo {"r0": 3, "verdict": "XDP_TX", "error": null, "packet": "02000000000102000000000208004500003c00010000400166be0a0000020a0000010000d7b4123400016161616161616161616161616161616161616161616161616161616161616161"}
//
// A Katran-style L4 load balancer (XDP). For a packet to a virtual IP (VIP) it
// picks a backend ("real") and sends the packet on to it encapsulated, IPv4 in
// IPv4 (IPIP) or IPv4/IPv6 in IPv6, with XDP_TX; everything else goes to the
// kernel (XDP_PASS).
//  - parsing: Ethernet, up to two 802.1Q/802.1ad VLAN tags (popped on encap),
//    IPv4 with options (ihl), IPv6 with up to four extension headers (hop by
//    hop, routing, destination options; fragments go to the kernel) in an
//    unrolled loop, TCP/UDP ports, ICMP/ICMPv6 echo to a VIP answered in
//    place;
//  - VIPs: a hash map keyed by (address, port, protocol), then the same with
//    port 0 ("all ports" VIPs), then a small table of static VIPs the control
//    plane sets in .rodata before load (with their own static reals), in that
//    order;
//  - backend choice: a connection table (LRU hash, keyed by the 5-tuple) keeps
//    established flows on their real; new flows hash the 5-tuple with jhash
//    into a per-VIP consistent-hashing ring (an array map) that names the real;
//  - rewrite: bpf_xdp_adjust_head for the outer headers, new Ethernet header
//    from the gateway MAC in a control array, outer IPv4 checksum computed over
//    the header in an unrolled loop, incremental ICMP checksum update;
//  - per-CPU statistics per VIP and for the global events.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// <linux/icmp.h> pulls in libc socket headers: the two headers are spelled out.
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
struct icmphdr {
    __u8 type;
    __u8 code;
    __sum16 checksum;
    __be16 id;
    __be16 sequence;
};
struct icmp6hdr {
    __u8 icmp6_type;
    __u8 icmp6_code;
    __sum16 icmp6_cksum;
    __be16 icmp6_identifier;
    __be16 icmp6_sequence;
};

#define MAX_VIPS 16
#define RING_SIZE 64
#define MAX_REALS 64
#define MAX_STATIC 4
#define MAX_IPV6_EXT 4
#define F_IPV6 (1 << 0)
#define F_HASH_NO_SRC_PORT (1 << 1)
#define F_STATIC (1 << 2)
#define IPIP_HEADROOM ((int)sizeof(struct iphdr))
#define IP6IP_HEADROOM ((int)sizeof(struct ipv6hdr))
#define INIT_JHASH_SEED 0x6a09e667

// Statistics slots after the per-VIP ones.
enum {
    STAT_LRU_HIT = MAX_VIPS,
    STAT_LRU_MISS,
    STAT_NOT_VIP,
    STAT_ICMP_REPLY,
    STAT_FRAGMENT,
    STAT_BAD_PACKET,
    STAT_NO_REAL,
    STAT_SLOTS,
};

struct vip_key {
    __be32 vip[4]; // IPv4 in vip[0]
    __be16 port;
    __u8 proto;
    __u8 pad;
};

struct vip_meta {
    __u32 flags;
    __u32 vip_num;
};

struct real_definition {
    __be32 dst[4];
    __u32 flags;
};

struct flow_key {
    __be32 src[4];
    __be32 dst[4];
    union {
        __u32 ports;
        __be16 port16[2];
    };
    __u8 proto;
    __u8 pad[3];
};

struct conn_state {
    __u32 real_index;
    __u32 vip_num;
};

struct lb_stats {
    __u64 packets;
    __u64 bytes;
};

struct ctl_value {
    __u8 gateway_mac[6];
    __u8 pad[2];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct vip_key);
    __type(value, struct vip_meta);
    __uint(max_entries, MAX_VIPS);
} vip_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32); // real index
    __uint(max_entries, MAX_VIPS * RING_SIZE);
} ch_rings SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct real_definition);
    __uint(max_entries, MAX_REALS);
} reals SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, struct flow_key);
    __type(value, struct conn_state);
    __uint(max_entries, 4096);
} conn_table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct lb_stats);
    __uint(max_entries, STAT_SLOTS);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct ctl_value);
    __uint(max_entries, 1);
} ctl_array SEC(".maps");

// Static configuration, filled in by the loader before load. Static VIPs use
// vip_num MAX_VIPS - 1 - i and pick one of the static reals by flow hash.
struct static_vip {
    struct vip_key key;
    __u32 flags;
};
const volatile struct static_vip static_vips[MAX_STATIC] = {
    {.key = {.vip = {0x0200000a}, .port = 0x5000, .proto = IPPROTO_TCP}}, // 10.0.0.2:80/tcp
    {.key = {.vip = {0x0100000a}, .port = 0x3500, .proto = IPPROTO_UDP}}, // 10.0.0.1:53/udp
    {.key = {.vip = {0xb80d0120, 0, 0, 0x02000000}, .port = 0xbb01, .proto = IPPROTO_TCP},
     .flags = F_IPV6}, // [2001:db8::2]:443/tcp
};
const volatile struct real_definition static_reals[MAX_STATIC] = {
    {.dst = {0x0a01a8c0}},                                        // 192.168.1.10
    {.dst = {0x0b01a8c0}},                                        // 192.168.1.11
    {.dst = {0xb80d0120, 0x00000100, 0, 0x0a000000}, .flags = F_IPV6}, // 2001:db8:1::a
    {.dst = {0xb80d0120, 0x00000100, 0, 0x0b000000}, .flags = F_IPV6}, // 2001:db8:1::b
};
const volatile __u8 static_gateway_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};

// Everything the parser found out about the packet.
// The offsets are 64-bit so that they are spilled to the stack whole: the
// verifier keeps the bounds of a whole spilled register, and needs them to
// accept packet accesses at data + offset.
struct packet_description {
    __u64 l3_offset; // of the IP header, from the start of the packet
    __u64 l4_offset;
    struct flow_key flow;
    __u32 flags;     // F_IPV6 for an IPv6 packet
    __u16 pkt_bytes;   // the IP packet's length (header included)
    __u8 tos;
    __u8 vlan_tags;
};

// --- jhash, as in the kernel's include/linux/jhash.h ------------------------

static __always_inline __u32 rol32(__u32 word, unsigned int shift) {
    return (word << shift) | (word >> ((-shift) & 31));
}

#define __jhash_mix(a, b, c)          \
    {                                 \
        a -= c; a ^= rol32(c, 4); c += b;  \
        b -= a; b ^= rol32(a, 6); a += c;  \
        c -= b; c ^= rol32(b, 8); b += a;  \
        a -= c; a ^= rol32(c, 16); c += b; \
        b -= a; b ^= rol32(a, 19); a += c; \
        c -= b; c ^= rol32(b, 4); b += a;  \
    }

#define __jhash_final(a, b, c)          \
    {                                   \
        c ^= b; c -= rol32(b, 14);      \
        a ^= c; a -= rol32(c, 11);      \
        b ^= a; b -= rol32(a, 25);      \
        c ^= b; c -= rol32(b, 16);      \
        a ^= c; a -= rol32(c, 4);       \
        b ^= a; b -= rol32(a, 14);      \
        c ^= b; c -= rol32(b, 24);      \
    }

#define JHASH_INITVAL 0xdeadbeef

static __always_inline __u32 __jhash_nwords(__u32 a, __u32 b, __u32 c, __u32 initval) {
    a += initval;
    b += initval;
    c += initval;
    __jhash_final(a, b, c);
    return c;
}

static __always_inline __u32 jhash_2words(__u32 a, __u32 b, __u32 initval) {
    return __jhash_nwords(a, b, 0, initval + JHASH_INITVAL + (2 << 2));
}

// jhash2 over four 32-bit words (an IPv6 address).
static __always_inline __u32 jhash_4words(const __u32 *k, __u32 initval) {
    __u32 a, b, c;
    a = b = c = JHASH_INITVAL + (4 << 2) + initval;
    a += k[0];
    b += k[1];
    c += k[2];
    __jhash_mix(a, b, c);
    a += k[3];
    __jhash_final(a, b, c);
    return c;
}

static __always_inline __u32 flow_hash(const struct packet_description *pckt, __u32 vip_flags) {
    __u32 ports = (vip_flags & F_HASH_NO_SRC_PORT) ? pckt->flow.port16[1] : pckt->flow.ports;
    if (pckt->flags & F_IPV6)
        return jhash_2words(jhash_4words(pckt->flow.src, MAX_VIPS), ports, INIT_JHASH_SEED);
    return jhash_2words(pckt->flow.src[0], ports, INIT_JHASH_SEED);
}

// --- statistics --------------------------------------------------------------

static __always_inline void count(__u32 slot, __u64 bytes) {
    struct lb_stats *s = bpf_map_lookup_elem(&stats, &slot);
    if (s) {
        s->packets += 1;
        s->bytes += bytes;
    }
}

// --- checksums ---------------------------------------------------------------

static __always_inline __u16 csum_fold_helper(__u64 csum) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (csum >> 16)
            csum = (csum & 0xffff) + (csum >> 16);
    }
    return ~csum;
}

static __always_inline void ipv4_csum_inline(struct iphdr *iph) {
    __u16 *next_iph_u16 = (__u16 *)iph;
    __u64 csum = 0;
    iph->check = 0;
#pragma clang loop unroll(full)
    for (int i = 0; i < (int)(sizeof(*iph) >> 1); i++)
        csum += *next_iph_u16++;
    iph->check = csum_fold_helper(csum);
}

// RFC 1624 incremental update of a checksum for one 16-bit word change.
static __always_inline __u16 csum_replace2(__u16 check, __u16 old, __u16 new) {
    __u32 csum = (__u16)~check + (__u16)~old + new;
    csum = (csum & 0xffff) + (csum >> 16);
    csum = (csum & 0xffff) + (csum >> 16);
    return ~csum;
}

// --- parsing -----------------------------------------------------------------

// Returns the EtherType after the VLAN tags, or 0 for a malformed frame.
static __always_inline __u16 parse_eth(void *data, void *data_end, struct packet_description *pckt) {
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return 0;
    __u16 proto = eth->h_proto;
    __u64 off = sizeof(*eth);
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        __be16 *tag = data + off; // TCI, then the next EtherType
        if ((void *)(tag + 2) > data_end)
            return 0;
        proto = tag[1];
        off += 4;
        pckt->vlan_tags++;
    }
    pckt->l3_offset = off;
    return proto;
}

enum verdict { PARSED = -1 };

// Fills the flow's addresses and protocol, and the L4 offset. Returns PARSED,
// or the XDP action to take now.
static __always_inline int parse_ipv4(void *data, void *data_end, struct packet_description *pckt) {
    struct iphdr *iph = data + pckt->l3_offset;
    if ((void *)(iph + 1) > data_end)
        return XDP_DROP;
    if (iph->ihl < 5)
        return XDP_DROP;
    // Fragments carry no (or partial) ports: leave them to the kernel.
    if (iph->frag_off & bpf_htons(0x3fff)) {
        count(STAT_FRAGMENT, 0);
        return XDP_PASS;
    }
    pckt->tos = iph->tos;
    pckt->pkt_bytes = bpf_ntohs(iph->tot_len);
    pckt->flow.proto = iph->protocol;
    pckt->flow.src[0] = iph->saddr;
    pckt->flow.dst[0] = iph->daddr;
    pckt->l4_offset = pckt->l3_offset + iph->ihl * 4;
    return PARSED;
}

static __always_inline int parse_ipv6(void *data, void *data_end, struct packet_description *pckt) {
    struct ipv6hdr *ip6h = data + pckt->l3_offset;
    if ((void *)(ip6h + 1) > data_end)
        return XDP_DROP;
    pckt->flags |= F_IPV6;
    pckt->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
    pckt->pkt_bytes = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
    __builtin_memcpy(pckt->flow.src, ip6h->saddr.s6_addr32, 16);
    __builtin_memcpy(pckt->flow.dst, ip6h->daddr.s6_addr32, 16);
    __u8 nexthdr = ip6h->nexthdr;
    __u64 off = pckt->l3_offset + sizeof(*ip6h);
#pragma unroll
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
        switch (nexthdr) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS: {
            struct ipv6_opt_hdr *opt = data + off;
            if ((void *)(opt + 1) > data_end)
                return XDP_DROP;
            nexthdr = opt->nexthdr;
            off += (opt->hdrlen + 1) * 8;
            break;
        }
        case IPPROTO_FRAGMENT:
            count(STAT_FRAGMENT, 0);
            return XDP_PASS;
        default:
            goto done;
        }
    }
done:
    pckt->flow.proto = nexthdr;
    pckt->l4_offset = off;
    return PARSED;
}

static __always_inline int parse_ports(void *data, void *data_end, struct packet_description *pckt) {
    void *l4 = data + pckt->l4_offset;
    switch (pckt->flow.proto) {
    case IPPROTO_TCP: {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return XDP_DROP;
        pckt->flow.port16[0] = tcp->source;
        pckt->flow.port16[1] = tcp->dest;
        return PARSED;
    }
    case IPPROTO_UDP: {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return XDP_DROP;
        pckt->flow.port16[0] = udp->source;
        pckt->flow.port16[1] = udp->dest;
        return PARSED;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return PARSED; // ports stay 0
    default:
        return XDP_PASS;
    }
}

// --- VIP lookup ----------------------------------------------------------------

static __always_inline int find_vip(const struct packet_description *pckt, struct vip_meta *out) {
    struct vip_key key = {};
    __builtin_memcpy(key.vip, pckt->flow.dst, sizeof(key.vip));
    key.port = pckt->flow.port16[1];
    key.proto = pckt->flow.proto;
    struct vip_meta *meta = bpf_map_lookup_elem(&vip_map, &key);
    if (!meta) {
        key.port = 0; // an all-ports VIP
        meta = bpf_map_lookup_elem(&vip_map, &key);
    }
    if (meta) {
        if (meta->vip_num >= MAX_VIPS)
            return -1;
        *out = *meta;
        return 0;
    }
    key.port = pckt->flow.port16[1];
#pragma unroll
    for (int i = 0; i < MAX_STATIC; i++) {
        if (static_vips[i].key.proto != key.proto || static_vips[i].key.port != key.port)
            continue;
        if (static_vips[i].key.vip[0] != key.vip[0] || static_vips[i].key.vip[1] != key.vip[1] ||
            static_vips[i].key.vip[2] != key.vip[2] || static_vips[i].key.vip[3] != key.vip[3])
            continue;
        out->flags = static_vips[i].flags | F_STATIC;
        out->vip_num = MAX_VIPS - 1 - i;
        return 0;
    }
    return -1;
}

// Is the destination address a VIP (on any port)? For ICMP echo.
static __always_inline int is_vip_address(const struct packet_description *pckt) {
    struct vip_key key = {};
    __builtin_memcpy(key.vip, pckt->flow.dst, sizeof(key.vip));
    key.proto = IPPROTO_TCP; // an all-ports TCP VIP on that address
    if (bpf_map_lookup_elem(&vip_map, &key))
        return 1;
#pragma unroll
    for (int i = 0; i < MAX_STATIC; i++) {
        if (static_vips[i].key.proto == 0)
            continue;
        if (static_vips[i].key.vip[0] == key.vip[0] && static_vips[i].key.vip[1] == key.vip[1] &&
            static_vips[i].key.vip[2] == key.vip[2] && static_vips[i].key.vip[3] == key.vip[3])
            return 1;
    }
    return 0;
}

// --- backend choice ------------------------------------------------------------

static __always_inline int pick_real(struct packet_description *pckt, const struct vip_meta *vip,
                                     struct real_definition *real) {
    struct conn_state *conn = bpf_map_lookup_elem(&conn_table, &pckt->flow);
    __u32 real_index;
    if (conn && conn->vip_num == vip->vip_num) {
        count(STAT_LRU_HIT, 0);
        real_index = conn->real_index;
    } else {
        count(STAT_LRU_MISS, 0);
        __u32 hash = flow_hash(pckt, vip->flags);
        if (vip->flags & F_STATIC) {
            // Static reals 0-1 are IPv4, 2-3 IPv6: an IPv6 VIP needs an IPv6 real.
            real_index = (pckt->flags & F_IPV6) ? 2 + (hash & 1) : hash % MAX_STATIC;
        } else {
            __u32 ring_key = vip->vip_num * RING_SIZE + hash % RING_SIZE;
            __u32 *ring_real = bpf_map_lookup_elem(&ch_rings, &ring_key);
            if (!ring_real || *ring_real == 0) // real 0 is "no real"
                return -1;
            real_index = *ring_real;
        }
        // UDP flows are not pinned (no connection to follow), TCP flows are.
        if (pckt->flow.proto == IPPROTO_TCP) {
            struct conn_state new_conn = {.real_index = real_index, .vip_num = vip->vip_num};
            bpf_map_update_elem(&conn_table, &pckt->flow, &new_conn, BPF_ANY);
        }
    }
    if (vip->flags & F_STATIC) {
        if (real_index >= MAX_STATIC)
            return -1;
        __builtin_memcpy(real->dst, (void *)static_reals[real_index].dst, sizeof(real->dst));
        real->flags = static_reals[real_index].flags;
        return 0;
    }
    struct real_definition *r = bpf_map_lookup_elem(&reals, &real_index);
    if (!r)
        return -1;
    *real = *r;
    return 0;
}

// --- encapsulation ---------------------------------------------------------------

static __always_inline int gateway_mac(__u8 mac[6]) {
    __u32 zero = 0;
    struct ctl_value *ctl = bpf_map_lookup_elem(&ctl_array, &zero);
    if (ctl && (ctl->gateway_mac[0] | ctl->gateway_mac[1] | ctl->gateway_mac[2] | ctl->gateway_mac[3] |
                ctl->gateway_mac[4] | ctl->gateway_mac[5])) {
        __builtin_memcpy(mac, ctl->gateway_mac, 6);
        return 0;
    }
    __builtin_memcpy(mac, (void *)static_gateway_mac, 6);
    return 0;
}

// Replaces the Ethernet header (and VLAN tags) by Ethernet + `headroom` bytes
// of outer IP header; returns the new outer IP header or NULL.
static __always_inline void *push_outer_header(struct xdp_md *ctx, struct packet_description *pckt,
                                               int headroom, __u16 eth_proto) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *old_eth = data;
    if ((void *)(old_eth + 1) > data_end)
        return NULL;
    __u8 our_mac[6], next_hop[6];
    __builtin_memcpy(our_mac, old_eth->h_dest, 6);
    gateway_mac(next_hop);
    // The VLAN tags go: the outer headers start that much later.
    int delta = headroom - pckt->vlan_tags * 4;
    if (bpf_xdp_adjust_head(ctx, -delta))
        return NULL;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) + headroom > data_end)
        return NULL;
    __builtin_memcpy(eth->h_dest, next_hop, 6);
    __builtin_memcpy(eth->h_source, our_mac, 6);
    eth->h_proto = eth_proto;
    return eth + 1;
}

static __always_inline int encap_ipip(struct xdp_md *ctx, struct packet_description *pckt,
                                      const struct real_definition *real, __u32 hash) {
    struct iphdr *iph = push_outer_header(ctx, pckt, IPIP_HEADROOM, bpf_htons(ETH_P_IP));
    if (!iph)
        return XDP_DROP;
    void *data_end = (void *)(long)ctx->data_end;
    if ((void *)(iph + 1) > data_end)
        return XDP_DROP;
    iph->version = 4;
    iph->ihl = 5;
    iph->tos = pckt->tos;
    iph->tot_len = bpf_htons(pckt->pkt_bytes + sizeof(*iph));
    iph->id = 0;
    iph->frag_off = 0;
    iph->ttl = 64;
    iph->protocol = IPPROTO_IPIP;
    // The outer source: 172.16.x.y with the flow hash in x.y, so that the
    // receive side spreads flows over its queues.
    iph->saddr = bpf_htonl(0xac100000 | (hash & 0xffff));
    iph->daddr = real->dst[0];
    ipv4_csum_inline(iph);
    return XDP_TX;
}

static __always_inline int encap_ip6ip6(struct xdp_md *ctx, struct packet_description *pckt,
                                        const struct real_definition *real, __u32 hash) {
    struct ipv6hdr *ip6h = push_outer_header(ctx, pckt, IP6IP_HEADROOM, bpf_htons(ETH_P_IPV6));
    if (!ip6h)
        return XDP_DROP;
    void *data_end = (void *)(long)ctx->data_end;
    if ((void *)(ip6h + 1) > data_end)
        return XDP_DROP;
    ip6h->version = 6;
    ip6h->priority = pckt->tos >> 4;
    ip6h->flow_lbl[0] = (pckt->tos << 4) | ((hash >> 16) & 0xf);
    ip6h->flow_lbl[1] = hash >> 8;
    ip6h->flow_lbl[2] = hash;
    ip6h->payload_len = bpf_htons(pckt->pkt_bytes);
    ip6h->nexthdr = (pckt->flags & F_IPV6) ? IPPROTO_IPV6 : IPPROTO_IPIP;
    ip6h->hop_limit = 64;
    // Source fc00:2307::<hash>; destination the real.
    ip6h->saddr.s6_addr32[0] = bpf_htonl(0xfc002307);
    ip6h->saddr.s6_addr32[1] = 0;
    ip6h->saddr.s6_addr32[2] = 0;
    ip6h->saddr.s6_addr32[3] = bpf_htonl(hash);
    __builtin_memcpy(ip6h->daddr.s6_addr32, real->dst, 16);
    return XDP_TX;
}

// --- ICMP echo to a VIP ------------------------------------------------------------

static __always_inline void swap_macs(void *data) {
    struct ethhdr *eth = data;
    __u8 tmp[ETH_ALEN];
    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline int icmp_echo_reply(void *data, void *data_end, struct packet_description *pckt) {
    if (pckt->flags & F_IPV6) {
        struct ipv6hdr *ip6h = data + pckt->l3_offset;
        struct icmp6hdr *icmp6 = data + pckt->l4_offset;
        if ((void *)(ip6h + 1) > data_end || (void *)(icmp6 + 1) > data_end)
            return XDP_DROP;
        if (icmp6->icmp6_type != ICMPV6_ECHO_REQUEST)
            return XDP_PASS;
        icmp6->icmp6_type = ICMPV6_ECHO_REPLY;
        icmp6->icmp6_cksum = csum_replace2(icmp6->icmp6_cksum, bpf_htons(ICMPV6_ECHO_REQUEST << 8),
                                           bpf_htons(ICMPV6_ECHO_REPLY << 8));
        struct in6_addr tmp = ip6h->saddr;
        ip6h->saddr = ip6h->daddr;
        ip6h->daddr = tmp;
        ip6h->hop_limit = 64;
    } else {
        struct iphdr *iph = data + pckt->l3_offset;
        struct icmphdr *icmp = data + pckt->l4_offset;
        if ((void *)(iph + 1) > data_end || (void *)(icmp + 1) > data_end)
            return XDP_DROP;
        if (icmp->type != ICMP_ECHO)
            return XDP_PASS;
        icmp->type = ICMP_ECHOREPLY;
        icmp->checksum = csum_replace2(icmp->checksum, bpf_htons(ICMP_ECHO << 8), bpf_htons(ICMP_ECHOREPLY << 8));
        __be32 tmp = iph->saddr;
        iph->saddr = iph->daddr;
        iph->daddr = tmp;
        iph->ttl = 64;
        ipv4_csum_inline(iph);
    }
    swap_macs(data);
    count(STAT_ICMP_REPLY, pckt->pkt_bytes);
    return XDP_TX;
}

// --- the program ---------------------------------------------------------------

static __always_inline int process_packet(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct packet_description pckt = {};
    int action;

    __u16 eth_proto = parse_eth(data, data_end, &pckt);
    switch (eth_proto) {
    case bpf_htons(ETH_P_IP):
        action = parse_ipv4(data, data_end, &pckt);
        break;
    case bpf_htons(ETH_P_IPV6):
        action = parse_ipv6(data, data_end, &pckt);
        break;
    case 0:
        count(STAT_BAD_PACKET, 0);
        return XDP_DROP;
    default:
        return XDP_PASS; // ARP, LLDP, ...
    }
    if (action != PARSED) {
        if (action == XDP_DROP)
            count(STAT_BAD_PACKET, 0);
        return action;
    }
    action = parse_ports(data, data_end, &pckt);
    if (action != PARSED) {
        if (action == XDP_DROP)
            count(STAT_BAD_PACKET, 0);
        return action;
    }

    if (pckt.flow.proto == IPPROTO_ICMP || pckt.flow.proto == IPPROTO_ICMPV6) {
        if (!is_vip_address(&pckt)) {
            count(STAT_NOT_VIP, 0);
            return XDP_PASS;
        }
        return icmp_echo_reply(data, data_end, &pckt);
    }

    struct vip_meta vip;
    if (find_vip(&pckt, &vip) < 0) {
        count(STAT_NOT_VIP, 0);
        return XDP_PASS;
    }
    struct real_definition real;
    if (pick_real(&pckt, &vip, &real) < 0) {
        count(STAT_NO_REAL, 0);
        return XDP_DROP;
    }
    count(vip.vip_num & (MAX_VIPS - 1), pckt.pkt_bytes);
    __u32 hash = flow_hash(&pckt, 0);
    if (real.flags & F_IPV6)
        return encap_ip6ip6(ctx, &pckt, &real, hash);
    if (pckt.flags & F_IPV6)
        return XDP_DROP; // IPv6 in IPv4 is not supported
    return encap_ipip(ctx, &pckt, &real, hash);
}

SEC("xdp")
int balancer_ingress(struct xdp_md *ctx) {
    return process_packet(ctx);
}

char LICENSE[] SEC("license") = "GPL";
