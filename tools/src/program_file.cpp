#include "bpfvm/tools/program_file.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <span>
#include <string>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/jit/jit.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::tools {

namespace {

bool starts_with_elf_magic(std::span<const uint8_t> bytes) {
    static constexpr uint8_t kElfMagic[] = {0x7f, 'E', 'L', 'F'};
    return bytes.size() >= 4 && std::equal(std::begin(kElfMagic), std::end(kElfMagic), bytes.begin());
}

}  // namespace

Result<bool> is_elf_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
    uint8_t head[4] = {0, 0, 0, 0};
    in.read(reinterpret_cast<char*>(head), sizeof head);
    return starts_with_elf_magic(std::span<const uint8_t>(head, static_cast<size_t>(in.gcount())));
}

Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<ProgramFile> load_program_file(const std::filesystem::path& path) {
    auto ext = path.extension().string();
    if (ext == ".data") {
        auto c = read_conformance_case(path);
        if (!c) return c.error();
        auto bytes = program_bytes(*c);
        if (!bytes) return bytes.error();
        return ProgramFile{std::move(*bytes), std::move(c->memory)};
    }
    auto contents = read_file_bytes(path);
    if (!contents) return contents.error();
    if (ext == ".asm" || ext == ".s") {
        auto slots = isa::assemble(
            std::string_view(reinterpret_cast<const char*>(contents->data()), contents->size()));
        if (!slots) {
            Error e = slots.error();
            e.where.file = path.string();
            return e;
        }
        return ProgramFile{isa::bytes_from_slots(*slots), std::nullopt};
    }
    if (starts_with_elf_magic(*contents)) {
        Location where;
        where.file = path.string();
        return make_error(ErrorKind::Unsupported,
                          "this is an ELF object, which `bpfvm run`, `info` and `disasm` read; this command "
                          "takes raw bytecode (.bin), assembly (.asm) or a conformance case (.data)",
                          std::move(where));
    }
    return ProgramFile{std::move(*contents), std::nullopt};
}

Result<DecodedProgramFile> load_and_decode(const std::filesystem::path& path) {
    auto file = load_program_file(path);
    if (!file) return file.error();
    auto program = isa::decode_program(file->bytes);
    if (!program) {
        Error e = program.error();
        e.where.file = path.string();
        return e;
    }
    return DecodedProgramFile{std::move(*file), std::move(*program)};
}

std::string engine_stats(const vm::Engine& engine, uint64_t counted, bool exact) {
    std::string text = "engine: " + std::string(engine.name()) + "\n";
    text += exact ? "instructions executed: " + std::to_string(counted) + "\n"
                  : "back edges and calls: " + std::to_string(counted) +
                        " (the JIT counts no single instructions)\n";
    if (const auto* jit = dynamic_cast<const jit::JitEngine*>(&engine)) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(jit->compile_time()).count();
        text += "jit compile time: " + std::to_string(us) + " us (" + std::to_string(jit->compilations()) +
                (jit->compilations() == 1 ? " compilation" : " compilations") + ")\n";
    }
    return text;
}

Result<std::unique_ptr<vm::Engine>> make_engine(const EngineChoice& choice) {
    const std::string_view name = choice.name;
    // "auto": the JIT where this host has a backend, else the interpreter.
    if (name == "jit" || (name == "auto" && jit::host_supported())) {
        if (!jit::host_supported())
            return make_error(ErrorKind::Unsupported,
                              "bpfvm has no JIT backend for this host's architecture");
        return std::unique_ptr<vm::Engine>(
            new jit::JitEngine(jit::JitOptions{choice.checks, choice.blind_constants}));
    }
    if (name == "interpreter" && choice.blind_constants)
        return make_error(
            ErrorKind::InvalidInput,
            "--blind-constants applies to the JIT's generated code; the interpreter generates none");
    if (name == "interpreter" || name == "auto")
        return std::unique_ptr<vm::Engine>(new vm::Interpreter(choice.checks));
    return make_error(ErrorKind::InvalidInput,
                      "unknown engine '" + std::string(name) + "' (choose interpreter, jit or auto)");
}

}  // namespace bpfvm::tools
