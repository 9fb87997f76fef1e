// Faults written into one function of a clang-built object, for the tests of load errors that
// belong to one program (loader and tools tests): where a function's instructions lie in the
// file, and the bytes to change there. corpus/loader/program_faults.bpf.c is built for this.
#pragma once

#include <elf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bpfvm/loader/elf.hpp"

namespace bpfvm::loader::test {

inline std::filesystem::path program_faults_object() {
    return std::filesystem::path(BPFVM_CORPUS_DIR) / "loader" / "program_faults.bpf.o";
}

// One function's code in an object file.
struct FunctionCode {
    std::string section;
    uint32_t first_slot = 0;  // in its section, as llvm-objdump numbers instructions
    uint32_t slots = 0;
    size_t file_offset = 0;  // of its first instruction

    // The file offset of its instruction `index`, and that instruction's slot in the section.
    size_t at(uint32_t index) const { return file_offset + size_t{index} * 8; }
    uint32_t slot(uint32_t index) const { return first_slot + index; }
};

inline FunctionCode function_code(const std::vector<uint8_t>& bytes, const std::string& name) {
    FunctionCode code;
    auto elf = ElfFile::parse(bytes, "patched.o");
    EXPECT_TRUE(elf);
    if (!elf) return code;
    for (const ElfSymbol& symbol : elf->symbols()) {
        if (symbol.name != name || symbol.type != STT_FUNC) continue;
        const ElfSection* section = elf->section(symbol.section);
        if (section == nullptr) break;
        code.section = section->name;
        code.first_slot = static_cast<uint32_t>(symbol.value / 8);
        code.slots = static_cast<uint32_t>(symbol.size / 8);
        code.file_offset = section->offset + symbol.value;
        return code;
    }
    ADD_FAILURE() << "no function " << name;
    return code;
}

// The file offsets of the relocation entries (Elf64_Rel) applying to the named section.
inline std::vector<size_t> relocation_entries(const std::vector<uint8_t>& bytes, const std::string& section) {
    std::vector<size_t> entries;
    auto elf = ElfFile::parse(bytes, "patched.o");
    EXPECT_TRUE(elf);
    if (!elf) return entries;
    const ElfSection* target = elf->section(section);
    if (target == nullptr) return entries;
    for (const ElfSection& s : elf->sections()) {
        if (s.type != SHT_REL || s.info != target->index) continue;
        for (size_t offset = 0; offset + sizeof(Elf64_Rel) <= s.size; offset += sizeof(Elf64_Rel))
            entries.push_back(s.offset + offset);
    }
    return entries;
}

// Instruction fields, in the byte order of the (little-endian) BPF objects clang writes.
inline void set_opcode(std::vector<uint8_t>& bytes, size_t at, uint8_t opcode) {
    bytes.at(at) = opcode;
}
inline void set_jump_offset(std::vector<uint8_t>& bytes, size_t at, int16_t offset) {
    std::memcpy(&bytes.at(at + 2), &offset, sizeof offset);
}
inline int16_t jump_offset(const std::vector<uint8_t>& bytes, size_t at) {
    int16_t offset = 0;
    std::memcpy(&offset, &bytes.at(at + 2), sizeof offset);
    return offset;
}

// An opcode no ISA version defines (ALU64, register source, operation 0xf0).
inline constexpr uint8_t kUnknownOpcode = 0xff;
inline constexpr uint8_t kLdImm64Opcode = 0x18;

}  // namespace bpfvm::loader::test
