// bpfvm-expect: program syscall drain_queue_stuck syscall
// bpfvm-expect: program syscall drain_queue syscall
// bpfvm-expect: map work queue 0 8 64
// bpfvm-expect: map .bss array 4 16 1
// bpfvm-expect: verdict drain_queue_stuck reject infinite-loop infinite loop detected at insn 28
// bpfvm-expect: verdict drain_queue accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run drain drain_queue --map work=inputs/work_5_7_11.json
// bpfvm-expect: result drain {"r0": 0, "error": null, "maps": {"work": {"values": []}, ".bss": {"entries": [{"value": {"drained": 3, "drained_sum": 23}}]}}}
//
// REJECTED: a loop that cannot end. drain_queue_stuck pops work items from a
// queue map, but when the queue is empty it "retries" without changing
// anything, so from that point on it would spin forever: the verifier finds
// the loop head again in exactly the same state and reports an infinite loop
// (it does not have to wait for the instruction limit).
// The passing twin stops when the queue is empty and never takes more than
// 64 items.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 64);
    __type(value, __u64);
} work SEC(".maps");

__u64 drained_sum;
__u32 drained;

SEC("syscall")
int drain_queue_stuck(void *ctx) {
    __u64 item;
    for (;;) {
        if (bpf_map_pop_elem(&work, &item) != 0) {
            while (drained < 64) // waits for more work, but nothing here changes
                asm volatile("" ::: "memory");
            return 0;
        }
        drained_sum += item;
        drained++;
    }
}

SEC("syscall")
int drain_queue(void *ctx) {
    __u64 item;
    for (int i = 0; i < 64; i++) {
        if (bpf_map_pop_elem(&work, &item) != 0)
            return 0;
        drained_sum += item;
        drained++;
    }
    return 1; // more left
}

char LICENSE[] SEC("license") = "GPL";
