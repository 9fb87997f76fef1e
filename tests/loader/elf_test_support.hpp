// Helpers for the ELF reader tests: the corpus objects, and llvm-readelf run as an oracle
// whose text output is parsed into plain records.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace bpfvm::loader::test {

inline const std::filesystem::path kReadelf = "/usr/lib/llvm-19/bin/llvm-readelf";

inline std::vector<std::filesystem::path> corpus_objects() {
    std::vector<std::filesystem::path> objects;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(BPFVM_CORPUS_DIR, ignored)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > 6 && name.ends_with(".bpf.o")) objects.push_back(entry.path());
    }
    std::sort(objects.begin(), objects.end());
    return objects;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The standard output of a shell command, or nullopt when it could not be run or failed.
inline std::optional<std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string output;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    if (pclose(pipe) != 0) return std::nullopt;
    return output;
}

inline std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

inline uint64_t parse_hex(const std::string& text) {
    return std::strtoull(text.c_str(), nullptr, 16);
}

struct ReadelfSection {
    uint32_t index;
    std::string name;
    std::string type;
    uint64_t offset;
    uint64_t size;
    uint64_t entry_size;
    uint32_t link;
    uint32_t info;
    uint64_t alignment;
};

struct ReadelfSymbol {
    uint32_t index;
    uint64_t value;
    uint64_t size;
    std::string type;
    std::string binding;
    std::string section;  // "UND", "ABS", "COM" or a decimal index
    std::string name;     // the section's name for SECTION symbols
};

struct ReadelfRelocation {
    uint64_t offset;
    uint64_t info;  // symbol << 32 | type
    std::string type;
    std::string symbol_name;  // empty for symbol 0
};

// Lines of `llvm-readelf -S --wide`:
//   [ 4] xdp   PROGBITS  0000000000000000 000090 0000b0 00  AX  0   0  8
// The name is empty for section 0 and the flags column may be empty.
inline std::vector<ReadelfSection> parse_readelf_sections(const std::string& text) {
    std::vector<ReadelfSection> sections;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const size_t open = line.find('[');
        const size_t close = line.find(']');
        if (open == std::string::npos || close == std::string::npos || close < open) continue;
        const std::string index_text = line.substr(open + 1, close - open - 1);
        if (index_text.find_first_not_of(" 0123456789") != std::string::npos) continue;  // the "[Nr]" header
        std::vector<std::string> words = split_words(line.substr(close + 1));
        auto address = std::find_if(words.begin(), words.end(), [](const std::string& w) {
            return w.size() == 16 && w.find_first_not_of("0123456789abcdef") == std::string::npos;
        });
        const size_t before = static_cast<size_t>(address - words.begin());
        const size_t after = words.size() - before - 1;
        if (address == words.end() || before < 1 || before > 2 || after < 6) continue;
        ReadelfSection section;
        section.index = static_cast<uint32_t>(std::stoul(index_text));
        section.name = before == 2 ? words[0] : "";
        section.type = words[before - 1];
        section.offset = parse_hex(words[before + 1]);
        section.size = parse_hex(words[before + 2]);
        section.entry_size = parse_hex(words[before + 3]);
        section.alignment = std::stoull(words[words.size() - 1]);
        section.info = static_cast<uint32_t>(std::stoul(words[words.size() - 2]));
        section.link = static_cast<uint32_t>(std::stoul(words[words.size() - 3]));
        sections.push_back(section);
    }
    return sections;
}

// Lines of `llvm-readelf -s --wide`:
//   14: 0000000000000000   176 FUNC    GLOBAL DEFAULT     4 xdp_count
inline std::vector<ReadelfSymbol> parse_readelf_symbols(const std::string& text) {
    std::vector<ReadelfSymbol> symbols;
    std::istringstream in(text);
    bool in_symbol_table = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Symbol table")) {
            in_symbol_table = true;
            continue;
        }
        if (!in_symbol_table) continue;
        std::vector<std::string> words = split_words(line);
        if (words.size() < 7 || words[0].size() < 2 || words[0].back() != ':') continue;
        if (words[0].find_first_not_of("0123456789:") != std::string::npos) continue;  // the "Num:" header
        ReadelfSymbol symbol;
        symbol.index = static_cast<uint32_t>(std::stoul(words[0].substr(0, words[0].size() - 1)));
        symbol.value = parse_hex(words[1]);
        symbol.size = std::strtoull(words[2].c_str(), nullptr, 0);  // decimal, or 0x... when large
        symbol.type = words[3];
        symbol.binding = words[4];
        symbol.section = words[6];
        symbol.name = words.size() > 7 ? words[7] : "";
        symbols.push_back(symbol);
    }
    return symbols;
}

// `llvm-readelf -r --wide`, keyed by relocation section name:
//   Relocation section '.relxdp' at offset 0x13e8 contains 2 entries:
//   0000000000000010  0000000f00000001 R_BPF_64_64  0000000000000000 total_packets
inline std::map<std::string, std::vector<ReadelfRelocation>> parse_readelf_relocations(
    const std::string& text) {
    std::map<std::string, std::vector<ReadelfRelocation>> tables;
    std::istringstream in(text);
    std::vector<ReadelfRelocation>* current = nullptr;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Relocation section '")) {
            const size_t begin = line.find('\'') + 1;
            current = &tables[line.substr(begin, line.find('\'', begin) - begin)];
            continue;
        }
        std::vector<std::string> words = split_words(line);
        if (current == nullptr || words.size() < 3 || words[0].size() != 16 || words[1].size() != 16)
            continue;
        if (words[0].find_first_not_of("0123456789abcdef") != std::string::npos) continue;
        ReadelfRelocation relocation;
        relocation.offset = parse_hex(words[0]);
        relocation.info = parse_hex(words[1]);
        relocation.type = words[2];
        relocation.symbol_name = words.size() > 4 ? words[4] : "";
        current->push_back(relocation);
    }
    return tables;
}

}  // namespace bpfvm::loader::test
