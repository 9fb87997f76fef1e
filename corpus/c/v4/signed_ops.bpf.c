// bpfvm-expect: program syscall signed_ops syscall
// bpfvm-expect: map .data array 4 20 1
// bpfvm-expect: map .bss array 4 24 1
// bpfvm-expect: verdict signed_ops accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run defaults signed_ops
// bpfvm-expect: result defaults {"r0": 4294967249, "maps": {".bss": {"entries": [{"value": {"quotient": -142, "rem": -12, "widened": -305}}]}}}
//
// Built with -mcpu=v4. Signed division and modulo make clang emit the v4
// sdiv/smod instructions (BPF_SDIV/BPF_SMOD, offset 1), and the casts of
// narrow signed values emit sign-extending loads (ldsx) and moves (movsx).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// .data inputs (user space may overwrite them before a run)
__s64 dividend = -1000;
__s32 divisor = 7;
__s8 small = -5;
__s16 medium = -300;
__s32 modulus = -13;

// .bss results
__s64 quotient;
__s64 rem;
__s64 widened;

SEC("syscall")
int signed_ops(void *ctx) {
    __s64 d = divisor;      // ldsx (32 -> 64 bit sign-extending load)
    if (d == 0)
        return -1;
    quotient = dividend / d;  // sdiv
    __s64 m = modulus;
    if (m == 0)
        return -1;
    rem = dividend % m; // smod
    widened = (long)small + (long)medium; // ldsx (8 and 16 bit)
    __s32 q32 = (__s32)quotient / (__s32)3; // 32-bit sdiv
    return (int)(long)(short)q32; // movsx
}

char LICENSE[] SEC("license") = "GPL";
