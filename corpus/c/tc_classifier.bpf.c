// bpfvm-expect: program tc tc_classify sched_cls
// bpfvm-expect: map class_counts array 4 8 4
// bpfvm-expect: verdict tc_classify accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run small tc_classify --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result small {"r0": 0, "verdict": "TC_ACT_OK", "maps": {"class_counts": {"entries": [{"key": 0, "value": 1}, {"key": 1, "value": 0}]}}}
//
// A tc (cls_bpf, direct-action) classifier on ingress or egress.
// Demonstrates: __sk_buff fields (protocol, len, mark, priority, tc_classid),
// writing skb->mark and skb->tc_classid, TC_ACT_OK / TC_ACT_SHOT, and direct
// packet access with data/data_end in a tc program.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { CLASS_SMALL, CLASS_BULK, CLASS_ICMP, CLASS_OTHER };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} class_counts SEC(".maps");

static __always_inline void bump(__u32 cls) {
    __u64 *n = bpf_map_lookup_elem(&class_counts, &cls);
    if (n)
        __sync_fetch_and_add(n, 1);
}

SEC("tc")
int tc_classify(struct __sk_buff *skb) {
    // Packets already marked 0xdead by someone else are dropped.
    if (skb->mark == 0xdead)
        return TC_ACT_SHOT;
    if (skb->protocol != bpf_htons(ETH_P_IP)) {
        bump(CLASS_OTHER);
        return TC_ACT_OK;
    }

    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    if ((void *)(ip + 1) > data_end)
        return TC_ACT_OK; // not linear enough to look at; let it through

    if (ip->protocol == IPPROTO_ICMP) {
        bump(CLASS_ICMP);
        skb->priority = 6; // interactive
        return TC_ACT_OK;
    }
    // Classify by size: small packets into class 1:10, the rest into 1:20.
    if (skb->len <= 256) {
        bump(CLASS_SMALL);
        skb->mark = 0x10;
        skb->tc_classid = TC_H_MAKE(1 << 16, 0x10);
    } else {
        bump(CLASS_BULK);
        skb->mark = 0x20;
        skb->tc_classid = TC_H_MAKE(1 << 16, 0x20);
    }
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
