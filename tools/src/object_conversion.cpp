#include "object_conversion.hpp"

#include <algorithm>
#include <iterator>

#include "bpfvm/loader/btf.hpp"

namespace bpfvm::tools {

bool gpl_compatible(const std::string& license) {
    static const char* const kCompatible[] = {"GPL",          "GPL v2",       "GPL and additional rights",
                                              "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"};
    return std::any_of(std::begin(kCompatible), std::end(kCompatible),
                       [&](const char* name) { return license == name; });
}

std::map<uint32_t, std::string> poisoned_instructions(const loader::Program& program) {
    std::map<uint32_t, std::string> poisoned;
    for (const loader::UnresolvedRelocation& unresolved : program.unresolved) {
        poisoned[unresolved.instruction] = unresolved.message;
    }
    return poisoned;
}

namespace {

// Where the kernel finds a value's lock (btf_find_spin_lock): a member of the value struct, or a
// variable of a global data section, whose type is struct bpf_spin_lock.
std::optional<uint32_t> spin_lock_offset(const loader::Btf& btf, uint32_t type_id) {
    auto is_spin_lock = [&](uint32_t id) {
        auto resolved = btf.resolve(id);
        if (!resolved) return false;
        const loader::BtfType* type = btf.type(*resolved);
        return type != nullptr && type->kind == loader::BtfKind::Struct && type->name == "bpf_spin_lock";
    };
    auto resolved = btf.resolve(type_id);
    if (!resolved) return std::nullopt;
    const loader::BtfType* type = btf.type(*resolved);
    if (type == nullptr) return std::nullopt;
    if (type->kind == loader::BtfKind::Struct) {
        for (const loader::BtfMember& member : btf.members(*resolved)) {
            if (member.bitfield_size == 0 && is_spin_lock(member.type)) return member.bit_offset / 8;
        }
    } else if (type->kind == loader::BtfKind::Datasec) {
        for (const loader::BtfVarSecinfo& var : btf.var_secinfos(*resolved)) {
            const loader::BtfType* var_type = btf.type(var.type);
            if (var_type != nullptr && var_type->kind == loader::BtfKind::Var &&
                is_spin_lock(var_type->ref_type()))
                return var.offset;
        }
    }
    return std::nullopt;
}

verifier::MapInfo map_info(const loader::MapDefinition& definition, const loader::Btf* btf) {
    verifier::MapInfo info;
    info.name = definition.name;
    info.type = definition.type;
    info.key_size = definition.key_size;
    info.value_size = definition.value_size;
    info.max_entries = definition.max_entries;
    info.flags = definition.flags;
    info.read_only = definition.read_only;
    info.initial_data = definition.initial_data;
    if (definition.inner)
        info.inner = std::make_shared<const verifier::MapInfo>(map_info(*definition.inner, btf));
    if (btf != nullptr && definition.value_type_id != 0)
        info.spin_lock_offset = spin_lock_offset(*btf, definition.value_type_id);
    return info;
}

}  // namespace

std::vector<verifier::MapInfo> verifier_maps(const loader::Object& object) {
    std::vector<verifier::MapInfo> maps;
    for (const loader::MapDefinition& definition : object.maps)
        maps.push_back(map_info(definition, object.btf.get()));
    return maps;
}

verifier::VerifyOptions verify_options(const loader::Object& object, const loader::Program& program,
                                       bool privileged) {
    verifier::VerifyOptions options;
    options.privileged = privileged;
    options.gpl_compatible = gpl_compatible(object.license);
    options.poisoned = poisoned_instructions(program);
    return options;
}

isa::DisasmOptions with_object_names(isa::DisasmOptions style, const loader::Object& object,
                                     const loader::Program& program) {
    style.map_name = [&object](uint32_t index) {
        return index < object.maps.size() ? object.maps[index].name : "#" + std::to_string(index);
    };
    style.function_name = [&program](uint32_t instruction) {
        return instruction < program.function_of.size() ? program.function_of[instruction] : "?";
    };
    return style;
}

}  // namespace bpfvm::tools
