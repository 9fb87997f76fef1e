// bpfvm-expect: program syscall checksum_records_big_frames syscall
// bpfvm-expect: program syscall checksum_records syscall
// bpfvm-expect: program syscall nest_too_deep syscall
// bpfvm-expect: program syscall nest_eight syscall
// bpfvm-expect: map big_records array 4 176 3
// bpfvm-expect: map small_records array 4 64 3
// bpfvm-expect: verdict checksum_records_big_frames reject call-depth combined stack size of 3 calls is 576. Too large
// bpfvm-expect: verdict nest_too_deep reject call-depth the call stack of 9 frames is too deep
// bpfvm-expect: verdict checksum_records accept
// bpfvm-expect: verdict nest_eight accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run small checksum_records
// bpfvm-expect: result small {"r0": 120, "error": null}
// bpfvm-expect: run eight nest_eight
// bpfvm-expect: result eight {"r0": 28, "error": null}
//
// REJECTED: all of a program's frames share one 512-byte stack, and calls nest
// at most 8 deep.
//  - checksum_records_big_frames calls three __noinline levels, each with a
//    176-byte record buffer on its stack (192 bytes with alignment): the
//    caller's frame and the first two levels already need 576 bytes
//    ("combined stack size of 3 calls is 576. Too large");
//  - nest_too_deep is a chain of nine calls (main + 8 subprograms), one more
//    frame than the verifier allows ("the call stack of 9 frames is too
//    deep").
// The passing twins: checksum_records has the same three levels with 64-byte
// buffers, and nest_eight stops one level earlier.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BIG 22   // u64 words: 176 bytes
#define SMALL 8  // u64 words: 64 bytes

struct big_record {
    __u64 w[BIG];
};
struct small_record {
    __u64 w[SMALL];
};

// Records are copied into these maps so that the buffers must live on the stack.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct big_record);
    __uint(max_entries, 3);
} big_records SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct small_record);
    __uint(max_entries, 3);
} small_records SEC(".maps");

#define LEVEL(name, record, words, map, level, next)                                   \
    static __noinline __u64 name(__u64 seed) {                                         \
        struct record r;                                                               \
        __u32 key = level;                                                             \
        for (int i = 0; i < words; i++)                                                \
            r.w[i] = seed * (i + 1) + level;                                           \
        bpf_map_update_elem(&map, &key, &r, BPF_ANY);                                  \
        __u64 sum = next;                                                              \
        for (int i = 0; i < words; i++)                                                \
            sum ^= r.w[i];                                                             \
        return sum;                                                                    \
    }

LEVEL(big3, big_record, BIG, big_records, 2, 0)
LEVEL(big2, big_record, BIG, big_records, 1, big3(seed + 1))
LEVEL(big1, big_record, BIG, big_records, 0, big2(seed + 1))
LEVEL(small3, small_record, SMALL, small_records, 2, 0)
LEVEL(small2, small_record, SMALL, small_records, 1, small3(seed + 1))
LEVEL(small1, small_record, SMALL, small_records, 0, small2(seed + 1))

// The caller's own frame: a record of the same size, written to the map too.
SEC("syscall")
int checksum_records_big_frames(void *ctx) {
    struct big_record r = {};
    __u32 key = 0;
    r.w[0] = big1(7);
    bpf_map_update_elem(&big_records, &key, &r, BPF_ANY);
    return r.w[0] & 0xffff;
}

SEC("syscall")
int checksum_records(void *ctx) {
    struct small_record r = {};
    __u32 key = 0;
    r.w[0] = small1(7);
    bpf_map_update_elem(&small_records, &key, &r, BPF_ANY);
    return r.w[0] & 0xffff;
}

// A chain of functions that each add their depth: nest(n) calls nest(n + 1).
#define NEST(name, n, next)                      \
    static __noinline int name(int x) {          \
        asm volatile("" : "+r"(x));              \
        return next + n;                         \
    }

NEST(nest8, 8, x)
NEST(nest7, 7, nest8(x))
NEST(nest6, 6, nest7(x))
NEST(nest5, 5, nest6(x))
NEST(nest4, 4, nest5(x))
NEST(nest3, 3, nest4(x))
NEST(nest2, 2, nest3(x))
NEST(nest1, 1, nest2(x))
NEST(nest7_last, 7, x)
NEST(nest6b, 6, nest7_last(x))
NEST(nest5b, 5, nest6b(x))
NEST(nest4b, 4, nest5b(x))
NEST(nest3b, 3, nest4b(x))
NEST(nest2b, 2, nest3b(x))
NEST(nest1b, 1, nest2b(x))

SEC("syscall")
int nest_too_deep(void *ctx) {
    return nest1(0); // main + nest1..nest8: 9 frames
}

SEC("syscall")
int nest_eight(void *ctx) {
    return nest1b(0); // main + nest1b..nest7_last: 8 frames
}

char LICENSE[] SEC("license") = "GPL";
