// One error type for every stage of bpfvm: loader, assembler, decoder, verifier and engines
// report through it so the CLI and the embedding API format errors once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bpfvm {

enum class ErrorKind : uint8_t {
    // Input that cannot be read at all (files, hex text).
    Io,
    InvalidInput,
    // Assembler.
    Syntax,
    // Decoder: the program's bytes.
    EmptyProgram,
    TruncatedProgram,
    UnknownOpcode,
    ReservedFieldSet,
    InvalidRegister,
    InvalidField,
    JumpOutOfRange,
    JumpIntoMiddle,
    FallsOffEnd,
    // Preparing a loaded program to run: an access to the context the kernel would refuse.
    InvalidContextAccess,
    // Run time.
    MemoryFault,
    StackOverflow,
    BudgetExhausted,
    UnknownHelper,
    HelperArgument,  // a helper was called with an argument its prototype does not allow
    HelperFailed,
    Unsupported,
};

// Stable, machine-readable name of a kind ("memory-fault").
std::string_view error_kind_name(ErrorKind kind);

// Where an error happened. Fields that do not apply stay empty.
struct Location {
    std::string file;
    std::string section;
    std::optional<uint32_t> instruction;  // slot index, as llvm-objdump numbers instructions
    std::optional<uint32_t> line;         // 1-based source line (assembler, C source)
    std::optional<uint32_t> column;       // 1-based column
};

struct Error {
    ErrorKind kind;
    std::string message;
    Location where;

    // "file:line:col: instruction 4: message" with the parts that are known.
    std::string to_string() const;
};

// "0x2a": how addresses and values appear in error messages and tool output.
std::string to_hex(uint64_t value);

// Bytes of the input quoted in a message or printed as a name: printable ASCII as it is, other
// bytes (and '\\') as \xNN, so the text is always valid UTF-8 and one line.
std::string printable_bytes(std::string_view bytes);

inline Error make_error(ErrorKind kind, std::string message, Location where = {}) {
    return Error{kind, std::move(message), std::move(where)};
}

// A value or an Error. C++20 has no std::expected and clang 14 cannot compile GCC 12's, so
// this is the minimal part of that interface bpfvm needs.
template <typename T>
class [[nodiscard]] Result {
 public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(state_); }
    Error& error() { return std::get<1>(state_); }

 private:
    std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace bpfvm
