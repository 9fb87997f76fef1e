#include "sarif.hpp"

#include <cstdio>

namespace bpfvm::tools {
namespace {

using json = nlohmann::ordered_json;

#ifndef BPFVM_VERSION
#define BPFVM_VERSION "0.0.0"
#endif
#ifndef BPFVM_HOMEPAGE_URL
#define BPFVM_HOMEPAGE_URL ""
#endif

constexpr const char* kSchema = "https://json.schemastore.org/sarif-2.1.0.json";

// Unreserved characters and the path separator stay, everything else is percent-encoded.
std::string percent_encode(const std::string& path) {
    std::string out;
    for (unsigned char c : path) {
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

json artifact_location(const std::string& path) {
    json location;
    location["uri"] = path_to_uri(path);
    // GitHub resolves relative URIs against the repository root.
    if (!path.empty() && path.front() != '/') location["uriBaseId"] = "%SRCROOT%";
    return location;
}

json source_region(const loader::SourceLocation& source) {
    json region;
    region["startLine"] = source.line;
    if (source.column != 0) region["startColumn"] = source.column;
    if (!source.text.empty()) region["snippet"] = {{"text", source.text}};
    return region;
}

bool has_line(const InstructionRef& at) {
    return at.source && !at.source->file.empty() && at.source->line != 0;
}

// The C line when line info gives one, else the object (or program) file with no region.
json physical_location(const InstructionRef& at, const std::string& object_path) {
    json physical;
    if (has_line(at)) {
        physical["artifactLocation"] = artifact_location(at.source->file);
        physical["region"] = source_region(*at.source);
    } else {
        physical["artifactLocation"] = artifact_location(object_path);
    }
    return physical;
}

std::string instruction_name(const InstructionRef& at) {
    std::string name = "instruction " + std::to_string(at.instruction);
    if (at.slot != at.instruction) name += " (slot " + std::to_string(at.slot) + ")";
    return name;
}

json logical_location(const ProgramReport& program, const InstructionRef& at) {
    json logical;
    const std::string function = at.function.empty() ? program.function : at.function;
    logical["name"] = function.empty() ? instruction_name(at) : function;
    std::string qualified = program.name();
    if (!at.function.empty() && at.function != program.function) qualified += "/" + at.function;
    logical["fullyQualifiedName"] = (qualified.empty() ? "" : qualified + ": ") + instruction_name(at);
    logical["kind"] = "function";
    return logical;
}

std::string message_text(const ProgramReport& program, const DiagnosticReport& diagnostic) {
    std::string text = program.name().empty() ? "" : program.name() + ": ";
    text += diagnostic.message + " (" + instruction_name(diagnostic.at) + ": " + diagnostic.at.text + ")";
    if (!diagnostic.registers.empty()) {
        text += ". Registers:";
        bool first = true;
        for (const verifier::RegisterState& reg : diagnostic.registers) {
            text += std::string(first ? " " : ", ") + register_name(reg.reg) + " = " + reg.value;
            first = false;
        }
    }
    if (!text.empty() && text.back() != '.') text += ".";
    return text;
}

json instruction_json(const InstructionRef& at) {
    return {{"instruction", at.instruction}, {"slot", at.slot}, {"text", at.text}};
}

// The branch decisions that have a source line, then the rejected instruction.
std::optional<json> code_flow(const ProgramReport& program, const DiagnosticReport& diagnostic,
                              const std::string& object_path) {
    json locations = json::array();
    for (const PathStepReport& step : diagnostic.path) {
        if (!has_line(step.jump)) continue;
        json location;
        location["physicalLocation"] = physical_location(step.jump, object_path);
        location["logicalLocations"] = json::array({logical_location(program, step.jump)});
        location["message"] = {{"text", instruction_name(step.jump) + ": " + step.jump.text + ": branch " +
                                            (step.taken ? "taken" : "not taken")}};
        json thread_location;
        thread_location["location"] = std::move(location);
        thread_location["properties"] = {
            {"instruction", step.jump.instruction}, {"slot", step.jump.slot}, {"taken", step.taken}};
        locations.push_back(std::move(thread_location));
    }
    if (locations.empty() || !has_line(diagnostic.at)) return std::nullopt;
    json last;
    last["physicalLocation"] = physical_location(diagnostic.at, object_path);
    last["logicalLocations"] = json::array({logical_location(program, diagnostic.at)});
    last["message"] = {{"text", diagnostic.message}};
    locations.push_back({{"location", std::move(last)}});
    json flow;
    flow["message"] = {{"text", "the branch decisions that lead to the rejected instruction"}};
    flow["threadFlows"] = json::array({{{"locations", std::move(locations)}}});
    return flow;
}

json result_json(const FileReport& file, const ProgramReport& program, const DiagnosticReport& diagnostic,
                 size_t rule_index) {
    json result;
    result["ruleId"] = diagnostic.rule_id;
    result["ruleIndex"] = rule_index;
    result["level"] = "error";
    result["message"] = {{"text", message_text(program, diagnostic)}};
    json location;
    location["physicalLocation"] = physical_location(diagnostic.at, file.path);
    location["logicalLocations"] = json::array({logical_location(program, diagnostic.at)});
    result["locations"] = json::array({std::move(location)});
    if (auto flow = code_flow(program, diagnostic, file.path)) result["codeFlows"] = json::array({*flow});

    json properties;
    properties["object"] = file.path;
    properties["section"] = program.section;
    properties["function"] = program.function;
    properties["programType"] = program.type;
    properties["instruction"] = diagnostic.at.instruction;
    properties["slot"] = diagnostic.at.slot;
    properties["text"] = diagnostic.at.text;
    json registers = json::array();
    for (const verifier::RegisterState& reg : diagnostic.registers)
        registers.push_back({{"reg", register_name(reg.reg)}, {"value", reg.value}});
    properties["registers"] = std::move(registers);
    json path = json::array();
    for (const PathStepReport& step : diagnostic.path) {
        json entry = instruction_json(step.jump);
        entry["taken"] = step.taken;
        path.push_back(std::move(entry));
    }
    properties["path"] = std::move(path);
    json calls = json::array();
    for (const InstructionRef& call : diagnostic.call_stack) calls.push_back(instruction_json(call));
    properties["callStack"] = std::move(calls);
    result["properties"] = std::move(properties);
    return result;
}

json notification(const std::string& path, const std::string& text) {
    json n;
    n["level"] = "error";
    n["message"] = {{"text", text}};
    n["locations"] = json::array({{{"physicalLocation", {{"artifactLocation", artifact_location(path)}}}}});
    return n;
}

}  // namespace

std::string path_to_uri(const std::string& path) {
    if (!path.empty() && path.front() == '/') return "file://" + percent_encode(path);
    return percent_encode(path);
}

json sarif_log(const std::vector<FileReport>& files) {
    json rules = json::array();
    std::vector<size_t> index_of;
    for (verifier::Rule rule : verifier::all_rules()) {
        const auto number = static_cast<size_t>(rule);
        if (index_of.size() <= number) index_of.resize(number + 1, 0);
        index_of[number] = rules.size();
        json descriptor;
        descriptor["id"] = std::string(verifier::rule_id(rule));
        const std::string description(verifier::rule_description(rule));
        descriptor["shortDescription"] = {{"text", description}};
        descriptor["fullDescription"] = {{"text", description}};
        descriptor["help"] = {
            {"text",
             description + " Run `bpfvm verify -v` to see the abstract state before every instruction."},
            {"markdown",
             description + " Run `bpfvm verify -v` to see the abstract state before every instruction."}};
        descriptor["defaultConfiguration"] = {{"level", "error"}};
        descriptor["properties"] = {{"tags", json::array({"ebpf", "verifier"})}};
        rules.push_back(std::move(descriptor));
    }

    json results = json::array();
    json notifications = json::array();
    for (const FileReport& file : files) {
        if (file.error) {
            notifications.push_back(notification(file.path, *file.error));
            continue;
        }
        for (const ProgramReport& program : file.programs) {
            if (program.load_error) {
                notifications.push_back(notification(
                    file.path, program.name() + " cannot be loaded: " + program.load_error->to_string()));
                continue;
            }
            for (const DiagnosticReport& diagnostic : program.diagnostics) {
                if (!diagnostic.rule) {
                    notifications.push_back(notification(
                        file.path, file.path + ": " + program.name() + ": " + diagnostic.message));
                    continue;
                }
                results.push_back(
                    result_json(file, program, diagnostic, index_of[static_cast<size_t>(*diagnostic.rule)]));
            }
        }
    }

    json driver;
    driver["name"] = "bpfvm";
    if (std::string(BPFVM_HOMEPAGE_URL).size() != 0) driver["informationUri"] = BPFVM_HOMEPAGE_URL;
    driver["version"] = BPFVM_VERSION;
    driver["semanticVersion"] = BPFVM_VERSION;
    driver["rules"] = std::move(rules);

    json invocation;
    invocation["executionSuccessful"] = notifications.empty();
    if (!notifications.empty()) invocation["toolExecutionNotifications"] = std::move(notifications);

    json run;
    run["tool"] = {{"driver", std::move(driver)}};
    run["invocations"] = json::array({std::move(invocation)});
    run["results"] = std::move(results);

    json log;
    log["$schema"] = kSchema;
    log["version"] = "2.1.0";
    log["runs"] = json::array({std::move(run)});
    return log;
}

}  // namespace bpfvm::tools
