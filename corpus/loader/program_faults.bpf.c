// Three XDP programs and a static subprogram, for the tests of faults confined to one program:
// they patch the instructions of one function (an unknown opcode, a jump out of it, a cut
// ld_imm64, a misplaced relocation) and expect only the programs whose code holds it to fail to
// load, while the others load, verify and run as usual.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __attribute__((noinline)) int twice(int x) { return x * 2; }

// Counts its runs in `hits` (an ld_imm64 with a map relocation) and passes every packet.
SEC("xdp") int counted_pass(struct xdp_md *ctx) {
    __u32 key = 0;
    __u64 *count = bpf_map_lookup_elem(&hits, &key);
    if (count) __sync_fetch_and_add(count, 1);
    return XDP_PASS;
}

// Drops frames shorter than an Ethernet header (a conditional jump).
SEC("xdp") int drop_runts(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    if (data + 14 > data_end) return XDP_DROP;
    return XDP_PASS;
}

// Calls the subprogram in .text.
SEC("xdp") int uses_twice(struct xdp_md *ctx) { return twice(ctx->rx_queue_index) == 2 ? XDP_DROP : XDP_PASS; }

char LICENSE[] SEC("license") = "GPL";
