// The kernel's printf for BPF programs. Expected strings and return values were taken from
// bpf_snprintf on Linux 6.18 (x86-64) through BPF_PROG_TEST_RUN, except where a test says why not.
#include "format.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace bpfvm::vm {
namespace {

using namespace std::string_literals;

// Program memory as a few readable regions; a read must lie inside one region.
class FakeMemory {
 public:
    void put(uint64_t address, std::string bytes) { regions_[address] = std::move(bytes); }

    ReadProgramMemory reader() const {
        return [this](uint64_t address, std::span<uint8_t> out) {
            auto it = regions_.upper_bound(address);
            if (it == regions_.begin()) return false;
            --it;
            const uint64_t offset = address - it->first;
            if (offset > it->second.size() || out.size() > it->second.size() - offset) return false;
            std::memcpy(out.data(), it->second.data() + offset, out.size());
            return true;
        };
    }

 private:
    std::map<uint64_t, std::string> regions_;
};

constexpr uint64_t kIp = 0x1000;   // 192.168.1.2, then 2001:db8::1
constexpr uint64_t kStr = 0x1010;  // "hello", right after the addresses
constexpr uint64_t kLong = 0x2000;

class FormatTest : public ::testing::Test {
 protected:
    FormatTest() {
        const std::string addresses = "\xc0\xa8\x01\x02\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x01"s;
        const std::string bytes = addresses + "hello" + std::string(16, '\0');
        memory_.put(kIp, bytes);
        std::string long_text;
        for (int i = 0; i < 599; ++i) long_text += static_cast<char>('a' + i % 26);
        long_text += '\0';
        memory_.put(kLong, long_text);
    }

    Result<BpfPrintfOutput> format(std::string_view fmt, std::vector<uint64_t> args, size_t size = 160) {
        return format_bpf_printf(fmt, args, size, memory_.reader());
    }

    // The formatted text when it fits, checking that the length agrees.
    std::string text(std::string_view fmt, std::vector<uint64_t> args) {
        auto out = format(fmt, std::move(args));
        if (!out) return "error: " + out.error().message;
        EXPECT_EQ(out->length, out->text.size());
        return out->text;
    }

    FakeMemory memory_;
};

uint64_t neg(int64_t value) {
    return static_cast<uint64_t>(value);
}

TEST_F(FormatTest, Integers) {
    EXPECT_EQ(text("%d|%5d|%-5d|%05d|%+d|% d|%x|%X|%08x|%-8x|%u",
                   {neg(-42), 42, 42, neg(-42), 42, 42, 0xbeef, 0xbeef, 0xbeef, 0xbeef, neg(-1)}),
              "-42|   42|42   |-0042|+42| 42|beef|BEEF|0000beef|beef    |4294967295");
    EXPECT_EQ(text("%ld %lld %lu %llx %li %i",
                   {neg(-1), neg(-5000000000), neg(-1), 0x123456789abcdefULL, neg(-7), 0x1ffffffffULL}),
              "-1 -5000000000 18446744073709551615 123456789abcdef -7 -1");
    EXPECT_EQ(text("%lld %llu", {0x8000000000000000ULL, ~0ULL}), "-9223372036854775808 18446744073709551615");
    EXPECT_EQ(text("%- +5d|%+ d|%0-5d|%+u|% x", {3, 4, 5, 6, 7}), "+3   |+4|5    |6|7");
    EXPECT_EQ(text("[%lx][%-05d][%00005d][%+x]", {neg(-1), 3, 4, 5}), "[ffffffffffffffff][3    ][00004][5]");
    // Without l the argument is an int: the upper half of the register is dropped.
    EXPECT_EQ(text("%d", {0x100000005ULL}), "5");
    EXPECT_EQ(text("%X|%lX|%i", {0xabcdef, 0xabcdef0123ULL, 0x80000000ULL}), "ABCDEF|ABCDEF0123|-2147483648");
}

TEST_F(FormatTest, Characters) {
    EXPECT_EQ(text("[%c][%3c][%-3c]", {'a', 'b', 'c'}), "[a][  b][c  ]");
    EXPECT_EQ(text("[%5c]", {'z'}), "[    z]");
    // %c of 0 stores a NUL byte and counts it.
    auto out = format("[%c]", {0});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "[\0]"s);
    EXPECT_EQ(out->length, 3u);
}

TEST_F(FormatTest, Percent) {
    EXPECT_EQ(text("100%% done", {}), "100% done");
    EXPECT_EQ(text("%d%%", {7}), "7%");
}

TEST_F(FormatTest, StringsReadThroughTheCallback) {
    EXPECT_EQ(text("[%s][%10s][%-10s]", {kStr, kStr, kStr}), "[hello][     hello][hello     ]");
    // %pks / %pus are preformatted: the kernel prints them without padding.
    EXPECT_EQ(text("[%pks][%10pks][%pus]", {kStr, kStr, kStr}), "[hello][hello][hello]");
    EXPECT_EQ(text("%s.", {kStr}), "hello.");
}

TEST_F(FormatTest, UnreadableStringsPrintAsEmpty) {
    EXPECT_EQ(text("[%s][%pks][%5s]", {0, 0, 1}), "[][][     ]");
    EXPECT_EQ(text("[%s]", {kLong + 600}), "[]");  // runs off the end of readable memory
    EXPECT_EQ(format_bpf_printf("[%s]", std::vector<uint64_t>{kStr}, 64, ReadProgramMemory{})->text, "[]");
}

TEST_F(FormatTest, IpAddresses) {
    EXPECT_EQ(text("[%pI4][%pi4][%pI6][%pi6]", {kIp, kIp, kIp + 4, kIp + 4}),
              "[192.168.1.2][192.168.001.002][2001:0db8:0000:0000:0000:0001:6865:6c6c]"
              "[20010db8000000000000000168656c6c]");
    // Letters after the conversion are swallowed (bstr_printf skips alphanumeric pointer suffixes),
    // so %pI6c is not the compressed form and %pI4h is still network order.
    EXPECT_EQ(text("%pi6|%pI6c|%pI4h", {kIp, kIp, kIp}),
              "c0a8010220010db80000000000000001|c0a8:0102:2001:0db8:0000:0000:0000:0001|192.168.1.2");
    EXPECT_EQ(text("[%pI4xyz]", {kIp}), "[192.168.1.2]");
    EXPECT_EQ(text("[%pI4][%s]", {1, 1}), "[0.0.0.0][]");
    EXPECT_EQ(text("[%pI6]", {0}), "[0000:0000:0000:0000:0000:0000:0000:0000]");
}

TEST_F(FormatTest, Pointers) {
    EXPECT_EQ(text("[%px][%20px][%-20px][%020px]", {0x1234, 0x1234, 0x1234, 0x1234}),
              "[0000000000001234][                1234][1234                ][00000000000000001234]");
    EXPECT_EQ(text("[%pxab]", {0x10}), "[0000000000000010]");
    // The kernel prints 0x<hex> for addresses without a kernel symbol.
    EXPECT_EQ(text("[%pS][%ps][%pB][%pSR]", {0x1234, 0x1234, 0x1234, 0x10}),
              "[0x1234][0x1234][0x1234][0x10]");
    EXPECT_EQ(text("%pB|%s", {0x10, kStr}), "0x10|hello");
    EXPECT_EQ(text("%pB", {0}), "0x0");
    // The kernel prints null and error pointers as they are for %p; other values are hashed there
    // and printed as they are here.
    EXPECT_EQ(text("[%p][%pK][%p]", {0, 0, neg(-22)}),
              "[0000000000000000][0000000000000000][ffffffffffffffea]");
    EXPECT_EQ(text("[%p %p.]", {0x1234, 0x10}), "[0000000000001234 0000000000000010.]");
}

TEST_F(FormatTest, TruncationKeepsCountingTheWholeLength) {
    auto out = format("%s-%d", {kStr, 12345}, 8);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "hello-1");
    EXPECT_EQ(out->length, 11u);  // bpf_snprintf returns 12

    out = format("%s-%d", {kStr, 12345}, 0);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "");
    EXPECT_EQ(out->length, 11u);

    // trace_printk's 1024-byte buffer.
    out = format("%1500d", {5}, kMaxBprintfBuf);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text.size(), kMaxBprintfBuf - 1);
    EXPECT_EQ(out->length, 1500u);
}

TEST_F(FormatTest, PreformattedArgumentAfterAFullBufferIsNotCounted) {
    // bstr_printf copies a preformatted argument only while the buffer has room and otherwise does
    // not step over it, so %d then reads the bytes "192." as its int.
    auto out = format("abcde%pI4|%d", {kIp, 7}, 6);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "abcde");
    EXPECT_EQ(out->length, 18u);
    out = format("abcde%pI4|%d", {kIp, 7}, 5);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "abcd");
    EXPECT_EQ(out->length, 15u);  // "abcde" "|" "775043377"
}

TEST_F(FormatTest, WidthsWrapLikeTheKernelsIntAndAreClamped) {
    EXPECT_EQ(text("%2147483648d|%4294967301d", {5, 6}), "5|    6");
    EXPECT_EQ(text("%-2147483648d|%2147483648c|%2147483648s|%2147483649d", {5, 'A', 0, neg(-5)}), "5|A||-5");
    for (const char* fmt : {"%8388607d", "%8388608d", "%16777217d"}) {
        auto out = format(fmt, {5});
        ASSERT_TRUE(out);
        EXPECT_EQ(out->length, 8388607u) << fmt;  // FIELD_WIDTH_MAX
        EXPECT_EQ(out->text.size(), 159u);
    }
}

TEST_F(FormatTest, StringsShareTheArgumentBuffer) {
    auto out = format("%s", {kLong});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->length, kMaxBprintfBinArgs - 1);  // cut to the 512-byte buffer with its NUL

    memory_.put(0x3000, std::string(507, 'a') + '\0');
    out = format("%s%d", {0x3000, 77});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->length, 509u);

    for (auto [length, fmt] : {std::pair{508, "%s%d"}, std::pair{510, "%s%c%c"}, std::pair{510, "%s%pI4"}}) {
        memory_.put(0x4000, std::string(static_cast<size_t>(length), 'a') + '\0');
        out = format(fmt, {0x4000, kIp, kIp});
        ASSERT_FALSE(out) << fmt;
        EXPECT_EQ(bpf_printf_errno(out.error()), -28) << fmt;  // -ENOSPC
    }
    out = format("%s|%s", {kLong, kStr});
    ASSERT_FALSE(out);
    EXPECT_EQ(bpf_printf_errno(out.error()), -28);
}

TEST_F(FormatTest, FormatStopsAtTheFirstNul) {
    EXPECT_EQ(text("ab\0%n"s, {}), "ab");
}

TEST(FormatCheck, TooManyConversionsWhenFormatting) {
    auto out =
        format_bpf_printf("%d %d %d %d", std::vector<uint64_t>{1, 2, 3}, kMaxBprintfBuf, ReadProgramMemory{});
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().message, "format has 4 conversions, but 3 arguments are given");
    EXPECT_EQ(bpf_printf_errno(out.error()), -22);
}

}  // namespace
}  // namespace bpfvm::vm
