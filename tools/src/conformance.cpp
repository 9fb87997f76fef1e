#include "bpfvm/tools/conformance.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/vm/helpers.hpp"

namespace bpfvm::tools {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) words.push_back(text.substr(start, i - start));
    }
    return words;
}

std::string_view strip(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

Error case_error(const std::string& name, uint32_t line, std::string message) {
    Location where;
    where.file = name;
    where.line = line;
    return make_error(ErrorKind::InvalidInput, std::move(message), std::move(where));
}

std::optional<uint64_t> parse_u64(std::string_view text) {
    text = strip(text);
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

// `-- raw` holds either 64-bit little-endian words ("0x5566778800000018") or bytes ("07 00 ...").
Result<std::vector<uint8_t>> parse_raw(std::string_view text, const std::string& name, uint32_t line) {
    std::vector<uint8_t> bytes;
    for (auto word : split_words(text)) {
        if (word.starts_with("0x") && word.size() > 4) {
            auto v = parse_u64(word);
            if (!v)
                return case_error(name, line, "bad instruction word '" + std::string(word) + "' in -- raw");
            for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(*v >> (8 * i)));
        } else {
            auto b = parse_hex_bytes(word);
            if (!b) return case_error(name, line, "bad byte '" + std::string(word) + "' in -- raw");
            bytes.insert(bytes.end(), b->begin(), b->end());
        }
    }
    return bytes;
}

}  // namespace

Result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text) {
    std::vector<uint8_t> bytes;
    for (auto word : split_words(text)) {
        if (word.starts_with("0x") || word.starts_with("0X")) word.remove_prefix(2);
        // A word is one byte ("0a", "a") or a run of whole bytes ("0a0b0c").
        const size_t width = word.size() <= 2 ? word.size() : 2;
        if (word.empty() || (word.size() > 2 && word.size() % 2 != 0)) {
            return make_error(ErrorKind::InvalidInput, "'" + std::string(word) + "' is not hex bytes");
        }
        for (size_t at = 0; at < word.size(); at += width) {
            unsigned v = 0;
            const char* first = word.data() + at;
            auto [end, ec] = std::from_chars(first, first + width, v, 16);
            if (ec != std::errc() || end != first + width) {
                return make_error(ErrorKind::InvalidInput, "'" + std::string(word) + "' is not hex bytes");
            }
            bytes.push_back(static_cast<uint8_t>(v));
        }
    }
    return bytes;
}

Result<ConformanceCase> parse_conformance_case(std::string_view text, std::string name) {
    ConformanceCase c;
    c.name = std::move(name);
    std::string section;
    uint32_t section_line = 0;
    std::string body;

    auto finish_section = [&]() -> Status {
        if (section.empty()) {
            if (!strip(body).empty())
                return case_error(c.name, section_line, "text before the first '-- ' section");
        } else if (section == "asm") {
            c.assembly = body;
            c.assembly_first_line = section_line + 1;
        } else if (section == "raw") {
            auto raw = parse_raw(body, c.name, section_line);
            if (!raw) return raw.error();
            c.raw = std::move(*raw);
        } else if (section == "mem") {
            auto mem = parse_hex_bytes(body);
            if (!mem) return case_error(c.name, section_line, "-- mem: " + mem.error().message);
            c.memory = std::move(*mem);
        } else if (section == "result") {
            auto v = parse_u64(body);
            if (!v)
                return case_error(c.name, section_line,
                                  "-- result is not a number: '" + std::string(strip(body)) + "'");
            c.result = *v;
        } else if (section == "error") {
            c.error = std::string(strip(body));
        } else if (section != "c" && section != "no register offset") {
            return case_error(c.name, section_line, "unknown section '-- " + section + "'");
        }
        return Ok{};
    };

    uint32_t line_number = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_number;
        if (line.starts_with("-- ")) {
            if (auto s = finish_section(); !s) return s.error();
            section = std::string(strip(line.substr(3)));
            section_line = line_number;
            body.clear();
            continue;
        }
        // Comments are dropped except in the program text, where the assembler handles them
        // and keeping the line keeps error line numbers right.
        if (line.starts_with("#") && section != "asm") {
            body += '\n';
            continue;
        }
        body += line;
        body += '\n';
        if (eol == text.size()) break;
    }
    if (auto s = finish_section(); !s) return s.error();
    return c;
}

Result<ConformanceCase> read_conformance_case(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_conformance_case(ss.str(), path.string());
}

Result<std::vector<uint8_t>> program_bytes(const ConformanceCase& c) {
    std::optional<std::vector<uint8_t>> from_assembly;
    if (c.assembly) {
        auto slots = isa::assemble(*c.assembly);
        if (!slots) {
            Error e = slots.error();
            e.where.file = c.name;
            if (e.where.line) *e.where.line += c.assembly_first_line - 1;
            return e;
        }
        from_assembly = isa::bytes_from_slots(*slots);
    }
    if (from_assembly && c.raw && *from_assembly != *c.raw) {
        return case_error(c.name, c.assembly_first_line,
                          "the -- asm and -- raw sections encode different programs");
    }
    if (from_assembly) return std::move(*from_assembly);
    if (c.raw) return *c.raw;
    return std::vector<uint8_t>{};
}

Result<vm::RunResult> run_on_memory(vm::Engine& engine, const isa::Program& program,
                                    std::vector<uint8_t> memory, uint64_t instruction_budget) {
    static const vm::HelperTable helpers = vm::conformance_helpers();
    vm::RunInput input;
    input.helpers = &helpers;
    input.instruction_budget = instruction_budget;
    if (!memory.empty()) {
        input.memory.add(memory.data(), memory.size(), true, "input");
        input.args[0] = reinterpret_cast<uint64_t>(memory.data());
        input.args[1] = memory.size();
    }
    return engine.run(program, input);
}

Result<vm::RunResult> decode_and_run(vm::Engine& engine, std::span<const uint8_t> program,
                                     std::vector<uint8_t> memory, uint64_t instruction_budget) {
    auto decoded = isa::decode_program(program);
    if (!decoded) return decoded.error();
    return run_on_memory(engine, *decoded, std::move(memory), instruction_budget);
}

CaseOutcome run_conformance_case(const ConformanceCase& c, vm::Engine& engine) {
    auto bytes = program_bytes(c);
    if (!bytes) return {c.error.has_value(), false, "rejected: " + bytes.error().to_string()};
    auto program = isa::decode_program(*bytes);
    if (!program) return {c.error.has_value(), false, "rejected: " + program.error().to_string()};
    auto result = run_on_memory(engine, *program, c.memory, vm::kDefaultInstructionBudget);
    if (!result) return {c.error.has_value(), false, "faulted: " + result.error().to_string()};

    if (c.error) return {false, false, "returned " + to_hex(result->r0) + " where an error was expected"};
    if (!c.result)
        return {false, false, "returned " + to_hex(result->r0) + ", but the case has no -- result"};
    if (result->r0 != *c.result) {
        return {false, false, "returned " + to_hex(result->r0) + ", expected " + to_hex(*c.result)};
    }
    return {true, true, ""};
}

}  // namespace bpfvm::tools
