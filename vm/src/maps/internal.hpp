// What the map implementations share: the kernel's flag bits and limits, small byte helpers and
// one factory per family of map types. create_map (maps.cpp) checks a definition before it
// calls a factory, so factories only fail when the host cannot provide memory.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "bpfvm/vm/maps.hpp"

namespace bpfvm::vm::detail {

// BPF_MAP_CREATE flags (include/uapi/linux/bpf.h).
inline constexpr uint32_t kFlagNoPrealloc = 1U << 0;
inline constexpr uint32_t kFlagNoCommonLru = 1U << 1;
inline constexpr uint32_t kFlagNumaNode = 1U << 2;
inline constexpr uint32_t kFlagReadOnly = 1U << 3;
inline constexpr uint32_t kFlagWriteOnly = 1U << 4;
inline constexpr uint32_t kFlagZeroSeed = 1U << 6;
inline constexpr uint32_t kFlagReadOnlyProg = 1U << 7;
inline constexpr uint32_t kFlagWriteOnlyProg = 1U << 8;
inline constexpr uint32_t kFlagMmapable = 1U << 10;
inline constexpr uint32_t kFlagPreserveElems = 1U << 11;
inline constexpr uint32_t kFlagInnerMap = 1U << 12;
inline constexpr uint32_t kFlagsAccess =
    kFlagReadOnly | kFlagWriteOnly | kFlagReadOnlyProg | kFlagWriteOnlyProg;

// Kernel sizes the checks mirror (x86-64, 4 KiB pages).
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kKmallocMaxSize = uint64_t{1} << 22;  // KMALLOC_MAX_SIZE
inline constexpr uint64_t kPercpuMaxValue = 32768;              // PCPU_MIN_UNIT_SIZE
inline constexpr uint32_t kMaxCpus = 8192;                      // the largest NR_CPUS

inline constexpr uint64_t round_up8(uint64_t n) {
    return (n + 7) & ~uint64_t{7};
}

inline uint32_t load_u32(const uint8_t* bytes) {
    uint32_t value;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

inline std::vector<uint8_t> u32_bytes(uint32_t value) {
    std::vector<uint8_t> bytes(sizeof value);
    std::memcpy(bytes.data(), &value, sizeof value);
    return bytes;
}

// Whether a type keeps one value per CPU.
bool is_percpu(isa::MapType type);

// "map 'name': problem", the form of every creation error.
Error map_error(ErrorKind kind, const MapSpec& spec, const std::string& problem);

using MapResult = Result<std::unique_ptr<Map>>;

MapResult make_array(MapSpec spec, uint32_t cpus);      // array, percpu_array
MapResult make_hash(MapSpec spec, uint32_t cpus);       // hash, percpu_hash, lru_hash, lru_percpu_hash
MapResult make_lpm_trie(MapSpec spec, uint32_t cpus);   // lpm_trie
MapResult make_queue(MapSpec spec, uint32_t cpus);      // queue, stack
MapResult make_reference(MapSpec spec, uint32_t cpus);  // prog_array, array_of_maps, hash_of_maps
MapResult make_redirect(MapSpec spec, uint32_t cpus);   // devmap, devmap_hash, cpumap, xskmap
MapResult make_ringbuf(MapSpec spec, uint32_t cpus);    // ringbuf
MapResult make_perf_event_array(MapSpec spec, uint32_t cpus, uint64_t max_buffered_bytes);

}  // namespace bpfvm::vm::detail
