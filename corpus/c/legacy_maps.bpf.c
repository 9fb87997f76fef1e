// bpfvm-expect: program socket legacy_count socket_filter
// bpfvm-expect: map legacy_counts array 4 8 16
// bpfvm-expect: map legacy_flows hash 8 8 1024
// bpfvm-expect: verdict legacy_count accept
// bpfvm-expect: loadable no libbpf 1.x refuses legacy SEC("maps") map definitions
// bpfvm-expect: run udp legacy_count --packet 02000000000202000000000108004500001c00010000401166ce0a0000010a00000214e9003500080000
// bpfvm-expect: result udp {"r0": 4294967295, "maps": {"legacy_counts": {"entries": [{"key": "00000000", "value": "0100000000000000"}]}, "legacy_flows": {"entries": [{"key": "0800000001000000", "value": "1c00000000000000"}]}}}
//
// Old-style (pre-BTF) map definitions: a `struct bpf_map_def` placed in the
// "maps" ELF section, as samples/bpf and iproute2 used them. libbpf dropped
// support in 1.0, so this object only loads with older loaders (or bpfvm).
// Current libbpf headers no longer define struct bpf_map_def, so it is spelt
// out here with the historical layout (5 x u32).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 16,
};

struct bpf_map_def SEC("maps") legacy_flows = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u64),
    .value_size = sizeof(__u64),
    .max_entries = 1024,
};

SEC("socket")
int legacy_count(struct __sk_buff *skb) {
    __u32 bucket = skb->len / 128;
    if (bucket > 15)
        bucket = 15;
    __u64 *n = bpf_map_lookup_elem(&legacy_counts, &bucket);
    if (n)
        __sync_fetch_and_add(n, 1);

    __u64 flow = ((__u64)skb->ifindex << 32) | skb->protocol;
    __u64 *bytes = bpf_map_lookup_elem(&legacy_flows, &flow);
    if (bytes) {
        __sync_fetch_and_add(bytes, skb->len);
    } else {
        __u64 len = skb->len;
        bpf_map_update_elem(&legacy_flows, &flow, &len, BPF_ANY);
    }
    return -1; // keep the whole packet
}

char LICENSE[] SEC("license") = "GPL";
