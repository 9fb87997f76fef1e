// bpfvm-expect: program xdp xdp_checksum_const xdp
// bpfvm-expect: program syscall sum_to_limit syscall
// bpfvm-expect: program syscall loop_callback syscall
// bpfvm-expect: map limits array 4 4 1
// bpfvm-expect: map data_buf array 4 256 1
// bpfvm-expect: map .bss array 4 8 1
// bpfvm-expect: verdict xdp_checksum_const accept
// bpfvm-expect: verdict sum_to_limit accept
// bpfvm-expect: verdict loop_callback accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run const xdp_checksum_const --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result const {"r0": 2, "maps": {".bss": {"entries": [{"key": "00000000", "value": {"result": 64686}}]}}}
// bpfvm-expect: run bounded sum_to_limit --map limits=inputs/limit_3.json --map data_buf=inputs/data_buf_1_to_4.json
// bpfvm-expect: result bounded {"r0": 0, "maps": {".bss": {"entries": [{"value": {"result": 6}}]}}}
// bpfvm-expect: run callback loop_callback --map data_buf=inputs/data_buf_1_to_4.json
// bpfvm-expect: result callback {"r0": 256, "maps": {".bss": {"entries": [{"value": {"result": 10}}]}}}
//
// The three ways of looping that the kernel verifier accepts:
//  - xdp_checksum_const: a loop with a constant trip count (the one's
//    complement sum of the first 16 bytes of the packet, 16-bit words), with a
//    packet bounds check inside the loop;
//  - sum_to_limit: a loop whose bound comes from a map value, clamped by an
//    explicit constant check so the verifier can see it terminates;
//  - loop_callback: bpf_loop(n, callback, ctx, 0) with the work in a callback
//    (the verifier checks the callback once, not per iteration).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 1);
} limits SEC(".maps");

struct buf {
    __u8 bytes[256];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct buf);
    __uint(max_entries, 1);
} data_buf SEC(".maps");

__u64 result;

SEC("xdp")
int xdp_checksum_const(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 sum = 0;
    __u16 *word = data;
    for (int i = 0; i < 8; i++) {
        if ((void *)(word + i + 1) > data_end)
            break;
        sum += word[i];
    }
    // Fold the carries.
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    result = (__u16)~sum;
    return XDP_PASS;
}

SEC("syscall")
int sum_to_limit(void *ctx) {
    __u32 zero = 0;
    __u32 *limit = bpf_map_lookup_elem(&limits, &zero);
    struct buf *b = bpf_map_lookup_elem(&data_buf, &zero);
    if (!limit || !b)
        return -1;
    __u32 n = *limit;
    if (n > sizeof(b->bytes)) // without this the loop bound is unknown
        n = sizeof(b->bytes);
    __u64 sum = 0;
    for (__u32 i = 0; i < n; i++)
        sum += b->bytes[i & 0xff];
    result = sum;
    return 0;
}

struct loop_ctx {
    struct buf *b;
    __u64 sum;
};

// bpf_loop callback: return 0 to continue, 1 to stop early.
static int add_byte(__u32 index, void *data) {
    struct loop_ctx *lc = data;
    if (index >= sizeof(lc->b->bytes))
        return 1;
    lc->sum += lc->b->bytes[index];
    return 0;
}

SEC("syscall")
int loop_callback(void *ctx) {
    __u32 zero = 0;
    struct buf *b = bpf_map_lookup_elem(&data_buf, &zero);
    if (!b)
        return -1;
    struct loop_ctx lc = {.b = b, .sum = 0};
    long iterations = bpf_loop(sizeof(b->bytes), add_byte, &lc, 0);
    result = lc.sum;
    return iterations;
}

char LICENSE[] SEC("license") = "GPL";
