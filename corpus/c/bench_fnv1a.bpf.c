// bpfvm-expect: program syscall fnv1a_hash syscall
// bpfvm-expect: map .bss array 4 4104 1
// bpfvm-expect: verdict fnv1a_hash accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run zeros fnv1a_hash
// bpfvm-expect: result zeros {"r0": 1996582822, "error": null}
//
// CPU-bound benchmark: 64-bit FNV-1a over a 4 KiB buffer held in .bss (user
// space fills `input` through the .bss map, runs the program with
// BPF_PROG_TEST_RUN and reads `hash`). A constant-bound loop of 4096 byte
// steps: mostly loads, xor and 64-bit multiplies.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define INPUT_SIZE 4096
#define FNV_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

__u8 input[INPUT_SIZE];
__u64 hash;

SEC("syscall")
int fnv1a_hash(void *ctx) {
    __u64 h = FNV_OFFSET_BASIS;
    for (int i = 0; i < INPUT_SIZE; i++) {
        h ^= input[i];
        h *= FNV_PRIME;
    }
    hash = h;
    return (int)(h ^ (h >> 32));
}

char LICENSE[] SEC("license") = "GPL";
