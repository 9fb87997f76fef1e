// Simulated BPF maps: one interface per kind of map, one implementation per map type, with the
// kernel's semantics (update flags and their errors, LRU eviction, max_entries, per-CPU values).
// The values programs address live in host memory the map owns, exposed as memory regions so
// every engine checks pointers into them like any other access.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/program_types.hpp"
#include "bpfvm/vm/memory.hpp"

namespace bpfvm::vm {

// Flags of map_update_elem and map_push_elem (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
inline constexpr uint64_t kUpdateAny = 0;
inline constexpr uint64_t kUpdateNoExist = 1;
inline constexpr uint64_t kUpdateExist = 2;
inline constexpr uint64_t kUpdateLock = 4;

// Map creation flags that change behaviour here.
inline constexpr uint32_t kMapNoPrealloc = 1U << 0;    // BPF_F_NO_PREALLOC (required by lpm_trie)
inline constexpr uint32_t kMapReadOnlyProg = 1U << 7;  // BPF_F_RDONLY_PROG (.rodata)

// What a map is created from; tools convert the loader's definitions into these.
struct MapSpec {
    std::string name;
    isa::MapType type = isa::MapType::Unspec;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    uint64_t map_extra = 0;
    // Global data (.data, .rodata, .bss): the value of key 0 (shorter than value_size: zero-filled).
    std::vector<uint8_t> initial_data;
    // Array and hash of maps: the template every inner map must match.
    std::shared_ptr<const MapSpec> inner;
};

// Limits a run puts on maps, so a hostile definition cannot exhaust the host.
struct MapLimits {
    uint32_t cpus = 1;                       // simulated CPUs: per-CPU maps keep one value each
    uint64_t max_bytes = uint64_t{1} << 30;  // storage of one map, keys and values
};

// A map id: the index of a map in the runtime's table; prog arrays and maps of maps store ids.
using MapId = uint32_t;
// A program id: the index of a program in the runtime's table (what a prog array holds).
using ProgramId = uint32_t;

class Map {
 public:
    virtual ~Map() = default;
    Map(const Map&) = delete;
    Map& operator=(const Map&) = delete;

    const MapSpec& spec() const { return spec_; }
    const std::string& name() const { return spec_.name; }
    isa::MapType type() const { return spec_.type; }
    uint32_t cpus() const { return cpus_; }

    // The host memory programs may address directly (values of array and hash maps, ring buffer
    // data), as regions named after the map; read-only for BPF_F_RDONLY_PROG maps. Maps whose
    // values programs never address (queue, stack, prog array...) add none. The memory does not
    // move for the map's lifetime.
    virtual void add_regions(MemoryMap& memory) const = 0;

 protected:
    Map(MapSpec spec, uint32_t cpus) : spec_(std::move(spec)), cpus_(cpus) {}

 private:
    MapSpec spec_;
    uint32_t cpus_;
};

// Keys to values: array, percpu_array, hash, percpu_hash, lru_hash, lru_percpu_hash, lpm_trie
// (and global data, which are arrays). Pointers and spans cover key_size / value_size bytes.
class ElementMap : public Map {
 public:
    // --- What programs do (helpers), on the value of one CPU.
    // The address of the key's value, nullptr when there is none (an LRU lookup marks the
    // element used; an lpm_trie lookup finds the longest matching prefix).
    virtual uint8_t* lookup(const uint8_t* key, uint32_t cpu) = 0;
    // 0 or a negative errno as the kernel returns it: -EINVAL (unknown flags; BPF_F_LOCK, as bpfvm
    // models no bpf_spin_lock), -EEXIST (BPF_NOEXIST and present), -ENOENT (BPF_EXIST and absent),
    // -E2BIG (full, not LRU; an array index out of range), -ENOSPC (a full lpm_trie). A per-CPU
    // update writes this CPU's value; a new element's other CPUs read zeros.
    virtual int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags, uint32_t cpu) = 0;
    // 0, -ENOENT when absent, -EINVAL for arrays (their elements cannot be deleted). devmap,
    // cpumap and xskmap return 0 for an empty entry and -EINVAL past max_entries, as the kernel.
    virtual int64_t remove(const uint8_t* key) = 0;

    // --- What user space does (bpf(2)), on the values of every CPU: per-CPU maps lay them out
    // one after another, each rounded up to 8 bytes, as BPF_MAP_LOOKUP_ELEM does.
    uint32_t user_value_size() const;
    virtual std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const = 0;
    virtual int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) = 0;

    // Every key, in the order BPF_MAP_GET_NEXT_KEY would give them (arrays: all indices).
    virtual std::vector<std::vector<uint8_t>> keys() const = 0;
    // Calls visit with each key and this CPU's value until it returns false; what
    // for_each_map_elem walks. The key is a copy: the visitor may not keep it. The visitor must
    // not add or remove elements (values may change).
    virtual void for_each(uint32_t cpu,
                          const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) = 0;

 protected:
    using Map::Map;
};

// Values in order without keys: queue (first in, first out) and stack (last in, first out).
class QueueMap : public Map {
 public:
    // 0, or -E2BIG when full unless flags is BPF_EXIST (then the oldest value is dropped);
    // -EINVAL for other flags.
    virtual int64_t push(const uint8_t* value, uint64_t flags) = 0;
    // 0 and the value copied to out (value_size bytes), or -ENOENT when empty.
    virtual int64_t pop(uint8_t* out) = 0;
    virtual int64_t peek(uint8_t* out) const = 0;
    // The values in the order pop would return them.
    virtual std::vector<std::vector<uint8_t>> values() const = 0;

 protected:
    using Map::Map;
};

// Keys to ids of programs or maps: prog_array, array_of_maps, hash_of_maps. Programs read them
// (tail_call, map_lookup_elem on a map of maps); user space and the loader's `values`
// initializers fill them.
class ReferenceMap : public Map {
 public:
    virtual std::optional<uint32_t> get(const uint8_t* key) const = 0;
    // 0 or a negative errno as ElementMap::update (-E2BIG for an array index out of range).
    virtual int64_t set(const uint8_t* key, uint32_t id, uint64_t flags) = 0;
    virtual int64_t remove(const uint8_t* key) = 0;
    // Present keys in iteration order with their ids.
    virtual std::vector<std::pair<std::vector<uint8_t>, uint32_t>> entries() const = 0;
    // Whether ids are programs (prog_array) or maps (array_of_maps, hash_of_maps).
    bool holds_programs() const { return type() == isa::MapType::ProgArray; }

 protected:
    using Map::Map;
};

// Redirect targets of XDP and tc: devmap, devmap_hash, cpumap, xskmap. Values are the target
// (an ifindex, a CPU, a socket index) as user space wrote them; programs may look them up
// (read-only) and redirect_map to them.
class RedirectMap : public ElementMap {
 protected:
    using ElementMap::ElementMap;
};

// One record a ring buffer or perf event array received, as its reader sees it.
struct MapEvent {
    uint32_t cpu = 0;  // perf_event_array: the CPU buffer it went to
    std::vector<uint8_t> data;
};

// ringbuf: records reserved, written in place, then submitted or discarded, read in order.
// The data area is mapped twice back to back, as the kernel does, so a record that wraps
// around is contiguous for the program.
class RingBufferMap : public Map {
 public:
    // The record's address (8-byte aligned), or nullptr when there is no room or size is larger
    // than the ring allows.
    virtual uint8_t* reserve(uint64_t size) = 0;
    // Commits (or discards) a record reserve returned; false if the address is not an
    // outstanding reservation.
    virtual bool commit(const uint8_t* record, bool discard) = 0;
    // reserve + copy + commit: 0 or -EAGAIN when full.
    virtual int64_t output(std::span<const uint8_t> data) = 0;
    // BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2), BPF_RB_PROD_POS (3);
    // 0 for other flags, as the kernel.
    virtual uint64_t query(uint64_t flags) const = 0;
    // The reader: takes the submitted records in order, stopping at the first record still
    // reserved (discarded records are skipped).
    virtual std::vector<MapEvent> consume() = 0;

 protected:
    using Map::Map;
};

// perf_event_array: one buffer per simulated CPU; every CPU has a reader attached.
class PerfEventArrayMap : public Map {
 public:
    // flags & BPF_F_INDEX_MASK selects the CPU; BPF_F_CURRENT_CPU (0xffffffff) means `cpu`.
    // 0, -E2BIG for an index past max_entries, -ENOENT for an index with no CPU behind it,
    // -EOPNOTSUPP for another CPU's entry (its perf event is not on `cpu`), -ENOSPC when the
    // unread records fill the map's byte limit, -EINVAL for other flag bits (BPF_F_CTXLEN_MASK
    // bits are accepted: the skb/xdp helpers append the packet bytes they ask for).
    virtual int64_t output(uint64_t flags, uint32_t cpu, std::span<const uint8_t> data) = 0;
    virtual std::vector<MapEvent> consume() = 0;

 protected:
    using Map::Map;
};

// Creates a map as BPF_MAP_CREATE would: sizes, flags and max_entries checked against the
// type's rules (array keys are 4 bytes, queue keys 0, ring buffers a power-of-2 multiple of the
// page size, lpm_trie needs BPF_F_NO_PREALLOC...), and the storage against `limits`. Global data
// arrays start with their initial data. An error names the map and what is wrong; map types
// bpfvm does not simulate are reported as unsupported.
Result<std::unique_ptr<Map>> create_map(const MapSpec& spec, const MapLimits& limits);

// Whether an inner map matches a map-of-maps template (type, sizes, flags) as the kernel checks.
bool matches_template(const MapSpec& inner, const MapSpec& templ);

}  // namespace bpfvm::vm
