#include "pcap_io.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace bpfvm::tools {
namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
// libpcap refuses to read Ethernet records longer than this (its max_snaplen_for_dlt), so a
// written file never advertises less.
constexpr uint32_t kMinSnapLength = 262144;

struct PcapCloser {
    void operator()(pcap_t* handle) const { pcap_close(handle); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

Error capture_error(ErrorKind kind, const std::filesystem::path& path, std::string message) {
    Location where;
    where.file = path.string();
    return make_error(kind, std::move(message), std::move(where));
}

std::string link_type_name(int link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    std::string text = name ? std::string(name) : "unknown";
    const char* description = pcap_datalink_val_to_description(link_type);
    if (description) text += std::string(" (") + description + ")";
    return text + ", link type " + std::to_string(link_type);
}

}  // namespace

Result<std::vector<CapturedPacket>> read_pcap(const std::filesystem::path& path) {
    char error_buffer[PCAP_ERRBUF_SIZE] = {};
    // Nanosecond precision: libpcap scales microsecond files up, so nothing is lost either way.
    PcapHandle handle(
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, error_buffer));
    if (!handle) {
        return capture_error(ErrorKind::Io, path,
                             std::string("cannot read the packet capture: ") + error_buffer);
    }
    int link_type = pcap_datalink(handle.get());
    if (link_type != DLT_EN10MB) {
        return capture_error(ErrorKind::Unsupported, path,
                             "the capture's link type is " + link_type_name(link_type) +
                                 "; only Ethernet (EN10MB) captures can be run");
    }
    std::vector<CapturedPacket> packets;
    for (;;) {
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        int status = pcap_next_ex(handle.get(), &header, &data);
        if (status == PCAP_ERROR_BREAK) break;  // end of file
        if (status != 1) {
            return capture_error(ErrorKind::InvalidInput, path,
                                 "packet " + std::to_string(packets.size() + 1) +
                                     ": malformed capture: " + pcap_geterr(handle.get()));
        }
        CapturedPacket packet;
        packet.data.assign(data, data + header->caplen);
        // The pcap format's seconds are unsigned 32-bit, but libpcap sign-extends them into
        // tv_sec: times past 2038 come back negative.
        uint64_t seconds = header->ts.tv_sec < 0 ? static_cast<uint32_t>(header->ts.tv_sec)
                                                 : static_cast<uint64_t>(header->ts.tv_sec);
        // With nanosecond precision requested, tv_usec holds nanoseconds.
        packet.timestamp_ns = seconds * kNanosPerSecond + static_cast<uint64_t>(header->ts.tv_usec);
        packet.original_length = header->len;
        packets.push_back(std::move(packet));
    }
    return packets;
}

Status write_pcap(const std::filesystem::path& path, std::span<const CapturedPacket> packets) {
    bool needs_nanos = false;
    uint32_t snap_length = kMinSnapLength;
    for (const CapturedPacket& packet : packets) {
        if (packet.timestamp_ns % 1000 != 0) needs_nanos = true;
        if (packet.data.size() > UINT32_MAX) {
            return capture_error(ErrorKind::InvalidInput, path, "a packet is longer than 4 GiB");
        }
        snap_length = std::max(snap_length, static_cast<uint32_t>(packet.data.size()));
        if (packet.timestamp_ns / kNanosPerSecond > UINT32_MAX) {
            return capture_error(ErrorKind::InvalidInput, path,
                                 "a timestamp is past 2106, beyond the 32-bit seconds of a pcap record");
        }
    }
    // Microsecond files are what every tool reads; nanosecond ones only when precision needs it.
    int precision = needs_nanos ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
    PcapHandle handle(pcap_open_dead_with_tstamp_precision(DLT_EN10MB, static_cast<int>(snap_length),
                                                           static_cast<u_int>(precision)));
    if (!handle) return capture_error(ErrorKind::Io, path, "libpcap could not create a capture handle");
    pcap_dumper_t* dumper = pcap_dump_open(handle.get(), path.c_str());
    if (!dumper) {
        return capture_error(ErrorKind::Io, path,
                             std::string("cannot write the packet capture: ") + pcap_geterr(handle.get()));
    }
    for (const CapturedPacket& packet : packets) {
        pcap_pkthdr header = {};
        header.ts.tv_sec = static_cast<time_t>(packet.timestamp_ns / kNanosPerSecond);
        uint64_t fraction = packet.timestamp_ns % kNanosPerSecond;
        header.ts.tv_usec = static_cast<suseconds_t>(needs_nanos ? fraction : fraction / 1000);
        header.caplen = static_cast<uint32_t>(packet.data.size());
        header.len = std::max(packet.original_length, header.caplen);
        pcap_dump(reinterpret_cast<u_char*>(dumper), &header, packet.data.data());
    }
    // pcap_dump reports nothing: a full disk shows up on the flush or the stream's error flag.
    bool failed = pcap_dump_flush(dumper) != 0 || std::ferror(pcap_dump_file(dumper)) != 0;
    pcap_dump_close(dumper);
    if (failed) return capture_error(ErrorKind::Io, path, "writing the packet capture failed");
    return Ok{};
}

}  // namespace bpfvm::tools
