// What the tools tests share: the corpus objects and a command's exit code and output.
#pragma once

#include <filesystem>
#include <string>

namespace bpfvm::tools::test {

inline std::string corpus(const std::string& name) {
    return (std::filesystem::path(BPFVM_CORPUS_DIR) / name).string();
}

struct Output {
    int code;
    std::string out;
    std::string err;
};

}  // namespace bpfvm::tools::test
