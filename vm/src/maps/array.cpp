// array and percpu_array (kernel/bpf/arraymap.c); global data (.data, .rodata, .bss) are
// one-element arrays. Every element exists from the start, zero-filled.
#include <cassert>
#include <cerrno>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

class ArrayMap final : public ElementMap {
 public:
    ArrayMap(MapSpec spec, uint32_t cpus, Arena values)
        : ElementMap(std::move(spec), cpus),
          values_(std::move(values)),
          stride_(round_up8(this->spec().value_size)),
          copies_(is_percpu(type()) ? cpus : 1) {
        const auto& initial = this->spec().initial_data;
        if (!initial.empty()) std::memcpy(values_.data(), initial.data(), initial.size());
    }

    void add_regions(MemoryMap& memory) const override {
        memory.add_elements(values_.data(), values_.size(), stride_, spec().value_size,
                            (spec().flags & kFlagReadOnlyProg) == 0, name());
    }

    uint8_t* lookup(const uint8_t* key, uint32_t cpu) override {
        const uint32_t index = load_u32(key);
        return index < spec().max_entries ? value_at(index, cpu) : nullptr;
    }

    int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags, uint32_t cpu) override {
        // array_map_update_elem's order of checks; BPF_F_LOCK needs a bpf_spin_lock in the value,
        // which bpfvm does not model, so it fails as on a value without one.
        if ((flags & ~kUpdateLock) > kUpdateExist) return -EINVAL;
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries) return -E2BIG;
        if ((flags & kUpdateNoExist) != 0) return -EEXIST;
        if ((flags & kUpdateLock) != 0) return -EINVAL;
        std::memcpy(value_at(index, cpu), value, spec().value_size);
        return 0;
    }

    int64_t remove(const uint8_t*) override { return -EINVAL; }

    std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const override {
        if (key.size() != sizeof(uint32_t)) return std::nullopt;
        const uint32_t index = load_u32(key.data());
        if (index >= spec().max_entries) return std::nullopt;
        if (copies_ == 1) {
            const uint8_t* value = value_at(index, 0);
            return std::vector<uint8_t>(value, value + spec().value_size);
        }
        // bpf_percpu_array_copy: every CPU's value, each rounded up to 8 bytes.
        const uint8_t* first = value_at(index, 0);
        return std::vector<uint8_t>(first, first + stride_ * copies_);
    }

    int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) override {
        if (key.size() != sizeof(uint32_t) || values.size() != user_value_size()) return -EINVAL;
        if (copies_ == 1) return update(key.data(), values.data(), flags, 0);
        // bpf_percpu_array_update: no BPF_F_LOCK for per-CPU values.
        if (flags > kUpdateExist) return -EINVAL;
        const uint32_t index = load_u32(key.data());
        if (index >= spec().max_entries) return -E2BIG;
        if (flags == kUpdateNoExist) return -EEXIST;
        std::memcpy(value_at(index, 0), values.data(), values.size());
        return 0;
    }

    std::vector<std::vector<uint8_t>> keys() const override {
        std::vector<std::vector<uint8_t>> all;
        all.reserve(spec().max_entries);
        for (uint32_t i = 0; i < spec().max_entries; ++i) all.push_back(u32_bytes(i));
        return all;
    }

    void for_each(uint32_t cpu,
                  const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) override {
        for (uint32_t i = 0; i < spec().max_entries; ++i) {
            const auto key = u32_bytes(i);
            if (!visit(key, value_at(i, cpu))) return;
        }
    }

 private:
    uint8_t* value_at(uint32_t index, uint32_t cpu) const {
        assert(cpu < cpus());
        if (copies_ == 1) cpu = 0;
        return values_.data() + (uint64_t{index} * copies_ + cpu) * stride_;
    }

    Arena values_;
    uint64_t stride_;
    uint32_t copies_;
};

}  // namespace

MapResult make_array(MapSpec spec, uint32_t cpus) {
    const uint64_t copies = is_percpu(spec.type) ? cpus : 1;
    auto values = Arena::reserve(spec, uint64_t{spec.max_entries} * copies * round_up8(spec.value_size));
    if (!values) return values.error();
    return std::unique_ptr<Map>(std::make_unique<ArrayMap>(std::move(spec), cpus, std::move(*values)));
}

}  // namespace bpfvm::vm::detail
