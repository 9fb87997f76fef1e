// The format rules of the kernel's printf for BPF programs (bpf_bprintf_prepare): which formats
// pass, what each conversion takes, and where a rejection stops the parse.
#include "bpfvm/isa/printf_format.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace bpfvm::isa {
namespace {

using namespace std::string_literals;

std::optional<Error> check(std::string_view format, size_t num_args) {
    return parse_printf_format(format, num_args).error;
}

// Which formats bpf_bprintf_prepare accepts, checked by loading bpf_snprintf calls on Linux 6.18.
TEST(FormatCheck, AcceptedFormats) {
    for (std::string_view fmt :
         {"%2147483648d", "%pks", "%p",    "\t\n\v\f\r ok",  "%c",     "%lu",    "%li",    "%s.",
          "%pks,",        "%p.",  "%pi6x", "%pB1",           "%pSR",   "%psx",   "%pK9",   "%% %d",
          "%-+ 0 05d",    "%09d", "%0d",   "%d%%",           "%pus",   "%ld",    "%lli",   "\xc3\xa9",
          "\xff",         "\x80", "\xa0",  "\xe2\x82\xac%d", "%s\xa1", "%s\xa0", "%p\xd7", "%p\xbf",
          "%pks\xf7",     "%X",   "%i",    "%llX",           "%s"}) {
        EXPECT_FALSE(check(fmt, 1)) << fmt;
    }
    EXPECT_FALSE(check("%%", 0));
    EXPECT_FALSE(check("", 0));
    EXPECT_FALSE(check("%d %s %c", 12));
}

TEST(FormatCheck, RejectedFormats) {
    for (std::string_view fmt :
         {"%n",    "%.3s", "%hd",   "%#x",   "%sabc",  "abc%",   "%lc",    "%o",        "%5%",    "%*d",
          "%lllx", "%pe",  "%pksx", "%pI5",  "%pa",    "%zu",    "%ls",    "%Lx",       "%pabc",  "%s%",
          "%p5",   "%pI",  "%px%",  "%pu",   "%puz",   "%pk",    "%lld%",  "%l",        "%ll",    "%pbs",
          "%S",    "\x01", "\x7f",  "a\x1b", "%s\x01", "%s\xc3", "%p\xc3", "%\xc3\xa9", "%s\x80", "%p\xe0",
          "%f",    "%e",   "%g",    "%a",    "%jd",    "%qd",    "%td",    "%hhd",      "%lf",    "%Z"}) {
        std::optional<Error> error = check(fmt, 1);
        ASSERT_TRUE(error) << fmt;
        EXPECT_EQ(error->kind, ErrorKind::InvalidInput) << fmt;
    }
    EXPECT_TRUE(check("%d", 0));
    EXPECT_TRUE(check("%d %d %d", 2));
}

TEST(FormatCheck, MessagesSayWhatIsWrong) {
    EXPECT_EQ(check("%n", 3)->message, "format specifier %n is not allowed");
    EXPECT_EQ(check("%d %d %d %d", 3)->message, "format has 4 conversions, but 3 arguments are given");
    EXPECT_EQ(check("%.3s", 3)->message, "format specifier %. is not allowed (no precision)");
    EXPECT_EQ(check("%hd", 3)->message,
              "format specifier %h is not allowed (the only length modifiers are l and ll)");
    EXPECT_EQ(check("abc%", 3)->message, "format ends inside the conversion '%'");
    EXPECT_EQ(check("%-5", 3)->message, "format ends inside the conversion '%-5'");
    EXPECT_EQ(check("a\x01", 3)->message, "format contains the non-printable character 0x01 at offset 1");
    EXPECT_NE(check("%pz", 3)->message.find("%pz is not allowed (pointer conversions are"),
              std::string::npos);
    EXPECT_NE(check("%sx", 3)->message.find("%s must be followed by"), std::string::npos);
}

TEST(FormatCheck, ConversionsSayWhatTheyTake) {
    PrintfFormat parsed = parse_printf_format("x=%-4d %llx %c %s %pks %pI4 %pi6 %p %pK %pB %% %u", 12);
    ASSERT_FALSE(parsed.error) << parsed.error->message;
    const PrintfArgument expected[] = {
        PrintfArgument::Integer32, PrintfArgument::Integer64, PrintfArgument::Char,
        PrintfArgument::String,    PrintfArgument::String,    PrintfArgument::Ip4,
        PrintfArgument::Ip6,       PrintfArgument::Pointer,   PrintfArgument::Pointer,
        PrintfArgument::Symbol,    PrintfArgument::Integer32,
    };
    ASSERT_EQ(parsed.conversions.size(), std::size(expected));
    for (size_t i = 0; i < std::size(expected); ++i)
        EXPECT_EQ(parsed.conversions[i].argument, expected[i]) << i;
    EXPECT_EQ(parsed.conversions[0].offset, 2u);
    EXPECT_EQ(parsed.conversions[5].ip_style, 'I');
    EXPECT_EQ(parsed.conversions[6].ip_style, 'i');
}

// The kernel captures each argument as it validates: the conversions before an error are kept,
// so a caller can run out of argument space on them first (-ENOSPC before -EINVAL).
TEST(FormatCheck, AnErrorKeepsTheConversionsBeforeIt) {
    PrintfFormat parsed = parse_printf_format("%s %s %n %d", 4);
    ASSERT_TRUE(parsed.error);
    EXPECT_EQ(parsed.conversions.size(), 2u);
    parsed = parse_printf_format("%d %d %d", 2);
    ASSERT_TRUE(parsed.error);
    EXPECT_EQ(parsed.conversions.size(), 2u);
}

TEST(FormatCheck, FormatEndsAtItsFirstNul) {
    PrintfFormat parsed = parse_printf_format("%d\0%n"s, 1);
    EXPECT_FALSE(parsed.error);
    EXPECT_EQ(parsed.conversions.size(), 1u);
}

}  // namespace
}  // namespace bpfvm::isa
