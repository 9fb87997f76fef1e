// Faults confined to one program's code fail that program only, as libbpf and the kernel fail
// one program of an object and load the others: corpus/loader/program_faults.bpf.o (three XDP
// programs, one calling a static subprogram in .text) patched one function at a time. Faults
// in what every program needs still fail the whole object.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <set>

#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/elf.hpp"
#include "bpfvm/loader/object.hpp"
#include "loader/code_patch_support.hpp"
#include "loader/elf_test_support.hpp"

namespace bpfvm::loader {
namespace {

using test::function_code;
using test::FunctionCode;
using test::read_bytes;

const Program* find_program(const Object& object, const std::string& function) {
    for (const Program& p : object.programs) {
        if (p.function == function) return &p;
    }
    return nullptr;
}

// The program loaded as usual: code, one function and source entry per instruction.
void expect_loaded(const Object& object, const std::string& function) {
    SCOPED_TRACE(function);
    const Program* program = find_program(object, function);
    ASSERT_NE(program, nullptr);
    EXPECT_FALSE(program->load_error) << program->load_error->to_string();
    EXPECT_FALSE(program->code.instructions.empty());
    EXPECT_EQ(program->function_of.size(), program->code.size());
    EXPECT_EQ(program->source.size(), program->code.size());
}

// The program is listed with its name, section and type, no code, and an error at the faulty
// instruction (its section and slot there) that names the function holding it.
const Error* expect_not_loaded(const Object& object, const std::string& function, const std::string& section,
                               uint32_t slot, const std::string& faulty_function) {
    SCOPED_TRACE(function);
    const Program* program = find_program(object, function);
    EXPECT_NE(program, nullptr);
    if (program == nullptr) return nullptr;
    EXPECT_EQ(program->section, "xdp");
    EXPECT_EQ(program->type, isa::ProgramType::Xdp);
    EXPECT_EQ(program->expected_attach_type, "xdp");
    EXPECT_TRUE(program->code.instructions.empty());
    EXPECT_TRUE(program->function_of.empty());
    EXPECT_TRUE(program->source.empty());
    EXPECT_TRUE(program->unresolved.empty());
    EXPECT_TRUE(program->load_error);
    if (!program->load_error) return nullptr;
    const Error& e = *program->load_error;
    EXPECT_EQ(e.where.file, "patched.o");
    EXPECT_EQ(e.where.section, section) << e.to_string();
    EXPECT_EQ(e.where.instruction, slot) << e.to_string();
    EXPECT_NE(e.message.find("'" + faulty_function + "'"), std::string::npos) << e.to_string();
    return &e;
}

class ProgramLoadError : public ::testing::Test {
 protected:
    void SetUp() override {
        bytes_ = read_bytes(test::program_faults_object());
        ASSERT_FALSE(bytes_.empty()) << test::program_faults_object();
        auto untouched = load_object(bytes_, "patched.o");
        ASSERT_TRUE(untouched) << untouched.error().to_string();
        ASSERT_EQ(untouched->programs.size(), 3u);
        for (const char* name : {"counted_pass", "drop_runts", "uses_twice"}) expect_loaded(*untouched, name);
    }
    Result<Object> load() const { return load_object(bytes_, "patched.o"); }
    std::vector<uint8_t> bytes_;
};

TEST_F(ProgramLoadError, UnknownOpcodeFailsOnlyItsProgram) {
    const FunctionCode drop = function_code(bytes_, "drop_runts");
    ASSERT_EQ(drop.section, "xdp");
    test::set_opcode(bytes_, drop.at(2), test::kUnknownOpcode);
    auto object = load();
    ASSERT_TRUE(object) << object.error().to_string();
    ASSERT_EQ(object->programs.size(), 3u);
    const Error* e = expect_not_loaded(*object, "drop_runts", "xdp", drop.slot(2), "drop_runts");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ErrorKind::UnknownOpcode) << e->to_string();
    expect_loaded(*object, "counted_pass");
    expect_loaded(*object, "uses_twice");
    // The object's other parts are whole: maps, BTF, license.
    EXPECT_EQ(object->maps.size(), 1u);
    EXPECT_NE(object->btf, nullptr);
    EXPECT_EQ(object->license, "GPL");
}

TEST_F(ProgramLoadError, JumpOutOfItsFunctionFailsOnlyItsProgram) {
    const FunctionCode drop = function_code(bytes_, "drop_runts");
    // drop_runts' only conditional jump (`if r1 > r2 goto +1`), aimed past the function's end
    // into the next function of the section: inside the section, outside the program.
    uint32_t jump = drop.slots;
    for (uint32_t i = 0; i < drop.slots; ++i) {
        if ((bytes_[drop.at(i)] & 0x07) == 0x05 && bytes_[drop.at(i)] != 0x95) jump = i;
    }
    ASSERT_LT(jump, drop.slots);
    test::set_jump_offset(bytes_, drop.at(jump), static_cast<int16_t>(drop.slots - jump + 1));
    auto object = load();
    ASSERT_TRUE(object) << object.error().to_string();
    const Error* e = expect_not_loaded(*object, "drop_runts", "xdp", drop.slot(jump), "drop_runts");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ErrorKind::JumpOutOfRange) << e->to_string();
    expect_loaded(*object, "counted_pass");
    expect_loaded(*object, "uses_twice");
}

TEST_F(ProgramLoadError, LdImm64CutByTheFunctionsEndFailsOnlyItsProgram) {
    // drop_runts ends with `exit`; as the first half of an ld_imm64 its second half would be the
    // first instruction of the next function.
    const FunctionCode drop = function_code(bytes_, "drop_runts");
    const uint32_t last = drop.slots - 1;
    test::set_opcode(bytes_, drop.at(last), test::kLdImm64Opcode);
    auto object = load();
    ASSERT_TRUE(object) << object.error().to_string();
    const Error* e = expect_not_loaded(*object, "drop_runts", "xdp", drop.slot(last), "drop_runts");
    ASSERT_NE(e, nullptr);
    expect_loaded(*object, "counted_pass");
    expect_loaded(*object, "uses_twice");  // whose first instruction that second half would be
}

TEST_F(ProgramLoadError, BrokenSubprogramFailsOnlyTheProgramsThatCallIt) {
    const FunctionCode twice = function_code(bytes_, "twice");
    ASSERT_EQ(twice.section, ".text");
    test::set_opcode(bytes_, twice.at(1), test::kUnknownOpcode);
    auto object = load();
    ASSERT_TRUE(object) << object.error().to_string();
    // Located in .text, in the subprogram, and naming the program it was linked into.
    const Error* e = expect_not_loaded(*object, "uses_twice", ".text", twice.slot(1), "twice");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ErrorKind::UnknownOpcode) << e->to_string();
    EXPECT_NE(e->message.find("'uses_twice'"), std::string::npos) << e->to_string();
    expect_loaded(*object, "counted_pass");
    expect_loaded(*object, "drop_runts");
}

TEST_F(ProgramLoadError, RelocationBetweenInstructionsFailsOnlyItsProgram) {
    // The map relocation of counted_pass's ld_imm64 moved one byte into the instruction.
    const FunctionCode counted = function_code(bytes_, "counted_pass");
    bool moved = false;
    for (size_t entry : test::relocation_entries(bytes_, "xdp")) {
        Elf64_Rel rel;
        std::memcpy(&rel, &bytes_[entry], sizeof rel);
        if (rel.r_offset / 8 < counted.first_slot || rel.r_offset / 8 >= counted.first_slot + counted.slots)
            continue;
        const uint32_t slot = static_cast<uint32_t>(rel.r_offset / 8);
        rel.r_offset += 1;
        std::memcpy(&bytes_[entry], &rel, sizeof rel);
        moved = true;
        auto object = load();
        ASSERT_TRUE(object) << object.error().to_string();
        const Error* e = expect_not_loaded(*object, "counted_pass", "xdp", slot, "counted_pass");
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->kind, ErrorKind::InvalidInput);
        EXPECT_NE(e->message.find("not at an instruction boundary"), std::string::npos) << e->to_string();
        expect_loaded(*object, "drop_runts");
        expect_loaded(*object, "uses_twice");
    }
    EXPECT_TRUE(moved) << "counted_pass has no relocation";
}

TEST_F(ProgramLoadError, ObjectWhoseEveryProgramIsBrokenStillLoads) {
    for (const char* name : {"counted_pass", "drop_runts", "uses_twice"})
        test::set_opcode(bytes_, function_code(bytes_, name).at(0), test::kUnknownOpcode);
    auto object = load();
    ASSERT_TRUE(object) << object.error().to_string();
    ASSERT_EQ(object->programs.size(), 3u);
    for (const Program& program : object->programs) {
        ASSERT_TRUE(program.load_error) << program.function;
        EXPECT_EQ(program.load_error->kind, ErrorKind::UnknownOpcode) << program.function;
        EXPECT_EQ(program.load_error->where.instruction, function_code(bytes_, program.function).first_slot);
    }
}

TEST_F(ProgramLoadError, FaultsInWhatEveryProgramNeedsStillFailTheObject) {
    // A function symbol that is not a whole number of instructions: the symbol table is wrong.
    auto elf = ElfFile::parse(bytes_, "patched.o");
    ASSERT_TRUE(elf);
    const ElfSection* symtab = elf->symbol_table();
    ASSERT_NE(symtab, nullptr);
    bool patched = false;
    for (const ElfSymbol& symbol : elf->symbols()) {
        if (symbol.name != "drop_runts") continue;
        const uint64_t size = symbol.size + 1;
        std::memcpy(&bytes_[symtab->offset + symbol.index * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_size)],
                    &size, sizeof size);
        patched = true;
    }
    ASSERT_TRUE(patched);
    auto object = load();
    ASSERT_FALSE(object);
    EXPECT_NE(object.error().message.find("whole number of instructions"), std::string::npos)
        << object.error().to_string();

    // A map definition of an unknown type: a map every program may use.
    auto legacy = read_bytes(std::filesystem::path(BPFVM_CORPUS_DIR) / "legacy_maps.bpf.o");
    auto legacy_elf = ElfFile::parse(legacy, "patched.o");
    ASSERT_TRUE(legacy_elf);
    legacy[legacy_elf->section("maps")->offset] = 99;
    EXPECT_FALSE(load_object(legacy, "patched.o"));
}

// A CO-RE record whose instruction does not hold the value it says (the object's own BTF is the
// target, so every record resolves): only the programs holding that instruction fail.
TEST(ProgramLoadErrorCore, CoreRecordThatDoesNotFitItsInstructionFailsOnlyItsPrograms) {
    // Two kprobe programs in one section, each with CO-RE records.
    const auto path = std::filesystem::path(BPFVM_CORPUS_DIR) / "reject_unresolved_relocation.bpf.o";
    auto bytes = read_bytes(path);
    auto elf = ElfFile::parse(bytes, "patched.o");
    ASSERT_TRUE(elf);
    auto btf = Btf::parse(elf->section(".BTF")->data);
    ASSERT_TRUE(btf);
    auto ext = BtfExt::parse(elf->section(".BTF.ext")->data, *btf);
    ASSERT_TRUE(ext);
    // The first field-offset record: its instruction holds the field's offset (an ALU64 `mov` or
    // `add` immediate, or a load's offset), which the loader checks before rewriting it.
    std::string section;
    uint32_t slot = 0;
    for (const BtfExtSection& s : ext->sections()) {
        for (const BtfCoreRelo& relo : s.core_relos) {
            const ElfSection* code = elf->section(s.name);
            if (!section.empty() || relo.kind != BtfCoreReloKind::FieldByteOffset) continue;
            const uint8_t opcode = code->data[relo.insn_off];
            const bool alu_immediate = opcode == 0xb7 || opcode == 0x07;
            const bool load = (opcode & 0x07) == 0x01 && (opcode & 0xe0) == 0x60;  // LDX MEM
            if (!alu_immediate && !load) continue;
            section = s.name;
            slot = relo.insn_off / 8;
            bytes[code->offset + relo.insn_off + (alu_immediate ? 4 : 2)] ^= 0x01;  // imm or offset, low byte
        }
    }
    ASSERT_FALSE(section.empty()) << "no field-offset record on an ALU immediate or a load";
    auto object = load_object(bytes, "patched.o");
    ASSERT_TRUE(object) << object.error().to_string();
    size_t failed = 0, loaded = 0;
    for (const Program& program : object->programs) {
        if (!program.load_error) {
            ++loaded;
            continue;
        }
        ++failed;
        const Error& e = *program.load_error;
        EXPECT_EQ(e.where.section, section) << e.to_string();
        EXPECT_EQ(e.where.instruction, slot) << e.to_string();
        EXPECT_NE(e.message.find("CO-RE"), std::string::npos) << e.to_string();
        EXPECT_NE(e.message.find("not the expected local value"), std::string::npos) << e.to_string();
    }
    EXPECT_GE(failed, 1u);
    EXPECT_GE(loaded, 1u);
}

}  // namespace
}  // namespace bpfvm::loader
