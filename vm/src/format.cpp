#include "format.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "bpfvm/isa/printf_format.hpp"

// Two passes like the kernel's: capture() takes the arguments of the conversions the format parse
// (isa/printf_format) accepted into a kMaxBprintfBinArgs-byte buffer exactly as
// bpf_bprintf_prepare lays them out (aligned integers, strings and preformatted addresses inline); print()
// then formats from that buffer as bstr_printf does. Keeping the buffer makes the kernel's corner cases fall
// out rather than be special-cased: strings cut to the space left, -ENOSPC, and bstr_printf not advancing
// past a preformatted argument once its output buffer is full (the later arguments are then read from the
// wrong bytes, which changes the returned length).
namespace bpfvm::vm {
namespace {

Error no_space() {
    return make_error(ErrorKind::HelperFailed, "format arguments need more than " +
                                                   std::to_string(kMaxBprintfBinArgs) +
                                                   " bytes (strings included)");
}

std::string hex_address(uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

// The text of %pI4 / %pi4 / %pI6 / %pi6 (network order, as the kernel's ip4_string / ip6_string).
std::string format_ip(char style, std::span<const uint8_t> address) {
    char text[48];
    if (address.size() == 4) {
        std::snprintf(text, sizeof text, style == 'i' ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", address[0],
                      address[1], address[2], address[3]);
        return text;
    }
    std::string out;
    for (size_t i = 0; i < 16; i += 2) {
        if (style == 'I' && i != 0) out += ':';
        std::snprintf(text, sizeof text, "%02x%02x", address[i], address[i + 1]);
        out += text;
    }
    return out;
}

// The arguments as bpf_bprintf_prepare captures them for bstr_printf.
struct BinArgs {
    // One NUL past the end: a string looked up at the very end reads as empty.
    std::array<uint8_t, kMaxBprintfBinArgs + 1> bytes{};
    size_t pos = 0;

    size_t remaining() const { return kMaxBprintfBinArgs - pos; }

    Status put_integer(uint64_t value, size_t size) {
        pos = (pos + 3) & ~size_t{3};  // PTR_ALIGN(tmp_buf, sizeof(u32))
        if (remaining() < size) return no_space();
        for (size_t i = 0; i < size; ++i) bytes[pos + i] = static_cast<uint8_t>(value >> (8 * i));
        pos += size;
        return Ok{};
    }

    // snprintf(tmp_buf, space left, ...) followed by tmp_buf += length + 1. When the text does not
    // fit the kernel moves past its buffer (and later overruns it); here the buffer is then full.
    void put_preformatted(std::string_view text) {
        if (remaining() > 0) {
            const size_t n = std::min(text.size(), remaining() - 1);
            std::copy_n(text.begin(), n, bytes.begin() + static_cast<std::ptrdiff_t>(pos));
            bytes[pos + n] = 0;
        }
        pos = std::min(pos + text.size() + 1, kMaxBprintfBinArgs);
    }

    // strncpy_from_kernel_nofault(tmp_buf, address, space left): at most the space left, always
    // NUL-terminated; a fault leaves an empty string.
    void put_string(uint64_t address, const ReadProgramMemory& read) {
        const size_t count = remaining();
        size_t n = 0;
        uint8_t byte = 0;
        for (;;) {
            if (!read || !read(address + n, std::span<uint8_t>(&byte, 1))) {
                bytes[pos] = 0;
                pos += 1;
                return;
            }
            bytes[pos + n] = byte;
            ++n;
            if (byte == 0 || n == count) break;
        }
        bytes[pos + n - 1] = 0;
        pos += n;
    }
};

// Mirrors the capture of bpf_bprintf_prepare: the arguments of the conversions the parse
// accepted, in order, then the parse's error if it stopped at one (running out of space first
// makes it -ENOSPC, as in the kernel's single pass).
Status capture(const isa::PrintfFormat& parsed, std::span<const uint64_t> args, const ReadProgramMemory& read,
               BinArgs& bin) {
    for (size_t n = 0; n < parsed.conversions.size(); ++n) {
        const isa::PrintfConversion& conversion = parsed.conversions[n];
        const uint64_t arg = args[n];
        switch (conversion.argument) {
            case isa::PrintfArgument::Integer32:
                if (Status s = bin.put_integer(arg & 0xffffffffu, 4); !s) return s;
                break;
            case isa::PrintfArgument::Integer64:
            case isa::PrintfArgument::Pointer:
                if (Status s = bin.put_integer(arg, 8); !s) return s;
                break;
            case isa::PrintfArgument::Symbol: bin.put_preformatted(hex_address(arg)); break;
            case isa::PrintfArgument::Char:
                if (bin.remaining() == 0) return no_space();
                bin.bytes[bin.pos++] = static_cast<uint8_t>(arg);
                break;
            case isa::PrintfArgument::String:
                if (bin.remaining() == 0) return no_space();
                bin.put_string(arg, read);
                break;
            case isa::PrintfArgument::Ip4:
            case isa::PrintfArgument::Ip6: {
                const size_t size = conversion.argument == isa::PrintfArgument::Ip4 ? 4 : 16;
                if (bin.remaining() < size) return no_space();
                std::array<uint8_t, 16> address{};
                const std::span<uint8_t> bytes(address.data(), size);
                // copy_from_kernel_nofault: all or nothing; a fault prints as zeros.
                if (!read || !read(arg, bytes)) std::fill(bytes.begin(), bytes.end(), uint8_t{0});
                bin.put_preformatted(format_ip(conversion.ip_style, bytes));
                break;
            }
        }
    }
    if (parsed.error) return *parsed.error;
    return Ok{};
}

// bstr_printf's output: keeps what fits in the buffer and counts everything.
class Output {
 public:
    explicit Output(size_t size) : size_(size), capacity_(size == 0 ? 0 : size - 1) {}

    void put(char c) {
        if (length_ < capacity_) text_.push_back(c);
        ++length_;
    }
    void append(std::string_view s) {
        if (length_ < capacity_) text_.append(s.substr(0, std::min<uint64_t>(s.size(), capacity_ - length_)));
        length_ += s.size();
    }
    void pad(char c, int64_t count) {
        if (count <= 0) return;
        const uint64_t n = static_cast<uint64_t>(count);
        if (length_ < capacity_)
            text_.append(static_cast<size_t>(std::min<uint64_t>(n, capacity_ - length_)), c);
        length_ += n;
    }
    // The kernel's `str < end`.
    bool has_room() const { return length_ < size_; }

    BpfPrintfOutput finish() && { return BpfPrintfOutput{std::move(text_), length_}; }

 private:
    uint64_t size_;
    uint64_t capacity_;
    uint64_t length_ = 0;
    std::string text_;
};

// Reads the captured arguments as bstr_printf's get_arg does.
class BinReader {
 public:
    explicit BinReader(const BinArgs& bin) : bin_(bin) {}

    uint64_t integer(size_t size) {
        pos_ = (pos_ + 3) & ~size_t{3};
        uint64_t value = 0;
        for (size_t i = 0; i < size; ++i) value |= uint64_t{byte_at(pos_ + i)} << (8 * i);
        pos_ += size;
        return value;
    }
    uint8_t byte() { return byte_at(pos_++); }
    std::string_view string() const {
        if (pos_ >= bin_.bytes.size()) return {};
        const auto* begin = reinterpret_cast<const char*>(bin_.bytes.data()) + pos_;
        const auto* end =
            std::find(begin, reinterpret_cast<const char*>(bin_.bytes.data()) + bin_.bytes.size(), '\0');
        return {begin, static_cast<size_t>(end - begin)};
    }
    void skip(size_t n) { pos_ += n; }

 private:
    uint8_t byte_at(size_t pos) const { return pos < bin_.bytes.size() ? bin_.bytes[pos] : 0; }

    const BinArgs& bin_;
    size_t pos_ = 0;
};

enum Flag : uint8_t { kSign = 1, kLeft = 2, kPlus = 4, kSpace = 8, kZeroPad = 16, kSmall = 32 };

constexpr int32_t kFieldWidthMax = (1 << 23) - 1;  // FIELD_WIDTH_MAX

struct Spec {
    uint8_t flags = 0;
    uint8_t base = 10;
    int32_t width = -1;
};

// Width arithmetic in the kernel's int; clamped widths keep it from overflowing.
int32_t wrapping_sub(int32_t a, int64_t b) {
    return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

// vsprintf.c number() with no precision.
void print_number(Output& out, uint64_t num, Spec spec) {
    if (spec.flags & kLeft) spec.flags &= static_cast<uint8_t>(~kZeroPad);
    int32_t width = spec.width;
    char sign = 0;
    if (spec.flags & kSign) {
        if (static_cast<int64_t>(num) < 0) {
            sign = '-';
            num = 0 - num;
            width = wrapping_sub(width, 1);
        } else if (spec.flags & kPlus) {
            sign = '+';
            width = wrapping_sub(width, 1);
        } else if (spec.flags & kSpace) {
            sign = ' ';
            width = wrapping_sub(width, 1);
        }
    }
    char digits[24];
    size_t count = 0;
    const char* alphabet = (spec.flags & kSmall) ? "0123456789abcdef" : "0123456789ABCDEF";
    do {
        digits[count++] = alphabet[num % spec.base];
        num /= spec.base;
    } while (num != 0);
    std::reverse(digits, digits + count);

    width = wrapping_sub(width, static_cast<int64_t>(count));
    if (!(spec.flags & (kZeroPad | kLeft))) {
        out.pad(' ', width);
        width = -1;
    }
    if (sign) out.put(sign);
    if (!(spec.flags & kLeft)) {
        out.pad((spec.flags & kZeroPad) ? '0' : ' ', width);
        width = -1;
    }
    out.append(std::string_view(digits, count));
    out.pad(' ', width);
}

// vsprintf.c string_nocheck() + widen_string(): no precision can be given.
void print_string(Output& out, std::string_view s, const Spec& spec) {
    const int64_t spaces = static_cast<int64_t>(spec.width) - static_cast<int64_t>(s.size());
    if (spaces > 0 && !(spec.flags & kLeft)) out.pad(' ', spaces);
    out.append(s);
    if (spaces > 0 && (spec.flags & kLeft)) out.pad(' ', spaces);
}

// vsprintf.c pointer() for the conversions bstr_printf formats itself.
void print_pointer(Output& out, unsigned char kind, uint64_t value, Spec spec) {
    if (kind == 'S' || kind == 's') {
        print_string(out, hex_address(value), spec);  // sprint_symbol() of an unknown address
        return;
    }
    // pointer_string(): %px, and %p / %pK where the kernel would print a hash instead.
    spec.base = 16;
    spec.flags |= kSmall;
    if (spec.width == -1) {
        spec.width = 16;
        spec.flags |= kZeroPad;
    }
    print_number(out, value, spec);
}

uint8_t flag_of(unsigned char c) {
    switch (c) {
        case ' ': return kSpace;
        case '#': return 64;  // SPECIAL; the parse rejects it, listed to parse as the kernel does
        case '+': return kPlus;
        case '-': return kLeft;
        case '0': return kZeroPad;
        default: return 0;
    }
}

// Mirrors bstr_printf over a format the parse accepted.
BpfPrintfOutput print(std::string_view format, const BinArgs& bin, size_t buffer_size) {
    auto at = [&](size_t i) -> unsigned char {
        return i < format.size() ? static_cast<unsigned char>(format[i]) : 0;
    };
    Output out(buffer_size);
    BinReader args(bin);
    size_t i = 0;
    while (i < format.size()) {
        if (at(i) != '%') {
            out.put(format[i++]);
            continue;
        }
        ++i;
        Spec spec;
        while (uint8_t flag = flag_of(at(i))) {
            spec.flags |= flag;
            ++i;
        }
        if (isa::kernel_isdigit(at(i))) {
            // skip_atoi() wraps like the kernel's int; the width is then clamped to
            // +-FIELD_WIDTH_MAX (what Linux 6.18 prints for %16777217d and %2147483648d).
            uint32_t width = 0;
            while (isa::kernel_isdigit(at(i))) width = width * 10 + (at(i++) - '0');
            spec.width = std::clamp(static_cast<int32_t>(width), -kFieldWidthMax, kFieldWidthMax);
        }
        size_t size = 4;
        if (at(i) == 'l') {
            size = 8;
            if (at(++i) == 'l') ++i;
        }
        const unsigned char conversion = at(i++);
        switch (conversion) {
            case '%': out.put('%'); break;
            case 'c': {
                const char c = static_cast<char>(args.byte());
                const int32_t pad = wrapping_sub(spec.width, 1);
                if (!(spec.flags & kLeft)) out.pad(' ', pad);
                out.put(c);
                if (spec.flags & kLeft) out.pad(' ', pad);
                break;
            }
            case 's': {
                const std::string_view s = args.string();
                args.skip(s.size() + 1);
                print_string(out, s, spec);
                break;
            }
            case 'p': {
                const unsigned char kind = at(i);
                if (kind == 'S' || kind == 's' || kind == 'x' || kind == 'K' || !isa::kernel_isalnum(kind)) {
                    print_pointer(out, kind, args.integer(8), spec);
                } else if (out.has_room()) {
                    // Preformatted by capture() (%pks, %pus, %pI4..., %pB): copied without padding,
                    // and skipped over only while the buffer has room, as the kernel does.
                    const std::string_view s = args.string();
                    out.append(s);
                    args.skip(s.size() + 1);
                }
                while (isa::kernel_isalnum(at(i))) ++i;  // pointer conversions swallow trailing letters
                break;
            }
            case 'd':
            case 'i':
            case 'u':
            case 'x':
            case 'X': {
                spec.base = (conversion == 'x' || conversion == 'X') ? 16 : 10;
                if (conversion == 'x') spec.flags |= kSmall;
                const bool is_signed = conversion == 'd' || conversion == 'i';
                if (is_signed) spec.flags |= kSign;
                uint64_t value = args.integer(size);
                if (size == 4) {
                    value = is_signed ? static_cast<uint64_t>(int64_t{static_cast<int32_t>(value)})
                                      : (value & 0xffffffffu);
                }
                print_number(out, value, spec);
                break;
            }
            default: return std::move(out).finish();  // unreachable after the parse
        }
    }
    return std::move(out).finish();
}

}  // namespace

Result<BpfPrintfOutput> format_bpf_printf(std::string_view format, std::span<const uint64_t> args,
                                          size_t buffer_size, const ReadProgramMemory& read) {
    format = format.substr(0, format.find('\0'));  // the kernel stops at the first NUL
    BinArgs bin;
    if (Status s = capture(isa::parse_printf_format(format, args.size()), args, read, bin); !s)
        return s.error();
    return print(format, bin, buffer_size);
}

int64_t bpf_printf_errno(const Error& error) {
    return error.kind == ErrorKind::HelperFailed ? -28 : -22;
}

}  // namespace bpfvm::vm
