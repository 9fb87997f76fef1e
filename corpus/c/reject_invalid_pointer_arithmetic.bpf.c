// bpfvm-expect: program xdp xdp_offset_before_null_check xdp
// bpfvm-expect: program xdp xdp_offset_after_null_check xdp
// bpfvm-expect: program xdp xdp_align_packet_pointer xdp
// bpfvm-expect: program xdp xdp_align_offset xdp
// bpfvm-expect: program xdp xdp_strip_eth_by_store xdp
// bpfvm-expect: program xdp xdp_strip_eth xdp
// bpfvm-expect: map stats array 4 16 4
// bpfvm-expect: verdict xdp_offset_before_null_check reject invalid-pointer-arithmetic R1 pointer arithmetic on map_value_or_null prohibited, null-check it first
// bpfvm-expect: verdict xdp_align_packet_pointer reject invalid-pointer-arithmetic math between pkt pointer and 8589934588 is not allowed
// bpfvm-expect: verdict xdp_strip_eth_by_store reject invalid-pointer-arithmetic R2 32-bit pointer arithmetic prohibited
// bpfvm-expect: verdict xdp_offset_after_null_check accept
// bpfvm-expect: verdict xdp_align_offset accept
// bpfvm-expect: verdict xdp_strip_eth accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run after xdp_offset_after_null_check --rx-queue 2 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result after {"r0": 2, "error": null, "maps": {"stats": {"entries": [{"key": 2, "value": {"packets": 0, "bytes": 54}}, {"key": 0, "value": {"bytes": 0}}]}}}
// bpfvm-expect: run aligned xdp_align_offset --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result aligned {"r0": 2, "verdict": "XDP_PASS", "error": null}
// bpfvm-expect: run zero xdp_align_offset --packet 0200000000020200000000010800000000000000
// bpfvm-expect: result zero {"r0": 1, "verdict": "XDP_DROP", "error": null}
// bpfvm-expect: run strip xdp_strip_eth --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result strip {"r0": 2, "error": null, "packet": "4500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000"}
//
// REJECTED: the verifier allows only some arithmetic on pointers: adding or
// subtracting a scalar, 64-bit, on a pointer it knows not to be NULL.
//  - xdp_offset_before_null_check takes the address of a field of a map
//    lookup result before checking the result for NULL ("pointer arithmetic on
//    map_value_or_null prohibited, null-check it first"); the empty asm makes
//    clang compute the address where the source does;
//  - xdp_align_packet_pointer rounds a packet pointer up to a multiple of 4
//    with a bitwise AND, which the verifier does not allow on pointers (the
//    address itself is a secret, and the result's range is unknown);
//  - xdp_strip_eth_by_store tries to drop the Ethernet header with
//    ctx->data += ETH_HLEN: clang adds to the loaded data pointer in 32 bits,
//    since the field is a __u32 ("32-bit pointer arithmetic prohibited").
// The passing twins: the address is taken after the NULL check; the alignment
// is applied to the offset from data, a scalar; the Ethernet header
// is dropped with bpf_xdp_adjust_head.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct port_stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct port_stats);
    __uint(max_entries, 4);
} stats SEC(".maps");

SEC("xdp")
int xdp_offset_before_null_check(struct xdp_md *ctx) {
    __u32 key = ctx->rx_queue_index & 3;
    struct port_stats *s = bpf_map_lookup_elem(&stats, &key);
    __u64 *bytes = &s->bytes;
    asm volatile("" : "+r"(bytes));
    if (!s)
        return XDP_PASS;
    *bytes += ctx->data_end - ctx->data;
    return XDP_PASS;
}

SEC("xdp")
int xdp_offset_after_null_check(struct xdp_md *ctx) {
    __u32 key = ctx->rx_queue_index & 3;
    struct port_stats *s = bpf_map_lookup_elem(&stats, &key);
    if (!s)
        return XDP_PASS;
    __u64 *bytes = &s->bytes;
    asm volatile("" : "+r"(bytes));
    *bytes += ctx->data_end - ctx->data;
    return XDP_PASS;
}

// Reads the first 4-byte aligned word after the 14-byte Ethernet header (the
// IPv4 header starts at offset 14, so the word at 16 is its total length and
// id... for a 4-byte aligned frame).
SEC("xdp")
int xdp_align_packet_pointer(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 *word = (__u32 *)(((long)data + ETH_HLEN + 3) & ~3L);
    if ((void *)(word + 1) > data_end)
        return XDP_PASS;
    return *word == 0 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_align_offset(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u64 offset = (ETH_HLEN + 3) & ~3UL;
    __u32 *word = data + offset;
    if ((void *)(word + 1) > data_end)
        return XDP_PASS;
    return *word == 0 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_strip_eth_by_store(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    if (data + ETH_HLEN + sizeof(struct iphdr) > data_end)
        return XDP_PASS;
    ctx->data += ETH_HLEN;
    return XDP_PASS;
}

SEC("xdp")
int xdp_strip_eth(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    if (data + ETH_HLEN + sizeof(struct iphdr) > data_end)
        return XDP_PASS;
    if (bpf_xdp_adjust_head(ctx, ETH_HLEN))
        return XDP_ABORTED;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
