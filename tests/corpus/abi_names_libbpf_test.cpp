// The ABI tables in isa/ against libbpf, the reference loader: type names and the section-name
// rules. libbpf 1.1 predates some newer names; those are checked where libbpf knows them.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <string>

#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::isa {
namespace {

TEST(AbiNamesTest, ProgramTypeNamesMatchLibbpf) {
    int compared = 0;
    for (ProgramType type : all_program_types()) {
        if (type == ProgramType::Bytes) continue;  // bpfvm's own type, not the kernel's
        const char* name = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(type));
        if (name == nullptr) continue;  // newer than this libbpf
        EXPECT_EQ(program_type_name(type), name);
        EXPECT_EQ(program_type_from_name(name), type);
        ++compared;
    }
    EXPECT_GE(compared, 31);
    EXPECT_EQ(program_type_name(ProgramType::Bytes), "bytes");
}

TEST(AbiNamesTest, MapTypeNamesMatchLibbpf) {
    int compared = 0;
    for (MapType type : all_map_types()) {
        const char* name = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(type));
        if (name == nullptr) continue;
        EXPECT_EQ(map_type_name(type), name);
        EXPECT_EQ(map_type_from_name(name), type);
        ++compared;
    }
    EXPECT_GE(compared, 31);
}

// Section names users write, and names that are not program sections.
const char* const kSections[] = {
    "socket",
    "kprobe/do_sys_openat2",
    "kretprobe/do_exit",
    "kprobe",
    "uprobe/usr/bin/bash:readline",
    "uretprobe//lib/libc.so.6:malloc",
    "ksyscall/write",
    "kretsyscall/write",
    "usdt/libc:setjmp",
    "kprobe.multi/tcp_*",
    "tracepoint/syscalls/sys_enter_write",
    "tp/sched/sched_switch",
    "raw_tp/sys_enter",
    "raw_tracepoint/sched_switch",
    "raw_tp.w/x",
    "tp_btf/sched_switch",
    "fentry/do_unlinkat",
    "fexit/do_unlinkat",
    "fmod_ret/x",
    "fentry.s/x",
    "freplace/x",
    "lsm/file_open",
    "lsm.s/file_open",
    "iter/task",
    "syscall",
    "xdp",
    "xdp.frags",
    "xdp/devmap",
    "xdp/cpumap",
    "xdp.frags/devmap",
    "tc",
    "classifier",
    "action",
    "perf_event",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "lwt_seg6local",
    "sockops",
    "sk_skb",
    "sk_skb/stream_parser",
    "sk_skb/stream_verdict",
    "sk_skb/verdict",
    "sk_msg",
    "lirc_mode2",
    "flow_dissector",
    "cgroup_skb/ingress",
    "cgroup_skb/egress",
    "cgroup/skb",
    "cgroup/sock",
    "cgroup/sock_create",
    "cgroup/sock_release",
    "cgroup/post_bind4",
    "cgroup/bind6",
    "cgroup/connect4",
    "cgroup/sendmsg6",
    "cgroup/recvmsg4",
    "cgroup/getpeername4",
    "cgroup/getsockname6",
    "cgroup/sysctl",
    "cgroup/getsockopt",
    "cgroup/setsockopt",
    "cgroup/dev",
    "struct_ops/x",
    "sk_lookup",
    "sk_reuseport",
    "sk_reuseport/migrate",
};

// Not program sections: libbpf 1.x matches exactly or on "name/", never on a bare prefix.
const char* const kNotSections[] = {
    "xdp_foo", "kprobe_foo", "socketx", "foo", ".text", "maps", ".maps", "license", "tcx", "xdp/",
};

TEST(AbiNamesTest, SectionNamesGiveLibbpfsProgramTypes) {
    int known = 0;
    for (const char* section : kSections) {
        SCOPED_TRACE(section);
        enum bpf_prog_type libbpf_type;
        enum bpf_attach_type libbpf_attach;
        int rc = libbpf_prog_type_by_name(section, &libbpf_type, &libbpf_attach);
        auto ours = program_type_for_section(section);
        ASSERT_TRUE(ours.has_value());
        if (rc != 0) continue;  // a name newer libbpf versions added (sk_skb/verdict after 1.1.2)
        ++known;
        EXPECT_EQ(static_cast<int>(ours->type), static_cast<int>(libbpf_type));
        if (!ours->expected_attach_type.empty()) {
            const char* attach = libbpf_bpf_attach_type_str(libbpf_attach);
            ASSERT_NE(attach, nullptr);
            EXPECT_EQ(ours->expected_attach_type, attach);
        }
    }
    EXPECT_GE(known, 60);
    for (const char* section : kNotSections) {
        enum bpf_prog_type libbpf_type;
        enum bpf_attach_type libbpf_attach;
        EXPECT_NE(libbpf_prog_type_by_name(section, &libbpf_type, &libbpf_attach), 0) << section;
        EXPECT_FALSE(program_type_for_section(section).has_value()) << section;
    }
}

TEST(AbiNamesTest, NoAutoloadMarkIsIgnored) {
    auto plain = program_type_for_section("xdp");
    auto marked = program_type_for_section("?xdp");
    ASSERT_TRUE(plain && marked);
    EXPECT_EQ(plain->type, marked->type);
    EXPECT_FALSE(program_type_for_section("?").has_value());
}

}  // namespace
}  // namespace bpfvm::isa
