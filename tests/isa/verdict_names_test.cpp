// Verdict names against the kernel's uapi values (enum xdp_action, TC_ACT_*).
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::isa {
namespace {

TEST(VerdictNames, XdpActionsMatchUapi) {
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_ABORTED), "XDP_ABORTED");
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_DROP), "XDP_DROP");
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_PASS), "XDP_PASS");
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_TX), "XDP_TX");
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_REDIRECT), "XDP_REDIRECT");
    EXPECT_EQ(verdict_name(ProgramType::Xdp, XDP_REDIRECT + 1), std::nullopt);
    // Only the low 32 bits count.
    EXPECT_EQ(verdict_name(ProgramType::Xdp, (uint64_t{1} << 32) | XDP_PASS), "XDP_PASS");
}

TEST(VerdictNames, TcActionsMatchUapi) {
    EXPECT_EQ(verdict_name(ProgramType::SchedCls, static_cast<uint32_t>(TC_ACT_UNSPEC)), "TC_ACT_UNSPEC");
    EXPECT_EQ(verdict_name(ProgramType::SchedCls, TC_ACT_OK), "TC_ACT_OK");
    EXPECT_EQ(verdict_name(ProgramType::SchedCls, TC_ACT_SHOT), "TC_ACT_SHOT");
    EXPECT_EQ(verdict_name(ProgramType::SchedAct, TC_ACT_REDIRECT), "TC_ACT_REDIRECT");
    EXPECT_EQ(verdict_name(ProgramType::SchedCls, TC_ACT_TRAP), "TC_ACT_TRAP");
    EXPECT_EQ(verdict_name(ProgramType::SchedCls, TC_ACT_TRAP + 1), std::nullopt);
}

TEST(VerdictNames, OtherTypesHaveNone) {
    EXPECT_EQ(verdict_name(ProgramType::SocketFilter, 0), std::nullopt);
    EXPECT_EQ(verdict_name(ProgramType::Kprobe, 0), std::nullopt);
    EXPECT_EQ(verdict_name(ProgramType::Bytes, 2), std::nullopt);
}

}  // namespace
}  // namespace bpfvm::isa
