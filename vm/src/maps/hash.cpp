// hash, percpu_hash, lru_hash and lru_percpu_hash (kernel/bpf/hashtab.c). Values sit in a
// preallocated arena, one slot per element (per-CPU maps: one value per CPU in each slot).
// Iteration order: ascending slot number, which is insertion order until a deletion frees a
// slot; a later insertion reuses the most recently freed slot.
// LRU maps keep an exact use order (the kernel's is approximate): a program lookup and any
// update make an element the most recently used; user-space reads do not, as in the kernel.
#include <cassert>
#include <cerrno>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

class HashMap final : public ElementMap {
 public:
    HashMap(MapSpec spec, uint32_t cpus, SlotTable slots, Arena values)
        : ElementMap(std::move(spec), cpus),
          slots_(std::move(slots)),
          values_(std::move(values)),
          stride_(round_up8(this->spec().value_size)),
          copies_(is_percpu(type()) ? cpus : 1),
          lru_(type() == isa::MapType::LruHash || type() == isa::MapType::LruPercpuHash) {}

    void add_regions(MemoryMap& memory) const override {
        memory.add_elements(values_.data(), values_.size(), stride_, spec().value_size,
                            (spec().flags & kFlagReadOnlyProg) == 0, name());
    }

    uint8_t* lookup(const uint8_t* key, uint32_t cpu) override {
        assert(cpu < cpus());
        const auto slot = slots_.find(key);
        if (!slot) return nullptr;
        if (lru_) slots_.touch(*slot);
        return value_at(*slot, cpu);
    }

    int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags, uint32_t cpu) override {
        assert(cpu < cpus());
        if (auto bad = check_flags(flags)) return bad;
        return store(key, flags, [&](uint32_t slot, bool fresh) {
            // A program writes its own CPU's value; a new element's other CPUs start at zero.
            for (uint32_t c = 0; c < copies_; ++c) {
                if (copies_ == 1 || c == cpu) {
                    uint8_t* target = value_at(slot, c);
                    std::memcpy(target, value, spec().value_size);
                    std::memset(target + spec().value_size, 0, stride_ - spec().value_size);
                } else if (fresh) {
                    std::memset(value_at(slot, c), 0, stride_);
                }
            }
        });
    }

    int64_t remove(const uint8_t* key) override { return slots_.erase_key(key); }

    std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const override {
        if (key.size() != spec().key_size) return std::nullopt;
        const auto slot = slots_.find(key.data());
        if (!slot) return std::nullopt;
        const uint8_t* first = value_at(*slot, 0);
        if (copies_ == 1) return std::vector<uint8_t>(first, first + spec().value_size);
        return std::vector<uint8_t>(first, first + stride_ * copies_);
    }

    int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) override {
        if (key.size() != spec().key_size || values.size() != user_value_size()) return -EINVAL;
        if (auto bad = check_flags(flags)) return bad;
        return store(key.data(), flags, [&](uint32_t slot, bool) {
            if (copies_ == 1) {
                uint8_t* target = value_at(slot, 0);
                std::memcpy(target, values.data(), spec().value_size);
                std::memset(target + spec().value_size, 0, stride_ - spec().value_size);
            } else {
                std::memcpy(value_at(slot, 0), values.data(), values.size());
            }
        });
    }

    std::vector<std::vector<uint8_t>> keys() const override { return slots_.present_keys(); }

    void for_each(uint32_t cpu,
                  const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) override {
        assert(cpu < cpus());
        // A snapshot of the slots, checked again, so a visitor that breaks the no-insert rule
        // cannot crash us.
        for (uint32_t slot : slots_.present_slots()) {
            if (!slots_.present(slot)) continue;
            const auto stored = slots_.key(slot);
            const std::vector<uint8_t> key(stored.begin(), stored.end());
            if (!visit(key, value_at(slot, cpu))) return;
        }
    }

 private:
    // htab_map_update_elem rejects unknown flags; BPF_F_LOCK needs a bpf_spin_lock in the value,
    // which bpfvm does not model (LRU and per-CPU maps reject it as an unknown flag).
    static int64_t check_flags(uint64_t flags) {
        if ((flags & ~kUpdateLock) > kUpdateExist || (flags & kUpdateLock) != 0) return -EINVAL;
        return 0;
    }

    template <typename Write>
    int64_t store(const uint8_t* key, uint64_t flags, Write write) {
        if (const auto slot = slots_.find(key)) {
            if (flags == kUpdateNoExist) return -EEXIST;
            write(*slot, false);
            slots_.touch(*slot);
            return 0;
        }
        if (flags == kUpdateExist) return -ENOENT;
        if (slots_.full()) {
            if (!lru_) return -E2BIG;
            slots_.erase(slots_.least_recently_used());
        }
        write(slots_.insert(key), true);
        return 0;
    }

    uint8_t* value_at(uint32_t slot, uint32_t cpu) const {
        if (copies_ == 1) cpu = 0;
        return values_.data() + (uint64_t{slot} * copies_ + cpu) * stride_;
    }

    SlotTable slots_;
    Arena values_;
    uint64_t stride_;
    uint32_t copies_;
    bool lru_;
};

}  // namespace

MapResult make_hash(MapSpec spec, uint32_t cpus) {
    const uint64_t copies = is_percpu(spec.type) ? cpus : 1;
    auto slots = SlotTable::create(spec, spec.max_entries, spec.key_size);
    if (!slots) return slots.error();
    auto values = Arena::reserve(spec, uint64_t{spec.max_entries} * copies * round_up8(spec.value_size));
    if (!values) return values.error();
    return std::unique_ptr<Map>(
        std::make_unique<HashMap>(std::move(spec), cpus, std::move(*slots), std::move(*values)));
}

}  // namespace bpfvm::vm::detail
