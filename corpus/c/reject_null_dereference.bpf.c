// bpfvm-expect: program tc tc_count_flows_unchecked sched_cls
// bpfvm-expect: program tc tc_count_flows sched_cls
// bpfvm-expect: program raw_tracepoint/sys_enter trace_event_unchecked raw_tracepoint
// bpfvm-expect: program raw_tracepoint/sys_enter trace_event raw_tracepoint
// bpfvm-expect: map flow_buckets hash 4 8 256
// bpfvm-expect: map events ringbuf 0 0 4096
// bpfvm-expect: verdict tc_count_flows_unchecked reject null-dereference R0 invalid mem access 'map_value_or_null'
// bpfvm-expect: verdict trace_event_unchecked reject null-dereference R7 invalid mem access 'ringbuf_mem_or_null'
// bpfvm-expect: verdict tc_count_flows accept
// bpfvm-expect: verdict trace_event accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run count tc_count_flows --repeat 2 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result count {"r0": 0, "verdict": "TC_ACT_OK", "error": null, "maps": {"flow_buckets": {"entries": [{"key": 62, "value": 2}]}}}
// bpfvm-expect: run event trace_event --ctx inputs/sys_enter_59.raw_tp
// bpfvm-expect: result event {"r0": 0, "error": null, "events": [{"map": "events", "data": "921000003b000000"}]}
//
// REJECTED: a pointer that may be NULL used before the check. (The passing
// twins live here rather than in reject_null_check.bpf.c, which a tools test
// runs without --function, so it must keep a single program.)
//  - tc_count_flows_unchecked creates a missing hash map entry with
//    bpf_map_update_elem and then uses the result of a second lookup as if
//    the update could not have failed (the map may be full, or another CPU may
//    have deleted the entry in between): "R0 invalid mem access
//    'map_value_or_null'";
//  - trace_event_unchecked writes into a ring buffer record without checking
//    that bpf_ringbuf_reserve found room: "R7 invalid mem access
//    'ringbuf_mem_or_null'".
// The passing twins check both results.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);   // skb->hash & 0xff: a flow bucket
    __type(value, __u64); // packets
    __uint(max_entries, 256);
} flow_buckets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline __u32 bucket_of(struct __sk_buff *skb) {
    // The EtherType and the length stand in for a flow hash (skb->hash is 0 in
    // a test run).
    return (skb->protocol ^ skb->len) & 0xff;
}

SEC("tc")
int tc_count_flows_unchecked(struct __sk_buff *skb) {
    __u32 bucket = bucket_of(skb);
    __u64 *packets = bpf_map_lookup_elem(&flow_buckets, &bucket);
    if (!packets) {
        __u64 zero = 0;
        bpf_map_update_elem(&flow_buckets, &bucket, &zero, BPF_NOEXIST);
        packets = bpf_map_lookup_elem(&flow_buckets, &bucket);
    }
    __sync_fetch_and_add(packets, 1); // NULL if the update failed
    return TC_ACT_OK;
}

SEC("tc")
int tc_count_flows(struct __sk_buff *skb) {
    __u32 bucket = bucket_of(skb);
    __u64 *packets = bpf_map_lookup_elem(&flow_buckets, &bucket);
    if (!packets) {
        __u64 zero = 0;
        bpf_map_update_elem(&flow_buckets, &bucket, &zero, BPF_NOEXIST);
        packets = bpf_map_lookup_elem(&flow_buckets, &bucket);
        if (!packets)
            return TC_ACT_OK;
    }
    __sync_fetch_and_add(packets, 1);
    return TC_ACT_OK;
}

struct event {
    __u32 pid;
    __u32 syscall;
};

SEC("raw_tracepoint/sys_enter")
int trace_event_unchecked(struct bpf_raw_tracepoint_args *ctx) {
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    e->pid = bpf_get_current_pid_tgid() >> 32; // NULL when the ring is full
    e->syscall = ctx->args[1];
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int trace_event(struct bpf_raw_tracepoint_args *ctx) {
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->syscall = ctx->args[1];
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
