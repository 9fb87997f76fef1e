// `bpfvm verify FILE...`: the programs of ELF objects (and raw program files) through the
// verifier, with the verdicts as text that reads like a compiler's errors, as one JSON document,
// or as a SARIF log for code scanning.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/tools/commands.hpp"
#include "bpfvm/tools/program_file.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "command_support.hpp"
#include "object_commands.hpp"
#include "object_conversion.hpp"
#include "sarif.hpp"
#include "verify_report.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

enum class Format { Text, Json, Sarif };

std::optional<Format> format_from_name(const std::string& name) {
    if (name == "text") return Format::Text;
    if (name == "json") return Format::Json;
    if (name == "sarif") return Format::Sarif;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Maps as the verifier sees them
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Verifying one program
// ---------------------------------------------------------------------------------------------

// What is known of a program's instructions: their text and, for objects, their function and
// C source line.
struct ProgramView {
    const isa::Program& code;
    isa::DisasmOptions style;
    const std::vector<std::string>* function_of = nullptr;
    const std::vector<std::optional<loader::SourceLocation>>* source = nullptr;

    InstructionRef describe(uint32_t i) const {
        InstructionRef ref;
        ref.instruction = i;
        if (i >= code.size()) {
            ref.slot = code.slot_count();
            return ref;
        }
        ref.slot = code.slot[i];
        ref.text = isa::disassemble(code.instructions[i], style);
        if (function_of != nullptr && i < function_of->size()) ref.function = (*function_of)[i];
        if (source != nullptr && i < source->size()) ref.source = (*source)[i];
        return ref;
    }
};

struct Run {
    const VerifyOptions& options;
    Format format;
    std::ostream& out;
    std::ostream& err;
    // Where -v writes: with the report on stdout for text, beside the document otherwise.
    std::ostream& trace_out() const { return format == Format::Text ? out : err; }
};

DiagnosticReport report_diagnostic(const verifier::Diagnostic& diagnostic, const ProgramView& view) {
    DiagnosticReport report;
    report.rule = diagnostic.rule;
    report.rule_id = std::string(verifier::rule_id(diagnostic.rule));
    report.message = diagnostic.message;
    report.at = view.describe(diagnostic.instruction);
    report.registers = diagnostic.registers;
    for (const verifier::PathStep& step : diagnostic.path)
        report.path.push_back(PathStepReport{view.describe(step.instruction), step.taken});
    for (uint32_t call : diagnostic.call_stack) report.call_stack.push_back(view.describe(call));
    return report;
}

std::string dot_file_name(const ProgramReport& program, const std::string& path) {
    if (program.section.empty() && program.function.empty()) return fs::path(path).stem().string() + ".dot";
    std::string name = program.section;
    for (char& c : name) {
        if (c == '/') c = '_';
    }
    return name + "_" + program.function + ".dot";
}

// Verifies one program; false when its --dot file could not be written.
bool verify_program(const Run& run, const ProgramView& view, isa::ProgramType type,
                    std::span<const verifier::MapInfo> maps, verifier::VerifyOptions options,
                    ProgramReport& report, const std::string& path) {
    report.type = std::string(isa::program_type_name(type));
    report.instructions = view.code.slot_count();
    if (run.options.verbose) {
        std::ostream& trace = run.trace_out();
        trace << "; " << path << (report.name().empty() ? "" : ": " + report.name()) << "\n";
        options.trace = [&trace, &view](uint32_t instruction, const std::string& state) {
            InstructionRef at = view.describe(instruction);
            trace << at.slot << ": " << state << "\n" << at.slot << ": " << at.text << "\n";
        };
    }
    options.record_block_states = !run.options.dot_dir.empty();

    verifier::VerifyResult result;
    const auto start = std::chrono::steady_clock::now();
    try {
        result = verifier::verify(view.code, type, maps, options);
    } catch (const std::exception& e) {
        DiagnosticReport failure;
        failure.rule_id = "internal-error";
        failure.message = std::string("the verifier failed: ") + e.what();
        report.diagnostics.push_back(std::move(failure));
        return true;
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.accepted = result.accepted;
    report.stats = result.stats;
    for (const verifier::Diagnostic& diagnostic : result.diagnostics)
        report.diagnostics.push_back(report_diagnostic(diagnostic, view));
    if (!result.accepted && report.diagnostics.empty()) {
        DiagnosticReport unexplained;
        unexplained.rule_id = "internal-error";
        unexplained.message = "the verifier rejected the program without saying why";
        report.diagnostics.push_back(std::move(unexplained));
    }

    if (!run.options.dot_dir.empty() && !result.dot.empty()) {
        std::error_code ec;
        fs::create_directories(run.options.dot_dir, ec);
        const fs::path file = fs::path(run.options.dot_dir) / dot_file_name(report, path);
        std::ofstream dot(file);
        dot << result.dot;
        if (!dot || ec) {
            print_error(run.err, make_error(ErrorKind::Io, "cannot write " + file.string()));
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

std::string trim_left(const std::string& text) {
    size_t start = text.find_first_not_of(" \t");
    return start == std::string::npos ? std::string() : text.substr(start);
}

std::string instruction_label(const InstructionRef& at) {
    std::string label = "insn " + std::to_string(at.instruction);
    if (at.slot != at.instruction) label += " (slot " + std::to_string(at.slot) + ")";
    return label;
}

// "file.c:12: text" (the file only when it differs from the rejection's).
std::string source_note(const InstructionRef& at, const std::string& main_file) {
    if (!at.source || at.source->line == 0) return "";
    std::string note = at.source->file == main_file ? "line " : at.source->file + ":";
    return note + std::to_string(at.source->line) + ": " + trim_left(at.source->text);
}

void print_padded(std::ostream& out, const std::string& text, size_t width) {
    out << text;
    for (size_t i = text.size(); i < width; ++i) out << ' ';
}

constexpr size_t kTextPathSteps = 16;

void print_diagnostic_text(std::ostream& out, const ProgramReport& program, const DiagnosticReport& d) {
    out << "  error[" << d.rule_id << "]: " << d.message << "\n";
    if (!d.rule) return;
    const InstructionRef& at = d.at;
    const std::string main_file = at.source ? at.source->file : "";
    std::string gutter = "     ";
    if (at.source && at.source->line != 0) {
        const std::string line = std::to_string(at.source->line);
        gutter = std::string(line.size() + 3, ' ');
        out << gutter.substr(1) << "--> " << at.source->file << ":" << at.source->line;
        if (at.source->column != 0) out << ":" << at.source->column;
        out << "\n" << gutter << "|\n";
        out << "  " << line << " | " << at.source->text << "\n";
        if (at.source->column != 0 && at.source->column <= at.source->text.size() + 1) {
            std::string caret;
            for (size_t i = 0; i + 1 < at.source->column; ++i)
                caret += at.source->text[i] == '\t' ? '\t' : ' ';
            out << gutter << "| " << caret << "^\n";
        }
    }
    out << gutter << "= " << instruction_label(at);
    const std::string function = at.function.empty() ? program.function : at.function;
    if (!function.empty()) out << " in " << function;
    out << ": " << at.text << "\n";
    for (const verifier::RegisterState& reg : d.registers)
        out << gutter << "= " << register_name(reg.reg) << " = " << reg.value << "\n";
    if (!d.call_stack.empty()) {
        out << gutter << "= call stack, outermost first:\n";
        for (const InstructionRef& call : d.call_stack) {
            out << gutter << "    " << (call.function.empty() ? "" : call.function + ", ")
                << instruction_label(call) << ": " << call.text;
            if (std::string note = source_note(call, main_file); !note.empty()) out << "    (" << note << ")";
            out << "\n";
        }
    }
    if (d.path.empty()) {
        out << gutter << "= path: no branch decides it (every path from the entry gets here)\n";
        return;
    }
    out << gutter << "= path: " << d.path.size() << " branch decision" << (d.path.size() == 1 ? "" : "s")
        << " from the entry" << (d.path.size() >= verifier::kMaxPathSteps ? " (the last ones)" : "") << ":\n";
    size_t first = 0;
    if (d.path.size() > kTextPathSteps) {
        first = d.path.size() - kTextPathSteps;
        out << gutter << "    ... " << first << " earlier (--format json lists them all)\n";
    }
    for (size_t i = first; i < d.path.size(); ++i) {
        const PathStepReport& step = d.path[i];
        std::string head = instruction_label(step.jump) + ": " + (step.taken ? "taken" : "not taken");
        out << gutter << "    ";
        std::string note = source_note(step.jump, main_file);
        if (note.empty()) {
            out << head << "  (" << step.jump.text << ")\n";
        } else {
            print_padded(out, head, 28);
            out << "  " << note << "\n";
        }
    }
}

std::string human_bytes(uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " bytes";
    char buf[32];
    if (bytes < 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
    }
    return buf;
}

uint64_t instructions_per_second(const ProgramReport& program) {
    if (program.seconds <= 0) return 0;
    return static_cast<uint64_t>(static_cast<double>(program.stats.processed_instructions) / program.seconds);
}

void print_stats_text(std::ostream& out, const ProgramReport& program) {
    const verifier::Statistics& s = program.stats;
    char time[32];
    std::snprintf(time, sizeof time, "%.3f ms", program.seconds * 1000);
    out << "  instructions processed: " << s.processed_instructions << " in " << time << " ("
        << instructions_per_second(program) << " per second)\n";
    out << "  states stored: " << s.states_stored << " (at most " << s.max_states_per_instruction
        << " at one instruction)\n";
    out << "  paths pruned: " << s.paths_pruned << "\n";
    out << "  peak state memory: " << human_bytes(s.peak_state_bytes) << "\n";
    out << "  stack depth: " << s.stack_depth << " bytes\n";
}

// A program the loader could not load: its fault, where it lies in the object, and its function.
void print_load_error_text(std::ostream& out, const std::string& path, const ProgramReport& program) {
    const Error& e = *program.load_error;
    out << path << ": " << program.name() << " (" << program.type << "): not loaded\n";
    out << "  error[" << error_kind_name(e.kind) << "]: " << e.message << "\n";
    if (e.where.instruction || !e.where.section.empty()) {
        out << "     = ";
        if (e.where.instruction)
            out << "slot " << *e.where.instruction << (e.where.section.empty() ? "" : " of ");
        if (!e.where.section.empty()) out << "section " << e.where.section;
        out << "\n";
    }
}

void print_program_text(std::ostream& out, const std::string& path, const ProgramReport& program,
                        bool stats) {
    if (program.load_error) return print_load_error_text(out, path, program);
    out << path << (program.name().empty() ? " " : ": " + program.name() + " ") << "(" << program.type << ", "
        << program.instructions << " instructions): " << (program.accepted ? "accepted" : "rejected") << "\n";
    for (const DiagnosticReport& d : program.diagnostics) print_diagnostic_text(out, program, d);
    if (stats) print_stats_text(out, program);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

json source_json(const std::optional<loader::SourceLocation>& source) {
    if (!source) return nullptr;
    return {
        {"file", source->file}, {"line", source->line}, {"column", source->column}, {"text", source->text}};
}

json instruction_json(const InstructionRef& at) {
    return {{"instruction", at.instruction},
            {"slot", at.slot},
            {"function", at.function.empty() ? json(nullptr) : json(at.function)},
            {"text", at.text},
            {"source", source_json(at.source)}};
}

json diagnostic_json(const DiagnosticReport& d) {
    json out;
    out["rule"] = d.rule_id;
    out["message"] = d.message;
    out["instruction"] = d.at.instruction;
    out["slot"] = d.at.slot;
    out["function"] = d.at.function.empty() ? json(nullptr) : json(d.at.function);
    out["text"] = d.at.text;
    out["source"] = source_json(d.at.source);
    json registers = json::array();
    for (const verifier::RegisterState& reg : d.registers)
        registers.push_back({{"reg", register_name(reg.reg)}, {"value", reg.value}});
    out["registers"] = std::move(registers);
    json path = json::array();
    for (const PathStepReport& step : d.path) {
        path.push_back({{"instruction", step.jump.instruction},
                        {"slot", step.jump.slot},
                        {"taken", step.taken},
                        {"text", step.jump.text},
                        {"source", source_json(step.jump.source)}});
    }
    out["path"] = std::move(path);
    json calls = json::array();
    for (const InstructionRef& call : d.call_stack) calls.push_back(instruction_json(call));
    out["call_stack"] = std::move(calls);
    return out;
}

json program_json(const ProgramReport& program) {
    json out;
    out["section"] = program.section.empty() ? json(nullptr) : json(program.section);
    out["function"] = program.function.empty() ? json(nullptr) : json(program.function);
    out["type"] = program.type;
    out["instructions"] = program.instructions;
    out["verdict"] = program.load_error ? "error" : program.accepted ? "accepted" : "rejected";
    out["error"] = program.load_error ? json(program.load_error->to_string()) : json(nullptr);
    json diagnostics = json::array();
    for (const DiagnosticReport& d : program.diagnostics) diagnostics.push_back(diagnostic_json(d));
    out["diagnostics"] = std::move(diagnostics);
    const verifier::Statistics& s = program.stats;
    out["stats"] = {{"processed_instructions", s.processed_instructions},
                    {"seconds", program.seconds},
                    {"instructions_per_second", instructions_per_second(program)},
                    {"states_stored", s.states_stored},
                    {"paths_pruned", s.paths_pruned},
                    {"max_states_per_instruction", s.max_states_per_instruction},
                    {"peak_state_bytes", s.peak_state_bytes},
                    {"stack_depth", s.stack_depth}};
    return out;
}

json report_json(const std::vector<FileReport>& files) {
    json list = json::array();
    for (const FileReport& file : files) {
        json programs = json::array();
        for (const ProgramReport& program : file.programs) programs.push_back(program_json(program));
        list.push_back({{"path", file.path},
                        {"error", file.error ? json(*file.error) : json(nullptr)},
                        {"programs", std::move(programs)}});
    }
    return {{"files", std::move(list)}};
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

struct FileOutcome {
    FileReport report;
    bool output_failed = false;  // a --dot file could not be written
};

void verify_object(const Run& run, const loader::Object& object, FileOutcome& outcome) {
    const std::vector<verifier::MapInfo> maps = verifier_maps(object);

    size_t selected = 0;
    for (const loader::Program& program : object.programs) {
        if (!run.options.section.empty() && program.section != run.options.section) continue;
        if (!run.options.function.empty() && program.function != run.options.function) continue;
        ++selected;
        ProgramReport report;
        report.section = program.section;
        report.function = program.function;
        if (program.load_error) {
            // Listed with its own error; the object's other programs are still verified.
            report.type = std::string(isa::program_type_name(program.type));
            report.load_error = program.load_error;
            if (report.load_error->where.file.empty()) report.load_error->where.file = outcome.report.path;
            if (run.format == Format::Text) print_program_text(run.out, outcome.report.path, report, false);
            outcome.report.programs.push_back(std::move(report));
            continue;
        }
        ProgramView view{program.code, with_object_names({}, object, program), &program.function_of,
                         &program.source};
        const verifier::VerifyOptions options = verify_options(object, program, run.options.privileged);
        if (!verify_program(run, view, program.type, maps, options, report, outcome.report.path))
            outcome.output_failed = true;
        if (run.format == Format::Text)
            print_program_text(run.out, outcome.report.path, report, run.options.stats);
        outcome.report.programs.push_back(std::move(report));
    }
    if (selected == 0 && !object.programs.empty() &&
        (!run.options.section.empty() || !run.options.function.empty())) {
        std::string wanted = !run.options.function.empty() ? "function '" + run.options.function + "'" : "";
        if (!run.options.section.empty())
            wanted += (wanted.empty() ? "" : " in ") + ("section '" + run.options.section + "'");
        std::string listing;
        for (const loader::Program& p : object.programs) listing += "; " + p.section + "/" + p.function;
        outcome.report.error = "no program matches " + wanted + " (the object has " + listing.substr(2) + ")";
    }
}

FileOutcome verify_file(const Run& run, const std::string& path) {
    FileOutcome outcome;
    outcome.report.path = path;
    auto fail = [&](const Error& e) {
        Error located = e;
        if (located.where.file.empty()) located.where.file = path;
        outcome.report.error = located.to_string();
        if (run.format == Format::Text) print_error(run.err, located);
        return outcome;
    };

    auto is_object = is_elf_file(path);
    if (!is_object) return fail(is_object.error());
    if (*is_object) {
        auto object = open_object(path, run.options.object);
        if (!object) return fail(object.error());
        verify_object(run, *object, outcome);
        if (outcome.report.error && run.format == Format::Text)
            print_error(run.err, make_error(ErrorKind::InvalidInput, *outcome.report.error,
                                            Location{path, {}, {}, {}, {}}));
        return outcome;
    }
    if (fs::path(path).extension() == ".o") {
        return fail(make_error(ErrorKind::InvalidInput, "not an ELF object (no ELF magic at the start)",
                               Location{path, {}, {}, {}, {}}));
    }
    isa::ProgramType type = isa::ProgramType::Bytes;
    if (!run.options.object.type.empty()) {
        auto named = isa::program_type_from_name(run.options.object.type);
        if (!named) {
            return fail(make_error(ErrorKind::InvalidInput,
                                   "unknown program type '" + run.options.object.type + "'"));
        }
        type = *named;
    }
    auto loaded = load_and_decode(path);
    if (!loaded) return fail(loaded.error());
    ProgramView view{loaded->program, {}, nullptr, nullptr};
    verifier::VerifyOptions options;
    options.privileged = run.options.privileged;
    ProgramReport report;
    if (!verify_program(run, view, type, {}, options, report, path)) outcome.output_failed = true;
    if (run.format == Format::Text) print_program_text(run.out, path, report, run.options.stats);
    outcome.report.programs.push_back(std::move(report));
    return outcome;
}

}  // namespace

int verify_command(const VerifyOptions& options, std::ostream& out, std::ostream& err) {
    auto format = format_from_name(options.format);
    if (!format) {
        print_error(err, make_error(ErrorKind::InvalidInput,
                                    "--format is text, json or sarif, not '" + options.format + "'"));
        return kExitUsage;
    }
    if (options.files.empty()) {
        print_error(err, make_error(ErrorKind::InvalidInput, "no file to verify"));
        return kExitUsage;
    }
    Run run{options, *format, out, err};
    std::vector<FileReport> files;
    bool load_failed = false;
    size_t accepted = 0, rejected = 0, not_loaded = 0;
    for (const std::string& path : options.files) {
        FileOutcome outcome = verify_file(run, path);
        load_failed = load_failed || outcome.report.error.has_value() || outcome.output_failed;
        for (const ProgramReport& program : outcome.report.programs)
            ++(program.load_error ? not_loaded : program.accepted ? accepted : rejected);
        files.push_back(std::move(outcome.report));
    }
    const size_t programs = accepted + rejected + not_loaded;

    switch (*format) {
        case Format::Text: {
            const size_t failed_files = static_cast<size_t>(std::count_if(
                files.begin(), files.end(), [](const FileReport& f) { return f.error.has_value(); }));
            if (programs > 1 || failed_files != 0) {
                out << programs << " program" << (programs == 1 ? "" : "s") << ": " << accepted
                    << " accepted, " << rejected << " rejected";
                if (not_loaded != 0) out << ", " << not_loaded << " not loaded";
                if (failed_files != 0)
                    out << "; " << failed_files << " file" << (failed_files == 1 ? "" : "s") << " not loaded";
                out << "\n";
            }
            break;
        }
        case Format::Json: out << report_json(files).dump(2) << "\n"; break;
        case Format::Sarif: out << sarif_log(files).dump(2) << "\n"; break;
    }
    if (load_failed) return kExitUsage;
    // A program of an object that could not be loaded fails like one that could not be analysed:
    // it is not accepted, and the file's other programs were verified.
    return rejected != 0 || not_loaded != 0 ? kExitFailed : kExitOk;
}

}  // namespace bpfvm::tools
