// bpfvm-expect: program raw_tracepoint/sys_enter trace_submit_field raw_tracepoint
// bpfvm-expect: program raw_tracepoint/sys_enter trace_submit_twice raw_tracepoint
// bpfvm-expect: program raw_tracepoint/sys_enter trace_submit_record raw_tracepoint
// bpfvm-expect: map samples ringbuf 0 0 65536
// bpfvm-expect: map .bss array 4 16 1
// bpfvm-expect: verdict trace_submit_field reject invalid-release R1 must have zero offset when passed to release func or trusted arg to kfunc
// bpfvm-expect: verdict trace_submit_twice reject invalid-release R1 type=scalar expected=ringbuf_mem
// bpfvm-expect: verdict trace_submit_record accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run record trace_submit_record --ctx inputs/sys_enter_59.raw_tp
// bpfvm-expect: result record {"r0": 0, "error": null, "events": [{"map": "samples", "data": "9210000010000000627066766d000000000000000000000000000000000000000000000000000000"}], "maps": {".bss": {"entries": [{"value": {"failed": 0, "submitted": 1}}]}}}
//
// REJECTED: bpf_ringbuf_submit and bpf_ringbuf_discard release exactly the
// record bpf_ringbuf_reserve handed out, once.
//  - trace_submit_field passes a pointer to the payload inside the record
//    (past its header) instead of the record itself: a released pointer must
//    have offset zero;
//  - trace_submit_twice submits the record and then, on the error path of a
//    later step, discards it as well: after the first release the verifier
//    no longer treats the register as a record at all.
// The passing twin fills the payload through the field pointer but submits
// the record, once, on every path.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sample {
    __u32 tgid;
    __u32 len;
    __u8 payload[32];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} samples SEC(".maps");

__u64 submitted;
__u64 failed;

SEC("raw_tracepoint/sys_enter")
int trace_submit_field(struct bpf_raw_tracepoint_args *ctx) {
    struct sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
    if (!s)
        return 0;
    s->tgid = bpf_get_current_pid_tgid() >> 32;
    __u8 *payload = s->payload;
    s->len = bpf_get_current_comm(payload, 16) == 0 ? 16 : 0;
    bpf_ringbuf_submit(payload, 0); // the field, not the record
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int trace_submit_twice(struct bpf_raw_tracepoint_args *ctx) {
    struct sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
    if (!s)
        return 0;
    s->tgid = bpf_get_current_pid_tgid() >> 32;
    s->len = 16;
    long err = bpf_get_current_comm(s->payload, 16);
    bpf_ringbuf_submit(s, 0);
    if (err) {
        bpf_ringbuf_discard(s, 0); // already released
        failed++;
        return 0;
    }
    submitted++;
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int trace_submit_record(struct bpf_raw_tracepoint_args *ctx) {
    struct sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
    if (!s)
        return 0;
    s->tgid = bpf_get_current_pid_tgid() >> 32;
    __u8 *payload = s->payload;
    long err = bpf_get_current_comm(payload, 16);
    s->len = err == 0 ? 16 : 0;
    if (err) {
        bpf_ringbuf_discard(s, 0);
        failed++;
        return 0;
    }
    bpf_ringbuf_submit(s, 0);
    submitted++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
