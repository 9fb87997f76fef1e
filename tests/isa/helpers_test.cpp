// The helper table against the kernel's uapi header (<linux/bpf.h>): ids and names come from
// expanding __BPF_FUNC_MAPPER here, prototypes are spot-checked against the kernel's
// bpf_func_proto definitions.
#include <linux/bpf.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "bpfvm/isa/helpers.hpp"

namespace bpfvm::isa {
namespace {

struct KernelHelper {
    std::string_view name;
    int id;
};

// Linux 6.1 spells the mapper FN(name), newer headers FN(name, id) behind a one-argument
// compatibility form; both separate the entries with commas themselves.
#define BPFVM_KERNEL_HELPER(name) (KernelHelper{#name, BPF_FUNC_##name})
constexpr KernelHelper kKernelHelpers[] = {__BPF_FUNC_MAPPER(BPFVM_KERNEL_HELPER)};
#undef BPFVM_KERNEL_HELPER

// The helpers the verifier and runtime need first: each must have a full prototype.
constexpr std::string_view kModeled[] = {
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "map_push_elem",
    "map_pop_elem",
    "map_peek_elem",
    "map_lookup_percpu_elem",
    "for_each_map_elem",
    "loop",
    "tail_call",
    "probe_read",
    "probe_read_kernel",
    "probe_read_user",
    "probe_read_str",
    "probe_read_kernel_str",
    "probe_read_user_str",
    "ktime_get_ns",
    "ktime_get_boot_ns",
    "ktime_get_coarse_ns",
    "jiffies64",
    "get_prandom_u32",
    "get_smp_processor_id",
    "get_numa_node_id",
    "get_current_pid_tgid",
    "get_current_uid_gid",
    "get_current_comm",
    "trace_printk",
    "snprintf",
    "ringbuf_output",
    "ringbuf_reserve",
    "ringbuf_submit",
    "ringbuf_discard",
    "ringbuf_query",
    "perf_event_output",
    "strncmp",
    "csum_diff",
    "xdp_adjust_head",
    "xdp_adjust_tail",
    "xdp_adjust_meta",
    "redirect",
    "redirect_map",
    "skb_load_bytes",
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "get_func_ip",
    "get_attach_cookie",
    "spin_lock",
    "spin_unlock",
    "get_current_task",
    "get_current_task_btf",
    "trace_vprintk",
};

const HelperPrototype& helper(std::string_view name) {
    const HelperPrototype* found = helper_by_name(name);
    EXPECT_NE(found, nullptr) << name;
    static const HelperPrototype kMissing{};
    return found != nullptr ? *found : kMissing;
}

std::array<ArgKind, 5> args(std::initializer_list<ArgKind> kinds) {
    std::array<ArgKind, 5> result{};
    std::copy(kinds.begin(), kinds.end(), result.begin());
    return result;
}

TEST(HelperTableTest, IdsAndNamesMatchTheKernelMapper) {
    ASSERT_EQ(std::size(kKernelHelpers), static_cast<size_t>(__BPF_FUNC_MAX_ID));
    // Our table may be newer than the installed header, never older.
    ASSERT_GE(all_helpers().size(), std::size(kKernelHelpers));
    for (size_t i = 0; i < std::size(kKernelHelpers); ++i) {
        const KernelHelper& kernel = kKernelHelpers[i];
        SCOPED_TRACE(kernel.name);
        EXPECT_EQ(kernel.id, static_cast<int>(i));  // the kernel's ids are dense too
        const HelperPrototype* ours = helper_by_id(kernel.id);
        ASSERT_NE(ours, nullptr);
        EXPECT_EQ(ours->name, kernel.name);
        EXPECT_EQ(helper_by_name(kernel.name), ours);
    }
}

TEST(HelperTableTest, IdsAreDenseAndNamesUnique) {
    std::set<std::string_view> names;
    for (size_t i = 0; i < all_helpers().size(); ++i) {
        const HelperPrototype& h = all_helpers()[i];
        EXPECT_EQ(h.id, static_cast<int32_t>(i));
        EXPECT_FALSE(h.name.empty());
        EXPECT_FALSE(h.name.starts_with("bpf_")) << h.name;
        EXPECT_TRUE(names.insert(h.name).second) << h.name;
    }
    EXPECT_EQ(all_helpers().front().name, "unspec");
    EXPECT_EQ(all_helpers().back().name, "cgrp_storage_delete");  // the frozen list's last id, 211
    EXPECT_EQ(all_helpers().back().id, 211);
}

TEST(HelperTableTest, LookupsByIdAndNameAgree) {
    for (const HelperPrototype& h : all_helpers()) {
        EXPECT_EQ(helper_by_id(h.id), &h);
        EXPECT_EQ(helper_by_name(h.name), &h);
        EXPECT_EQ(helper_by_name("bpf_" + std::string(h.name)), &h) << h.name;
    }
    EXPECT_EQ(helper_by_id(-1), nullptr);
    EXPECT_EQ(helper_by_id(static_cast<int64_t>(all_helpers().size())), nullptr);
    EXPECT_EQ(helper_by_id(int64_t{1} << 32 | 1), nullptr);  // not truncated to id 1
    EXPECT_EQ(helper_by_name("no_such_helper"), nullptr);
    EXPECT_EQ(helper_by_name("bpf_"), nullptr);
    EXPECT_EQ(helper_by_name(""), nullptr);
    EXPECT_EQ(helper_by_name("BPF_map_lookup_elem"), nullptr);
    EXPECT_EQ(helper_by_name("bpf_bpf_map_lookup_elem"), nullptr);
}

TEST(HelperTableTest, ModeledHelpersHaveKnownPrototypes) {
    for (std::string_view name : kModeled) EXPECT_TRUE(helper(name).known) << name;
    EXPECT_FALSE(helper("unspec").known);
    EXPECT_FALSE(helper("skb_vlan_push").known);
    EXPECT_FALSE(helper("sk_lookup_tcp").known);
}

TEST(HelperTableTest, ArgCountMatchesTheUsedSlots) {
    for (const HelperPrototype& h : all_helpers()) {
        SCOPED_TRACE(h.name);
        ASSERT_LE(h.arg_count, h.args.size());
        for (size_t i = 0; i < h.args.size(); ++i) EXPECT_EQ(h.args[i] == ArgKind::None, i >= h.arg_count);
        if (!h.known) {
            EXPECT_EQ(h.arg_count, 0);
        }
    }
}

TEST(HelperTableTest, MapPrototypes) {
    const HelperPrototype& update = helper("map_update_elem");
    EXPECT_EQ(update.ret, ReturnKind::Integer);
    EXPECT_EQ(update.args,
              args({ArgKind::ConstMapPtr, ArgKind::PtrToMapKey, ArgKind::PtrToMapValue, ArgKind::Anything}));
    EXPECT_EQ(update.arg_count, 4);
    EXPECT_FALSE(update.gpl_only);
    EXPECT_TRUE(update.packet_access);

    const HelperPrototype& lookup = helper("map_lookup_elem");
    EXPECT_EQ(lookup.ret, ReturnKind::PtrToMapValueOrNull);
    EXPECT_EQ(lookup.args, args({ArgKind::ConstMapPtr, ArgKind::PtrToMapKey}));

    EXPECT_EQ(helper("map_lookup_percpu_elem").ret, ReturnKind::PtrToMapValueOrNull);
    EXPECT_EQ(helper("map_delete_elem").args, args({ArgKind::ConstMapPtr, ArgKind::PtrToMapKey}));
    EXPECT_EQ(helper("map_push_elem").args,
              args({ArgKind::ConstMapPtr, ArgKind::PtrToMapValue, ArgKind::Anything}));
    // pop and peek write the value out: it need not be initialized, and packet memory is refused.
    EXPECT_EQ(helper("map_pop_elem").args, args({ArgKind::ConstMapPtr, ArgKind::PtrToUninitMapValue}));
    EXPECT_EQ(helper("map_peek_elem").args, args({ArgKind::ConstMapPtr, ArgKind::PtrToUninitMapValue}));
    EXPECT_FALSE(helper("map_pop_elem").packet_access);

    EXPECT_EQ(helper("for_each_map_elem").args,
              args({ArgKind::ConstMapPtr, ArgKind::PtrToFunc, ArgKind::PtrToStackOrNull, ArgKind::Anything}));
    EXPECT_EQ(helper("loop").args,
              args({ArgKind::Anything, ArgKind::PtrToFunc, ArgKind::PtrToStackOrNull, ArgKind::Anything}));
    const HelperPrototype& tail_call = helper("tail_call");
    EXPECT_EQ(tail_call.ret, ReturnKind::Void);
    EXPECT_EQ(tail_call.args, args({ArgKind::PtrToCtx, ArgKind::ConstMapPtr, ArgKind::Anything}));
}

TEST(HelperTableTest, RingbufPrototypes) {
    const HelperPrototype& reserve = helper("ringbuf_reserve");
    EXPECT_EQ(reserve.ret, ReturnKind::PtrToRingbufMemOrNull);
    EXPECT_EQ(reserve.args, args({ArgKind::ConstMapPtr, ArgKind::ConstAllocSizeOrZero, ArgKind::Anything}));
    EXPECT_EQ(reserve.ret_size_arg, 2);  // the returned memory is as large as r2 says
    for (std::string_view release : {"ringbuf_submit", "ringbuf_discard"}) {
        EXPECT_EQ(helper(release).ret, ReturnKind::Void) << release;
        EXPECT_EQ(helper(release).args, args({ArgKind::PtrToRingbufMem, ArgKind::Anything})) << release;
    }
    EXPECT_EQ(helper("ringbuf_output").args, args({ArgKind::ConstMapPtr, ArgKind::PtrToReadonlyMem,
                                                   ArgKind::ConstSizeOrZero, ArgKind::Anything}));
    EXPECT_EQ(helper("ringbuf_query").args, args({ArgKind::ConstMapPtr, ArgKind::Anything}));
}

TEST(HelperTableTest, TracingPrototypes) {
    for (std::string_view name : {"probe_read", "probe_read_str", "probe_read_kernel",
                                  "probe_read_kernel_str", "probe_read_user", "probe_read_user_str"}) {
        const HelperPrototype& h = helper(name);
        EXPECT_EQ(h.ret, ReturnKind::Integer) << name;
        EXPECT_EQ(h.args, args({ArgKind::PtrToUninitMem, ArgKind::ConstSizeOrZero, ArgKind::Anything}))
            << name;
        EXPECT_TRUE(h.gpl_only) << name;
    }
    EXPECT_EQ(helper("get_current_comm").args, args({ArgKind::PtrToUninitMem, ArgKind::ConstSize}));
    EXPECT_EQ(helper("get_current_pid_tgid").arg_count, 0);
    EXPECT_EQ(helper("ktime_get_ns").arg_count, 0);
    EXPECT_FALSE(helper("ktime_get_ns").gpl_only);
    EXPECT_TRUE(helper("get_current_task").gpl_only);
    EXPECT_EQ(helper("get_current_task").ret, ReturnKind::Integer);
    EXPECT_EQ(helper("get_current_task_btf").ret, ReturnKind::UnsupportedBtfPointer);
    EXPECT_EQ(helper("get_func_ip").args, args({ArgKind::PtrToCtx}));
    EXPECT_EQ(helper("get_attach_cookie").args, args({ArgKind::PtrToCtx}));
    const HelperPrototype& output = helper("perf_event_output");
    EXPECT_EQ(output.args, args({ArgKind::PtrToCtx, ArgKind::ConstMapPtr, ArgKind::Anything,
                                 ArgKind::PtrToReadonlyMem, ArgKind::ConstSizeOrZero}));
    EXPECT_TRUE(output.gpl_only);
}

TEST(HelperTableTest, StringAndPrintPrototypes) {
    EXPECT_EQ(helper("trace_printk").args, args({ArgKind::PtrToReadonlyMem, ArgKind::ConstSize}));
    EXPECT_TRUE(helper("trace_printk").gpl_only);
    EXPECT_EQ(helper("trace_vprintk").args,
              args({ArgKind::PtrToReadonlyMem, ArgKind::ConstSize, ArgKind::PtrToReadonlyMemOrNull,
                    ArgKind::ConstSizeOrZero}));
    EXPECT_EQ(helper("snprintf").args,
              args({ArgKind::PtrToMemOrNull, ArgKind::ConstSizeOrZero, ArgKind::PtrToConstStr,
                    ArgKind::PtrToReadonlyMemOrNull, ArgKind::ConstSizeOrZero}));
    EXPECT_EQ(helper("strncmp").args,
              args({ArgKind::PtrToReadonlyMem, ArgKind::ConstSize, ArgKind::PtrToConstStr}));
    EXPECT_EQ(helper("spin_lock").args, args({ArgKind::PtrToSpinLock}));
    EXPECT_EQ(helper("spin_unlock").ret, ReturnKind::Void);
}

TEST(HelperTableTest, PacketPrototypes) {
    EXPECT_EQ(helper("skb_load_bytes").args,
              args({ArgKind::PtrToCtx, ArgKind::Anything, ArgKind::PtrToUninitMem, ArgKind::ConstSize}));
    EXPECT_EQ(helper("skb_store_bytes").args,
              args({ArgKind::PtrToCtx, ArgKind::Anything, ArgKind::PtrToReadonlyMem, ArgKind::ConstSize,
                    ArgKind::Anything}));
    EXPECT_EQ(helper("l3_csum_replace").arg_count, 5);
    EXPECT_EQ(helper("l4_csum_replace").args[0], ArgKind::PtrToCtx);
    const HelperPrototype& csum_diff = helper("csum_diff");
    EXPECT_EQ(csum_diff.args,
              args({ArgKind::PtrToReadonlyMemOrNull, ArgKind::ConstSizeOrZero,
                    ArgKind::PtrToReadonlyMemOrNull, ArgKind::ConstSizeOrZero, ArgKind::Anything}));
    EXPECT_TRUE(csum_diff.packet_access);
    for (std::string_view name : {"xdp_adjust_head", "xdp_adjust_tail", "xdp_adjust_meta"}) {
        EXPECT_EQ(helper(name).args, args({ArgKind::PtrToCtx, ArgKind::Anything})) << name;
    }
    EXPECT_EQ(helper("redirect").args, args({ArgKind::Anything, ArgKind::Anything}));
    EXPECT_EQ(helper("redirect_map").args,
              args({ArgKind::ConstMapPtr, ArgKind::Anything, ArgKind::Anything}));
}

// The kernel checks a memory argument together with the size in the next one; a size never
// stands alone, and only ringbuf_reserve-style returns take their size from an argument.
TEST(HelperTableTest, EverySizeFollowsItsPointer) {
    for (const HelperPrototype& h : all_helpers()) {
        if (!h.known) continue;
        SCOPED_TRACE(h.name);
        for (size_t i = 0; i < h.arg_count; ++i) {
            if (is_sized_memory_arg(h.args[i])) {
                ASSERT_LT(i + 1, h.arg_count);
                EXPECT_TRUE(is_memory_size_arg(h.args[i + 1])) << arg_kind_name(h.args[i + 1]);
            }
            if (is_memory_size_arg(h.args[i])) {
                ASSERT_GT(i, 0u);
                EXPECT_TRUE(is_sized_memory_arg(h.args[i - 1])) << arg_kind_name(h.args[i - 1]);
            }
        }
        if (h.ret == ReturnKind::PtrToRingbufMemOrNull) {
            ASSERT_GE(h.ret_size_arg, 1);
            ASSERT_LE(h.ret_size_arg, h.arg_count);
            EXPECT_EQ(h.args[h.ret_size_arg - 1], ArgKind::ConstAllocSizeOrZero);
        } else {
            EXPECT_EQ(h.ret_size_arg, 0);
        }
    }
}

TEST(HelperTableTest, KindNamesAreStableAndDistinct) {
    std::set<std::string_view> names;
    for (auto value = static_cast<int>(ArgKind::None); value <= static_cast<int>(ArgKind::PtrToLong);
         ++value) {
        std::string_view name = arg_kind_name(static_cast<ArgKind>(value));
        EXPECT_NE(name, "unknown");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_EQ(arg_kind_name(ArgKind::PtrToMapKey), "ptr_to_map_key");
    EXPECT_EQ(arg_kind_name(ArgKind::ConstSizeOrZero), "const_size_or_zero");
    EXPECT_EQ(arg_kind_name(ArgKind::PtrToUninitMem), "ptr_to_uninit_mem");
    names.clear();
    for (auto value = static_cast<int>(ReturnKind::Integer);
         value <= static_cast<int>(ReturnKind::UnsupportedBtfPointer); ++value) {
        std::string_view name = return_kind_name(static_cast<ReturnKind>(value));
        EXPECT_NE(name, "unknown");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_EQ(return_kind_name(ReturnKind::PtrToMapValueOrNull), "ptr_to_map_value_or_null");
    EXPECT_EQ(return_kind_name(ReturnKind::UnsupportedBtfPointer), "unsupported_btf_pointer");
}

TEST(HelperTableTest, ProgramTypeSets) {
    ProgramTypeSet set{ProgramType::Xdp, ProgramType::Bytes};
    EXPECT_TRUE(set.contains(ProgramType::Xdp));
    EXPECT_TRUE(set.contains(ProgramType::Bytes));
    EXPECT_FALSE(set.contains(ProgramType::Unspec));
    EXPECT_FALSE(set.contains(static_cast<ProgramType>(100)));
    EXPECT_TRUE((set | ProgramTypeSet{ProgramType::Kprobe}).contains(ProgramType::Kprobe));
    for (ProgramType type : all_program_types()) EXPECT_TRUE(ProgramTypeSet::every_type().contains(type));
}

TEST(HelperAllowedTest, GenericHelpersForEveryType) {
    for (std::string_view name :
         {"map_lookup_elem", "map_update_elem", "ringbuf_reserve", "loop", "tail_call", "ktime_get_ns",
          "get_prandom_u32", "trace_printk", "snprintf", "spin_lock"}) {
        for (ProgramType type : all_program_types()) {
            EXPECT_TRUE(helper_allowed_for(helper(name), type)) << name << " " << program_type_name(type);
        }
    }
}

TEST(HelperAllowedTest, XdpHelpers) {
    for (std::string_view name : {"xdp_adjust_head", "xdp_adjust_tail", "xdp_adjust_meta", "redirect_map"}) {
        const HelperPrototype& h = helper(name);
        EXPECT_TRUE(helper_allowed_for(h, ProgramType::Xdp)) << name;
        for (ProgramType other : {ProgramType::SocketFilter, ProgramType::SchedCls, ProgramType::SchedAct,
                                  ProgramType::Kprobe, ProgramType::Bytes}) {
            EXPECT_FALSE(helper_allowed_for(h, other)) << name << " " << program_type_name(other);
        }
    }
    EXPECT_TRUE(helper_allowed_for(helper("redirect"), ProgramType::Xdp));
    EXPECT_TRUE(helper_allowed_for(helper("redirect"), ProgramType::SchedCls));
    EXPECT_FALSE(helper_allowed_for(helper("redirect"), ProgramType::SocketFilter));
    EXPECT_TRUE(helper_allowed_for(helper("csum_diff"), ProgramType::Xdp));
    EXPECT_FALSE(helper_allowed_for(helper("csum_diff"), ProgramType::SocketFilter));
}

TEST(HelperAllowedTest, SkbHelpers) {
    const HelperPrototype& load = helper("skb_load_bytes");
    EXPECT_TRUE(helper_allowed_for(load, ProgramType::SocketFilter));
    EXPECT_TRUE(helper_allowed_for(load, ProgramType::SchedCls));
    EXPECT_TRUE(helper_allowed_for(load, ProgramType::SchedAct));
    EXPECT_FALSE(helper_allowed_for(load, ProgramType::Xdp));
    EXPECT_FALSE(helper_allowed_for(load, ProgramType::Kprobe));
    // Writing the packet is for tc only.
    for (std::string_view name : {"skb_store_bytes", "l3_csum_replace", "l4_csum_replace"}) {
        EXPECT_TRUE(helper_allowed_for(helper(name), ProgramType::SchedCls)) << name;
        EXPECT_TRUE(helper_allowed_for(helper(name), ProgramType::SchedAct)) << name;
        EXPECT_FALSE(helper_allowed_for(helper(name), ProgramType::SocketFilter)) << name;
        EXPECT_FALSE(helper_allowed_for(helper(name), ProgramType::Xdp)) << name;
    }
}

TEST(HelperAllowedTest, TracingHelpers) {
    for (std::string_view name : {"probe_read", "probe_read_kernel", "probe_read_user_str",
                                  "get_current_uid_gid", "get_current_comm", "get_current_task"}) {
        const HelperPrototype& h = helper(name);
        for (ProgramType type : {ProgramType::Kprobe, ProgramType::Tracepoint, ProgramType::RawTracepoint,
                                 ProgramType::PerfEvent}) {
            EXPECT_TRUE(helper_allowed_for(h, type)) << name << " " << program_type_name(type);
        }
        for (ProgramType type :
             {ProgramType::Xdp, ProgramType::SocketFilter, ProgramType::SchedCls, ProgramType::Bytes}) {
            EXPECT_FALSE(helper_allowed_for(h, type)) << name << " " << program_type_name(type);
        }
    }
    // Linux 6.10 gave get_current_pid_tgid to every program type.
    EXPECT_TRUE(helper_allowed_for(helper("get_current_pid_tgid"), ProgramType::Xdp));
    EXPECT_TRUE(helper_allowed_for(helper("get_func_ip"), ProgramType::Kprobe));
    EXPECT_FALSE(helper_allowed_for(helper("get_func_ip"), ProgramType::Tracepoint));
    EXPECT_TRUE(helper_allowed_for(helper("perf_event_output"), ProgramType::Kprobe));
    EXPECT_TRUE(helper_allowed_for(helper("perf_event_output"), ProgramType::Xdp));
    EXPECT_FALSE(helper_allowed_for(helper("perf_event_output"), ProgramType::Bytes));
    // The coarse clock is a networking helper: the kernel keeps it from tracing programs.
    EXPECT_TRUE(helper_allowed_for(helper("ktime_get_coarse_ns"), ProgramType::Xdp));
    EXPECT_TRUE(helper_allowed_for(helper("ktime_get_coarse_ns"), ProgramType::Bytes));
    EXPECT_FALSE(helper_allowed_for(helper("ktime_get_coarse_ns"), ProgramType::Kprobe));
}

TEST(HelperAllowedTest, HelpersWithoutPrototypeAreNeverAllowed) {
    for (const HelperPrototype& h : all_helpers()) {
        if (h.known) continue;
        for (ProgramType type : all_program_types()) EXPECT_FALSE(helper_allowed_for(h, type)) << h.name;
    }
}

}  // namespace
}  // namespace bpfvm::isa
