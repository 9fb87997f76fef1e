// The format strings of the kernel's printf for BPF programs (bpf_trace_printk,
// bpf_trace_vprintk, bpf_snprintf): which conversions bpf_bprintf_prepare allows and what
// argument each one takes. The verifier checks snprintf formats with it at load time, as the
// kernel does; the runtime captures and prints the arguments by the same parse.
//
// Rules (Linux 6.18, checked against the kernel): conversions %d %i %u %x %X with l or ll, %c,
// %s, %%, %p (plain), %pK, %px, %ps, %pS, %pB, %pks, %pus, %pI4, %pi4, %pI6, %pi6; flags '0' '+'
// '-' ' ' and a decimal width; no precision, no '#', no h/z/t/L modifiers, no %n or %o. %s must
// be followed by the end of the format, a space or punctuation. ASCII bytes must be printable or
// whitespace; other bytes are literal text. The format ends at its first NUL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::isa {

// What a conversion takes from its argument.
enum class PrintfArgument : uint8_t {
    Integer32,  // %d %i %u %x %X: the low 4 bytes
    Integer64,  // %ld, %lld, ...: all 8 bytes
    Char,       // %c: the low byte
    String,     // %s, %pks, %pus: the NUL-terminated string it points to
    Pointer,    // %p, %pK, %px, %ps, %pS: the value, printed as an address
    Symbol,     // %pB: the value, formatted before printing
    Ip4,        // %pI4, %pi4: the 4 bytes it points to
    Ip6,        // %pI6, %pi6: the 16 bytes it points to
};

struct PrintfConversion {
    PrintfArgument argument = PrintfArgument::Integer32;
    char ip_style = 0;  // 'I' (plain) or 'i' (zero-padded) for Ip4 and Ip6
    size_t offset = 0;  // of its '%' in the format
};

// The kernel validates a format and captures its arguments in one pass, so an error comes after
// the conversions before it were captured (which may run out of space first): the parse keeps
// both.
struct PrintfFormat {
    std::vector<PrintfConversion> conversions;  // in order, those before the error
    std::optional<Error> error;                 // InvalidInput: the rule the format breaks
};

// bpf_bprintf_prepare's checks of `format` (up to its first NUL) given `num_args` arguments.
PrintfFormat parse_printf_format(std::string_view format, size_t num_args);

// The kernel's ctype (lib/ctype.c), which also classifies Latin-1 bytes; printing follows it too.
bool kernel_isdigit(unsigned char c);
bool kernel_isspace(unsigned char c);
bool kernel_isalnum(unsigned char c);
bool kernel_ispunct(unsigned char c);

}  // namespace bpfvm::isa
