// bpfvm-expect: program tracepoint/syscalls/sys_enter_execve tracepoint__syscalls__sys_enter_execve tracepoint
// bpfvm-expect: program tracepoint/syscalls/sys_exit_execve tracepoint__syscalls__sys_exit_execve tracepoint
// bpfvm-expect: map execs hash 4 7720 10240
// bpfvm-expect: map events perf_event_array 4 4 0
// bpfvm-expect: map .rodata array 4 7732 1
// bpfvm-expect: verdict tracepoint__syscalls__sys_enter_execve accept
// bpfvm-expect: verdict tracepoint__syscalls__sys_exit_execve accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run enter tracepoint__syscalls__sys_enter_execve --ctx inputs/execve_enter.tp
// bpfvm-expect: result enter {"r0": 0, "error": null, "maps": {"execs": {"entries": [{"key": 4242, "value": {"pid": 4242, "uid": 1000, "retval": 0, "args_count": 1, "args_size": 1, "unreadable": 2}}]}}}
// bpfvm-expect: run exit tracepoint__syscalls__sys_exit_execve --ctx inputs/execve_exit_0.tp --map execs=inputs/execs_ls.json
// bpfvm-expect: result exit {"r0": 0, "error": null, "events": [{"map": "events", "cpu": 0, "data": "92100000e803000000000000030000000d00000000000000627066766d00000000000000000000002f62696e2f6c73002d6c002f00"}], "maps": {"execs": {"entries": []}}}
// bpfvm-expect: run failed tracepoint__syscalls__sys_exit_execve --ctx inputs/execve_exit_enoent.tp --map execs=inputs/execs_ls.json
// bpfvm-expect: result failed {"r0": 0, "error": null, "events": [], "maps": {"execs": {"entries": []}}}
//
// execsnoop as in libbpf-tools: the entry tracepoint of execve(2) copies the
// file name and up to `max_args` arguments from user memory into one large
// event (too large for the 512-byte stack: it lives in a per-CPU array used as
// a heap, and is then stored in a hash map keyed by pid); the exit tracepoint
// adds the return value and sends the event through a perf event array with a
// size that depends on how many argument bytes were copied.
// What the verifier has to follow here:
//  - bpf_probe_read_user_str into event->args + args_size, where args_size
//    grows with each argument: the offset is checked against LAST_ARG before
//    every copy, and each copy's length against ARGSIZE after it;
//  - the argument loop, bounded by a constant and by a `const volatile` limit
//    (libbpf-tools unrolls it with #pragma unroll; left as a loop here, the
//    verifier must follow it as a bounded loop);
//  - a variable-size bpf_perf_event_output, the size checked against the
//    event's size first;
//  - uid filtering with bpf_get_current_uid_gid and an "invalid uid" default.
// A file name or argument that cannot be read is recorded as an empty string
// and counted, so that the event is still sent.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define ARGSIZE 128
#define TOTAL_MAX_ARGS 60
#define DEFAULT_MAXARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define INVALID_UID ((__u32)-1)
#define BASE_EVENT_SIZE (__u64)(&((struct event *)0)->args)
#define EVENT_SIZE(e) (BASE_EVENT_SIZE + e->args_size)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

struct event {
    __u32 pid;
    __u32 uid;
    __s32 retval;
    __s32 args_count;
    __u32 args_size;
    __u32 unreadable; // strings that could not be read
    char comm[TASK_COMM_LEN];
    char args[FULL_MAX_ARGS_ARR];
};

// /sys/kernel/tracing/events/syscalls/sys_enter_execve/format: the common
// fields, __syscall_nr, then the arguments as 8-byte slots.
struct trace_event_raw_sys_enter {
    __u64 common;
    __s64 id;
    __u64 args[6];
};
struct trace_event_raw_sys_exit {
    __u64 common;
    __s64 id;
    __s64 ret;
};

const volatile bool ignore_failed = true;
const volatile __u32 targ_uid = INVALID_UID;
const volatile int max_args = DEFAULT_MAXARGS;

static const struct event empty_event = {};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, struct event);
} execs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline bool valid_uid(__u32 uid) {
    return uid != INVALID_UID;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx) {
    __u64 id = bpf_get_current_pid_tgid();
    __u32 pid = id >> 32;
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    if (valid_uid(targ_uid) && targ_uid != uid)
        return 0;

    // A zeroed event in the map, then filled in place (it does not fit on the stack).
    if (bpf_map_update_elem(&execs, &pid, &empty_event, BPF_NOEXIST))
        return 0;
    struct event *event = bpf_map_lookup_elem(&execs, &pid);
    if (!event)
        return 0;
    event->pid = pid;
    event->uid = uid;
    event->args_count = 0;
    event->args_size = 0;

    long ret = bpf_probe_read_user_str(event->args, ARGSIZE, (const char *)ctx->args[0]);
    if (ret < 0) {
        event->args[0] = '\0';
        ret = 1;
        event->unreadable++;
    }
    if (ret <= ARGSIZE)
        event->args_size += ret;
    else
        return 0; // cannot happen: the helper copies at most ARGSIZE bytes

    const char **args = (const char **)(ctx->args[1]);
    const char *argp;
    event->args_count++;
    for (int i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
        if (bpf_probe_read_user(&argp, sizeof(argp), &args[i]) || !argp) {
            if (i == 1)
                event->unreadable++;
            return 0;
        }
        if (event->args_size > LAST_ARG)
            return 0;
        ret = bpf_probe_read_user_str(&event->args[event->args_size], ARGSIZE, argp);
        if (ret < 0 || ret > ARGSIZE)
            return 0;
        event->args_count++;
        event->args_size += ret;
    }
    // More arguments than max_args: count them without copying.
    if (bpf_probe_read_user(&argp, sizeof(argp), &args[max_args]) == 0 && argp)
        event->args_count++;
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx) {
    __u64 id = bpf_get_current_pid_tgid();
    __u32 pid = id >> 32;
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    if (valid_uid(targ_uid) && targ_uid != uid)
        return 0;
    struct event *event = bpf_map_lookup_elem(&execs, &pid);
    if (!event)
        return 0;
    int ret = ctx->ret;
    if (ignore_failed && ret < 0)
        goto cleanup;
    event->retval = ret;
    bpf_get_current_comm(&event->comm, sizeof(event->comm));
    __u64 len = EVENT_SIZE(event);
    if (len <= sizeof(*event))
        bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, len);
cleanup:
    bpf_map_delete_elem(&execs, &pid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
