// Checksums for bpf_csum_diff and bpf_l3/l4_csum_replace. Values marked "kernel" were returned by
// the helpers on Linux 6.18 (x86-64) through BPF_PROG_TEST_RUN of a tc program.
#include "checksum.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace bpfvm::vm {
namespace {

constexpr int64_t kEinval = -22;
constexpr int64_t kEfault = -14;

// The kernel probe's data: byte i is i * 37 + 11.
std::vector<uint8_t> pattern(size_t size) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    return bytes;
}

std::span<const uint8_t> part(const std::vector<uint8_t>& bytes, size_t offset, size_t size) {
    return std::span<const uint8_t>(bytes).subspan(offset, size);
}

uint16_t field_value(const std::array<uint8_t, 2>& field) {
    return static_cast<uint16_t>(field[0] | field[1] << 8);
}
std::array<uint8_t, 2> field_of(uint16_t value) {
    return {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
}

TEST(Checksum, CsumDiffMatchesTheKernel) {
    const auto buf = pattern(700);
    const std::vector<uint8_t> zeros(16, 0);
    const std::vector<uint8_t> ones(16, 0xff);
    const std::span<const uint8_t> none;
    struct Case {
        std::span<const uint8_t> from, to;
        uint32_t seed;
        uint64_t expected;  // kernel
    };
    const Case cases[] = {
        {none, part(buf, 0, 4), 0, 0xaa60},
        {part(buf, 0, 4), part(buf, 4, 4), 0, 0x2928},
        {part(buf, 0, 3), none, 0x1234, 0xe1d3},  // sizes need not be multiples of 4 since Linux 6.13
        {part(buf, 0, 80), part(buf, 80, 100), 0xffffffff, 0xa834},
        {none, none, 0x12345678, 0x68ac},  // the seed, folded
        {part(zeros, 0, 8), none, 0, 0x0},
        {part(ones, 0, 8), none, 0, 0x0},
        {part(buf, 0, 7), part(buf, 1, 13), 0xdeadbeef, 0x8519},
        {part(buf, 0, 600), none, 0, 0xb612},  // past the old 512-byte limit
        {none, part(buf, 0, 600), 0, 0x49ed},
        {none, part(ones, 0, 16), 0, 0xffff},
        {none, part(zeros, 0, 16), 0, 0x0},
        {part(ones, 0, 4), part(ones, 0, 4), 0, 0xffff},
        {part(zeros, 0, 4), part(zeros, 0, 4), 0, 0xffff},
        {none, part(buf, 0, 41), 0xffff, 0xb6a4},
        {none, part(buf, 0, 1), 0, 0xb},
        {part(buf, 0, 40), none, 0, 0x4a2e},
        {none, part(buf, 0, 160), 0xfffffffe, 0x9806},
        {part(zeros, 0, 4), none, 0, 0x0},
        {part(ones, 0, 4), none, 0xffffffff, 0x0},
        {none, part(ones, 0, 4), 0, 0xffff},
        {none, part(ones, 0, 8), 1, 0x1},
    };
    for (size_t i = 0; i < std::size(cases); ++i) {
        const Case& c = cases[i];
        EXPECT_EQ(csum_diff(c.from, c.to, c.seed), c.expected) << "case " << i;
    }
}

TEST(Checksum, CsumPartialFoldsToTheInternetChecksum) {
    // csum_partial adds little-endian words, RFC 1071 big-endian ones: the folded results are byte
    // swaps of each other, for every length and every split of the kernel's loop.
    const auto buf = pattern(300);
    for (size_t size = 0; size <= buf.size(); ++size) {
        const uint16_t folded = csum_fold(csum_partial(part(buf, 0, size), 0));
        const uint16_t swapped = static_cast<uint16_t>(folded >> 8 | folded << 8);
        EXPECT_EQ(swapped, internet_checksum(part(buf, 0, size))) << "size " << size;
    }
}

TEST(Checksum, CsumPartialKeepsX86Representation) {
    // All-ones words: the add/adc chain stays at all ones instead of wrapping to zero.
    const std::vector<uint8_t> ones(8, 0xff);
    EXPECT_EQ(csum_partial(ones, 0), 0xffffffffu);
    EXPECT_EQ(csum_partial({}, 0x1234), 0x1234u);
    EXPECT_EQ(csum_partial(std::vector<uint8_t>(40, 0), 0xffffffff), 0xffffffffu);
}

TEST(Checksum, Rfc1071Example) {
    const std::vector<uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(internet_checksum(bytes), 0x220d);  // the sum is 0xddf2
    const std::vector<uint8_t> odd = {0x00, 0x01, 0xf2};
    EXPECT_EQ(internet_checksum(odd), static_cast<uint16_t>(~(0x0001 + 0xf200)));
}

std::vector<uint8_t> ipv4_header() {
    // A UDP datagram's IPv4 header with its checksum 0xb861 in place.
    return {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
}

TEST(Checksum, Ipv4HeaderChecksum) {
    auto header = ipv4_header();
    EXPECT_EQ(internet_checksum(header), 0);  // a correct header sums to zero
    header[10] = header[11] = 0;
    EXPECT_EQ(internet_checksum(header), 0xb861);
}

TEST(Checksum, TtlDecrementMatchesARecompute) {
    auto header = ipv4_header();
    // Bytes 8-9 (TTL, protocol) as the program loads them: a little-endian u16.
    const uint16_t old_word = static_cast<uint16_t>(header[8] | header[9] << 8);
    header[8] -= 1;
    const uint16_t new_word = static_cast<uint16_t>(header[8] | header[9] << 8);
    ASSERT_EQ(l3_csum_replace(&header[10], old_word, new_word, 2), 0);
    const uint16_t updated = static_cast<uint16_t>(header[10] << 8 | header[11]);
    header[10] = header[11] = 0;
    EXPECT_EQ(updated, internet_checksum(header));
    EXPECT_EQ(updated, 0xb961);

    // The same change given as a csum_diff of the 4-byte word holding TTL and protocol.
    header = ipv4_header();
    std::array<uint8_t, 4> before{}, after{};
    std::copy_n(header.begin() + 8, 4, before.begin());
    header[8] -= 1;
    std::copy_n(header.begin() + 8, 4, after.begin());
    after[2] = after[3] = before[2] = before[3] = 0;  // leave the checksum bytes out of the diff
    const uint64_t diff = csum_diff(before, after, 0);
    ASSERT_EQ(l3_csum_replace(&header[10], 0, diff, 0), 0);
    EXPECT_EQ(static_cast<uint16_t>(header[10] << 8 | header[11]), 0xb961);
}

TEST(Checksum, Rfc1624Example) {
    // HC = 0xdd2f, m = 0x5555 -> m' = 0x3285: eqn. 3 gives 0x0000 where eqn. 2 gave 0xffff.
    auto field = field_of(0xdd2f);
    EXPECT_EQ(l3_csum_replace(field.data(), 0x5555, 0x3285, 2), 0);
    EXPECT_EQ(field_value(field), 0x0000);
    field = field_of(0xdd2f);
    EXPECT_EQ(l4_csum_replace(field.data(), 0x5555, 0x3285, 2), 0);
    EXPECT_EQ(field_value(field), 0x0000);
    field = field_of(0xdd2f);
    EXPECT_EQ(l4_csum_replace(field.data(), 0x5555, 0x3285, 2 | kBpfMarkMangled0), 0);
    EXPECT_EQ(field_value(field), kCsumMangled0);
    // from is truncated to 16 bits for size 2.
    field = field_of(0xdd2f);
    EXPECT_EQ(l3_csum_replace(field.data(), 0xffffffffffff5555ULL, 0x3285, 2), 0);
    EXPECT_EQ(field_value(field), 0x0000);
}

TEST(Checksum, ReplaceMatchesTheKernel) {
    struct Case {
        bool layer4;
        uint16_t before;
        uint64_t from, to, flags;
        int64_t result;
        uint16_t after;  // kernel
    };
    const Case cases[] = {
        {false, 0x1234, 0x1111, 0x2222, 2, 0, 0x0123},
        {false, 0xbeef, 0x11112222, 0x33334444, 4, 0, 0x7aab},
        {false, 0x0f0f, 0, 0xabcd1234, 0, 0, 0x510d},
        {false, 0x1111, 1, 0xabcd1234, 0, kEinval, 0x1111},  // size 0 needs from == 0
        {false, 0x2222, 1, 2, 3, kEinval, 0x2222},
        {false, 0x0001, 0, 0, 2 | kBpfPseudoHdr, kEinval, 0x0001},        // l4 flags are not l3 flags
        {false, 0x1234, 0, 0xffffffff00010001ULL, 0, 0, 0x1232},          // the diff is 32 bits
        {true, 0x0000, 0x1111, 0x2222, 2 | kBpfMarkMangled0, 0, 0x0000},  // no UDP checksum: left alone
        {true, 0x1111, 0x1111, 0x2222, 2 | kBpfMarkMangled0, 0, 0xffff},  // 0 becomes CSUM_MANGLED_0
        {true, 0x0000, 0x1111, 0x2222, 2 | kBpfMarkMangled0 | kBpfMarkEnforce, 0, 0xeeee},
        {true, 0x00ff, 0x00ff, 0xff00, 2 | kBpfMarkMangled0, 0, 0x02fd},
        {true, 0x0000, 0, 0, 3 | kBpfMarkMangled0, 0, 0x0000},  // zero check comes before the size
        {true, 0xffff, 0, 0, 3 | kBpfMarkMangled0, kEinval, 0xffff},
        {true, 0x8000, 0x01020304, 0x0a0b0c0d, 4 | kBpfPseudoHdr, 0, 0x6dee},
        {true, 0xfffe, 0, 0x12345678, 0 | kBpfIpv6 | kBpfPseudoHdr, 0, 0x9752},
        {true, 0x0001, 0, 0, 2 | (1ULL << 8), kEinval, 0x0001},
        {true, 0xffff, 1, 1, 2 | kBpfMarkMangled0, 0, 0xffff},
    };
    for (size_t i = 0; i < std::size(cases); ++i) {
        const Case& c = cases[i];
        auto field = field_of(c.before);
        const int64_t result = c.layer4 ? l4_csum_replace(field.data(), c.from, c.to, c.flags)
                                        : l3_csum_replace(field.data(), c.from, c.to, c.flags);
        EXPECT_EQ(result, c.result) << "case " << i;
        EXPECT_EQ(field_value(field), c.after) << "case " << i;
    }
}

TEST(Checksum, ReplaceChecksBeforeTheField) {
    EXPECT_EQ(csum_replace_check(false, 10, 2), 0);
    EXPECT_EQ(csum_replace_check(true, 10, 2 | kBpfPseudoHdr | kBpfMarkMangled0 | kBpfMarkEnforce | kBpfIpv6),
              0);
    EXPECT_EQ(csum_replace_check(false, 27, 2), kEfault);  // odd
    EXPECT_EQ(csum_replace_check(false, 0x10000, 2), kEfault);
    EXPECT_EQ(csum_replace_check(false, 0x1ffff0026ULL, 0), kEfault);    // a u32 offset above 0xffff
    EXPECT_EQ(csum_replace_check(false, 0x100000026ULL, 0), 0);          // truncated to 0x26
    EXPECT_EQ(csum_replace_check(false, 27, 2 | (1ULL << 9)), kEinval);  // flags first
    EXPECT_EQ(csum_replace_check(false, 0, kBpfPseudoHdr), kEinval);
    EXPECT_EQ(csum_replace_check(true, 0, 1ULL << 8), kEinval);
    // Sizes are checked later, with the field: 3 is not a flag error.
    EXPECT_EQ(csum_replace_check(true, 0, 3), 0);
}

}  // namespace
}  // namespace bpfvm::vm
