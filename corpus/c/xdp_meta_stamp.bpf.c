// bpfvm-expect: program xdp xdp_meta_stamp xdp
// bpfvm-expect: verdict xdp_meta_stamp accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run stamp xdp_meta_stamp --packet 02000000000202000000000108004500
// bpfvm-expect: result stamp {"r0": 2, "verdict": "XDP_PASS", "packet": "02000000000202000000000108004500", "metadata": "0800cafe"}
//
// Reserves four bytes of metadata in front of the packet (bpf_xdp_adjust_meta) and writes the
// packet's EtherType and a tag there, as an XDP program handing a parse result to tc does.
// `bpfvm run --json` shows the metadata beside the frame; the kernel's BPF_PROG_TEST_RUN gives
// them back together ([data_meta, data_end)), as KernelRun checks.
// Demonstrates: data_meta bounds checks against data, metadata in the output packet.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_meta_stamp(struct xdp_md *ctx) {
    if (bpf_xdp_adjust_meta(ctx, -4)) return XDP_ABORTED;
    __u8 *meta = (void *)(long)ctx->data_meta;
    __u8 *data = (void *)(long)ctx->data;
    if (meta + 4 > data) return XDP_ABORTED;
    if (data + 14 > (__u8 *)(long)ctx->data_end) return XDP_DROP;
    meta[0] = data[12];
    meta[1] = data[13];
    meta[2] = 0xca;
    meta[3] = 0xfe;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
