#include "object_commands.hpp"

#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/program_file.hpp"
#include "command_support.hpp"
#include "object_conversion.hpp"

namespace bpfvm::tools {
namespace {

Result<loader::LoadOptions> load_options(const ObjectOptions& options) {
    loader::LoadOptions load;
    if (!options.type.empty()) {
        auto type = isa::program_type_from_name(options.type);
        if (!type) {
            return make_error(ErrorKind::InvalidInput,
                              "unknown program type '" + options.type +
                                  "' (libbpf's names: xdp, socket_filter, sched_cls, "
                                  "kprobe, tracepoint, raw_tracepoint, ..., or bytes)");
        }
        load.type_override = *type;
    }
    if (!options.btf_file.empty()) {
        auto bytes = read_file_bytes(options.btf_file);
        if (!bytes) return bytes.error();
        auto btf = loader::Btf::parse(*bytes);
        if (!btf) {
            Error e = btf.error();
            e.where.file = options.btf_file;
            return e;
        }
        load.core_target = std::make_shared<const loader::Btf>(std::move(*btf));
    }
    return load;
}

std::string hex_flags(uint32_t flags) {
    return to_hex(flags);
}

void print_info_text(const loader::Object& object, std::ostream& out) {
    out << object.path << "\n";
    out << "  license: " << (object.license.empty() ? "(none)" : object.license) << "\n";
    if (object.kernel_version) out << "  kernel version: " << to_hex(*object.kernel_version) << "\n";
    out << "  btf: " << (object.btf ? "yes" : "no") << "\n";
    out << "  programs: " << object.programs.size() << "\n";
    for (const loader::Program& program : object.programs) {
        out << "    " << program.function << "  section " << program.section << "  type "
            << isa::program_type_name(program.type);
        if (!program.expected_attach_type.empty()) out << "  attach " << program.expected_attach_type;
        if (program.load_error) {
            Error e = *program.load_error;
            e.where.file.clear();  // the object's path heads the listing
            out << "  not loaded\n      error[" << error_kind_name(e.kind) << "]: " << e.to_string() << "\n";
            continue;
        }
        out << "  " << program.code.slot_count() << " instructions";
        if (std::string source = program.source_file(); !source.empty()) out << "  " << source;
        out << "\n";
        for (const loader::UnresolvedRelocation& unresolved : program.unresolved) {
            out << "      unresolved CO-RE relocation at instruction "
                << program.code.slot[unresolved.instruction] << ": " << unresolved.message << "\n";
        }
    }
    out << "  maps: " << object.maps.size() << "\n";
    for (const loader::MapDefinition& map : object.maps) {
        out << "    " << map.name << "  " << isa::map_type_name(map.type) << "  key " << map.key_size
            << "  value " << map.value_size << "  max_entries " << map.max_entries << "  flags "
            << hex_flags(map.flags) << "  " << loader::map_origin_name(map.origin) << "\n";
    }
}

nlohmann::ordered_json info_json(const loader::Object& object) {
    nlohmann::ordered_json programs = nlohmann::ordered_json::array();
    for (const loader::Program& program : object.programs) {
        nlohmann::ordered_json unresolved = nlohmann::ordered_json::array();
        for (const loader::UnresolvedRelocation& u : program.unresolved) {
            unresolved.push_back({{"instruction", program.code.slot[u.instruction]}, {"message", u.message}});
        }
        programs.push_back({
            {"section", program.section},
            {"function", program.function},
            {"type", isa::program_type_name(program.type)},
            {"expected_attach_type", program.expected_attach_type.empty()
                                         ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(program.expected_attach_type)},
            {"instructions", program.code.slot_count()},
            {"source", program.source_file().empty() ? nlohmann::ordered_json(nullptr)
                                                     : nlohmann::ordered_json(program.source_file())},
            {"unresolved_relocations", unresolved},
            {"error", program.load_error ? nlohmann::ordered_json(program.load_error->to_string())
                                         : nlohmann::ordered_json(nullptr)},
        });
    }
    nlohmann::ordered_json maps = nlohmann::ordered_json::array();
    for (const loader::MapDefinition& map : object.maps) {
        maps.push_back({
            {"name", map.name},
            {"type", isa::map_type_name(map.type)},
            {"key_size", map.key_size},
            {"value_size", map.value_size},
            {"max_entries", map.max_entries},
            {"flags", map.flags},
            {"origin", loader::map_origin_name(map.origin)},
        });
    }
    return {
        {"path", object.path},
        {"programs", programs},
        {"maps", maps},
        {"license", object.license},
        {"kernel_version", object.kernel_version ? nlohmann::ordered_json(*object.kernel_version)
                                                 : nlohmann::ordered_json(nullptr)},
        {"btf", object.btf != nullptr},
    };
}

std::string source_comment(const loader::SourceLocation& location) {
    std::string text = location.text;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.erase(text.begin());
    return "; " + text + "  [" + location.file + ":" + std::to_string(location.line) + ":" +
           std::to_string(location.column) + "]";
}

void print_program(const loader::Object& object, const loader::Program& program, isa::DisasmOptions style,
                   bool with_source, std::ostream& out) {
    out << "\n"
        << program.function << " (section " << program.section << ", " << isa::program_type_name(program.type)
        << ", " << program.code.slot_count() << " instructions):\n";
    style = with_object_names(std::move(style), object, program);
    size_t next_unresolved = 0;
    const loader::SourceLocation* last_source = nullptr;
    for (uint32_t i = 0; i < program.code.size(); ++i) {
        if (i == 0 || program.function_of[i] != program.function_of[i - 1]) {
            if (i != 0) out << "\n";
            out << "<" << program.function_of[i] << ">:\n";
            last_source = nullptr;
        }
        if (with_source && program.source[i]) {
            const loader::SourceLocation& here = *program.source[i];
            if (!last_source || last_source->line != here.line || last_source->file != here.file) {
                out << source_comment(here) << "\n";
            }
            last_source = &here;
        }
        out << isa::listing_line(program.code.instructions[i], program.code.slot[i], style);
        while (next_unresolved < program.unresolved.size() &&
               program.unresolved[next_unresolved].instruction == i) {
            out << "  ; unresolved CO-RE relocation: " << program.unresolved[next_unresolved].message;
            ++next_unresolved;
        }
        out << "\n";
    }
}

}  // namespace

Result<loader::Object> open_object(const std::string& file, const ObjectOptions& options) {
    auto load = load_options(options);
    if (!load) return load.error();
    return loader::load_object(file, *load);
}

int info_command(const InfoOptions& options, std::ostream& out, std::ostream& err) {
    auto object = open_object(options.file, options.object);
    if (!object) {
        print_error(err, object.error());
        return kExitUsage;
    }
    if (options.json) {
        out << info_json(*object).dump(2) << "\n";
    } else {
        print_info_text(*object, out);
    }
    return kExitOk;
}

int disasm_object(const DisasmOptions& options, isa::DisasmOptions style, std::ostream& out,
                  std::ostream& err) {
    if (style.syntax != isa::Syntax::Llvm) {
        print_error(err,
                    make_error(ErrorKind::Unsupported,
                               "objects are disassembled in LLVM syntax only: the conformance syntax has "
                               "no form for map references"));
        return kExitUsage;
    }
    auto object = open_object(options.file, options.object);
    if (!object) {
        print_error(err, object.error());
        return kExitUsage;
    }
    size_t printed = 0, not_loaded = 0;
    out << object->path << ":";
    for (const loader::Program& program : object->programs) {
        if (!options.section.empty() && program.section != options.section) continue;
        if (!options.function.empty() && program.function != options.function) continue;
        if (program.load_error) {
            // Listed where it would be, its fault on standard error; the others are printed.
            out << "\n"
                << program.function << " (section " << program.section << ", "
                << isa::program_type_name(program.type) << "): not loaded\n";
            print_error(err, *program.load_error);
            ++not_loaded;
            continue;
        }
        print_program(*object, program, style, options.source, out);
        ++printed;
    }
    if (not_loaded != 0) return kExitUsage;
    out << (printed ? "" : "\n");
    if (printed == 0) {
        std::string wanted = !options.function.empty() ? "function '" + options.function + "'" : "";
        if (!options.section.empty())
            wanted += (wanted.empty() ? "" : " in ") + ("section '" + options.section + "'");
        print_error(err, make_error(ErrorKind::InvalidInput, "no program matches " + wanted,
                                    Location{options.file, options.section, {}, {}, {}}));
        return kExitUsage;
    }
    return kExitOk;
}

}  // namespace bpfvm::tools
