// Global data in every shape libbpf lays out when it opens an object: the standard sections,
// custom .data.* / .rodata.* sections (each its own map), static variables (clang writes their
// DATASEC offsets; globals get zero until the loader fills them in from the ELF symbols), and a
// hidden global (libbpf marks its BTF variable static).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __hidden __attribute__((visibility("hidden")))

// .data: a global, a static and a hidden global.
__u64 data_total = 1;
static __u32 data_static = 2;
__hidden __u32 data_hidden = 3;

// .bss
__u64 bss_packets;
static __u64 bss_static;

// .rodata
const volatile __u32 rodata_limit = 1500;

// A custom writable section and a custom read-only one.
__u64 counter_hits SEC(".data.counters") = 4;
__u32 counter_misses SEC(".data.counters") = 5;
static __u16 counter_static SEC(".data.counters") = 6;
const volatile __u8 config_flags SEC(".rodata.config") = 7;

SEC("xdp") int global_sections(struct xdp_md *ctx) {
    __u32 len = ctx->data_end - ctx->data;
    bss_packets++;
    bss_static += len;
    data_static += len > rodata_limit;
    data_total += data_static + data_hidden;
    if (config_flags & 1) {
        counter_hits++;
        counter_static++;
    } else {
        counter_misses++;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
