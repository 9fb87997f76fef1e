// The kernel helpers bpfvm simulates. Each runs after the runtime has checked its arguments
// against the helper's prototype (map handles, memory sizes, the context), so the code here
// deals with what the kernel's helper does, not with argument validation. Memory a helper reads
// or writes that its prototype does not cover (probe_read sources, %s strings) is checked here.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "checksum.hpp"
#include "format.hpp"
#include "runtime_impl.hpp"

namespace bpfvm::vm {
namespace {

// What one call of a kernel helper has to work with.
struct KernelCall {
    const HelperCall& call;
    Runtime::Impl& impl;
    RunState& run;

    uint64_t arg(size_t i) const { return call.args[i]; }
    uint8_t* pointer(size_t i) const { return reinterpret_cast<uint8_t*>(call.args[i]); }
    Map& map(size_t i) const { return *impl.map_from_handle(call.args[i]); }
    uint32_t cpu() const { return run.request->cpu; }
};

using KernelHelper = Result<HelperReturn> (*)(KernelCall&);

HelperReturn errno_return(int error) {
    return HelperReturn{static_cast<uint64_t>(-static_cast<int64_t>(error))};
}

Error helper_error(const KernelCall& k, std::string message) {
    Location where;
    where.instruction = k.call.instruction;
    return make_error(ErrorKind::HelperFailed, std::move(message), std::move(where));
}

// Whether the program may read [address, address + size).
bool readable(const KernelCall& k, uint64_t address, uint64_t size) {
    return size == 0 || k.call.memory.find(address, size, Access::Read) != nullptr;
}

// The maps' typed interfaces; the argument check has made sure the helper fits the map type.
template <typename Kind>
Kind* as(Map& map) {
    return dynamic_cast<Kind*>(&map);
}

// Hands what the reader of a ring buffer or perf event array finds to the run, right after the
// program sent it, so events keep the order in which the program sent them.
void record_events(KernelCall& k, const Map& map, std::vector<MapEvent> events) {
    for (MapEvent& event : events) {
        k.run.outcome->events.push_back(RecordedEvent{map.name(), event.cpu, std::move(event.data)});
    }
}

// ---------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------

Result<HelperReturn> map_lookup_elem(KernelCall& k) {
    Map& map = k.map(0);
    if (auto* elements = as<ElementMap>(map)) {
        return HelperReturn{reinterpret_cast<uint64_t>(elements->lookup(k.pointer(1), k.cpu()))};
    }
    if (auto* references = as<ReferenceMap>(map)) {
        // A map of maps gives the inner map, which the program passes on to other map helpers.
        auto inner = references->get(k.pointer(1));
        if (!inner || *inner >= k.impl.maps.size()) return HelperReturn{0};
        return HelperReturn{k.impl.handle_of(*inner)};
    }
    return HelperReturn{0};
}

Result<HelperReturn> map_update_elem(KernelCall& k) {
    auto* elements = as<ElementMap>(k.map(0));
    if (elements == nullptr) return errno_return(EINVAL);
    return HelperReturn{
        static_cast<uint64_t>(elements->update(k.pointer(1), k.pointer(2), k.arg(3), k.cpu()))};
}

Result<HelperReturn> map_delete_elem(KernelCall& k) {
    Map& map = k.map(0);
    if (auto* elements = as<ElementMap>(map))
        return HelperReturn{static_cast<uint64_t>(elements->remove(k.pointer(1)))};
    if (auto* references = as<ReferenceMap>(map)) {
        return HelperReturn{static_cast<uint64_t>(references->remove(k.pointer(1)))};
    }
    return errno_return(EINVAL);
}

Result<HelperReturn> map_push_elem(KernelCall& k) {
    return HelperReturn{static_cast<uint64_t>(as<QueueMap>(k.map(0))->push(k.pointer(1), k.arg(2)))};
}

Result<HelperReturn> map_pop_elem(KernelCall& k) {
    return HelperReturn{static_cast<uint64_t>(as<QueueMap>(k.map(0))->pop(k.pointer(1)))};
}

Result<HelperReturn> map_peek_elem(KernelCall& k) {
    return HelperReturn{static_cast<uint64_t>(as<QueueMap>(k.map(0))->peek(k.pointer(1)))};
}

Result<HelperReturn> map_lookup_percpu_elem(KernelCall& k) {
    const uint64_t cpu = k.arg(2);
    if (cpu >= k.impl.options.map_limits.cpus) return HelperReturn{0};
    auto* elements = as<ElementMap>(k.map(0));
    return HelperReturn{
        reinterpret_cast<uint64_t>(elements->lookup(k.pointer(1), static_cast<uint32_t>(cpu)))};
}

Result<HelperReturn> for_each_map_elem(KernelCall& k) {
    if (k.arg(3) != 0) return errno_return(EINVAL);
    auto* elements = as<ElementMap>(k.map(0));
    const uint64_t handle = k.arg(0);
    const auto callback = static_cast<uint32_t>(k.arg(1));
    const uint64_t callback_context = k.arg(2);
    uint64_t visited = 0;
    std::optional<Error> failure;
    const size_t regions = k.call.memory.regions().size();
    elements->for_each(k.cpu(), [&](std::span<const uint8_t> key, uint8_t* value) {
        ++visited;
        // The callback reads the key through a pointer: the map's copy, lent read-only for the call.
        k.call.memory.add(key.data(), key.size(), false, "for_each_map_elem key");
        auto stop = k.call.functions.call_function(
            callback, {handle, reinterpret_cast<uint64_t>(key.data()), reinterpret_cast<uint64_t>(value),
                       callback_context, 0});
        k.call.memory.truncate(regions);
        if (!stop) {
            failure = stop.error();
            return false;
        }
        return *stop == 0;
    });
    if (failure) return *failure;
    return HelperReturn{visited};
}

Result<HelperReturn> loop(KernelCall& k) {
    constexpr uint64_t kMaxLoops = uint64_t{1} << 23;  // BPF_MAX_LOOPS
    const uint64_t count = static_cast<uint32_t>(k.arg(0));
    if (k.arg(3) != 0) return errno_return(EINVAL);
    if (count > kMaxLoops) return errno_return(E2BIG);
    const auto callback = static_cast<uint32_t>(k.arg(1));
    for (uint64_t i = 0; i < count; ++i) {
        auto stop = k.call.functions.call_function(callback, {i, k.arg(2), 0, 0, 0});
        if (!stop) return stop.error();
        if (*stop != 0) return HelperReturn{i + 1};
    }
    return HelperReturn{count};
}

Result<HelperReturn> tail_call(KernelCall& k) {
    constexpr uint32_t kMaxTailCalls = 33;  // MAX_TAIL_CALL_CNT
    auto* programs = as<ReferenceMap>(k.map(1));
    const uint64_t index = k.arg(2);
    // A failed tail call returns to the caller, which goes on with its next instruction.
    if (index >= programs->spec().max_entries || k.run.tail_calls >= kMaxTailCalls)
        return errno_return(ENOENT);
    const auto key = static_cast<uint32_t>(index);
    auto target = programs->get(reinterpret_cast<const uint8_t*>(&key));
    if (!target || *target >= k.impl.programs.size()) return errno_return(ENOENT);
    const PreparedEntry& entry = k.impl.prepared[*target];
    if (entry.error) {
        return helper_error(k, "tail call into program '" + k.impl.programs[*target].name +
                                   "', which cannot run: " + entry.error->message);
    }
    ++k.run.tail_calls;
    k.run.program = *target;
    return HelperReturn::tail_call_to(*target);
}

// ---------------------------------------------------------------------------------------------
// Memory and strings
// ---------------------------------------------------------------------------------------------

// probe_read and its kernel/user forms: bpfvm has one address space, the regions the program
// may see; anything else faults, and the destination is zeroed as the kernel zeroes it.
Result<HelperReturn> probe_read(KernelCall& k) {
    uint8_t* destination = k.pointer(0);
    const auto size = static_cast<uint32_t>(k.arg(1));
    if (!readable(k, k.arg(2), size)) {
        std::memset(destination, 0, size);
        return errno_return(EFAULT);
    }
    std::memmove(destination, k.pointer(2), size);
    return HelperReturn{0};
}

Result<HelperReturn> probe_read_str(KernelCall& k) {
    uint8_t* destination = k.pointer(0);
    const auto size = static_cast<uint32_t>(k.arg(1));
    const uint64_t source = k.arg(2);
    if (size == 0) return HelperReturn{0};
    for (uint32_t i = 0; i + 1 < size; ++i) {
        if (!readable(k, source + i, 1)) {
            std::memset(destination, 0, size);
            return errno_return(EFAULT);
        }
        destination[i] = *reinterpret_cast<const uint8_t*>(source + i);
        if (destination[i] == 0) return HelperReturn{i + 1};
    }
    destination[size - 1] = 0;
    return HelperReturn{size};
}

Result<HelperReturn> strncmp_helper(KernelCall& k) {
    const uint8_t* a = k.pointer(0);
    const uint64_t size = static_cast<uint32_t>(k.arg(1));
    const uint8_t* b = k.pointer(2);  // checked: a NUL-terminated constant string
    for (uint64_t i = 0; i < size; ++i) {
        if (a[i] != b[i]) return HelperReturn{static_cast<uint64_t>(a[i] < b[i] ? -1 : 1)};
        if (a[i] == 0) break;
    }
    return HelperReturn{0};
}

ReadProgramMemory memory_reader(const KernelCall& k) {
    return [&k](uint64_t address, std::span<uint8_t> out) {
        if (!readable(k, address, out.size())) return false;
        std::memcpy(out.data(), reinterpret_cast<const void*>(address), out.size());
        return true;
    };
}

// The format string of trace_printk and trace_vprintk: fmt_size bytes that must end in a NUL.
std::optional<std::string_view> format_argument(const KernelCall& k, size_t pointer, size_t size) {
    const auto length = static_cast<uint32_t>(k.arg(size));
    const auto* format = reinterpret_cast<const char*>(k.arg(pointer));
    if (length == 0 || format[length - 1] != '\0') return std::nullopt;
    return std::string_view(format, std::strlen(format));
}

// A trace line is the formatted text up to its first NUL, without the final newline.
void record_printk(KernelCall& k, const std::string& text) {
    std::string line = text.substr(0, text.find('\0'));
    if (!line.empty() && line.back() == '\n') line.pop_back();
    k.run.outcome->printk.push_back(std::move(line));
}

Result<HelperReturn> printk(KernelCall& k, std::string_view format, std::span<const uint64_t> args) {
    auto output = format_bpf_printf(format, args, kMaxBprintfBuf, memory_reader(k));
    if (!output) return HelperReturn{static_cast<uint64_t>(bpf_printf_errno(output.error()))};
    record_printk(k, output->text);
    return HelperReturn{output->length};
}

Result<HelperReturn> trace_printk(KernelCall& k) {
    auto format = format_argument(k, 0, 1);
    if (!format) return errno_return(EINVAL);
    const uint64_t args[] = {k.arg(2), k.arg(3), k.arg(4)};
    return printk(k, *format, args);
}

// Arguments of trace_vprintk and snprintf: data_len bytes of 64-bit values.
std::optional<std::vector<uint64_t>> packed_arguments(const KernelCall& k, size_t pointer, size_t size) {
    const uint64_t length = static_cast<uint32_t>(k.arg(size));
    if (length % 8 != 0 || length / 8 > kMaxBprintfVarargs) return std::nullopt;
    std::vector<uint64_t> values(length / 8);
    if (length != 0) std::memcpy(values.data(), k.pointer(pointer), length);
    return values;
}

Result<HelperReturn> trace_vprintk(KernelCall& k) {
    auto format = format_argument(k, 0, 1);
    auto args = packed_arguments(k, 2, 3);
    if (!format || !args) return errno_return(EINVAL);
    return printk(k, *format, *args);
}

Result<HelperReturn> snprintf_helper(KernelCall& k) {
    uint8_t* out = k.pointer(0);
    const uint64_t size = static_cast<uint32_t>(k.arg(1));
    const auto* format = reinterpret_cast<const char*>(k.arg(2));
    auto args = packed_arguments(k, 3, 4);
    if (!args) return errno_return(EINVAL);
    auto output = format_bpf_printf(format, *args, size, memory_reader(k));
    if (!output) {
        if (size != 0) out[0] = 0;
        return HelperReturn{static_cast<uint64_t>(bpf_printf_errno(output.error()))};
    }
    if (size != 0) {
        const size_t copied = std::min<size_t>(output->text.size(), size - 1);
        std::memcpy(out, output->text.data(), copied);
        out[copied] = 0;
    }
    return HelperReturn{output->length + 1};
}

// ---------------------------------------------------------------------------------------------
// Time, randomness, the task
// ---------------------------------------------------------------------------------------------

Result<HelperReturn> ktime_get_ns(KernelCall& k) {
    return HelperReturn{k.impl.now_ns()};
}

Result<HelperReturn> jiffies64(KernelCall& k) {
    constexpr uint64_t kNanosecondsPerJiffy = 1'000'000'000 / 250;  // HZ=250, Debian's kernel
    return HelperReturn{k.impl.now_ns() / kNanosecondsPerJiffy};
}

Result<HelperReturn> get_prandom_u32(KernelCall& k) {
    return HelperReturn{static_cast<uint32_t>(k.impl.random())};
}

Result<HelperReturn> get_smp_processor_id(KernelCall& k) {
    return HelperReturn{k.cpu()};
}

Result<HelperReturn> get_numa_node_id(KernelCall&) {
    return HelperReturn{0};
}

Result<HelperReturn> get_current_pid_tgid(KernelCall& k) {
    const TaskIdentity& task = k.impl.options.task;
    return HelperReturn{uint64_t{task.tgid} << 32 | task.pid};
}

Result<HelperReturn> get_current_uid_gid(KernelCall& k) {
    const TaskIdentity& task = k.impl.options.task;
    return HelperReturn{uint64_t{task.gid} << 32 | task.uid};
}

Result<HelperReturn> get_current_comm(KernelCall& k) {
    uint8_t* out = k.pointer(0);
    const auto size = static_cast<uint32_t>(k.arg(1));
    // The kernel's task comm holds at most 15 characters; the rest of the buffer is zeroed.
    const std::string& comm = k.impl.options.task.comm;
    const size_t copied = std::min<size_t>({comm.size(), 15, size - 1});
    std::memset(out, 0, size);
    std::memcpy(out, comm.data(), copied);
    return HelperReturn{0};
}

Result<HelperReturn> get_func_ip(KernelCall& k) {
    return HelperReturn{k.run.request->func_ip};
}

Result<HelperReturn> get_attach_cookie(KernelCall& k) {
    return HelperReturn{k.run.request->attach_cookie};
}

// One CPU runs a program at a time, so a lock is always free.
Result<HelperReturn> spin_lock(KernelCall&) {
    return HelperReturn{0};
}

// ---------------------------------------------------------------------------------------------
// Ring buffers and perf events
// ---------------------------------------------------------------------------------------------

constexpr uint64_t kRingbufWakeupFlags = 1 | 2;  // BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP

Result<HelperReturn> ringbuf_output(KernelCall& k) {
    if ((k.arg(3) & ~kRingbufWakeupFlags) != 0) return errno_return(EINVAL);
    const uint64_t size = static_cast<uint32_t>(k.arg(2));
    auto* ring = as<RingBufferMap>(k.map(0));
    const int64_t result = ring->output(std::span<const uint8_t>(k.pointer(1), size));
    record_events(k, *ring, ring->consume());
    return HelperReturn{static_cast<uint64_t>(result)};
}

Result<HelperReturn> ringbuf_reserve(KernelCall& k) {
    if (k.arg(2) != 0) return HelperReturn{0};
    return HelperReturn{reinterpret_cast<uint64_t>(as<RingBufferMap>(k.map(0))->reserve(k.arg(1)))};
}

Result<HelperReturn> ringbuf_commit(KernelCall& k, bool discard) {
    const auto* record = reinterpret_cast<const uint8_t*>(k.arg(0));
    for (const auto& map : k.impl.maps) {
        auto* ring = dynamic_cast<RingBufferMap*>(map.get());
        if (ring != nullptr && ring->commit(record, discard)) {
            record_events(k, *ring, ring->consume());
            return HelperReturn{0};
        }
    }
    return helper_error(k, std::string(discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit") +
                               " argument 1 (r1) is " + to_hex(k.arg(0)) +
                               ", which is not a ring buffer record the program reserved and still holds");
}

Result<HelperReturn> ringbuf_submit(KernelCall& k) {
    return ringbuf_commit(k, false);
}

Result<HelperReturn> ringbuf_discard(KernelCall& k) {
    return ringbuf_commit(k, true);
}

Result<HelperReturn> ringbuf_query(KernelCall& k) {
    return HelperReturn{as<RingBufferMap>(k.map(0))->query(k.arg(1))};
}

bool is_packet_type(isa::ProgramType type) {
    return type == isa::ProgramType::Xdp || type == isa::ProgramType::SchedCls ||
           type == isa::ProgramType::SchedAct || type == isa::ProgramType::SocketFilter;
}

Result<HelperReturn> perf_event_output(KernelCall& k) {
    constexpr uint64_t kContextLengthMask = 0xfffffULL << 32;  // BPF_F_CTXLEN_MASK
    uint64_t flags = k.arg(2);
    const uint64_t size = k.arg(4);
    std::vector<uint8_t> record(k.pointer(3), k.pointer(3) + size);
    // Packet programs may append the first bytes of the packet to the record.
    if (is_packet_type(k.run.type) && k.run.has_packet) {
        const uint64_t packet_bytes = (flags & kContextLengthMask) >> 32;
        flags &= ~kContextLengthMask;
        const PacketBuffer& p = k.run.packet;
        if (packet_bytes > p.length()) return errno_return(EFAULT);
        const auto* start = reinterpret_cast<const uint8_t*>(p.data);
        record.insert(record.end(), start, start + packet_bytes);
    }
    auto* perf = as<PerfEventArrayMap>(k.map(1));
    const int64_t result = perf->output(flags, k.cpu(), record);
    record_events(k, *perf, perf->consume());
    return HelperReturn{static_cast<uint64_t>(result)};
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

constexpr int64_t kEthernetHeader = 14;
constexpr uint64_t kXdpFrameHeader = 40;  // sizeof(struct xdp_frame), kept at the head of the buffer
constexpr uint64_t kMaxMetadata = 32;
constexpr uint64_t kXdpRedirect = 4;
constexpr uint64_t kTcActRedirect = 7;
constexpr uint64_t kTcActShot = 2;
constexpr uint64_t kXdpAborted = 0;

Result<HelperReturn> xdp_adjust_head(KernelCall& k) {
    PacketBuffer& p = k.run.packet;
    const auto delta = static_cast<int32_t>(k.arg(1));
    const uint64_t metadata = p.data - p.meta;
    const uint64_t lowest = p.hard_start + kXdpFrameHeader + metadata;
    const uint64_t data = p.data + static_cast<int64_t>(delta);
    if (data < lowest || static_cast<int64_t>(p.data_end - data) < kEthernetHeader)
        return errno_return(EINVAL);
    if (metadata != 0) std::memmove(p.at(p.meta + static_cast<int64_t>(delta)), p.at(p.meta), metadata);
    p.meta += static_cast<int64_t>(delta);
    p.data = data;
    sync_packet(k.run, k.call.memory);
    return HelperReturn{0};
}

Result<HelperReturn> xdp_adjust_meta(KernelCall& k) {
    PacketBuffer& p = k.run.packet;
    const auto delta = static_cast<int32_t>(k.arg(1));
    const uint64_t meta = p.meta + static_cast<int64_t>(delta);
    if (meta < p.hard_start + kXdpFrameHeader || meta > p.data) return errno_return(EINVAL);
    const uint64_t length = p.data - meta;
    if (length % 4 != 0 || length > kMaxMetadata) return errno_return(EACCES);
    p.meta = meta;
    sync_packet(k.run, k.call.memory);
    return HelperReturn{0};
}

Result<HelperReturn> xdp_adjust_tail(KernelCall& k) {
    PacketBuffer& p = k.run.packet;
    const auto delta = static_cast<int32_t>(k.arg(1));
    const uint64_t data_end = p.data_end + static_cast<int64_t>(delta);
    if (data_end > p.hard_end || static_cast<int64_t>(data_end - p.data) < kEthernetHeader) {
        return errno_return(EINVAL);
    }
    if (delta > 0) std::memset(p.at(p.data_end), 0, static_cast<size_t>(delta));
    p.data_end = data_end;
    sync_packet(k.run, k.call.memory);
    return HelperReturn{0};
}

Result<HelperReturn> redirect(KernelCall& k) {
    const uint64_t flags = k.arg(1);
    if (k.run.type == isa::ProgramType::Xdp) {
        if (flags != 0) return HelperReturn{kXdpAborted};
        k.run.outcome->redirect = Redirect{"", static_cast<uint32_t>(k.arg(0)), flags};
        return HelperReturn{kXdpRedirect};
    }
    constexpr uint64_t kIngress = 1;  // BPF_F_INGRESS
    if ((flags & ~kIngress) != 0) return HelperReturn{kTcActShot};
    k.run.outcome->redirect = Redirect{"", static_cast<uint32_t>(k.arg(0)), flags};
    return HelperReturn{kTcActRedirect};
}

Result<HelperReturn> redirect_map(KernelCall& k) {
    constexpr uint64_t kActionMask = 3;                     // the action returned on a miss
    constexpr uint64_t kKnownFlags = kActionMask | 8 | 16;  // BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS
    const uint64_t flags = k.arg(2);
    if ((flags & ~kKnownFlags) != 0) return HelperReturn{kXdpAborted};
    Map& map = k.map(0);
    const auto key = static_cast<uint32_t>(k.arg(1));
    auto* targets = as<ElementMap>(map);
    if (targets == nullptr || targets->lookup(reinterpret_cast<const uint8_t*>(&key), k.cpu()) == nullptr) {
        return HelperReturn{flags & kActionMask};
    }
    k.run.outcome->redirect = Redirect{map.name(), key, flags};
    return HelperReturn{kXdpRedirect};
}

// skb helpers address the packet by offset from skb->data, up to skb->len.
std::optional<uint8_t*> skb_bytes(KernelCall& k, uint64_t offset, uint64_t size) {
    PacketBuffer& p = k.run.packet;
    if (offset > INT_MAX || offset + size > p.length()) return std::nullopt;
    return p.at(p.data) + offset;
}

Result<HelperReturn> skb_load_bytes(KernelCall& k) {
    const auto size = static_cast<uint32_t>(k.arg(3));
    auto bytes = skb_bytes(k, static_cast<uint32_t>(k.arg(1)), size);
    if (!bytes) {
        std::memset(k.pointer(2), 0, size);
        return errno_return(EFAULT);
    }
    std::memcpy(k.pointer(2), *bytes, size);
    return HelperReturn{0};
}

Result<HelperReturn> skb_store_bytes(KernelCall& k) {
    constexpr uint64_t kKnownFlags = 1 | 2;  // BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH
    const uint64_t offset = static_cast<uint32_t>(k.arg(1));
    const auto size = static_cast<uint32_t>(k.arg(3));
    if ((k.arg(4) & ~kKnownFlags) != 0) return errno_return(EINVAL);
    if (offset > 0xffff) return errno_return(EFAULT);
    auto bytes = skb_bytes(k, offset, size);
    if (!bytes) return errno_return(EFAULT);
    std::memmove(*bytes, k.pointer(2), size);
    return HelperReturn{0};
}

Result<HelperReturn> checksum_replace(KernelCall& k, bool layer4) {
    const uint64_t offset = static_cast<uint32_t>(k.arg(1));
    if (int64_t refused = csum_replace_check(layer4, offset, k.arg(4)); refused != 0) {
        return HelperReturn{static_cast<uint64_t>(refused)};
    }
    auto field = skb_bytes(k, offset, 2);
    if (!field) return errno_return(EFAULT);
    const int64_t result = layer4 ? l4_csum_replace(*field, k.arg(2), k.arg(3), k.arg(4))
                                  : l3_csum_replace(*field, k.arg(2), k.arg(3), k.arg(4));
    return HelperReturn{static_cast<uint64_t>(result)};
}

Result<HelperReturn> l3_csum_replace_helper(KernelCall& k) {
    return checksum_replace(k, false);
}

Result<HelperReturn> l4_csum_replace_helper(KernelCall& k) {
    return checksum_replace(k, true);
}

Result<HelperReturn> csum_diff_helper(KernelCall& k) {
    const uint64_t from_size = static_cast<uint32_t>(k.arg(1));
    const uint64_t to_size = static_cast<uint32_t>(k.arg(3));
    const std::span<const uint8_t> from(k.pointer(0), from_size);
    const std::span<const uint8_t> to(k.pointer(2), to_size);
    return HelperReturn{static_cast<uint64_t>(csum_diff(from, to, static_cast<uint32_t>(k.arg(4))))};
}

struct Implementation {
    std::string_view name;
    KernelHelper function;
};

constexpr Implementation kImplementations[] = {
    {"map_lookup_elem", map_lookup_elem},
    {"map_update_elem", map_update_elem},
    {"map_delete_elem", map_delete_elem},
    {"map_push_elem", map_push_elem},
    {"map_pop_elem", map_pop_elem},
    {"map_peek_elem", map_peek_elem},
    {"map_lookup_percpu_elem", map_lookup_percpu_elem},
    {"for_each_map_elem", for_each_map_elem},
    {"loop", loop},
    {"tail_call", tail_call},
    {"probe_read", probe_read},
    {"probe_read_kernel", probe_read},
    {"probe_read_user", probe_read},
    {"probe_read_str", probe_read_str},
    {"probe_read_kernel_str", probe_read_str},
    {"probe_read_user_str", probe_read_str},
    {"strncmp", strncmp_helper},
    {"trace_printk", trace_printk},
    {"trace_vprintk", trace_vprintk},
    {"snprintf", snprintf_helper},
    {"ktime_get_ns", ktime_get_ns},
    {"ktime_get_boot_ns", ktime_get_ns},
    {"ktime_get_coarse_ns", ktime_get_ns},
    {"ktime_get_tai_ns", ktime_get_ns},
    {"jiffies64", jiffies64},
    {"get_prandom_u32", get_prandom_u32},
    {"get_smp_processor_id", get_smp_processor_id},
    {"get_numa_node_id", get_numa_node_id},
    {"get_current_pid_tgid", get_current_pid_tgid},
    {"get_current_uid_gid", get_current_uid_gid},
    {"get_current_comm", get_current_comm},
    {"get_func_ip", get_func_ip},
    {"get_attach_cookie", get_attach_cookie},
    {"spin_lock", spin_lock},
    {"spin_unlock", spin_lock},
    {"ringbuf_output", ringbuf_output},
    {"ringbuf_reserve", ringbuf_reserve},
    {"ringbuf_submit", ringbuf_submit},
    {"ringbuf_discard", ringbuf_discard},
    {"ringbuf_query", ringbuf_query},
    {"perf_event_output", perf_event_output},
    {"xdp_adjust_head", xdp_adjust_head},
    {"xdp_adjust_meta", xdp_adjust_meta},
    {"xdp_adjust_tail", xdp_adjust_tail},
    {"redirect", redirect},
    {"redirect_map", redirect_map},
    {"skb_load_bytes", skb_load_bytes},
    {"skb_store_bytes", skb_store_bytes},
    {"l3_csum_replace", l3_csum_replace_helper},
    {"l4_csum_replace", l4_csum_replace_helper},
    {"csum_diff", csum_diff_helper},
};

}  // namespace

void install_kernel_helpers(Runtime::Impl& impl) {
    for (const Implementation& implementation : kImplementations) {
        const isa::HelperPrototype* prototype = isa::helper_by_name(implementation.name);
        // Every implemented helper has a prototype: runtime_test checks the table.
        if (prototype == nullptr || !prototype->known) continue;
        const KernelHelper function = implementation.function;
        Runtime::Impl* state = &impl;
        impl.install_helper(*prototype, std::string(prototype->name),
                            [state, function](const HelperCall& call) -> Result<HelperReturn> {
                                KernelCall k{call, *state, *state->run};
                                return function(k);
                            });
    }
}

// Names of the helpers the runtime implements (a test checks each has a prototype).
std::vector<std::string_view> kernel_helper_names() {
    std::vector<std::string_view> names;
    for (const Implementation& implementation : kImplementations) names.push_back(implementation.name);
    return names;
}

}  // namespace bpfvm::vm
