// Differential test: the corpus XDP, tc (sched_cls) and socket-filter programs run in the
// running kernel (libbpf load + BPF_PROG_TEST_RUN) and in bpfvm (tools::make_runtime + the
// interpreter) on the same packets, in the same order, from empty maps. r0, the packet as the
// program left it and the maps afterwards must be equal. A second test reads the context fields
// a packet program sees (struct __sk_buff, struct xdp_md) with small hand-assembled programs,
// so a difference in how bpfvm builds a context shows up even where no corpus program reads
// that field.
//
// What BPF_PROG_TEST_RUN does (net/bpf/test_run.c, checked here rather than assumed):
//  - XDP: the frame sits in one page after XDP_PACKET_HEADROOM, on the loopback device's
//    rx queue 0 (ingress_ifindex 1, rx_queue_index 0); data_out is [data_meta, data_end).
//  - skb programs: eth_type_trans() on the loopback device, skb->dev is loopback (ifindex 1).
//    pkt_type comes from the destination MAC against the device's all-zero address, and the
//    loopback device has no broadcast address (it never calls ether_setup), so ff:ff:ff:ff:ff:ff
//    is PACKET_MULTICAST (2), not PACKET_BROADCAST. protocol is the EtherType, except for an
//    802.3 length field (< 0x600): ETH_P_802_2 (ETH_P_802_3 for a raw 0xffff payload).
//    tc programs get the Ethernet header pushed back (data = Ethernet header); socket filters
//    run with data (skb_load_bytes and LD_ABS offset 0) at the network header, and data_out has
//    the 14 Ethernet bytes pushed back *zeroed*. skb->sk is a dummy socket (not NULL). The
//    fields a ctx_in would set stay zero: ingress_ifindex (skb_iif), gso_segs, and wire_len
//    (qdisc cb pkt_len) unless a ctx_in is given, which sets it to skb->len.
//  - Frames shorter than an Ethernet header are refused (EINVAL) for both, so the capture's
//    10-byte runt is left out; recent kernels also refuse skb runs of IPv4/IPv6 frames cut
//    inside the IP header (see kernel_refuses_short_ip).
//  - The program runs on the calling CPU: the test pins itself to one CPU so per-CPU map values
//    can be compared exactly (that CPU's slot against bpfvm's single simulated CPU).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/vm/interpreter.hpp"
#include "bpfvm/vm/maps.hpp"
#include "bpfvm/vm/runtime.hpp"
#include "corpus/corpus_support.hpp"
#include "object_run.hpp"
#include "pcap_io.hpp"

namespace bpfvm::corpus_test {
namespace {

using Bytes = std::vector<uint8_t>;

std::string hex(uint64_t v) {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(v));
    return buffer;
}

std::string hex_bytes(std::span<const uint8_t> bytes) {
    std::string out;
    char buffer[4];
    for (uint8_t b : bytes) {
        std::snprintf(buffer, sizeof buffer, "%02x", b);
        out += buffer;
    }
    return out.empty() ? "(empty)" : out;
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

struct Packet {
    std::string name;
    Bytes bytes;
};

using Mac = std::array<uint8_t, 6>;
constexpr Mac kDstMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr Mac kSrcMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kZeroMac{};  // the loopback device's own address: PACKET_HOST
constexpr Mac kMdnsMac{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
constexpr Mac kStpMac{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, std::span<const uint8_t> more) {
    b.insert(b.end(), more.begin(), more.end());
}

// One's complement sum of 16-bit big-endian words, not folded.
uint32_t sum16(std::span<const uint8_t> bytes, uint32_t sum = 0) {
    for (size_t i = 0; i < bytes.size(); i += 2)
        sum += uint32_t{bytes[i]} << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
    return sum;
}
uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}
void store16(Bytes& b, size_t offset, uint16_t v) {
    b[offset] = static_cast<uint8_t>(v >> 8);
    b[offset + 1] = static_cast<uint8_t>(v);
}

Bytes ethernet(const Mac& dst, uint16_t ethertype) {
    Bytes b(dst.begin(), dst.end());
    append(b, kSrcMac);
    put16(b, ethertype);
    return b;
}

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, std::span<const uint8_t> payload) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put32(b, 1000);  // seq
    put32(b, 0);     // ack
    b.push_back(5 << 4);
    b.push_back(flags);
    put16(b, 64240);  // window
    put16(b, 0);      // checksum
    put16(b, 0);      // urgent
    append(b, payload);
    return b;
}
constexpr size_t kTcpChecksum = 16;

Bytes udp(uint16_t sport, uint16_t dport, std::span<const uint8_t> payload) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, static_cast<uint16_t>(8 + payload.size()));
    put16(b, 0);
    append(b, payload);
    return b;
}
constexpr size_t kUdpChecksum = 6;

// IPv4 header (no options, DF) + l4 with its checksum filled in (ICMP: no pseudo-header).
Bytes ipv4(uint8_t proto, uint32_t saddr, uint32_t daddr, Bytes l4, size_t l4_checksum) {
    Bytes ip;
    ip.push_back(0x45);
    ip.push_back(0);
    put16(ip, static_cast<uint16_t>(20 + l4.size()));
    put16(ip, 0x1234);  // id
    put16(ip, 0x4000);  // DF
    ip.push_back(64);
    ip.push_back(proto);
    put16(ip, 0);
    put32(ip, saddr);
    put32(ip, daddr);
    store16(ip, 10, fold(sum16(ip)));
    uint32_t pseudo = 0;
    if (proto != kIcmp)
        pseudo = sum16(std::span(ip).subspan(12, 8), proto + static_cast<uint32_t>(l4.size()));
    uint16_t check = fold(sum16(l4, pseudo));
    if (proto == kUdp && check == 0) check = 0xffff;
    store16(l4, l4_checksum, check);
    append(ip, l4);
    return ip;
}

Bytes ipv6(uint8_t next, const std::array<uint8_t, 16>& saddr, const std::array<uint8_t, 16>& daddr, Bytes l4,
           size_t l4_checksum) {
    Bytes ip;
    put32(ip, 0x60000000);
    put16(ip, static_cast<uint16_t>(l4.size()));
    ip.push_back(next);
    ip.push_back(64);
    append(ip, saddr);
    append(ip, daddr);
    uint32_t pseudo = sum16(std::span(ip).subspan(8, 32), static_cast<uint32_t>(l4.size()) + next);
    uint16_t check = fold(sum16(l4, pseudo));
    if (next == kUdp && check == 0) check = 0xffff;
    store16(l4, l4_checksum, check);
    append(ip, l4);
    return ip;
}

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

Bytes frame(const Mac& dst, uint16_t ethertype, std::span<const uint8_t> payload) {
    Bytes b = ethernet(dst, ethertype);
    append(b, payload);
    return b;
}

// The frames this test builds: one per protocol the corpus programs branch on, and the
// Ethernet cases the kernel's eth_type_trans treats differently (broadcast, multicast, our own
// address, VLAN tag, an 802.3 length field instead of an EtherType).
std::vector<Packet> built_packets() {
    const uint32_t a = ip4(10, 0, 0, 1), b = ip4(10, 0, 0, 2);
    const std::array<uint8_t, 16> a6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::array<uint8_t, 16> b6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const Bytes http = {'G', 'E', 'T', ' ', '/', ' ',  'H',  'T',  'T',
                        'P', '/', '1', '.', '0', '\r', '\n', '\r', '\n'};
    const Bytes dns(29, 0x5a);
    std::vector<Packet> out;

    out.push_back({"ipv4-tcp-syn-80",
                   frame(kDstMac, 0x0800, ipv4(kTcp, a, b, tcp(40000, 80, 0x02, {}), kTcpChecksum))});
    out.push_back({"ipv4-tcp-http-80",
                   frame(kDstMac, 0x0800, ipv4(kTcp, a, b, tcp(40000, 80, 0x18, http), kTcpChecksum))});
    out.push_back({"ipv4-tcp-syn-23",
                   frame(kDstMac, 0x0800, ipv4(kTcp, a, b, tcp(40001, 23, 0x02, {}), kTcpChecksum))});
    out.push_back(
        {"ipv4-udp-53", frame(kDstMac, 0x0800, ipv4(kUdp, b, a, udp(5353, 53, dns), kUdpChecksum))});
    // socket_filter.bpf.c reads the byte at ETH_HLEN + 9 with skb_load_bytes; in a test run
    // offset 0 is the IP header, so that byte is the low byte of the UDP/TCP destination port:
    // port 17 (and 0x0111 = 273) makes it count the packet in its map.
    out.push_back(
        {"ipv4-udp-17", frame(kDstMac, 0x0800, ipv4(kUdp, a, b, udp(4000, 17, dns), kUdpChecksum))});
    out.push_back(
        {"ipv4-tcp-273", frame(kDstMac, 0x0800, ipv4(kTcp, a, b, tcp(40003, 273, 0x02, {}), kTcpChecksum))});
    {
        Bytes icmp = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01};
        append(icmp, Bytes(32, 0x61));
        out.push_back({"ipv4-icmp-echo", frame(kDstMac, 0x0800, ipv4(kIcmp, a, b, icmp, 2))});
    }
    out.push_back(
        {"ipv6-udp-53", frame(kDstMac, 0x86dd, ipv6(kUdp, a6, b6, udp(5353, 53, dns), kUdpChecksum))});
    out.push_back({"ipv6-tcp-443",
                   frame(kDstMac, 0x86dd, ipv6(kTcp, a6, b6, tcp(40002, 443, 0x02, {}), kTcpChecksum))});
    {
        Bytes arp;
        put16(arp, 1);       // Ethernet
        put16(arp, 0x0800);  // IPv4
        arp.push_back(6);
        arp.push_back(4);
        put16(arp, 1);  // request
        append(arp, kSrcMac);
        put32(arp, a);
        append(arp, kZeroMac);
        put32(arp, b);
        out.push_back({"arp-request-broadcast", frame(kBroadcast, 0x0806, arp)});
    }
    {
        // 1500 bytes on the wire: 14 Ethernet + 20 IPv4 + 8 UDP + 1458 payload.
        Bytes payload(1458);
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
        out.push_back({"ipv4-udp-1500-bytes",
                       frame(kDstMac, 0x0800, ipv4(kUdp, a, b, udp(4000, 9999, payload), kUdpChecksum))});
    }
    {
        // 802.1Q tag (VLAN 100, priority 3) in front of IPv4 UDP.
        Bytes tagged;
        put16(tagged, (3 << 13) | 100);
        put16(tagged, 0x0800);
        append(tagged, ipv4(kUdp, a, b, udp(4000, 53, dns), kUdpChecksum));
        out.push_back({"vlan-100-ipv4-udp", frame(kDstMac, 0x8100, tagged)});
    }
    out.push_back(
        {"ipv4-udp-multicast-mdns",
         frame(kMdnsMac, 0x0800, ipv4(kUdp, a, ip4(224, 0, 0, 251), udp(5353, 5353, dns), kUdpChecksum))});
    out.push_back({"ipv4-udp-to-own-address",
                   frame(kZeroMac, 0x0800, ipv4(kUdp, a, b, udp(4000, 4001, dns), kUdpChecksum))});
    {
        // IEEE 802.3 with an LLC header (a spanning-tree BPDU): the type field is a length.
        Bytes llc = {0x42, 0x42, 0x03};
        append(llc, Bytes(35, 0));
        Bytes f = ethernet(kStpMac, static_cast<uint16_t>(llc.size()));
        append(f, llc);
        out.push_back({"802.3-llc-stp", f});
    }
    out.push_back({"ethernet-header-only-ipv4", ethernet(kDstMac, 0x0800)});
    out.push_back({"ethernet-header-only-arp", ethernet(kBroadcast, 0x0806)});
    return out;
}

// Every frame of corpus/packets/firewall.pcap the kernel accepts (at least an Ethernet header),
// then the built ones.
std::vector<Packet> test_packets(std::string& error) {
    std::vector<Packet> packets;
    const fs::path pcap = fs::path(BPFVM_SOURCE_DIR) / "corpus" / "packets" / "firewall.pcap";
    auto captured = tools::read_pcap(pcap);
    if (!captured) {
        error = captured.error().to_string();
        return packets;
    }
    for (size_t i = 0; i < captured->size(); ++i) {
        const Bytes& data = (*captured)[i].data;
        if (data.size() < 14) continue;  // BPF_PROG_TEST_RUN refuses it (EINVAL)
        packets.push_back({"firewall.pcap frame " + std::to_string(i + 1), data});
    }
    for (Packet& p : built_packets()) packets.push_back(std::move(p));
    return packets;
}

// ---------------------------------------------------------------------------------------------
// Running in both
// ---------------------------------------------------------------------------------------------

struct KernelRun {
    int error = 0;  // 0 or -errno from BPF_PROG_TEST_RUN
    uint32_t retval = 0;
    Bytes packet;
};

KernelRun kernel_run(int prog_fd, const Bytes& packet, const Bytes* ctx = nullptr) {
    KernelRun run;
    Bytes out(packet.size() + 4096);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = packet.data();
    opts.data_size_in = static_cast<uint32_t>(packet.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<uint32_t>(out.size());
    if (ctx != nullptr) {
        opts.ctx_in = ctx->data();
        opts.ctx_size_in = static_cast<uint32_t>(ctx->size());
    }
    opts.repeat = 1;
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
        run.error = -errno;
        return run;
    }
    run.retval = opts.retval;
    out.resize(opts.data_size_out);
    run.packet = std::move(out);
    return run;
}

// Why two packets differ, or empty when they are equal.
std::string packet_difference(const Bytes& kernel, const Bytes& ours) {
    const size_t common = std::min(kernel.size(), ours.size());
    size_t i = 0;
    while (i < common && kernel[i] == ours[i]) ++i;
    if (i == common && kernel.size() == ours.size()) return {};
    std::string why = "output packet differs: kernel " + std::to_string(kernel.size()) + " bytes, bpfvm " +
                      std::to_string(ours.size()) + " bytes; first differing byte at offset " +
                      std::to_string(i);
    if (i < common) why += " (kernel " + hex(kernel[i]) + ", bpfvm " + hex(ours[i]) + ")";
    const size_t end = std::min(common, i + 16);
    if (i < common) {
        why +=
            "\n  kernel [" + std::to_string(i) + "..]: " + hex_bytes(std::span(kernel).subspan(i, end - i));
        why += "\n  bpfvm  [" + std::to_string(i) + "..]: " + hex_bytes(std::span(ours).subspan(i, end - i));
    }
    return why;
}

// Pins the calling thread to one CPU for its lifetime (the first it may run on), so every
// BPF_PROG_TEST_RUN runs there; restores the old mask afterwards.
class CpuPin {
 public:
    CpuPin() {
        CPU_ZERO(&old_);
        if (sched_getaffinity(0, sizeof old_, &old_) != 0) return;
        for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (!CPU_ISSET(c, &old_)) continue;
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            if (sched_setaffinity(0, sizeof one, &one) == 0) cpu_ = c;
            break;
        }
    }
    ~CpuPin() {
        if (cpu_) sched_setaffinity(0, sizeof old_, &old_);
    }
    CpuPin(const CpuPin&) = delete;
    CpuPin& operator=(const CpuPin&) = delete;
    std::optional<int> cpu() const { return cpu_; }

 private:
    cpu_set_t old_;
    std::optional<int> cpu_;
};

// Maps whose values a correct bpfvm still cannot reproduce, by object stem and map name: their
// keys are compared, their values are not.
//  - map_types.bpf.c recent_sources: the value is bpf_ktime_get_ns() at the packet (the
//    kernel's monotonic clock; bpfvm's clock is simulated).
const std::set<std::pair<std::string, std::string>> kValuesNotCompared = {
    {"map_types", "recent_sources"},
};

struct MapComparison {
    std::string object;  // the corpus object's stem
    std::string program;
    std::optional<int> pinned_cpu;
    int possible_cpus = 0;
};

uint32_t round8(uint32_t n) {
    return (n + 7) & ~7U;
}

bool is_per_cpu(isa::MapType type) {
    return type == isa::MapType::PercpuArray || type == isa::MapType::PercpuHash ||
           type == isa::MapType::LruPercpuHash;
}

// Compares one key's value: the kernel's (all possible CPUs for per-CPU maps) against bpfvm's
// (its single simulated CPU). Returns why they differ, or empty.
std::string value_difference(const MapComparison& c, const loader::MapDefinition& def, const Bytes& kernel,
                             const Bytes& ours) {
    if (!is_per_cpu(def.type)) {
        const Bytes k(kernel.begin(), kernel.begin() + def.value_size);
        const Bytes o(ours.begin(), ours.begin() + std::min<size_t>(ours.size(), def.value_size));
        if (k == o) return {};
        return "kernel " + hex_bytes(k) + ", bpfvm " + hex_bytes(o);
    }
    const uint32_t stride = round8(def.value_size);
    const Bytes o(ours.begin(), ours.begin() + std::min<size_t>(ours.size(), def.value_size));
    if (c.pinned_cpu) {
        // Every run was on this CPU: its value is bpfvm's, the other CPUs' stay zero.
        const size_t at = static_cast<size_t>(*c.pinned_cpu) * stride;
        const Bytes k(kernel.begin() + at, kernel.begin() + at + def.value_size);
        if (k != o)
            return "kernel CPU " + std::to_string(*c.pinned_cpu) + " " + hex_bytes(k) + ", bpfvm " +
                   hex_bytes(o);
        for (int cpu = 0; cpu < c.possible_cpus; ++cpu) {
            if (cpu == *c.pinned_cpu) continue;
            const auto first = kernel.begin() + static_cast<size_t>(cpu) * stride;
            if (std::any_of(first, first + def.value_size, [](uint8_t x) { return x != 0; }))
                return "kernel CPU " + std::to_string(cpu) +
                       " has a value although every run was pinned to CPU " + std::to_string(*c.pinned_cpu);
        }
        return {};
    }
    // Not pinned: the runs may have spread over CPUs, so compare the sum over CPUs of each
    // 64-bit counter (every per-CPU map in the corpus holds u64 counters).
    if (def.value_size % 8 != 0)
        return "cannot compare a per-CPU value of " + std::to_string(def.value_size) + " bytes";
    for (uint32_t word = 0; word < def.value_size; word += 8) {
        uint64_t sum = 0, mine = 0;
        for (int cpu = 0; cpu < c.possible_cpus; ++cpu) {
            uint64_t v = 0;
            std::memcpy(&v, kernel.data() + static_cast<size_t>(cpu) * stride + word, 8);
            sum += v;
        }
        std::memcpy(&mine, o.data() + word, 8);
        if (sum != mine)
            return "u64 at offset " + std::to_string(word) + ": kernel sum over CPUs " + std::to_string(sum) +
                   ", bpfvm " + std::to_string(mine);
    }
    return {};
}

bpf_map* kernel_map(bpf_object* obj, const std::string& name) {
    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
        const std::string kname = bpf_map__name(map);
        if (kname == name || (!name.empty() && name[0] == '.' && normalise_map_name(kname) == name))
            return map;
    }
    return nullptr;
}

// Compares every map of the object; returns a summary of what was compared.
std::string compare_maps(const MapComparison& c, const loader::Object& object, bpf_object* obj,
                         vm::Runtime& runtime) {
    std::string summary;
    for (size_t id = 0; id < object.maps.size(); ++id) {
        const loader::MapDefinition& def = object.maps[id];
        const std::string where = "program " + c.program + ", map " + def.name + " after the run: ";
        bpf_map* kmap = kernel_map(obj, def.name);
        if (kmap == nullptr) {
            ADD_FAILURE() << where << "libbpf has no such map";
            continue;
        }
        const int fd = bpf_map__fd(kmap);
        vm::Map& vmap = runtime.map(static_cast<vm::MapId>(id));
        const uint32_t kernel_value_size =
            is_per_cpu(def.type) ? round8(def.value_size) * static_cast<uint32_t>(c.possible_cpus)
                                 : def.value_size;

        if (auto* queue = dynamic_cast<vm::QueueMap*>(&vmap)) {
            // Queue and stack: the values in pop order (popping the kernel's copy, which is
            // discarded afterwards anyway).
            std::vector<Bytes> kernel_values;
            Bytes value(def.value_size);
            while (kernel_values.size() <= def.max_entries &&
                   bpf_map_lookup_and_delete_elem(fd, nullptr, value.data()) == 0)
                kernel_values.push_back(value);
            const std::vector<Bytes> ours = queue->values();
            EXPECT_EQ(kernel_values.size(), ours.size()) << where << "number of queued values differs";
            for (size_t i = 0; i < std::min(kernel_values.size(), ours.size()); ++i)
                EXPECT_EQ(hex_bytes(kernel_values[i]), hex_bytes(ours[i])) << where << "queued value " << i;
            summary += " " + def.name + "(" + std::to_string(kernel_values.size()) + " queued)";
            continue;
        }
        auto* elements = dynamic_cast<vm::ElementMap*>(&vmap);
        if (elements == nullptr) {
            // prog_array (the kernel holds program ids, bpfvm its own program indices; both were
            // filled from the same `.values` initializer), ring buffers, perf event arrays.
            summary += " " + def.name + "(not compared)";
            continue;
        }
        // Keys: the kernel's (BPF_MAP_GET_NEXT_KEY) and bpfvm's, then each key's value in both.
        std::set<Bytes> keys;
        {
            Bytes key(def.key_size), next(def.key_size);
            const void* previous = nullptr;
            size_t guard = 0;
            while (bpf_map_get_next_key(fd, previous, next.data()) == 0 && guard++ <= def.max_entries) {
                keys.insert(next);
                key = next;
                previous = key.data();
            }
        }
        for (const Bytes& k : elements->keys()) keys.insert(k);
        const bool compare_values = !kValuesNotCompared.count({c.object, def.name});
        for (const Bytes& key : keys) {
            Bytes kernel_value(kernel_value_size);
            const bool in_kernel = bpf_map_lookup_elem(fd, key.data(), kernel_value.data()) == 0;
            const std::optional<Bytes> ours = elements->read(key);
            if (in_kernel != ours.has_value()) {
                ADD_FAILURE() << where << "key " << hex_bytes(key) << (in_kernel ? " is" : " is not")
                              << " in the kernel's map but" << (ours ? " is" : " is not") << " in bpfvm's";
                continue;
            }
            if (!in_kernel || !compare_values) continue;
            const std::string why = value_difference(c, def, kernel_value, *ours);
            EXPECT_TRUE(why.empty()) << where << "key " << hex_bytes(key) << ": " << why;
        }
        size_t present = 0;
        for (const Bytes& key : keys) present += elements->read(key).has_value() ? 1 : 0;
        summary += " " + def.name + "(" + std::to_string(present) + " keys" +
                   (compare_values ? "" : ", keys only") + ")";
    }
    return summary;
}

struct CorpusProgram {
    CorpusEntry entry;
    std::string function;
    isa::ProgramType type;
    bool whole_object;  // tail-call objects: loaded whole so libbpf fills the prog_array
};

// The runnable corpus packet programs: xdp, sched_cls and socket_filter programs that the
// loader finds in objects marked `loadable yes` and that the kernel verifier accepts (the
// `verdict ... reject` programs of reject_*.bpf.c never run in the kernel).
std::vector<CorpusProgram> packet_programs(std::string& error) {
    std::vector<CorpusProgram> out;
    for (const CorpusEntry& entry : corpus_entries()) {
        Expectations ex;
        if (std::string e = parse_expectations(entry.source, ex); !e.empty()) {
            error += e + "\n";
            continue;
        }
        if (!*ex.loadable) continue;
        auto object = loader::load_object(entry.object);
        if (!object) {
            error += entry.object.string() + ": " + object.error().to_string() + "\n";
            continue;
        }
        const bool prog_array = std::any_of(object->maps.begin(), object->maps.end(),
                                            [](const auto& m) { return m.type == isa::MapType::ProgArray; });
        for (const loader::Program& p : object->programs) {
            if (p.type != isa::ProgramType::Xdp && p.type != isa::ProgramType::SchedCls &&
                p.type != isa::ProgramType::SocketFilter)
                continue;
            auto verdict = ex.accept.find(p.function);
            if (verdict == ex.accept.end() || !verdict->second) continue;
            out.push_back({entry, p.function, p.type, prog_array});
        }
    }
    return out;
}

std::string stem(const fs::path& object) {
    std::string name = object.filename().string();
    return name.substr(0, name.find('.'));
}

// Whether BPF_PROG_TEST_RUN refuses this packet for an skb program on purpose: since
// "bpf: reject short IPv4/IPv6 inputs in bpf_prog_test_run_skb" (upstream 12bec2bd4b76, in
// stable kernels too) an IPv4 or IPv6 EtherType with less than a full IP header after the
// Ethernet header is EINVAL. Older kernels run such packets; bpfvm runs them too.
bool kernel_refuses_short_ip(isa::ProgramType type, const Bytes& packet) {
    if (type == isa::ProgramType::Xdp || packet.size() < 14) return false;
    const uint16_t ethertype = static_cast<uint16_t>(packet[12] << 8 | packet[13]);
    const size_t l3 = packet.size() - 14;
    return (ethertype == 0x0800 && l3 < 20) || (ethertype == 0x86dd && l3 < 40);
}

// Runs one program on every packet in the kernel and in bpfvm, then compares the maps.
void compare_program(const CorpusProgram& program, const std::vector<Packet>& packets, const CpuPin& pin,
                     std::string& log) {
    const std::string who = stem(program.entry.object) + ":" + program.function;
    SCOPED_TRACE(who);
    auto object = loader::load_object(program.entry.object);
    ASSERT_TRUE(object) << object.error().to_string();

    // A fresh kernel object: its maps start empty (global data with its initial bytes).
    libbpf_messages.clear();
    ObjectPtr obj = open_object(program.entry.object);
    ASSERT_TRUE(obj) << "libbpf cannot open " << program.entry.object << ":\n" << libbpf_messages;
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj.get()) {
        bpf_program__set_autoload(prog, program.whole_object || program.function == bpf_program__name(prog));
    }
    ASSERT_EQ(bpf_object__load(obj.get()), 0) << "the kernel did not load " << who << ":\n"
                                              << libbpf_messages;
    bpf_program* kprog = bpf_object__find_program_by_name(obj.get(), program.function.c_str());
    ASSERT_NE(kprog, nullptr);
    const int prog_fd = bpf_program__fd(kprog);

    // A fresh bpfvm runtime from the same object.
    auto runtime = tools::make_runtime(*object, vm::RuntimeOptions{});
    ASSERT_TRUE(runtime) << runtime.error().to_string();
    auto id = (*runtime)->find_program(program.function);
    ASSERT_TRUE(id.has_value());
    vm::Interpreter interpreter;

    size_t mismatches = 0, refused = 0;
    for (size_t i = 0; i < packets.size(); ++i) {
        const Packet& packet = packets[i];
        const std::string at =
            "program " + who + ", packet " + std::to_string(i) + " (" + packet.name + "): ";
        const KernelRun k = kernel_run(prog_fd, packet.bytes);
        if (k.error == -EINVAL && kernel_refuses_short_ip(program.type, packet.bytes)) {
            // Not run in bpfvm either, so both keep the same history.
            ++refused;
            continue;
        }
        if (k.error != 0) {
            ADD_FAILURE() << at << "BPF_PROG_TEST_RUN failed: " << std::strerror(-k.error);
            continue;
        }
        vm::RunRequest request;
        request.packet = packet.bytes;
        auto outcome = (*runtime)->run(*id, request, interpreter);
        if (!outcome) {
            ADD_FAILURE() << at << "bpfvm could not run it: " << outcome.error().to_string();
            continue;
        }
        if (outcome->error) {
            ADD_FAILURE() << at << "bpfvm stopped with an error: " << outcome->error->to_string();
            ++mismatches;
            continue;
        }
        // The kernel reports r0 as a u32 (test.retval); that is all of it there is to compare.
        const bool r0_equal = k.retval == static_cast<uint32_t>(outcome->r0);
        EXPECT_TRUE(r0_equal) << at << "r0 kernel " << k.retval << " (" << hex(k.retval) << ") vs bpfvm "
                              << outcome->r0 << " (" << hex(outcome->r0) << ")";
        const std::string why = packet_difference(k.packet, outcome->packet);
        EXPECT_TRUE(why.empty()) << at << why;
        if (!r0_equal || !why.empty()) ++mismatches;
    }
    log += "  " + who + " (" + std::string(isa::program_type_name(program.type)) +
           "): " + std::to_string(packets.size() - refused) + " packets compared (" +
           std::to_string(refused) + " short IP frames the kernel refuses), " + std::to_string(mismatches) +
           " differing\n";

    MapComparison c{stem(program.entry.object), who, pin.cpu(), libbpf_num_possible_cpus()};
    log += "    maps:" + compare_maps(c, *object, obj.get(), **runtime) + "\n";
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

TEST(KernelRun, CorpusPacketProgramsMatchKernel) {
    if (std::string why = probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    std::string error;
    const std::vector<Packet> packets = test_packets(error);
    ASSERT_EQ(error, "");
    const std::vector<CorpusProgram> programs = packet_programs(error);
    ASSERT_EQ(error, "");

    // The programs the brief names must be among them (a loader or expectation change that
    // loses one should not silently shrink the comparison).
    std::set<std::string> names;
    for (const auto& p : programs) names.insert(p.function);
    for (const char* must : {"xdp_firewall", "xdp_count", "xdp_route", "xdp_globals", "xdp_checksum_const",
                             "xdp_dispatch", "xdp_handle_ipv4", "xdp_handle_ipv6", "xdp_redirect_map",
                             "xdp_redirect_ifindex", "tc_classify", "socket_filter"})
        EXPECT_TRUE(names.count(must)) << must << " is not among the compared programs";

    const CpuPin pin;
    std::string log = "compared on " + std::to_string(packets.size()) + " packets" +
                      (pin.cpu() ? ", pinned to CPU " + std::to_string(*pin.cpu()) : ", not pinned") + ":\n";
    for (const CorpusProgram& program : programs) compare_program(program, packets, pin, log);
    std::printf("%s", log.c_str());
}

// --- Context fields, read by hand-assembled programs ------------------------------------------

constexpr bpf_insn ldx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
    return {static_cast<uint8_t>(BPF_LDX | BPF_MEM | size), dst, src, off, 0};
}
constexpr bpf_insn mov_imm(uint8_t dst, int32_t imm) {
    return {BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm};
}
constexpr bpf_insn mov_reg(uint8_t dst, uint8_t src) {
    return {BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0};
}
constexpr bpf_insn add_imm(uint8_t dst, int32_t imm) {
    return {BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm};
}
constexpr bpf_insn sub_reg(uint8_t dst, uint8_t src) {
    return {BPF_ALU64 | BPF_SUB | BPF_X, dst, src, 0, 0};
}
constexpr bpf_insn jeq_imm(uint8_t dst, int32_t imm, int16_t off) {
    return {BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm};
}
constexpr bpf_insn st_w(uint8_t dst, int16_t off, int32_t imm) {
    return {BPF_ST | BPF_MEM | BPF_W, dst, 0, off, imm};
}
constexpr bpf_insn call(int32_t helper) {
    return {BPF_JMP | BPF_CALL, 0, 0, 0, helper};
}
constexpr bpf_insn ld_abs_w(int32_t offset) {
    return {BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, offset};
}
constexpr bpf_insn exit_insn() {
    return {BPF_JMP | BPF_EXIT, 0, 0, 0, 0};
}

struct Probe {
    std::string name;
    std::vector<bpf_insn> code;
    // A documented difference (README, "Running objects"): bpfvm's r0, which the kernel's must
    // not equal. The test fails if bpfvm changes or if the kernel starts to agree.
    std::optional<uint32_t> bpfvm_differs_with = std::nullopt;
};

std::vector<Probe> field_probes(isa::ProgramType type) {
    std::vector<Probe> probes;
    auto field32 = [&](const std::string& name, int16_t offset) {
        probes.push_back({name, {ldx(BPF_W, 0, 1, offset), exit_insn()}});
    };
    // r0 = *(u32 *)(ctx + end) - *(u32 *)(ctx + start): a packet pointer difference.
    auto distance = [&](const std::string& name, int16_t start, int16_t end) {
        probes.push_back(
            {name, {ldx(BPF_W, 2, 1, start), ldx(BPF_W, 0, 1, end), sub_reg(0, 2), exit_insn()}});
    };
    if (type == isa::ProgramType::Xdp) {
        distance("data_end - data", 0, 4);
        distance("data - data_meta", 8, 0);
        field32("ingress_ifindex", 12);
        field32("rx_queue_index", 16);
        return probes;
    }
    const bool tc = type == isa::ProgramType::SchedCls;
    field32("len", 0);
    field32("pkt_type", 4);
    field32("mark", 8);
    field32("queue_mapping", 12);
    field32("protocol", 16);
    field32("vlan_present", 20);
    field32("vlan_tci", 24);
    field32("vlan_proto", 28);
    field32("priority", 32);
    field32("ingress_ifindex", 36);
    field32("ifindex", 40);
    field32("tc_index", 44);
    field32("cb[0]", 48);
    field32("cb[4]", 64);
    field32("hash", 68);
    field32("napi_id", 84);
    field32("gso_segs", 164);
    field32("gso_size", 176);
    if (tc) {
        field32("tc_classid", 72);
        distance("data_end - data", 76, 80);
        distance("data - data_meta", 140, 76);
        field32("wire_len", 160);
        probes.push_back({"tstamp (low 32 bits)", {ldx(BPF_DW, 0, 1, 152), exit_insn()}});
        probes.push_back({"hwtstamp (low 32 bits)", {ldx(BPF_DW, 0, 1, 184), exit_insn()}});
    }
    // sk: the kernel's test runs attach a dummy socket to the skb; bpfvm has no sockets, so
    // skb->sk is NULL there.
    probes.push_back({"sk != NULL",
                      {ldx(BPF_DW, 2, 1, 168), mov_imm(0, 0), jeq_imm(2, 0, 1), mov_imm(0, 1), exit_insn()},
                      0});
    // Where offset 0 of the packet is for the legacy loads and for skb_load_bytes.
    probes.push_back({"ld_abs word at offset 0", {mov_reg(6, 1), ld_abs_w(0), exit_insn()}});
    probes.push_back({"skb_load_bytes(0, 4) as a little-endian u32",
                      {st_w(10, -8, 0), mov_imm(2, 0), mov_reg(3, 10), add_imm(3, -8), mov_imm(4, 4),
                       call(BPF_FUNC_skb_load_bytes), jeq_imm(0, 0, 2), mov_imm(0, -1), exit_insn(),
                       ldx(BPF_W, 0, 10, -8), exit_insn()}});
    return probes;
}

bpf_prog_type kernel_type(isa::ProgramType type) {
    switch (type) {
        case isa::ProgramType::Xdp: return BPF_PROG_TYPE_XDP;
        case isa::ProgramType::SchedCls: return BPF_PROG_TYPE_SCHED_CLS;
        default: return BPF_PROG_TYPE_SOCKET_FILTER;
    }
}

TEST(KernelRun, ContextFieldsMatchKernel) {
    if (std::string why = probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    std::vector<Packet> packets;
    for (Packet& p : built_packets()) {
        // One frame of each kind of destination and EtherType.
        if (p.name == "ipv4-tcp-syn-80" || p.name == "arp-request-broadcast" ||
            p.name == "vlan-100-ipv4-udp" || p.name == "ipv4-udp-multicast-mdns" ||
            p.name == "ipv4-udp-to-own-address" || p.name == "802.3-llc-stp")
            packets.push_back(std::move(p));
    }
    ASSERT_EQ(packets.size(), 6U);
    // Runs without a context (as the corpus comparison does) and with an all-zero context of
    // the full struct size, which the kernel treats differently (for an __sk_buff it then sets
    // wire_len to the length; without one wire_len stays 0).
    const std::map<isa::ProgramType, size_t> context_sizes = {
        {isa::ProgramType::Xdp, sizeof(xdp_md)},
        {isa::ProgramType::SchedCls, sizeof(__sk_buff)},
        {isa::ProgramType::SocketFilter, sizeof(__sk_buff)},
    };
    std::string table;
    std::map<isa::ProgramType, size_t> packet_differences;
    for (const auto& [type, ctx_size] : context_sizes) {
        const std::string type_name(isa::program_type_name(type));
        for (const Probe& probe : field_probes(type)) {
            const std::string who = type_name + " probe '" + probe.name + "'";
            std::vector<char> log(1 << 16);
            LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .log_level = 1,
                        .log_size = static_cast<uint32_t>(log.size()), .log_buf = log.data());
            const int fd = bpf_prog_load(kernel_type(type), "bpfvm_probe", "GPL", probe.code.data(),
                                         probe.code.size(), &load_opts);
            if (fd < 0) {
                ADD_FAILURE() << who << ": the kernel rejected it: " << std::strerror(errno) << "\n"
                              << log.data();
                continue;
            }
            const std::span<const uint8_t> raw(reinterpret_cast<const uint8_t*>(probe.code.data()),
                                               probe.code.size() * sizeof(bpf_insn));
            auto code = isa::decode_program(raw);
            ASSERT_TRUE(code) << who << ": " << code.error().to_string();
            vm::ProgramSpec spec;
            spec.name = "probe";
            spec.type = type;
            spec.code = *code;
            auto runtime = vm::Runtime::create({}, {spec}, vm::RuntimeOptions{});
            ASSERT_TRUE(runtime) << who << ": " << runtime.error().to_string();
            vm::Interpreter interpreter;
            for (const bool with_context : {false, true}) {
                for (size_t i = 0; i < packets.size(); ++i) {
                    // An all-zero context, except that an xdp_md's data_end is an input to the
                    // kernel (the length of the linear part): it must be the packet's length.
                    Bytes zero_context(ctx_size, 0);
                    if (type == isa::ProgramType::Xdp) {
                        const uint32_t end = static_cast<uint32_t>(packets[i].bytes.size());
                        std::memcpy(zero_context.data() + offsetof(xdp_md, data_end), &end, sizeof end);
                    }
                    const std::string at = who + (with_context ? ", zero ctx_in" : ", no ctx_in") +
                                           ", packet " + std::to_string(i) + " (" + packets[i].name + "): ";
                    const KernelRun k =
                        kernel_run(fd, packets[i].bytes, with_context ? &zero_context : nullptr);
                    vm::RunRequest request;
                    request.packet = packets[i].bytes;
                    if (with_context) request.context = zero_context;
                    auto outcome = (*runtime)->run(0, request, interpreter);
                    if (k.error != 0) {
                        ADD_FAILURE() << at << "BPF_PROG_TEST_RUN failed: " << std::strerror(-k.error);
                        continue;
                    }
                    if (!outcome || outcome->error) {
                        ADD_FAILURE()
                            << at << "bpfvm: "
                            << (outcome ? outcome->error->to_string() : outcome.error().to_string());
                        continue;
                    }
                    const uint32_t ours = static_cast<uint32_t>(outcome->r0);
                    if (probe.bpfvm_differs_with) {
                        EXPECT_EQ(ours, *probe.bpfvm_differs_with) << at << "bpfvm changed: " << hex(ours);
                        EXPECT_NE(k.retval, ours) << at << "the kernel now agrees with bpfvm";
                        continue;
                    }
                    EXPECT_EQ(k.retval, ours)
                        << at << "r0 kernel " << hex(k.retval) << " vs bpfvm " << hex(ours);
                    if (k.retval != ours)
                        table += "  " + at + "kernel " + hex(k.retval) + ", bpfvm " + hex(ours) + "\n";
                    // The output packet does not depend on the probe: report its first
                    // difference per program type, count the rest.
                    const std::string why = packet_difference(k.packet, outcome->packet);
                    if (!why.empty() && packet_differences[type]++ == 0) ADD_FAILURE() << at << why;
                }
            }
            close(fd);
        }
    }
    for (const auto& [type, count] : packet_differences)
        ADD_FAILURE() << isa::program_type_name(type)
                      << " probes: the output packet differed from the kernel's in " << count
                      << " runs (the first is reported above)";
    if (!table.empty()) std::printf("context fields that differ:\n%s", table.c_str());
}

}  // namespace
}  // namespace bpfvm::corpus_test
