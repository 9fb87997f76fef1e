#include "checksum.hpp"

#include <cstddef>

namespace bpfvm::vm {
namespace {

constexpr int64_t kEinval = -22;
constexpr int64_t kEfault = -14;

uint64_t load_le64(const uint8_t* p, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value |= uint64_t{p[i]} << (8 * i);
    return value;
}

// A chain of x86 `add` / `adc` instructions ending in `adc $0`: the carry runs through the chain and
// is added back once at the end (a carry out of that last add is lost, as on the CPU).
class AddChain {
 public:
    explicit AddChain(uint64_t sum) : sum_(sum) {}
    void add(uint64_t word) {
        const uint64_t partial = sum_ + word;
        const uint64_t carry_out = (partial < sum_) ? 1 : 0;
        sum_ = partial + carry_;
        carry_ = carry_out | ((sum_ < partial) ? 1 : 0);
    }
    uint64_t finish() const { return sum_ + carry_; }

 private:
    uint64_t sum_;
    uint64_t carry_ = 0;
};

uint64_t add_words(uint64_t sum, const uint8_t* p, size_t words) {
    AddChain chain(sum);
    for (size_t i = 0; i < words; ++i) chain.add(load_le64(p + 8 * i, 8));
    return chain.finish();
}

uint32_t finalize(uint64_t sum) {
    const uint64_t rotated = (sum >> 32) | (sum << 32);
    return static_cast<uint32_t>((sum + rotated) >> 32);
}

uint16_t load_field(const uint8_t* field) {
    return static_cast<uint16_t>(field[0] | (field[1] << 8));
}
void store_field(uint8_t* field, uint16_t value) {
    field[0] = static_cast<uint8_t>(value);
    field[1] = static_cast<uint8_t>(value >> 8);
}

uint16_t csum16_add(uint16_t csum, uint16_t addend) {
    const auto sum = static_cast<uint16_t>(csum + addend);
    return static_cast<uint16_t>(sum + (sum < addend ? 1 : 0));
}
uint16_t csum16_sub(uint16_t csum, uint16_t addend) {
    return csum16_add(csum, static_cast<uint16_t>(~addend));
}

// include/net/checksum.h's csum_replace2, csum_replace4 and csum_replace_by_diff.
uint16_t replace2(uint16_t sum, uint16_t from, uint16_t to) {
    return static_cast<uint16_t>(~csum16_add(csum16_sub(static_cast<uint16_t>(~sum), from), to));
}
uint16_t replace4(uint16_t sum, uint32_t from, uint32_t to) {
    return csum_fold(csum_add(csum_sub(~uint32_t{sum}, from), to));
}
uint16_t replace_by_diff(uint16_t sum, uint32_t diff) {
    return csum_fold(csum_add(diff, ~uint32_t{sum}));
}

// The size switch shared by both helpers; l4 uses inet_proto_csum_replace2, which widens the 16-bit
// values and goes through csum_replace4.
int64_t replace(uint8_t* field, uint64_t from, uint64_t to, uint64_t flags, bool layer4) {
    const uint16_t sum = load_field(field);
    switch (flags & kBpfHdrFieldMask) {
        case 0:
            if (from != 0) return kEinval;
            store_field(field, replace_by_diff(sum, static_cast<uint32_t>(to)));
            return 0;
        case 2:
            store_field(field, layer4
                                   ? replace4(sum, static_cast<uint16_t>(from), static_cast<uint16_t>(to))
                                   : replace2(sum, static_cast<uint16_t>(from), static_cast<uint16_t>(to)));
            return 0;
        case 4:
            store_field(field, replace4(sum, static_cast<uint32_t>(from), static_cast<uint32_t>(to)));
            return 0;
        default: return kEinval;
    }
}

constexpr uint64_t kL3Flags = kBpfHdrFieldMask;
constexpr uint64_t kL4Flags =
    kBpfMarkMangled0 | kBpfMarkEnforce | kBpfPseudoHdr | kBpfHdrFieldMask | kBpfIpv6;

}  // namespace

uint32_t csum_add(uint32_t csum, uint32_t addend) {
    const uint32_t sum = csum + addend;
    return sum + (sum < addend ? 1 : 0);
}

uint32_t csum_sub(uint32_t csum, uint32_t addend) {
    return csum_add(csum, ~addend);
}

uint16_t csum_from32to16(uint32_t csum) {
    csum += (csum >> 16) | (csum << 16);
    return static_cast<uint16_t>(csum >> 16);
}

uint16_t csum_fold(uint32_t csum) {
    return static_cast<uint16_t>(~csum_from32to16(csum));
}

uint32_t csum_partial(std::span<const uint8_t> bytes, uint32_t seed) {
    const uint8_t* p = bytes.data();
    size_t len = bytes.size();
    uint64_t sum = seed;
    // Two 40-byte chains side by side, joined afterwards, as the kernel's loop does.
    if (len >= 80) {
        uint64_t second = 0;
        do {
            sum = add_words(sum, p, 5);
            second = add_words(second, p + 40, 5);
            p += 80;
            len -= 80;
        } while (len >= 80);
        AddChain chain(sum);
        chain.add(second);
        sum = chain.finish();
    }
    if (len >= 40) {
        sum = add_words(sum, p, 5);
        len -= 40;
        if (len == 0) return finalize(sum);
        p += 40;
    }
    for (size_t block : {32, 16, 8}) {
        if (len & block) {
            sum = add_words(sum, p, block / 8);
            p += block;
        }
    }
    if (len & 7) {
        AddChain chain(sum);
        chain.add(load_le64(p, len & 7));  // the trailing bytes, zero-extended
        sum = chain.finish();
    }
    return finalize(sum);
}

uint64_t csum_diff(std::span<const uint8_t> from, std::span<const uint8_t> to, uint32_t seed) {
    uint32_t result = seed;
    if (!from.empty() && !to.empty()) {
        result = csum_sub(csum_partial(to, result), csum_partial(from, 0));
    } else if (!to.empty()) {
        result = csum_partial(to, result);
    } else if (!from.empty()) {
        result = ~csum_partial(from, ~result);
    }
    return csum_from32to16(result);
}

int64_t csum_replace_check(bool layer4, uint64_t offset, uint64_t flags) {
    if (flags & ~(layer4 ? kL4Flags : kL3Flags)) return kEinval;
    const auto offset32 = static_cast<uint32_t>(offset);  // the helpers take a u32 offset
    if (offset32 > 0xffff || (offset32 & 1)) return kEfault;
    return 0;
}

int64_t l3_csum_replace(uint8_t* field, uint64_t from, uint64_t to, uint64_t flags) {
    if (flags & ~kL3Flags) return kEinval;
    return replace(field, from, to, flags, false);
}

int64_t l4_csum_replace(uint8_t* field, uint64_t from, uint64_t to, uint64_t flags) {
    if (flags & ~kL4Flags) return kEinval;
    const bool mark_mangled = flags & kBpfMarkMangled0;
    // Checked before the size: a zero UDP checksum stays zero even with an unknown size.
    if (mark_mangled && !(flags & kBpfMarkEnforce) && load_field(field) == 0) return 0;
    if (int64_t error = replace(field, from, to, flags, true); error != 0) return error;
    if (mark_mangled && load_field(field) == 0) store_field(field, kCsumMangled0);
    return 0;
}

uint16_t internet_checksum(std::span<const uint8_t> bytes) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < bytes.size(); i += 2)
        sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    if (bytes.size() % 2 != 0) sum += static_cast<uint32_t>(bytes.back() << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

}  // namespace bpfvm::vm
