// Every bpf_conformance case on the interpreter and on the JIT (plain and with blinded
// constants): same r0 or same error kind, and the case's expectation holds on the JIT.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

std::filesystem::path conformance_dir() {
    return std::filesystem::path(BPFVM_SHARED_DIR) / "conformance" / "tests";
}

std::vector<std::string> case_files() {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(conformance_dir(), ec)) {
        if (entry.path().extension() == ".data") files.push_back(entry.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param.substr(0, info.param.size() - 5);
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

class ConformanceDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceDifferential, JitMatchesInterpreter) {
    auto c = tools::read_conformance_case(conformance_dir() / GetParam());
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    auto bytes = tools::program_bytes(*c);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    auto program = isa::decode_program(*bytes);
    ASSERT_TRUE(program.ok()) << program.error().to_string();

    vm::Interpreter interpreter;
    auto expected = tools::run_on_memory(interpreter, *program, c->memory, vm::kDefaultInstructionBudget);
    // The plain JIT and the JIT with blinded constants.
    for (bool blind : {false, true}) {
        JitEngine jit(JitOptions{vm::MemoryChecks::Checked, blind});
        auto actual = tools::run_on_memory(jit, *program, c->memory, vm::kDefaultInstructionBudget);
        ASSERT_EQ(expected.ok(), actual.ok()) << jit.name() << "\ninterpreter: " << test::describe(expected)
                                              << "\njit: " << test::describe(actual);
        if (expected) {
            EXPECT_EQ(expected->r0, actual->r0) << jit.name();
        } else {
            EXPECT_EQ(expected.error().kind, actual.error().kind)
                << jit.name() << ": " << actual.error().to_string();
        }
        auto outcome = tools::run_conformance_case(*c, jit);
        EXPECT_TRUE(outcome.passed) << jit.name() << ": " << outcome.reason;
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, ConformanceDifferential, ::testing::ValuesIn(case_files()), test_name);

TEST(ConformanceDifferentialSuite, HasEveryCase) {
    EXPECT_EQ(case_files().size(), 313u) << "conformance data at " << conformance_dir();
}

}  // namespace
}  // namespace bpfvm::jit
