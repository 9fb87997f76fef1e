// bpfvm-expect: program syscall bubble_sort syscall
// bpfvm-expect: map .bss array 4 256 1
// bpfvm-expect: verdict bubble_sort accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run zeros bubble_sort
// bpfvm-expect: result zeros {"r0": 1, "error": null}
//
// CPU-bound benchmark: bubble sort of 64 u32 values in .bss with two nested
// constant-bound loops (2016 compare-and-swap steps). The data-dependent swap
// branch is what makes the verifier explore (and prune) two paths per step.
// Returns 1 if the result is sorted, as a self-check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define N 64

__u32 values[N];

SEC("syscall")
int bubble_sort(void *ctx) {
    for (int i = 0; i < N - 1; i++) {
        for (int j = 0; j < N - 1 - i; j++) {
            __u32 a = values[j], b = values[j + 1];
            if (a > b) {
                values[j] = b;
                values[j + 1] = a;
            }
        }
    }
    for (int i = 0; i < N - 1; i++)
        if (values[i] > values[i + 1])
            return 0;
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
