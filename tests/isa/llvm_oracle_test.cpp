// LLVM as the oracle for the LLVM syntax: one instruction per table form, with assorted operand
// values, disassembled by llvm-mc and llvm-objdump and compared line by line with ours.
#include <gtest/gtest.h>

#include <climits>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

const std::filesystem::path kLlvmBin = "/usr/lib/llvm-19/bin";

struct Sample {
    std::vector<RawInstruction> slots;
    Instruction insn;
    std::string what;
};

// Positive, negative, extreme and zero operands. Registers stay below r10 where a form writes
// them, so every sample decodes.
const test::FieldValues kVariants[] = {
    {1, 2, 3, 5, 0x12345678},           {3, 4, -8, -7, -1}, {0, 9, SHRT_MIN, INT_MIN, INT_MIN},
    {9, 0, SHRT_MAX, INT_MAX, INT_MAX}, {2, 1, 0, 0, 0},
};

std::vector<Sample> samples_llvm_can_print() {
    std::vector<Sample> samples;
    for (const OpcodeForm& form : opcode_forms()) {
        // LLVM 19 has no load-acquire/store-release: it decodes 0xdb with imm 0x100 as `lock ... +=`
        // and rejects the others. Our text for them follows LLVM 20 (see disassembler_test.cpp).
        if (form.op == Op::LoadAcquire || form.op == Op::StoreRelease) continue;
        for (test::FieldValues values : kVariants) {
            // LLVM drops two fields we print: the second imm of the lddw pseudo forms and the imm
            // of BPF_IND packet loads. Compare the forms with those fields zero.
            if (form.kind == Kind::LoadImm64 && form.selector_value != 0) values.imm_hi = 0;
            if (form.op == Op::PacketInd) values.imm = 0;
            auto slots = test::canonical_slots(form, values);
            auto insn = decode_instruction(slots, 0);
            if (!insn.ok()) {
                ADD_FAILURE() << test::describe(form) << ": " << insn.error().to_string();
                continue;
            }
            samples.push_back({slots, *insn, test::describe(form) + " [" + test::mc_hex_line(slots) + "]"});
        }
    }
    return samples;
}

class LlvmOracle : public testing::Test {
 protected:
    void SetUp() override {
        if (!std::filesystem::exists(kLlvmBin / "llvm-mc") ||
            !std::filesystem::exists(kLlvmBin / "llvm-objdump")) {
            GTEST_SKIP() << "LLVM 19 not found at " << kLlvmBin << " (install llvm-19 to run the oracle)";
        }
        dir_ = test::scratch_directory(testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    std::filesystem::path dir_;
};

TEST_F(LlvmOracle, LlvmMcDisassemblyMatchesEveryForm) {
    const std::vector<Sample> samples = samples_llvm_can_print();
    std::string input;
    for (const auto& sample : samples) input += test::mc_hex_line(sample.slots) + "\n";
    test::write_text_file(dir_ / "input.txt", input);

    const auto result =
        test::run_command((kLlvmBin / "llvm-mc").string() + " --disassemble -triple=bpfel -mcpu=v4 " +
                          (dir_ / "input.txt").string() + " 2>" + (dir_ / "errors.txt").string());
    ASSERT_EQ(result.status, 0);
    EXPECT_EQ(test::read_text_file(dir_ / "errors.txt"), "") << "llvm-mc rejected an encoding";

    std::vector<std::string> printed;
    for (const std::string& line : test::split_lines(result.output)) {
        if (line.empty() || line == "\t.text") continue;
        printed.push_back(line.substr(line.starts_with('\t') ? 1 : 0));
    }
    ASSERT_EQ(printed.size(), samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
        EXPECT_EQ(disassemble(samples[i].insn), printed[i]) << samples[i].what;
    }
}

// llvm-objdump -d prints hex operands (LLVM 15 and later) and its body lines are what listing()
// produces. -mcpu=v4 so it prints the 32-bit subregisters and 32-bit atomics as llvm-mc does.
TEST_F(LlvmOracle, ObjdumpHexListingMatchesEveryForm) {
    const std::vector<Sample> samples = samples_llvm_can_print();
    std::string source = "\t.text\n";
    Program program;
    uint32_t slot = 0;
    for (const auto& sample : samples) {
        source += "\t.byte " + test::mc_hex_line(sample.slots, ", ") + "\n";
        program.instructions.push_back(sample.insn);
        program.slot.push_back(slot);
        slot += static_cast<uint32_t>(sample.slots.size());
    }
    test::write_text_file(dir_ / "input.s", source);

    const std::string object = (dir_ / "input.o").string();
    const auto result =
        test::run_command((kLlvmBin / "llvm-mc").string() + " -triple=bpfel -mcpu=v4 -filetype=obj " +
                          (dir_ / "input.s").string() + " -o " + object + " && " +
                          (kLlvmBin / "llvm-objdump").string() + " -d --mcpu=v4 " + object);
    ASSERT_EQ(result.status, 0) << result.output;

    std::vector<std::string> printed;
    for (std::string line : test::split_lines(result.output)) {
        // Body lines look like `      12:\t<bytes>\t<text>`; jumps end with ` <.text+0x88>`.
        const size_t colon = line.find(":\t");
        if (colon == std::string::npos || colon == 0) continue;
        const std::string number = line.substr(0, colon);
        if (number.find_first_not_of(" 0123456789") != std::string::npos || number.back() == ' ') continue;
        if (line.ends_with('>')) line.erase(line.rfind(" <"));
        printed.push_back(line);
    }

    const std::vector<std::string> ours = test::split_lines(listing(program, {Syntax::Llvm, true}));
    ASSERT_EQ(ours.size(), printed.size());
    for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], printed[i]) << samples[i].what;
}

}  // namespace
}  // namespace bpfvm::isa
