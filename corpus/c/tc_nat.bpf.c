// bpfvm-expect: program tc tc_nat_ingress sched_cls
// bpfvm-expect: program tc tc_nat_egress sched_cls
// bpfvm-expect: map nat_ct hash 16 24 8192
// bpfvm-expect: map services hash 8 8 256
// bpfvm-expect: map nat_stats array 4 8 6
// bpfvm-expect: map .rodata array 4 40 1
// bpfvm-expect: verdict tc_nat_ingress accept
// bpfvm-expect: verdict tc_nat_egress accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run dnat_tcp tc_nat_ingress --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000029c400050000003e8000000005002faf000770000
// bpfvm-expect: result dnat_tcp {"r0": 0, "verdict": "TC_ACT_OK", "error": null, "packet": "02000000000202000000000108004500002800010000400665ca0a0000010a0001059c401f90000003e8000000005002faf0e0330000", "maps": {"nat_ct": {"entries": [{"key": {"saddr": 83951626, "daddr": 16777226, "sport": 36895, "dport": 16540, "proto": 6}, "value": {"vip": 33554442, "vport": 20480, "backend_id": 1, "packets_in": 1, "packets_out": 0}}]}, "nat_stats": {"entries": [{"key": 0, "value": 1}, {"key": 2, "value": 0}]}}}
// bpfvm-expect: run dnat_udp tc_nat_ingress --packet 02000000000202000000000108004500003900010000401166b10a0000020a00000114e9003500258b925a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
// bpfvm-expect: result dnat_udp {"r0": 0, "error": null, "packet": "020000000002020000000001080045000039000100004011657d0a0000020a00013514e914e9002575aa5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"}
// bpfvm-expect: run dnat_udp_no_csum tc_nat_ingress --packet 02000000000202000000000108004500003900010000401166b10a0000020a00000114e90035002500005a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
// bpfvm-expect: result dnat_udp_no_csum {"r0": 0, "error": null, "packet": "020000000002020000000001080045000039000100004011657d0a0000020a00013514e914e9002500005a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"}
// bpfvm-expect: run no_service tc_nat_ingress --packet 02000000000202000000000108004500002800010000400666cc0a0000010a0000039c400050000003e8000000005002faf000760000
// bpfvm-expect: result no_service {"r0": 0, "error": null, "packet": "02000000000202000000000108004500002800010000400666cc0a0000010a0000039c400050000003e8000000005002faf000760000", "maps": {"nat_stats": {"entries": [{"key": 2, "value": 1}, {"key": 0, "value": 0}]}, "nat_ct": {"entries": []}}}
// bpfvm-expect: run snat_tcp tc_nat_egress --packet 02000000000202000000000108004500002800010000400665ca0a0001050a0000011f909c40000003e8000000005012faf0e0230000 --map nat_ct=inputs/nat_ct_replies.json
// bpfvm-expect: result snat_tcp {"r0": 0, "error": null, "packet": "02000000000202000000000108004500002800010000400666cd0a0000020a00000100509c40000003e8000000005012faf000670000", "maps": {"nat_ct": {"entries": [{"key": {"sport": 36895}, "value": {"packets_in": 1, "packets_out": 1}}]}, "nat_stats": {"entries": [{"key": 1, "value": 1}]}}}
// bpfvm-expect: run snat_udp tc_nat_egress --packet 02000000000202000000000108004500004400010000401165720a0001350a00000214e914e900309d625b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b --map nat_ct=inputs/nat_ct_replies.json
// bpfvm-expect: result snat_udp {"r0": 0, "error": null, "packet": "02000000000202000000000108004500004400010000401166a60a0000010a000002003514e90030b34a5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b"}
// bpfvm-expect: run no_ct tc_nat_egress --packet 02000000000202000000000108004500002800010000400665ca0a0001050a0000011f909c40000003e8000000005012faf0e0230000
// bpfvm-expect: result no_ct {"r0": 0, "error": null, "packet": "02000000000202000000000108004500002800010000400665ca0a0001050a0000011f909c40000003e8000000005012faf0e0230000", "maps": {"nat_stats": {"entries": [{"key": 3, "value": 1}]}}}
//
// Service NAT on tc, in the style of Cilium's socket-less load balancing: the
// ingress program DNATs packets for a service address (VIP:port) to a backend
// and records the connection; the egress program reverses the translation on
// the backend's replies (SNAT back to the VIP).
//  - __sk_buff: protocol, data/data_end direct packet access (read and write,
//    re-validated after every helper that may move the packet), mark, cb[]
//    as scratch space shared with a __noinline parser subprogram;
//  - bpf_skb_load_bytes for the L4 ports, bpf_skb_store_bytes for the
//    rewrites, bpf_l3_csum_replace for the IPv4 header checksum,
//    bpf_l4_csum_replace with BPF_F_PSEUDO_HDR for the TCP/UDP checksum
//    (BPF_F_MARK_MANGLED_0 for UDP, whose checksum 0 means "none"),
//    bpf_csum_diff for a checksum delta over several words;
//  - services from a hash map, then from a static table in .rodata; a
//    connection table (hash) keyed by the reply direction's 5-tuple.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define TCP_CSUM_OFF offsetof(struct tcphdr, check)
#define UDP_CSUM_OFF offsetof(struct udphdr, check)

// skb->cb[] slots written by parse_l4 for the programs' later stages.
enum { CB_L4_OFF, CB_PROTO, CB_PORTS, CB_SERVICE };

struct service_key {
    __be32 addr;
    __be16 port;
    __u8 proto;
    __u8 pad;
};

struct backend {
    __be32 addr;
    __be16 port;
    __u16 id;
};

// The reply direction: backend -> client.
struct ct_key {
    __be32 saddr;
    __be32 daddr;
    __be16 sport;
    __be16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct ct_entry {
    __be32 vip;
    __be16 vport;
    __u16 backend_id;
    __u64 packets_in;
    __u64 packets_out;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct service_key);
    __type(value, struct backend);
    __uint(max_entries, 256);
} services SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct ct_key);
    __type(value, struct ct_entry);
    __uint(max_entries, 8192);
} nat_ct SEC(".maps");

enum { STAT_DNAT, STAT_SNAT, STAT_NO_SERVICE, STAT_NO_CT, STAT_NOT_IP, STAT_ERROR, STAT_MAX };
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, STAT_MAX);
} nat_stats SEC(".maps");

// Set by the loader: the mark NATed packets get, and services known at build time.
const volatile __u32 nat_mark = 0x4e4154; // "NAT"
const volatile bool enable_udp = true;
struct static_service {
    struct service_key key;
    struct backend backend;
};
const volatile struct static_service static_services[2] = {
    // 10.0.0.2:80/tcp -> 10.0.1.5:8080
    {{0x0200000a, 0x5000, IPPROTO_TCP}, {0x0501000a, 0x901f, 1}},
    // 10.0.0.1:53/udp -> 10.0.1.53:5353
    {{0x0100000a, 0x3500, IPPROTO_UDP}, {0x3501000a, 0xe914, 2}},
};

static __always_inline void stat(__u32 which) {
    __u64 *n = bpf_map_lookup_elem(&nat_stats, &which);
    if (n)
        __sync_fetch_and_add(n, 1);
}

// Parses Ethernet/IPv4 and reads the L4 ports; leaves the L4 offset, the
// protocol and the ports (as one u32, source port in the low half) in cb[].
// Returns 0, or -1 if the packet is not IPv4 TCP/UDP.
static __noinline int parse_l4(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return -1;
    struct iphdr *iph = data + ETH_HLEN;
    if ((void *)(iph + 1) > data_end)
        return -1;
    if (iph->ihl < 5 || (iph->frag_off & bpf_htons(0x1fff)))
        return -1;
    __u8 proto = iph->protocol;
    if (proto != IPPROTO_TCP && !(proto == IPPROTO_UDP && enable_udp))
        return -1;
    __u32 l4_off = ETH_HLEN + iph->ihl * 4;
    __be16 ports[2];
    if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)) < 0)
        return -1;
    skb->cb[CB_L4_OFF] = l4_off;
    skb->cb[CB_PROTO] = proto;
    skb->cb[CB_PORTS] = ports[0] | (__u32)ports[1] << 16;
    return 0;
}

static __always_inline int csum_offset(__u32 l4_off, __u8 proto) {
    return l4_off + (proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
}

// Rewrites the IPv4 address at addr_off and the L4 port at port_off, fixing
// both checksums.
static __always_inline int rewrite(struct __sk_buff *skb, __u32 l4_off, __u8 proto, __u32 addr_off,
                                   __be32 old_addr, __be32 new_addr, __u32 port_off, __be16 old_port,
                                   __be16 new_port) {
    __u64 l4_flags = BPF_F_PSEUDO_HDR | (proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0);
    int csum_off = csum_offset(l4_off, proto);
    if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, l4_flags | sizeof(new_addr)) < 0)
        return -1;
    if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr)) < 0)
        return -1;
    if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0) < 0)
        return -1;
    if (old_port == new_port)
        return 0;
    if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, l4_flags | sizeof(new_port)) < 0)
        return -1;
    return bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0);
}

static __always_inline int find_service(struct service_key *key, struct backend *out) {
    struct backend *b = bpf_map_lookup_elem(&services, key);
    if (b) {
        *out = *b;
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        if (static_services[i].key.addr == key->addr && static_services[i].key.port == key->port &&
            static_services[i].key.proto == key->proto) {
            out->addr = static_services[i].backend.addr;
            out->port = static_services[i].backend.port;
            out->id = static_services[i].backend.id;
            return 0;
        }
    }
    return -1;
}

SEC("tc")
int tc_nat_ingress(struct __sk_buff *skb) {
    if (parse_l4(skb) < 0) {
        stat(STAT_NOT_IP);
        return TC_ACT_OK;
    }
    // The parser's results, from cb[]; the packet pointers must be loaded again.
    __u32 l4_off = skb->cb[CB_L4_OFF];
    __u8 proto = skb->cb[CB_PROTO];
    __be16 sport = skb->cb[CB_PORTS] & 0xffff;
    __be16 dport = skb->cb[CB_PORTS] >> 16;
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct iphdr *iph = data + ETH_HLEN;
    if ((void *)(iph + 1) > data_end)
        return TC_ACT_OK;
    __be32 saddr = iph->saddr, daddr = iph->daddr;

    struct service_key skey = {.addr = daddr, .port = dport, .proto = proto};
    struct backend be;
    if (find_service(&skey, &be) < 0) {
        stat(STAT_NO_SERVICE);
        return TC_ACT_OK;
    }
    // Remember the translation under the tuple the replies will carry.
    struct ct_key ckey = {.saddr = be.addr, .daddr = saddr, .sport = be.port, .dport = sport, .proto = proto};
    struct ct_entry *ct = bpf_map_lookup_elem(&nat_ct, &ckey);
    if (ct) {
        __sync_fetch_and_add(&ct->packets_in, 1);
    } else {
        struct ct_entry fresh = {.vip = daddr, .vport = dport, .backend_id = be.id, .packets_in = 1};
        bpf_map_update_elem(&nat_ct, &ckey, &fresh, BPF_NOEXIST);
    }
    if (rewrite(skb, l4_off, proto, IP_DST_OFF, daddr, be.addr, l4_off + offsetof(struct tcphdr, dest), dport,
                be.port) < 0) {
        stat(STAT_ERROR);
        return TC_ACT_SHOT;
    }
    skb->cb[CB_SERVICE] = be.id;
    skb->mark = nat_mark;
    stat(STAT_DNAT);
    return TC_ACT_OK;
}

// The egress direction: replies from a backend get the service's address and
// port back as their source. The address goes through the helpers; the port is
// written with direct packet access, its checksum delta computed with
// bpf_csum_diff.
SEC("tc")
int tc_nat_egress(struct __sk_buff *skb) {
    if (parse_l4(skb) < 0) {
        stat(STAT_NOT_IP);
        return TC_ACT_OK;
    }
    __u32 l4_off = skb->cb[CB_L4_OFF];
    __u8 proto = skb->cb[CB_PROTO];
    __be16 sport = skb->cb[CB_PORTS] & 0xffff;
    __be16 dport = skb->cb[CB_PORTS] >> 16;
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct iphdr *iph = data + ETH_HLEN;
    if ((void *)(iph + 1) > data_end)
        return TC_ACT_OK;
    struct ct_key ckey = {.saddr = iph->saddr, .daddr = iph->daddr, .sport = sport, .dport = dport, .proto = proto};
    struct ct_entry *ct = bpf_map_lookup_elem(&nat_ct, &ckey);
    if (!ct) {
        stat(STAT_NO_CT);
        return TC_ACT_OK;
    }
    __sync_fetch_and_add(&ct->packets_out, 1);
    __be32 vip = ct->vip;
    __be16 vport = ct->vport;
    // The address.
    int csum_off = csum_offset(l4_off, proto);
    __u64 l4_flags = BPF_F_PSEUDO_HDR | (proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0);
    if (bpf_l4_csum_replace(skb, csum_off, ckey.saddr, vip, l4_flags | sizeof(vip)) < 0 ||
        bpf_l3_csum_replace(skb, IP_CSUM_OFF, ckey.saddr, vip, sizeof(vip)) < 0 ||
        bpf_skb_store_bytes(skb, IP_SRC_OFF, &vip, sizeof(vip), 0) < 0) {
        stat(STAT_ERROR);
        return TC_ACT_SHOT;
    }
    // The port: both ports as one 32-bit word, before and after, through
    // bpf_csum_diff; the helpers above moved the packet, so check again.
    __be32 old_ports = sport | (__u32)dport << 16;
    __be32 new_ports = vport | (__u32)dport << 16;
    __s64 diff = bpf_csum_diff(&old_ports, sizeof(old_ports), &new_ports, sizeof(new_ports), 0);
    if (diff < 0 || bpf_l4_csum_replace(skb, csum_off, 0, diff, proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0) < 0) {
        stat(STAT_ERROR);
        return TC_ACT_SHOT;
    }
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    if (l4_off > 60 + ETH_HLEN)
        return TC_ACT_SHOT;
    __be16 *ports = data + l4_off;
    if ((void *)(ports + 2) > data_end)
        return TC_ACT_SHOT;
    ports[0] = vport;
    skb->mark = nat_mark | 1;
    stat(STAT_SNAT);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
