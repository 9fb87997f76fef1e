// bpfvm-expect: program xdp xdp_read_past_ctx xdp
// bpfvm-expect: program xdp xdp_read_egress_ifindex xdp
// bpfvm-expect: program xdp xdp_read_rx_queue xdp
// bpfvm-expect: program tc tc_set_protocol sched_cls
// bpfvm-expect: program tc tc_set_mark sched_cls
// bpfvm-expect: map per_queue array 4 8 8
// bpfvm-expect: verdict xdp_read_past_ctx reject invalid-context-access invalid bpf_context access off=24 size=4
// bpfvm-expect: verdict xdp_read_egress_ifindex reject invalid-context-access invalid bpf_context access off=20 size=4
// bpfvm-expect: verdict xdp_read_rx_queue accept
// bpfvm-expect: verdict tc_set_protocol reject invalid-context-access invalid bpf_context access off=16 size=4
// bpfvm-expect: verdict tc_set_mark accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run queue3 xdp_read_rx_queue --rx-queue 3 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result queue3 {"r0": 2, "error": null, "maps": {"per_queue": {"entries": [{"key": 3, "value": 1}, {"key": 0, "value": 0}]}}}
// bpfvm-expect: run vlan tc_set_mark --packet 0200000000020200000000018100006408004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result vlan {"r0": 0, "verdict": "TC_ACT_OK", "error": null, "maps": {"per_queue": {"entries": [{"key": 1, "value": 1}]}}}
//
// REJECTED: the context (struct xdp_md, struct __sk_buff) is not memory the
// program owns: the verifier rewrites each field access into an access to the
// kernel's own structures, and accepts only the fields, sizes and directions
// the program type (and attach type) allows.
//  - xdp_read_past_ctx reads the u32 after the last field of struct xdp_md
//    (egress_ifindex is at offset 20, so offset 24 is past the end);
//  - xdp_read_egress_ifindex reads egress_ifindex, which exists only for
//    programs attached to a devmap entry (expected_attach_type
//    BPF_XDP_DEVMAP), not for a plain SEC("xdp") program;
//  - tc_set_protocol writes skb->protocol, which a tc program may read but
//    not write (mark, priority, tc_index, cb[] and tc_classid are writable).
// The passing twins read rx_queue_index, the field before them, and write
// skb->mark instead of skb->protocol.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Packets per queue or interface index (the low bits).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 8);
} per_queue SEC(".maps");

static __always_inline int count(__u32 index) {
    __u32 key = index & 7;
    __u64 *n = bpf_map_lookup_elem(&per_queue, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}

SEC("xdp")
int xdp_read_past_ctx(struct xdp_md *ctx) {
    __u32 *fields = (__u32 *)ctx;
    // fields[5] is egress_ifindex, the last one; fields[6] does not exist.
    return count(fields[6]);
}

SEC("xdp")
int xdp_read_egress_ifindex(struct xdp_md *ctx) {
    return count(ctx->egress_ifindex);
}

SEC("xdp")
int xdp_read_rx_queue(struct xdp_md *ctx) {
    return count(ctx->rx_queue_index);
}

SEC("tc")
int tc_set_protocol(struct __sk_buff *skb) {
    if (skb->protocol == bpf_htons(ETH_P_8021Q)) {
        skb->protocol = bpf_htons(ETH_P_IP);
        count(1);
    }
    return TC_ACT_OK;
}

SEC("tc")
int tc_set_mark(struct __sk_buff *skb) {
    if (skb->protocol == bpf_htons(ETH_P_8021Q)) {
        skb->mark = 0x8100;
        count(1);
    }
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
