// Contexts and packets of runs, per program type, as BPF_PROG_TEST_RUN builds them: an XDP
// frame with 256 bytes of headroom and room to grow the tail, an sk_buff whose data starts at
// the Ethernet header (tc) or at the network header (socket filters, after eth_type_trans), and
// raw context bytes for the tracing types.
#include <algorithm>
#include <cstring>

#include "context_memory.hpp"
#include "runtime_impl.hpp"

namespace bpfvm::vm {
namespace {

constexpr uint32_t kEthernetHeader = 14;
// XDP frames in BPF_PROG_TEST_RUN: one page, XDP_PACKET_HEADROOM in front, and the
// skb_shared_info the kernel keeps at the end (320 bytes on 64-bit) that the tail cannot grow into.
constexpr uint32_t kXdpFrameSize = 4096;
constexpr uint32_t kXdpHeadroom = 256;
constexpr uint32_t kXdpTailReserve = 320;
// sk_buff headroom (NET_SKB_PAD + NET_IP_ALIGN); bpfvm has no helper that grows the head.
constexpr uint32_t kSkbHeadroom = 66;

// struct __sk_buff member offsets (linux/bpf.h), checked against the uapi header by the isa
// context layout tests.
constexpr uint32_t kSkbLen = 0, kSkbPktType = 4, kSkbProtocol = 16, kSkbIfindex = 40, kSkbWireLen = 160;
// struct xdp_md.
constexpr uint32_t kXdpIngressIfindex = 12, kXdpRxQueueIndex = 16;

bool is_skb_type(isa::ProgramType type) {
    return type == isa::ProgramType::SocketFilter || type == isa::ProgramType::SchedCls ||
           type == isa::ProgramType::SchedAct;
}

void put32(uint8_t* base, uint32_t offset, uint32_t value) {
    std::memcpy(base + offset, &value, sizeof value);
}

Error request_error(std::string message) {
    return make_error(ErrorKind::InvalidInput, std::move(message));
}

// Copies a packet into a frame with `headroom` bytes before it and `tailroom` after.
void fill_frame(PacketBuffer& packet, std::span<const uint8_t> bytes, uint32_t headroom,
                uint32_t frame_size) {
    packet.frame.assign(frame_size, 0);
    std::copy(bytes.begin(), bytes.end(), packet.frame.begin() + headroom);
    const uint64_t base = reinterpret_cast<uint64_t>(packet.frame.data());
    packet.hard_start = base;
    packet.data = base + headroom;
    packet.meta = packet.data;
    packet.data_end = packet.data + bytes.size();
    packet.output_start = packet.data;
}

// A context field the caller gave (non-zero in the request's context bytes), else `fallback`.
uint32_t given_or(const uint8_t* ctx, uint32_t offset, uint32_t fallback) {
    uint32_t value = 0;
    std::memcpy(&value, ctx + offset, 4);
    return value != 0 ? value : fallback;
}

// eth_type_trans's packet type for a frame received on the loopback device BPF_PROG_TEST_RUN
// uses: its address is all zeros and it has no broadcast address (it never calls ether_setup),
// so a broadcast frame counts as multicast.
uint32_t packet_type(std::span<const uint8_t> frame) {
    if (frame.size() < kEthernetHeader) return 0;
    if ((frame[0] & 1) != 0) return 2;  // PACKET_MULTICAST
    const bool ours = std::all_of(frame.begin(), frame.begin() + 6, [](uint8_t b) { return b == 0; });
    return ours ? 0 : 3;  // PACKET_HOST or PACKET_OTHERHOST
}

// eth_type_trans's skb->protocol, in network byte order as the __sk_buff field holds it: the
// EtherType, or for an 802.3 length field ETH_P_802_3 (a raw IPX payload starting 0xffff) or
// ETH_P_802_2.
uint32_t packet_protocol(std::span<const uint8_t> frame) {
    if (frame.size() < kEthernetHeader) return 0;
    uint32_t ether_type = uint32_t{frame[12]} << 8 | frame[13];
    if (ether_type < 0x600) {
        const bool raw = frame.size() >= kEthernetHeader + 2 && frame[14] == 0xff && frame[15] == 0xff;
        ether_type = raw ? 0x0001 : 0x0004;
    }
    return (ether_type >> 8) | (ether_type & 0xff) << 8;
}

}  // namespace

void sync_packet(RunState& run, MemoryMap& memory) {
    PacketBuffer& p = run.packet;
    if (!run.has_packet) return;
    if (!run.context.empty() && run.type != isa::ProgramType::Bytes) {
        const ContextMemoryLayout layout = context_memory_layout(run.context_size);
        uint8_t* ctx = run.context_bytes();
        std::memcpy(ctx + layout.pointer_offset(isa::ContextFieldKind::PacketStart), &p.data, 8);
        std::memcpy(ctx + layout.pointer_offset(isa::ContextFieldKind::PacketEnd), &p.data_end, 8);
        std::memcpy(ctx + layout.pointer_offset(isa::ContextFieldKind::PacketMeta), &p.meta, 8);
    }
    memory.resize(run.packet_region, p.meta, p.data_end - p.meta);
}

Status build_run_context(Runtime::Impl& impl, RunState& run, RunInput& input) {
    MemoryMap& memory = input.memory;
    std::array<uint64_t, 5>& args = input.args;
    const RunRequest& request = *run.request;
    const isa::ContextLayout* layout = isa::context_layout(run.type, impl.options.platform);
    const std::string type_name(isa::program_type_name(run.type));
    if (layout == nullptr) {
        return make_error(ErrorKind::Unsupported,
                          type_name + " programs cannot run: bpfvm has no context for this program type");
    }

    if (run.type == isa::ProgramType::Bytes) {
        PacketBuffer& p = run.packet;
        fill_frame(p, request.packet, 0, static_cast<uint32_t>(request.packet.size()));
        p.hard_end = p.data_end;
        run.has_packet = true;
        run.packet_region = memory.add(reinterpret_cast<void*>(p.data), p.length(), true, "input");
        args[0] = request.packet.empty() ? 0 : p.data;
        args[1] = request.packet.size();
        return Ok{};
    }

    // Tracepoint records and syscall contexts are as large as the caller's bytes.
    uint32_t struct_size = layout->size;
    if (run.type == isa::ProgramType::Tracepoint || run.type == isa::ProgramType::Syscall) {
        if (request.context.size() > layout->size) {
            return request_error("a " + type_name + " context is at most " + std::to_string(layout->size) +
                                 " bytes; this one has " + std::to_string(request.context.size()));
        }
        struct_size = static_cast<uint32_t>(request.context.size());
        if (run.type == isa::ProgramType::Tracepoint) struct_size = std::max<uint32_t>(struct_size, 8);
        if (run.type == isa::ProgramType::Syscall && struct_size == 0) {
            args[0] = 0;  // BPF_PROG_TEST_RUN passes a null context when none is given
            return Ok{};
        }
    } else if (request.context.size() > struct_size) {
        return request_error("the context of " + type_name + " programs (" +
                             std::string(layout->struct_name) + ") has " + std::to_string(struct_size) +
                             " bytes; " + std::to_string(request.context.size()) + " were given");
    }

    const ContextMemoryLayout context_layout = context_memory_layout(struct_size);
    run.context.assign((context_layout.total_size + 7) / 8, 0);
    run.context_size = struct_size;
    uint8_t* ctx = run.context_bytes();
    std::copy(request.context.begin(), request.context.end(), ctx);
    const bool writable = std::any_of(layout->fields.begin(), layout->fields.end(),
                                      [](const isa::ContextField& f) { return f.writable; });
    memory.add(ctx, struct_size, writable, "context");
    args[0] = run.context_address();

    const std::span<const uint8_t> bytes(request.packet);
    if (run.type == isa::ProgramType::Xdp) {
        const uint32_t max_packet = kXdpFrameSize - kXdpHeadroom - kXdpTailReserve;
        if (bytes.size() > max_packet) {
            return request_error("an XDP packet is at most " + std::to_string(max_packet) +
                                 " bytes (one page less " + "headroom and tail reserve); this one has " +
                                 std::to_string(bytes.size()));
        }
        fill_frame(run.packet, bytes, kXdpHeadroom, kXdpFrameSize);
        run.packet.hard_end = run.packet.hard_start + kXdpFrameSize - kXdpTailReserve;
        put32(ctx, kXdpIngressIfindex, given_or(ctx, kXdpIngressIfindex, request.ingress_ifindex));
        put32(ctx, kXdpRxQueueIndex, given_or(ctx, kXdpRxQueueIndex, request.rx_queue_index));
    } else if (is_skb_type(run.type)) {
        fill_frame(run.packet, bytes, kSkbHeadroom, kSkbHeadroom + static_cast<uint32_t>(bytes.size()));
        PacketBuffer& p = run.packet;
        p.hard_end = p.data_end;
        // Socket filters see the packet from its network header: BPF_PROG_TEST_RUN pulls the
        // Ethernet header (eth_type_trans) and pushes it back only for tc programs.
        if (run.type == isa::ProgramType::SocketFilter) {
            p.data += std::min<uint64_t>(kEthernetHeader, bytes.size());
            p.meta = p.data;
        }
        put32(ctx, kSkbLen, static_cast<uint32_t>(p.length()));
        put32(ctx, kSkbPktType, packet_type(bytes));
        put32(ctx, kSkbProtocol, packet_protocol(bytes));
        put32(ctx, kSkbIfindex, request.ingress_ifindex);
        // skb_iif, gso_segs and wire_len come only from a context the caller gives; given one,
        // a zero wire_len becomes the packet's length (convert___skb_to_skb).
        if (!request.context.empty()) {
            put32(ctx, kSkbWireLen, given_or(ctx, kSkbWireLen, static_cast<uint32_t>(p.length())));
        }
        input.packet = std::span<const uint8_t>(p.at(p.data), p.length());
    } else {
        if (!request.packet.empty()) {
            return request_error(type_name + " programs take a context, not a packet");
        }
        return Ok{};
    }

    run.has_packet = true;
    memory.add(ctx + context_layout.pointers_offset, 24, false, "context packet pointers");
    size_t redirected = 0;
    for (const isa::ContextField& field : layout->fields) {
        if (field.kind != isa::ContextFieldKind::PacketStart &&
            field.kind != isa::ContextFieldKind::PacketEnd &&
            field.kind != isa::ContextFieldKind::PacketMeta) {
            continue;
        }
        input.context_packet_fields.at(redirected++) = {
            reinterpret_cast<uint64_t>(ctx + field.offset),
            reinterpret_cast<uint64_t>(ctx + context_layout.pointer_offset(field.kind))};
    }
    run.packet_region = memory.add(Region{run.packet.meta, run.packet.length(), true, "packet"});
    sync_packet(run, memory);
    return Ok{};
}

void collect_packet(RunState& run) {
    if (!run.has_packet) return;
    const PacketBuffer& p = run.packet;
    auto& out = run.outcome->packet;
    // A socket filter's packet comes back with the Ethernet header it did not see zeroed, as
    // BPF_PROG_TEST_RUN pushes it back.
    if (run.type == isa::ProgramType::SocketFilter) out.assign(p.data - p.output_start, 0);
    // An XDP packet comes back with its metadata, as BPF_PROG_TEST_RUN copies [data_meta, data_end).
    const uint64_t start = run.type == isa::ProgramType::Xdp ? p.meta : p.data;
    run.outcome->metadata_size = static_cast<uint32_t>(p.data - start);
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(start),
               reinterpret_cast<const uint8_t*>(p.data_end));
}

}  // namespace bpfvm::vm
