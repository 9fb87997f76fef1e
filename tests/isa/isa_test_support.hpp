// Helpers shared by the isa tests: raw instruction builders, conformance data files and running
// external tools (llvm-mc, llvm-objdump) as oracles.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/opcode_table.hpp"

namespace bpfvm::isa {

// Lets GoogleTest print slots in failure messages.
inline void PrintTo(const RawInstruction& raw, std::ostream* os) {
    char text[64];
    std::snprintf(text, sizeof text, "{op 0x%02x dst %u src %u off %d imm %d}", raw.opcode, raw.dst(),
                  raw.src(), raw.offset, raw.imm);
    *os << text;
}

}  // namespace bpfvm::isa

namespace bpfvm::isa::test {

inline RawInstruction raw(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t offset = 0,
                          int32_t imm = 0) {
    return RawInstruction{opcode, RawInstruction::pack_regs(dst, src), offset, imm};
}

// Values put in the fields a form uses as operands.
struct FieldValues {
    uint8_t dst = 1;
    uint8_t src = 2;
    int16_t offset = 3;
    int32_t imm = 5;
    int32_t imm_hi = 0x12;  // second slot of lddw
};

// One instruction of `form`: operand fields hold `values`, the selector field its row's value,
// every other field zero; lddw is followed by its second slot.
inline std::vector<RawInstruction> canonical_slots(const OpcodeForm& form, const FieldValues& values = {}) {
    uint8_t dst = (form.operands & kDst) ? values.dst : 0;
    uint8_t src = (form.operands & kSrc) ? values.src : 0;
    int16_t offset = (form.operands & kOffset) ? values.offset : 0;
    int32_t imm = (form.operands & kImm) ? values.imm : 0;
    if (form.selector == kDst) dst = static_cast<uint8_t>(form.selector_value);
    if (form.selector == kSrc) src = static_cast<uint8_t>(form.selector_value);
    if (form.selector == kOffset) offset = static_cast<int16_t>(form.selector_value);
    if (form.selector == kImm) imm = form.selector_value;
    std::vector<RawInstruction> slots{raw(form.opcode, dst, src, offset, imm)};
    if (form.kind == Kind::LoadImm64) slots.push_back(raw(0, 0, 0, 0, values.imm_hi));
    return slots;
}

inline std::string describe(const OpcodeForm& form) {
    char text[32];
    std::snprintf(text, sizeof text, "opcode 0x%02x ", form.opcode);
    return text + std::string(form.mnemonic);
}

// `0x07 0x01 0x00 ...`: how llvm-mc --disassemble reads bytes.
inline std::string mc_hex_line(const std::vector<RawInstruction>& slots, const char* separator = " ") {
    std::string line;
    for (uint8_t byte : bytes_from_slots(slots)) {
        char text[8];
        std::snprintf(text, sizeof text, "0x%02x", byte);
        if (!line.empty()) line += separator;
        line += text;
    }
    return line;
}

inline std::string read_text_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline void write_text_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// The `-- asm` section of a conformance data file. Only the format's own section names end it;
// any other `-- ...` line stays in the text, so the assembler reports it as an unknown directive.
inline std::string asm_section(const std::string& file_text) {
    static const char* const kSections[] = {
        "asm", "mem", "result", "error", "raw", "c", "no register offset"};
    std::string text;
    bool in_asm = false;
    for (const std::string& line : split_lines(file_text)) {
        if (line.starts_with("-- ")) {
            const std::string name = line.substr(3);
            if (std::any_of(std::begin(kSections), std::end(kSections),
                            [&](const char* s) { return name == s; })) {
                in_asm = name == "asm";
                continue;
            }
        }
        if (in_asm) text += line + "\n";
    }
    return text;
}

// The `-- raw` section of a negative data file: hex bytes.
inline std::vector<uint8_t> raw_section_bytes(const std::string& file_text) {
    std::vector<uint8_t> bytes;
    bool in_raw = false;
    for (const std::string& line : split_lines(file_text)) {
        if (line.starts_with("--")) {
            in_raw = line == "-- raw";
            continue;
        }
        if (!in_raw) continue;
        std::istringstream words(line);
        for (std::string word; words >> word;)
            bytes.push_back(static_cast<uint8_t>(std::stoul(word, nullptr, 16)));
    }
    return bytes;
}

// Data files under a folder of the shared conformance suite, sorted by name.
inline std::vector<std::filesystem::path> conformance_files(const std::string& folder,
                                                            const std::string& prefix = "") {
    std::vector<std::filesystem::path> files;
    const std::filesystem::path dir = std::filesystem::path(BPFVM_SHARED_DIR) / "conformance" / folder;
    if (!std::filesystem::is_directory(dir)) return files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".data" && name.starts_with(prefix)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

struct CommandResult {
    int status = -1;
    std::string output;  // stdout
};

inline CommandResult run_command(const std::string& command) {
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
    result.status = pclose(pipe);
    return result;
}

// A fresh directory for one test's files.
inline std::filesystem::path scratch_directory(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("bpfvm_isa_" + name + "_" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace bpfvm::isa::test
