// bpfvm-expect: program xdp xdp_scalar_as_map xdp
// bpfvm-expect: program xdp xdp_small_key xdp
// bpfvm-expect: map sessions hash 64 8 128
// bpfvm-expect: verdict xdp_scalar_as_map reject scalar passed as map pointer
// bpfvm-expect: verdict xdp_small_key reject key buffer smaller than key_size
// bpfvm-expect: loadable yes
//
// REJECTED, both: helper arguments must match the helper's prototype.
//  - xdp_scalar_as_map passes a number where bpf_map_lookup_elem expects
//    CONST_PTR_TO_MAP ("R1 type=scalar expected=map_ptr");
//  - xdp_small_key passes a 4-byte stack variable as the key of a map whose
//    key_size is 64: the helper would read 64 bytes, past the top of the stack
//    frame ("invalid indirect access to stack" / "invalid read from stack").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct session_key {
    char name[64];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct session_key);
    __type(value, __u64);
    __uint(max_entries, 128);
} sessions SEC(".maps");

SEC("xdp")
int xdp_scalar_as_map(struct xdp_md *ctx) {
    __u32 key = 0;
    void *map = (void *)(long)ctx->rx_queue_index; // a number, not a map
    if (bpf_map_lookup_elem(map, &key))
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int xdp_small_key(struct xdp_md *ctx) {
    __u32 key = ctx->ingress_ifindex; // 4 bytes, the map wants 64
    if (bpf_map_lookup_elem(&sessions, &key))
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
