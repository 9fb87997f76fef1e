// Context layouts against the system's uapi headers (offsetof/sizeof of struct xdp_md, struct
// __sk_buff, the host's pt_regs and struct bpf_perf_event_data), and the kernel verifier's
// access rules (xdp_is_valid_access, sk_filter/tc_cls_act/bpf_skb_is_valid_access,
// kprobe/tp/raw_tp/pe/syscall_prog_is_valid_access) spot-checked.
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bpfvm/isa/contexts.hpp"

namespace bpfvm::isa {
namespace {

struct UapiField {
    std::string_view name;
    size_t offset;
    size_t size;
};

#define UAPI_FIELD(type, member)                              \
    UapiField {                                               \
#member, offsetof(type, member), sizeof(type::member) \
    }

// Every member of the uapi struct __sk_buff.
const UapiField kSkbMembers[] = {
    UAPI_FIELD(__sk_buff, len),         UAPI_FIELD(__sk_buff, pkt_type),
    UAPI_FIELD(__sk_buff, mark),        UAPI_FIELD(__sk_buff, queue_mapping),
    UAPI_FIELD(__sk_buff, protocol),    UAPI_FIELD(__sk_buff, vlan_present),
    UAPI_FIELD(__sk_buff, vlan_tci),    UAPI_FIELD(__sk_buff, vlan_proto),
    UAPI_FIELD(__sk_buff, priority),    UAPI_FIELD(__sk_buff, ingress_ifindex),
    UAPI_FIELD(__sk_buff, ifindex),     UAPI_FIELD(__sk_buff, tc_index),
    UAPI_FIELD(__sk_buff, cb),          UAPI_FIELD(__sk_buff, hash),
    UAPI_FIELD(__sk_buff, tc_classid),  UAPI_FIELD(__sk_buff, data),
    UAPI_FIELD(__sk_buff, data_end),    UAPI_FIELD(__sk_buff, napi_id),
    UAPI_FIELD(__sk_buff, family),      UAPI_FIELD(__sk_buff, remote_ip4),
    UAPI_FIELD(__sk_buff, local_ip4),   UAPI_FIELD(__sk_buff, remote_ip6),
    UAPI_FIELD(__sk_buff, local_ip6),   UAPI_FIELD(__sk_buff, remote_port),
    UAPI_FIELD(__sk_buff, local_port),  UAPI_FIELD(__sk_buff, data_meta),
    UAPI_FIELD(__sk_buff, flow_keys),   UAPI_FIELD(__sk_buff, tstamp),
    UAPI_FIELD(__sk_buff, wire_len),    UAPI_FIELD(__sk_buff, gso_segs),
    UAPI_FIELD(__sk_buff, sk),          UAPI_FIELD(__sk_buff, gso_size),
    UAPI_FIELD(__sk_buff, tstamp_type), UAPI_FIELD(__sk_buff, hwtstamp),
};

const UapiField kXdpMembers[] = {
    UAPI_FIELD(xdp_md, data),           UAPI_FIELD(xdp_md, data_end),
    UAPI_FIELD(xdp_md, data_meta),      UAPI_FIELD(xdp_md, ingress_ifindex),
    UAPI_FIELD(xdp_md, rx_queue_index), UAPI_FIELD(xdp_md, egress_ifindex),
};

constexpr Platform kHost = host_platform();

const ContextField* find(const ContextLayout& layout, std::string_view name) {
    for (const ContextField& field : layout.fields) {
        if (field.name == name) return &field;
    }
    return nullptr;
}

// The layout has exactly these members, at the header's offsets and sizes.
void expect_members(const ContextLayout& layout, std::span<const UapiField> members) {
    EXPECT_EQ(layout.fields.size(), members.size());
    for (const UapiField& member : members) {
        const ContextField* field = find(layout, member.name);
        ASSERT_NE(field, nullptr) << member.name;
        EXPECT_EQ(field->offset, member.offset) << member.name;
        EXPECT_EQ(field->size, member.size) << member.name;
    }
}

// Fields in offset order, not overlapping, inside the layout; returns the bytes no field covers.
uint32_t padding_bytes(const ContextLayout& layout) {
    uint32_t end = 0;
    uint32_t padding = 0;
    for (const ContextField& field : layout.fields) {
        EXPECT_GE(field.offset, end) << field.name;
        padding += field.offset - end;
        end = field.offset + field.size;
    }
    EXPECT_LE(end, layout.size);
    return padding + (layout.size - end);
}

const ContextField* load(ProgramType type, uint32_t offset, uint32_t size, Platform platform = kHost) {
    return context_field(type, offset, size, ContextAccess::Load, platform);
}
const ContextField* store(ProgramType type, uint32_t offset, uint32_t size, Platform platform = kHost) {
    return context_field(type, offset, size, ContextAccess::Store, platform);
}
std::string_view loaded(ProgramType type, uint32_t offset, uint32_t size, Platform platform = kHost) {
    const ContextField* field = load(type, offset, size, platform);
    return field != nullptr ? field->name : "<rejected>";
}

TEST(ContextLayoutTest, XdpMdMatchesTheHeader) {
    const ContextLayout* layout = context_layout(ProgramType::Xdp, kHost);
    ASSERT_NE(layout, nullptr);
    EXPECT_EQ(layout->size, sizeof(xdp_md));
    expect_members(*layout, kXdpMembers);
    EXPECT_EQ(padding_bytes(*layout), 0u);
    EXPECT_EQ(find(*layout, "data")->kind, ContextFieldKind::PacketStart);
    EXPECT_EQ(find(*layout, "data_end")->kind, ContextFieldKind::PacketEnd);
    EXPECT_EQ(find(*layout, "data_meta")->kind, ContextFieldKind::PacketMeta);
    EXPECT_EQ(find(*layout, "ingress_ifindex")->kind, ContextFieldKind::Scalar);
}

TEST(ContextLayoutTest, SkBuffHasEveryUapiMember) {
    for (ProgramType type : {ProgramType::SocketFilter, ProgramType::SchedCls, ProgramType::SchedAct}) {
        SCOPED_TRACE(program_type_name(type));
        const ContextLayout* layout = context_layout(type, kHost);
        ASSERT_NE(layout, nullptr);
        EXPECT_EQ(layout->size, sizeof(__sk_buff));
        expect_members(*layout, kSkbMembers);
        // Only the 3 bytes after tstamp_type are not a member; a missing member would show here.
        EXPECT_EQ(padding_bytes(*layout), 3u);
        EXPECT_EQ(find(*layout, "data")->kind, ContextFieldKind::PacketStart);
        EXPECT_EQ(find(*layout, "data_end")->kind, ContextFieldKind::PacketEnd);
        EXPECT_EQ(find(*layout, "data_meta")->kind, ContextFieldKind::PacketMeta);
        EXPECT_EQ(find(*layout, "sk")->kind, ContextFieldKind::KernelPointer);
    }
}

TEST(ContextLayoutTest, X86PtRegs) {
    const ContextLayout* layout = context_layout(ProgramType::Kprobe, Platform::X86_64);
    ASSERT_NE(layout, nullptr);
    EXPECT_EQ(layout->size, 21u * 8);
    EXPECT_EQ(layout->fields.size(), 21u);
    EXPECT_EQ(padding_bytes(*layout), 0u);
    EXPECT_EQ(find(*layout, "rdi")->offset, 14u * 8);
    EXPECT_EQ(find(*layout, "rip")->offset, 16u * 8);
#if defined(__x86_64__)
    const UapiField registers[] = {
        UAPI_FIELD(pt_regs, r15),      UAPI_FIELD(pt_regs, r14), UAPI_FIELD(pt_regs, r13),
        UAPI_FIELD(pt_regs, r12),      UAPI_FIELD(pt_regs, rbp), UAPI_FIELD(pt_regs, rbx),
        UAPI_FIELD(pt_regs, r11),      UAPI_FIELD(pt_regs, r10), UAPI_FIELD(pt_regs, r9),
        UAPI_FIELD(pt_regs, r8),       UAPI_FIELD(pt_regs, rax), UAPI_FIELD(pt_regs, rcx),
        UAPI_FIELD(pt_regs, rdx),      UAPI_FIELD(pt_regs, rsi), UAPI_FIELD(pt_regs, rdi),
        UAPI_FIELD(pt_regs, orig_rax), UAPI_FIELD(pt_regs, rip), UAPI_FIELD(pt_regs, cs),
        UAPI_FIELD(pt_regs, eflags),   UAPI_FIELD(pt_regs, rsp), UAPI_FIELD(pt_regs, ss),
    };
    EXPECT_EQ(layout->size, sizeof(pt_regs));
    expect_members(*layout, registers);
#endif
}

TEST(ContextLayoutTest, Arm64UserPtRegs) {
    const ContextLayout* layout = context_layout(ProgramType::Kprobe, Platform::Arm64);
    ASSERT_NE(layout, nullptr);
    // 31 general registers, sp, pc, pstate.
    EXPECT_EQ(layout->size, 34u * 8);
    EXPECT_EQ(layout->fields.size(), 34u);
    EXPECT_EQ(padding_bytes(*layout), 0u);
    EXPECT_EQ(find(*layout, "regs[0]")->offset, 0u);
    EXPECT_EQ(find(*layout, "regs[30]")->offset, 30u * 8);
    EXPECT_EQ(find(*layout, "sp")->offset, 31u * 8);
    EXPECT_EQ(find(*layout, "pc")->offset, 32u * 8);
    EXPECT_EQ(find(*layout, "pstate")->offset, 33u * 8);
#if defined(__aarch64__)
    EXPECT_EQ(layout->size, sizeof(user_pt_regs));
    EXPECT_EQ(find(*layout, "sp")->offset, offsetof(user_pt_regs, sp));
    EXPECT_EQ(find(*layout, "pc")->offset, offsetof(user_pt_regs, pc));
    EXPECT_EQ(find(*layout, "pstate")->offset, offsetof(user_pt_regs, pstate));
#endif
}

TEST(ContextLayoutTest, PerfEventData) {
    for (Platform platform : {Platform::X86_64, Platform::Arm64}) {
        const ContextLayout* layout = context_layout(ProgramType::PerfEvent, platform);
        const ContextLayout* regs = context_layout(ProgramType::Kprobe, platform);
        ASSERT_TRUE(layout != nullptr && regs != nullptr);
        EXPECT_EQ(layout->size, regs->size + 16);
        EXPECT_EQ(find(*layout, "sample_period")->offset, regs->size);
        EXPECT_EQ(find(*layout, "addr")->offset, regs->size + 8);
        EXPECT_EQ(padding_bytes(*layout), 0u);
    }
    // The host's bpf_user_pt_regs_t is the layout above.
    const ContextLayout* host = context_layout(ProgramType::PerfEvent, kHost);
    EXPECT_EQ(host->size, sizeof(bpf_perf_event_data));
    EXPECT_EQ(find(*host, "sample_period")->offset, offsetof(bpf_perf_event_data, sample_period));
    EXPECT_EQ(find(*host, "addr")->offset, offsetof(bpf_perf_event_data, addr));
}

TEST(ContextLayoutTest, TracepointsAndSyscalls) {
    EXPECT_EQ(context_size(ProgramType::RawTracepoint, kHost), 12u * 8);  // MAX_BPF_FUNC_ARGS
    EXPECT_EQ(offsetof(bpf_raw_tracepoint_args, args), 0u);
    EXPECT_EQ(context_size(ProgramType::Tracepoint, kHost), 8192u);
    EXPECT_EQ(context_size(ProgramType::Syscall, kHost), 65535u);
    EXPECT_EQ(context_size(ProgramType::Bytes, kHost), 0u);
    EXPECT_TRUE(context_layout(ProgramType::Bytes, kHost)->fields.empty());
    EXPECT_EQ(context_size(ProgramType::CgroupSkb, kHost), std::nullopt);
    EXPECT_EQ(context_layout(ProgramType::Lsm, kHost), nullptr);
    EXPECT_EQ(load(ProgramType::CgroupSkb, 0, 4), nullptr);
}

TEST(ContextAccessTest, XdpReadsWholeFieldsOnly) {
    const ContextField* data = load(ProgramType::Xdp, 0, 4);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->kind, ContextFieldKind::PacketStart);
    EXPECT_EQ(loaded(ProgramType::Xdp, 4, 4), "data_end");
    EXPECT_EQ(loaded(ProgramType::Xdp, 8, 4), "data_meta");
    EXPECT_EQ(loaded(ProgramType::Xdp, 12, 4), "ingress_ifindex");
    EXPECT_EQ(loaded(ProgramType::Xdp, 16, 4), "rx_queue_index");
    EXPECT_EQ(load(ProgramType::Xdp, 0, 8), nullptr);   // not the 64-bit pointer itself
    EXPECT_EQ(load(ProgramType::Xdp, 0, 2), nullptr);   // packet pointers: full 4-byte loads
    EXPECT_EQ(load(ProgramType::Xdp, 12, 1), nullptr);  // xdp_md has no narrow loads
    EXPECT_EQ(load(ProgramType::Xdp, 2, 4), nullptr);
    EXPECT_EQ(load(ProgramType::Xdp, 20, 4), nullptr);  // egress_ifindex: devmap programs only
    EXPECT_EQ(load(ProgramType::Xdp, 24, 4), nullptr);
    for (uint32_t offset = 0; offset < 24; offset += 4)
        EXPECT_EQ(store(ProgramType::Xdp, offset, 4), nullptr);
}

TEST(ContextAccessTest, SkBuffNarrowLoads) {
    const uint32_t mark = offsetof(__sk_buff, mark);
    for (ProgramType type : {ProgramType::SocketFilter, ProgramType::SchedCls}) {
        SCOPED_TRACE(program_type_name(type));
        EXPECT_EQ(loaded(type, mark, 4), "mark");
        // Narrow loads at any offset aligned to their size inside the field (little-endian
        // parts of the value), as bpf_ctx_narrow_access_ok allows.
        for (uint32_t byte = 0; byte < 4; ++byte) EXPECT_EQ(loaded(type, mark + byte, 1), "mark");
        EXPECT_EQ(loaded(type, mark, 2), "mark");
        EXPECT_EQ(loaded(type, mark + 2, 2), "mark");
        EXPECT_EQ(load(type, mark + 1, 2), nullptr);  // misaligned
        EXPECT_EQ(load(type, mark, 8), nullptr);      // wider than the field
        EXPECT_EQ(load(type, mark, 3), nullptr);
        EXPECT_EQ(loaded(type, offsetof(__sk_buff, len), 2), "len");
        EXPECT_EQ(loaded(type, offsetof(__sk_buff, protocol), 4), "protocol");
        EXPECT_EQ(loaded(type, offsetof(__sk_buff, ifindex) + 3, 1), "ifindex");
        EXPECT_EQ(loaded(type, offsetof(__sk_buff, sk), 8), "sk");
        EXPECT_EQ(load(type, offsetof(__sk_buff, sk), 4), nullptr);
        EXPECT_EQ(store(type, offsetof(__sk_buff, sk), 8), nullptr);
        EXPECT_EQ(load(type, offsetof(__sk_buff, family), 4), nullptr);           // sk_skb only
        EXPECT_EQ(load(type, offsetof(__sk_buff, remote_ip6), 4), nullptr);       // sk_skb only
        EXPECT_EQ(load(type, offsetof(__sk_buff, flow_keys), 8), nullptr);        // flow dissector only
        EXPECT_EQ(load(type, offsetof(__sk_buff, tstamp_type) + 1, 1), nullptr);  // padding
        EXPECT_EQ(load(type, sizeof(__sk_buff), 4), nullptr);
        EXPECT_EQ(store(type, offsetof(__sk_buff, len), 4), nullptr);
        EXPECT_EQ(store(type, offsetof(__sk_buff, protocol), 4), nullptr);
    }
}

TEST(ContextAccessTest, SkBuffControlBlock) {
    const uint32_t cb = offsetof(__sk_buff, cb);
    for (ProgramType type : {ProgramType::SocketFilter, ProgramType::SchedCls, ProgramType::SchedAct}) {
        SCOPED_TRACE(program_type_name(type));
        for (uint32_t size : {1u, 2u, 4u, 8u}) {
            EXPECT_NE(store(type, cb, size), nullptr) << size;
            EXPECT_NE(load(type, cb, size), nullptr) << size;
        }
        EXPECT_NE(store(type, cb + 16, 4), nullptr);  // cb[4]
        EXPECT_NE(load(type, cb + 19, 1), nullptr);   // last byte of cb[4]
        EXPECT_NE(store(type, cb + 8, 8), nullptr);   // cb[2..3]
        EXPECT_EQ(store(type, cb + 16, 8), nullptr);  // runs past cb[4]
        EXPECT_EQ(store(type, cb + 2, 4), nullptr);   // misaligned
    }
}

TEST(ContextAccessTest, SkBuffPerTypeRules) {
    using enum ProgramType;
    const uint32_t data = offsetof(__sk_buff, data);
    // Direct packet access: tc yes, socket filter no.
    EXPECT_EQ(load(SocketFilter, data, 4), nullptr);
    EXPECT_EQ(load(SocketFilter, offsetof(__sk_buff, data_end), 4), nullptr);
    EXPECT_EQ(load(SocketFilter, offsetof(__sk_buff, data_meta), 4), nullptr);
    for (ProgramType tc : {SchedCls, SchedAct}) {
        SCOPED_TRACE(program_type_name(tc));
        ASSERT_NE(load(tc, data, 4), nullptr);
        EXPECT_EQ(load(tc, data, 4)->kind, ContextFieldKind::PacketStart);
        EXPECT_EQ(load(tc, offsetof(__sk_buff, data_end), 4)->kind, ContextFieldKind::PacketEnd);
        EXPECT_EQ(load(tc, offsetof(__sk_buff, data_meta), 4)->kind, ContextFieldKind::PacketMeta);
        EXPECT_EQ(load(tc, data, 2), nullptr);  // packet pointers: full 4-byte loads only
        EXPECT_EQ(load(tc, data, 8), nullptr);
        EXPECT_EQ(store(tc, data, 4), nullptr);
    }
    // tc writes mark, priority, tc_index, queue_mapping, tc_classid, tstamp; whole fields only.
    for (size_t offset :
         {offsetof(__sk_buff, mark), offsetof(__sk_buff, priority), offsetof(__sk_buff, tc_index),
          offsetof(__sk_buff, queue_mapping), offsetof(__sk_buff, tc_classid)}) {
        const auto at = static_cast<uint32_t>(offset);
        EXPECT_NE(store(SchedCls, at, 4), nullptr) << offset;
        EXPECT_EQ(store(SchedCls, at, 2), nullptr) << offset;
        EXPECT_EQ(store(SchedCls, at, 1), nullptr) << offset;
        EXPECT_EQ(store(SocketFilter, at, 4), nullptr) << offset;
    }
    EXPECT_EQ(load(SocketFilter, offsetof(__sk_buff, tc_classid), 4), nullptr);
    EXPECT_NE(load(SocketFilter, offsetof(__sk_buff, tc_index), 4), nullptr);
    // 64-bit timestamps: whole loads; tstamp is also written by tc.
    const uint32_t tstamp = offsetof(__sk_buff, tstamp);
    EXPECT_NE(load(SchedCls, tstamp, 8), nullptr);
    EXPECT_NE(store(SchedCls, tstamp, 8), nullptr);
    EXPECT_EQ(load(SchedCls, tstamp, 4), nullptr);
    EXPECT_EQ(load(SocketFilter, tstamp, 8), nullptr);
    const uint32_t hwtstamp = offsetof(__sk_buff, hwtstamp);
    EXPECT_NE(load(SchedCls, hwtstamp, 8), nullptr);
    EXPECT_EQ(store(SchedCls, hwtstamp, 8), nullptr);
    EXPECT_EQ(load(SocketFilter, hwtstamp, 8), nullptr);
    const uint32_t tstamp_type = offsetof(__sk_buff, tstamp_type);
    EXPECT_NE(load(SchedCls, tstamp_type, 1), nullptr);
    EXPECT_EQ(store(SchedCls, tstamp_type, 1), nullptr);
    EXPECT_EQ(load(SocketFilter, tstamp_type, 1), nullptr);
    EXPECT_EQ(load(SocketFilter, offsetof(__sk_buff, wire_len), 4), nullptr);
    EXPECT_NE(load(SchedCls, offsetof(__sk_buff, wire_len), 4), nullptr);
}

TEST(ContextAccessTest, KprobeRegisters) {
    // Any aligned load inside pt_regs; never a store.
    EXPECT_EQ(loaded(ProgramType::Kprobe, 14 * 8, 8, Platform::X86_64), "rdi");
    EXPECT_EQ(loaded(ProgramType::Kprobe, 14 * 8 + 4, 4, Platform::X86_64), "rdi");
    EXPECT_EQ(loaded(ProgramType::Kprobe, 20 * 8 + 7, 1, Platform::X86_64), "ss");
    EXPECT_EQ(load(ProgramType::Kprobe, 14 * 8 + 4, 8, Platform::X86_64), nullptr);
    EXPECT_EQ(load(ProgramType::Kprobe, 21 * 8, 8, Platform::X86_64), nullptr);
    EXPECT_EQ(store(ProgramType::Kprobe, 0, 8, Platform::X86_64), nullptr);
    EXPECT_EQ(loaded(ProgramType::Kprobe, 0, 8, Platform::Arm64), "regs[0]");
    EXPECT_EQ(loaded(ProgramType::Kprobe, 33 * 8, 4, Platform::Arm64), "pstate");
    EXPECT_EQ(load(ProgramType::Kprobe, 34 * 8, 8, Platform::Arm64), nullptr);
#if defined(__x86_64__)
    EXPECT_EQ(loaded(ProgramType::Kprobe, offsetof(pt_regs, rsi), 8, Platform::X86_64), "rsi");
#endif
}

TEST(ContextAccessTest, PerfEventRegistersAreWholeWords) {
    for (Platform platform : {Platform::X86_64, Platform::Arm64}) {
        const uint32_t regs = *context_size(ProgramType::Kprobe, platform);
        EXPECT_NE(load(ProgramType::PerfEvent, 0, 8, platform), nullptr);
        EXPECT_EQ(load(ProgramType::PerfEvent, 0, 4, platform), nullptr);
        EXPECT_EQ(loaded(ProgramType::PerfEvent, regs, 8, platform), "sample_period");
        EXPECT_EQ(loaded(ProgramType::PerfEvent, regs + 4, 4, platform), "sample_period");
        EXPECT_EQ(loaded(ProgramType::PerfEvent, regs + 8, 2, platform), "addr");
        EXPECT_EQ(load(ProgramType::PerfEvent, regs + 16, 8, platform), nullptr);
        EXPECT_EQ(store(ProgramType::PerfEvent, regs, 8, platform), nullptr);
    }
}

TEST(ContextAccessTest, TracepointAndRawTracepoint) {
    EXPECT_EQ(load(ProgramType::Tracepoint, 0, 8), nullptr);  // hidden common bytes
    EXPECT_EQ(load(ProgramType::Tracepoint, 4, 4), nullptr);
    EXPECT_EQ(loaded(ProgramType::Tracepoint, 8, 4), "record");
    EXPECT_EQ(loaded(ProgramType::Tracepoint, 8184, 8), "record");
    EXPECT_EQ(loaded(ProgramType::Tracepoint, 13, 1), "record");
    EXPECT_EQ(load(ProgramType::Tracepoint, 12, 8), nullptr);
    EXPECT_EQ(load(ProgramType::Tracepoint, 8192, 1), nullptr);
    EXPECT_EQ(store(ProgramType::Tracepoint, 8, 8), nullptr);

    EXPECT_EQ(loaded(ProgramType::RawTracepoint, 0, 8), "args[0]");
    EXPECT_EQ(loaded(ProgramType::RawTracepoint, 11 * 8 + 4, 4), "args[11]");
    EXPECT_EQ(load(ProgramType::RawTracepoint, 12 * 8, 8), nullptr);
    EXPECT_EQ(store(ProgramType::RawTracepoint, 0, 8), nullptr);
}

TEST(ContextAccessTest, SyscallAndBytes) {
    EXPECT_NE(load(ProgramType::Syscall, 0, 8), nullptr);
    EXPECT_NE(store(ProgramType::Syscall, 0, 8), nullptr);
    EXPECT_NE(store(ProgramType::Syscall, 65532, 2), nullptr);
    EXPECT_NE(store(ProgramType::Syscall, 65534, 1), nullptr);
    EXPECT_EQ(load(ProgramType::Syscall, 65535, 1), nullptr);
    EXPECT_EQ(load(ProgramType::Syscall, 3, 4), nullptr);
    EXPECT_EQ(load(ProgramType::Bytes, 0, 1), nullptr);
    EXPECT_EQ(store(ProgramType::Bytes, 0, 1), nullptr);
}

}  // namespace
}  // namespace bpfvm::isa
