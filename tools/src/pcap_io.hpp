// Packet captures for `bpfvm run --pcap in.pcap [--pcap-out out.pcap]`: every packet of a
// capture is run through an XDP, tc or socket program, and the packets as the program left
// them are written back. libpcap does the file formats (pcap and pcapng in, pcap out).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::tools {

struct CapturedPacket {
    std::vector<uint8_t> data;     // the captured bytes (fewer than original_length if truncated)
    uint64_t timestamp_ns = 0;     // since the Unix epoch
    uint32_t original_length = 0;  // length on the wire
};

// Reads every packet of a pcap or pcapng file. Only Ethernet (DLT_EN10MB) captures are
// accepted: another link type is an error naming it. Packets truncated by the capture's
// snap length are returned as captured, with their original length. An unreadable or
// malformed file (including a record cut short at the end) is an error with libpcap's
// message and the path.
Result<std::vector<CapturedPacket>> read_pcap(const std::filesystem::path& path);

// Writes the packets as an Ethernet pcap file. Timestamps are kept: the file uses microsecond
// precision unless some timestamp has a sub-microsecond part, then nanosecond precision.
// Each record's length on the wire is max(original_length, data.size()): a caller that
// resized a packet should set original_length to its new size.
Status write_pcap(const std::filesystem::path& path, std::span<const CapturedPacket> packets);

}  // namespace bpfvm::tools
