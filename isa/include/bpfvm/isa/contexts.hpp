// Program contexts of the platform ABI, as data: what r1 points to when a program starts (struct
// xdp_md, struct __sk_buff, struct pt_regs, ...), field by field, and which loads and stores of
// it the kernel's verifier accepts for each program type. The verifier checks context accesses
// against these; the runtime builds the contexts and rewrites the packet pointer fields.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::isa {

// The platform whose kernel ABI a context follows: a kprobe's struct pt_regs, and the registers
// in a perf_event context, differ between architectures.
enum class Platform : uint8_t { X86_64, Arm64 };

// The platform bpfvm is built for (x86_64 on hosts that are neither).
constexpr Platform host_platform() {
#if defined(__aarch64__)
    return Platform::Arm64;
#else
    return Platform::X86_64;
#endif
}

enum class ContextFieldKind : uint8_t {
    Scalar,         // plain data
    PacketStart,    // 4 bytes in the struct; a load gives a 64-bit pointer to the packet's first byte
    PacketEnd,      // as PacketStart, one past the packet's last byte
    PacketMeta,     // as PacketStart, the start of the metadata area just before the packet
    KernelPointer,  // a pointer to a kernel object (__sk_buff's sk, flow_keys); bpfvm has none
};

// Which access sizes a field accepts. Every access is aligned to its own size and lies inside
// the field.
enum class AccessSizes : uint8_t {
    WholeField,   // only the whole field (packet pointers, every xdp_md field, 64-bit timestamps)
    NarrowLoads,  // loads of 1, 2, 4 or 8 bytes up to the field's size; stores of the whole field
    AnyAligned,   // loads and stores of 1, 2, 4 or 8 bytes anywhere inside (cb[], raw records)
};

enum class ContextAccess : uint8_t { Load, Store };

struct ContextField {
    std::string_view name;  // the C member name: "mark", "cb", "rdi", "regs[3]", "args[0]"
    uint32_t offset;
    uint32_t size;
    ContextFieldKind kind;
    AccessSizes sizes;
    bool readable;  // for the program type whose layout holds this field
    bool writable;
};

struct ContextLayout {
    std::string_view struct_name;          // "struct __sk_buff"; empty for the Bytes type
    uint32_t size;                         // the largest valid context offset + 1
    std::span<const ContextField> fields;  // by offset, not overlapping, gaps are padding
};

// The layout for the program types bpfvm runs: socket_filter, sched_cls, sched_act (struct
// __sk_buff), xdp (struct xdp_md), kprobe (the platform's pt_regs), tracepoint (the raw record),
// raw_tracepoint (struct bpf_raw_tracepoint_args), perf_event (struct bpf_perf_event_data),
// syscall (caller-supplied memory) and bytes (no context: r1 is the data, r2 its length).
// nullptr for other types.
const ContextLayout* context_layout(ProgramType type, Platform platform);
// The context's size; 0 for bytes; nullopt for types without a layout. Tracepoint and syscall
// give the largest size a context may have (the real one comes with each run).
std::optional<uint32_t> context_size(ProgramType type, Platform platform);

// The field a load or store of `size` bytes at `offset` of the context touches, if the kernel's
// verifier accepts that access for this program type (its is_valid_access rules, including
// bpf_ctx_narrow_access_ok for narrow loads); nullptr if it does not.
const ContextField* context_field(ProgramType type, uint32_t offset, uint32_t size, ContextAccess access,
                                  Platform platform);

}  // namespace bpfvm::isa
