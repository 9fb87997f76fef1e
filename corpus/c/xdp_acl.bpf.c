// bpfvm-expect: program xdp xdp_acl xdp
// bpfvm-expect: map acl_v4 lpm_trie 8 12 1024
// bpfvm-expect: map acl_v6 lpm_trie 20 12 1024
// bpfvm-expect: map rule_hits percpu_array 4 8 64
// bpfvm-expect: map tcp_allow hash 2 1 256
// bpfvm-expect: map icmp_tokens lru_hash 4 4 4096
// bpfvm-expect: map .rodata array 4 12 1
// bpfvm-expect: map .bss array 4 2128 1
// bpfvm-expect: verdict xdp_acl accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run rules xdp_acl --pcap inputs/acl.pcap --map acl_v4=inputs/acl_v4.json --map acl_v6=inputs/acl_v6.json
// bpfvm-expect: result rules {"packets": 21, "verdicts": {"XDP_DROP": 11, "XDP_PASS": 10}, "error": null, "maps": {".bss": {"entries": [{"value": {"drops": [3, 1, 0, 1, 1, 2, 0, 2, 1, 0]}}]}, "rule_hits": {"entries": [{"key": 5, "values": [1]}, {"key": 6, "values": [1]}, {"key": 7, "values": [1]}, {"key": 9, "values": [2]}]}, "icmp_tokens": {"entries": [{"key": 16777226, "value": 0}]}}}
// bpfvm-expect: run no_rules xdp_acl --pcap inputs/acl.pcap
// bpfvm-expect: result no_rules {"packets": 21, "verdicts": {"XDP_DROP": 9, "XDP_PASS": 12}, "error": null, "maps": {".bss": {"entries": [{"value": {"drops": [0, 1, 0, 1, 1, 3, 0, 2, 1, 0]}}]}}}
//
// An XDP firewall (ACL) in the style of the DDoS-filtering projects: source
// prefixes are looked up in LPM tries (IPv4 and IPv6) whose rules say what to
// do; everything not matched goes through a large switch on the IP protocol
// with per-protocol sanity rules.
//  - LPM tries (BPF_F_NO_PREALLOC) keyed by {prefixlen, address}, values with
//    an action, a rule id and a port to restrict the rule to;
//  - the switch: ICMP types (echo rate-limited by a per-source token count
//    in an LRU hash, redirects dropped), TCP flag combinations that never
//    occur in real traffic (NULL, XMAS, SYN+FIN, SYN+RST) dropped, a TCP port
//    allow-list in a hash map, UDP reflection/amplification source ports
//    (chargen, NTP monlist replies, SSDP, memcached) dropped, GRE, ESP, AH,
//    SCTP, OSPF, ICMPv6 (neighbour discovery must have hop limit 255);
//  - IPv4 fragments dropped or passed by a `const volatile` flag, the
//    default action in .rodata too;
//  - counters: per-rule in a per-CPU array, per-protocol in a .bss array
//    indexed by the protocol byte, drops by reason in .bss.
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

#define MAX_RULES 64

enum acl_action { ACL_DEFAULT = 0, ACL_ALLOW = 1, ACL_DENY = 2, ACL_DENY_PORT = 3 };

enum drop_reason {
    DROP_RULE,
    DROP_FRAGMENT,
    DROP_MALFORMED,
    DROP_ICMP_REDIRECT,
    DROP_ICMP_RATE,
    DROP_TCP_FLAGS,
    DROP_TCP_PORT,
    DROP_UDP_REFLECTION,
    DROP_NDP_HOPLIMIT,
    DROP_DEFAULT,
    DROP_REASONS,
};

struct lpm_v4_key {
    __u32 prefixlen;
    __u8 addr[4];
};

struct lpm_v6_key {
    __u32 prefixlen;
    __u8 addr[16];
};

struct acl_rule {
    __u32 action;  // enum acl_action
    __u32 rule_id; // < MAX_RULES
    __u16 port;    // ACL_DENY_PORT: the destination port (host order)
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_v4_key);
    __type(value, struct acl_rule);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} acl_v4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_v6_key);
    __type(value, struct acl_rule);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} acl_v6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, MAX_RULES);
} rule_hits SEC(".maps");

// TCP destination ports open to the world (host order); the value is unused.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);
    __type(value, __u8);
    __uint(max_entries, 256);
} tcp_allow SEC(".maps");

// ICMP echo requests left per source (refilled by user space).
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 4096);
} icmp_tokens SEC(".maps");

const volatile bool drop_fragments = true;
const volatile bool enforce_tcp_allow = false; // only ports in tcp_allow
const volatile __u32 icmp_burst = 2;          // echo requests per new source
const volatile __u32 default_action = XDP_PASS;

__u64 proto_packets[256]; // .bss
__u64 drops[DROP_REASONS];

static __always_inline int drop(enum drop_reason why) {
    if (why < DROP_REASONS)
        __sync_fetch_and_add(&drops[why], 1);
    return XDP_DROP;
}

static __always_inline void rule_hit(const struct acl_rule *rule) {
    __u32 id = rule->rule_id;
    __u64 *n = bpf_map_lookup_elem(&rule_hits, &id);
    if (n)
        *n += 1;
}

// Applies a matched rule: XDP_PASS/XDP_DROP, or -1 to go on with the checks.
static __always_inline int apply_rule(const struct acl_rule *rule, __u16 dport) {
    if (!rule)
        return -1;
    rule_hit(rule);
    switch (rule->action) {
    case ACL_ALLOW:
        return XDP_PASS;
    case ACL_DENY:
        return drop(DROP_RULE);
    case ACL_DENY_PORT:
        return rule->port == dport ? drop(DROP_RULE) : -1;
    default:
        return -1;
    }
}

static __always_inline __u16 l4_dport(void *l4, void *data_end, __u8 proto) {
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return 0;
    __be16 *ports = l4;
    if ((void *)(ports + 2) > data_end)
        return 0;
    return bpf_ntohs(ports[1]);
}

static __always_inline int icmp_echo_allowed(__u32 saddr) {
    __u32 *tokens = bpf_map_lookup_elem(&icmp_tokens, &saddr);
    if (!tokens) {
        __u32 fresh = icmp_burst > 0 ? icmp_burst - 1 : 0;
        bpf_map_update_elem(&icmp_tokens, &saddr, &fresh, BPF_ANY);
        return icmp_burst > 0;
    }
    if (*tokens == 0)
        return 0;
    __sync_fetch_and_sub(tokens, 1);
    return 1;
}

static __always_inline int check_tcp(struct tcphdr *tcp, void *data_end) {
    if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
        return drop(DROP_MALFORMED);
    __u8 flags = ((__u8 *)tcp)[13];
    switch (flags & 0x3f) {
    case 0x00: // NULL scan
    case 0x29: // XMAS: FIN, PSH, URG
    case 0x3f:
        return drop(DROP_TCP_FLAGS);
    }
    if ((flags & 0x03) == 0x03 || (flags & 0x06) == 0x06) // SYN+FIN, SYN+RST
        return drop(DROP_TCP_FLAGS);
    if (enforce_tcp_allow && (flags & 0x12) == 0x02) {
        __u16 dport = bpf_ntohs(tcp->dest);
        if (!bpf_map_lookup_elem(&tcp_allow, &dport))
            return drop(DROP_TCP_PORT);
    }
    return XDP_PASS;
}

static __always_inline int check_udp(struct udphdr *udp, void *data_end) {
    if ((void *)(udp + 1) > data_end)
        return drop(DROP_MALFORMED);
    if (bpf_ntohs(udp->len) < sizeof(*udp))
        return drop(DROP_MALFORMED);
    // Replies from services abused for reflection attacks.
    switch (bpf_ntohs(udp->source)) {
    case 19:    // chargen
    case 1900:  // SSDP
    case 11211: // memcached
        return drop(DROP_UDP_REFLECTION);
    case 123: // NTP: large replies are monlist answers
        if (bpf_ntohs(udp->len) > 8 + 48)
            return drop(DROP_UDP_REFLECTION);
        break;
    }
    return XDP_PASS;
}

static __always_inline int process_ipv4(struct iphdr *ip, void *data_end) {
    if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->version != 4)
        return drop(DROP_MALFORMED);
    __u8 proto = ip->protocol;
    __sync_fetch_and_add(&proto_packets[proto], 1);
    if (ip->frag_off & bpf_htons(0x3fff)) {
        if (drop_fragments)
            return drop(DROP_FRAGMENT);
        return XDP_PASS;
    }
    void *l4 = (void *)ip + ip->ihl * 4;

    struct lpm_v4_key key = {.prefixlen = 32};
    __builtin_memcpy(key.addr, &ip->saddr, 4);
    int verdict = apply_rule(bpf_map_lookup_elem(&acl_v4, &key), l4_dport(l4, data_end, proto));
    if (verdict >= 0)
        return verdict;

    switch (proto) {
    case IPPROTO_ICMP: {
        __u8 *icmp = l4;
        if ((void *)(icmp + 4) > data_end)
            return drop(DROP_MALFORMED);
        switch (icmp[0]) {
        case 0:  // echo reply
        case 3:  // destination unreachable (PMTU discovery needs it)
        case 11: // time exceeded
            return XDP_PASS;
        case 5: // redirect
            return drop(DROP_ICMP_REDIRECT);
        case 8: // echo request
            return icmp_echo_allowed(ip->saddr) ? XDP_PASS : drop(DROP_ICMP_RATE);
        default:
            return default_action == XDP_DROP ? drop(DROP_DEFAULT) : (int)default_action;
        }
    }
    case IPPROTO_TCP:
        return check_tcp(l4, data_end);
    case IPPROTO_UDP:
        return check_udp(l4, data_end);
    case IPPROTO_IGMP:
    case IPPROTO_GRE:
    case IPPROTO_ESP:
    case IPPROTO_AH:
    case IPPROTO_SCTP:
    case 89: // OSPF
        return XDP_PASS;
    default:
        return default_action == XDP_DROP ? drop(DROP_DEFAULT) : (int)default_action;
    }
}

static __always_inline int process_ipv6(struct ipv6hdr *ip6, void *data_end) {
    if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
        return drop(DROP_MALFORMED);
    __u8 proto = ip6->nexthdr;
    __sync_fetch_and_add(&proto_packets[proto], 1);
    void *l4 = ip6 + 1;

    struct lpm_v6_key key = {.prefixlen = 128};
    __builtin_memcpy(key.addr, &ip6->saddr, 16);
    int verdict = apply_rule(bpf_map_lookup_elem(&acl_v6, &key), l4_dport(l4, data_end, proto));
    if (verdict >= 0)
        return verdict;

    switch (proto) {
    case IPPROTO_ICMPV6: {
        __u8 *icmp6 = l4;
        if ((void *)(icmp6 + 4) > data_end)
            return drop(DROP_MALFORMED);
        // Neighbour discovery (router/neighbour solicitation and advertisement,
        // redirect) is only valid from the link: hop limit 255.
        if (icmp6[0] >= 133 && icmp6[0] <= 137 && ip6->hop_limit != 255)
            return drop(DROP_NDP_HOPLIMIT);
        return XDP_PASS;
    }
    case IPPROTO_TCP:
        return check_tcp(l4, data_end);
    case IPPROTO_UDP:
        return check_udp(l4, data_end);
    case IPPROTO_HOPOPTS:
    case IPPROTO_ROUTING:
    case IPPROTO_FRAGMENT:
    case IPPROTO_DSTOPTS:
    case IPPROTO_ESP:
    case IPPROTO_AH:
        return XDP_PASS; // extension headers: the kernel's job
    default:
        return default_action == XDP_DROP ? drop(DROP_DEFAULT) : (int)default_action;
    }
}

SEC("xdp")
int xdp_acl(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return drop(DROP_MALFORMED);
    switch (eth->h_proto) {
    case bpf_htons(ETH_P_IP):
        return process_ipv4((void *)(eth + 1), data_end);
    case bpf_htons(ETH_P_IPV6):
        return process_ipv6((void *)(eth + 1), data_end);
    default:
        return XDP_PASS;
    }
}

char LICENSE[] SEC("license") = "GPL";
