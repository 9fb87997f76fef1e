// bpfvm-expect: program xdp xdp_firewall xdp
// bpfvm-expect: map blocked_ports hash 2 1 64
// bpfvm-expect: map drop_stats percpu_array 4 8 4
// bpfvm-expect: map .rodata array 4 2 1
// bpfvm-expect: verdict xdp_firewall accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run capture xdp_firewall --pcap ../packets/firewall.pcap
// bpfvm-expect: result capture {"packets": 13, "verdicts": {"XDP_PASS": 6, "XDP_DROP": 7}, "maps": {"drop_stats": {"entries": [{"key": 0, "values": [6]}, {"key": 1, "values": [0]}, {"key": 2, "values": [2]}, {"key": 3, "values": [5]}]}}, "error": null}
// bpfvm-expect: run blocked xdp_firewall --pcap ../packets/firewall.pcap --map blocked_ports=inputs/blocked_9999.json
// bpfvm-expect: result blocked {"verdicts": {"XDP_PASS": 5, "XDP_DROP": 8}, "maps": {"drop_stats": {"entries": [{"key": 1, "values": [1]}]}}}
// bpfvm-expect: run telnet xdp_firewall --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039001700000000000000005002200000000000
// bpfvm-expect: result telnet {"r0": 1, "verdict": "XDP_DROP"}
//
// A small XDP firewall: parses Ethernet -> IPv4 -> UDP/TCP with a bounds check
// before every header access, and drops packets whose destination port is in
// the `blocked_ports` hash map or equals the load-time constant `blocked_port`.
// Demonstrates: packet parsing with data/data_end checks, variable-length IP
// headers (ihl), bpf_ntohs, a hash map keyed by a 2-byte port, per-CPU stats,
// and a `const volatile` .rodata configuration variable set before load.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Destination ports (host byte order) to drop; the value is unused (a set).
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);
    __type(value, __u8);
    __uint(max_entries, 64);
} blocked_ports SEC(".maps");

// Per-CPU counters indexed by enum stat.
enum stat { STAT_PASS, STAT_DROP_MAP, STAT_DROP_CONST, STAT_MALFORMED };
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} drop_stats SEC(".maps");

// Set by the loader (skeleton) before load; the verifier sees it as a constant.
const volatile __u16 blocked_port = 23; // telnet

static __always_inline int account(enum stat s, int action) {
    __u32 key = s;
    __u64 *counter = bpf_map_lookup_elem(&drop_stats, &key);
    if (counter)
        *counter += 1; // per-CPU: no atomic needed
    return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return account(STAT_MALFORMED, XDP_DROP);
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return account(STAT_PASS, XDP_PASS);

    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return account(STAT_MALFORMED, XDP_DROP);
    if (ip->ihl < 5)
        return account(STAT_MALFORMED, XDP_DROP);

    // The IP header may carry options: the L4 header starts at ihl * 4 bytes.
    void *l4 = (void *)ip + ip->ihl * 4;
    __u16 dport;
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return account(STAT_MALFORMED, XDP_DROP);
        dport = bpf_ntohs(tcp->dest);
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return account(STAT_MALFORMED, XDP_DROP);
        dport = bpf_ntohs(udp->dest);
    } else {
        return account(STAT_PASS, XDP_PASS);
    }

    if (dport == blocked_port)
        return account(STAT_DROP_CONST, XDP_DROP);
    if (bpf_map_lookup_elem(&blocked_ports, &dport))
        return account(STAT_DROP_MAP, XDP_DROP);
    return account(STAT_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
