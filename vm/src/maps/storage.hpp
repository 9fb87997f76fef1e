// Host memory for map values and keys, and the key index of hash-shaped maps.
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bpfvm/vm/maps.hpp"

namespace bpfvm::vm::detail {

// Zero-filled memory that never moves, reserved with mmap(MAP_NORESERVE) so a big preallocated
// map costs only the pages that are touched.
class Arena {
 public:
    Arena() = default;
    // An error naming the map when the host refuses the reservation.
    static Result<Arena> reserve(const MapSpec& spec, uint64_t bytes);

    Arena(Arena&& other) noexcept;
    Arena& operator=(Arena&& other) noexcept;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena();

    uint8_t* data() const { return base_; }
    uint64_t size() const { return size_; }

 private:
    void release();

    uint8_t* base_ = nullptr;
    uint64_t size_ = 0;    // bytes asked for
    uint64_t mapped_ = 0;  // bytes mapped (whole pages)
};

// The keys of a hash-shaped map and the slot (0 .. capacity-1) each one's value occupies, with
// the order of use for LRU eviction. Key bytes live in an arena so the index can hold views of
// them and lookups allocate nothing.
class SlotTable {
 public:
    static Result<SlotTable> create(const MapSpec& spec, uint32_t capacity, uint32_t key_size);

    std::optional<uint32_t> find(const uint8_t* key) const;
    // Takes a free slot for a key that is not present; the table must not be full.
    uint32_t insert(const uint8_t* key);
    void erase(uint32_t slot);
    // map_delete_elem on a keyed map: 0, or -ENOENT when the key has no slot.
    int64_t erase_key(const uint8_t* key) {
        const auto slot = find(key);
        if (!slot) return -ENOENT;
        erase(*slot);
        return 0;
    }

    uint32_t size() const { return static_cast<uint32_t>(index_.size()); }
    bool full() const { return size() == capacity_; }
    // Slots in use all lie below this bound; iterate [0, bound) and skip absent ones.
    uint32_t bound() const { return next_unused_; }
    bool present(uint32_t slot) const { return slot < next_unused_ && present_[slot] != 0; }
    std::span<const uint8_t> key(uint32_t slot) const;
    // The slots in use, in slot order (a snapshot: a caller that visits them while the table
    // may change checks present() again), and copies of their keys in the same order.
    std::vector<uint32_t> present_slots() const;
    std::vector<std::vector<uint8_t>> present_keys() const;

    // Use order: insert makes a slot the most recently used, so does touch.
    void touch(uint32_t slot);
    uint32_t least_recently_used() const { return oldest_; }

 private:
    static constexpr uint32_t kNone = UINT32_MAX;
    SlotTable(Arena keys, uint32_t capacity, uint32_t key_size);
    void unlink(uint32_t slot);
    void link_newest(uint32_t slot);
    std::string_view view(const uint8_t* key) const {
        return {reinterpret_cast<const char*>(key), key_size_};
    }

    Arena keys_;
    uint32_t capacity_;
    uint32_t key_size_;
    uint64_t key_stride_;
    std::unordered_map<std::string_view, uint32_t> index_;
    std::vector<uint32_t> free_;  // freed slots, reused last freed first
    uint32_t next_unused_ = 0;
    // Per slot below next_unused_ (grown on first use so empty big maps cost nothing).
    std::vector<uint8_t> present_;
    std::vector<uint32_t> newer_;
    std::vector<uint32_t> older_;
    uint32_t oldest_ = kNone;
    uint32_t newest_ = kNone;
};

}  // namespace bpfvm::vm::detail
