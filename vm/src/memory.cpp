#include "bpfvm/vm/memory.hpp"

#include <cstdio>

namespace bpfvm::vm {
namespace {

std::string describe(const Region& r) {
    return r.name + " [" + to_hex(r.start) + ", " + to_hex(r.end()) + ")" + (r.writable ? "" : " read-only");
}

}  // namespace

Status MemoryMap::check(uint64_t addr, uint64_t len, Access access, std::optional<uint32_t> instruction,
                        std::string_view what) const {
    if (find(addr, len, access) != nullptr) return Ok{};

    std::string message = std::string(what) + (access == Access::Read ? " reads " : " writes ") +
                          std::to_string(len) + " byte" + (len == 1 ? "" : "s") + " at " + to_hex(addr);
    // Name the region the access overlaps or, failing that, the closest one, so the user can
    // see whether it ran past an end or hit a read-only region.
    const Region* nearest = nullptr;
    uint64_t best_distance = UINT64_MAX;
    for (const auto& r : regions_) {
        uint64_t distance = addr < r.start ? r.start - addr : (addr >= r.end() ? addr - r.end() + 1 : 0);
        if (distance < best_distance) {
            best_distance = distance;
            nearest = &r;
        }
    }
    if (nearest == nullptr) {
        message += ", but the program was given no memory";
    } else if (nearest->contains(addr, len)) {
        message += ", inside " + describe(*nearest);
    } else if (best_distance == 0) {
        message += ", running past the end of " + describe(*nearest);
    } else {
        message += ", outside every region (nearest: " + describe(*nearest) + ")";
    }
    Location where;
    where.instruction = instruction;
    return make_error(ErrorKind::MemoryFault, std::move(message), std::move(where));
}

Result<uint64_t> MemoryMap::string_length(uint64_t addr, std::optional<uint32_t> instruction) const {
    for (uint64_t len = 0;; ++len) {
        if (auto s = check(addr + len, 1, Access::Read, instruction, "string"); !s) return s.error();
        if (*reinterpret_cast<const char*>(addr + len) == '\0') return len;
    }
}

}  // namespace bpfvm::vm
