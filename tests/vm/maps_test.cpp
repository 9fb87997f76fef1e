// Simulated maps: creation checks, update flags with the kernel's errno values, eviction and
// lookup rules per type, per-CPU layouts, ring buffer records, and the memory regions programs
// address values through.
#include "bpfvm/vm/maps.hpp"
#include "vm/vm_test_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace bpfvm::vm {
namespace {

using isa::MapType;

constexpr uint32_t kNoPrealloc = 1;
constexpr uint32_t kInnerMap = 1U << 12;

using test::make_spec;

MapLimits limits_for(uint32_t cpus, uint64_t max_bytes = uint64_t{1} << 30) {
    MapLimits limits;
    limits.cpus = cpus;
    limits.max_bytes = max_bytes;
    return limits;
}

std::unique_ptr<Map> create_ok(const MapSpec& spec, const MapLimits& limits = {}) {
    auto map = create_map(spec, limits);
    EXPECT_TRUE(map.ok()) << (map ? "" : map.error().to_string());
    return map ? std::move(*map) : nullptr;
}

Error create_fails(const MapSpec& spec, const MapLimits& limits = {}) {
    auto map = create_map(spec, limits);
    EXPECT_FALSE(map.ok()) << "map '" << spec.name << "' was created";
    return map ? make_error(ErrorKind::InvalidInput, "created") : map.error();
}

template <typename T>
std::unique_ptr<T> create_as(const MapSpec& spec, const MapLimits& limits = {}) {
    auto map = create_ok(spec, limits);
    auto* typed = dynamic_cast<T*>(map.get());
    EXPECT_NE(typed, nullptr) << "map '" << spec.name << "' has the wrong interface";
    if (typed == nullptr) return nullptr;
    map.release();
    return std::unique_ptr<T>(typed);
}

std::vector<uint8_t> u32(uint32_t value) {
    std::vector<uint8_t> bytes(4);
    std::memcpy(bytes.data(), &value, 4);
    return bytes;
}

std::vector<uint8_t> u64(uint64_t value) {
    std::vector<uint8_t> bytes(8);
    std::memcpy(bytes.data(), &value, 8);
    return bytes;
}

uint64_t load64(const uint8_t* bytes) {
    uint64_t value;
    std::memcpy(&value, bytes, 8);
    return value;
}

uint32_t load32(const uint8_t* bytes) {
    uint32_t value;
    std::memcpy(&value, bytes, 4);
    return value;
}

uint64_t address(const void* pointer) {
    return reinterpret_cast<uint64_t>(pointer);
}

// An lpm_trie key for IPv4: {prefixlen; a.b.c.d}.
std::vector<uint8_t> ipv4_key(uint32_t prefixlen, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    std::vector<uint8_t> key(8);
    std::memcpy(key.data(), &prefixlen, 4);
    key[4] = a;
    key[5] = b;
    key[6] = c;
    key[7] = d;
    return key;
}

// --- Creation ---------------------------------------------------------------------------------

struct InvalidCase {
    MapSpec spec;
    std::string message;  // the whole message, or a part of it when partial
    bool partial;
};

TEST(MapCreate, InvalidDefinitionsAreRejectedWithTheMapNamed) {
    auto inner_array = std::make_shared<MapSpec>(make_spec("inner", MapType::Array, 8, 4, 1));
    auto inner_prog_array = std::make_shared<MapSpec>(make_spec("progs", MapType::ProgArray, 4, 4, 1));
    auto outer = [](MapType type, uint32_t key, std::shared_ptr<MapSpec> inner) {
        auto spec = make_spec("outer", type, key, 4, 4);
        spec.inner = std::move(inner);
        return spec;
    };
    auto with_data = [](MapSpec spec, size_t bytes) {
        spec.initial_data.assign(bytes, 1);
        return spec;
    };
    auto with_extra = [](MapSpec spec) {
        spec.map_extra = 1;
        return spec;
    };
    const std::vector<InvalidCase> cases = {
        {make_spec("counts", MapType::Array, 8, 8, 4), "map 'counts': array keys must be 4 bytes, not 8",
         false},
        {make_spec("a", MapType::Array, 4, 8, 0), "map 'a': max_entries must be more than 0", false},
        {make_spec("a", MapType::Array, 4, 0, 1), "map 'a': array values must not be empty", true},
        {make_spec("a", MapType::PercpuArray, 4, 32769, 1), "percpu_array values must be at most 32768 bytes",
         true},
        {make_spec("a", MapType::PercpuArray, 4, 8, 1, kInnerMap),
         "flags 0x1000 are not valid for percpu_array", true},
        {make_spec("a", MapType::Array, 4, 8, 1, 1U << 20),
         "map 'a': flags 0x100000 are not valid for array maps", false},
        {make_spec("a", MapType::Array, 4, 8, 1, 0x180), "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG", true},
        {with_extra(make_spec("a", MapType::Array, 4, 8, 1)), "map_extra must be 0", true},
        {with_data(make_spec("h", MapType::Hash, 4, 8, 1), 4),
         "map 'h': only array maps can hold initial data", false},
        {with_data(make_spec("d", MapType::Array, 4, 8, 1), 9), "initial data of 9 bytes does not fit", true},
        {make_spec("h", MapType::Hash, 0, 8, 4), "map 'h': hash keys must not be empty", true},
        {make_spec("h", MapType::Hash, 4, 0, 4), "map 'h': hash values must not be empty", true},
        {make_spec("h", MapType::Hash, 4, 8, 4, 2), "map 'h': flags 0x2 are not valid for hash maps", false},
        {make_spec("h", MapType::Hash, 4, 1U << 22, 4), "keys and values together must be under", true},
        {make_spec("h", MapType::PercpuHash, 4, 8, 4, 4), "flags 0x4 are not valid for percpu_hash", true},
        {make_spec("l", MapType::LruHash, 4, 8, 4, kNoPrealloc),
         "map 'l': lru_hash maps are always preallocated", true},
        {make_spec("q", MapType::Queue, 4, 8, 4), "map 'q': queue keys must be 0 bytes, not 4", false},
        {make_spec("s", MapType::Stack, 0, 0, 4), "map 's': stack values must not be empty", true},
        {make_spec("r", MapType::Ringbuf, 0, 0, 1000),
         "map 'r': ringbuf size (max_entries) must be a power of 2", true},
        {make_spec("r", MapType::Ringbuf, 0, 0, 3 * 4096),
         "must be a power of 2 and a multiple of 4096, not 12288", true},
        {make_spec("r", MapType::Ringbuf, 0, 0, 2048), "not 2048", true},
        {make_spec("r", MapType::Ringbuf, 0, 4, 4096), "map 'r': ringbuf values must be 0 bytes, not 4",
         false},
        {make_spec("r", MapType::Ringbuf, 0, 0, 4096, 0x80), "flags 0x80 are not valid for ringbuf", true},
        {make_spec("p", MapType::PerfEventArray, 4, 8, 4), "map 'p': perf_event_array values must be 4 bytes",
         true},
        {make_spec("p", MapType::ProgArray, 4, 8, 4), "map 'p': prog_array values must be 4 bytes, not 8",
         false},
        {make_spec("t", MapType::LpmTrie, 4, 8, 4, kNoPrealloc),
         "map 't': lpm_trie keys must be 5 to 260 bytes", true},
        {make_spec("t", MapType::LpmTrie, 261, 8, 4, kNoPrealloc), "not 261", true},
        {make_spec("t", MapType::LpmTrie, 8, 8, 4), "map 't': lpm_trie maps need BPF_F_NO_PREALLOC", true},
        {make_spec("t", MapType::LpmTrie, 8, 0, 4, kNoPrealloc), "lpm_trie values must not be empty", true},
        {make_spec("d", MapType::Devmap, 4, 6, 4), "map 'd': devmap values must be 4 or 8 bytes, not 6",
         false},
        {make_spec("d", MapType::Devmap, 4, 4, 4, 0x80), "flags 0x80 are not valid for devmap", true},
        {make_spec("c", MapType::Cpumap, 4, 12, 4), "cpumap values must be 4 or 8 bytes", true},
        {make_spec("c", MapType::Cpumap, 4, 4, 9000), "cpumap max_entries must be at most 8192", true},
        {make_spec("x", MapType::Xskmap, 4, 8, 4), "map 'x': xskmap values must be 4 bytes, not 8", false},
        {make_spec("outer", MapType::ArrayOfMaps, 4, 4, 4),
         "map 'outer': maps of maps need an inner map template", false},
        {outer(MapType::ArrayOfMaps, 4, inner_prog_array),
         "map 'outer': inner map 'progs': prog_array maps cannot be inner maps", false},
        {outer(MapType::HashOfMaps, 4, inner_array),
         "map 'outer': inner map 'inner': array keys must be 4 bytes", true},
        {outer(MapType::HashOfMaps, 0, inner_array), "map 'outer': hash_of_maps keys must not be empty",
         true},
    };
    for (const auto& c : cases) {
        const Error error = create_fails(c.spec);
        EXPECT_EQ(error.kind, ErrorKind::InvalidInput) << error.message;
        if (c.partial) {
            EXPECT_NE(error.message.find(c.message), std::string::npos) << error.message;
            EXPECT_EQ(error.message.rfind("map '" + c.spec.name + "': ", 0), 0U) << error.message;
        } else {
            EXPECT_EQ(error.message, c.message);
        }
    }
}

TEST(MapCreate, TypesThatAreNotSimulatedAreUnsupported) {
    for (MapType type :
         {MapType::Unspec, MapType::StackTrace, MapType::CgroupArray, MapType::Sockmap, MapType::Sockhash,
          MapType::CgroupStorage, MapType::ReuseportSockarray, MapType::PercpuCgroupStorage,
          MapType::SkStorage, MapType::StructOps, MapType::InodeStorage, MapType::TaskStorage,
          MapType::BloomFilter, MapType::UserRingbuf, MapType::CgrpStorage, MapType::Arena}) {
        const Error error = create_fails(make_spec("m", type, 4, 8, 4));
        EXPECT_EQ(error.kind, ErrorKind::Unsupported) << error.message;
        EXPECT_EQ(error.message,
                  "map 'm': " + std::string(isa::map_type_name(type)) + " maps are not simulated by bpfvm");
    }
    const Error unknown = create_fails(make_spec("m", static_cast<MapType>(99), 4, 8, 4));
    EXPECT_EQ(unknown.kind, ErrorKind::InvalidInput);
    EXPECT_EQ(unknown.message, "map 'm': unknown map type 99");
}

TEST(MapCreate, StorageLimitRejectsHugeMapsWithoutAllocating) {
    const Error array = create_fails(make_spec("big", MapType::Array, 4, 8, 1U << 31));
    EXPECT_EQ(array.message, "map 'big' needs 17179869184 bytes, more than the 1073741824 a map may use");

    // Per-CPU values count once per CPU; hash keys count too (rounded up to 8).
    const auto percpu = make_spec("pc", MapType::PercpuHash, 4, 12, 1024);
    create_ok(percpu, limits_for(4, 1024 * (8 + 16 * 4)));
    EXPECT_EQ(create_fails(percpu, limits_for(4, 1024 * (8 + 16 * 4) - 1)).message,
              "map 'pc' needs 73728 bytes, more than the 73727 a map may use");
    EXPECT_NE(create_fails(make_spec("r", MapType::Ringbuf, 0, 0, 1U << 31)).message.find("needs 2147483648"),
              std::string::npos);
}

TEST(MapCreate, BigPreallocatedMapsCostOnlyTouchedPages) {
    // 512 MiB of values: fine because nothing but the written page is ever backed.
    auto map = create_as<ElementMap>(make_spec("sparse", MapType::Array, 4, 8, 1U << 26));
    const auto key = u32((1U << 26) - 1);
    const auto value = u64(42);
    ASSERT_EQ(map->update(key.data(), value.data(), kUpdateAny, 0), 0);
    EXPECT_EQ(load64(map->lookup(key.data(), 0)), 42U);
}

TEST(MapCreate, CpuCountMustBeSensible) {
    EXPECT_NE(create_fails(make_spec("a", MapType::Array, 4, 8, 1), limits_for(0)).message.find("map 'a'"),
              std::string::npos);
}

TEST(MapCreate, PerfEventArrayWithoutMaxEntriesGetsOneEntryPerCpu) {
    auto map = create_ok(make_spec("events", MapType::PerfEventArray, 4, 4, 0), limits_for(4));
    EXPECT_EQ(map->spec().max_entries, 4U);
}

TEST(MapCreate, TemplatesMatchAsTheKernelCompares) {
    const auto array = make_spec("a", MapType::Array, 4, 8, 4);
    auto other = array;
    EXPECT_TRUE(matches_template(other, array));
    other.max_entries = 8;
    EXPECT_FALSE(matches_template(other, array));  // arrays compare max_entries...
    auto flexible = array;
    flexible.flags = kInnerMap;
    other.flags = kInnerMap;
    EXPECT_TRUE(matches_template(other, flexible));  // ...unless the template has BPF_F_INNER_MAP

    const auto hash = make_spec("h", MapType::Hash, 4, 8, 4);
    auto bigger = hash;
    bigger.max_entries = 100;
    EXPECT_TRUE(matches_template(bigger, hash));
    bigger.value_size = 16;
    EXPECT_FALSE(matches_template(bigger, hash));
    auto lru = hash;
    lru.type = MapType::LruHash;
    EXPECT_FALSE(matches_template(lru, hash));
    auto preallocated = hash;
    preallocated.flags = kNoPrealloc;
    EXPECT_FALSE(matches_template(preallocated, hash));

    const auto progs = make_spec("p", MapType::ProgArray, 4, 4, 4);
    EXPECT_FALSE(matches_template(progs, progs));
}

// --- Arrays -----------------------------------------------------------------------------------

TEST(MapArray, UpdateFlagsAndBounds) {
    auto map = create_as<ElementMap>(make_spec("arr", MapType::Array, 4, 8, 4));
    const auto key = u32(2);
    const auto past = u32(4);
    const auto value = u64(7);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateNoExist, 0), -EEXIST);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateExist, 0), 0);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateAny, 0), 0);
    EXPECT_EQ(map->update(key.data(), value.data(), 3, 0), -EINVAL);
    EXPECT_EQ(map->update(key.data(), value.data(), 8, 0), -EINVAL);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateLock, 0), -EINVAL);
    EXPECT_EQ(map->update(past.data(), value.data(), kUpdateAny, 0), -E2BIG);
    EXPECT_EQ(map->lookup(past.data(), 0), nullptr);
    EXPECT_EQ(map->remove(key.data()), -EINVAL);
    EXPECT_EQ(map->read(key), u64(7));
    EXPECT_EQ(map->read(u32(0)), u64(0));
    EXPECT_FALSE(map->read(past));
    EXPECT_EQ(map->keys(), (std::vector<std::vector<uint8_t>>{u32(0), u32(1), u32(2), u32(3)}));
    EXPECT_EQ(map->write(u32(1), u64(9), kUpdateNoExist), -EEXIST);
    EXPECT_EQ(map->write(u32(1), u64(9), kUpdateAny), 0);
    EXPECT_EQ(load64(map->lookup(u32(1).data(), 0)), 9U);
}

TEST(MapArray, GlobalDataStartsWithItsInitialValueAndRodataIsReadOnly) {
    auto spec = make_spec(".rodata", MapType::Array, 4, 12, 1, kMapReadOnlyProg);
    spec.initial_data = {'h', 'i', '!', 0, 5};
    auto map = create_as<ElementMap>(spec);
    EXPECT_EQ(map->read(u32(0)), (std::vector<uint8_t>{'h', 'i', '!', 0, 5, 0, 0, 0, 0, 0, 0, 0}));

    MemoryMap memory;
    map->add_regions(memory);
    ASSERT_EQ(memory.regions().size(), 1U);
    EXPECT_EQ(memory.regions()[0].name, ".rodata");
    const uint8_t* value = map->lookup(u32(0).data(), 0);
    ASSERT_NE(memory.find(address(value), 12, Access::Read), nullptr);
    EXPECT_EQ(memory.find(address(value), 1, Access::Write), nullptr);

    auto data = create_as<ElementMap>(make_spec(".data", MapType::Array, 4, 12, 1));
    MemoryMap writable;
    data->add_regions(writable);
    EXPECT_NE(writable.find(address(data->lookup(u32(0).data(), 0)), 12, Access::Write), nullptr);
}

TEST(MapArray, ForEachVisitsEveryIndexUntilTheVisitorStops) {
    auto map = create_as<ElementMap>(make_spec("arr", MapType::Array, 4, 4, 5));
    std::vector<uint32_t> seen;
    map->for_each(0, [&](std::span<const uint8_t> key, uint8_t* value) {
        seen.push_back(load32(key.data()));
        std::memcpy(value, key.data(), 4);  // visitors may change values
        return seen.size() < 3;
    });
    EXPECT_EQ(seen, (std::vector<uint32_t>{0, 1, 2}));
    EXPECT_EQ(map->read(u32(2)), u32(2));
    EXPECT_EQ(map->read(u32(3)), u32(0));
}

// --- Per-CPU maps -----------------------------------------------------------------------------

TEST(MapPerCpu, ArrayKeepsOneValuePerCpuAndUserSpaceSeesThemRoundedToEight) {
    auto map = create_as<ElementMap>(make_spec("pcpu", MapType::PercpuArray, 4, 12, 2), limits_for(4));
    EXPECT_EQ(map->user_value_size(), 64U);
    const auto key = u32(1);
    const std::vector<uint8_t> value = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ASSERT_EQ(map->update(key.data(), value.data(), kUpdateAny, 2), 0);
    EXPECT_EQ(std::memcmp(map->lookup(key.data(), 2), value.data(), 12), 0);
    EXPECT_EQ(load64(map->lookup(key.data(), 0)), 0U);
    EXPECT_NE(map->lookup(key.data(), 0), map->lookup(key.data(), 2));

    auto all = map->read(key);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 64U);
    for (size_t i = 0; i < 64; ++i) {
        const size_t cpu = i / 16;
        const size_t offset = i % 16;
        const uint8_t expected = cpu == 2 && offset < 12 ? value[offset] : 0;
        EXPECT_EQ((*all)[i], expected) << "byte " << i;
    }

    std::vector<uint8_t> values(64);
    for (uint32_t cpu = 0; cpu < 4; ++cpu) std::memcpy(values.data() + cpu * 16, &cpu, 4);
    EXPECT_EQ(map->write(key, values, kUpdateNoExist), -EEXIST);
    EXPECT_EQ(map->write(key, values, kUpdateLock), -EINVAL);
    EXPECT_EQ(map->write(key, std::span<const uint8_t>(values).first(12), kUpdateAny), -EINVAL);
    ASSERT_EQ(map->write(key, values, kUpdateAny), 0);
    for (uint32_t cpu = 0; cpu < 4; ++cpu) EXPECT_EQ(load32(map->lookup(key.data(), cpu)), cpu);

    MemoryMap memory;
    map->add_regions(memory);
    ASSERT_EQ(memory.regions().size(), 1U);
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
        EXPECT_NE(memory.find(address(map->lookup(key.data(), cpu)), 12, Access::Write), nullptr);
    }
}

TEST(MapPerCpu, NewHashElementFromAProgramZeroesTheOtherCpus) {
    auto map = create_as<ElementMap>(make_spec("pch", MapType::PercpuHash, 4, 8, 2), limits_for(4));
    const auto key = u32(10);
    std::vector<uint8_t> everywhere(32, 0xee);
    ASSERT_EQ(map->write(key, everywhere, kUpdateAny), 0);
    ASSERT_EQ(map->remove(key.data()), 0);
    // The new element reuses the slot the removed one filled with 0xee.
    const auto value = u64(5);
    ASSERT_EQ(map->update(key.data(), value.data(), kUpdateNoExist, 1), 0);
    std::vector<uint8_t> expected(32, 0);
    expected[8] = 5;
    EXPECT_EQ(map->read(key), expected);
    // An update of an existing element changes only the caller's CPU.
    const auto other = u64(6);
    ASSERT_EQ(map->update(key.data(), other.data(), kUpdateExist, 3), 0);
    expected[24] = 6;
    EXPECT_EQ(map->read(key), expected);
    EXPECT_EQ(load64(map->lookup(key.data(), 1)), 5U);
}

TEST(MapPerCpu, LruPercpuHashEvictsAndKeepsCpusApart) {
    auto map = create_as<ElementMap>(make_spec("lpc", MapType::LruPercpuHash, 4, 4, 1), limits_for(2));
    const auto a = u32(1);
    const auto b = u32(2);
    const auto value = u32(77);
    ASSERT_EQ(map->update(a.data(), value.data(), kUpdateAny, 1), 0);
    ASSERT_EQ(map->update(b.data(), value.data(), kUpdateAny, 0), 0);
    EXPECT_EQ(map->lookup(a.data(), 0), nullptr);
    EXPECT_EQ(map->read(b), (std::vector<uint8_t>{77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

// --- Hash maps --------------------------------------------------------------------------------

TEST(MapHash, UpdateFlagsFullAndRemove) {
    auto map = create_as<ElementMap>(make_spec("h", MapType::Hash, 4, 8, 2));
    const auto a = u32(1), b = u32(2), c = u32(3);
    const auto value = u64(11);
    EXPECT_EQ(map->update(a.data(), value.data(), kUpdateExist, 0), -ENOENT);
    EXPECT_EQ(map->update(a.data(), value.data(), kUpdateNoExist, 0), 0);
    EXPECT_EQ(map->update(a.data(), value.data(), kUpdateNoExist, 0), -EEXIST);
    EXPECT_EQ(map->update(a.data(), value.data(), kUpdateExist, 0), 0);
    EXPECT_EQ(map->update(a.data(), value.data(), 3, 0), -EINVAL);
    EXPECT_EQ(map->update(a.data(), value.data(), kUpdateLock, 0), -EINVAL);
    EXPECT_EQ(map->update(b.data(), value.data(), kUpdateAny, 0), 0);
    EXPECT_EQ(map->update(c.data(), value.data(), kUpdateAny, 0), -E2BIG);
    // Replacing an element of a full map is fine.
    const auto other = u64(12);
    EXPECT_EQ(map->update(b.data(), other.data(), kUpdateAny, 0), 0);
    EXPECT_EQ(map->read(b), u64(12));
    EXPECT_EQ(map->remove(c.data()), -ENOENT);
    EXPECT_EQ(map->remove(a.data()), 0);
    EXPECT_EQ(map->lookup(a.data(), 0), nullptr);
    EXPECT_FALSE(map->read(a));
    EXPECT_EQ(map->update(c.data(), value.data(), kUpdateAny, 0), 0);
}

TEST(MapHash, IterationFollowsSlotOrder) {
    auto map = create_as<ElementMap>(make_spec("h", MapType::Hash, 4, 4, 8));
    for (uint32_t k : {30U, 10U, 20U}) ASSERT_EQ(map->write(u32(k), u32(k * 2), kUpdateAny), 0);
    EXPECT_EQ(map->keys(), (std::vector<std::vector<uint8_t>>{u32(30), u32(10), u32(20)}));
    ASSERT_EQ(map->remove(u32(10).data()), 0);
    ASSERT_EQ(map->write(u32(40), u32(80), kUpdateAny), 0);  // takes the freed slot
    EXPECT_EQ(map->keys(), (std::vector<std::vector<uint8_t>>{u32(30), u32(40), u32(20)}));
    std::vector<uint32_t> values;
    map->for_each(0, [&](std::span<const uint8_t>, uint8_t* value) {
        values.push_back(load32(value));
        return true;
    });
    EXPECT_EQ(values, (std::vector<uint32_t>{60, 80, 40}));
}

TEST(MapHash, KeysAreComparedByAllTheirBytes) {
    auto map = create_as<ElementMap>(make_spec("h", MapType::Hash, 6, 4, 4));
    const std::vector<uint8_t> k1 = {1, 2, 3, 4, 5, 6};
    const std::vector<uint8_t> k2 = {1, 2, 3, 4, 5, 7};
    ASSERT_EQ(map->write(k1, u32(1), kUpdateAny), 0);
    ASSERT_EQ(map->write(k2, u32(2), kUpdateAny), 0);
    EXPECT_EQ(load32(map->lookup(k1.data(), 0)), 1U);
    EXPECT_EQ(load32(map->lookup(k2.data(), 0)), 2U);
    EXPECT_EQ(map->write(std::span<const uint8_t>(k1).first(4), u32(3), kUpdateAny), -EINVAL);
}

TEST(MapLru, FullMapEvictsTheLeastRecentlyUsed) {
    auto map = create_as<ElementMap>(make_spec("lru", MapType::LruHash, 4, 4, 3));
    auto insert = [&](uint32_t k) {
        const auto key = u32(k);
        const auto value = u32(k + 100);
        return map->update(key.data(), value.data(), kUpdateAny, 0);
    };
    auto present = [&](uint32_t k) { return map->read(u32(k)).has_value(); };
    ASSERT_EQ(insert(1), 0);
    ASSERT_EQ(insert(2), 0);
    ASSERT_EQ(insert(3), 0);
    ASSERT_NE(map->lookup(u32(1).data(), 0), nullptr);  // 1 is now the most recently used
    ASSERT_EQ(insert(4), 0);                            // evicts 2
    EXPECT_FALSE(present(2));
    EXPECT_TRUE(present(1) && present(3) && present(4));
    ASSERT_EQ(insert(3), 0);  // an update is a use too: order is 1, 4, 3
    ASSERT_EQ(insert(5), 0);  // evicts 1
    EXPECT_FALSE(present(1));
    // User-space reads do not count as use (the kernel's lookup_elem_sys_only): 4 is evicted.
    EXPECT_TRUE(present(4));
    ASSERT_EQ(insert(6), 0);
    EXPECT_FALSE(present(4));
    EXPECT_TRUE(present(3) && present(5) && present(6));

    const auto key = u32(6);
    const auto value = u32(0);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateNoExist, 0), -EEXIST);
    EXPECT_EQ(map->update(u32(9).data(), value.data(), kUpdateExist, 0), -ENOENT);
    EXPECT_EQ(map->update(key.data(), value.data(), kUpdateLock, 0), -EINVAL);
}

// --- lpm_trie ---------------------------------------------------------------------------------

TEST(MapLpm, LookupFindsTheLongestMatchingPrefix) {
    auto map = create_as<ElementMap>(make_spec("routes", MapType::LpmTrie, 8, 4, 8, kNoPrealloc));
    ASSERT_EQ(map->write(ipv4_key(8, 10, 0, 0, 0), u32(1), kUpdateAny), 0);
    ASSERT_EQ(map->write(ipv4_key(16, 10, 1, 0, 0), u32(2), kUpdateAny), 0);
    auto lookup = [&](std::vector<uint8_t> key) -> int64_t {
        const uint8_t* value = map->lookup(key.data(), 0);
        return value == nullptr ? int64_t{-1} : int64_t{load32(value)};
    };
    EXPECT_EQ(lookup(ipv4_key(32, 10, 1, 2, 3)), 2);
    EXPECT_EQ(lookup(ipv4_key(32, 10, 2, 0, 0)), 1);
    EXPECT_EQ(lookup(ipv4_key(32, 11, 0, 0, 1)), -1);
    // The lookup key's own prefix length bounds the match.
    EXPECT_EQ(lookup(ipv4_key(12, 10, 1, 2, 3)), 1);
    EXPECT_EQ(lookup(ipv4_key(33, 10, 1, 2, 3)), -1);
    ASSERT_EQ(map->write(ipv4_key(0, 0, 0, 0, 0), u32(3), kUpdateAny), 0);
    EXPECT_EQ(lookup(ipv4_key(32, 11, 0, 0, 1)), 3);
    EXPECT_EQ(map->read(ipv4_key(32, 10, 1, 9, 9)), u32(2));
    // A prefix length that ends inside a byte.
    ASSERT_EQ(map->write(ipv4_key(12, 10, 0x30, 0, 0), u32(4), kUpdateAny), 0);
    EXPECT_EQ(lookup(ipv4_key(32, 10, 0x3f, 1, 1)), 4);
    EXPECT_EQ(lookup(ipv4_key(32, 10, 0x40, 1, 1)), 1);
}

TEST(MapLpm, UpdateAndRemoveFollowTheKernel) {
    auto map = create_as<ElementMap>(make_spec("routes", MapType::LpmTrie, 8, 4, 2, kNoPrealloc));
    EXPECT_EQ(map->write(ipv4_key(33, 10, 0, 0, 0), u32(1), kUpdateAny), -EINVAL);
    EXPECT_EQ(map->write(ipv4_key(8, 10, 0, 0, 0), u32(1), kUpdateExist), -ENOENT);
    EXPECT_EQ(map->write(ipv4_key(8, 10, 0, 0, 0), u32(1), kUpdateNoExist), 0);
    // The same prefix with other bits past it is the same element.
    EXPECT_EQ(map->write(ipv4_key(8, 10, 9, 9, 9), u32(1), kUpdateNoExist), -EEXIST);
    EXPECT_EQ(map->write(ipv4_key(8, 10, 9, 9, 9), u32(5), kUpdateExist), 0);
    EXPECT_EQ(map->write(ipv4_key(8, 10, 0, 0, 0), u32(1), kUpdateLock), -EINVAL);
    EXPECT_EQ(map->write(ipv4_key(16, 10, 1, 0, 0), u32(2), kUpdateAny), 0);
    EXPECT_EQ(map->write(ipv4_key(24, 10, 1, 1, 0), u32(3), kUpdateAny), -ENOSPC);
    EXPECT_EQ(map->write(ipv4_key(16, 10, 1, 0, 0), u32(6), kUpdateAny), 0);  // in place, though full
    // The key reads back as last written, bits past the prefix included.
    EXPECT_EQ(map->keys(),
              (std::vector<std::vector<uint8_t>>{ipv4_key(16, 10, 1, 0, 0), ipv4_key(8, 10, 9, 9, 9)}));

    const auto wider = ipv4_key(40, 10, 0, 0, 0);
    EXPECT_EQ(map->remove(wider.data()), -EINVAL);
    const auto absent = ipv4_key(9, 10, 0, 0, 0);
    EXPECT_EQ(map->remove(absent.data()), -ENOENT);
    const auto same_prefix = ipv4_key(8, 10, 200, 0, 1);
    EXPECT_EQ(map->remove(same_prefix.data()), 0);
    const auto host = ipv4_key(32, 10, 2, 0, 0);
    EXPECT_EQ(map->lookup(host.data(), 0), nullptr);
}

TEST(MapLpm, KeysComeInTheKernelsPostOrder) {
    auto map = create_as<ElementMap>(make_spec("routes", MapType::LpmTrie, 8, 4, 8, kNoPrealloc));
    for (const auto& key : {ipv4_key(16, 192, 168, 0, 0), ipv4_key(24, 192, 168, 128, 0),
                            ipv4_key(24, 192, 168, 0, 0), ipv4_key(24, 192, 168, 1, 0)}) {
        ASSERT_EQ(map->write(key, u32(1), kUpdateAny), 0);
    }
    // lpm_trie.c's own example: more specific prefixes first, 0 bits before 1 bits.
    EXPECT_EQ(map->keys(), (std::vector<std::vector<uint8_t>>{
                               ipv4_key(24, 192, 168, 0, 0), ipv4_key(24, 192, 168, 1, 0),
                               ipv4_key(24, 192, 168, 128, 0), ipv4_key(16, 192, 168, 0, 0)}));
}

// --- Queue and stack --------------------------------------------------------------------------

std::vector<std::vector<uint8_t>> u32_list(std::initializer_list<uint32_t> values) {
    std::vector<std::vector<uint8_t>> list;
    for (uint32_t v : values) list.push_back(u32(v));
    return list;
}

TEST(MapQueue, QueueIsFirstInFirstOutAndBpfExistDropsTheHead) {
    auto map = create_as<QueueMap>(make_spec("q", MapType::Queue, 0, 4, 3));
    for (uint32_t v : {1U, 2U, 3U}) ASSERT_EQ(map->push(u32(v).data(), kUpdateAny), 0);
    EXPECT_EQ(map->push(u32(4).data(), kUpdateAny), -E2BIG);
    EXPECT_EQ(map->push(u32(4).data(), kUpdateExist), 0);
    EXPECT_EQ(map->values(), u32_list({2, 3, 4}));
    uint8_t out[4];
    ASSERT_EQ(map->pop(out), 0);
    EXPECT_EQ(load32(out), 2U);
    ASSERT_EQ(map->peek(out), 0);
    EXPECT_EQ(load32(out), 3U);
    EXPECT_EQ(map->values(), u32_list({3, 4}));
}

TEST(MapQueue, StackIsLastInFirstOutAndBpfExistDropsTheBottom) {
    auto map = create_as<QueueMap>(make_spec("s", MapType::Stack, 0, 4, 3));
    for (uint32_t v : {1U, 2U, 3U}) ASSERT_EQ(map->push(u32(v).data(), kUpdateAny), 0);
    EXPECT_EQ(map->push(u32(4).data(), kUpdateAny), -E2BIG);
    EXPECT_EQ(map->push(u32(4).data(), kUpdateExist), 0);
    EXPECT_EQ(map->values(), u32_list({4, 3, 2}));
    uint8_t out[4];
    ASSERT_EQ(map->pop(out), 0);
    EXPECT_EQ(load32(out), 4U);
    ASSERT_EQ(map->push(u32(5).data(), kUpdateAny), 0);
    EXPECT_EQ(map->values(), u32_list({5, 3, 2}));
    ASSERT_EQ(map->peek(out), 0);
    EXPECT_EQ(load32(out), 5U);
}

TEST(MapQueue, FlagsAndEmptyErrors) {
    auto map = create_as<QueueMap>(make_spec("q", MapType::Queue, 0, 4, 2));
    uint8_t out[4];
    EXPECT_EQ(map->pop(out), -ENOENT);
    EXPECT_EQ(map->peek(out), -ENOENT);
    EXPECT_EQ(map->push(u32(1).data(), kUpdateNoExist), -EINVAL);
    EXPECT_EQ(map->push(u32(1).data(), 3), -EINVAL);
    EXPECT_EQ(map->push(u32(1).data(), kUpdateLock), -EINVAL);
    MemoryMap memory;
    map->add_regions(memory);
    EXPECT_TRUE(memory.regions().empty());
}

// --- Ring buffer ------------------------------------------------------------------------------

constexpr uint32_t kBusy = 1U << 31;
constexpr uint32_t kDiscard = 1U << 30;

TEST(MapRingbuf, ARecordThatWrapsAroundIsContiguous) {
    auto ring = create_as<RingBufferMap>(make_spec("rb", MapType::Ringbuf, 0, 0, 4096));
    MemoryMap memory;
    ring->add_regions(memory);
    ASSERT_EQ(memory.regions().size(), 1U);
    const Region region = memory.regions()[0];
    EXPECT_EQ(region.size, 2 * 4096U);
    EXPECT_TRUE(region.writable);
    auto* base = reinterpret_cast<uint8_t*>(region.start);

    ASSERT_EQ(ring->output(std::vector<uint8_t>(3000, 1)), 0);  // takes 3008 bytes
    ASSERT_EQ(ring->consume().size(), 1U);
    uint8_t* record = ring->reserve(2000);  // header at 3008, data runs past the end of the ring
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(record, base + 3016);
    EXPECT_NE(memory.find(address(record), 2000, Access::Write), nullptr);
    for (uint32_t i = 0; i < 2000; ++i) record[i] = static_cast<uint8_t>(i * 7);
    // The bytes past the end are the start of the ring.
    EXPECT_EQ(base[0], static_cast<uint8_t>((4096 - 3016) * 7));
    ASSERT_TRUE(ring->commit(record, false));
    const auto events = ring->consume();
    ASSERT_EQ(events.size(), 1U);
    ASSERT_EQ(events[0].data.size(), 2000U);
    for (uint32_t i = 0; i < 2000; ++i) ASSERT_EQ(events[0].data[i], static_cast<uint8_t>(i * 7)) << i;
    EXPECT_EQ(ring->query(2), 3008U + 2008U);
}

TEST(MapRingbuf, UncommittedRecordsBlockTheReaderAndDiscardedOnesAreSkipped) {
    auto ring = create_as<RingBufferMap>(make_spec("rb", MapType::Ringbuf, 0, 0, 4096));
    uint8_t* first = ring->reserve(4);
    uint8_t* second = ring->reserve(12);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second - first, 16);  // round_up(4 + 8, 8)
    EXPECT_EQ(address(first) % 8, 0U);
    EXPECT_EQ(load32(first - 8), 4U | kBusy);
    std::memcpy(first, "abcd", 4);
    std::memcpy(second, "second rec!", 12);
    ASSERT_TRUE(ring->commit(second, false));
    EXPECT_EQ(load32(second - 8), 12U);
    EXPECT_TRUE(ring->consume().empty());  // the first record is still reserved
    ASSERT_TRUE(ring->commit(first, false));
    EXPECT_FALSE(ring->commit(first, false));  // no longer outstanding
    auto events = ring->consume();
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0].data, (std::vector<uint8_t>{'a', 'b', 'c', 'd'}));
    EXPECT_EQ(std::string(events[1].data.begin(), events[1].data.end() - 1), "second rec!");

    uint8_t* dropped = ring->reserve(8);
    ASSERT_NE(dropped, nullptr);
    ASSERT_TRUE(ring->commit(dropped, true));
    EXPECT_EQ(load32(dropped - 8), 8U | kDiscard);
    ASSERT_EQ(ring->output(std::vector<uint8_t>{9}), 0);
    events = ring->consume();
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].data, std::vector<uint8_t>{9});
    EXPECT_FALSE(ring->commit(dropped + 4, false));
    EXPECT_FALSE(ring->commit(nullptr, false));
}

TEST(MapRingbuf, QueryReportsPositionsAndSize) {
    auto ring = create_as<RingBufferMap>(make_spec("rb", MapType::Ringbuf, 0, 0, 8192));
    ASSERT_EQ(ring->output(std::vector<uint8_t>(10, 0)), 0);
    EXPECT_EQ(ring->query(0), 24U);    // BPF_RB_AVAIL_DATA
    EXPECT_EQ(ring->query(1), 8192U);  // BPF_RB_RING_SIZE
    EXPECT_EQ(ring->query(2), 0U);     // BPF_RB_CONS_POS
    EXPECT_EQ(ring->query(3), 24U);    // BPF_RB_PROD_POS
    EXPECT_EQ(ring->query(4), 0U);
    ring->consume();
    EXPECT_EQ(ring->query(0), 0U);
    EXPECT_EQ(ring->query(2), 24U);
}

TEST(MapRingbuf, ReservationsThatDoNotFitFail) {
    auto ring = create_as<RingBufferMap>(make_spec("rb", MapType::Ringbuf, 0, 0, 4096));
    EXPECT_EQ(ring->reserve(4089), nullptr);  // larger than the ring
    EXPECT_EQ(ring->reserve(4088), nullptr);  // would fill it completely
    EXPECT_EQ(ring->reserve(uint64_t{1} << 40), nullptr);
    uint8_t* big = ring->reserve(4080);  // takes 4088 of 4096 bytes
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(ring->reserve(1), nullptr);
    EXPECT_EQ(ring->output(std::vector<uint8_t>{1}), -EAGAIN);
    ASSERT_TRUE(ring->commit(big, true));
    EXPECT_EQ(ring->output(std::vector<uint8_t>{1}), -EAGAIN);  // not read yet
    EXPECT_TRUE(ring->consume().empty());
    EXPECT_EQ(ring->output(std::vector<uint8_t>{1}), 0);
}

// --- Perf event array -------------------------------------------------------------------------

TEST(MapPerf, OutputGoesToTheCurrentCpusBuffer) {
    auto map =
        create_as<PerfEventArrayMap>(make_spec("events", MapType::PerfEventArray, 4, 4, 8), limits_for(4));
    const std::vector<uint8_t> data = {1, 2, 3};
    EXPECT_EQ(map->output(0xffffffffULL, 2, data), 0);  // BPF_F_CURRENT_CPU
    EXPECT_EQ(map->output(1, 1, data), 0);
    EXPECT_EQ(map->output(3, 0, data), -EOPNOTSUPP);
    EXPECT_EQ(map->output(5, 0, data), -ENOENT);
    EXPECT_EQ(map->output(8, 0, data), -E2BIG);
    EXPECT_EQ(map->output((uint64_t{1} << 60) | 0xffffffffULL, 0, data), -EINVAL);
    EXPECT_EQ(map->output((uint64_t{5} << 32) | 0xffffffffULL, 3, data), 0);  // BPF_F_CTXLEN_MASK
    const auto events = map->consume();
    ASSERT_EQ(events.size(), 3U);
    EXPECT_EQ(events[0].cpu, 2U);
    EXPECT_EQ(events[1].cpu, 1U);
    EXPECT_EQ(events[2].cpu, 3U);
    EXPECT_EQ(events[0].data, data);
    EXPECT_TRUE(map->consume().empty());
}

TEST(MapPerf, AFullBufferRefusesRecordsUntilRead) {
    auto map = create_as<PerfEventArrayMap>(make_spec("events", MapType::PerfEventArray, 4, 4, 1),
                                            limits_for(1, 100));
    const std::vector<uint8_t> data(60, 0);
    EXPECT_EQ(map->output(0, 0, data), 0);
    EXPECT_EQ(map->output(0, 0, data), -ENOSPC);
    EXPECT_EQ(map->consume().size(), 1U);
    EXPECT_EQ(map->output(0, 0, data), 0);
}

// --- Prog arrays and maps of maps -------------------------------------------------------------

TEST(MapReference, ProgArrayFollowsFdArraySemantics) {
    auto map = create_as<ReferenceMap>(make_spec("jmp", MapType::ProgArray, 4, 4, 4));
    EXPECT_TRUE(map->holds_programs());
    const auto key = u32(2);
    const auto past = u32(4);
    EXPECT_EQ(map->set(key.data(), 7, kUpdateNoExist), -EINVAL);
    EXPECT_EQ(map->set(key.data(), 7, kUpdateExist), -EINVAL);
    EXPECT_EQ(map->set(past.data(), 7, kUpdateAny), -E2BIG);
    EXPECT_FALSE(map->get(key.data()));
    ASSERT_EQ(map->set(key.data(), 0, kUpdateAny), 0);  // id 0 is a valid id
    EXPECT_EQ(map->get(key.data()), 0U);
    ASSERT_EQ(map->set(u32(0).data(), 9, kUpdateAny), 0);
    const std::vector<std::pair<std::vector<uint8_t>, uint32_t>> expected = {{u32(0), 9}, {u32(2), 0}};
    EXPECT_EQ(map->entries(), expected);
    EXPECT_EQ(map->remove(past.data()), -E2BIG);
    EXPECT_EQ(map->remove(u32(1).data()), -ENOENT);
    EXPECT_EQ(map->remove(key.data()), 0);
    EXPECT_FALSE(map->get(key.data()));
    MemoryMap memory;
    map->add_regions(memory);
    EXPECT_TRUE(memory.regions().empty());
}

TEST(MapReference, MapsOfMapsHoldMapIds) {
    auto inner = std::make_shared<MapSpec>(make_spec("inner", MapType::Array, 4, 8, 1));
    auto array_spec = make_spec("outer", MapType::ArrayOfMaps, 4, 4, 2);
    array_spec.inner = inner;
    auto array = create_as<ReferenceMap>(array_spec);
    EXPECT_FALSE(array->holds_programs());
    EXPECT_EQ(array->set(u32(1).data(), 3, kUpdateAny), 0);
    EXPECT_EQ(array->get(u32(1).data()), 3U);

    auto hash_spec = make_spec("by_name", MapType::HashOfMaps, 8, 4, 2);
    hash_spec.inner = inner;
    auto hash = create_as<ReferenceMap>(hash_spec);
    const auto a = u64(1), b = u64(2), c = u64(3);
    EXPECT_EQ(hash->set(a.data(), 5, kUpdateExist), -ENOENT);
    EXPECT_EQ(hash->set(a.data(), 5, kUpdateNoExist), 0);
    EXPECT_EQ(hash->set(a.data(), 6, kUpdateNoExist), -EEXIST);
    EXPECT_EQ(hash->set(a.data(), 6, kUpdateLock), -EINVAL);
    EXPECT_EQ(hash->set(b.data(), 7, kUpdateAny), 0);
    EXPECT_EQ(hash->set(c.data(), 8, kUpdateAny), -E2BIG);
    EXPECT_EQ(hash->get(a.data()), 5U);
    EXPECT_EQ(hash->remove(c.data()), -ENOENT);
    EXPECT_EQ(hash->remove(a.data()), 0);
    const std::vector<std::pair<std::vector<uint8_t>, uint32_t>> expected = {{b, 7}};
    EXPECT_EQ(hash->entries(), expected);
}

// --- Redirect maps ----------------------------------------------------------------------------

TEST(MapRedirect, DevmapEntriesAreReadOnlyToProgramsAndEmptiedByIfindexZero) {
    auto map = create_as<RedirectMap>(make_spec("tx_ports", MapType::Devmap, 4, 8, 4));
    const auto key = u32(1);
    auto value = [](uint32_t ifindex, int32_t program) {
        auto bytes = u32(ifindex);
        const auto program_bytes = u32(static_cast<uint32_t>(program));
        bytes.insert(bytes.end(), program_bytes.begin(), program_bytes.end());
        return bytes;
    };
    EXPECT_EQ(map->lookup(key.data(), 0), nullptr);
    EXPECT_FALSE(map->read(key));
    EXPECT_EQ(map->write(key, value(5, -1), kUpdateNoExist), -EEXIST);
    EXPECT_EQ(map->write(u32(4), value(5, -1), kUpdateAny), -E2BIG);
    EXPECT_EQ(map->write(key, value(5, -1), 3), -EINVAL);
    EXPECT_EQ(map->write(key, value(0, 3), kUpdateAny), -EINVAL);
    ASSERT_EQ(map->write(key, value(5, -1), kUpdateAny), 0);
    EXPECT_EQ(map->read(key), value(5, 0));  // "no program" reads back as 0

    const uint8_t* entry = map->lookup(key.data(), 0);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(load32(entry), 5U);
    MemoryMap memory;
    map->add_regions(memory);
    ASSERT_EQ(memory.regions().size(), 1U);
    EXPECT_EQ(memory.regions()[0].name, "tx_ports");
    EXPECT_NE(memory.find(address(entry), 8, Access::Read), nullptr);
    EXPECT_EQ(memory.find(address(entry), 4, Access::Write), nullptr);

    ASSERT_EQ(map->write(key, value(0, 0), kUpdateAny), 0);
    EXPECT_EQ(map->lookup(key.data(), 0), nullptr);
    EXPECT_EQ(map->remove(key.data()), 0);  // empty entries delete fine
    EXPECT_EQ(map->remove(u32(4).data()), -EINVAL);
    EXPECT_EQ(map->keys().size(), 4U);
}

TEST(MapRedirect, CpumapChecksQueueSizeAndCpu) {
    auto map = create_as<RedirectMap>(make_spec("cpus", MapType::Cpumap, 4, 4, 4), limits_for(2));
    EXPECT_EQ(map->write(u32(1), u32(16385), kUpdateAny), -EOVERFLOW);
    EXPECT_EQ(map->write(u32(3), u32(64), kUpdateAny), -ENODEV);
    EXPECT_EQ(map->write(u32(1), u32(64), kUpdateNoExist), -EEXIST);
    ASSERT_EQ(map->write(u32(1), u32(64), kUpdateAny), 0);
    EXPECT_EQ(map->read(u32(1)), u32(64));
    ASSERT_EQ(map->write(u32(1), u32(0), kUpdateAny), 0);
    EXPECT_FALSE(map->read(u32(1)));
}

TEST(MapRedirect, DevmapHashAndXskmapFlags) {
    auto hash = create_as<RedirectMap>(make_spec("devs", MapType::DevmapHash, 4, 4, 1));
    EXPECT_EQ(hash->write(u32(10), u32(0), kUpdateAny), -EINVAL);
    EXPECT_EQ(hash->write(u32(10), u32(3), kUpdateExist), 0);  // the kernel does not check BPF_EXIST here
    EXPECT_EQ(hash->write(u32(10), u32(4), kUpdateNoExist), -EEXIST);
    EXPECT_EQ(hash->write(u32(11), u32(4), kUpdateAny), -E2BIG);
    EXPECT_EQ(load32(hash->lookup(u32(10).data(), 0)), 3U);
    EXPECT_EQ(hash->remove(u32(11).data()), -ENOENT);
    EXPECT_EQ(hash->remove(u32(10).data()), 0);
    EXPECT_TRUE(hash->keys().empty());

    auto xsk = create_as<RedirectMap>(make_spec("xsks", MapType::Xskmap, 4, 4, 2));
    EXPECT_EQ(xsk->write(u32(0), u32(0), kUpdateExist), -ENOENT);
    EXPECT_EQ(xsk->write(u32(0), u32(0), kUpdateNoExist), 0);  // socket 0 is a socket
    EXPECT_EQ(xsk->write(u32(0), u32(1), kUpdateNoExist), -EEXIST);
    EXPECT_NE(xsk->lookup(u32(0).data(), 0), nullptr);
    EXPECT_EQ(xsk->remove(u32(0).data()), 0);
    EXPECT_EQ(xsk->lookup(u32(0).data(), 0), nullptr);
}

// --- Regions ----------------------------------------------------------------------------------

TEST(MapRegions, EveryValuePointerLiesInTheMapsRegion) {
    const std::vector<MapSpec> specs = {
        make_spec("h", MapType::Hash, 4, 20, 64),
        make_spec("ph", MapType::PercpuHash, 4, 20, 64),
        make_spec("lru", MapType::LruHash, 4, 20, 64),
        make_spec("t", MapType::LpmTrie, 8, 20, 64, kNoPrealloc),
        make_spec("a", MapType::Array, 4, 20, 64),
    };
    for (const auto& spec : specs) {
        auto map = create_as<ElementMap>(spec, limits_for(3));
        MemoryMap memory;
        map->add_regions(memory);
        ASSERT_EQ(memory.regions().size(), 1U) << spec.name;
        EXPECT_EQ(memory.regions()[0].name, spec.name);
        for (uint32_t k = 0; k < 64; ++k) {
            auto key =
                spec.type == MapType::LpmTrie ? ipv4_key(32, 1, 2, 3, static_cast<uint8_t>(k)) : u32(k);
            std::vector<uint8_t> value(20, static_cast<uint8_t>(k));
            ASSERT_EQ(map->update(key.data(), value.data(), kUpdateAny, k % 3), 0) << spec.name << " " << k;
            for (uint32_t cpu = 0; cpu < 3; ++cpu) {
                const uint8_t* found = map->lookup(key.data(), cpu);
                ASSERT_NE(found, nullptr);
                EXPECT_EQ(address(found) % 8, 0U);
                EXPECT_EQ(memory.find(address(found), 20, Access::Write), &memory.regions()[0]) << spec.name;
            }
        }
    }
}

}  // namespace
}  // namespace bpfvm::vm
