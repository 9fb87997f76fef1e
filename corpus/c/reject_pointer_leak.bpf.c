// bpfvm-expect: program xdp xdp_flow_ptr_from_global xdp
// bpfvm-expect: program xdp xdp_flow_ptr_from_static xdp
// bpfvm-expect: program xdp xdp_flow_index_from_global xdp
// bpfvm-expect: map flow_table array 4 16 64
// bpfvm-expect: verdict xdp_flow_ptr_from_global reject pointer-leak Global function find_flow_global() doesn't return scalar. Only those are supported. Caller passes invalid args into func#1 ('find_flow_global')
// bpfvm-expect: bpfvm-verdict xdp_flow_ptr_from_global accept bpfvm verifies global functions at each call site like static ones, so the pointer they return stays typed (the kernel verifies them alone, from their BTF signature)
// bpfvm-expect: verdict xdp_flow_ptr_from_static accept
// bpfvm-expect: verdict xdp_flow_index_from_global accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run static xdp_flow_ptr_from_static --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result static {"r0": 2, "error": null, "maps": {"flow_table": {"entries": [{"key": 11, "value": {"packets": 1, "bytes": 54}}, {"key": 0, "value": {"packets": 0}}]}}}
// bpfvm-expect: run global xdp_flow_index_from_global --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result global {"r0": 2, "error": null, "maps": {"flow_table": {"entries": [{"key": 11, "value": {"packets": 1, "bytes": 54}}]}}}
//
// REJECTED: a pointer handed back where only a number may go. The kernel lets
// privileged (CAP_PERFMON) loaders store pointers in maps and return them from
// static subprograms, but a global (non-static) function is verified once, on
// its own, against its BTF prototype, and its return value must be a scalar:
// find_flow_global returns the map value it looked up, so its caller would get
// a pointer the verifier knows nothing about ("Global function ... doesn't
// return scalar").
// The passing twins: xdp_flow_ptr_from_static does the same through a static
// __noinline function (verified in the caller's context, so the pointer's type
// and NULL-ness are tracked across the return), and xdp_flow_index_from_global
// returns the slot number from a global function and looks it up itself.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow_stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct flow_stats);
    __uint(max_entries, 64);
} flow_table SEC(".maps");

// The flow slot of a packet: its source address folded to 6 bits.
static __always_inline int flow_slot(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return -1;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return -1;
    __u32 h = ip->saddr ^ (ip->saddr >> 16);
    return (h ^ (h >> 8)) & 63;
}

// A global (non-static) function is verified once, on its own, against its
// BTF prototype: it may only return a scalar.
__noinline struct flow_stats *find_flow_global(struct xdp_md *ctx) {
    int slot = flow_slot(ctx);
    if (slot < 0)
        return NULL;
    __u32 key = slot;
    return bpf_map_lookup_elem(&flow_table, &key);
}

// A static function is verified in its caller's context, so it may return the
// map value pointer (or NULL) it looked up.
static __noinline struct flow_stats *find_flow_static(struct xdp_md *ctx) {
    int slot = flow_slot(ctx);
    if (slot < 0)
        return NULL;
    __u32 key = slot;
    return bpf_map_lookup_elem(&flow_table, &key);
}

__noinline int flow_slot_global(struct xdp_md *ctx) {
    if (!ctx)
        return -1;
    return flow_slot(ctx);
}

static __always_inline int account(struct xdp_md *ctx, struct flow_stats *s) {
    if (!s)
        return XDP_PASS;
    s->packets++;
    s->bytes += ctx->data_end - ctx->data;
    return XDP_PASS;
}

SEC("xdp")
int xdp_flow_ptr_from_global(struct xdp_md *ctx) {
    return account(ctx, find_flow_global(ctx));
}

SEC("xdp")
int xdp_flow_ptr_from_static(struct xdp_md *ctx) {
    return account(ctx, find_flow_static(ctx));
}

SEC("xdp")
int xdp_flow_index_from_global(struct xdp_md *ctx) {
    int slot = flow_slot_global(ctx);
    if (slot < 0)
        return XDP_PASS;
    __u32 key = slot;
    return account(ctx, bpf_map_lookup_elem(&flow_table, &key));
}

char LICENSE[] SEC("license") = "GPL";
