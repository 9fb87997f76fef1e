// bpfvm-expect: program xdp xdp_scalar_as_map xdp
// bpfvm-expect: program xdp xdp_small_key xdp
// bpfvm-expect: program xdp xdp_full_key xdp
// bpfvm-expect: map sessions hash 64 8 128
// bpfvm-expect: verdict xdp_scalar_as_map reject helper-argument R1 type=scalar expected=map_ptr
// bpfvm-expect: verdict xdp_small_key reject helper-argument invalid read from stack R2 off=-4 size=64
// bpfvm-expect: verdict xdp_full_key accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run miss xdp_full_key --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result miss {"r0": 2, "verdict": "XDP_PASS", "maps": {"sessions": {"entries": []}}}
//
// REJECTED, both: helper arguments must match the helper's prototype.
//  - xdp_scalar_as_map passes a number where bpf_map_lookup_elem expects
//    CONST_PTR_TO_MAP ("R1 type=scalar expected=map_ptr");
//  - xdp_small_key passes a 4-byte stack variable as the key of a map whose
//    key_size is 64: the helper would read 64 bytes, past the top of the stack
//    frame ("invalid indirect access to stack" / "invalid read from stack").
// The passing twin xdp_full_key builds a whole struct session_key on the
// stack (zeroed, then the interface index written into it) and passes the map
// itself.
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

SEC("xdp")
int xdp_full_key(struct xdp_md *ctx) {
    struct session_key key;
    __builtin_memset(&key, 0, sizeof(key));
    *(__u32 *)key.name = ctx->ingress_ifindex;
    if (bpf_map_lookup_elem(&sessions, &key))
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
