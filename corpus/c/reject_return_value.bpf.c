// bpfvm-expect: program xdp xdp_scan_options_bad_callback xdp
// bpfvm-expect: program xdp xdp_scan_options xdp
// bpfvm-expect: map .bss array 4 8 1
// bpfvm-expect: verdict xdp_scan_options_bad_callback reject return-value At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]
// bpfvm-expect: verdict xdp_scan_options accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run alert xdp_scan_options --packet 020000000002020000000001080047000030000100004006cfbf0a0000010a000002010194040000000030390050000003e8000000005002faf06c7e0000
// bpfvm-expect: result alert {"r0": 2, "error": null, "maps": {".bss": {"entries": [{"value": {"router_alerts": 1}}]}}}
// bpfvm-expect: run record_route xdp_scan_options --packet 02000000000202000000000108004700003000010000400659be0a0000010a000002070704000000000030390050000003e8000000005002faf06c7e0000
// bpfvm-expect: result record_route {"r0": 2, "error": null, "maps": {".bss": {"entries": [{"value": {"router_alerts": 0}}]}}}
//
// REJECTED: a bpf_loop callback must return 0 (go on) or 1 (stop); the
// verifier checks the callback's r0 against [0, 1] at its exit. The callback
// of xdp_scan_options_bad_callback returns its own status code (2, "option
// found") to mean "stop", and the program reads the result from the context
// struct afterwards.
// The passing twin returns 1 to stop and keeps the status in the context
// struct only.
// Both scan the IPv4 options of the packet (up to 40 bytes after the fixed
// header) for a Router Alert option (type 148), one option per iteration.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>


enum scan_status { SCAN_GOING = 0, SCAN_DONE = 1, SCAN_FOUND = 2 };

struct scan_ctx {
    void *data;
    void *data_end;
    __u32 offset; // of the next option, from the start of the packet
    __u32 end;    // of the options
    int status;
};

__u64 router_alerts;

static __always_inline int scan_one(struct scan_ctx *s) {
    void *data = s->data;
    void *data_end = s->data_end;
    __u32 off = s->offset;
    if (off >= s->end || off > 60 + ETH_HLEN)
        return SCAN_DONE;
    __u8 *opt = data + off;
    if ((void *)(opt + 2) > data_end)
        return SCAN_DONE;
    if (opt[0] == IPOPT_END)
        return SCAN_DONE;
    if (opt[0] == IPOPT_NOOP) {
        s->offset = off + 1;
        return SCAN_GOING;
    }
    if (opt[0] == IPOPT_RA)
        return SCAN_FOUND;
    if (opt[1] < 2)
        return SCAN_DONE; // malformed length
    s->offset = off + opt[1];
    return SCAN_GOING;
}

static int scan_option_bad(__u32 index, void *data) {
    struct scan_ctx *s = data;
    s->status = scan_one(s);
    return s->status; // 2 is not a valid bpf_loop callback result
}

static int scan_option(__u32 index, void *data) {
    struct scan_ctx *s = data;
    s->status = scan_one(s);
    return s->status != SCAN_GOING;
}

static __always_inline int options_bounds(struct xdp_md *ctx, struct scan_ctx *s) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return -1;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl <= 5)
        return -1;
    s->data = data;
    s->data_end = data_end;
    s->offset = ETH_HLEN + sizeof(*ip);
    s->end = ETH_HLEN + ip->ihl * 4;
    s->status = SCAN_GOING;
    return 0;
}

SEC("xdp")
int xdp_scan_options_bad_callback(struct xdp_md *ctx) {
    struct scan_ctx s = {};
    if (options_bounds(ctx, &s))
        return XDP_PASS;
    bpf_loop(40, scan_option_bad, &s, 0);
    if (s.status == SCAN_FOUND)
        router_alerts++;
    return XDP_PASS;
}

SEC("xdp")
int xdp_scan_options(struct xdp_md *ctx) {
    struct scan_ctx s = {};
    if (options_bounds(ctx, &s))
        return XDP_PASS;
    bpf_loop(40, scan_option, &s, 0);
    if (s.status == SCAN_FOUND)
        router_alerts++;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
