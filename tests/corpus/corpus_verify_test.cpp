// Verifies every corpus object with `bpfvm verify --format json` and checks each program's
// verdict against its expectation lines: the kernel's verdict (`verdict`, checked against the
// running kernel by CorpusKernel), unless bpfvm deliberately differs (`bpfvm-verdict`, with
// why), and for rejections the rule the verifier names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "corpus/corpus_support.hpp"

namespace bpfvm::corpus_test {
namespace {

using json = nlohmann::json;

TEST(CorpusVerify, EveryProgramGetsItsExpectedVerdictAndRule) {
    // CO-RE relocations resolve against the running kernel's types, as when the kernel loaded them.
    const std::string vmlinux = "/sys/kernel/btf/vmlinux";
    if (!fs::exists(vmlinux)) GTEST_SKIP() << vmlinux << " is missing: the kernel verdicts assume its types";
    size_t programs = 0;
    for (const CorpusEntry& entry : corpus_entries()) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations expected;
        ASSERT_EQ(parse_expectations(entry.source, expected), "");
        CommandOutput output =
            run_cli({"verify", "--format", "json", "--btf", vmlinux, entry.object.string()});
        json document = json::parse(output.out, nullptr, false);
        ASSERT_FALSE(document.is_discarded()) << output.out;
        ASSERT_EQ(document["files"].size(), 1u);
        const json& file = document["files"][0];
        ASSERT_TRUE(file["error"].is_null()) << file["error"];
        bool any_rejected = false;
        for (const json& program : file["programs"]) {
            const std::string function = program["function"];
            SCOPED_TRACE(function);
            ASSERT_TRUE(expected.accept.count(function)) << "no verdict line";
            bool accept = expected.accept.at(function);
            std::string rule = accept ? "" : expected.reject_rule.at(function);
            if (auto differs = expected.bpfvm_verdict.find(function);
                differs != expected.bpfvm_verdict.end()) {
                accept = differs->second.first;
                rule = differs->second.second;
            }
            const bool accepted = program["verdict"] == "accepted";
            any_rejected = any_rejected || !accepted;
            std::string first_diagnostic =
                program["diagnostics"].empty() ? std::string() : program["diagnostics"][0].dump();
            EXPECT_EQ(accepted, accept) << first_diagnostic;
            if (!accept && !accepted) {
                ASSERT_FALSE(program["diagnostics"].empty());
                EXPECT_EQ(program["diagnostics"][0]["rule"], rule) << first_diagnostic;
            }
            ++programs;
        }
        EXPECT_EQ(output.status, any_rejected ? 1 : 0) << output.out.substr(0, 2000);
    }
    EXPECT_GT(programs, 30u);
}

}  // namespace
}  // namespace bpfvm::corpus_test
