// What every subcommand shares: exit codes and how an error is printed.
#pragma once

#include <ostream>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::tools {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the program ran and failed, or a test failed
constexpr int kExitUsage = 2;   // input could not be read, assembled, decoded or loaded

inline void print_error(std::ostream& err, const Error& e) {
    err << "error[" << error_kind_name(e.kind) << "]: " << e.to_string() << "\n";
}

}  // namespace bpfvm::tools
