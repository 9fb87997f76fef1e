// The run, asm and disasm commands on real files, including malformed ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bpfvm/jit/jit.hpp"
#include "bpfvm/tools/commands.hpp"
#include "tools/tools_test_support.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

class CommandsTest : public test::ScratchDirTest {
 protected:
    std::string write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
        return write(name, std::string(bytes.begin(), bytes.end()));
    }
    int run(const std::string& file, uint64_t budget = 0) {
        RunOptions options;
        options.file = file;
        options.budget = budget;
        out_.str("");
        err_.str("");
        return run_command(options, out_, err_);
    }

    std::ostringstream out_, err_;
};

TEST_F(CommandsTest, RunsTheBundledExample) {
    EXPECT_EQ(run(std::string(BPFVM_SOURCE_DIR) + "/corpus/asm/checksum.data"), 0) << err_.str();
    EXPECT_EQ(out_.str(), "r0 = 0xb861 (47201)\n");
}

TEST_F(CommandsTest, AssembleThenDisassembleThenRun) {
    auto source = write("p.asm", "mov %r0, 2\nlsh %r0, 3\njgt %r0, 10, +1\nmov %r0, 0\nexit\n");
    auto binary = (dir_ / "p.bin").string();
    std::ostringstream out, err;
    ASSERT_EQ(asm_command({source, binary}, out, err), 0) << err.str();
    EXPECT_EQ(fs::file_size(binary), 5u * 8);

    std::ostringstream listing;
    DisasmOptions disasm;
    disasm.file = binary;
    ASSERT_EQ(disasm_command(disasm, listing, err), 0) << err.str();
    EXPECT_NE(listing.str().find("r0 <<= 3"), std::string::npos) << listing.str();
    EXPECT_NE(listing.str().find("if r0 > 10 goto +1"), std::string::npos) << listing.str();

    EXPECT_EQ(run(binary), 0);
    EXPECT_EQ(out_.str(), "r0 = 0x10 (16)\n");
}

TEST_F(CommandsTest, MalformedProgramsAreRejectedWithClearErrors) {
    // A truncated lddw, a jump to -1 and a program that falls off its end.
    EXPECT_EQ(run(write_bytes("lddw.bin", {0x18, 0x01, 0, 0, 1, 0, 0, 0})), 2);
    EXPECT_NE(err_.str().find("truncated-program"), std::string::npos) << err_.str();
    EXPECT_EQ(run(write_bytes("jump.bin", {0x05, 0, 0xfe, 0xff, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})), 2);
    EXPECT_NE(err_.str().find("jump-out-of-range"), std::string::npos) << err_.str();
    EXPECT_NE(err_.str().find("instruction 0"), std::string::npos) << err_.str();
    EXPECT_EQ(run(write_bytes("fall.bin", {0xb7, 0, 0, 0, 1, 0, 0, 0})), 2);
    EXPECT_NE(err_.str().find("falls-off-end"), std::string::npos) << err_.str();
    EXPECT_EQ(run(write_bytes("odd.bin", {0x95, 0, 0})), 2);
    EXPECT_EQ(run(write("elf.o",
                        "\x7f"
                        "ELF....")),
              2);
    // A truncated ELF object goes to the loader, which says what is wrong with it.
    EXPECT_NE(err_.str().find("shorter than an ELF64 header"), std::string::npos) << err_.str();
    EXPECT_EQ(run((dir_ / "missing.bin").string()), 2);
}

TEST_F(CommandsTest, RandomBytesNeverCrashTheRunCommand) {
    std::mt19937 rng(1234);
    for (int i = 0; i < 300; ++i) {
        std::vector<uint8_t> bytes(8 * (1 + rng() % 8));
        for (auto& b : bytes) b = static_cast<uint8_t>(rng());
        int rc = run(write_bytes("random.bin", bytes), 10000);
        EXPECT_TRUE(rc == 0 || rc == 1 || rc == 2);
        if (rc != 0) {
            EXPECT_NE(err_.str().find("error["), std::string::npos);
        }
    }
}

TEST_F(CommandsTest, InfiniteLoopEndsWithTheBudgetError) {
    EXPECT_EQ(run(write("loop.asm", "loop:\nja loop\nexit\n"), 1000), 1);
    EXPECT_NE(err_.str().find("budget-exhausted"), std::string::npos) << err_.str();
}

// --blind-constants is the JIT's: with the interpreter it is a usage error, not silently ignored;
// with the JIT the program gives its plain result.
TEST_F(CommandsTest, BlindConstantsNeedsTheJit) {
    RunOptions options;
    options.file = write("p.asm", "mov %r0, 0x12345678\nadd %r0, 1\nexit\n");
    options.blind_constants = true;
    options.engine = "interpreter";
    EXPECT_EQ(run_command(options, out_, err_), 2);
    EXPECT_NE(err_.str().find("--blind-constants"), std::string::npos) << err_.str();
    if (!jit::host_supported()) GTEST_SKIP() << "no JIT backend on this host";
    out_.str("");
    err_.str("");
    options.engine = "jit";
    EXPECT_EQ(run_command(options, out_, err_), 0) << err_.str();
    EXPECT_EQ(out_.str(), "r0 = 0x12345679 (305419897)\n");
}

}  // namespace
}  // namespace bpfvm::tools
