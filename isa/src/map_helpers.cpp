#include "bpfvm/isa/map_helpers.hpp"

#include <algorithm>

// Written from the kernel's check_map_func_compatibility (kernel/bpf/verifier.c), which checks a
// helper's map argument twice: once by map type (maps whose kernel side supports only some
// helpers) and once by helper (helpers that work only on some map types). Also from
// set_map_elem_callback_state (for_each_map_elem needs map_for_each_callback, which only the
// array and hash families implement) and may_update_sockmap.
namespace bpfvm::isa {
namespace {

// Helper ids of the kernel's __BPF_FUNC_MAPPER (frozen upstream).
enum HelperId : int32_t {
    kMapLookupElem = 1,
    kMapUpdateElem = 2,
    kMapDeleteElem = 3,
    kTailCall = 12,
    kPerfEventRead = 22,
    kPerfEventOutput = 25,
    kGetStackid = 27,
    kSkbUnderCgroup = 33,
    kCurrentTaskUnderCgroup = 37,
    kRedirectMap = 51,
    kSkRedirectMap = 52,
    kSockMapUpdate = 53,
    kPerfEventReadValue = 55,
    kMsgRedirectMap = 60,
    kSockHashUpdate = 70,
    kMsgRedirectHash = 71,
    kSkRedirectHash = 72,
    kGetLocalStorage = 81,
    kSkSelectReuseport = 82,
    kMapPushElem = 87,
    kMapPopElem = 88,
    kMapPeekElem = 89,
    kSkStorageGet = 107,
    kSkStorageDelete = 108,
    kSkbOutput = 111,
    kXdpOutput = 121,
    kRingbufOutput = 130,
    kRingbufReserve = 131,
    kRingbufQuery = 134,
    kInodeStorageGet = 145,
    kInodeStorageDelete = 146,
    kTaskStorageGet = 156,
    kTaskStorageDelete = 157,
    kForEachMapElem = 164,
    kKptrXchg = 194,
    kMapLookupPercpuElem = 195,
    kRingbufReserveDynptr = 198,
    kRingbufSubmitDynptr = 199,
    kRingbufDiscardDynptr = 200,
    kUserRingbufDrain = 209,
    kCgrpStorageGet = 210,
    kCgrpStorageDelete = 211,
};

// Map types whose kernel implementation supports only some helpers.
struct MapRule {
    MapType type;
    std::span<const int32_t> helpers;
    std::string_view reason;
};

constexpr int32_t kProgArrayHelpers[] = {kTailCall};
constexpr int32_t kPerfEventArrayHelpers[] = {kPerfEventRead, kPerfEventOutput, kSkbOutput,
                                              kPerfEventReadValue, kXdpOutput};
constexpr int32_t kRingbufHelpers[] = {kRingbufOutput,        kRingbufReserve,      kRingbufQuery,
                                       kRingbufReserveDynptr, kRingbufSubmitDynptr, kRingbufDiscardDynptr};
constexpr int32_t kUserRingbufHelpers[] = {kUserRingbufDrain};
constexpr int32_t kStackTraceHelpers[] = {kGetStackid};
constexpr int32_t kCgroupArrayHelpers[] = {kSkbUnderCgroup, kCurrentTaskUnderCgroup};
constexpr int32_t kCgroupStorageHelpers[] = {kGetLocalStorage};
constexpr int32_t kDevmapHelpers[] = {kRedirectMap, kMapLookupElem};
constexpr int32_t kCpumapHelpers[] = {kRedirectMap};
constexpr int32_t kMapInMapHelpers[] = {kMapLookupElem};
constexpr int32_t kSockmapHelpers[] = {kSkRedirectMap, kSockMapUpdate, kMsgRedirectMap, kSkSelectReuseport,
                                       kMapLookupElem};
constexpr int32_t kSockhashHelpers[] = {kSkRedirectHash, kSockHashUpdate, kMsgRedirectHash,
                                        kSkSelectReuseport, kMapLookupElem};
constexpr int32_t kReuseportHelpers[] = {kSkSelectReuseport};
constexpr int32_t kQueueHelpers[] = {kMapPeekElem, kMapPopElem, kMapPushElem};
constexpr int32_t kSkStorageHelpers[] = {kSkStorageGet, kSkStorageDelete, kKptrXchg};
constexpr int32_t kInodeStorageHelpers[] = {kInodeStorageGet, kInodeStorageDelete, kKptrXchg};
constexpr int32_t kTaskStorageHelpers[] = {kTaskStorageGet, kTaskStorageDelete, kKptrXchg};
constexpr int32_t kCgrpStorageHelpers[] = {kCgrpStorageGet, kCgrpStorageDelete, kKptrXchg};
constexpr int32_t kBloomFilterHelpers[] = {kMapPeekElem, kMapPushElem};

constexpr MapRule kMapRules[] = {
    {MapType::ProgArray, kProgArrayHelpers, "prog_array maps can only be used with tail_call"},
    {MapType::PerfEventArray, kPerfEventArrayHelpers,
     "perf_event_array maps can only be used with perf_event_output, perf_event_read, perf_event_read_value, "
     "skb_output and xdp_output"},
    {MapType::Ringbuf, kRingbufHelpers,
     "ringbuf maps can only be used with ringbuf_output, ringbuf_reserve, ringbuf_query and the ringbuf "
     "dynptr helpers"},
    {MapType::UserRingbuf, kUserRingbufHelpers, "user_ringbuf maps can only be used with user_ringbuf_drain"},
    {MapType::StackTrace, kStackTraceHelpers, "stack_trace maps can only be used with get_stackid"},
    {MapType::CgroupArray, kCgroupArrayHelpers,
     "cgroup_array maps can only be used with skb_under_cgroup and current_task_under_cgroup"},
    {MapType::CgroupStorage, kCgroupStorageHelpers,
     "cgroup_storage maps can only be used with get_local_storage"},
    {MapType::PercpuCgroupStorage, kCgroupStorageHelpers,
     "percpu_cgroup_storage maps can only be used with get_local_storage"},
    {MapType::Devmap, kDevmapHelpers, "devmap maps can only be used with redirect_map and map_lookup_elem"},
    {MapType::DevmapHash, kDevmapHelpers,
     "devmap_hash maps can only be used with redirect_map and map_lookup_elem"},
    {MapType::Cpumap, kCpumapHelpers, "cpumap maps can only be used with redirect_map"},
    {MapType::Xskmap, kDevmapHelpers, "xskmap maps can only be used with redirect_map and map_lookup_elem"},
    {MapType::ArrayOfMaps, kMapInMapHelpers, "array_of_maps maps can only be used with map_lookup_elem"},
    {MapType::HashOfMaps, kMapInMapHelpers, "hash_of_maps maps can only be used with map_lookup_elem"},
    {MapType::Sockmap, kSockmapHelpers,
     "sockmap maps can only be used with map_lookup_elem, sk_redirect_map, msg_redirect_map, sock_map_update "
     "and sk_select_reuseport (and map_update_elem / map_delete_elem from some program types)"},
    {MapType::Sockhash, kSockhashHelpers,
     "sockhash maps can only be used with map_lookup_elem, sk_redirect_hash, msg_redirect_hash, "
     "sock_hash_update "
     "and sk_select_reuseport (and map_update_elem / map_delete_elem from some program types)"},
    {MapType::ReuseportSockarray, kReuseportHelpers,
     "reuseport_sockarray maps can only be used with sk_select_reuseport"},
    {MapType::Queue, kQueueHelpers,
     "queue maps can only be used with map_push_elem, map_pop_elem and map_peek_elem"},
    {MapType::Stack, kQueueHelpers,
     "stack maps can only be used with map_push_elem, map_pop_elem and map_peek_elem"},
    {MapType::SkStorage, kSkStorageHelpers,
     "sk_storage maps can only be used with sk_storage_get, sk_storage_delete and kptr_xchg"},
    {MapType::InodeStorage, kInodeStorageHelpers,
     "inode_storage maps can only be used with inode_storage_get, inode_storage_delete and kptr_xchg"},
    {MapType::TaskStorage, kTaskStorageHelpers,
     "task_storage maps can only be used with task_storage_get, task_storage_delete and kptr_xchg"},
    {MapType::CgrpStorage, kCgrpStorageHelpers,
     "cgrp_storage maps can only be used with cgrp_storage_get, cgrp_storage_delete and kptr_xchg"},
    {MapType::BloomFilter, kBloomFilterHelpers,
     "bloom_filter maps can only be used with map_push_elem and map_peek_elem"},
};

// Helpers that work only on some map types.
struct HelperRule {
    int32_t helper;
    std::span<const MapType> types;
    std::string_view reason;
};

constexpr MapType kProgArray[] = {MapType::ProgArray};
constexpr MapType kPerfEventArray[] = {MapType::PerfEventArray};
constexpr MapType kRingbuf[] = {MapType::Ringbuf};
constexpr MapType kUserRingbuf[] = {MapType::UserRingbuf};
constexpr MapType kStackTrace[] = {MapType::StackTrace};
constexpr MapType kCgroupArray[] = {MapType::CgroupArray};
constexpr MapType kRedirectTargets[] = {MapType::Devmap, MapType::DevmapHash, MapType::Cpumap,
                                        MapType::Xskmap};
constexpr MapType kSockmap[] = {MapType::Sockmap};
constexpr MapType kSockhash[] = {MapType::Sockhash};
constexpr MapType kCgroupStorage[] = {MapType::CgroupStorage, MapType::PercpuCgroupStorage};
constexpr MapType kReuseportTargets[] = {MapType::ReuseportSockarray, MapType::Sockmap, MapType::Sockhash};
constexpr MapType kQueueStack[] = {MapType::Queue, MapType::Stack};
constexpr MapType kQueueStackBloom[] = {MapType::Queue, MapType::Stack, MapType::BloomFilter};
constexpr MapType kPercpu[] = {MapType::PercpuArray, MapType::PercpuHash, MapType::LruPercpuHash};
constexpr MapType kSkStorage[] = {MapType::SkStorage};
constexpr MapType kInodeStorage[] = {MapType::InodeStorage};
constexpr MapType kTaskStorage[] = {MapType::TaskStorage};
constexpr MapType kCgrpStorage[] = {MapType::CgrpStorage};
// The map types whose ops have map_for_each_callback (arraymap.c, hashtab.c).
constexpr MapType kForEach[] = {MapType::Array,      MapType::PercpuArray, MapType::Hash,
                                MapType::PercpuHash, MapType::LruHash,     MapType::LruPercpuHash};

constexpr HelperRule kHelperRules[] = {
    {kTailCall, kProgArray, "tail_call needs a prog_array map"},
    {kPerfEventRead, kPerfEventArray, "perf_event_read needs a perf_event_array map"},
    {kPerfEventOutput, kPerfEventArray, "perf_event_output needs a perf_event_array map"},
    {kPerfEventReadValue, kPerfEventArray, "perf_event_read_value needs a perf_event_array map"},
    {kSkbOutput, kPerfEventArray, "skb_output needs a perf_event_array map"},
    {kXdpOutput, kPerfEventArray, "xdp_output needs a perf_event_array map"},
    {kRingbufOutput, kRingbuf, "ringbuf_output needs a ringbuf map"},
    {kRingbufReserve, kRingbuf, "ringbuf_reserve needs a ringbuf map"},
    {kRingbufQuery, kRingbuf, "ringbuf_query needs a ringbuf map"},
    {kRingbufReserveDynptr, kRingbuf, "ringbuf_reserve_dynptr needs a ringbuf map"},
    {kRingbufSubmitDynptr, kRingbuf, "ringbuf_submit_dynptr needs a ringbuf map"},
    {kRingbufDiscardDynptr, kRingbuf, "ringbuf_discard_dynptr needs a ringbuf map"},
    {kUserRingbufDrain, kUserRingbuf, "user_ringbuf_drain needs a user_ringbuf map"},
    {kGetStackid, kStackTrace, "get_stackid needs a stack_trace map"},
    {kCurrentTaskUnderCgroup, kCgroupArray, "current_task_under_cgroup needs a cgroup_array map"},
    {kSkbUnderCgroup, kCgroupArray, "skb_under_cgroup needs a cgroup_array map"},
    {kRedirectMap, kRedirectTargets, "redirect_map needs a devmap, devmap_hash, cpumap or xskmap map"},
    {kSkRedirectMap, kSockmap, "sk_redirect_map needs a sockmap map"},
    {kMsgRedirectMap, kSockmap, "msg_redirect_map needs a sockmap map"},
    {kSockMapUpdate, kSockmap, "sock_map_update needs a sockmap map"},
    {kSkRedirectHash, kSockhash, "sk_redirect_hash needs a sockhash map"},
    {kMsgRedirectHash, kSockhash, "msg_redirect_hash needs a sockhash map"},
    {kSockHashUpdate, kSockhash, "sock_hash_update needs a sockhash map"},
    {kGetLocalStorage, kCgroupStorage,
     "get_local_storage needs a cgroup_storage or percpu_cgroup_storage map"},
    {kSkSelectReuseport, kReuseportTargets,
     "sk_select_reuseport needs a reuseport_sockarray, sockmap or sockhash map"},
    {kMapPopElem, kQueueStack, "map_pop_elem needs a queue or stack map"},
    {kMapPeekElem, kQueueStackBloom, "map_peek_elem needs a queue, stack or bloom_filter map"},
    {kMapPushElem, kQueueStackBloom, "map_push_elem needs a queue, stack or bloom_filter map"},
    {kMapLookupPercpuElem, kPercpu,
     "map_lookup_percpu_elem needs a percpu_array, percpu_hash or lru_percpu_hash map"},
    {kSkStorageGet, kSkStorage, "sk_storage_get needs an sk_storage map"},
    {kSkStorageDelete, kSkStorage, "sk_storage_delete needs an sk_storage map"},
    {kInodeStorageGet, kInodeStorage, "inode_storage_get needs an inode_storage map"},
    {kInodeStorageDelete, kInodeStorage, "inode_storage_delete needs an inode_storage map"},
    {kTaskStorageGet, kTaskStorage, "task_storage_get needs a task_storage map"},
    {kTaskStorageDelete, kTaskStorage, "task_storage_delete needs a task_storage map"},
    {kCgrpStorageGet, kCgrpStorage, "cgrp_storage_get needs a cgrp_storage map"},
    {kCgrpStorageDelete, kCgrpStorage, "cgrp_storage_delete needs a cgrp_storage map"},
    {kForEachMapElem, kForEach,
     "for_each_map_elem needs a map with a for-each callback: array, percpu_array, hash, percpu_hash, "
     "lru_hash or "
     "lru_percpu_hash"},
};

constexpr std::string_view kSockmapUpdateReason =
    "sockmap and sockhash elements can be updated only from socket_filter, sched_cls, sched_act, xdp, "
    "sk_reuseport, flow_dissector and sk_lookup programs and map iterators, and deleted also from sock_ops";

// may_update_sockmap. Tracing programs may update only as map iterators; bpfvm does not know the
// attach type here and rejects them.
bool may_update_sockmap(ProgramType program, int32_t helper) {
    switch (program) {
        case ProgramType::SockOps: return helper == kMapDeleteElem;
        case ProgramType::SocketFilter:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct:
        case ProgramType::Xdp:
        case ProgramType::SkReuseport:
        case ProgramType::FlowDissector:
        case ProgramType::SkLookup: return true;
        default: return false;
    }
}

template <typename T>
bool contains(std::span<const T> values, T value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

std::string_view map_helper_conflict(MapType type, int32_t helper_id, std::optional<ProgramType> program) {
    for (const MapRule& rule : kMapRules) {
        if (rule.type != type || contains(rule.helpers, helper_id)) continue;
        const bool sockets = type == MapType::Sockmap || type == MapType::Sockhash;
        if (sockets && (helper_id == kMapUpdateElem || helper_id == kMapDeleteElem)) {
            if (!program || may_update_sockmap(*program, helper_id)) break;
            return kSockmapUpdateReason;
        }
        return rule.reason;
    }
    for (const HelperRule& rule : kHelperRules) {
        if (rule.helper == helper_id && !contains(rule.types, type)) return rule.reason;
    }
    return {};
}

std::span<const MapType> map_types_for_helper(int32_t helper_id) {
    for (const HelperRule& rule : kHelperRules) {
        if (rule.helper == helper_id) return rule.types;
    }
    return {};
}

}  // namespace bpfvm::isa
