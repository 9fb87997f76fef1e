// bpfvm-expect: program xdp xdp_loop_carried_ctx xdp
// bpfvm-expect: program xdp xdp_subprog_carried_ctx xdp
// bpfvm-expect: map .bss array 4 8 1
// bpfvm-expect: verdict xdp_loop_carried_ctx accept
// bpfvm-expect: verdict xdp_subprog_carried_ctx accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run loop xdp_loop_carried_ctx --packet 0102030405060708090a0b0c0d0e0f10
// bpfvm-expect: result loop {"r0": 2, "verdict": "XDP_PASS", "maps": {".bss": {"entries": [{"value": {"checksum": 36}}]}}}
// bpfvm-expect: run subprog xdp_subprog_carried_ctx --packet 0102030405060708090a0b0c0d0e0f10
// bpfvm-expect: result subprog {"r0": 2, "verdict": "XDP_PASS", "maps": {".bss": {"entries": [{"value": {"checksum": 16198}}]}}}
//
// The context pointer kept in a struct on the stack and read back elsewhere: in a bpf_loop
// callback (the struct is its context argument) and in a subprogram (the struct is passed by
// pointer). Each reads ctx->data and ctx->data_end through the carried pointer, as parsers that
// pass a "cursor" struct around do.
// Demonstrates: context field loads through a pointer loaded from memory.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct cursor {
    struct xdp_md *ctx;
    __u32 offset;
    __u32 sum;
};

__u64 checksum = 0;

static long add_byte(__u32 index, void *data) {
    struct cursor *c = data;
    void *start = (void *)(long)c->ctx->data;
    void *end = (void *)(long)c->ctx->data_end;
    __u8 *byte = start + (index & 63);
    if ((void *)(byte + 1) > end) return 1;
    c->sum += *byte;
    return 0;
}

SEC("xdp")
int xdp_loop_carried_ctx(struct xdp_md *ctx) {
    struct cursor c = {.ctx = ctx};
    bpf_loop(8, add_byte, &c, 0);
    checksum = c.sum;
    return XDP_PASS;
}

// Sums the 16-bit big-endian words of the packet after c->offset.
static __noinline __u32 sum_words(struct cursor *c) {
    __u8 *start = (void *)(long)c->ctx->data;
    __u8 *end = (void *)(long)c->ctx->data_end;
    __u32 sum = 0;
    for (int i = 0; i < 16; i++) {
        __u8 *word = start + (c->offset & 15) + 2 * i;
        if (word + 2 > end) break;
        sum += (__u32)word[0] << 8 | word[1];
    }
    return sum;
}

SEC("xdp")
int xdp_subprog_carried_ctx(struct xdp_md *ctx) {
    struct cursor c = {.ctx = ctx, .offset = 2};
    checksum = sum_words(&c) & 0xffff;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
