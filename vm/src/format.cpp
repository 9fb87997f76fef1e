#include "format.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

// Two passes like the kernel's: prepare() validates the format and captures the arguments into a
// kMaxBprintfBinArgs-byte buffer exactly as bpf_bprintf_prepare lays them out (aligned integers,
// strings and preformatted addresses inline); print() then formats from that buffer as bstr_printf
// does. Keeping the buffer makes the kernel's corner cases fall out rather than be special-cased:
// strings cut to the space left, -ENOSPC, and bstr_printf not advancing past a preformatted
// argument once its output buffer is full (the later arguments are then read from the wrong bytes,
// which changes the returned length).
namespace bpfvm::vm {
namespace {

// The kernel's ctype (lib/ctype.c) also classifies Latin-1 bytes; these follow it.
bool k_isdigit(unsigned char c) {
    return c >= '0' && c <= '9';
}
bool k_isspace(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}
bool k_isprint_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x7f;
}
bool k_isalpha(unsigned char c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return c >= 0xc0 && c != 0xd7 && c != 0xf7;
}
bool k_isalnum(unsigned char c) {
    return k_isalpha(c) || k_isdigit(c);
}
bool k_ispunct(unsigned char c) {
    if (c < 0x80) return k_isprint_ascii(c) && c != ' ' && !k_isalnum(c);
    return (c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7;
}

Error invalid(std::string message) {
    return make_error(ErrorKind::InvalidInput, std::move(message));
}

Error no_space() {
    return make_error(ErrorKind::HelperFailed, "format arguments need more than " +
                                                   std::to_string(kMaxBprintfBinArgs) +
                                                   " bytes (strings included)");
}

size_t count_conversions(std::string_view format) {
    size_t count = 0;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') continue;
        if (i + 1 < format.size() && format[i + 1] == '%') {
            ++i;
        } else {
            ++count;
        }
    }
    return count;
}

Error too_many_conversions(std::string_view format, size_t num_args) {
    return invalid("format has " + std::to_string(count_conversions(format)) + " conversions, but " +
                   std::to_string(num_args) + (num_args == 1 ? " argument is" : " arguments are") + " given");
}

// `bad` is the offset of the byte that makes the conversion starting at `start` unacceptable.
Error unsupported_conversion(std::string_view format, size_t start, size_t bad) {
    if (bad >= format.size()) {
        return invalid("format ends inside the conversion '" + std::string(format.substr(start)) + "'");
    }
    const std::string spec(format.substr(start, bad - start + 1));
    std::string hint;
    switch (format[bad]) {
        case '.': hint = " (no precision)"; break;
        case '*': hint = " (no '*' width)"; break;
        case '#': hint = " (no '#' flag)"; break;
        case 'h':
        case 'z':
        case 't':
        case 'j':
        case 'L':
        case 'q': hint = " (the only length modifiers are l and ll)"; break;
        default: break;
    }
    if (spec.find('p') != std::string::npos) {
        hint = " (pointer conversions are %p, %pK, %px, %ps, %pS, %pB, %pks, %pus, %pI4, %pi4, %pI6, %pi6)";
    }
    return invalid("format specifier " + spec + " is not allowed" + hint);
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

// Mirrors bpf_bprintf_prepare. Without `bin` (the verifier's check) only the format is examined.
Status prepare(std::string_view format, std::span<const uint64_t> args, size_t num_args,
               const ReadProgramMemory* read, BinArgs* bin) {
    auto at = [&](size_t i) -> unsigned char {
        return i < format.size() ? static_cast<unsigned char>(format[i]) : 0;
    };
    size_t num_spec = 0;
    for (size_t i = 0; i < format.size(); ++i) {
        const unsigned char c = at(i);
        // Bytes past ASCII are literal text (the kernel accepts UTF-8 text in formats).
        if (c < 0x80 && !k_isprint_ascii(c) && !k_isspace(c)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", c);
            return invalid("format contains the non-printable character " + std::string(hex) + " at offset " +
                           std::to_string(i));
        }
        if (c != '%') continue;
        if (at(i + 1) == '%') {
            ++i;
            continue;
        }
        if (num_spec >= num_args) return too_many_conversions(format, num_args);
        const size_t start = i;
        const uint64_t arg = bin ? args[num_spec] : 0;
        ++num_spec;
        ++i;
        while (at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ') ++i;
        if (at(i) >= '1' && at(i) <= '9') {
            while (k_isdigit(at(i))) ++i;
        }

        if (at(i) == 'p') {
            const unsigned char next = at(i + 1);
            if (next == 0 || k_isspace(next) || k_ispunct(next)) {  // plain %p
                if (bin) {
                    if (Status s = bin->put_integer(arg, 8); !s) return s;
                }
                continue;
            }
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                i += 2;  // a string, handled with %s below
            } else if (next == 'K' || next == 'x' || next == 's' || next == 'S') {
                ++i;
                if (bin) {
                    if (Status s = bin->put_integer(arg, 8); !s) return s;
                }
                continue;
            } else if (next == 'B') {
                ++i;
                if (bin) bin->put_preformatted(hex_address(arg));
                continue;
            } else {
                const unsigned char style = next;
                const unsigned char family = at(i + 2);
                if ((style != 'i' && style != 'I') || (family != '4' && family != '6')) {
                    return unsupported_conversion(format, start,
                                                  (style == 'i' || style == 'I') ? i + 2 : i + 1);
                }
                i += 2;
                if (bin) {
                    const size_t size = family == '4' ? 4 : 16;
                    if (bin->remaining() < size) return no_space();
                    std::array<uint8_t, 16> address{};
                    const std::span<uint8_t> bytes(address.data(), size);
                    // copy_from_kernel_nofault: all or nothing; a fault prints as zeros.
                    if (!*read || !(*read)(arg, bytes)) std::fill(bytes.begin(), bytes.end(), uint8_t{0});
                    bin->put_preformatted(format_ip(static_cast<char>(style), bytes));
                }
                continue;
            }
        } else if (at(i) == 'c') {
            if (bin) {
                if (bin->remaining() == 0) return no_space();
                bin->bytes[bin->pos++] = static_cast<uint8_t>(arg);
            }
            continue;
        } else if (at(i) != 's') {
            size_t size = 4;
            if (at(i) == 'l') {
                size = 8;
                ++i;
            }
            if (at(i) == 'l') ++i;
            const unsigned char conversion = at(i);
            if (conversion != 'i' && conversion != 'd' && conversion != 'u' && conversion != 'x' &&
                conversion != 'X') {
                return unsupported_conversion(format, start, i);
            }
            if (bin) {
                if (Status s = bin->put_integer(size == 4 ? arg & 0xffffffffu : arg, size); !s) return s;
            }
            continue;
        }

        // %s, %pks, %pus: `i` is at the 's'.
        const unsigned char after = at(i + 1);
        if (after != 0 && !k_isspace(after) && !k_ispunct(after)) {
            return invalid("format specifier " + std::string(format.substr(start, i + 1 - start)) +
                           " must be followed by a space, punctuation or the end of the format (offset " +
                           std::to_string(i + 1) + ")");
        }
        if (bin) {
            if (bin->remaining() == 0) return no_space();
            bin->put_string(arg, *read);
        }
    }
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
        case '#': return 64;  // SPECIAL; prepare() rejects it, listed to parse as the kernel does
        case '+': return kPlus;
        case '-': return kLeft;
        case '0': return kZeroPad;
        default: return 0;
    }
}

// Mirrors bstr_printf over a format prepare() accepted.
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
        if (k_isdigit(at(i))) {
            // skip_atoi() wraps like the kernel's int; the width is then clamped to
            // +-FIELD_WIDTH_MAX (what Linux 6.18 prints for %16777217d and %2147483648d).
            uint32_t width = 0;
            while (k_isdigit(at(i))) width = width * 10 + (at(i++) - '0');
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
                if (kind == 'S' || kind == 's' || kind == 'x' || kind == 'K' || !k_isalnum(kind)) {
                    print_pointer(out, kind, args.integer(8), spec);
                } else if (out.has_room()) {
                    // Preformatted by prepare() (%pks, %pus, %pI4..., %pB): copied without padding,
                    // and skipped over only while the buffer has room, as the kernel does.
                    const std::string_view s = args.string();
                    out.append(s);
                    args.skip(s.size() + 1);
                }
                while (k_isalnum(at(i))) ++i;  // pointer conversions swallow trailing letters
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
            default: return std::move(out).finish();  // unreachable after prepare()
        }
    }
    return std::move(out).finish();
}

// The kernel stops at the first NUL (strnchr in bpf_bprintf_prepare).
std::string_view until_nul(std::string_view format) {
    return format.substr(0, format.find('\0'));
}

}  // namespace

Result<BpfPrintfOutput> format_bpf_printf(std::string_view format, std::span<const uint64_t> args,
                                          size_t buffer_size, const ReadProgramMemory& read) {
    format = until_nul(format);
    BinArgs bin;
    if (Status s = prepare(format, args, args.size(), &read, &bin); !s) return s.error();
    return print(format, bin, buffer_size);
}

Status check_bpf_printf_format(std::string_view format, size_t arg_count) {
    return prepare(until_nul(format), {}, arg_count, nullptr, nullptr);
}

int64_t bpf_printf_errno(const Error& error) {
    return error.kind == ErrorKind::HelperFailed ? -28 : -22;
}

}  // namespace bpfvm::vm
