// bpfvm-expect: program xdp xdp_copy_header_skb_helper xdp
// bpfvm-expect: program xdp xdp_copy_header xdp
// bpfvm-expect: program kprobe/vfs_read kprobe_adjust_head kprobe
// bpfvm-expect: program kprobe/vfs_read kprobe_count_calls kprobe
// bpfvm-expect: map last_header array 4 14 1
// bpfvm-expect: map calls hash 4 8 1024
// bpfvm-expect: verdict xdp_copy_header_skb_helper reject helper-not-allowed program of this type cannot use helper bpf_skb_load_bytes#26
// bpfvm-expect: verdict kprobe_adjust_head reject helper-not-allowed program of this type cannot use helper bpf_xdp_adjust_head#44
// bpfvm-expect: verdict xdp_copy_header accept
// bpfvm-expect: verdict kprobe_count_calls accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run header xdp_copy_header --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result header {"r0": 2, "error": null, "maps": {"last_header": {"entries": [{"key": 0, "value": {"h_dest": [2, 0, 0, 0, 0, 2], "h_source": [2, 0, 0, 0, 0, 1], "h_proto": 8}}]}}}
// bpfvm-expect: run runt xdp_copy_header --packet 020000000002020000000001
// bpfvm-expect: result runt {"r0": 1, "verdict": "XDP_DROP", "error": null, "maps": {"last_header": {"entries": [{"key": 0, "value": {"h_proto": 0}}]}}}
// bpfvm-expect: run count kprobe_count_calls --ctx inputs/vfs_read_4096.pt_regs --repeat 3
// bpfvm-expect: result count {"r0": 0, "error": null, "maps": {"calls": {"entries": [{"key": 4242, "value": 3}]}}}
//
// REJECTED: each program type has its own set of helpers.
//  - xdp_copy_header_skb_helper was copied from a tc program and still calls
//    bpf_skb_load_bytes, a helper of the skb program types that XDP does not
//    have;
//  - kprobe_adjust_head calls bpf_xdp_adjust_head from a kprobe, whose
//    context is struct pt_regs, not an XDP buffer.
// The passing twins: xdp_copy_header reads the header with direct packet
// access after a data_end check, and kprobe_count_calls uses only helpers
// every tracing program has (map lookup, pid/tgid).
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32); // tgid
    __type(value, __u64);
    __uint(max_entries, 1024);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct ethhdr);
    __uint(max_entries, 1);
} last_header SEC(".maps");

SEC("xdp")
int xdp_copy_header_skb_helper(struct xdp_md *ctx) {
    __u32 zero = 0;
    struct ethhdr *saved = bpf_map_lookup_elem(&last_header, &zero);
    if (!saved)
        return XDP_PASS;
    if (bpf_skb_load_bytes(ctx, 0, saved, sizeof(*saved)) < 0)
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int xdp_copy_header(struct xdp_md *ctx) {
    __u32 zero = 0;
    struct ethhdr *saved = bpf_map_lookup_elem(&last_header, &zero);
    if (!saved)
        return XDP_PASS;
    void *data = (void *)(long)ctx->data;
    if (data + sizeof(*saved) > (void *)(long)ctx->data_end)
        return XDP_DROP;
    __builtin_memcpy(saved, data, sizeof(*saved));
    return XDP_PASS;
}

SEC("kprobe/vfs_read")
int kprobe_adjust_head(struct pt_regs *ctx) {
    if (bpf_xdp_adjust_head((struct xdp_md *)ctx, 0))
        return 1;
    return 0;
}

SEC("kprobe/vfs_read")
int kprobe_count_calls(struct pt_regs *ctx) {
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1, *n = bpf_map_lookup_elem(&calls, &tgid);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&calls, &tgid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
