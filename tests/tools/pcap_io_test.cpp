// Reading and writing packet captures: round trips, empty and broken files, other link types,
// pcapng input and the bundled corpus capture.
#include "pcap_io.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

class PcapIoTest : public ::testing::Test {
 protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ =
            fs::temp_directory_path() / ("bpfvm_pcap_test_" + std::to_string(getpid()) + "_" + info->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path file(const std::string& name) const { return dir_ / name; }

    static void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    static std::vector<uint8_t> read_bytes(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    fs::path dir_;
};

CapturedPacket packet(std::vector<uint8_t> data, uint64_t timestamp_ns, uint32_t original_length = 0) {
    uint32_t length = original_length ? original_length : static_cast<uint32_t>(data.size());
    return CapturedPacket{std::move(data), timestamp_ns, length};
}

void expect_same(const std::vector<CapturedPacket>& actual, const std::vector<CapturedPacket>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        EXPECT_EQ(actual[i].data, expected[i].data) << "packet " << i;
        EXPECT_EQ(actual[i].timestamp_ns, expected[i].timestamp_ns) << "packet " << i;
        EXPECT_EQ(actual[i].original_length, expected[i].original_length) << "packet " << i;
    }
}

TEST_F(PcapIoTest, RoundTripKeepsBytesTimestampsAndLengths) {
    std::vector<uint8_t> frame(60);
    for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 7);
    std::vector<CapturedPacket> packets = {
        packet(frame, 1'700'000'000'000'000'000),
        packet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06},
               1'700'000'000'123'456'000),
        // Cut by the capture's snap length: 20 bytes kept of 1514.
        packet(std::vector<uint8_t>(frame.begin(), frame.begin() + 20), 1'700'000'001'000'001'000, 1514),
        packet(std::vector<uint8_t>(9000, 0xab), 1'700'000'002'999'999'000),  // a jumbo frame
    };
    ASSERT_TRUE(write_pcap(file("out.pcap"), packets).ok());
    // Microsecond timestamps give a classic microsecond file, the format every tool reads.
    std::vector<uint8_t> bytes = read_bytes(file("out.pcap"));
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ((std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4)),
              (std::vector<uint8_t>{0xd4, 0xc3, 0xb2, 0xa1}));

    auto read = read_pcap(file("out.pcap"));
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    expect_same(*read, packets);
}

TEST_F(PcapIoTest, NanosecondTimestampsSurvive) {
    std::vector<CapturedPacket> packets = {
        packet({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, 1'234'567'891),
        packet(std::vector<uint8_t>(64, 1), 4'000'000'000'000'000'001)};
    ASSERT_TRUE(write_pcap(file("nano.pcap"), packets).ok());
    auto read = read_pcap(file("nano.pcap"));
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    expect_same(*read, packets);
}

TEST_F(PcapIoTest, CaptureWithoutPacketsReadsAsEmpty) {
    ASSERT_TRUE(write_pcap(file("empty.pcap"), {}).ok());
    auto read = read_pcap(file("empty.pcap"));
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    EXPECT_TRUE(read->empty());
}

TEST_F(PcapIoTest, ZeroByteFileIsAnError) {
    write_bytes(file("zero.pcap"), {});
    auto read = read_pcap(file("zero.pcap"));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().where.file, file("zero.pcap").string());
    EXPECT_NE(read.error().to_string().find("zero.pcap"), std::string::npos);
}

TEST_F(PcapIoTest, MissingFileIsAnIoError) {
    auto read = read_pcap(file("missing.pcap"));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().kind, ErrorKind::Io);
    EXPECT_NE(read.error().message.find("No such file"), std::string::npos) << read.error().message;
}

TEST_F(PcapIoTest, GarbageIsAnErrorNotACrash) {
    std::vector<uint8_t> garbage(256);
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37 + 11);
    write_bytes(file("garbage.pcap"), garbage);
    auto read = read_pcap(file("garbage.pcap"));
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.error().to_string().find("garbage.pcap"), std::string::npos);
}

TEST_F(PcapIoTest, RecordCutShortIsAnErrorWithLibpcapsMessage) {
    std::vector<CapturedPacket> packets = {packet(std::vector<uint8_t>(60, 1), 1'000'000'000),
                                           packet(std::vector<uint8_t>(60, 2), 2'000'000'000)};
    ASSERT_TRUE(write_pcap(file("cut.pcap"), packets).ok());
    std::vector<uint8_t> bytes = read_bytes(file("cut.pcap"));
    bytes.resize(bytes.size() - 10);  // the second record loses its last 10 bytes
    write_bytes(file("cut.pcap"), bytes);
    auto read = read_pcap(file("cut.pcap"));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(read.error().message.find("packet 2"), std::string::npos) << read.error().message;
    EXPECT_NE(read.error().message.find("truncated"), std::string::npos) << read.error().message;

    // Only the record header of the second packet, cut inside it.
    bytes.resize(24 + 16 + 60 + 7);
    write_bytes(file("cut.pcap"), bytes);
    EXPECT_FALSE(read_pcap(file("cut.pcap")).ok());
}

// Written by hand (classic pcap header, LINKTYPE_RAW = 101: bare IPv4), so the test needs
// no libpcap of its own.
TEST_F(PcapIoTest, OtherLinkTypesAreRefusedByName) {
    std::vector<uint8_t> out;
    auto u32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    u32(0xa1b2c3d4);
    u32(2 | 4u << 16);  // version 2.4
    u32(0);
    u32(0);
    u32(65535);
    u32(101);
    std::vector<uint8_t> ip(20, 0);
    ip[0] = 0x45;
    u32(1);
    u32(0);
    u32(20);
    u32(20);
    out.insert(out.end(), ip.begin(), ip.end());
    write_bytes(file("raw.pcap"), out);

    auto read = read_pcap(file("raw.pcap"));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().kind, ErrorKind::Unsupported);
    EXPECT_NE(read.error().message.find("RAW"), std::string::npos) << read.error().message;
    EXPECT_NE(read.error().message.find("Ethernet"), std::string::npos) << read.error().message;
}

// A minimal pcapng file written by hand (libpcap cannot write pcapng): section header,
// one Ethernet interface with the default microsecond resolution, one enhanced packet.
TEST_F(PcapIoTest, ReadsPcapng) {
    std::vector<uint8_t> out;
    auto u32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    auto u16 = [&](uint16_t v) {
        out.push_back(static_cast<uint8_t>(v));
        out.push_back(static_cast<uint8_t>(v >> 8));
    };
    // Section header block: type, length, byte-order magic, version 1.0, section length -1.
    u32(0x0A0D0D0A);
    u32(28);
    u32(0x1A2B3C4D);
    u16(1);
    u16(0);
    u32(0xffffffff);
    u32(0xffffffff);
    u32(28);
    // Interface description block: link type, reserved, snap length.
    u32(1);
    u32(20);
    u16(1);  // LINKTYPE_ETHERNET
    u16(0);
    u32(65535);
    u32(20);
    // Enhanced packet block with a 14-byte frame padded to 16, original length 100.
    std::vector<uint8_t> frame = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00};
    const uint64_t micros = 1'700'000'000'654'321;
    u32(6);
    u32(32 + 16);
    u32(0);  // interface 0
    u32(static_cast<uint32_t>(micros >> 32));
    u32(static_cast<uint32_t>(micros));
    u32(static_cast<uint32_t>(frame.size()));
    u32(100);
    out.insert(out.end(), frame.begin(), frame.end());
    out.push_back(0);
    out.push_back(0);
    u32(32 + 16);
    write_bytes(file("one.pcapng"), out);

    auto read = read_pcap(file("one.pcapng"));
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    ASSERT_EQ(read->size(), 1u);
    EXPECT_EQ((*read)[0].data, frame);
    EXPECT_EQ((*read)[0].timestamp_ns, micros * 1000);
    EXPECT_EQ((*read)[0].original_length, 100u);
}

TEST_F(PcapIoTest, TimestampsPastPcapsRangeAreAnError) {
    std::vector<CapturedPacket> packets = {packet(std::vector<uint8_t>(60, 1), 5'000'000'000'000'000'000)};
    Status status = write_pcap(file("late.pcap"), packets);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("2106"), std::string::npos) << status.error().message;
}

TEST_F(PcapIoTest, UnwritablePathIsAnError) {
    std::vector<CapturedPacket> packets = {packet(std::vector<uint8_t>(60, 1), 0)};
    Status status = write_pcap(file("no/such/dir/out.pcap"), packets);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, ErrorKind::Io);
}

// The capture the README demo runs through corpus/c/xdp_firewall.bpf.c
// (corpus/packets/README.md says what each packet is).
TEST_F(PcapIoTest, BundledFirewallCaptureReads) {
    auto read = read_pcap(fs::path(BPFVM_SOURCE_DIR) / "corpus/packets/firewall.pcap");
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    ASSERT_EQ(read->size(), 13u);
    uint64_t previous = 0;
    for (const CapturedPacket& captured : *read) {
        EXPECT_GT(captured.timestamp_ns, previous);
        previous = captured.timestamp_ns;
        EXPECT_EQ(captured.original_length, captured.data.size());
    }
    EXPECT_LT((*read)[7].data.size(), 14u);  // the runt frame
}

}  // namespace
}  // namespace bpfvm::tools
