// A validating reader of the ELF64 little-endian relocatable objects that `clang -target bpf`
// writes. It checks the container only (headers, section table, string tables, symbol table,
// relocation tables); what the sections mean (programs, maps, BTF) is for later loader stages.
// Every rule broken by the input is reported as an Error value, never by crashing or throwing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::loader {

// Numeric fields keep their <elf.h> meaning (SHT_*, SHF_*, STT_*, STB_*, STV_*, SHN_*, R_BPF_*).
struct ElfSection {
    uint32_t index = 0;
    std::string name;
    uint32_t type = 0;
    uint64_t flags = 0;
    uint64_t offset = 0;  // file offset of the data
    uint64_t size = 0;
    uint32_t link = 0;
    uint32_t info = 0;
    uint64_t alignment = 0;
    uint64_t entry_size = 0;
    std::span<const uint8_t> data;  // the section's bytes; empty for SHT_NOBITS and SHT_NULL
};

struct ElfSymbol {
    uint32_t index = 0;
    // The name from the string table: empty for STT_SECTION symbols, whose name is that of
    // the section they stand for (llvm-readelf prints the section's name for them).
    std::string name;
    uint64_t value = 0;
    uint64_t size = 0;
    uint8_t type = 0;        // STT_*
    uint8_t binding = 0;     // STB_*
    uint8_t visibility = 0;  // STV_*
    uint16_t section = 0;    // st_shndx: a section index, SHN_UNDEF, SHN_ABS or SHN_COMMON
};

struct ElfRelocation {
    uint64_t offset = 0;  // inside the relocated section
    uint32_t type = 0;    // R_BPF_*
    uint32_t symbol = 0;  // index into ElfFile::symbols()
    int64_t addend = 0;   // r_addend of SHT_RELA; 0 for SHT_REL (the addend is in the section's bytes)
};

class ElfFile {
 public:
    // Copies the bytes (sections' data spans point into the copy, so an ElfFile can be moved
    // and copied freely). file_name is only used in error locations.
    static Result<ElfFile> parse(std::span<const uint8_t> bytes, std::string file_name);
    static Result<ElfFile> read(const std::filesystem::path& path);

    ElfFile(const ElfFile& other);
    ElfFile& operator=(const ElfFile& other);
    ElfFile(ElfFile&&) noexcept = default;
    ElfFile& operator=(ElfFile&&) noexcept = default;
    ~ElfFile() = default;

    const std::vector<ElfSection>& sections() const { return sections_; }
    // Empty when the object has no symbol table; symbols()[0] is the null symbol otherwise.
    const std::vector<ElfSymbol>& symbols() const { return symbols_; }
    // The first section with this name, or nullptr.
    const ElfSection* section(std::string_view name) const;
    // nullptr when the index is out of range.
    const ElfSection* section(uint32_t index) const;
    // The SHT_SYMTAB section, or nullptr when there is none.
    const ElfSection* symbol_table() const;

    // Relocations of the section with this index, from every SHT_REL / SHT_RELA section whose
    // sh_info names it, validated: offsets inside the target section, symbol indices inside
    // the symbol table. An empty vector when nothing relocates the section.
    Result<std::vector<ElfRelocation>> relocations_for(uint32_t section_index) const;

    const std::string& file_name() const { return file_name_; }
    std::span<const uint8_t> bytes() const { return bytes_; }

 private:
    ElfFile() = default;
    // Points every section's data span at this object's copy of the bytes.
    void rebind_section_data();

    std::vector<uint8_t> bytes_;
    std::string file_name_;
    std::vector<ElfSection> sections_;
    std::vector<ElfSymbol> symbols_;
    std::optional<uint32_t> symbol_table_index_;
};

}  // namespace bpfvm::loader
