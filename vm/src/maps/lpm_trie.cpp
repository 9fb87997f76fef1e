// lpm_trie (kernel/bpf/lpm_trie.c): keys are {u32 prefixlen (host order); u8 data[]} with data
// in network order. Instead of a trie, elements are indexed by their prefix (the key masked to
// prefixlen bits) per prefix length; a lookup tries the lengths present from the longest down,
// which gives the same answer as the kernel's walk. keys() follows the kernel's get_next_key:
// a post-order walk of the trie, so more specific prefixes come before the prefixes containing
// them, and a 0 bit before a 1 bit.
#include <algorithm>
#include <cassert>
#include <cerrno>
#include <functional>
#include <map>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

bool bit_at(const uint8_t* data, uint32_t index) {
    return (data[index / 8] >> (7 - index % 8)) & 1;
}

class LpmTrieMap final : public ElementMap {
 public:
    LpmTrieMap(MapSpec spec, uint32_t cpus, SlotTable slots, Arena given_keys, Arena values)
        : ElementMap(std::move(spec), cpus),
          slots_(std::move(slots)),
          given_keys_(std::move(given_keys)),
          values_(std::move(values)),
          key_stride_(round_up8(this->spec().key_size)),
          value_stride_(round_up8(this->spec().value_size)),
          max_prefixlen_((this->spec().key_size - 4) * 8),
          scratch_(this->spec().key_size) {}

    void add_regions(MemoryMap& memory) const override {
        memory.add_elements(values_.data(), values_.size(), value_stride_, spec().value_size,
                            (spec().flags & kFlagReadOnlyProg) == 0, name());
    }

    uint8_t* lookup(const uint8_t* key, [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        const auto slot = longest_match(key, scratch_.data());
        return slot ? value_at(*slot) : nullptr;
    }

    int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags,
                   [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        // trie_update_elem: BPF_F_LOCK counts as an unknown flag; a full trie is -ENOSPC.
        if (flags > kUpdateExist) return -EINVAL;
        const uint32_t prefixlen = load_u32(key);
        if (prefixlen > max_prefixlen_) return -EINVAL;
        mask_key(key, prefixlen, scratch_.data());
        auto slot = slots_.find(scratch_.data());
        if (slot) {
            if (flags == kUpdateNoExist) return -EEXIST;
        } else {
            if (flags == kUpdateExist) return -ENOENT;
            if (slots_.full()) return -ENOSPC;
            slot = slots_.insert(scratch_.data());
            ++lengths_[prefixlen];
        }
        // The kernel keeps the data bits past the prefix as the last update wrote them.
        std::memcpy(given_key(*slot), key, spec().key_size);
        uint8_t* target = value_at(*slot);
        std::memcpy(target, value, spec().value_size);
        std::memset(target + spec().value_size, 0, value_stride_ - spec().value_size);
        return 0;
    }

    int64_t remove(const uint8_t* key) override {
        const uint32_t prefixlen = load_u32(key);
        if (prefixlen > max_prefixlen_) return -EINVAL;
        mask_key(key, prefixlen, scratch_.data());
        const auto slot = slots_.find(scratch_.data());
        if (!slot) return -ENOENT;
        slots_.erase(*slot);
        if (--lengths_[prefixlen] == 0) lengths_.erase(prefixlen);
        return 0;
    }

    // BPF_MAP_LOOKUP_ELEM on a trie is the same longest-prefix match programs get.
    std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const override {
        if (key.size() != spec().key_size) return std::nullopt;
        std::vector<uint8_t> masked(spec().key_size);
        const auto slot = longest_match(key.data(), masked.data());
        if (!slot) return std::nullopt;
        const uint8_t* value = value_at(*slot);
        return std::vector<uint8_t>(value, value + spec().value_size);
    }

    int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) override {
        if (key.size() != spec().key_size || values.size() != spec().value_size) return -EINVAL;
        return update(key.data(), values.data(), flags, 0);
    }

    std::vector<std::vector<uint8_t>> keys() const override {
        std::vector<std::vector<uint8_t>> all;
        for (uint32_t slot : ordered_slots()) {
            const uint8_t* key = given_key(slot);
            all.emplace_back(key, key + spec().key_size);
        }
        return all;
    }

    void for_each([[maybe_unused]] uint32_t cpu,
                  const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) override {
        assert(cpu < cpus());
        for (uint32_t slot : ordered_slots()) {
            if (!slots_.present(slot)) continue;
            const std::vector<uint8_t> key(given_key(slot), given_key(slot) + spec().key_size);
            if (!visit(key, value_at(slot))) return;
        }
    }

 private:
    // The key with the data bits past prefixlen cleared: the identity of an element.
    void mask_key(const uint8_t* key, uint32_t prefixlen, uint8_t* out) const {
        const uint32_t data_size = spec().key_size - 4;
        std::memcpy(out, &prefixlen, 4);
        for (uint32_t i = 0; i < data_size; ++i) {
            const uint32_t first_bit = i * 8;
            uint8_t byte = key[4 + i];
            if (first_bit >= prefixlen) {
                byte = 0;
            } else if (prefixlen - first_bit < 8) {
                byte &= static_cast<uint8_t>(0xff << (8 - (prefixlen - first_bit)));
            }
            out[4 + i] = byte;
        }
    }

    // The element with the longest prefix that matches the key's first prefixlen bits.
    std::optional<uint32_t> longest_match(const uint8_t* key, uint8_t* scratch) const {
        const uint32_t limit = load_u32(key);
        if (limit > max_prefixlen_) return std::nullopt;
        for (auto it = lengths_.lower_bound(limit); it != lengths_.end(); ++it) {
            mask_key(key, it->first, scratch);
            if (const auto slot = slots_.find(scratch)) return slot;
        }
        return std::nullopt;
    }

    // Post-order of the kernel's trie: compare the bits both prefixes cover; at the first
    // difference 0 comes first; when one prefix contains the other, the longer comes first.
    std::vector<uint32_t> ordered_slots() const {
        std::vector<uint32_t> order = slots_.present_slots();
        std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
            const uint8_t* ka = given_key(a);
            const uint8_t* kb = given_key(b);
            const uint32_t la = load_u32(ka);
            const uint32_t lb = load_u32(kb);
            for (uint32_t i = 0; i < std::min(la, lb); ++i) {
                const bool ba = bit_at(ka + 4, i);
                const bool bb = bit_at(kb + 4, i);
                if (ba != bb) return !ba;
            }
            return la > lb;
        });
        return order;
    }

    uint8_t* given_key(uint32_t slot) const { return given_keys_.data() + slot * key_stride_; }
    uint8_t* value_at(uint32_t slot) const { return values_.data() + slot * value_stride_; }

    SlotTable slots_;  // indexed by masked key
    Arena given_keys_;
    Arena values_;
    uint64_t key_stride_;
    uint64_t value_stride_;
    uint32_t max_prefixlen_;
    std::map<uint32_t, uint32_t, std::greater<>> lengths_;  // prefix length -> elements, longest first
    std::vector<uint8_t> scratch_;
};

}  // namespace

MapResult make_lpm_trie(MapSpec spec, uint32_t cpus) {
    auto slots = SlotTable::create(spec, spec.max_entries, spec.key_size);
    if (!slots) return slots.error();
    auto given_keys = Arena::reserve(spec, uint64_t{spec.max_entries} * round_up8(spec.key_size));
    if (!given_keys) return given_keys.error();
    auto values = Arena::reserve(spec, uint64_t{spec.max_entries} * round_up8(spec.value_size));
    if (!values) return values.error();
    return std::unique_ptr<Map>(std::make_unique<LpmTrieMap>(std::move(spec), cpus, std::move(*slots),
                                                             std::move(*given_keys), std::move(*values)));
}

}  // namespace bpfvm::vm::detail
