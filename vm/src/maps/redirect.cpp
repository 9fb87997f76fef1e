// devmap, cpumap and xskmap (arrays; kernel/bpf/devmap.c, cpumap.c, net/xdp/xskmap.c) and
// devmap_hash. Values are what user space wrote (an ifindex or queue size, then an optional
// program; an XDP socket); the kernel marks these maps BPF_F_RDONLY_PROG, so their region is
// read-only. An entry can be empty: a lookup returns nullptr for it.
// Iteration: keys() lists every index for the arrays (as their get_next_key does) and the
// present keys in slot order for devmap_hash; for_each visits present entries only.
// Not modelled: devices, CPUs' kthreads and sockets behind the values; a program fd in a
// devmap or cpumap value is kept as written (the kernel replaces it with the program's id).
#include <cassert>
#include <cerrno>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

constexpr uint32_t kCpumapMaxQueueSize = 16384;  // cpu_map_update_elem's sanity limit

// The value as the kernel stores it: a program fd <= 0 means "no program" and reads back as 0.
void normalize_program(uint8_t* value, uint32_t value_size) {
    if (value_size < 8) return;
    int32_t program;
    std::memcpy(&program, value + 4, 4);
    if (program <= 0) std::memset(value + 4, 0, 4);
}

class RedirectArray final : public RedirectMap {
 public:
    RedirectArray(MapSpec spec, uint32_t cpus, Arena values)
        : RedirectMap(std::move(spec), cpus),
          values_(std::move(values)),
          stride_(round_up8(this->spec().value_size)),
          present_(this->spec().max_entries, false) {}

    void add_regions(MemoryMap& memory) const override {
        memory.add_elements(values_.data(), values_.size(), stride_, spec().value_size, false, name());
    }

    uint8_t* lookup(const uint8_t* key, [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        const uint32_t index = load_u32(key);
        return index < spec().max_entries && present_[index] ? value_at(index) : nullptr;
    }

    int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags,
                   [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        if (flags > kUpdateExist) return -EINVAL;
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries) return -E2BIG;
        const uint32_t first = load_u32(value);
        switch (type()) {
            case isa::MapType::Devmap: {
                if (flags == kUpdateNoExist) return -EEXIST;
                if (first == 0) {
                    // An ifindex of 0 empties the entry; naming a program with it is an error.
                    if (spec().value_size == 8 && static_cast<int32_t>(load_u32(value + 4)) > 0)
                        return -EINVAL;
                    clear(index);
                    return 0;
                }
                break;
            }
            case isa::MapType::Cpumap: {
                if (flags == kUpdateNoExist) return -EEXIST;
                if (first > kCpumapMaxQueueSize) return -EOVERFLOW;
                if (index >= cpus()) return -ENODEV;  // no such CPU
                if (first == 0) {                     // a queue size of 0 empties the entry
                    clear(index);
                    return 0;
                }
                break;
            }
            default: {  // xskmap
                if (present_[index] && flags == kUpdateNoExist) return -EEXIST;
                if (!present_[index] && flags == kUpdateExist) return -ENOENT;
                break;
            }
        }
        std::memcpy(value_at(index), value, spec().value_size);
        normalize_program(value_at(index), spec().value_size);
        present_[index] = true;
        return 0;
    }

    int64_t remove(const uint8_t* key) override {
        const uint32_t index = load_u32(key);
        if (index >= spec().max_entries) return -EINVAL;
        clear(index);
        return 0;
    }

    std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const override {
        if (key.size() != sizeof(uint32_t)) return std::nullopt;
        const uint32_t index = load_u32(key.data());
        if (index >= spec().max_entries || !present_[index]) return std::nullopt;
        return std::vector<uint8_t>(value_at(index), value_at(index) + spec().value_size);
    }

    int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) override {
        if (key.size() != sizeof(uint32_t) || values.size() != spec().value_size) return -EINVAL;
        return update(key.data(), values.data(), flags, 0);
    }

    std::vector<std::vector<uint8_t>> keys() const override {
        std::vector<std::vector<uint8_t>> all;
        all.reserve(spec().max_entries);
        for (uint32_t i = 0; i < spec().max_entries; ++i) all.push_back(u32_bytes(i));
        return all;
    }

    void for_each([[maybe_unused]] uint32_t cpu,
                  const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) override {
        assert(cpu < cpus());
        for (uint32_t i = 0; i < spec().max_entries; ++i) {
            if (!present_[i]) continue;
            if (!visit(u32_bytes(i), value_at(i))) return;
        }
    }

 private:
    void clear(uint32_t index) {
        present_[index] = false;
        std::memset(value_at(index), 0, stride_);
    }
    uint8_t* value_at(uint32_t index) const { return values_.data() + index * stride_; }

    Arena values_;
    uint64_t stride_;
    std::vector<bool> present_;
};

class DevmapHash final : public RedirectMap {
 public:
    DevmapHash(MapSpec spec, uint32_t cpus, SlotTable slots, Arena values)
        : RedirectMap(std::move(spec), cpus),
          slots_(std::move(slots)),
          values_(std::move(values)),
          stride_(round_up8(this->spec().value_size)) {}

    void add_regions(MemoryMap& memory) const override {
        memory.add_elements(values_.data(), values_.size(), stride_, spec().value_size, false, name());
    }

    uint8_t* lookup(const uint8_t* key, [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        const auto slot = slots_.find(key);
        return slot ? value_at(*slot) : nullptr;
    }

    int64_t update(const uint8_t* key, const uint8_t* value, uint64_t flags,
                   [[maybe_unused]] uint32_t cpu) override {
        assert(cpu < cpus());
        // __dev_map_hash_update_elem: an ifindex is required, BPF_EXIST is not checked.
        if (flags > kUpdateExist || load_u32(value) == 0) return -EINVAL;
        auto slot = slots_.find(key);
        if (slot) {
            if (flags == kUpdateNoExist) return -EEXIST;
        } else {
            if (slots_.full()) return -E2BIG;
            slot = slots_.insert(key);
        }
        uint8_t* target = value_at(*slot);
        std::memset(target, 0, stride_);
        std::memcpy(target, value, spec().value_size);
        normalize_program(target, spec().value_size);
        return 0;
    }

    int64_t remove(const uint8_t* key) override { return slots_.erase_key(key); }

    std::optional<std::vector<uint8_t>> read(std::span<const uint8_t> key) const override {
        if (key.size() != spec().key_size) return std::nullopt;
        const auto slot = slots_.find(key.data());
        if (!slot) return std::nullopt;
        return std::vector<uint8_t>(value_at(*slot), value_at(*slot) + spec().value_size);
    }

    int64_t write(std::span<const uint8_t> key, std::span<const uint8_t> values, uint64_t flags) override {
        if (key.size() != spec().key_size || values.size() != spec().value_size) return -EINVAL;
        return update(key.data(), values.data(), flags, 0);
    }

    std::vector<std::vector<uint8_t>> keys() const override { return slots_.present_keys(); }

    void for_each([[maybe_unused]] uint32_t cpu,
                  const std::function<bool(std::span<const uint8_t> key, uint8_t* value)>& visit) override {
        assert(cpu < cpus());
        for (uint32_t slot : slots_.present_slots()) {
            if (!slots_.present(slot)) continue;
            const auto stored = slots_.key(slot);
            const std::vector<uint8_t> key(stored.begin(), stored.end());
            if (!visit(key, value_at(slot))) return;
        }
    }

 private:
    uint8_t* value_at(uint32_t slot) const { return values_.data() + slot * stride_; }

    SlotTable slots_;
    Arena values_;
    uint64_t stride_;
};

}  // namespace

MapResult make_redirect(MapSpec spec, uint32_t cpus) {
    auto values = Arena::reserve(spec, uint64_t{spec.max_entries} * round_up8(spec.value_size));
    if (!values) return values.error();
    if (spec.type == isa::MapType::DevmapHash) {
        auto slots = SlotTable::create(spec, spec.max_entries, spec.key_size);
        if (!slots) return slots.error();
        return std::unique_ptr<Map>(
            std::make_unique<DevmapHash>(std::move(spec), cpus, std::move(*slots), std::move(*values)));
    }
    return std::unique_ptr<Map>(std::make_unique<RedirectArray>(std::move(spec), cpus, std::move(*values)));
}

}  // namespace bpfvm::vm::detail
