// bpfvm-expect: program xdp xdp_dispatch xdp
// bpfvm-expect: program xdp xdp_handle_ipv4 xdp
// bpfvm-expect: program xdp xdp_handle_ipv6 xdp
// bpfvm-expect: map jump_table prog_array 4 4 2
// bpfvm-expect: map .bss array 4 16 1
// bpfvm-expect: verdict xdp_dispatch accept
// bpfvm-expect: verdict xdp_handle_ipv4 accept
// bpfvm-expect: verdict xdp_handle_ipv6 accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run ipv4 xdp_dispatch --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result ipv4 {"r0": 2, "verdict": "XDP_PASS", "error": null}
// bpfvm-expect: run ipv6 xdp_dispatch --packet 02000000000202000000000186dd00000000000000000000000000000000000000000000000000000000000000000000000000000000
// bpfvm-expect: result ipv6 {"r0": 1, "verdict": "XDP_DROP", "error": null}
// bpfvm-expect: run direct4 xdp_handle_ipv4 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result direct4 {"r0": 2, "verdict": "XDP_PASS"}
// bpfvm-expect: run direct6 xdp_handle_ipv6 --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result direct6 {"r0": 1, "verdict": "XDP_DROP"}
//
// Tail calls: xdp_dispatch looks at the EtherType and jumps to one of two
// handlers through a prog_array with bpf_tail_call. The jump table is filled
// statically (libbpf initialises prog_array slots from `.values` at load time).
// A tail call that finds an empty slot falls through to the next instruction.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { SLOT_IPV4, SLOT_IPV6 };

__u64 ipv4_packets;
__u64 ipv6_packets;

SEC("xdp")
int xdp_handle_ipv4(struct xdp_md *ctx) {
    __sync_fetch_and_add(&ipv4_packets, 1);
    return XDP_PASS;
}

SEC("xdp")
int xdp_handle_ipv6(struct xdp_md *ctx) {
    __sync_fetch_and_add(&ipv6_packets, 1);
    return XDP_DROP;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values =
        {
            [SLOT_IPV4] = (void *)&xdp_handle_ipv4,
            [SLOT_IPV6] = (void *)&xdp_handle_ipv6,
        },
};

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IP))
        bpf_tail_call(ctx, &jump_table, SLOT_IPV4);
    else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        bpf_tail_call(ctx, &jump_table, SLOT_IPV6);
    return XDP_PASS; // unknown EtherType or empty slot
}

char LICENSE[] SEC("license") = "GPL";
