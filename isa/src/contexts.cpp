#include "bpfvm/isa/contexts.hpp"

#include <array>
#include <cstddef>

namespace bpfvm::isa {
namespace {

using enum ContextFieldKind;
using enum AccessSizes;

// struct xdp_md (xdp_is_valid_access): every field is read whole, nothing is written (the kernel
// lets only device-offloaded programs store rx_queue_index).
constexpr ContextField kXdpFields[] = {
    {"data", 0, 4, PacketStart, WholeField, true, false},
    {"data_end", 4, 4, PacketEnd, WholeField, true, false},
    {"data_meta", 8, 4, PacketMeta, WholeField, true, false},
    {"ingress_ifindex", 12, 4, Scalar, WholeField, true, false},
    {"rx_queue_index", 16, 4, Scalar, WholeField, true, false},
    // The kernel allows it only for programs attached to a devmap (xdp/devmap sections), which
    // the program type alone does not say.
    {"egress_ifindex", 20, 4, Scalar, WholeField, false, false},
};

// Access to one __sk_buff field per program type.
struct SkbAccess {
    bool read;
    bool write;
};
constexpr SkbAccess kNone{false, false};
constexpr SkbAccess kRead{true, false};
constexpr SkbAccess kReadWrite{true, true};

struct SkbRow {
    std::string_view name;
    uint32_t offset;
    uint32_t size;
    ContextFieldKind kind;
    AccessSizes sizes;
    SkbAccess socket_filter;  // sk_filter_is_valid_access
    SkbAccess tc;             // tc_cls_act_is_valid_access (sched_cls and sched_act)
};

// struct __sk_buff, every uapi member; both types then apply bpf_skb_is_valid_access: 32-bit
// scalars take narrow loads and whole-field stores, cb[] any aligned access inside it.
constexpr SkbRow kSkbRows[] = {
    {"len", 0, 4, Scalar, NarrowLoads, kRead, kRead},
    {"pkt_type", 4, 4, Scalar, NarrowLoads, kRead, kRead},
    {"mark", 8, 4, Scalar, NarrowLoads, kRead, kReadWrite},
    {"queue_mapping", 12, 4, Scalar, NarrowLoads, kRead, kReadWrite},
    {"protocol", 16, 4, Scalar, NarrowLoads, kRead, kRead},
    {"vlan_present", 20, 4, Scalar, NarrowLoads, kRead, kRead},
    {"vlan_tci", 24, 4, Scalar, NarrowLoads, kRead, kRead},
    {"vlan_proto", 28, 4, Scalar, NarrowLoads, kRead, kRead},
    {"priority", 32, 4, Scalar, NarrowLoads, kRead, kReadWrite},
    {"ingress_ifindex", 36, 4, Scalar, NarrowLoads, kRead, kRead},
    {"ifindex", 40, 4, Scalar, NarrowLoads, kRead, kRead},
    {"tc_index", 44, 4, Scalar, NarrowLoads, kRead, kReadWrite},
    {"cb", 48, 20, Scalar, AnyAligned, kReadWrite, kReadWrite},
    {"hash", 68, 4, Scalar, NarrowLoads, kRead, kRead},
    {"tc_classid", 72, 4, Scalar, NarrowLoads, kNone, kReadWrite},
    // Socket filters have no direct packet access (they use skb_load_bytes or LD_ABS/LD_IND).
    {"data", 76, 4, PacketStart, WholeField, kNone, kRead},
    {"data_end", 80, 4, PacketEnd, WholeField, kNone, kRead},
    {"napi_id", 84, 4, Scalar, NarrowLoads, kRead, kRead},
    // family .. local_port describe the socket, for sk_skb programs only.
    {"family", 88, 4, Scalar, WholeField, kNone, kNone},
    {"remote_ip4", 92, 4, Scalar, WholeField, kNone, kNone},
    {"local_ip4", 96, 4, Scalar, WholeField, kNone, kNone},
    {"remote_ip6", 100, 16, Scalar, WholeField, kNone, kNone},
    {"local_ip6", 116, 16, Scalar, WholeField, kNone, kNone},
    {"remote_port", 132, 4, Scalar, WholeField, kNone, kNone},
    {"local_port", 136, 4, Scalar, WholeField, kNone, kNone},
    {"data_meta", 140, 4, PacketMeta, WholeField, kNone, kRead},
    {"flow_keys", 144, 8, KernelPointer, WholeField, kNone, kNone},  // flow dissector programs only
    {"tstamp", 152, 8, Scalar, WholeField, kNone, kReadWrite},
    {"wire_len", 160, 4, Scalar, NarrowLoads, kNone, kRead},
    {"gso_segs", 164, 4, Scalar, NarrowLoads, kRead, kRead},
    {"sk", 168, 8, KernelPointer, WholeField, kRead, kRead},  // struct bpf_sock *, or null
    {"gso_size", 176, 4, Scalar, NarrowLoads, kRead, kRead},
    {"tstamp_type", 180, 1, Scalar, WholeField, kNone, kRead},
    // 181..183: padding, never accessible.
    {"hwtstamp", 184, 8, Scalar, WholeField, kNone, kRead},
};
constexpr uint32_t kSkbSize = 192;

template <SkbAccess SkbRow::*Column>
constexpr auto skb_fields() {
    std::array<ContextField, std::size(kSkbRows)> fields{};
    for (size_t i = 0; i < fields.size(); ++i) {
        const SkbRow& row = kSkbRows[i];
        const SkbAccess access = row.*Column;
        fields[i] = {row.name, row.offset, row.size, row.kind, row.sizes, access.read, access.write};
    }
    return fields;
}
constexpr auto kSocketFilterFields = skb_fields<&SkbRow::socket_filter>();
constexpr auto kTcFields = skb_fields<&SkbRow::tc>();

// Registers as consecutive read-only 64-bit fields from offset 0.
template <size_t N>
constexpr std::array<ContextField, N> register_fields(const std::string_view (&names)[N], AccessSizes sizes) {
    std::array<ContextField, N> fields{};
    for (size_t i = 0; i < N; ++i) {
        fields[i] = {names[i], static_cast<uint32_t>(8 * i), 8, Scalar, sizes, true, false};
    }
    return fields;
}

// struct pt_regs of x86-64 (arch/x86/include/uapi/asm/ptrace.h).
constexpr std::string_view kX86Registers[] = {
    "r15", "r14", "r13", "r12", "rbp",      "rbx", "r11", "r10",    "r9",  "r8", "rax",
    "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",  "eflags", "rsp", "ss",
};
// struct user_pt_regs of arm64 (arch/arm64/include/uapi/asm/ptrace.h): what libbpf's PT_REGS
// macros read from an arm64 kprobe context.
constexpr std::string_view kArm64Registers[] = {
    "regs[0]",  "regs[1]",  "regs[2]",  "regs[3]",  "regs[4]",  "regs[5]",  "regs[6]",
    "regs[7]",  "regs[8]",  "regs[9]",  "regs[10]", "regs[11]", "regs[12]", "regs[13]",
    "regs[14]", "regs[15]", "regs[16]", "regs[17]", "regs[18]", "regs[19]", "regs[20]",
    "regs[21]", "regs[22]", "regs[23]", "regs[24]", "regs[25]", "regs[26]", "regs[27]",
    "regs[28]", "regs[29]", "regs[30]", "sp",       "pc",       "pstate",
};

// kprobe_prog_is_valid_access: any aligned load inside pt_regs, no stores.
constexpr auto kX86KprobeFields = register_fields(kX86Registers, NarrowLoads);
constexpr auto kArm64KprobeFields = register_fields(kArm64Registers, NarrowLoads);

// struct bpf_perf_event_data: the platform's registers (pe_prog_is_valid_access: whole 64-bit
// loads only), then sample_period and addr (narrow loads too).
template <size_t N>
constexpr std::array<ContextField, N + 2> perf_event_fields(const std::string_view (&registers)[N]) {
    std::array<ContextField, N + 2> fields{};
    const auto regs = register_fields(registers, WholeField);
    for (size_t i = 0; i < N; ++i) fields[i] = regs[i];
    fields[N] = {"sample_period", static_cast<uint32_t>(8 * N), 8, Scalar, NarrowLoads, true, false};
    fields[N + 1] = {"addr", static_cast<uint32_t>(8 * N + 8), 8, Scalar, NarrowLoads, true, false};
    return fields;
}
constexpr auto kX86PerfEventFields = perf_event_fields(kX86Registers);
constexpr auto kArm64PerfEventFields = perf_event_fields(kArm64Registers);

// struct bpf_raw_tracepoint_args: up to MAX_BPF_FUNC_ARGS (12) 64-bit arguments, read-only.
constexpr std::string_view kRawTracepointArgs[] = {
    "args[0]", "args[1]", "args[2]", "args[3]", "args[4]",  "args[5]",
    "args[6]", "args[7]", "args[8]", "args[9]", "args[10]", "args[11]",
};
constexpr auto kRawTracepointFields = register_fields(kRawTracepointArgs, NarrowLoads);

// A tracepoint's record as the perf buffer holds it (tp_prog_is_valid_access): the first 8
// bytes are hidden (the kernel keeps a struct pt_regs pointer there), the rest up to
// PERF_MAX_TRACE_SIZE (8192; 2048 before Linux 5.x) is read-only data whose layout the
// tracepoint's format file gives.
constexpr uint32_t kTracepointSize = 8192;
constexpr ContextField kTracepointFields[] = {
    {"common", 0, 8, KernelPointer, WholeField, false, false},
    {"record", 8, kTracepointSize - 8, Scalar, AnyAligned, true, false},
};

// syscall_prog_is_valid_access: caller-supplied memory below U16_MAX, read and written.
constexpr uint32_t kSyscallSize = 65535;
constexpr ContextField kSyscallFields[] = {
    {"ctx", 0, kSyscallSize, Scalar, AnyAligned, true, true},
};

constexpr ContextLayout kXdp{"struct xdp_md", 24, kXdpFields};
constexpr ContextLayout kSocketFilter{"struct __sk_buff", kSkbSize, kSocketFilterFields};
constexpr ContextLayout kTc{"struct __sk_buff", kSkbSize, kTcFields};
constexpr ContextLayout kX86Kprobe{"struct pt_regs", 8 * std::size(kX86Registers), kX86KprobeFields};
constexpr ContextLayout kArm64Kprobe{"struct user_pt_regs", 8 * std::size(kArm64Registers),
                                     kArm64KprobeFields};
constexpr ContextLayout kX86PerfEvent{"struct bpf_perf_event_data", 8 * std::size(kX86PerfEventFields),
                                      kX86PerfEventFields};
constexpr ContextLayout kArm64PerfEvent{"struct bpf_perf_event_data", 8 * std::size(kArm64PerfEventFields),
                                        kArm64PerfEventFields};
constexpr ContextLayout kTracepoint{"tracepoint record", kTracepointSize, kTracepointFields};
constexpr ContextLayout kRawTracepoint{"struct bpf_raw_tracepoint_args", 8 * std::size(kRawTracepointArgs),
                                       kRawTracepointFields};
constexpr ContextLayout kSyscall{"syscall context", kSyscallSize, kSyscallFields};
constexpr ContextLayout kBytes{"", 0, {}};

// Fields lie inside their layout, in offset order, without overlap.
constexpr bool well_formed(const ContextLayout& layout) {
    uint32_t end = 0;
    for (const ContextField& field : layout.fields) {
        if (field.offset < end || field.size == 0) return false;
        end = field.offset + field.size;
    }
    return end <= layout.size;
}
static_assert(well_formed(kXdp) && well_formed(kSocketFilter) && well_formed(kTc) &&
              well_formed(kX86Kprobe) && well_formed(kArm64Kprobe) && well_formed(kX86PerfEvent) &&
              well_formed(kArm64PerfEvent) && well_formed(kTracepoint) && well_formed(kRawTracepoint) &&
              well_formed(kSyscall));

bool size_fits(const ContextField& field, uint32_t offset, uint32_t size, ContextAccess access) {
    switch (field.sizes) {
        case WholeField: return offset == field.offset && size == field.size;
        case NarrowLoads:
            return access == ContextAccess::Load ? size <= field.size
                                                 : offset == field.offset && size == field.size;
        case AnyAligned: return true;
    }
    return false;
}

}  // namespace

const ContextLayout* context_layout(ProgramType type, Platform platform) {
    const bool arm64 = platform == Platform::Arm64;
    switch (type) {
        case ProgramType::SocketFilter: return &kSocketFilter;
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: return &kTc;
        case ProgramType::Xdp: return &kXdp;
        case ProgramType::Kprobe: return arm64 ? &kArm64Kprobe : &kX86Kprobe;
        case ProgramType::Tracepoint: return &kTracepoint;
        case ProgramType::RawTracepoint: return &kRawTracepoint;
        case ProgramType::PerfEvent: return arm64 ? &kArm64PerfEvent : &kX86PerfEvent;
        case ProgramType::Syscall: return &kSyscall;
        case ProgramType::Bytes: return &kBytes;
        default: return nullptr;
    }
}

std::optional<uint32_t> context_size(ProgramType type, Platform platform) {
    const ContextLayout* layout = context_layout(type, platform);
    if (layout == nullptr) return std::nullopt;
    return layout->size;
}

const ContextField* context_field(ProgramType type, uint32_t offset, uint32_t size, ContextAccess access,
                                  Platform platform) {
    if (size != 1 && size != 2 && size != 4 && size != 8) return nullptr;
    if (offset % size != 0) return nullptr;
    const ContextLayout* layout = context_layout(type, platform);
    if (layout == nullptr) return nullptr;
    for (const ContextField& field : layout->fields) {
        if (offset < field.offset || offset - field.offset >= field.size) continue;
        const bool permitted = access == ContextAccess::Load ? field.readable : field.writable;
        const bool inside = offset + uint64_t{size} <= uint64_t{field.offset} + field.size;
        if (!permitted || !inside || !size_fits(field, offset, size, access)) return nullptr;
        return &field;
    }
    return nullptr;
}

}  // namespace bpfvm::isa
