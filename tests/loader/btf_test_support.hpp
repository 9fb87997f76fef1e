// Helpers for the BTF tests: extracting sections from corpus objects with llvm-objcopy and
// building small BTF blobs by hand.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace bpfvm::loader::btf_test {

inline constexpr const char* kObjcopy = "/usr/lib/llvm-19/bin/llvm-objcopy";

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

struct BtfSections {
    std::vector<uint8_t> btf;
    std::vector<uint8_t> btf_ext;
};

// The .BTF and .BTF.ext sections of an object, or nullopt if llvm-objcopy failed.
inline std::optional<BtfSections> extract_btf_sections(const std::filesystem::path& object) {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("bpfvm_btf_test_" + std::to_string(getpid()) + "_" + object.stem().string());
    std::filesystem::create_directories(dir);
    std::string command = std::string(kObjcopy) + " --dump-section .BTF=" + (dir / "btf").string() +
                          " --dump-section .BTF.ext=" + (dir / "btf_ext").string() + " " + object.string() +
                          " /dev/null 2>/dev/null";
    std::optional<BtfSections> sections;
    if (std::system(command.c_str()) == 0) {
        sections = BtfSections{read_bytes(dir / "btf"), read_bytes(dir / "btf_ext")};
    }
    std::filesystem::remove_all(dir);
    return sections;
}

// Compiled corpus objects, sorted by name.
inline std::vector<std::filesystem::path> corpus_objects() {
    std::vector<std::filesystem::path> objects;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(BPFVM_CORPUS_DIR, error)) {
        if (entry.path().string().ends_with(".bpf.o")) objects.push_back(entry.path());
    }
    std::sort(objects.begin(), objects.end());
    return objects;
}

// The C source of a corpus object (corpus/c/NAME.bpf.c or corpus/c/v4/NAME.bpf.c).
inline std::optional<std::filesystem::path> corpus_source(const std::filesystem::path& object) {
    std::string name = object.filename().string();
    name = name.substr(0, name.size() - 2) + ".c";  // NAME.bpf.o -> NAME.bpf.c
    for (const char* folder : {"corpus/c/", "corpus/c/v4/"}) {
        std::filesystem::path source = std::filesystem::path(BPFVM_SOURCE_DIR) / folder / name;
        if (std::filesystem::exists(source)) return source;
    }
    return std::nullopt;
}

// Builds a raw BTF blob: header, then the type words, then the strings.
class BtfBuilder {
 public:
    uint32_t add_string(const std::string& text) {
        uint32_t offset = static_cast<uint32_t>(strings_.size());
        strings_ += text;
        strings_ += '\0';
        return offset;
    }
    // The common 12-byte type header; trailing words go through `word`.
    BtfBuilder& type(uint32_t name_off, uint32_t kind, uint32_t vlen, uint32_t size_or_type,
                     bool kind_flag = false) {
        word(name_off);
        word((kind_flag ? 1u << 31 : 0u) | kind << 24 | vlen);
        word(size_or_type);
        return *this;
    }
    BtfBuilder& word(uint32_t value) {
        types_.push_back(value);
        return *this;
    }

    std::vector<uint8_t> build() const {
        uint32_t type_len = static_cast<uint32_t>(types_.size() * 4);
        std::vector<uint32_t> header = {0x0001eB9F, 24,       0,
                                        type_len,   type_len, static_cast<uint32_t>(strings_.size())};
        std::vector<uint8_t> out;
        auto put = [&](uint32_t value) {
            for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
        };
        for (uint32_t value : header) put(value);
        for (uint32_t value : types_) put(value);
        out.insert(out.end(), strings_.begin(), strings_.end());
        return out;
    }

 private:
    std::vector<uint32_t> types_;
    std::string strings_ = std::string(1, '\0');
};

}  // namespace bpfvm::loader::btf_test
