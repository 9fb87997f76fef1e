// A BTF-defined array of maps whose inner map template and first two slots are given in the
// definition (`values` initializers), plus an ordinary hash map used as an inner map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = {&inner_a, &inner_b},
};

SEC("xdp") int pick_inner(struct xdp_md *ctx) {
    __u32 slot = ctx->rx_queue_index & 1, key = 0;
    void *inner = bpf_map_lookup_elem(&outer, &slot);
    if (!inner) return XDP_ABORTED;
    __u64 *value = bpf_map_lookup_elem(inner, &key);
    if (value) __sync_fetch_and_add(value, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
