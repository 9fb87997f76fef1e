// bpfvm-expect: program xdp xdp_no_null_check xdp
// bpfvm-expect: map counters hash 4 8 4
// bpfvm-expect: verdict xdp_no_null_check reject null-dereference R0 invalid mem access 'map_value_or_null'
// bpfvm-expect: loadable yes
// bpfvm-expect: run fault xdp_no_null_check --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result fault {"error": {"kind": "memory-fault"}}
//
// REJECTED: bpf_map_lookup_elem returns a map value pointer *or NULL*
// (PTR_TO_MAP_VALUE_OR_NULL). Dereferencing it before testing for NULL is an
// error even for an array map whose key is in range ("R0 invalid mem access
// 'map_value_or_null'").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} counters SEC(".maps");

SEC("xdp")
int xdp_no_null_check(struct xdp_md *ctx) {
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&counters, &key);
    // Missing: if (!value) return XDP_PASS;
    *value += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
