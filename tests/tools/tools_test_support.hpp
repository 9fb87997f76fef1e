// What the tools tests share: the corpus objects, a command's exit code and output, and a
// scratch folder per test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
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

// A fixture with a fresh folder per test (removed after it) to write input files into.
class ScratchDirTest : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("bpfvm-tools-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& contents) {
        std::filesystem::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << contents;
        return p.string();
    }
    std::filesystem::path dir_;
};

}  // namespace bpfvm::tools::test
