// queue and stack (kernel/bpf/queue_stack_maps.c): a ring of max_entries values. The oldest
// value is at head_; a queue pops it, a stack pops the newest. Programs only copy values in
// and out, so the ring is not program-visible memory.
#include <cerrno>

#include "maps/internal.hpp"
#include "maps/storage.hpp"

namespace bpfvm::vm::detail {
namespace {

class QueueStackMap final : public QueueMap {
 public:
    QueueStackMap(MapSpec spec, uint32_t cpus, Arena ring)
        : QueueMap(std::move(spec), cpus),
          ring_(std::move(ring)),
          stride_(round_up8(this->spec().value_size)),
          capacity_(this->spec().max_entries),
          stack_(type() == isa::MapType::Stack) {}

    void add_regions(MemoryMap&) const override {}

    int64_t push(const uint8_t* value, uint64_t flags) override {
        // queue_stack_map_push_elem: only BPF_ANY and BPF_EXIST (replace the oldest when full).
        if ((flags & kUpdateNoExist) != 0 || flags > kUpdateExist) return -EINVAL;
        if (count_ == capacity_) {
            if (flags != kUpdateExist) return -E2BIG;
            head_ = (head_ + 1) % capacity_;
            --count_;
        }
        std::memcpy(slot(position(count_)), value, spec().value_size);
        ++count_;
        return 0;
    }

    int64_t pop(uint8_t* out) override {
        if (auto status = peek(out); status != 0) return status;
        if (stack_) {
            --count_;
        } else {
            head_ = (head_ + 1) % capacity_;
            --count_;
        }
        return 0;
    }

    int64_t peek(uint8_t* out) const override {
        if (count_ == 0) return -ENOENT;
        std::memcpy(out, slot(position(stack_ ? count_ - 1 : 0)), spec().value_size);
        return 0;
    }

    std::vector<std::vector<uint8_t>> values() const override {
        std::vector<std::vector<uint8_t>> all;
        all.reserve(count_);
        for (uint32_t i = 0; i < count_; ++i) {
            const uint8_t* value = slot(position(stack_ ? count_ - 1 - i : i));
            all.emplace_back(value, value + spec().value_size);
        }
        return all;
    }

 private:
    // Ring index of the i-th oldest value.
    uint32_t position(uint32_t i) const { return static_cast<uint32_t>((uint64_t{head_} + i) % capacity_); }
    uint8_t* slot(uint32_t index) const { return ring_.data() + index * stride_; }

    Arena ring_;
    uint64_t stride_;
    uint32_t capacity_;
    bool stack_;
    uint32_t head_ = 0;
    uint32_t count_ = 0;
};

}  // namespace

MapResult make_queue(MapSpec spec, uint32_t cpus) {
    auto ring = Arena::reserve(spec, uint64_t{spec.max_entries} * round_up8(spec.value_size));
    if (!ring) return ring.error();
    return std::unique_ptr<Map>(std::make_unique<QueueStackMap>(std::move(spec), cpus, std::move(*ring)));
}

}  // namespace bpfvm::vm::detail
