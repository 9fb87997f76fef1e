#include "maps/storage.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include "maps/internal.hpp"

namespace bpfvm::vm::detail {

Result<Arena> Arena::reserve(const MapSpec& spec, uint64_t bytes) {
    Arena arena;
    if (bytes == 0) return arena;
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const uint64_t mapped = (bytes + page - 1) / page * page;
    void* base =
        mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        return map_error(
            ErrorKind::InvalidInput, spec,
            "the host cannot reserve " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
    }
    arena.base_ = static_cast<uint8_t*>(base);
    arena.size_ = bytes;
    arena.mapped_ = mapped;
    return arena;
}

Arena::Arena(Arena&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

Arena& Arena::operator=(Arena&& other) noexcept {
    if (this != &other) {
        release();
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
}

Arena::~Arena() {
    release();
}

void Arena::release() {
    if (base_ != nullptr) munmap(base_, mapped_);
    base_ = nullptr;
    size_ = mapped_ = 0;
}

Result<SlotTable> SlotTable::create(const MapSpec& spec, uint32_t capacity, uint32_t key_size) {
    auto keys = Arena::reserve(spec, uint64_t{capacity} * round_up8(key_size));
    if (!keys) return keys.error();
    return SlotTable(std::move(*keys), capacity, key_size);
}

SlotTable::SlotTable(Arena keys, uint32_t capacity, uint32_t key_size)
    : keys_(std::move(keys)), capacity_(capacity), key_size_(key_size), key_stride_(round_up8(key_size)) {}

std::optional<uint32_t> SlotTable::find(const uint8_t* key) const {
    auto it = index_.find(view(key));
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

uint32_t SlotTable::insert(const uint8_t* key) {
    assert(!full() && !find(key));
    uint32_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        slot = next_unused_++;
        present_.push_back(0);
        newer_.push_back(kNone);
        older_.push_back(kNone);
    }
    uint8_t* stored = keys_.data() + slot * key_stride_;
    std::memcpy(stored, key, key_size_);
    index_.emplace(view(stored), slot);
    present_[slot] = 1;
    link_newest(slot);
    return slot;
}

void SlotTable::erase(uint32_t slot) {
    assert(present(slot));
    index_.erase(view(keys_.data() + slot * key_stride_));
    present_[slot] = 0;
    unlink(slot);
    free_.push_back(slot);
}

std::span<const uint8_t> SlotTable::key(uint32_t slot) const {
    return {keys_.data() + slot * key_stride_, key_size_};
}

std::vector<uint32_t> SlotTable::present_slots() const {
    std::vector<uint32_t> slots;
    slots.reserve(size());
    for (uint32_t slot = 0; slot < bound(); ++slot) {
        if (present(slot)) slots.push_back(slot);
    }
    return slots;
}

std::vector<std::vector<uint8_t>> SlotTable::present_keys() const {
    std::vector<std::vector<uint8_t>> keys;
    keys.reserve(size());
    for (uint32_t slot : present_slots()) {
        const auto stored = key(slot);
        keys.emplace_back(stored.begin(), stored.end());
    }
    return keys;
}

void SlotTable::touch(uint32_t slot) {
    if (slot == newest_) return;
    unlink(slot);
    link_newest(slot);
}

void SlotTable::unlink(uint32_t slot) {
    const uint32_t newer = newer_[slot];
    const uint32_t older = older_[slot];
    (newer == kNone ? newest_ : older_[newer]) = older;
    (older == kNone ? oldest_ : newer_[older]) = newer;
    newer_[slot] = older_[slot] = kNone;
}

void SlotTable::link_newest(uint32_t slot) {
    older_[slot] = newest_;
    newer_[slot] = kNone;
    (newest_ == kNone ? oldest_ : newer_[newest_]) = slot;
    newest_ = slot;
}

}  // namespace bpfvm::vm::detail
