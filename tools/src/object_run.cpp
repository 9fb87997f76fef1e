#include "object_run.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <span>

#include "bpfvm/loader/btf.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "bpfvm/tools/program_file.hpp"
#include "btf_json.hpp"
#include "command_support.hpp"
#include "object_commands.hpp"
#include "object_conversion.hpp"
#include "pcap_io.hpp"
#include "trusted_run.hpp"

namespace bpfvm::tools {
namespace {

using json = nlohmann::ordered_json;

vm::MapSpec map_spec(const loader::MapDefinition& definition) {
    vm::MapSpec spec;
    spec.name = definition.name;
    spec.type = definition.type;
    spec.key_size = definition.key_size;
    spec.value_size = definition.value_size;
    spec.max_entries = definition.max_entries;
    spec.flags = definition.flags;
    spec.map_extra = definition.map_extra;
    spec.initial_data = definition.initial_data;
    if (definition.inner) spec.inner = std::make_shared<const vm::MapSpec>(map_spec(*definition.inner));
    return spec;
}

std::vector<uint8_t> key_bytes(uint32_t key) {
    std::vector<uint8_t> bytes(4);
    std::memcpy(bytes.data(), &key, 4);
    return bytes;
}

bool is_per_cpu(isa::MapType type) {
    return type == isa::MapType::PercpuArray || type == isa::MapType::PercpuHash ||
           type == isa::MapType::LruPercpuHash;
}

const loader::Btf* btf_of(const loader::Object& object) {
    return object.btf.get();
}

// The definition a map id comes from; maps created at run time (none yet) have none.
const loader::MapDefinition* definition_of(const loader::Object& object, vm::MapId id) {
    return id < object.maps.size() ? &object.maps[id] : nullptr;
}

json typed(const loader::Object& object, uint32_t type_id, std::span<const uint8_t> bytes) {
    if (object.btf && type_id != 0) return btf_to_json(*object.btf, type_id, bytes);
    return bytes_to_hex(bytes);
}

Result<std::vector<uint8_t>> untyped_or_typed(const loader::Object& object, uint32_t type_id,
                                              const json& value, uint32_t size, const std::string& what) {
    auto bytes = json_to_bytes(btf_of(object), type_id, value, size);
    if (!bytes) {
        Error e = bytes.error();
        e.message = what + ": " + e.message;
        return e;
    }
    return bytes;
}

}  // namespace

Result<std::unique_ptr<vm::Runtime>> make_runtime(const loader::Object& object,
                                                  const vm::RuntimeOptions& options) {
    std::vector<vm::MapSpec> maps;
    for (const loader::MapDefinition& definition : object.maps) maps.push_back(map_spec(definition));
    std::vector<vm::ProgramSpec> programs;
    const bool gpl = gpl_compatible(object.license);
    for (const loader::Program& program : object.programs) {
        vm::ProgramSpec spec;
        spec.name = program.function;
        spec.type = program.type;
        spec.code = program.code;
        spec.gpl_compatible = gpl;
        spec.poisoned = poisoned_instructions(program);
        programs.push_back(std::move(spec));
    }
    auto runtime = vm::Runtime::create(std::move(maps), std::move(programs), options);
    if (!runtime) return runtime.error();
    // Slots the object's BTF `values` initializers fill, by program or map name.
    for (size_t id = 0; id < object.maps.size(); ++id) {
        const loader::MapDefinition& definition = object.maps[id];
        for (const loader::MapInitialValue& initial : definition.initial_values) {
            std::optional<uint32_t> target = definition.type == isa::MapType::ProgArray
                                                 ? (*runtime)->find_program(initial.target)
                                                 : (*runtime)->find_map(initial.target);
            if (!target) {
                return make_error(ErrorKind::InvalidInput,
                                  "map '" + definition.name + "' slot " + std::to_string(initial.key) +
                                      " names '" + initial.target + "', which the object does not have");
            }
            const auto key = key_bytes(initial.key);
            if (auto s = (*runtime)->set_reference(static_cast<vm::MapId>(id), key, *target); !s)
                return s.error();
        }
    }
    return runtime;
}

json map_to_json(const vm::Runtime& runtime, vm::MapId id, const loader::Object& object) {
    const vm::Map& map = runtime.map(id);
    const vm::MapSpec& spec = map.spec();
    const loader::MapDefinition* definition = definition_of(object, id);
    const uint32_t key_type = definition ? definition->key_type_id : 0;
    const uint32_t value_type = definition ? definition->value_type_id : 0;
    json out;
    out["type"] = std::string(isa::map_type_name(spec.type));
    out["key_size"] = spec.key_size;
    out["value_size"] = spec.value_size;
    out["max_entries"] = spec.max_entries;
    json entries = json::array();
    const bool per_cpu = is_per_cpu(spec.type);
    if (const auto* elements = dynamic_cast<const vm::ElementMap*>(&map)) {
        for (const std::vector<uint8_t>& key : elements->keys()) {
            auto values = elements->read(key);
            if (!values) continue;
            json entry;
            entry["key"] = typed(object, key_type, key);
            if (per_cpu) {
                const size_t stride = (spec.value_size + 7) / 8 * 8;
                json list = json::array();
                for (size_t offset = 0; offset + spec.value_size <= values->size(); offset += stride) {
                    list.push_back(typed(object, value_type,
                                         std::span<const uint8_t>(values->data() + offset, spec.value_size)));
                }
                entry["values"] = std::move(list);
            } else {
                entry["value"] = typed(object, value_type, *values);
            }
            entries.push_back(std::move(entry));
        }
        out["entries"] = std::move(entries);
    } else if (const auto* queue = dynamic_cast<const vm::QueueMap*>(&map)) {
        json values = json::array();
        for (const auto& value : queue->values()) values.push_back(typed(object, value_type, value));
        out["values"] = std::move(values);
    } else if (const auto* references = dynamic_cast<const vm::ReferenceMap*>(&map)) {
        for (const auto& [key, target] : references->entries()) {
            json entry;
            entry["key"] = typed(object, key_type, key);
            if (references->holds_programs()) {
                entry["value"] =
                    target < runtime.program_count() ? json(runtime.program(target).name) : json(target);
            } else {
                entry["value"] =
                    target < runtime.map_count() ? json(runtime.map(target).name()) : json(target);
            }
            entries.push_back(std::move(entry));
        }
        out["entries"] = std::move(entries);
    }
    return out;
}

Status map_from_json(vm::Runtime& runtime, vm::MapId id, const loader::Object& object, const json& input) {
    vm::Map& map = runtime.map(id);
    const vm::MapSpec& spec = map.spec();
    const loader::MapDefinition* definition = definition_of(object, id);
    const uint32_t key_type = definition ? definition->key_type_id : 0;
    const uint32_t value_type = definition ? definition->value_type_id : 0;
    const json* list = &input;
    if (input.is_object()) {
        if (input.contains("entries")) {
            list = &input["entries"];
        } else if (input.contains("values")) {
            list = &input["values"];
        }
    }
    const std::string where = "map '" + spec.name + "'";
    if (!list->is_array()) {
        return make_error(ErrorKind::InvalidInput,
                          where + ": expected a list of entries (or {\"entries\": [...]})");
    }
    for (size_t i = 0; i < list->size(); ++i) {
        const json& entry = (*list)[i];
        const std::string at = where + " entry " + std::to_string(i);
        if (auto* queue = dynamic_cast<vm::QueueMap*>(&map)) {
            const json& value = entry.is_object() && entry.contains("value") ? entry["value"] : entry;
            auto bytes = untyped_or_typed(object, value_type, value, spec.value_size, at);
            if (!bytes) return bytes.error();
            if (int64_t r = queue->push(bytes->data(), vm::kUpdateAny); r != 0) {
                return make_error(ErrorKind::InvalidInput, at + ": push failed with " + std::to_string(r));
            }
            continue;
        }
        if (!entry.is_object() || !entry.contains("key")) {
            return make_error(ErrorKind::InvalidInput, at + ": expected {\"key\": ..., \"value\": ...}");
        }
        auto key = untyped_or_typed(object, key_type, entry["key"], spec.key_size, at + " key");
        if (!key) return key.error();
        if (auto* references = dynamic_cast<vm::ReferenceMap*>(&map)) {
            const json& value = entry.value("value", json());
            std::optional<uint32_t> target;
            if (value.is_string()) {
                const std::string name = value.get<std::string>();
                target = references->holds_programs() ? runtime.find_program(name) : runtime.find_map(name);
                if (!target) {
                    return make_error(ErrorKind::InvalidInput,
                                      at + ": the object has no " +
                                          (references->holds_programs() ? "program" : "map") + " '" + name +
                                          "'");
                }
            } else if (value.is_number_unsigned()) {
                target = value.get<uint32_t>();
            } else {
                return make_error(ErrorKind::InvalidInput, at + ": the value is a program or map name");
            }
            if (auto s = runtime.set_reference(id, *key, *target); !s) return s.error();
            continue;
        }
        auto* elements = dynamic_cast<vm::ElementMap*>(&map);
        if (elements == nullptr) {
            return make_error(ErrorKind::InvalidInput, where + ": " +
                                                           std::string(isa::map_type_name(spec.type)) +
                                                           " maps cannot be filled before a run");
        }
        std::vector<uint8_t> values;
        const uint32_t stride = (spec.value_size + 7) / 8 * 8;
        const uint32_t cpus = elements->user_value_size() / std::max<uint32_t>(stride, 1);
        const bool per_cpu = is_per_cpu(spec.type);
        if (per_cpu) {
            // One value for every CPU, or a list with one per CPU.
            values.assign(elements->user_value_size(), 0);
            const bool listed = entry.contains("values");
            const json& given = listed ? entry["values"] : entry.value("value", json());
            if (listed && (!given.is_array() || given.size() != cpus)) {
                return make_error(
                    ErrorKind::InvalidInput,
                    at + ": \"values\" needs one value for each of the " + std::to_string(cpus) + " CPUs");
            }
            for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
                auto bytes = untyped_or_typed(object, value_type, listed ? given[cpu] : given,
                                              spec.value_size, at + " value");
                if (!bytes) return bytes.error();
                std::copy(bytes->begin(), bytes->end(), values.begin() + cpu * stride);
            }
        } else {
            if (!entry.contains("value")) return make_error(ErrorKind::InvalidInput, at + ": no \"value\"");
            auto bytes = untyped_or_typed(object, value_type, entry["value"], spec.value_size, at + " value");
            if (!bytes) return bytes.error();
            values = std::move(*bytes);
        }
        if (int64_t r = elements->write(*key, values, vm::kUpdateAny); r != 0) {
            return make_error(ErrorKind::InvalidInput, at + ": update failed with " + std::to_string(r));
        }
    }
    return Ok{};
}

namespace {

// ---------------------------------------------------------------------------------------------
// bpfvm run prog.o
// ---------------------------------------------------------------------------------------------

Result<size_t> select_program(const loader::Object& object, const RunOptions& options) {
    std::vector<size_t> matches;
    for (size_t i = 0; i < object.programs.size(); ++i) {
        const loader::Program& p = object.programs[i];
        if (!options.function.empty() && p.function != options.function) continue;
        if (!options.section.empty() && p.section != options.section) continue;
        matches.push_back(i);
    }
    std::string listing;
    for (const loader::Program& p : object.programs)
        listing +=
            "\n  " + p.function + " (section " + p.section + (p.load_error ? ", not loaded" : "") + ")";
    if (matches.size() == 1) return matches[0];
    if (matches.empty()) {
        return make_error(ErrorKind::InvalidInput,
                          "no program matches --section/--function; the object has:" + listing);
    }
    return make_error(ErrorKind::InvalidInput,
                      "the object has several programs; pick one with --function or --section:" + listing);
}

struct Input {
    std::vector<uint8_t> packet;
    uint64_t timestamp_ns = 0;
};

Result<json> read_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(ErrorKind::Io, "cannot read " + path);
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        return make_error(ErrorKind::InvalidInput, path + ": not JSON: " + e.what());
    }
}

json event_json(const vm::RecordedEvent& event, const loader::Object& object, const std::string& event_type) {
    json out;
    out["map"] = event.map;
    out["cpu"] = event.cpu;
    std::optional<uint32_t> type_id;
    if (object.btf && !event_type.empty())
        type_id = object.btf->find_by_name(event_type, loader::BtfKind::Struct);
    if (type_id) {
        out["data"] = btf_to_json(*object.btf, *type_id, event.data);
    } else {
        out["data"] = bytes_to_hex(event.data);
    }
    return out;
}

// Where in the C source an instruction of a program came from (BTF line info), if known.
const loader::SourceLocation* source_of(const loader::Program& program, std::optional<uint32_t> slot) {
    if (!slot) return nullptr;
    for (size_t i = 0; i < program.code.size() && i < program.source.size(); ++i) {
        if (program.code.slot[i] == *slot) return program.source[i] ? &*program.source[i] : nullptr;
    }
    return nullptr;
}

// A run error located in the object: the program's section and, with line info, the C line.
struct LocatedError {
    Error error;
    const loader::Program* program = nullptr;
    const loader::SourceLocation* source = nullptr;
};

LocatedError locate(const Error& error, const loader::Object& object, vm::ProgramId program_id,
                    const std::string& path) {
    LocatedError located{error, nullptr, nullptr};
    located.error.where.file = path;
    if (program_id < object.programs.size()) {
        located.program = &object.programs[program_id];
        located.error.where.section = located.program->section;
        located.source = source_of(*located.program, error.where.instruction);
    }
    return located;
}

void print_located(std::ostream& err, const LocatedError& located) {
    print_error(err, located.error);
    if (located.program != nullptr) err << "  in " << located.program->function << "\n";
    if (located.source != nullptr) {
        err << "  at " << located.source->file << ":" << located.source->line << ": " << located.source->text
            << "\n";
    }
}

json error_json(const std::optional<LocatedError>& located) {
    if (!located) return nullptr;
    const Error& error = located->error;
    json out;
    out["kind"] = std::string(error_kind_name(error.kind));
    out["message"] = error.message;
    out["instruction"] = error.where.instruction ? json(*error.where.instruction) : json(nullptr);
    out["function"] = located->program ? json(located->program->function) : json(nullptr);
    if (located->source != nullptr) {
        json source;
        source["file"] = located->source->file;
        source["line"] = located->source->line;
        source["text"] = located->source->text;
        out["source"] = std::move(source);
    } else {
        out["source"] = nullptr;
    }
    return out;
}

std::string verdict_text(const vm::RunOutcome& outcome) {
    return outcome.verdict ? " " + *outcome.verdict : std::string();
}

}  // namespace

int run_object(const RunOptions& options, std::ostream& out, std::ostream& err) {
    auto object = open_object(options.file, options.object);
    if (!object) {
        print_error(err, object.error());
        return kExitUsage;
    }
    auto selected = select_program(*object, options);
    if (!selected) {
        print_error(err, selected.error());
        return kExitUsage;
    }
    const loader::Program& program = object->programs[*selected];
    if (program.load_error) {
        // Its own fault: the object's other programs load and run.
        print_error(err, *program.load_error);
        err << "  program " << program.function << " (section " << program.section
            << ") cannot be loaded, so it cannot run\n";
        return kExitUsage;
    }
    auto usage = [&](std::string message) {
        print_error(err, make_error(ErrorKind::InvalidInput, std::move(message)));
        return kExitUsage;
    };
    if (options.clock != "fixed" && options.clock != "host") return usage("--clock is fixed or host");
    if (options.repeat == 0) return usage("--repeat must be at least 1");

    vm::RuntimeOptions runtime_options;
    runtime_options.map_limits.cpus = options.cpus;
    runtime_options.clock = options.clock == "host" ? vm::ClockMode::Host : vm::ClockMode::Fixed;
    runtime_options.clock_start_ns = options.clock_start_ns;
    runtime_options.random_seed = options.seed;
    if (options.budget != 0) runtime_options.instruction_budget = options.budget;
    auto runtime = make_runtime(*object, runtime_options);
    if (!runtime) {
        print_error(err, runtime.error());
        return kExitUsage;
    }
    vm::Runtime& rt = **runtime;

    for (const std::string& assignment : options.map_files) {
        const auto equals = assignment.find('=');
        if (equals == std::string::npos) return usage("--map takes NAME=FILE.json, not '" + assignment + "'");
        const std::string name = assignment.substr(0, equals);
        auto id = rt.find_map(name);
        if (!id) return usage("--map: the object has no map '" + name + "'");
        auto contents = read_json_file(assignment.substr(equals + 1));
        if (!contents) {
            print_error(err, contents.error());
            return kExitUsage;
        }
        if (auto s = map_from_json(rt, *id, *object, *contents); !s) {
            print_error(err, s.error());
            return kExitUsage;
        }
    }

    // The inputs: a capture, one packet, or the --mem data of a bytes program.
    std::vector<Input> inputs;
    std::vector<CapturedPacket> captured;
    if (!options.pcap_in.empty()) {
        auto packets = read_pcap(options.pcap_in);
        if (!packets) {
            print_error(err, packets.error());
            return kExitUsage;
        }
        captured = std::move(*packets);
        for (const CapturedPacket& p : captured) inputs.push_back(Input{p.data, p.timestamp_ns});
    } else {
        Input input;
        if (!options.packet_hex.empty()) {
            auto bytes = parse_hex_bytes(options.packet_hex);
            if (!bytes) return usage("--packet: " + bytes.error().message);
            input.packet = std::move(*bytes);
        } else if (!options.memory_hex.empty()) {
            auto bytes = parse_hex_bytes(options.memory_hex);
            if (!bytes) return usage("--mem: " + bytes.error().message);
            input.packet = std::move(*bytes);
        } else if (!options.memory_file.empty()) {
            auto bytes = read_file_bytes(options.memory_file);
            if (!bytes) {
                print_error(err, bytes.error());
                return kExitUsage;
            }
            input.packet = std::move(*bytes);
        }
        inputs.push_back(std::move(input));
    }
    std::vector<uint8_t> context;
    if (!options.context_file.empty()) {
        auto bytes = read_file_bytes(options.context_file);
        if (!bytes) {
            print_error(err, bytes.error());
            return kExitUsage;
        }
        context = std::move(*bytes);
    }
    if (!options.event_type.empty() &&
        (!object->btf || !object->btf->find_by_name(options.event_type, loader::BtfKind::Struct))) {
        return usage("--event-type: the object's BTF has no struct '" + options.event_type + "'");
    }
    if (options.trust_verified) {
        if (auto verified = verify_for_trusted_run(*object, *selected); !verified) {
            print_error(err, verified.error());
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

    // Runs.
    std::vector<vm::RunOutcome> outcomes;
    std::map<std::string, uint64_t> verdict_counts;
    std::vector<std::string> printk;
    std::vector<vm::RecordedEvent> events;
    uint64_t instructions = 0;
    bool instructions_exact = true;
    std::optional<LocatedError> first_error;
    for (size_t i = 0; i < inputs.size(); ++i) {
        vm::RunRequest request;
        request.packet = inputs[i].packet;
        request.context = context;
        request.cpu = options.cpu;
        request.ingress_ifindex = options.ifindex;
        request.rx_queue_index = options.rx_queue;
        request.func_ip = options.func_ip;
        request.attach_cookie = options.cookie;
        vm::RunOutcome last;
        for (uint64_t repeat = 0; repeat < options.repeat; ++repeat) {
            auto outcome = rt.run(static_cast<vm::ProgramId>(*selected), request, **engine);
            if (!outcome) {
                Error e = outcome.error();
                e.where.file = options.file;
                if (e.where.section.empty()) e.where.section = program.section;
                print_error(err, e);
                return kExitUsage;
            }
            instructions += outcome->instructions;
            instructions_exact = instructions_exact && outcome->instructions_exact;
            printk.insert(printk.end(), outcome->printk.begin(), outcome->printk.end());
            events.insert(events.end(), outcome->events.begin(), outcome->events.end());
            if (outcome->error && !first_error) {
                first_error = locate(*outcome->error, *object, outcome->error_program, options.file);
            }
            last = std::move(*outcome);
            if (last.error) break;
        }
        verdict_counts[last.error ? "error" : last.verdict.value_or(std::to_string(last.r0))]++;
        if (!captured.empty()) {
            // The frame, without XDP metadata in front of it.
            captured[i].data.assign(last.packet.begin() + last.metadata_size, last.packet.end());
            captured[i].original_length = static_cast<uint32_t>(captured[i].data.size());
        }
        outcomes.push_back(std::move(last));
    }
    if (!options.pcap_out.empty()) {
        if (captured.empty()) return usage("--pcap-out needs --pcap");
        if (auto s = write_pcap(options.pcap_out, captured); !s) {
            print_error(err, s.error());
            return kExitUsage;
        }
    }

    const vm::RunOutcome& last = outcomes.back();
    const bool capture = !options.pcap_in.empty();
    if (options.json) {
        json doc;
        doc["program"] = program.function;
        doc["section"] = program.section;
        doc["type"] = std::string(isa::program_type_name(program.type));
        doc["engine"] = std::string((*engine)->name());
        doc["r0"] = last.r0;
        doc["verdict"] = last.verdict ? json(*last.verdict) : json(nullptr);
        if (capture) {
            doc["packets"] = inputs.size();
            json counts = json::object();
            for (const auto& [name, count] : verdict_counts) counts[name] = count;
            doc["verdicts"] = std::move(counts);
        } else if (!last.packet.empty()) {
            const std::span<const uint8_t> packet(last.packet);
            doc["packet"] = bytes_to_hex(packet.subspan(last.metadata_size));
            if (last.metadata_size != 0) doc["metadata"] = bytes_to_hex(packet.first(last.metadata_size));
        }
        if (last.redirect) {
            json redirect;
            redirect["map"] = last.redirect->map.empty() ? json(nullptr) : json(last.redirect->map);
            redirect["target"] = last.redirect->target;
            redirect["flags"] = last.redirect->flags;
            doc["redirect"] = std::move(redirect);
        }
        doc["printk"] = printk;
        json event_list = json::array();
        for (const auto& event : events) event_list.push_back(event_json(event, *object, options.event_type));
        doc["events"] = std::move(event_list);
        json maps = json::object();
        for (vm::MapId id = 0; id < rt.map_count(); ++id)
            maps[rt.map(id).name()] = map_to_json(rt, id, *object);
        doc["maps"] = std::move(maps);
        doc[instructions_exact ? "instructions" : "back_edges_and_calls"] = instructions;
        doc["error"] = error_json(first_error);
        out << doc.dump(2) << "\n";
        return first_error ? kExitFailed : kExitOk;
    }

    out << "program " << program.function << " (" << isa::program_type_name(program.type) << ", section "
        << program.section << ")\n";
    if (capture) {
        out << "packets: " << inputs.size() << "\n";
        for (const auto& [name, count] : verdict_counts) out << "  " << name << ": " << count << "\n";
    } else {
        out << "r0 = " << to_hex(last.r0) << " (" << static_cast<int64_t>(last.r0) << ")"
            << verdict_text(last) << "\n";
    }
    if (last.redirect) {
        out << "redirect: "
            << (last.redirect->map.empty() ? "ifindex " : "map " + last.redirect->map + " key ")
            << last.redirect->target << "\n";
    }
    for (const std::string& line : printk) out << "printk: " << line << "\n";
    for (const auto& event : events)
        out << "event: " << event_json(event, *object, options.event_type).dump() << "\n";
    if (options.dump_maps) {
        for (vm::MapId id = 0; id < rt.map_count(); ++id) {
            out << "map " << rt.map(id).name() << ": " << map_to_json(rt, id, *object).dump() << "\n";
        }
    }
    if (options.stats) out << engine_stats(**engine, instructions, instructions_exact);
    if (first_error) {
        print_located(err, *first_error);
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace bpfvm::tools
