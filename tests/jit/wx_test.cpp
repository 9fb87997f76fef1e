// The JIT's code is never writable and executable at once: checked from inside a run.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "jit/jit_test_support.hpp"

namespace bpfvm::jit {
namespace {

// Lines of /proc/self/maps whose permissions have both w and x.
std::string writable_executable_mappings() {
    std::ifstream maps("/proc/self/maps");
    std::string line, found;
    while (std::getline(maps, line)) {
        auto space = line.find(' ');
        if (space == std::string::npos || line.size() < space + 5) continue;
        std::string perms = line.substr(space + 1, 4);
        if (perms[1] == 'w' && perms[2] == 'x') found += line + "\n";
    }
    return found;
}

TEST(JitWriteXorExecute, NoMappingIsWritableAndExecutableDuringARun) {
    ASSERT_TRUE(std::ifstream("/proc/self/maps").good()) << "no /proc/self/maps";
    vm::HelperTable helpers;
    std::string seen;
    int calls = 0;
    helpers.add(7, "inspect_maps", [&](const vm::HelperCall&) -> Result<vm::HelperReturn> {
        ++calls;
        seen += writable_executable_mappings();
        return vm::HelperReturn{42};
    });
    isa::Program program = test::assemble_program("mov %r0, 0\ncall 7\nadd %r0, 1\nexit");
    vm::RunInput input;
    input.helpers = &helpers;
    auto r = JitEngine().run(program, input);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->r0, 43u);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(seen, "") << "writable and executable mappings:\n" << seen;
}

}  // namespace
}  // namespace bpfvm::jit
