// bpfvm-expect: program socket socket_filter socket_filter
// bpfvm-expect: map proto_bytes lru_hash 4 8 128
// bpfvm-expect: verdict socket_filter accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run udp socket_filter --packet 02000000000202000000000108004500001c00010000401166ce0a0000010a00000214e9003500080000
// bpfvm-expect: result udp {"r0": 0, "error": null}
//
// A socket filter (attached with SO_ATTACH_BPF) that keeps only IPv4 UDP
// packets and truncates them to 128 bytes; everything else is dropped (return 0).
// Demonstrates: reading __sk_buff fields (len, protocol, pkt_type, ifindex),
// bpf_skb_load_bytes for packet access (socket filters have no direct packet
// access), and an LRU hash of byte counts per ifindex.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u32);   // ifindex
    __type(value, __u64); // bytes seen
    __uint(max_entries, 128);
} proto_bytes SEC(".maps");

SEC("socket")
int socket_filter(struct __sk_buff *skb) {
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return 0;
    if (skb->pkt_type == PACKET_OUTGOING)
        return 0;

    // For a packet socket, offset 0 is the Ethernet header.
    __u8 proto;
    if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto, 1) < 0)
        return 0;
    if (proto != IPPROTO_UDP)
        return 0;

    __u32 ifindex = skb->ifindex;
    __u64 *bytes = bpf_map_lookup_elem(&proto_bytes, &ifindex);
    if (bytes) {
        __sync_fetch_and_add(bytes, skb->len);
    } else {
        __u64 init = skb->len;
        bpf_map_update_elem(&proto_bytes, &ifindex, &init, BPF_NOEXIST);
    }
    return skb->len < 128 ? skb->len : 128; // bytes to keep
}

char LICENSE[] SEC("license") = "GPL";
