// bpfvm-expect: program kprobe/do_nanosleep core_fields kprobe
// bpfvm-expect: map results array 4 144 1
// bpfvm-expect: verdict core_fields accept
// bpfvm-expect: bpfvm-verdict core_fields reject unsupported bpf_get_current_task_btf gives a kernel object (PTR_TO_BTF_ID) bpfvm does not model
// bpfvm-expect: loadable yes
// bpfvm-expect: run task core_fields
// bpfvm-expect: result task {"error": {"kind": "unknown-helper", "function": "core_fields"}}
//
// CO-RE relocations of every kind, against kernel types declared here (vmlinux.h is not
// used): the kernel structs below list only the members the program reads, with
// preserve_access_index, so clang records each access in .BTF.ext and the loader relocates
// it to the running kernel's layout.
//  - field byte offsets through BPF_CORE_READ (task_struct.pid, tgid, real_parent->tgid,
//    the nested se.vruntime, se.vlag and mm->total_vm, which the kernel keeps inside
//    anonymous unions/structs, and an array element comm[3]), and in direct loads through
//    bpf_get_current_task_btf() (flags, declared wider here than in the kernel, so the load
//    size follows the kernel's);
//  - a bitfield (in_iowait) read with BPF_CORE_READ_BITFIELD_PROBED: byte offset, byte
//    size, signedness, left and right shifts;
//  - field size and existence, type id (local and kernel), type existence, type size,
//    type match;
//  - enum values and their existence, for a 32-bit enum (pid_type) and a 64-bit one
//    (perf_callchain_context);
//  - a "___flavor" struct for the pre-5.14 task_struct, whose `state` member the running
//    kernel does not have: the read sits behind bpf_core_field_exists, so libbpf poisons
//    it and the verifier never reaches it.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef int pid_t;

struct sched_entity {
    __u64 vruntime;
    __s64 vlag; // in an anonymous union of struct sched_entity in the kernel
} __attribute__((preserve_access_index));

struct mm_struct {
    unsigned long total_vm; // in the anonymous struct that wraps all of mm_struct's members
} __attribute__((preserve_access_index));

struct task_struct {
    unsigned int __state;
    unsigned long flags; // unsigned int in the kernel: a direct load of it shrinks to 4 bytes
    int prio;
    struct sched_entity se;
    struct mm_struct *mm;
    unsigned int in_iowait : 1;
    pid_t pid;
    pid_t tgid;
    struct task_struct *real_parent;
    char comm[16];
} __attribute__((preserve_access_index));

// task_struct before Linux 5.14, which named __state `state` (and made it a long).
struct task_struct___pre514 {
    long state;
} __attribute__((preserve_access_index));

struct list_head {
    struct list_head *next, *prev;
};

// No kernel has this type.
struct bpfvm_not_in_any_kernel {
    int x;
};

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

// Its values do not fit in 32 bits: clang emits an ENUM64.
enum perf_callchain_context {
    PERF_CONTEXT_KERNEL = (__u64)-128,
    PERF_CONTEXT_USER = (__u64)-512,
};

struct core_result {
    __u64 pid;
    __u64 tgid;
    __u64 parent_tgid;
    __u64 vruntime;
    __s64 vlag;
    __u64 total_vm;
    __u64 in_iowait;
    __u64 comm3;
    __u64 old_state;
    __u64 flags; // bit per existence check
    __u64 se_size;
    __u64 se_type_id;
    __u64 local_type_id;
    __u64 pid_size;
    __u64 sid;
    __u64 kernel_context;
    __u64 task_flags;
    __u64 prio;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct core_result);
    __uint(max_entries, 1);
} results SEC(".maps");

SEC("kprobe/do_nanosleep")
int core_fields(struct pt_regs *ctx) {
    __u32 zero = 0;
    struct core_result *r = bpf_map_lookup_elem(&results, &zero);
    if (!r)
        return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();

    r->pid = BPF_CORE_READ(task, pid);
    r->tgid = BPF_CORE_READ(task, tgid);
    r->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
    r->vruntime = BPF_CORE_READ(task, se.vruntime);
    r->vlag = BPF_CORE_READ(task, se.vlag);
    r->total_vm = BPF_CORE_READ(task, mm, total_vm);
    r->in_iowait = BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);
    char c = 0;
    bpf_core_read(&c, 1, &task->comm[3]);
    r->comm3 = c;
    r->pid_size = bpf_core_field_size(task->pid);

    struct task_struct___pre514 *old = (void *)task;
    __u64 flags = 0;
    if (bpf_core_field_exists(old->state)) {
        flags |= 1;
        r->old_state = BPF_CORE_READ(old, state);
    } else {
        r->old_state = BPF_CORE_READ(task, __state);
    }
    if (bpf_core_field_exists(task->__state))
        flags |= 2;
    if (bpf_core_type_exists(struct task_struct))
        flags |= 4;
    if (bpf_core_type_exists(struct bpfvm_not_in_any_kernel))
        flags |= 8;
    if (bpf_core_type_matches(struct list_head))
        flags |= 16;
    if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID))
        flags |= 32;
    r->flags = flags;

    // Not task_struct: the object's own BTF has two task_struct flavors of different sizes,
    // which would make these ambiguous when the object is relocated against itself.
    r->se_size = bpf_core_type_size(struct sched_entity);
    r->se_type_id = bpf_core_type_id_kernel(struct sched_entity);
    r->local_type_id = bpf_core_type_id_local(struct sched_entity);
    r->sid = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
    if (bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_KERNEL))
        r->kernel_context = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);

    // A BTF pointer: fields are read with direct loads, whose offsets (and sizes) relocate.
    struct task_struct *current = bpf_get_current_task_btf();
    r->task_flags = current->flags;
    r->prio = current->prio;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
