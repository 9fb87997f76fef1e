// bpfvm-expect: program syscall sum_unbounded syscall
// bpfvm-expect: program syscall sum_clamped syscall
// bpfvm-expect: map config array 4 4 1
// bpfvm-expect: map samples array 4 8 256
// bpfvm-expect: verdict sum_unbounded reject too-complex BPF program is too large. Processed 1000001 insn (loop bound from a map value is unbounded)
// bpfvm-expect: verdict sum_clamped accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run clamped sum_clamped --map config=inputs/limit_3.json --map samples=inputs/samples_10_20_30.json
// bpfvm-expect: result clamped {"r0": 60, "error": null}
//
// REJECTED: the loop runs `n` times where n is read from a map and never
// clamped, so the verifier cannot prove termination: it keeps unrolling the
// loop with a fresh iteration each time until it gives up ("BPF program is too
// large" / "infinite loop detected"). Compare sum_to_limit in loops.bpf.c.
// The passing twin sum_clamped is the same loop with n clamped to the size of
// the samples map first.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 1);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 256);
} samples SEC(".maps");

SEC("syscall")
int sum_unbounded(void *ctx) {
    __u32 zero = 0;
    __u32 *limit = bpf_map_lookup_elem(&config, &zero);
    if (!limit)
        return 0;
    __u32 n = *limit; // any value up to 2^32 - 1
    __u64 sum = 0;
    for (__u32 i = 0; i < n; i++) {
        __u32 key = i % 256;
        __u64 *v = bpf_map_lookup_elem(&samples, &key);
        if (v)
            sum += *v;
    }
    return sum > 0;
}

SEC("syscall")
int sum_clamped(void *ctx) {
    __u32 zero = 0;
    __u32 *limit = bpf_map_lookup_elem(&config, &zero);
    if (!limit)
        return 0;
    __u32 n = *limit;
    if (n > 256)
        n = 256;
    __u64 sum = 0;
    for (__u32 i = 0; i < n; i++) {
        __u32 key = i % 256;
        __u64 *v = bpf_map_lookup_elem(&samples, &key);
        if (v)
            sum += *v;
    }
    return sum;
}

char LICENSE[] SEC("license") = "GPL";
