#include "bpfvm/isa/printf_format.hpp"

#include <cstdio>
#include <string>

namespace bpfvm::isa {

bool kernel_isdigit(unsigned char c) {
    return c >= '0' && c <= '9';
}

bool kernel_isspace(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

namespace {

bool isprint_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x7f;
}

bool kernel_isalpha(unsigned char c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return c >= 0xc0 && c != 0xd7 && c != 0xf7;
}

Error invalid(std::string message) {
    return make_error(ErrorKind::InvalidInput, std::move(message));
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

}  // namespace

bool kernel_isalnum(unsigned char c) {
    return kernel_isalpha(c) || kernel_isdigit(c);
}

bool kernel_ispunct(unsigned char c) {
    if (c < 0x80) return isprint_ascii(c) && c != ' ' && !kernel_isalnum(c);
    return (c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7;
}

// Mirrors the checks of bpf_bprintf_prepare.
PrintfFormat parse_printf_format(std::string_view format, size_t num_args) {
    format = format.substr(0, format.find('\0'));  // strnchr: the format ends at its NUL
    auto at = [&](size_t i) -> unsigned char {
        return i < format.size() ? static_cast<unsigned char>(format[i]) : 0;
    };
    PrintfFormat parsed;
    auto fail = [&](Error error) {
        parsed.error = std::move(error);
        return parsed;
    };
    for (size_t i = 0; i < format.size(); ++i) {
        const unsigned char c = at(i);
        // Bytes past ASCII are literal text (the kernel accepts UTF-8 text in formats).
        if (c < 0x80 && !isprint_ascii(c) && !kernel_isspace(c)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", c);
            return fail(invalid("format contains the non-printable character " + std::string(hex) +
                                " at offset " + std::to_string(i)));
        }
        if (c != '%') continue;
        if (at(i + 1) == '%') {
            ++i;
            continue;
        }
        if (parsed.conversions.size() >= num_args) return fail(too_many_conversions(format, num_args));
        PrintfConversion conversion;
        conversion.offset = i;
        const size_t start = i;
        ++i;
        while (at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ') ++i;
        if (at(i) >= '1' && at(i) <= '9') {
            while (kernel_isdigit(at(i))) ++i;
        }

        if (at(i) == 'p') {
            const unsigned char next = at(i + 1);
            if (next == 0 || kernel_isspace(next) || kernel_ispunct(next)) {  // plain %p
                conversion.argument = PrintfArgument::Pointer;
                parsed.conversions.push_back(conversion);
                continue;
            }
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                i += 2;  // a string, checked with %s below
            } else if (next == 'K' || next == 'x' || next == 's' || next == 'S') {
                ++i;
                conversion.argument = PrintfArgument::Pointer;
                parsed.conversions.push_back(conversion);
                continue;
            } else if (next == 'B') {
                ++i;
                conversion.argument = PrintfArgument::Symbol;
                parsed.conversions.push_back(conversion);
                continue;
            } else {
                const unsigned char style = next;
                const unsigned char family = at(i + 2);
                if ((style != 'i' && style != 'I') || (family != '4' && family != '6')) {
                    return fail(unsupported_conversion(format, start,
                                                       (style == 'i' || style == 'I') ? i + 2 : i + 1));
                }
                i += 2;
                conversion.argument = family == '4' ? PrintfArgument::Ip4 : PrintfArgument::Ip6;
                conversion.ip_style = static_cast<char>(style);
                parsed.conversions.push_back(conversion);
                continue;
            }
        } else if (at(i) == 'c') {
            conversion.argument = PrintfArgument::Char;
            parsed.conversions.push_back(conversion);
            continue;
        } else if (at(i) != 's') {
            conversion.argument = PrintfArgument::Integer32;
            if (at(i) == 'l') {
                conversion.argument = PrintfArgument::Integer64;
                ++i;
            }
            if (at(i) == 'l') ++i;
            const unsigned char letter = at(i);
            if (letter != 'i' && letter != 'd' && letter != 'u' && letter != 'x' && letter != 'X') {
                return fail(unsupported_conversion(format, start, i));
            }
            parsed.conversions.push_back(conversion);
            continue;
        }

        // %s, %pks, %pus: `i` is at the 's'.
        const unsigned char after = at(i + 1);
        if (after != 0 && !kernel_isspace(after) && !kernel_ispunct(after)) {
            return fail(
                invalid("format specifier " + std::string(format.substr(start, i + 1 - start)) +
                        " must be followed by a space, punctuation or the end of the format (offset " +
                        std::to_string(i + 1) + ")"));
        }
        conversion.argument = PrintfArgument::String;
        parsed.conversions.push_back(conversion);
    }
    return parsed;
}

}  // namespace bpfvm::isa
