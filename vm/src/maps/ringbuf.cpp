// ringbuf (kernel/bpf/ringbuf.c). The data area is a memfd mapped twice back to back, as the
// kernel maps its pages twice, so a record that wraps past the end is contiguous for the
// program. Each record is an 8-byte header {u32 len | BUSY | DISCARD; u32 page offset} then
// the data, and takes round_up(len + 8, 8) bytes of the ring. Positions only grow; a
// position's offset in the ring is position & (size - 1).
// Which records exist and whether they are committed is kept here too, not only in the headers
// programs can overwrite, so a scribbling program cannot make the reader walk off the ring.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "maps/internal.hpp"

namespace bpfvm::vm::detail {
namespace {

constexpr uint32_t kBusyBit = 1U << 31;
constexpr uint32_t kDiscardBit = 1U << 30;
constexpr uint64_t kHeaderSize = 8;
constexpr uint64_t kMaxRecordSize = UINT32_MAX >> 2;  // RINGBUF_MAX_RECORD_SZ
// The kernel's header page offset counts from its struct bpf_ringbuf, whose data starts after a
// page of bookkeeping and the consumer and producer pages.
constexpr uint32_t kDataPageOffset = 3;

class RingBuffer final : public RingBufferMap {
 public:
    RingBuffer(MapSpec spec, uint32_t cpus, uint8_t* base)
        : RingBufferMap(std::move(spec), cpus), base_(base), size_(this->spec().max_entries) {}

    ~RingBuffer() override { munmap(base_, 2 * size_); }

    void add_regions(MemoryMap& memory) const override { memory.add(base_, 2 * size_, true, name()); }

    uint8_t* reserve(uint64_t size) override {
        if (size > kMaxRecordSize) return nullptr;
        const uint64_t length = round_up8(size + kHeaderSize);
        if (length > size_) return nullptr;
        // The oldest record still reserved: the kernel's pending_pos.
        uint64_t pending = producer_;
        for (const auto& record : records_) {
            if (record.busy) {
                pending = record.position;
                break;
            }
        }
        const uint64_t mask = size_ - 1;
        const uint64_t next = producer_ + length;
        if (next - consumer_ > mask || next - pending > mask) return nullptr;

        const uint64_t offset = producer_ & mask;
        write_header(offset, static_cast<uint32_t>(size) | kBusyBit);
        records_.push_back(Record{producer_, static_cast<uint32_t>(size), true, false});
        producer_ = next;
        return base_ + offset + kHeaderSize;
    }

    bool commit(const uint8_t* record, bool discard) override {
        const auto address = reinterpret_cast<uintptr_t>(record);
        const auto first = reinterpret_cast<uintptr_t>(base_) + kHeaderSize;
        if (address < first || address >= first + size_) return false;
        const uint64_t offset = address - first;
        for (auto& outstanding : records_) {
            if (!outstanding.busy || (outstanding.position & (size_ - 1)) != offset) continue;
            outstanding.busy = false;
            outstanding.discarded = discard;
            write_header(offset, outstanding.size | (discard ? kDiscardBit : 0));
            return true;
        }
        return false;
    }

    int64_t output(std::span<const uint8_t> data) override {
        uint8_t* record = reserve(data.size());
        if (record == nullptr) return -EAGAIN;
        if (!data.empty()) std::memcpy(record, data.data(), data.size());
        commit(record, false);
        return 0;
    }

    uint64_t query(uint64_t flags) const override {
        switch (flags) {
            case 0: return producer_ - consumer_;  // BPF_RB_AVAIL_DATA
            case 1: return size_;                  // BPF_RB_RING_SIZE
            case 2: return consumer_;              // BPF_RB_CONS_POS
            case 3: return producer_;              // BPF_RB_PROD_POS
            default: return 0;
        }
    }

    std::vector<MapEvent> consume() override {
        std::vector<MapEvent> events;
        while (!records_.empty() && !records_.front().busy) {
            const Record record = records_.front();
            records_.pop_front();
            if (!record.discarded) {
                const uint8_t* data = base_ + (record.position & (size_ - 1)) + kHeaderSize;
                events.push_back(MapEvent{0, std::vector<uint8_t>(data, data + record.size)});
            }
            consumer_ = record.position + round_up8(record.size + kHeaderSize);
        }
        return events;
    }

 private:
    struct Record {
        uint64_t position;
        uint32_t size;
        bool busy;
        bool discarded;
    };

    void write_header(uint64_t offset, uint32_t length) {
        const uint32_t page = kDataPageOffset + static_cast<uint32_t>(offset / kPageSize);
        std::memcpy(base_ + offset, &length, 4);
        std::memcpy(base_ + offset + 4, &page, 4);
    }

    uint8_t* base_;
    uint64_t size_;
    uint64_t consumer_ = 0;
    uint64_t producer_ = 0;
    std::deque<Record> records_;  // from consumer_ to producer_, in order
};

}  // namespace

MapResult make_ringbuf(MapSpec spec, uint32_t cpus) {
    const uint64_t size = spec.max_entries;
    const auto host_page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    if (size % host_page != 0) {
        return map_error(ErrorKind::Unsupported, spec,
                         "a ring buffer of " + std::to_string(size) +
                             " bytes cannot be mapped twice with host pages of " + std::to_string(host_page) +
                             " bytes");
    }
    auto fail = [&](const char* step) {
        return map_error(ErrorKind::InvalidInput, spec,
                         std::string("cannot map the ring buffer (") + step + "): " + std::strerror(errno));
    };
    const int fd = memfd_create("bpfvm-ringbuf", MFD_CLOEXEC);
    if (fd < 0) return fail("memfd_create");
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
        auto error = fail("ftruncate");
        close(fd);
        return error;
    }
    // Reserve twice the size, then map the same pages into both halves.
    void* reserved = mmap(nullptr, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) {
        auto error = fail("reserve");
        close(fd);
        return error;
    }
    auto* base = static_cast<uint8_t*>(reserved);
    for (uint8_t* half : {base, base + size}) {
        if (mmap(half, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
            auto error = fail("mmap");
            munmap(base, 2 * size);
            close(fd);
            return error;
        }
    }
    close(fd);  // the mappings keep the memory
    return std::unique_ptr<Map>(std::make_unique<RingBuffer>(std::move(spec), cpus, base));
}

}  // namespace bpfvm::vm::detail
