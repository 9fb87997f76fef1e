// bpfvm-expect: program tc tc_police_early_return sched_cls
// bpfvm-expect: program tc tc_police sched_cls
// bpfvm-expect: map buckets array 4 24 1
// bpfvm-expect: verdict tc_police_early_return reject spin-lock BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region
// bpfvm-expect: verdict tc_police accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run police tc_police --repeat 8 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result police {"r0": 0, "verdict": "TC_ACT_OK", "error": null, "maps": {"buckets": {"entries": [{"key": 0, "value": {"tokens": 0, "seen": 8, "dropped": 6}}]}}}
// bpfvm-expect: run first tc_police --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result first {"r0": 2, "verdict": "TC_ACT_SHOT", "error": null}
//
// REJECTED: a token-bucket policer updates its bucket under the bpf_spin_lock
// embedded in the map value. tc_police_early_return drops an over-limit packet
// straight from inside the locked region, so the program would exit with the
// lock held ("BPF_EXIT instruction ... cannot be used inside bpf_spin_lock-ed
// region").
// The passing twin decides under the lock, unlocks, and then returns.
// The bucket refills by packet count rather than time, so that a run is
// reproducible: every 4th packet adds one token.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct bucket {
    struct bpf_spin_lock lock;
    __u32 tokens;
    __u64 seen;
    __u64 dropped;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct bucket);
    __uint(max_entries, 1);
} buckets SEC(".maps");

SEC("tc")
int tc_police_early_return(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct bucket *b = bpf_map_lookup_elem(&buckets, &zero);
    if (!b)
        return TC_ACT_OK;
    bpf_spin_lock(&b->lock);
    b->seen++;
    if ((b->seen & 3) == 0 && b->tokens < 8)
        b->tokens++;
    if (b->tokens == 0) {
        b->dropped++;
        return TC_ACT_SHOT; // still holding the lock
    }
    b->tokens--;
    bpf_spin_unlock(&b->lock);
    return TC_ACT_OK;
}

SEC("tc")
int tc_police(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct bucket *b = bpf_map_lookup_elem(&buckets, &zero);
    if (!b)
        return TC_ACT_OK;
    int verdict = TC_ACT_OK;
    bpf_spin_lock(&b->lock);
    b->seen++;
    if ((b->seen & 3) == 0 && b->tokens < 8)
        b->tokens++;
    if (b->tokens == 0) {
        b->dropped++;
        verdict = TC_ACT_SHOT;
    } else {
        b->tokens--;
    }
    bpf_spin_unlock(&b->lock);
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
