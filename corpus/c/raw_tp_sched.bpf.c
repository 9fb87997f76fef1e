// bpfvm-expect: program raw_tp/sched_switch on_sched_switch raw_tracepoint
// bpfvm-expect: program raw_tracepoint/sys_enter on_sys_enter raw_tracepoint
// bpfvm-expect: map switches hash 4 8 1024
// bpfvm-expect: map syscall_counts percpu_array 4 8 512
// bpfvm-expect: verdict on_sched_switch accept
// bpfvm-expect: verdict on_sys_enter accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run sys_enter on_sys_enter --ctx inputs/sys_enter_59.raw_tp
// bpfvm-expect: result sys_enter {"r0": 0, "maps": {"syscall_counts": {"entries": [{"key": 59, "values": [1]}, {"key": 0, "values": [0]}]}}}
// bpfvm-expect: run switch on_sched_switch --cpus 2 --cpu 1 --repeat 3
// bpfvm-expect: result switch {"r0": 0, "maps": {"switches": {"entries": [{"key": 1, "value": 3}]}}}
//
// Raw tracepoints get the untyped tracepoint arguments as an array of u64 in
// struct bpf_raw_tracepoint_args (ctx->args[i]).
//  - on_sched_switch counts context switches per CPU in a hash map
//    (sched_switch(bool preempt, prev, next, prev_state): only args[0] is read);
//  - on_sys_enter counts syscalls by number (args[1] is the syscall id) in a
//    per-CPU array, with a bounds check on the index.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);   // cpu
    __type(value, __u64); // switches
    __uint(max_entries, 1024);
} switches SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 512);
} syscall_counts SEC(".maps");

SEC("raw_tp/sched_switch")
int on_sched_switch(struct bpf_raw_tracepoint_args *ctx) {
    __u32 cpu = bpf_get_smp_processor_id();
    __u64 *n = bpf_map_lookup_elem(&switches, &cpu);
    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&switches, &cpu, &one, BPF_ANY);
    }
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
    __u64 id = ctx->args[1];
    if (id >= 512)
        return 0;
    __u32 key = id;
    __u64 *n = bpf_map_lookup_elem(&syscall_counts, &key);
    if (n)
        *n += 1;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
