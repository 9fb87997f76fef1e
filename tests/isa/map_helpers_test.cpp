// Which helpers the kernel's verifier accepts with which maps (check_map_func_compatibility).
#include "bpfvm/isa/map_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "bpfvm/isa/helpers.hpp"

namespace bpfvm::isa {
namespace {

int32_t id(std::string_view helper) {
    const HelperPrototype* proto = helper_by_name(helper);
    EXPECT_NE(proto, nullptr) << helper;
    return proto ? proto->id : -1;
}

bool takes_map(const HelperPrototype& helper) {
    return helper.known &&
           std::find(helper.args.begin(), helper.args.end(), ArgKind::ConstMapPtr) != helper.args.end();
}

// The map types bpfvm simulates.
constexpr MapType kSimulated[] = {
    MapType::Array,       MapType::PercpuArray,    MapType::Hash,    MapType::PercpuHash,
    MapType::LruHash,     MapType::LruPercpuHash,  MapType::LpmTrie, MapType::ProgArray,
    MapType::ArrayOfMaps, MapType::HashOfMaps,     MapType::Stack,   MapType::Queue,
    MapType::Ringbuf,     MapType::PerfEventArray, MapType::Devmap,  MapType::DevmapHash,
    MapType::Cpumap,      MapType::Xskmap,
};

struct Pair {
    MapType type;
    std::string_view helper;
};

TEST(MapHelpers, AcceptedPairs) {
    const Pair accepted[] = {
        {MapType::Array, "map_lookup_elem"},
        {MapType::Array, "map_update_elem"},
        {MapType::Array, "map_delete_elem"},
        {MapType::Hash, "map_update_elem"},
        {MapType::PercpuHash, "map_delete_elem"},
        {MapType::LpmTrie, "map_lookup_elem"},
        {MapType::LpmTrie, "map_update_elem"},
        {MapType::ProgArray, "tail_call"},
        {MapType::PerfEventArray, "perf_event_output"},
        {MapType::PerfEventArray, "perf_event_read"},
        {MapType::PerfEventArray, "skb_output"},
        {MapType::Ringbuf, "ringbuf_output"},
        {MapType::Ringbuf, "ringbuf_reserve"},
        {MapType::Ringbuf, "ringbuf_query"},
        {MapType::Devmap, "redirect_map"},
        {MapType::Devmap, "map_lookup_elem"},
        {MapType::DevmapHash, "redirect_map"},
        {MapType::DevmapHash, "map_lookup_elem"},
        {MapType::Cpumap, "redirect_map"},
        {MapType::Xskmap, "redirect_map"},
        {MapType::Xskmap, "map_lookup_elem"},
        {MapType::ArrayOfMaps, "map_lookup_elem"},
        {MapType::HashOfMaps, "map_lookup_elem"},
        {MapType::Queue, "map_push_elem"},
        {MapType::Queue, "map_pop_elem"},
        {MapType::Stack, "map_peek_elem"},
        {MapType::BloomFilter, "map_push_elem"},
        {MapType::BloomFilter, "map_peek_elem"},
        {MapType::PercpuArray, "map_lookup_percpu_elem"},
        {MapType::PercpuHash, "map_lookup_percpu_elem"},
        {MapType::LruPercpuHash, "map_lookup_percpu_elem"},
        {MapType::Array, "for_each_map_elem"},
        {MapType::PercpuArray, "for_each_map_elem"},
        {MapType::Hash, "for_each_map_elem"},
        {MapType::LruHash, "for_each_map_elem"},
        {MapType::LruPercpuHash, "for_each_map_elem"},
        {MapType::StackTrace, "get_stackid"},
        {MapType::CgroupArray, "skb_under_cgroup"},
        {MapType::Sockmap, "map_lookup_elem"},
        {MapType::Sockmap, "sk_redirect_map"},
        {MapType::Sockhash, "sk_select_reuseport"},
        {MapType::ReuseportSockarray, "sk_select_reuseport"},
        {MapType::SkStorage, "sk_storage_get"},
        {MapType::CgroupStorage, "get_local_storage"},
        {MapType::UserRingbuf, "user_ringbuf_drain"},
        {MapType::Arena, "map_lookup_elem"},
    };
    for (const Pair& pair : accepted) {
        EXPECT_EQ(map_helper_conflict(pair.type, id(pair.helper)), "")
            << map_type_name(pair.type) << " with " << pair.helper;
    }
}

TEST(MapHelpers, RejectedPairs) {
    const Pair rejected[] = {
        {MapType::ProgArray, "map_lookup_elem"},
        {MapType::ProgArray, "map_update_elem"},
        {MapType::Array, "tail_call"},
        {MapType::Ringbuf, "map_lookup_elem"},
        {MapType::Array, "ringbuf_output"},
        {MapType::Hash, "ringbuf_reserve"},
        {MapType::PerfEventArray, "map_lookup_elem"},
        {MapType::Hash, "perf_event_output"},
        {MapType::Cpumap, "map_lookup_elem"},
        {MapType::Devmap, "map_update_elem"},
        {MapType::DevmapHash, "map_delete_elem"},
        {MapType::Xskmap, "map_delete_elem"},
        {MapType::Array, "redirect_map"},
        {MapType::Hash, "redirect_map"},
        {MapType::ArrayOfMaps, "map_update_elem"},
        {MapType::HashOfMaps, "map_delete_elem"},
        {MapType::Queue, "map_lookup_elem"},
        {MapType::Stack, "map_update_elem"},
        {MapType::Array, "map_push_elem"},
        {MapType::Hash, "map_pop_elem"},
        {MapType::BloomFilter, "map_pop_elem"},
        {MapType::BloomFilter, "map_lookup_elem"},
        {MapType::Array, "map_lookup_percpu_elem"},
        {MapType::Hash, "map_lookup_percpu_elem"},
        {MapType::LpmTrie, "for_each_map_elem"},
        {MapType::ArrayOfMaps, "for_each_map_elem"},
        {MapType::Queue, "for_each_map_elem"},
        {MapType::Ringbuf, "for_each_map_elem"},
        {MapType::Hash, "get_stackid"},
        {MapType::StackTrace, "map_lookup_elem"},
        {MapType::Sockmap, "sk_redirect_hash"},
        {MapType::Hash, "sk_select_reuseport"},
        {MapType::Ringbuf, "perf_event_output"},
        {MapType::PerfEventArray, "ringbuf_output"},
    };
    for (const Pair& pair : rejected) {
        EXPECT_NE(map_helper_conflict(pair.type, id(pair.helper)), "")
            << map_type_name(pair.type) << " with " << pair.helper;
    }
}

TEST(MapHelpers, ReasonsNameTheSideThatRefuses) {
    EXPECT_EQ(map_helper_conflict(MapType::ProgArray, id("map_lookup_elem")),
              "prog_array maps can only be used with tail_call");
    EXPECT_EQ(map_helper_conflict(MapType::Array, id("tail_call")), "tail_call needs a prog_array map");
    EXPECT_EQ(map_helper_conflict(MapType::Hash, id("redirect_map")),
              "redirect_map needs a devmap, devmap_hash, cpumap or xskmap map");
    EXPECT_EQ(map_helper_conflict(MapType::Cpumap, id("map_lookup_elem")),
              "cpumap maps can only be used with redirect_map");
    EXPECT_EQ(map_helper_conflict(MapType::Hash, id("map_pop_elem")),
              "map_pop_elem needs a queue or stack map");
}

TEST(MapHelpers, SockmapUpdatesDependOnTheProgramType) {
    const int32_t update = id("map_update_elem");
    const int32_t remove = id("map_delete_elem");
    EXPECT_EQ(map_helper_conflict(MapType::Sockmap, update), "");
    EXPECT_EQ(map_helper_conflict(MapType::Sockmap, update, ProgramType::SchedCls), "");
    EXPECT_EQ(map_helper_conflict(MapType::Sockhash, update, ProgramType::Xdp), "");
    EXPECT_NE(map_helper_conflict(MapType::Sockmap, update, ProgramType::Kprobe), "");
    EXPECT_NE(map_helper_conflict(MapType::Sockhash, update, ProgramType::SockOps), "");
    EXPECT_EQ(map_helper_conflict(MapType::Sockhash, remove, ProgramType::SockOps), "");
    // The program type does not matter for other maps.
    EXPECT_EQ(map_helper_conflict(MapType::Hash, update, ProgramType::Kprobe), "");
}

TEST(MapHelpers, EveryMapTakingHelperAcceptsSomeMapType) {
    size_t checked = 0;
    for (const HelperPrototype& helper : all_helpers()) {
        if (!takes_map(helper)) continue;
        ++checked;
        const bool some = std::any_of(all_map_types().begin(), all_map_types().end(), [&](MapType type) {
            return map_helper_conflict(type, helper.id).empty();
        });
        EXPECT_TRUE(some) << helper.name;
    }
    EXPECT_GE(checked, 10u);
}

TEST(MapHelpers, EverySimulatedMapTypeAcceptsSomeHelper) {
    for (MapType type : kSimulated) {
        const bool some =
            std::any_of(all_helpers().begin(), all_helpers().end(), [&](const HelperPrototype& helper) {
                return takes_map(helper) && map_helper_conflict(type, helper.id).empty();
            });
        EXPECT_TRUE(some) << map_type_name(type);
    }
}

TEST(MapHelpers, TypesForHelperAgreeWithTheConflicts) {
    for (const HelperPrototype& helper : all_helpers()) {
        const auto types = map_types_for_helper(helper.id);
        if (types.empty()) continue;
        for (MapType type : all_map_types()) {
            const bool listed = std::find(types.begin(), types.end(), type) != types.end();
            // A listed type may still refuse the helper from its own side, never the reverse.
            if (!listed) {
                EXPECT_NE(map_helper_conflict(type, helper.id), "") << helper.name;
            }
        }
        for (MapType type : types) {
            EXPECT_EQ(map_helper_conflict(type, helper.id), "") << helper.name << " " << map_type_name(type);
        }
    }
    EXPECT_TRUE(map_types_for_helper(id("map_lookup_elem")).empty());
    EXPECT_EQ(map_types_for_helper(id("redirect_map")).size(), 4u);
}

// The reasons name helpers, which checks the helper ids in the tables against the names.
TEST(MapHelpers, ReasonsAgreeWithTheHelperIds) {
    for (const HelperPrototype& helper : all_helpers()) {
        if (map_types_for_helper(helper.id).empty()) continue;
        const std::string prefix = std::string(helper.name) + " needs ";
        const bool named = std::any_of(all_map_types().begin(), all_map_types().end(), [&](MapType type) {
            return map_helper_conflict(type, helper.id).rfind(prefix, 0) == 0;
        });
        EXPECT_TRUE(named) << helper.name;
    }
    for (MapType type : all_map_types()) {
        const std::string prefix = std::string(map_type_name(type)) + " maps can only be used with ";
        std::string reason;
        for (const HelperPrototype& helper : all_helpers()) {
            const std::string_view conflict = map_helper_conflict(type, helper.id);
            if (conflict.rfind(prefix, 0) == 0) reason = conflict;
        }
        if (reason.empty()) continue;  // a map type that takes every helper
        for (const HelperPrototype& helper : all_helpers()) {
            if (helper.id == 0 || !map_helper_conflict(type, helper.id).empty()) continue;
            if (helper.name.find("dynptr") != std::string_view::npos)
                continue;  // "the ringbuf dynptr helpers"
            EXPECT_NE(reason.find(helper.name), std::string::npos)
                << map_type_name(type) << ": " << helper.name;
        }
    }
}

}  // namespace
}  // namespace bpfvm::isa
