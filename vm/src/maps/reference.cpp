// prog_array and array_of_maps (the kernel's fd arrays, kernel/bpf/arraymap.c) and hash_of_maps
// (kernel/bpf/hashtab.c). They hold program or map ids where the kernel holds object pointers;
// programs never address their memory, so they add no regions.
// Iteration order: arrays by index; hash_of_maps by ascending slot (see hash.cpp).
#include <cerrno>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

// An id as stored: 0 for an empty entry, so untouched arena pages read as empty.
constexpr uint64_t kPresent = uint64_t{1} << 32;

class ReferenceArray final : public ReferenceMap {
 public:
    ReferenceArray(MapSpec spec, uint32_t cpus, Arena entries)
        : ReferenceMap(std::move(spec), cpus), entries_(std::move(entries)) {}

    void add_regions(MemoryMap&) const override {}

    std::optional<uint32_t> get(const uint8_t* key) const override {
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries || entry(index) == 0) return std::nullopt;
        return static_cast<uint32_t>(entry(index));
    }

    int64_t set(const uint8_t* key, uint32_t id, uint64_t flags) override {
        // bpf_fd_array_map_update_elem takes BPF_ANY only.
        if (flags != kUpdateAny) return -EINVAL;
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries) return -E2BIG;
        entry(index) = kPresent | id;
        return 0;
    }

    int64_t remove(const uint8_t* key) override {
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries) return -E2BIG;
        if (entry(index) == 0) return -ENOENT;
        entry(index) = 0;
        return 0;
    }

    std::vector<std::pair<std::vector<uint8_t>, uint32_t>> entries() const override {
        std::vector<std::pair<std::vector<uint8_t>, uint32_t>> present;
        for (uint32_t i = 0; i < spec().max_entries; ++i) {
            if (entry(i) != 0) present.emplace_back(u32_bytes(i), static_cast<uint32_t>(entry(i)));
        }
        return present;
    }

 private:
    uint64_t& entry(uint32_t index) const { return reinterpret_cast<uint64_t*>(entries_.data())[index]; }

    Arena entries_;
};

class ReferenceHash final : public ReferenceMap {
 public:
    ReferenceHash(MapSpec spec, uint32_t cpus, SlotTable slots)
        : ReferenceMap(std::move(spec), cpus), slots_(std::move(slots)) {}

    void add_regions(MemoryMap&) const override {}

    std::optional<uint32_t> get(const uint8_t* key) const override {
        const auto slot = slots_.find(key);
        if (!slot) return std::nullopt;
        return ids_[*slot];
    }

    int64_t set(const uint8_t* key, uint32_t id, uint64_t flags) override {
        // htab_map_update_elem's flags; BPF_F_LOCK fails (an id holds no bpf_spin_lock).
        if ((flags & ~kUpdateLock) > kUpdateExist || (flags & kUpdateLock) != 0) return -EINVAL;
        auto slot = slots_.find(key);
        if (slot) {
            if (flags == kUpdateNoExist) return -EEXIST;
        } else {
            if (flags == kUpdateExist) return -ENOENT;
            if (slots_.full()) return -E2BIG;
            slot = slots_.insert(key);
            if (ids_.size() < slots_.bound()) ids_.resize(slots_.bound());
        }
        ids_[*slot] = id;
        return 0;
    }

    int64_t remove(const uint8_t* key) override { return slots_.erase_key(key); }

    std::vector<std::pair<std::vector<uint8_t>, uint32_t>> entries() const override {
        std::vector<std::pair<std::vector<uint8_t>, uint32_t>> present;
        for (uint32_t slot : slots_.present_slots()) {
            const auto key = slots_.key(slot);
            present.emplace_back(std::vector<uint8_t>(key.begin(), key.end()), ids_[slot]);
        }
        return present;
    }

 private:
    SlotTable slots_;
    std::vector<uint32_t> ids_;  // per slot below slots_.bound()
};

}  // namespace

MapResult make_reference(MapSpec spec, uint32_t cpus) {
    if (spec.type == isa::MapType::HashOfMaps) {
        auto slots = SlotTable::create(spec, spec.max_entries, spec.key_size);
        if (!slots) return slots.error();
        return std::unique_ptr<Map>(
            std::make_unique<ReferenceHash>(std::move(spec), cpus, std::move(*slots)));
    }
    auto entries = Arena::reserve(spec, uint64_t{spec.max_entries} * sizeof(uint64_t));
    if (!entries) return entries.error();
    return std::unique_ptr<Map>(std::make_unique<ReferenceArray>(std::move(spec), cpus, std::move(*entries)));
}

}  // namespace bpfvm::vm::detail
