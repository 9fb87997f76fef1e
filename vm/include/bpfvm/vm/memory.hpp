// The memory a program may touch: a set of host regions. Every load, store and helper access
// of every engine is checked against the same map.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::vm {

enum class Access : uint8_t { Read, Write };

struct Region {
    uint64_t start;  // host address
    uint64_t size;
    bool writable;
    std::string name;  // "stack", "input", "context", a map's name...
    // A map's value arena: elements `stride` bytes apart, of which an access must stay inside
    // one element's first `element_size` bytes, as the verifier proves of a value pointer (a
    // value overrun into the next element is caught too). 0: one flat region.
    uint64_t stride = 0;
    uint64_t element_size = 0;

    uint64_t end() const { return start + size; }
    bool contains(uint64_t addr, uint64_t len) const {
        if (addr < start || len > size || addr - start > size - len) return false;
        if (stride == 0) return true;
        return len <= element_size && (addr - start) % stride <= element_size - len;
    }
};

class MemoryMap {
 public:
    // Adds a region and returns its index, which stays valid until truncate() drops it.
    size_t add(Region region) {
        regions_.push_back(std::move(region));
        return regions_.size() - 1;
    }
    size_t add(const void* base, uint64_t size, bool writable, std::string name) {
        return add(Region{reinterpret_cast<uint64_t>(base), size, writable, std::move(name)});
    }
    // A map's value arena (see Region::stride).
    size_t add_elements(const void* base, uint64_t size, uint64_t stride, uint64_t element_size,
                        bool writable, std::string name) {
        return add(
            Region{reinterpret_cast<uint64_t>(base), size, writable, std::move(name), stride, element_size});
    }
    const std::vector<Region>& regions() const { return regions_; }
    // Moves or resizes a region (a packet whose head or tail a helper adjusted).
    void resize(size_t index, uint64_t start, uint64_t size) {
        regions_[index].start = start;
        regions_[index].size = size;
    }
    // Drops the regions added after the first `count` (scratch memory a helper lent a callback).
    void truncate(size_t count) { regions_.resize(count); }

    // The region holding all of [addr, addr + len), if any allows the access.
    const Region* find(uint64_t addr, uint64_t len, Access access) const {
        for (const auto& r : regions_) {
            if (r.contains(addr, len) && (access == Access::Read || r.writable)) return &r;
        }
        return nullptr;
    }

    // Checks an access and, when it is not allowed, explains why in an Error located at the
    // given instruction: which address, size and region (or the nearest region) were involved.
    Status check(uint64_t addr, uint64_t len, Access access, std::optional<uint32_t> instruction,
                 std::string_view what) const;

    // Length of the NUL-terminated string at addr (without the NUL), reading only bytes the
    // map allows; an error if the string runs out of readable memory before its end.
    Result<uint64_t> string_length(uint64_t addr, std::optional<uint32_t> instruction) const;

 private:
    std::vector<Region> regions_;
};

}  // namespace bpfvm::vm
