// perf_event_array as bpf_perf_event_output sees it (kernel/trace/bpf_trace.c): entry i is the
// BPF_OUTPUT perf event libbpf's perf_buffer opens on CPU i, so CPUs 0 .. cpus-1 have a reader
// and a program may only write to the entry of the CPU it runs on. Records wait in one list in
// the order they were written until consume() takes them.
#include <cerrno>
#include <utility>

#include "maps/internal.hpp"

namespace bpfvm::vm::detail {
namespace {

constexpr uint64_t kIndexMask = 0xffffffffULL;             // BPF_F_INDEX_MASK
constexpr uint64_t kCurrentCpu = kIndexMask;               // BPF_F_CURRENT_CPU
constexpr uint64_t kContextLengthMask = 0xfffffULL << 32;  // BPF_F_CTXLEN_MASK (skb/xdp variants)
// What a record costs in a perf buffer besides its data: the event header and the raw size.
constexpr uint64_t kRecordOverhead = 16;

class PerfEventArray final : public PerfEventArrayMap {
 public:
    PerfEventArray(MapSpec spec, uint32_t cpus, uint64_t max_buffered)
        : PerfEventArrayMap(std::move(spec), cpus), max_buffered_(max_buffered) {}

    void add_regions(MemoryMap&) const override {}

    int64_t output(uint64_t flags, uint32_t cpu, std::span<const uint8_t> data) override {
        // The context-length bits ask the skb/xdp helpers to append packet bytes; the helper
        // does that, the map accepts them.
        if ((flags & ~(kIndexMask | kContextLengthMask)) != 0) return -EINVAL;
        uint64_t index = flags & kIndexMask;
        if (index == kCurrentCpu) index = cpu;
        if (index >= spec().max_entries) return -E2BIG;
        if (index >= cpus()) return -ENOENT;   // no perf event behind the entry
        if (index != cpu) return -EOPNOTSUPP;  // the event lives on another CPU
        const uint64_t cost = data.size() + kRecordOverhead;
        if (cost > max_buffered_ - buffered_) return -ENOSPC;  // the reader's buffer is full
        buffered_ += cost;
        events_.push_back(MapEvent{cpu, std::vector<uint8_t>(data.begin(), data.end())});
        return 0;
    }

    std::vector<MapEvent> consume() override {
        buffered_ = 0;
        return std::exchange(events_, {});
    }

 private:
    uint64_t max_buffered_;
    uint64_t buffered_ = 0;
    std::vector<MapEvent> events_;
};

}  // namespace

MapResult make_perf_event_array(MapSpec spec, uint32_t cpus, uint64_t max_buffered_bytes) {
    return std::unique_ptr<Map>(std::make_unique<PerfEventArray>(std::move(spec), cpus, max_buffered_bytes));
}

}  // namespace bpfvm::vm::detail
