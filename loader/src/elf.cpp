#include "bpfvm/loader/elf.hpp"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

namespace bpfvm::loader {
namespace {

// True when [offset, offset + length) lies inside [0, limit). Written so that offset + length
// is never computed: untrusted offsets and sizes can be close to 2^64 and would wrap.
bool range_inside(uint64_t offset, uint64_t length, uint64_t limit) {
    return offset <= limit && length <= limit - offset;
}

// The one way this file reads a structure out of untrusted bytes: bounds-checked, and by
// memcpy because the bytes carry no alignment guarantee.
template <typename T>
std::optional<T> read_struct(std::span<const uint8_t> bytes, uint64_t offset) {
    if (!range_inside(offset, sizeof(T), bytes.size())) return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

// The NUL-terminated string at `offset` of a string table, or nullopt when the offset is past
// the table or the string runs off its end.
std::optional<std::string_view> string_at(std::span<const uint8_t> table, uint64_t offset) {
    if (offset >= table.size()) return std::nullopt;
    const auto* begin = reinterpret_cast<const char*>(table.data()) + offset;
    const void* nul = std::memchr(begin, '\0', table.size() - offset);
    if (nul == nullptr) return std::nullopt;
    return std::string_view(begin, static_cast<const char*>(nul) - begin);
}

std::string hex(uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

std::string_view machine_name(uint16_t machine) {
    switch (machine) {
        case EM_NONE: return "none";
        case EM_386: return "x86";
        case EM_ARM: return "ARM";
        case EM_MIPS: return "MIPS";
        case EM_PPC: return "PowerPC";
        case EM_PPC64: return "PowerPC64";
        case EM_S390: return "s390";
        case EM_X86_64: return "x86-64";
        case EM_AARCH64: return "AArch64";
        case EM_RISCV: return "RISC-V";
        case EM_LOONGARCH: return "LoongArch";
        case EM_BPF: return "BPF";
    }
    return "unknown machine";
}

std::string_view object_type_name(uint16_t type) {
    switch (type) {
        case ET_NONE: return "no file type";
        case ET_REL: return "relocatable";
        case ET_EXEC: return "executable";
        case ET_DYN: return "shared object";
        case ET_CORE: return "core file";
    }
    return "unknown type";
}

Location located(const std::string& file, std::string section = {}) {
    Location where;
    where.file = file;
    where.section = std::move(section);
    return where;
}

bool is_power_of_two_or_zero(uint64_t value) {
    return (value & (value - 1)) == 0;
}

bool is_relocation_table(uint32_t type) {
    return type == SHT_REL || type == SHT_RELA;
}

// Sections whose header says where their bytes are in the file. SHT_NULL headers carry no
// meaningful offset or size; SHT_NOBITS ones occupy no file space.
bool has_file_data(uint32_t type) {
    return type != SHT_NOBITS && type != SHT_NULL;
}

uint64_t relocation_entry_size(uint32_t type) {
    return type == SHT_RELA ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
}

// Validates the container and builds the section and symbol lists. The bytes it reads are the
// ElfFile's own copy, so the sections' data spans stay valid when the vector is moved.
class Parser {
 public:
    Parser(std::span<const uint8_t> bytes, const std::string& file_name)
        : bytes_(bytes), file_name_(file_name) {}

    Status parse() {
        for (auto step :
             {&Parser::check_header, &Parser::read_section_headers, &Parser::read_section_names,
              &Parser::check_section_layout, &Parser::read_symbols, &Parser::check_relocation_tables}) {
            Status status = (this->*step)();
            if (!status) return status;
        }
        return Ok{};
    }

    std::vector<ElfSection> take_sections() { return std::move(sections_); }
    std::vector<ElfSymbol> take_symbols() { return std::move(symbols_); }
    std::optional<uint32_t> symbol_table_index() const { return symbol_table_index_; }

 private:
    Error fail(std::string message, std::string section = {}) const {
        return make_error(ErrorKind::InvalidInput, std::move(message),
                          located(file_name_, std::move(section)));
    }

    Status check_header() {
        auto header = read_struct<Elf64_Ehdr>(bytes_, 0);
        if (!header) {
            return fail("file is " + std::to_string(bytes_.size()) +
                        " bytes, shorter than an ELF64 header (" + std::to_string(sizeof(Elf64_Ehdr)) +
                        " bytes)");
        }
        header_ = *header;
        const unsigned char* ident = header_.e_ident;
        if (std::memcmp(ident, ELFMAG, SELFMAG) != 0)
            return fail("not an ELF file: bad magic bytes at offset 0x0");
        if (ident[EI_CLASS] != ELFCLASS64) {
            return fail("ELF class (offset 0x4) is " + std::to_string(ident[EI_CLASS]) +
                        (ident[EI_CLASS] == ELFCLASS32 ? " (32-bit)" : "") +
                        ": BPF objects must be ELFCLASS64");
        }
        if (ident[EI_DATA] != ELFDATA2LSB) {
            return fail("data encoding (offset 0x5) is " + std::to_string(ident[EI_DATA]) +
                        (ident[EI_DATA] == ELFDATA2MSB ? " (big-endian)" : "") +
                        ": only little-endian (ELFDATA2LSB) objects are supported");
        }
        if (ident[EI_VERSION] != EV_CURRENT || header_.e_version != EV_CURRENT) {
            return fail("ELF version (offsets 0x6 and 0x14) is not EV_CURRENT (1)");
        }
        if (header_.e_machine != EM_BPF) {
            return fail("not a BPF object: e_machine (offset 0x12) is " + std::to_string(header_.e_machine) +
                        " (" + std::string(machine_name(header_.e_machine)) + "), expected 247 (BPF)");
        }
        if (header_.e_type != ET_REL) {
            return fail("not a relocatable object: e_type (offset 0x10) is " +
                        std::to_string(header_.e_type) + " (" +
                        std::string(object_type_name(header_.e_type)) + "), expected 1 (ET_REL)");
        }
        if (header_.e_ehsize != sizeof(Elf64_Ehdr)) {
            return fail("e_ehsize (offset 0x34) is " + std::to_string(header_.e_ehsize) + ", expected " +
                        std::to_string(sizeof(Elf64_Ehdr)));
        }
        if (header_.e_shoff == 0) return fail("the object has no section header table (e_shoff is 0)");
        if (header_.e_shentsize != sizeof(Elf64_Shdr)) {
            return fail("e_shentsize (offset 0x3a) is " + std::to_string(header_.e_shentsize) +
                        ", expected " + std::to_string(sizeof(Elf64_Shdr)));
        }
        return Ok{};
    }

    Status read_section_headers() {
        // Section 0 is read first: with extended numbering it holds the real section count
        // (sh_size) and section name table index (sh_link).
        auto first = read_struct<Elf64_Shdr>(bytes_, header_.e_shoff);
        if (!first) {
            return fail("section header table at offset " + hex(header_.e_shoff) +
                        " lies past the end of the file (size " + hex(bytes_.size()) + ")");
        }
        if (first->sh_type != SHT_NULL) {
            return fail("section header 0 has type " + std::to_string(first->sh_type) +
                        ", expected SHT_NULL");
        }
        uint64_t count = header_.e_shnum;
        if (count == 0) {
            count = first->sh_size;
            if (count == 0) return fail("the object has no sections (e_shnum and section 0's sh_size are 0)");
        }
        // Checked by division before anything is allocated: count can be as large as 2^64-1.
        if ((bytes_.size() - header_.e_shoff) / sizeof(Elf64_Shdr) < count) {
            return fail("section header table (" + std::to_string(count) + " entries of " +
                        std::to_string(sizeof(Elf64_Shdr)) + " bytes at offset " + hex(header_.e_shoff) +
                        ") extends past the end of the file (size " + hex(bytes_.size()) + ")");
        }
        if (count > UINT32_MAX)
            return fail("section count " + std::to_string(count) + " does not fit 32 bits");
        section_table_size_ = count * sizeof(Elf64_Shdr);

        uint64_t names_index = header_.e_shstrndx;
        if (names_index == SHN_XINDEX) {
            names_index = first->sh_link;
        } else if (names_index >= SHN_LORESERVE) {
            return fail("e_shstrndx (offset 0x3e) is " + hex(names_index) + ", a reserved section index");
        }
        if (names_index == SHN_UNDEF || names_index >= count) {
            return fail("section name table index (e_shstrndx) is " + std::to_string(names_index) +
                        ", but there are " + std::to_string(count) + " sections");
        }
        names_index_ = static_cast<uint32_t>(names_index);

        headers_.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            headers_.push_back(*read_struct<Elf64_Shdr>(bytes_, header_.e_shoff + i * sizeof(Elf64_Shdr)));
        }
        return Ok{};
    }

    std::string section_label(uint32_t index) const { return "section header " + std::to_string(index); }

    // A section's data as a bounds-checked view, or an error saying where it overflows.
    Result<std::span<const uint8_t>> section_data(uint32_t index, const std::string& name) const {
        const Elf64_Shdr& header = headers_[index];
        if (!has_file_data(header.sh_type) || index == 0) return std::span<const uint8_t>{};
        if (!range_inside(header.sh_offset, header.sh_size, bytes_.size())) {
            return fail("data at offset " + hex(header.sh_offset) + " with size " + hex(header.sh_size) +
                            " extends past the end of the file (size " + hex(bytes_.size()) + ")",
                        name);
        }
        return bytes_.subspan(header.sh_offset, header.sh_size);
    }

    Status read_section_names() {
        const Elf64_Shdr& names_header = headers_[names_index_];
        std::string label = section_label(names_index_) + " (section name table)";
        if (names_header.sh_type != SHT_STRTAB) {
            return fail("the section name table has type " + std::to_string(names_header.sh_type) +
                            ", expected SHT_STRTAB",
                        label);
        }
        auto names = section_data(names_index_, label);
        if (!names) return names.error();

        sections_.reserve(headers_.size());
        for (uint32_t i = 0; i < headers_.size(); ++i) {
            const Elf64_Shdr& header = headers_[i];
            auto name = string_at(*names, header.sh_name);
            if (!name) {
                return fail("name offset " + hex(header.sh_name) + " (at offset " +
                                hex(header_.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr)) +
                                ") is not a NUL-terminated string inside the section name table (size " +
                                hex(names->size()) + ")",
                            section_label(i));
            }
            ElfSection section;
            section.index = i;
            section.name = std::string(*name);
            section.type = header.sh_type;
            section.flags = header.sh_flags;
            section.offset = header.sh_offset;
            section.size = header.sh_size;
            section.link = header.sh_link;
            section.info = header.sh_info;
            section.alignment = header.sh_addralign;
            section.entry_size = header.sh_entsize;
            sections_.push_back(std::move(section));
        }
        return Ok{};
    }

    Status check_section_layout() {
        struct Extent {
            uint64_t begin;
            uint64_t end;
            std::string what;
        };
        std::vector<Extent> extents;
        extents.push_back({0, sizeof(Elf64_Ehdr), "the ELF header"});
        extents.push_back(
            {header_.e_shoff, header_.e_shoff + section_table_size_, "the section header table"});
        for (ElfSection& section : sections_) {
            if (!is_power_of_two_or_zero(section.alignment)) {
                return fail("sh_addralign " + hex(section.alignment) + " is not a power of two",
                            section.name);
            }
            auto data = section_data(section.index, section.name);
            if (!data) return data.error();
            section.data = *data;
            if (!section.data.empty()) {
                extents.push_back({section.offset, section.offset + section.size, "section " + section.name});
            }
        }
        std::sort(extents.begin(), extents.end(),
                  [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
        // After sorting by start, an overlap always involves the extent reaching furthest so far.
        const Extent* furthest = &extents.front();
        for (size_t i = 1; i < extents.size(); ++i) {
            const Extent& extent = extents[i];
            if (extent.begin < furthest->end) {
                std::string section =
                    extent.what.starts_with("section ") ? extent.what.substr(8) : std::string();
                return fail(extent.what + " at offset " + hex(extent.begin) + " (size " +
                                hex(extent.end - extent.begin) + ") overlaps " + furthest->what +
                                " at offset " + hex(furthest->begin) + " (size " +
                                hex(furthest->end - furthest->begin) + ")",
                            section);
            }
            if (extent.end > furthest->end) furthest = &extent;
        }
        return Ok{};
    }

    Status read_symbols() {
        for (const ElfSection& section : sections_) {
            if (section.type != SHT_SYMTAB) continue;
            if (symbol_table_index_) {
                return fail("a second symbol table; the first is " + sections_[*symbol_table_index_].name,
                            section.name);
            }
            symbol_table_index_ = section.index;
        }
        if (!symbol_table_index_) return Ok{};
        const ElfSection& table = sections_[*symbol_table_index_];
        if (table.entry_size != sizeof(Elf64_Sym)) {
            return fail("sh_entsize is " + std::to_string(table.entry_size) + ", expected " +
                            std::to_string(sizeof(Elf64_Sym)),
                        table.name);
        }
        if (table.size % sizeof(Elf64_Sym) != 0) {
            return fail("size " + hex(table.size) + " is not a multiple of the symbol size (" +
                            std::to_string(sizeof(Elf64_Sym)) + ")",
                        table.name);
        }
        if (table.link == 0 || table.link >= sections_.size() || sections_[table.link].type != SHT_STRTAB) {
            return fail("sh_link " + std::to_string(table.link) + " does not name a string table",
                        table.name);
        }
        const ElfSection& strings = sections_[table.link];

        // The table's size was checked against the file size, so this allocation is bounded.
        const uint64_t count = table.size / sizeof(Elf64_Sym);
        symbols_.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t entry_offset = i * sizeof(Elf64_Sym);
            auto raw = read_struct<Elf64_Sym>(table.data, entry_offset);
            if (!raw) return fail("symbol " + std::to_string(i) + " is outside the table", table.name);
            const std::string where =
                "symbol " + std::to_string(i) + " (at offset " + hex(table.offset + entry_offset) + ")";
            auto name = string_at(strings.data, raw->st_name);
            if (!name) {
                return fail(where + ": name offset " + hex(raw->st_name) +
                                " is not a NUL-terminated string inside string table " + strings.name +
                                " (size " + hex(strings.size) + ")",
                            table.name);
            }
            const uint16_t shndx = raw->st_shndx;
            const bool special = shndx == SHN_UNDEF || shndx == SHN_ABS || shndx == SHN_COMMON;
            if (!special) {
                if (shndx == SHN_XINDEX) {
                    return fail(where + ": extended section indices (SHN_XINDEX) are not supported",
                                table.name);
                }
                if (shndx >= SHN_LORESERVE || shndx >= sections_.size()) {
                    return fail(where + ": section index " + std::to_string(shndx) +
                                    " is not a section (there are " + std::to_string(sections_.size()) +
                                    ") nor SHN_UNDEF, SHN_ABS or SHN_COMMON",
                                table.name);
                }
            }
            ElfSymbol symbol;
            symbol.index = static_cast<uint32_t>(i);
            symbol.name = std::string(*name);
            symbol.value = raw->st_value;
            symbol.size = raw->st_size;
            symbol.type = ELF64_ST_TYPE(raw->st_info);
            symbol.binding = ELF64_ST_BIND(raw->st_info);
            symbol.visibility = ELF64_ST_VISIBILITY(raw->st_other);
            symbol.section = shndx;
            symbols_.push_back(std::move(symbol));
        }
        return Ok{};
    }

    Status check_relocation_tables() {
        for (const ElfSection& section : sections_) {
            if (!is_relocation_table(section.type)) continue;
            const uint64_t entry_size = relocation_entry_size(section.type);
            if (section.entry_size != entry_size) {
                return fail("sh_entsize is " + std::to_string(section.entry_size) + ", expected " +
                                std::to_string(entry_size),
                            section.name);
            }
            if (section.size % entry_size != 0) {
                return fail("size " + hex(section.size) + " is not a multiple of the entry size (" +
                                std::to_string(entry_size) + ")",
                            section.name);
            }
            if (!symbol_table_index_ || section.link != *symbol_table_index_) {
                return fail("sh_link " + std::to_string(section.link) + " does not name the symbol table",
                            section.name);
            }
            if (section.info == 0 || section.info >= sections_.size()) {
                return fail("sh_info " + std::to_string(section.info) +
                                " does not name a section (there are " + std::to_string(sections_.size()) +
                                ")",
                            section.name);
            }
        }
        return Ok{};
    }

    std::span<const uint8_t> bytes_;
    const std::string& file_name_;
    Elf64_Ehdr header_{};
    std::vector<Elf64_Shdr> headers_;
    uint64_t section_table_size_ = 0;
    uint32_t names_index_ = 0;
    std::vector<ElfSection> sections_;
    std::vector<ElfSymbol> symbols_;
    std::optional<uint32_t> symbol_table_index_;
};

}  // namespace

Result<ElfFile> ElfFile::parse(std::span<const uint8_t> bytes, std::string file_name) {
    ElfFile file;
    file.bytes_.assign(bytes.begin(), bytes.end());
    file.file_name_ = std::move(file_name);
    Parser parser(file.bytes_, file.file_name_);
    Status status = parser.parse();
    if (!status) return status.error();
    file.sections_ = parser.take_sections();
    file.symbols_ = parser.take_symbols();
    file.symbol_table_index_ = parser.symbol_table_index();
    return file;
}

Result<ElfFile> ElfFile::read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error(ErrorKind::Io, "cannot open: " + std::string(std::strerror(errno)),
                          located(path.string()));
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return make_error(ErrorKind::Io, "read failed", located(path.string()));
    return parse(bytes, path.string());
}

ElfFile::ElfFile(const ElfFile& other)
    : bytes_(other.bytes_),
      file_name_(other.file_name_),
      sections_(other.sections_),
      symbols_(other.symbols_),
      symbol_table_index_(other.symbol_table_index_) {
    rebind_section_data();
}

ElfFile& ElfFile::operator=(const ElfFile& other) {
    if (this != &other) *this = ElfFile(other);
    return *this;
}

void ElfFile::rebind_section_data() {
    for (ElfSection& section : sections_) {
        if (!section.data.empty())
            section.data = std::span<const uint8_t>(bytes_).subspan(section.offset, section.size);
    }
}

const ElfSection* ElfFile::section(std::string_view name) const {
    for (const ElfSection& section : sections_) {
        if (section.name == name) return &section;
    }
    return nullptr;
}

const ElfSection* ElfFile::section(uint32_t index) const {
    return index < sections_.size() ? &sections_[index] : nullptr;
}

const ElfSection* ElfFile::symbol_table() const {
    return symbol_table_index_ ? &sections_[*symbol_table_index_] : nullptr;
}

Result<std::vector<ElfRelocation>> ElfFile::relocations_for(uint32_t section_index) const {
    const ElfSection* target = section(section_index);
    if (target == nullptr) {
        return make_error(ErrorKind::InvalidInput,
                          "no section with index " + std::to_string(section_index) + " (there are " +
                              std::to_string(sections_.size()) + ")",
                          located(file_name_));
    }
    std::vector<ElfRelocation> relocations;
    for (const ElfSection& table : sections_) {
        if (!is_relocation_table(table.type) || table.info != section_index) continue;
        auto fail = [&](std::string message) {
            return make_error(ErrorKind::InvalidInput, std::move(message), located(file_name_, table.name));
        };
        if (target->type == SHT_NOBITS && table.size != 0) {
            return fail("relocates section " + target->name + ", which has no file data (SHT_NOBITS)");
        }
        // Entry size, table size and sh_link were validated by parse(); the table lies in the file.
        const uint64_t entry_size = relocation_entry_size(table.type);
        const uint64_t count = table.size / entry_size;
        relocations.reserve(relocations.size() + count);
        for (uint64_t i = 0; i < count; ++i) {
            ElfRelocation relocation;
            uint64_t info = 0;
            if (table.type == SHT_RELA) {
                auto raw = read_struct<Elf64_Rela>(table.data, i * entry_size);
                if (!raw) return fail("relocation " + std::to_string(i) + " is outside the table");
                relocation.offset = raw->r_offset;
                relocation.addend = raw->r_addend;
                info = raw->r_info;
            } else {
                auto raw = read_struct<Elf64_Rel>(table.data, i * entry_size);
                if (!raw) return fail("relocation " + std::to_string(i) + " is outside the table");
                relocation.offset = raw->r_offset;
                info = raw->r_info;
            }
            relocation.type = static_cast<uint32_t>(ELF64_R_TYPE(info));
            relocation.symbol = static_cast<uint32_t>(ELF64_R_SYM(info));
            const std::string where =
                "relocation " + std::to_string(i) + " at offset " + hex(relocation.offset);
            if (relocation.offset >= target->size) {
                return fail(where + " points past the end of section " + target->name + " (size " +
                            hex(target->size) + ")");
            }
            if (relocation.symbol >= symbols_.size()) {
                return fail(where + " refers to symbol " + std::to_string(relocation.symbol) +
                            ", but the symbol table has " + std::to_string(symbols_.size()) + " symbols");
            }
            relocations.push_back(relocation);
        }
    }
    return relocations;
}

}  // namespace bpfvm::loader
