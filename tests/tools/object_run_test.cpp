// `bpfvm run prog.o` beyond the corpus expectations: captures in and out, map files that are
// wrong, and dumps that can be fed back as map files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bpfvm/tools/commands.hpp"
#include "pcap_io.hpp"
#include "tools/tools_test_support.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

std::string capture() {
    return (fs::path(BPFVM_SOURCE_DIR) / "corpus" / "packets" / "firewall.pcap").string();
}

using test::corpus;
using test::Output;

Output run(const RunOptions& options) {
    std::ostringstream out, err;
    const int code = run_command(options, out, err);
    return {code, out.str(), err.str()};
}

class ObjectRunTest : public test::ScratchDirTest {};

TEST_F(ObjectRunTest, CaptureOutHoldsThePacketsAsTheProgramLeftThem) {
    // xdp_redirect_ifindex swaps the MAC addresses of every frame long enough to have them.
    RunOptions options;
    options.file = corpus("xdp_redirect.bpf.o");
    options.function = "xdp_redirect_ifindex";
    options.pcap_in = capture();
    options.pcap_out = (dir_ / "out.pcap").string();
    Output result = run(options);
    ASSERT_EQ(result.code, 0) << result.err;
    auto in = read_pcap(options.pcap_in);
    auto out = read_pcap(options.pcap_out);
    ASSERT_TRUE(in && out);
    ASSERT_EQ(in->size(), out->size());
    size_t swapped = 0;
    for (size_t i = 0; i < in->size(); ++i) {
        const auto& before = (*in)[i].data;
        const auto& after = (*out)[i].data;
        ASSERT_EQ(before.size(), after.size()) << "packet " << i;
        EXPECT_EQ((*in)[i].timestamp_ns, (*out)[i].timestamp_ns) << "packet " << i;
        if (before.size() < 14) {
            EXPECT_EQ(before, after) << "packet " << i << " is too short to be touched";
            continue;
        }
        EXPECT_TRUE(std::equal(before.begin(), before.begin() + 6, after.begin() + 6)) << "packet " << i;
        EXPECT_TRUE(std::equal(before.begin() + 6, before.begin() + 12, after.begin())) << "packet " << i;
        EXPECT_TRUE(std::equal(before.begin() + 12, before.end(), after.begin() + 12)) << "packet " << i;
        ++swapped;
    }
    EXPECT_EQ(swapped, in->size() - 1);  // all but the 10-byte runt
    EXPECT_NE(result.out.find("XDP_REDIRECT: 12"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("XDP_DROP: 1"), std::string::npos) << result.out;
}

TEST_F(ObjectRunTest, DumpsCanBeFedBackAsMapFiles) {
    RunOptions options;
    options.file = corpus("xdp_firewall.bpf.o");
    options.pcap_in = capture();
    options.json = true;
    Output first = run(options);
    ASSERT_EQ(first.code, 0) << first.err;
    auto dump = nlohmann::ordered_json::parse(first.out)["maps"]["drop_stats"];
    // Run again with the counters of the first run loaded: every counter doubles.
    options.map_files = {"drop_stats=" + write("stats.json", dump.dump())};
    Output second = run(options);
    ASSERT_EQ(second.code, 0) << second.err;
    auto again = nlohmann::ordered_json::parse(second.out)["maps"]["drop_stats"]["entries"];
    const auto& before = dump["entries"];
    ASSERT_EQ(again.size(), before.size());
    for (size_t i = 0; i < again.size(); ++i) {
        EXPECT_EQ(again[i]["values"][0].get<uint64_t>(), 2 * before[i]["values"][0].get<uint64_t>()) << i;
    }
}

TEST_F(ObjectRunTest, BadMapFilesAndOptionsAreUsageErrors) {
    RunOptions options;
    options.file = corpus("xdp_firewall.bpf.o");
    options.packet_hex = "0200000000020200000000010800";
    const std::pair<std::string, std::string> cases[] = {
        {"blocked_ports=" + write("big.json", R"([{"key": 70000, "value": 1}])"), "out of range"},
        {"blocked_ports=" + write("nokey.json", R"([{"value": 1}])"), "key"},
        {"blocked_ports=" + write("broken.json", "[{"), "not JSON"},
        {"nosuchmap=" + write("empty.json", "[]"), "no map 'nosuchmap'"},
        {"blocked_ports", "NAME=FILE.json"},
    };
    for (const auto& [assignment, why] : cases) {
        options.map_files = {assignment};
        Output result = run(options);
        EXPECT_EQ(result.code, 2) << assignment;
        EXPECT_NE(result.err.find(why), std::string::npos) << assignment << ": " << result.err;
    }
    options.map_files.clear();
    options.function = "nosuch";
    Output result = run(options);
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("xdp_firewall"), std::string::npos) << "lists the programs: " << result.err;
}

TEST_F(ObjectRunTest, FaultsExitWithOneAndNameTheSourceLine) {
    RunOptions options;
    options.file = corpus("reject_null_check.bpf.o");
    options.packet_hex = "0200000000020200000000010800";
    Output result = run(options);
    EXPECT_EQ(result.code, 1);
    EXPECT_NE(result.err.find("error[memory-fault]"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("reject_null_check.bpf.c:"), std::string::npos) << result.err;
}

// --trust-verified runs an accepted program without access checks, with the same results.
TEST_F(ObjectRunTest, TrustVerifiedRunsAcceptedProgramsUnchecked) {
    RunOptions options;
    options.file = corpus("xdp_firewall.bpf.o");
    options.pcap_in = capture();
    options.json = true;
    Output checked = run(options);
    options.trust_verified = true;
    Output trusted = run(options);
    ASSERT_EQ(checked.code, 0) << checked.err;
    ASSERT_EQ(trusted.code, 0) << trusted.err;
    auto checked_doc = nlohmann::json::parse(checked.out);
    auto trusted_doc = nlohmann::json::parse(trusted.out);
    EXPECT_EQ(trusted_doc["engine"], checked_doc["engine"].get<std::string>() + " (trusted)");
    checked_doc.erase("engine");
    trusted_doc.erase("engine");
    EXPECT_EQ(checked_doc, trusted_doc);
}

// A program the verifier rejects is not run at all with --trust-verified: the error names the
// rule and the instruction; without the flag the same run faults, checked.
TEST_F(ObjectRunTest, TrustVerifiedRefusesRejectedPrograms) {
    RunOptions options;
    options.file = corpus("reject_packet_oob.bpf.o");
    options.function = "xdp_no_bounds_check";
    options.packet_hex = "0200";
    options.trust_verified = true;
    Output trusted = run(options);
    EXPECT_EQ(trusted.code, 1);
    EXPECT_EQ(trusted.out, "");
    EXPECT_NE(trusted.err.find(
                  "--trust-verified: the verifier rejects program 'xdp_no_bounds_check' (out-of-bounds)"),
              std::string::npos)
        << trusted.err;
    options.trust_verified = false;
    Output checked = run(options);
    EXPECT_EQ(checked.code, 1);
    EXPECT_NE(checked.err.find("error[memory-fault]"), std::string::npos) << checked.err;
}

// A raw program too: an unchecked access to r1 + 8 with no length check is refused.
TEST_F(ObjectRunTest, TrustVerifiedRefusesRejectedRawPrograms) {
    RunOptions options;
    options.file = write("read.asm", "ldxdw %r0, [%r1+8]\nexit\n");
    options.memory_hex = "00";
    options.trust_verified = true;
    Output trusted = run(options);
    EXPECT_EQ(trusted.code, 1);
    EXPECT_NE(trusted.err.find("the verifier rejects the program"), std::string::npos) << trusted.err;
    options.file = write("checked.asm", "mov %r0, 0\njlt %r2, 16, +1\nldxdw %r0, [%r1+8]\nexit\n");
    options.memory_hex = "0102030405060708090a0b0c0d0e0f10";
    Output accepted = run(options);
    EXPECT_EQ(accepted.code, 0) << accepted.err;
    EXPECT_NE(accepted.out.find("r0 = 0x100f0e0d0c0b0a09"), std::string::npos) << accepted.out;
}

}  // namespace
}  // namespace bpfvm::tools
