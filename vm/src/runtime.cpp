#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

#include "bpfvm/isa/map_helpers.hpp"
#include "runtime_impl.hpp"

namespace bpfvm::vm {
namespace {

Error located(ErrorKind kind, std::string message, uint32_t slot) {
    Location where;
    where.instruction = slot;
    return make_error(kind, std::move(message), std::move(where));
}

std::string helper_display_name(std::string_view name) {
    return "bpf_" + std::string(name);
}

// Checks a helper's arguments against its prototype before it runs, as the kernel's verifier
// checks them before the program is accepted: map handles, memory the helper reads or writes,
// the context, callbacks. Every engine goes through this, so the checks are the same for all.
class ArgumentCheck {
 public:
    ArgumentCheck(const Runtime::Impl& impl, const RuntimeHelper& helper, const HelperCall& call)
        : impl_(impl), helper_(helper), proto_(helper.prototype), call_(call) {}

    Status run() {
        const RunState& run = *impl_.run;
        if (!isa::helper_allowed_for(proto_, run.type)) {
            return located(ErrorKind::HelperArgument,
                           helper_display_name(helper_.name) + " is not available to " +
                               std::string(isa::program_type_name(run.type)) + " programs",
                           call_.instruction);
        }
        if (proto_.gpl_only && !impl_.programs[run.program].gpl_compatible) {
            return located(ErrorKind::HelperArgument,
                           helper_display_name(helper_.name) +
                               " is GPL-only and the program's license is not GPL-compatible",
                           call_.instruction);
        }
        for (uint8_t i = 0; i < proto_.arg_count; ++i) {
            if (auto s = check(i); !s) return s;
        }
        return Ok{};
    }

 private:
    std::string argument(uint8_t i, std::string_view what) const {
        return helper_display_name(helper_.name) + " argument " + std::to_string(i + 1) + " (r" +
               std::to_string(i + 1) + ", " + std::string(what) + ")";
    }

    Error fail(uint8_t i, std::string_view what, const std::string& problem) const {
        return located(ErrorKind::HelperArgument, argument(i, what) + " " + problem, call_.instruction);
    }

    // Checks the memory an argument points to. Every helper call passes here, so the
    // description is only built when the check fails.
    template <typename Describe>
    Status memory(uint8_t i, const Describe& describe, uint64_t size, Access access) const {
        if (size == 0 || call_.memory.find(call_.args[i], size, access) != nullptr) return Ok{};
        auto s = call_.memory.check(call_.args[i], size, access, call_.instruction, argument(i, describe()));
        if (!s) {
            Error e = s.error();
            e.kind = ErrorKind::HelperArgument;
            return e;
        }
        return Ok{};
    }

    Status check(uint8_t i) {
        using isa::ArgKind;
        const uint64_t value = call_.args[i];
        const ArgKind kind = proto_.args[i];
        const uint64_t next = i + 1 < 5 ? call_.args[i + 1] : 0;
        const std::string_view kind_name = isa::arg_kind_name(kind);
        switch (kind) {
            case ArgKind::None:
            case ArgKind::Anything:
            case ArgKind::PtrToRingbufMem:  // the ring buffer checks its own records
                return Ok{};
            case ArgKind::ConstMapPtr: {
                map_ = impl_.map_from_handle(value);
                if (map_ == nullptr) return fail(i, "a map", "is " + to_hex(value) + ", which is not a map");
                std::string_view conflict =
                    isa::map_helper_conflict(map_->type(), proto_.id, impl_.run->type);
                if (!conflict.empty()) {
                    return fail(i, "a map",
                                "is map '" + map_->name() + "' (" +
                                    std::string(isa::map_type_name(map_->type())) +
                                    "): " + std::string(conflict));
                }
                return Ok{};
            }
            case ArgKind::PtrToMapKey:
                return memory(
                    i, [&] { return "key of map '" + map_name() + "'"; }, map_ ? map_->spec().key_size : 0,
                    Access::Read);
            case ArgKind::PtrToMapValue:
                return memory(
                    i, [&] { return "value for map '" + map_name() + "'"; },
                    map_ ? map_->spec().value_size : 0, Access::Read);
            case ArgKind::PtrToUninitMapValue:
                return memory(
                    i, [&] { return "buffer for a value of map '" + map_name() + "'"; },
                    map_ ? map_->spec().value_size : 0, Access::Write);
            case ArgKind::PtrToCtx:
                if (value != impl_.run->context_address() || impl_.run->context.empty()) {
                    return fail(i, "the context", "is " + to_hex(value) + ", not the program's context");
                }
                return Ok{};
            case ArgKind::PtrToMem:
            case ArgKind::PtrToMemOrNull:
            case ArgKind::PtrToUninitMem:
            case ArgKind::PtrToReadonlyMem:
            case ArgKind::PtrToReadonlyMemOrNull: {
                const bool nullable =
                    kind == ArgKind::PtrToMemOrNull || kind == ArgKind::PtrToReadonlyMemOrNull;
                if (nullable && value == 0) {
                    if (next != 0) {
                        return fail(i, kind_name,
                                    "is null but argument " + std::to_string(i + 2) + " gives size " +
                                        std::to_string(next));
                    }
                    return Ok{};
                }
                const bool writes = kind == ArgKind::PtrToMem || kind == ArgKind::PtrToMemOrNull ||
                                    kind == ArgKind::PtrToUninitMem;
                auto what = [next] { return "buffer of " + std::to_string(next) + " bytes"; };
                if (auto s = memory(i, what, next, Access::Read); !s) return s;
                return writes ? memory(i, what, next, Access::Write) : Status(Ok{});
            }
            case ArgKind::ConstSize:
                if (value == 0) return fail(i, "a size", "is 0; the helper needs at least one byte");
                return Ok{};
            case ArgKind::ConstSizeOrZero:
            case ArgKind::ConstAllocSizeOrZero: return Ok{};
            case ArgKind::PtrToConstStr: {
                auto length = call_.memory.string_length(value, call_.instruction);
                if (!length) return fail(i, "a constant string", "is not a NUL-terminated string in memory");
                const Region* region = call_.memory.find(value, *length + 1, Access::Read);
                if (region == nullptr || region->writable) {
                    return fail(i, "a constant string",
                                "must point into read-only memory (a .rodata string), not " +
                                    (region ? "writable " + region->name
                                            : std::string("memory at ") + to_hex(value)));
                }
                return Ok{};
            }
            case ArgKind::PtrToFunc: {
                const auto& entries = impl_.prepared[impl_.run->program].prepared->function_entries;
                const auto index = static_cast<uint32_t>(value);
                if ((value & kFunctionAddressTagMask) != kFunctionAddressTag ||
                    !std::binary_search(entries.begin(), entries.end(), index)) {
                    return fail(i, "a callback",
                                "is " + to_hex(value) + ", which is not a function of the program");
                }
                return Ok{};
            }
            case ArgKind::PtrToStackOrNull: {
                if (value == 0) return Ok{};
                const Region* region = call_.memory.find(value, 1, Access::Read);
                if (region == nullptr || region->name != "stack") {
                    return fail(i, "a callback context",
                                "is " + to_hex(value) + ", which is not on the stack");
                }
                return Ok{};
            }
            case ArgKind::PtrToSpinLock:
                return memory(
                    i, [] { return std::string("a bpf_spin_lock"); }, 4, Access::Write);
            case ArgKind::PtrToLong:
                if (value % 8 != 0) return fail(i, "a long", "is " + to_hex(value) + ", not 8-byte aligned");
                return memory(
                    i, [] { return std::string("a long"); }, 8, Access::Write);
        }
        return Ok{};
    }

    std::string map_name() const { return map_ ? map_->name() : std::string("?"); }

    const Runtime::Impl& impl_;
    const RuntimeHelper& helper_;
    const isa::HelperPrototype& proto_;
    const HelperCall& call_;
    const Map* map_ = nullptr;
};

// An unknown helper id reached at run time: a call the loader put in place of an unresolved
// CO-RE relocation (say which relocation), or a kernel helper bpfvm does not implement (name it).
Error explain_unknown_helper(Error error, const ProgramSpec& program) {
    if (error.kind != ErrorKind::UnknownHelper || !error.where.instruction) return error;
    const isa::Program& code = program.code;
    for (size_t i = 0; i < code.size(); ++i) {
        if (code.slot[i] != *error.where.instruction) continue;
        if (auto poisoned = program.poisoned.find(static_cast<uint32_t>(i));
            poisoned != program.poisoned.end()) {
            error.kind = ErrorKind::Unsupported;
            error.message = poisoned->second;
            return error;
        }
        const auto* call = std::get_if<isa::Call>(&code.instructions[i]);
        if (call == nullptr || call->op != isa::Op::CallHelper) return error;
        const isa::HelperPrototype* helper = isa::helper_by_id(call->imm);
        if (helper != nullptr && call->imm != 0) {
            error.message = "call to " + helper_display_name(helper->name) + " (helper " +
                            std::to_string(call->imm) + "), which bpfvm does not implement";
        }
        return error;
    }
    return error;
}

}  // namespace

MapId Runtime::Impl::add_map(std::unique_ptr<Map> map) {
    const auto id = static_cast<MapId>(maps.size());
    map_by_handle[reinterpret_cast<uint64_t>(map.get())] = id;
    maps.push_back(std::move(map));
    return id;
}

void Runtime::Impl::install_helper(const isa::HelperPrototype& prototype, std::string name,
                                   HelperFunction function) {
    const int64_t id = prototype.id;
    RuntimeHelper& helper = helpers[id];
    helper.name = std::move(name);
    helper.prototype = prototype;
    helper.prototype.name = helper.name;
    helper.function = std::move(function);
    helper_table.add(id, helper.name, [this, id](const HelperCall& call) -> Result<HelperReturn> {
        const RuntimeHelper& h = helpers.at(id);
        if (run == nullptr) {
            return located(ErrorKind::HelperFailed, helper_display_name(h.name) + " called outside a run",
                           call.instruction);
        }
        if (auto s = ArgumentCheck(*this, h, call).run(); !s) return s.error();
        return h.function(call);
    });
}

uint64_t Runtime::Impl::now_ns() {
    if (options.clock == ClockMode::Host) {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
    }
    const uint64_t reads = run ? run->clock_reads++ : 0;
    return options.clock_start_ns + 1000 * reads;
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;

Result<std::unique_ptr<Runtime>> Runtime::create(std::vector<MapSpec> maps, std::vector<ProgramSpec> programs,
                                                 RuntimeOptions options) {
    if (options.map_limits.cpus == 0)
        return make_error(ErrorKind::InvalidInput, "a run needs at least one CPU");
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    impl->random.seed(impl->options.random_seed);
    for (const MapSpec& spec : maps) {
        auto map = create_map(spec, impl->options.map_limits);
        if (!map) return map.error();
        impl->add_map(std::move(*map));
    }
    impl->programs = std::move(programs);
    Impl& state = *impl;
    ProgramLinks links;
    links.map_handle = [&state](uint32_t index) -> Result<uint64_t> {
        if (index >= state.maps.size()) {
            return make_error(ErrorKind::InvalidInput, "ld_imm64 refers to map " + std::to_string(index) +
                                                           " and there are " +
                                                           std::to_string(state.maps.size()));
        }
        return state.handle_of(index);
    };
    links.map_value_address = [&state](uint32_t index, uint32_t offset) -> Result<uint64_t> {
        if (index >= state.maps.size()) {
            return make_error(ErrorKind::InvalidInput, "ld_imm64 refers to the value of map " +
                                                           std::to_string(index) + " and there are " +
                                                           std::to_string(state.maps.size()));
        }
        Map& map = *state.maps[index];
        auto* array = dynamic_cast<ElementMap*>(&map);
        if (array == nullptr || map.type() != isa::MapType::Array) {
            return make_error(ErrorKind::InvalidInput, "ld_imm64 takes the address of a value of map '" +
                                                           map.name() + "', which is not an array");
        }
        if (offset >= map.spec().value_size) {
            return make_error(ErrorKind::InvalidInput, "ld_imm64 takes offset " + std::to_string(offset) +
                                                           " into the value of map '" + map.name() +
                                                           "', which has " +
                                                           std::to_string(map.spec().value_size) + " bytes");
        }
        const uint32_t key = 0;
        uint8_t* value = array->lookup(reinterpret_cast<const uint8_t*>(&key), 0);
        if (value == nullptr)
            return make_error(ErrorKind::InvalidInput, "map '" + map.name() + "' has no value 0");
        return reinterpret_cast<uint64_t>(value) + offset;
    };
    for (const ProgramSpec& program : impl->programs) {
        PreparedEntry entry;
        auto prepared = prepare_program(program.code, program.type, impl->options.platform, links);
        if (prepared) {
            entry.prepared = std::move(*prepared);
        } else {
            entry.error = prepared.error();
        }
        impl->prepared.push_back(std::move(entry));
    }
    for (const PreparedEntry& entry : impl->prepared) {
        impl->tail_call_targets.push_back(entry.prepared ? &entry.prepared->code : nullptr);
    }
    install_kernel_helpers(*impl);
    return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

const RuntimeOptions& Runtime::options() const {
    return impl_->options;
}

size_t Runtime::map_count() const {
    return impl_->maps.size();
}
Map& Runtime::map(MapId id) {
    return *impl_->maps.at(id);
}
const Map& Runtime::map(MapId id) const {
    return *impl_->maps.at(id);
}

std::optional<MapId> Runtime::find_map(std::string_view name) const {
    for (size_t i = 0; i < impl_->maps.size(); ++i) {
        if (impl_->maps[i]->name() == name) return static_cast<MapId>(i);
    }
    return std::nullopt;
}

Result<MapId> Runtime::add_map(const MapSpec& spec) {
    auto map = create_map(spec, impl_->options.map_limits);
    if (!map) return map.error();
    return impl_->add_map(std::move(*map));
}

Status Runtime::set_reference(MapId id, std::span<const uint8_t> key, uint32_t target) {
    if (id >= impl_->maps.size()) return make_error(ErrorKind::InvalidInput, "no map " + std::to_string(id));
    auto* references = dynamic_cast<ReferenceMap*>(impl_->maps[id].get());
    if (references == nullptr) {
        return make_error(ErrorKind::InvalidInput,
                          "map '" + impl_->maps[id]->name() + "' holds values, not programs or maps");
    }
    const MapSpec& spec = references->spec();
    if (key.size() != spec.key_size) {
        return make_error(ErrorKind::InvalidInput, "map '" + spec.name + "' has " +
                                                       std::to_string(spec.key_size) + "-byte keys, not " +
                                                       std::to_string(key.size()));
    }
    if (references->holds_programs()) {
        if (target >= impl_->programs.size()) {
            return make_error(
                ErrorKind::InvalidInput,
                "prog array '" + spec.name + "': there is no program " + std::to_string(target));
        }
    } else {
        if (target >= impl_->maps.size()) {
            return make_error(ErrorKind::InvalidInput,
                              "map of maps '" + spec.name + "': there is no map " + std::to_string(target));
        }
        if (!spec.inner || !matches_template(impl_->maps[target]->spec(), *spec.inner)) {
            return make_error(ErrorKind::InvalidInput, "map of maps '" + spec.name + "': map '" +
                                                           impl_->maps[target]->name() +
                                                           "' does not match its inner map template");
        }
    }
    const int64_t result = references->set(key.data(), target, kUpdateAny);
    if (result != 0) {
        return make_error(ErrorKind::InvalidInput,
                          "map '" + spec.name + "': update failed with " + std::to_string(result));
    }
    return Ok{};
}

size_t Runtime::program_count() const {
    return impl_->programs.size();
}
const ProgramSpec& Runtime::program(ProgramId id) const {
    return impl_->programs.at(id);
}

std::optional<ProgramId> Runtime::find_program(std::string_view name) const {
    for (size_t i = 0; i < impl_->programs.size(); ++i) {
        if (impl_->programs[i].name == name) return static_cast<ProgramId>(i);
    }
    return std::nullopt;
}

Result<const isa::Program*> Runtime::prepared(ProgramId id) const {
    if (id >= impl_->prepared.size())
        return make_error(ErrorKind::InvalidInput, "no program " + std::to_string(id));
    const PreparedEntry& entry = impl_->prepared[id];
    if (entry.error) return *entry.error;
    return &entry.prepared->code;
}

void Runtime::add_helper(const isa::HelperPrototype& prototype, HelperFunction function) {
    impl_->install_helper(prototype, std::string(prototype.name), std::move(function));
}

const HelperTable& Runtime::helpers() const {
    return impl_->helper_table;
}

Result<RunOutcome> Runtime::run(ProgramId id, const RunRequest& request, Engine& engine) {
    auto code = prepared(id);
    if (!code) return code.error();
    const ProgramSpec& spec = impl_->programs[id];
    if (request.cpu >= impl_->options.map_limits.cpus) {
        return make_error(ErrorKind::InvalidInput, "CPU " + std::to_string(request.cpu) +
                                                       " does not exist; the run has " +
                                                       std::to_string(impl_->options.map_limits.cpus));
    }

    RunOutcome outcome;
    RunState run;
    run.program = id;
    run.type = spec.type;
    run.request = &request;
    run.outcome = &outcome;

    RunInput input;
    input.helpers = &impl_->helper_table;
    input.instruction_budget = impl_->options.instruction_budget;
    input.programs = impl_->tail_call_targets;
    for (const auto& map : impl_->maps) map->add_regions(input.memory);
    if (auto s = build_run_context(*impl_, run, input); !s) return s.error();

    impl_->run = &run;
    auto result = engine.run(**code, input);
    impl_->run = nullptr;

    if (result) {
        outcome.r0 = result->r0;
        outcome.instructions = result->instructions;
        outcome.instructions_exact = result->instructions_exact;
        if (auto name = isa::verdict_name(spec.type, result->r0)) outcome.verdict = std::string(*name);
    } else {
        outcome.error = explain_unknown_helper(result.error(), impl_->programs[run.program]);
        outcome.error_program = run.program;
    }
    collect_packet(run);
    return outcome;
}

}  // namespace bpfvm::vm
