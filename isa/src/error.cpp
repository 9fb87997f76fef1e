#include "bpfvm/isa/error.hpp"

#include <cstdio>

namespace bpfvm {

std::string_view error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Io: return "io";
        case ErrorKind::InvalidInput: return "invalid-input";
        case ErrorKind::Syntax: return "syntax";
        case ErrorKind::EmptyProgram: return "empty-program";
        case ErrorKind::TruncatedProgram: return "truncated-program";
        case ErrorKind::UnknownOpcode: return "unknown-opcode";
        case ErrorKind::ReservedFieldSet: return "reserved-field-set";
        case ErrorKind::InvalidRegister: return "invalid-register";
        case ErrorKind::InvalidField: return "invalid-field";
        case ErrorKind::JumpOutOfRange: return "jump-out-of-range";
        case ErrorKind::JumpIntoMiddle: return "jump-into-middle";
        case ErrorKind::FallsOffEnd: return "falls-off-end";
        case ErrorKind::MemoryFault: return "memory-fault";
        case ErrorKind::StackOverflow: return "stack-overflow";
        case ErrorKind::BudgetExhausted: return "budget-exhausted";
        case ErrorKind::UnknownHelper: return "unknown-helper";
        case ErrorKind::HelperArgument: return "helper-argument";
        case ErrorKind::HelperFailed: return "helper-failed";
        case ErrorKind::Unsupported: return "unsupported";
        case ErrorKind::InvalidContextAccess: return "invalid-context-access";
    }
    return "unknown";
}

std::string to_hex(uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string Error::to_string() const {
    std::string out;
    if (!where.file.empty()) {
        out += where.file;
        if (where.line) {
            out += ':' + std::to_string(*where.line);
            if (where.column) out += ':' + std::to_string(*where.column);
        }
        out += ": ";
    } else if (where.line) {
        out += "line " + std::to_string(*where.line);
        if (where.column) out += ", column " + std::to_string(*where.column);
        out += ": ";
    }
    if (!where.section.empty()) out += "section " + where.section + ": ";
    if (where.instruction) out += "instruction " + std::to_string(*where.instruction) + ": ";
    out += message;
    return out;
}

std::string printable_bytes(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        auto byte = static_cast<uint8_t>(c);
        if (byte >= 0x20 && byte < 0x7f && c != '\\') {
            out += c;
        } else {
            out += "\\x";
            out += kDigits[byte >> 4];
            out += kDigits[byte & 0xf];
        }
    }
    return out;
}

}  // namespace bpfvm
