#include "bpfvm/tools/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "bpfvm/tools/program_file.hpp"
#include "command_support.hpp"
#include "object_commands.hpp"
#include "object_run.hpp"
#include "trusted_run.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;

Result<std::vector<fs::path>> collect_cases(const std::vector<std::string>& paths) {
    std::vector<fs::path> files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> found;
            for (const auto& entry : fs::directory_iterator(p, ec)) {
                if (entry.path().extension() == ".data") found.push_back(entry.path());
            }
            if (ec) return make_error(ErrorKind::Io, "cannot list " + p + ": " + ec.message());
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::exists(p, ec)) {
            files.emplace_back(p);
        } else {
            return make_error(ErrorKind::Io, "no such file or folder: " + p);
        }
    }
    return files;
}

}  // namespace

int conformance_command(const ConformanceOptions& options, std::ostream& out, std::ostream& err) {
    auto engine = make_engine({options.engine});
    if (!engine) {
        print_error(err, engine.error());
        return kExitUsage;
    }
    auto files = collect_cases(options.paths);
    if (!files) {
        print_error(err, files.error());
        return kExitUsage;
    }
    int passed = 0, failed = 0;
    for (const auto& file : *files) {
        auto c = read_conformance_case(file);
        CaseOutcome outcome = c ? run_conformance_case(*c, **engine)
                                : CaseOutcome{false, false, "rejected: " + c.error().to_string()};
        std::string name = file.filename().string();
        if (options.expect_reject) {
            // A negative case passes when it is rejected, faults or returns a value other than its
            // own -- result (the bpf_conformance README: every negative case ends not passing).
            if (outcome.returned_expected) {
                ++failed;
                out << "FAIL " << name << ": accepted, but a negative case must not pass\n";
            } else {
                ++passed;
                out << "PASS " << name << ": " << outcome.reason << "\n";
            }
        } else if (outcome.passed) {
            ++passed;
            if (options.verbose) out << "PASS " << name << "\n";
        } else {
            ++failed;
            out << "FAIL " << name << ": " << outcome.reason << "\n";
        }
    }
    out << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? kExitOk : kExitFailed;
}

int conformance_plugin_command(const PluginOptions& options, std::istream& in, std::ostream& out) {
    auto memory = parse_hex_bytes(options.memory_hex);
    std::string program_hex((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto program = parse_hex_bytes(program_hex);
    auto engine = make_engine({options.engine});
    const Error* problem = !memory    ? &memory.error()
                           : !program ? &program.error()
                           : !engine  ? &engine.error()
                                      : nullptr;
    if (problem) {
        out << problem->to_string() << "\n";
        return kExitFailed;
    }
    auto result = decode_and_run(**engine, *program, std::move(*memory), vm::kDefaultInstructionBudget);
    if (!result) {
        out << result.error().to_string() << "\n";
        return kExitFailed;
    }
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(result->r0));
    out << buf << "\n";
    return kExitOk;
}

int run_command(const RunOptions& options, std::ostream& out, std::ostream& err) {
    if (auto is_object = is_elf_file(options.file); is_object && *is_object)
        return run_object(options, out, err);
    auto loaded = load_and_decode(options.file);
    if (!loaded) {
        print_error(err, loaded.error());
        return kExitUsage;
    }
    std::vector<uint8_t> memory = loaded->file.memory.value_or(std::vector<uint8_t>{});
    if (!options.memory_hex.empty()) {
        auto m = parse_hex_bytes(options.memory_hex);
        if (!m) {
            print_error(err, make_error(ErrorKind::InvalidInput, "--mem: " + m.error().message));
            return kExitUsage;
        }
        memory = std::move(*m);
    } else if (!options.memory_file.empty()) {
        auto m = read_file_bytes(options.memory_file);
        if (!m) {
            print_error(err, m.error());
            return kExitUsage;
        }
        memory = std::move(*m);
    }
    if (options.trust_verified) {
        if (auto verified = verify_for_trusted_run(loaded->program, isa::ProgramType::Bytes); !verified) {
            Error e = verified.error();
            e.where.file = options.file;
            print_error(err, e);
            return kExitFailed;
        }
    }
    auto engine = make_engine({options.engine,
                               options.trust_verified ? vm::MemoryChecks::Trusted : vm::MemoryChecks::Checked,
                               options.blind_constants});
    if (!engine) {
        print_error(err, engine.error());
        return kExitUsage;
    }
    uint64_t budget = options.budget != 0 ? options.budget : vm::kDefaultInstructionBudget;
    auto result = run_on_memory(**engine, loaded->program, std::move(memory), budget);
    if (!result) {
        Error e = result.error();
        e.where.file = options.file;
        print_error(err, e);
        return kExitFailed;
    }
    out << "r0 = " << to_hex(result->r0) << " (" << static_cast<int64_t>(result->r0) << ")\n";
    if (options.stats) {
        out << engine_stats(**engine, result->instructions, result->instructions_exact);
    }
    return kExitOk;
}

int disasm_command(const DisasmOptions& options, std::ostream& out, std::ostream& err) {
    isa::DisasmOptions style;
    if (options.syntax == "llvm") {
        style.syntax = isa::Syntax::Llvm;
    } else if (options.syntax == "conformance") {
        style.syntax = isa::Syntax::Conformance;
    } else {
        print_error(err, make_error(ErrorKind::InvalidInput,
                                    "unknown syntax '" + options.syntax + "' (choose llvm or conformance)"));
        return kExitUsage;
    }
    style.hex = options.hex;
    if (auto is_object = is_elf_file(options.file); is_object && *is_object) {
        return disasm_object(options, style, out, err);
    }
    if (options.source || !options.section.empty() || !options.function.empty()) {
        print_error(err, make_error(ErrorKind::InvalidInput,
                                    "--source, --section and --function apply to ELF objects only"));
        return kExitUsage;
    }
    auto loaded = load_and_decode(options.file);
    if (!loaded) {
        print_error(err, loaded.error());
        return kExitUsage;
    }
    out << isa::listing(loaded->program, style);
    return kExitOk;
}

int asm_command(const AsmOptions& options, std::ostream& out, std::ostream& err) {
    // Decoding first means only programs every engine accepts are written.
    auto loaded = load_and_decode(options.file);
    if (!loaded) {
        print_error(err, loaded.error());
        return kExitUsage;
    }
    const auto& bytes = loaded->file.bytes;
    std::ofstream file(options.output, std::ios::binary);
    file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!file.flush()) {
        print_error(err, make_error(ErrorKind::Io, "cannot write " + options.output));
        return kExitUsage;
    }
    out << "wrote " << bytes.size() / 8 << " instruction slots to " << options.output << "\n";
    return kExitOk;
}

}  // namespace bpfvm::tools
