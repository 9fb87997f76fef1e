// The kernel's printf for BPF programs: bpf_bprintf_prepare (which conversions a program may use and
// how their arguments are captured) followed by bstr_printf (how they are printed), as used by the
// trace_printk, trace_vprintk and snprintf helpers. Internal to the vm library.
//
// What the helpers return, for their implementations:
// - bpf_trace_printk(fmt, fmt_size, a1, a2, a3): the kernel passes all three registers as arguments,
//   so `args` is always {r3, r4, r5}; bpf_trace_vprintk(fmt, fmt_size, data, data_len) passes
//   data_len / 8 arguments (data_len must be a multiple of 8 and at most 8 * kMaxBprintfVarargs,
//   else -EINVAL before any formatting). Both format into a kMaxBprintfBuf-byte buffer and return
//   `length` (the whole formatted length, even past the buffer, without the NUL); the trace line is
//   `text` up to its first NUL byte. The format must contain a NUL within fmt_size bytes (-EINVAL
//   otherwise); pass the bytes before that NUL.
// - bpf_snprintf(str, str_size, fmt, data, data_len): same argument rule as trace_vprintk; formats
//   into str_size bytes: writes `text` plus a NUL when str_size > 0 and returns length + 1. The
//   verifier already rejects a bad snprintf format at load time (isa::parse_printf_format).
// - A rejected format is -EINVAL, running out of argument space -ENOSPC: bpf_printf_errno.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::vm {

inline constexpr size_t kMaxTracePrintkArgs = 3;  // MAX_TRACE_PRINTK_VARARGS
inline constexpr size_t kMaxBprintfVarargs = 12;  // MAX_BPRINTF_VARARGS (trace_vprintk, snprintf)
inline constexpr size_t kMaxBprintfBuf = 1024;    // MAX_BPRINTF_BUF: trace_printk's output buffer
inline constexpr size_t kMaxBprintfBinArgs =
    512;  // MAX_BPRINTF_BIN_ARGS: captured arguments, strings included

// Reads program memory for %s, %pks, %pus, %pI4, %pi4, %pI6 and %pi6 arguments: fills `out` from
// `address` and returns true, or returns false when the program may not read those bytes. The
// formatter never dereferences an argument itself.
using ReadProgramMemory = std::function<bool(uint64_t address, std::span<uint8_t> out)>;

struct BpfPrintfOutput {
    // What bstr_printf stores before its terminating NUL: at most buffer_size - 1 bytes. May hold
    // NUL bytes (%c of 0).
    std::string text;
    // bstr_printf's return value: the length of the whole output without the NUL, as if the buffer
    // were unlimited (the kernel returns it as an int).
    uint64_t length = 0;
};

// Formats like the kernel with `args` as the program's arguments (their count is the kernel's
// num_args, see above) into a buffer of `buffer_size` bytes, by the rules of
// isa/printf_format.hpp. An unreadable string prints as empty, an unreadable address as 0.0.0.0 /
// all zeros. Strings share kMaxBprintfBinArgs bytes with the other arguments and are cut to fit.
// Deliberate differences: %p and %pK print the value itself (the kernel prints a 32-bit hash unless
// booted with hash_pointers=never); %ps, %pS and %pB print 0x<hex> (no kernel symbols here).
Result<BpfPrintfOutput> format_bpf_printf(std::string_view format, std::span<const uint64_t> args,
                                          size_t buffer_size, const ReadProgramMemory& read);

// The helper's return value for an error of format_bpf_printf: -EINVAL (-22) for a rejected
// format, -ENOSPC (-28) when the arguments do not fit in kMaxBprintfBinArgs bytes.
int64_t bpf_printf_errno(const Error& error);

}  // namespace bpfvm::vm
