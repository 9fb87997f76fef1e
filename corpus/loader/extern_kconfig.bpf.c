// A .kconfig extern: libbpf fills it from the kernel's config; bpfvm reports it unsupported.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("xdp") int version_gate(struct xdp_md *ctx) { return LINUX_KERNEL_VERSION > 0x050f00 ? XDP_PASS : XDP_DROP; }

char LICENSE[] SEC("license") = "GPL";
