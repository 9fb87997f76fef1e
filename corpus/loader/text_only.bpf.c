// Built the way other eBPF runtimes (uBPF, rbpf) expect: no SEC() at all, so every function
// is in .text. With no program section, each global function is a program ("bytes" type
// unless --type says otherwise) and the static one is a subprogram.
#include <linux/types.h>

static __attribute__((noinline)) __u64 mix(__u64 value) { return value * 0x9e3779b97f4a7c15ULL ^ (value >> 29); }

__u64 checksum(const __u8 *data, __u64 length) {
    __u64 sum = 0;
    for (__u64 i = 0; i < length && i < 64; ++i) sum += data[i];
    return mix(sum);
}

__u64 first_byte(const __u8 *data, __u64 length) { return length ? mix(data[0]) : 0; }
