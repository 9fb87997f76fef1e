// One known program section next to one libbpf does not know: the unknown one is an error
// that names it, unless --type gives the type.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int known(struct xdp_md *ctx) { return XDP_PASS; }

SEC("mystery") int unknown(struct xdp_md *ctx) { return XDP_DROP; }

char LICENSE[] SEC("license") = "GPL";
