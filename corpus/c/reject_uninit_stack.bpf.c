// bpfvm-expect: program xdp xdp_uninit_stack xdp
// bpfvm-expect: program xdp xdp_init_stack xdp
// bpfvm-expect: map hits array 4 8 1
// bpfvm-expect: verdict xdp_uninit_stack reject uninitialized-stack R1 invalid mem access 'scalar' (pointer read from an uninitialized stack slot)
// bpfvm-expect: verdict xdp_init_stack accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run init xdp_init_stack --packet 02000000000202000000000108004500002800010000400666cd0a0000010a0000023039005000000000000000005002200000000000
// bpfvm-expect: result init {"r0": 2, "maps": {"hits": {"entries": [{"key": 0, "value": 1}]}}}
//
// REJECTED: the pointer table `slots` lives on the stack and only slots[0] is
// written; slots[1] is read back without ever being initialised. An unprivileged
// loader rejects the read itself ("invalid read from stack"). A privileged
// (CAP_PERFMON) loader tolerates reading uninitialised stack but the result is
// an unknown scalar, so dereferencing it is rejected ("R1 invalid mem access
// 'scalar'"): either way the program does not load.
// The empty asm statement only stops clang from folding the uninitialised read
// away (it "may" write `slots`, but emits no instruction).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} hits SEC(".maps");

SEC("xdp")
int xdp_uninit_stack(struct xdp_md *ctx) {
    __u64 *slots[2];
    __u32 key = 0;
    slots[0] = bpf_map_lookup_elem(&hits, &key);
    asm volatile("" : : "r"(slots) : "memory");
    __u64 *p = slots[1]; // never written
    *p += 1;
    return XDP_PASS;
}

// The passing twin: both slots are written (slots[1] with the same lookup), and
// the pointer read back is checked for NULL before it is used.
SEC("xdp")
int xdp_init_stack(struct xdp_md *ctx) {
    __u64 *slots[2];
    __u32 key = 0;
    slots[0] = bpf_map_lookup_elem(&hits, &key);
    slots[1] = slots[0];
    asm volatile("" : : "r"(slots) : "memory");
    __u64 *p = slots[1];
    if (p)
        *p += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
