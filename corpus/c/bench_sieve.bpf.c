// bpfvm-expect: program syscall sieve syscall
// bpfvm-expect: map .bss array 4 1024 1
// bpfvm-expect: verdict sieve accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run primes sieve
// bpfvm-expect: result primes {"r0": 172, "error": null}
//
// CPU-bound benchmark: sieve of Eratosthenes up to 1024 with the flags in .bss
// (the stack is only 512 bytes). Returns the number of primes below 1024 (172).
// Nested loops whose inner bound and stride depend on the outer index.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define LIMIT 1024

__u8 composite[LIMIT];

SEC("syscall")
int sieve(void *ctx) {
    for (int i = 0; i < LIMIT; i++)
        composite[i] = 0;
    for (int i = 2; i * i < LIMIT; i++) {
        if (composite[i])
            continue;
        for (int j = i * i; j < LIMIT; j += i)
            composite[j] = 1;
    }
    int count = 0;
    for (int i = 2; i < LIMIT; i++)
        count += !composite[i];
    return count;
}

char LICENSE[] SEC("license") = "GPL";
