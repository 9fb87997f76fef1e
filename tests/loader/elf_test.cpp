#include "bpfvm/loader/elf.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <random>

#include "loader/elf_test_support.hpp"

namespace bpfvm::loader {
namespace {

using test::corpus_objects;
using test::read_bytes;

std::string section_type_name(uint32_t type) {
    switch (type) {
        case SHT_NULL: return "NULL";
        case SHT_PROGBITS: return "PROGBITS";
        case SHT_SYMTAB: return "SYMTAB";
        case SHT_STRTAB: return "STRTAB";
        case SHT_RELA: return "RELA";
        case SHT_NOBITS: return "NOBITS";
        case SHT_REL: return "REL";
        case 0x6fff4c03: return "LLVM_ADDRSIG";
    }
    return "unknown type " + std::to_string(type);
}

std::string symbol_type_name(uint8_t type) {
    switch (type) {
        case STT_NOTYPE: return "NOTYPE";
        case STT_OBJECT: return "OBJECT";
        case STT_FUNC: return "FUNC";
        case STT_SECTION: return "SECTION";
        case STT_FILE: return "FILE";
    }
    return "unknown type " + std::to_string(type);
}

std::string binding_name(uint8_t binding) {
    switch (binding) {
        case STB_LOCAL: return "LOCAL";
        case STB_GLOBAL: return "GLOBAL";
        case STB_WEAK: return "WEAK";
    }
    return "unknown binding " + std::to_string(binding);
}

std::string symbol_section_name(uint16_t section) {
    switch (section) {
        case SHN_UNDEF: return "UND";
        case SHN_ABS: return "ABS";
        case SHN_COMMON: return "COM";
    }
    return std::to_string(section);
}

std::string relocation_type_name(uint32_t type) {
    switch (type) {
        case R_BPF_NONE: return "R_BPF_NONE";
        case R_BPF_64_64: return "R_BPF_64_64";
        case 2: return "R_BPF_64_ABS64";
        case 3: return "R_BPF_64_ABS32";
        case 4: return "R_BPF_64_NODYLD32";
        case R_BPF_64_32: return "R_BPF_64_32";
    }
    return std::to_string(type);
}

// llvm-readelf prints the section's name for STT_SECTION symbols, whose own name is empty.
std::string displayed_symbol_name(const ElfFile& file, const ElfSymbol& symbol) {
    if (symbol.type == STT_SECTION && symbol.name.empty() && file.section(symbol.section) != nullptr) {
        return file.section(symbol.section)->name;
    }
    return symbol.name;
}

TEST(ElfCorpus, CorpusIsNotEmpty) {
    EXPECT_FALSE(corpus_objects().empty()) << "no *.bpf.o in " << BPFVM_CORPUS_DIR;
}

TEST(ElfCorpus, SectionsAndSymbolsMatchLlvmReadelf) {
    if (!std::filesystem::exists(test::kReadelf)) GTEST_SKIP() << test::kReadelf << " is not installed";
    for (const auto& path : corpus_objects()) {
        SCOPED_TRACE(path.string());
        auto file = ElfFile::read(path);
        ASSERT_TRUE(file) << file.error().to_string();
        auto output = test::run_command(test::kReadelf.string() + " -S -s --wide '" + path.string() + "'");
        ASSERT_TRUE(output) << "llvm-readelf failed";

        auto expected_sections = test::parse_readelf_sections(*output);
        ASSERT_EQ(expected_sections.size(), file->sections().size());
        for (size_t i = 0; i < expected_sections.size(); ++i) {
            const auto& expected = expected_sections[i];
            const ElfSection& actual = file->sections()[i];
            SCOPED_TRACE("section " + std::to_string(i));
            EXPECT_EQ(expected.index, actual.index);
            EXPECT_EQ(expected.name, actual.name);
            EXPECT_EQ(expected.type, section_type_name(actual.type));
            EXPECT_EQ(expected.offset, actual.offset);
            EXPECT_EQ(expected.size, actual.size);
            EXPECT_EQ(expected.entry_size, actual.entry_size);
            EXPECT_EQ(expected.link, actual.link);
            EXPECT_EQ(expected.info, actual.info);
            EXPECT_EQ(expected.alignment, actual.alignment);
            const bool has_data = actual.type != SHT_NOBITS && actual.type != SHT_NULL;
            EXPECT_EQ(has_data ? actual.size : 0, actual.data.size());
            if (has_data && actual.size > 0) {
                EXPECT_EQ(file->bytes().data() + actual.offset, actual.data.data());
            }
        }

        auto expected_symbols = test::parse_readelf_symbols(*output);
        ASSERT_FALSE(expected_symbols.empty());
        ASSERT_EQ(expected_symbols.size(), file->symbols().size());
        for (size_t i = 0; i < expected_symbols.size(); ++i) {
            const auto& expected = expected_symbols[i];
            const ElfSymbol& actual = file->symbols()[i];
            SCOPED_TRACE("symbol " + std::to_string(i));
            EXPECT_EQ(expected.index, actual.index);
            EXPECT_EQ(expected.name, displayed_symbol_name(*file, actual));
            EXPECT_EQ(expected.value, actual.value);
            EXPECT_EQ(expected.size, actual.size);
            EXPECT_EQ(expected.type, symbol_type_name(actual.type));
            EXPECT_EQ(expected.binding, binding_name(actual.binding));
            EXPECT_EQ(expected.section, symbol_section_name(actual.section));
        }
    }
}

TEST(ElfCorpus, RelocationsMatchLlvmReadelf) {
    if (!std::filesystem::exists(test::kReadelf)) GTEST_SKIP() << test::kReadelf << " is not installed";
    for (const auto& path : corpus_objects()) {
        SCOPED_TRACE(path.string());
        auto file = ElfFile::read(path);
        ASSERT_TRUE(file) << file.error().to_string();
        auto output = test::run_command(test::kReadelf.string() + " -r --wide '" + path.string() + "'");
        ASSERT_TRUE(output) << "llvm-readelf failed";
        auto expected_tables = test::parse_readelf_relocations(*output);

        size_t tables_seen = 0;
        for (const ElfSection& section : file->sections()) {
            SCOPED_TRACE("relocations of section " + section.name);
            auto relocations = file->relocations_for(section.index);
            ASSERT_TRUE(relocations) << relocations.error().to_string();
            // The readelf tables whose relocation section targets this one, in section order.
            std::vector<test::ReadelfRelocation> expected;
            for (const ElfSection& table : file->sections()) {
                if ((table.type != SHT_REL && table.type != SHT_RELA) || table.info != section.index)
                    continue;
                ASSERT_TRUE(expected_tables.count(table.name)) << "readelf does not list " << table.name;
                const auto& rows = expected_tables.at(table.name);
                expected.insert(expected.end(), rows.begin(), rows.end());
                ++tables_seen;
            }
            ASSERT_EQ(expected.size(), relocations->size());
            for (size_t i = 0; i < expected.size(); ++i) {
                const ElfRelocation& actual = (*relocations)[i];
                SCOPED_TRACE("relocation " + std::to_string(i));
                EXPECT_EQ(expected[i].offset, actual.offset);
                EXPECT_EQ(expected[i].info, (uint64_t{actual.symbol} << 32) | actual.type);
                EXPECT_EQ(expected[i].type, relocation_type_name(actual.type));
                const std::string name =
                    actual.symbol == 0 ? "" : displayed_symbol_name(*file, file->symbols()[actual.symbol]);
                EXPECT_EQ(expected[i].symbol_name, name);
            }
        }
        EXPECT_EQ(expected_tables.size(), tables_seen);
    }
}

TEST(ElfFile, CopiesAndMovesKeepDataInOwnBytes) {
    auto objects = corpus_objects();
    ASSERT_FALSE(objects.empty());
    auto parsed = ElfFile::read(objects.front());
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    ElfFile copy = *parsed;
    ElfFile moved = std::move(*parsed);
    for (const ElfFile* file : {&copy, &moved}) {
        for (const ElfSection& section : file->sections()) {
            if (section.data.empty()) continue;
            EXPECT_EQ(file->bytes().data() + section.offset, section.data.data()) << section.name;
        }
    }
    EXPECT_NE(copy.bytes().data(), moved.bytes().data());
}

TEST(ElfFile, ReadOfMissingFileIsIoError) {
    auto file = ElfFile::read("/nonexistent/dir/x.bpf.o");
    ASSERT_FALSE(file);
    EXPECT_EQ(ErrorKind::Io, file.error().kind);
    EXPECT_EQ("/nonexistent/dir/x.bpf.o", file.error().where.file);
}

// ---- Robustness against damaged files ----

std::filesystem::path sample_object() {
    const std::filesystem::path preferred = std::filesystem::path(BPFVM_CORPUS_DIR) / "xdp_count.bpf.o";
    if (std::filesystem::exists(preferred)) return preferred;
    auto objects = corpus_objects();
    return objects.empty() ? preferred : objects.front();
}

// Parses and, when that succeeds, asks for every section's relocations: neither may crash.
void parse_and_walk(const std::vector<uint8_t>& bytes) {
    auto file = ElfFile::parse(bytes, "damaged.o");
    if (!file) {
        EXPECT_EQ(ErrorKind::InvalidInput, file.error().kind);
        EXPECT_EQ("damaged.o", file.error().where.file);
        EXPECT_FALSE(file.error().message.empty());
        return;
    }
    for (const ElfSection& section : file->sections()) {
        auto relocations = file->relocations_for(section.index);
        if (!relocations) {
            EXPECT_EQ(ErrorKind::InvalidInput, relocations.error().kind);
        }
    }
}

TEST(ElfRobustness, EveryTruncationIsAnError) {
    const std::vector<uint8_t> bytes = read_bytes(sample_object());
    ASSERT_GT(bytes.size(), sizeof(Elf64_Ehdr));
    ASSERT_TRUE(ElfFile::parse(bytes, "full.o"));
    for (size_t length = 0; length < bytes.size(); ++length) {
        auto file = ElfFile::parse(std::span(bytes.data(), length), "prefix.o");
        ASSERT_FALSE(file) << "a prefix of " << length << " of " << bytes.size() << " bytes parsed";
        EXPECT_EQ(ErrorKind::InvalidInput, file.error().kind);
    }
}

TEST(ElfRobustness, ByteFlipsNeverCrash) {
    const std::vector<uint8_t> original = read_bytes(sample_object());
    ASSERT_GT(original.size(), sizeof(Elf64_Ehdr));
    Elf64_Ehdr header;
    std::memcpy(&header, original.data(), sizeof header);

    std::vector<size_t> positions;
    for (size_t i = 0; i < sizeof(Elf64_Ehdr); ++i) positions.push_back(i);
    const size_t table_end =
        std::min<size_t>(original.size(), header.e_shoff + size_t{header.e_shnum} * sizeof(Elf64_Shdr));
    for (size_t i = header.e_shoff; i < table_end; ++i) positions.push_back(i);
    std::mt19937 random(20240611);
    std::uniform_int_distribution<size_t> anywhere(0, original.size() - 1);
    for (int i = 0; i < 2000; ++i) positions.push_back(anywhere(random));

    std::vector<uint8_t> bytes = original;
    for (size_t position : positions) {
        const uint8_t old = original[position];
        for (uint8_t value : {uint8_t{0x00}, uint8_t{0xff}, uint8_t(old ^ 0x80), uint8_t(old + 1)}) {
            bytes[position] = value;
            parse_and_walk(bytes);
        }
        bytes[position] = old;
    }
}

// ---- Hand-built malformed files: each breaks one rule ----

class ElfMalformed : public ::testing::Test {
 protected:
    void SetUp() override {
        bytes_ = read_bytes(sample_object());
        ASSERT_GT(bytes_.size(), sizeof(Elf64_Ehdr));
        auto parsed = ElfFile::parse(bytes_, "good.o");
        ASSERT_TRUE(parsed) << parsed.error().to_string();
        good_ = std::make_unique<ElfFile>(std::move(*parsed));
        std::memcpy(&header_, bytes_.data(), sizeof header_);
        // A relocation table with entries that relocates an executable section (xdp's .relxdp).
        for (const ElfSection& section : good_->sections()) {
            if (section.type != SHT_REL || section.size == 0) continue;
            const ElfSection* target = good_->section(section.info);
            if (target != nullptr && (target->flags & SHF_EXECINSTR) != 0) relocations_ = &section;
        }
        ASSERT_NE(nullptr, relocations_);
        ASSERT_NE(nullptr, good_->symbol_table());
    }

    template <typename T>
    void put(uint64_t offset, T value) {
        ASSERT_LE(offset + sizeof value, bytes_.size());
        std::memcpy(bytes_.data() + offset, &value, sizeof value);
    }
    uint64_t section_header(uint32_t index) const {
        return header_.e_shoff + uint64_t{index} * sizeof(Elf64_Shdr);
    }

    // The parse must fail with a message containing `phrase`, located in `section`.
    void expect_error(const std::string& phrase, const std::string& section = "") {
        auto file = ElfFile::parse(bytes_, "bad.o");
        ASSERT_FALSE(file) << "parsed, expected: " << phrase;
        expect_error_is(file.error(), phrase, section);
    }
    static void expect_error_is(const Error& error, const std::string& phrase, const std::string& section) {
        EXPECT_EQ(ErrorKind::InvalidInput, error.kind);
        EXPECT_EQ("bad.o", error.where.file);
        EXPECT_NE(std::string::npos, error.message.find(phrase)) << error.to_string();
        EXPECT_EQ(section, error.where.section) << error.to_string();
    }

    std::vector<uint8_t> bytes_;
    std::unique_ptr<ElfFile> good_;
    Elf64_Ehdr header_;
    const ElfSection* relocations_ = nullptr;
};

TEST_F(ElfMalformed, BadMagic) {
    put<uint8_t>(1, 'F');
    expect_error("bad magic");
}

TEST_F(ElfMalformed, WrongMachine) {
    put<uint16_t>(offsetof(Elf64_Ehdr, e_machine), EM_X86_64);
    expect_error("not a BPF object: e_machine (offset 0x12) is 62 (x86-64)");
}

TEST_F(ElfMalformed, ThirtyTwoBitClass) {
    put<uint8_t>(EI_CLASS, ELFCLASS32);
    expect_error("is 1 (32-bit): BPF objects must be ELFCLASS64");
}

TEST_F(ElfMalformed, BigEndian) {
    put<uint8_t>(EI_DATA, ELFDATA2MSB);
    expect_error("(big-endian): only little-endian");
}

TEST_F(ElfMalformed, NotRelocatable) {
    put<uint16_t>(offsetof(Elf64_Ehdr, e_type), ET_EXEC);
    expect_error("not a relocatable object: e_type (offset 0x10) is 2 (executable)");
}

TEST_F(ElfMalformed, WrongSectionHeaderSize) {
    put<uint16_t>(offsetof(Elf64_Ehdr, e_shentsize), 40);
    expect_error("e_shentsize (offset 0x3a) is 40, expected 64");
}

TEST_F(ElfMalformed, SectionHeaderTablePastTheFile) {
    put<uint64_t>(offsetof(Elf64_Ehdr, e_shoff), bytes_.size() - 8);
    expect_error("section header table at offset");
}

TEST_F(ElfMalformed, HugeSectionCountIsRejectedBeforeAllocating) {
    // Extended numbering: e_shnum 0 and the count in section 0's sh_size.
    put<uint16_t>(offsetof(Elf64_Ehdr, e_shnum), 0);
    put<uint64_t>(section_header(0) + offsetof(Elf64_Shdr, sh_size), ~uint64_t{0});
    expect_error("18446744073709551615 entries of 64 bytes");
}

TEST_F(ElfMalformed, ExtendedNumberingIsUnderstood) {
    put<uint64_t>(section_header(0) + offsetof(Elf64_Shdr, sh_size), header_.e_shnum);
    put<uint32_t>(section_header(0) + offsetof(Elf64_Shdr, sh_link), header_.e_shstrndx);
    put<uint16_t>(offsetof(Elf64_Ehdr, e_shnum), 0);
    put<uint16_t>(offsetof(Elf64_Ehdr, e_shstrndx), SHN_XINDEX);
    auto file = ElfFile::parse(bytes_, "extended.o");
    ASSERT_TRUE(file) << file.error().to_string();
    EXPECT_EQ(good_->sections().size(), file->sections().size());
    EXPECT_EQ(good_->sections().back().name, file->sections().back().name);
}

TEST_F(ElfMalformed, SectionNameTableIndexOutOfRange) {
    put<uint16_t>(offsetof(Elf64_Ehdr, e_shstrndx), header_.e_shnum);
    expect_error("section name table index (e_shstrndx) is");
}

TEST_F(ElfMalformed, SectionOffsetPastTheFile) {
    const ElfSection& xdp = *good_->section(relocations_->info);
    put<uint64_t>(section_header(xdp.index) + offsetof(Elf64_Shdr, sh_offset), bytes_.size());
    expect_error("extends past the end of the file", xdp.name);
}

TEST_F(ElfMalformed, SectionSizeThatWrapsAround) {
    const ElfSection& xdp = *good_->section(relocations_->info);
    put<uint64_t>(section_header(xdp.index) + offsetof(Elf64_Shdr, sh_size), ~uint64_t{0} - 0x10);
    expect_error("extends past the end of the file", xdp.name);
}

TEST_F(ElfMalformed, OverlappingSections) {
    const ElfSection& xdp = *good_->section(relocations_->info);
    const ElfSection& symtab = *good_->symbol_table();
    put<uint64_t>(section_header(xdp.index) + offsetof(Elf64_Shdr, sh_offset), symtab.offset + 8);
    auto file = ElfFile::parse(bytes_, "bad.o");
    ASSERT_FALSE(file);
    EXPECT_NE(std::string::npos, file.error().message.find("overlaps")) << file.error().to_string();
    // Either one of the two is reported as the later one, depending on the sort order.
    EXPECT_TRUE(file.error().where.section == xdp.name || file.error().where.section == symtab.name)
        << file.error().to_string();
}

TEST_F(ElfMalformed, SectionOverlappingTheElfHeader) {
    const ElfSection& xdp = *good_->section(relocations_->info);
    put<uint64_t>(section_header(xdp.index) + offsetof(Elf64_Shdr, sh_offset), 0x20);
    expect_error("overlaps the ELF header", xdp.name);
}

TEST_F(ElfMalformed, SectionNameOffsetOutOfRange) {
    put<uint32_t>(section_header(2) + offsetof(Elf64_Shdr, sh_name), 0x7fffffff);
    expect_error("name offset 0x7fffffff", "section header 2");
}

TEST_F(ElfMalformed, SymbolNameOffsetOutOfRange) {
    const ElfSection& symtab = *good_->symbol_table();
    put<uint32_t>(symtab.offset + 1 * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_name), 0x10000);
    expect_error("symbol 1 (at offset", symtab.name);
    expect_error("name offset 0x10000 is not a NUL-terminated string inside string table", symtab.name);
}

TEST_F(ElfMalformed, SymbolWithBadSectionIndex) {
    const ElfSection& symtab = *good_->symbol_table();
    const uint32_t last = static_cast<uint32_t>(good_->symbols().size() - 1);
    put<uint16_t>(symtab.offset + last * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_shndx), 200);
    expect_error("symbol " + std::to_string(last) + " (at offset", symtab.name);
    expect_error("section index 200 is not a section", symtab.name);
}

TEST_F(ElfMalformed, SymbolTableWithWrongEntrySize) {
    const ElfSection& symtab = *good_->symbol_table();
    put<uint64_t>(section_header(symtab.index) + offsetof(Elf64_Shdr, sh_entsize), 16);
    expect_error("sh_entsize is 16, expected 24", symtab.name);
}

TEST_F(ElfMalformed, SymbolTableLinkedToNonStringTable) {
    const ElfSection& symtab = *good_->symbol_table();
    put<uint32_t>(section_header(symtab.index) + offsetof(Elf64_Shdr, sh_link), relocations_->info);
    expect_error("does not name a string table", symtab.name);
}

TEST_F(ElfMalformed, TwoSymbolTables) {
    const ElfSection& symtab = *good_->symbol_table();
    put<uint32_t>(section_header(relocations_->index) + offsetof(Elf64_Shdr, sh_type), SHT_SYMTAB);
    auto file = ElfFile::parse(bytes_, "bad.o");
    ASSERT_FALSE(file);
    EXPECT_NE(std::string::npos, file.error().message.find("a second symbol table"))
        << file.error().to_string();
    EXPECT_EQ(std::max(symtab.index, relocations_->index), good_->section(file.error().where.section)->index);
}

TEST_F(ElfMalformed, RelocationTableWithWrongLink) {
    put<uint32_t>(section_header(relocations_->index) + offsetof(Elf64_Shdr, sh_link), 1);
    expect_error("sh_link 1 does not name the symbol table", relocations_->name);
}

TEST_F(ElfMalformed, RelocationTableWithBadInfo) {
    put<uint32_t>(section_header(relocations_->index) + offsetof(Elf64_Shdr, sh_info), 5000);
    expect_error("sh_info 5000 does not name a section", relocations_->name);
}

TEST_F(ElfMalformed, RelocationTableWithWrongEntrySize) {
    put<uint64_t>(section_header(relocations_->index) + offsetof(Elf64_Shdr, sh_entsize), 24);
    expect_error("sh_entsize is 24, expected 16", relocations_->name);
}

TEST_F(ElfMalformed, RelocationOffsetOutsideItsSection) {
    const ElfSection& target = *good_->section(relocations_->info);
    put<uint64_t>(relocations_->offset + offsetof(Elf64_Rel, r_offset), target.size);
    auto file = ElfFile::parse(bytes_, "bad.o");
    ASSERT_TRUE(file) << file.error().to_string();  // relocation entries are checked on request
    auto relocations = file->relocations_for(target.index);
    ASSERT_FALSE(relocations);
    char phrase[160];
    std::snprintf(phrase, sizeof phrase,
                  "relocation 0 at offset 0x%llx points past the end of section %s (size 0x%llx)",
                  static_cast<unsigned long long>(target.size), target.name.c_str(),
                  static_cast<unsigned long long>(target.size));
    expect_error_is(relocations.error(), phrase, relocations_->name);
}

TEST_F(ElfMalformed, RelocationSymbolIndexOutOfRange) {
    const ElfSection& target = *good_->section(relocations_->info);
    const uint64_t symbol = good_->symbols().size();
    Elf64_Rel first;
    std::memcpy(&first, relocations_->data.data(), sizeof first);
    put<uint64_t>(relocations_->offset + offsetof(Elf64_Rel, r_info),
                  ELF64_R_INFO(symbol, ELF64_R_TYPE(first.r_info)));
    auto file = ElfFile::parse(bytes_, "bad.o");
    ASSERT_TRUE(file) << file.error().to_string();
    auto relocations = file->relocations_for(target.index);
    ASSERT_FALSE(relocations);
    expect_error_is(relocations.error(),
                    "refers to symbol " + std::to_string(symbol) + ", but the symbol table has",
                    relocations_->name);
}

TEST_F(ElfMalformed, RelocationsForMissingSection) {
    auto relocations = good_->relocations_for(100000);
    ASSERT_FALSE(relocations);
    EXPECT_NE(std::string::npos, relocations.error().message.find("no section with index 100000"));
}

}  // namespace
}  // namespace bpfvm::loader
