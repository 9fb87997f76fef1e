#include "map_definitions.hpp"

#include <elf.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfvm::loader::detail {

namespace {

constexpr std::string_view kLegacyMapsSection = "maps";
constexpr std::string_view kBtfMapsSection = ".maps";
constexpr uint32_t kPinByName = 1;
constexpr uint32_t kFlagReadOnlyForPrograms = 0x80;  // BPF_F_RDONLY_PROG
constexpr uint32_t kFlagMmapable = 0x400;            // BPF_F_MMAPABLE
constexpr uint32_t kFileDescriptorSize = 4;          // prog array and map-in-map values are fds

Error map_error(const ElfFile& elf, std::string_view section, std::string message) {
    Location where;
    where.file = elf.file_name();
    where.section = std::string(section);
    return make_error(ErrorKind::InvalidInput, std::move(message), std::move(where));
}

Error unsupported(const ElfFile& elf, std::string_view section, std::string message) {
    Error error = map_error(elf, section, std::move(message));
    error.kind = ErrorKind::Unsupported;
    return error;
}

uint32_t read_u32(std::span<const uint8_t> bytes, size_t offset) {
    uint32_t value = 0;
    for (int i = 3; i >= 0; --i) value = value << 8 | bytes[offset + i];
    return value;
}

// A map type number the kernel defines; others are rejected by name of the map.
Result<isa::MapType> known_map_type(const ElfFile& elf, std::string_view section, const std::string& map,
                                    uint32_t value) {
    auto type = static_cast<isa::MapType>(value);
    if (isa::map_type_name(type) == "unknown") {
        return unsupported(elf, section,
                           "map '" + map + "': unsupported map type " + std::to_string(value) +
                               " (not a BPF_MAP_TYPE_* the kernel defines)");
    }
    return type;
}

// struct bpf_map_def { type, key_size, value_size, max_entries, map_flags } as u32s; newer
// tools append fields (inner_map_idx, numa_node) which must be zero, as libbpf requires.
Status collect_legacy_maps(const ElfFile& elf, MapTable& table) {
    const ElfSection* section = elf.section(kLegacyMapsSection);
    if (!section) return Ok{};
    std::vector<const ElfSymbol*> symbols;
    for (const ElfSymbol& symbol : elf.symbols()) {
        if (symbol.section == section->index && symbol.type != STT_SECTION) symbols.push_back(&symbol);
    }
    if (symbols.empty() || section->size == 0 || section->size % symbols.size() != 0) {
        return map_error(
            elf, section->name,
            "cannot tell the size of a legacy map definition: " + std::to_string(symbols.size()) +
                " map symbols in " + std::to_string(section->size) + " bytes");
    }
    if (section->data.size() != section->size) {
        return map_error(elf, section->name, "legacy maps section has no file data");
    }
    const uint64_t record_size = section->size / symbols.size();
    constexpr uint64_t kKnownFields = 5;
    for (const ElfSymbol* symbol : symbols) {
        if (symbol->value > section->size || record_size > section->size - symbol->value) {
            return map_error(elf, section->name,
                             "legacy map '" + symbol->name + "' at offset " + std::to_string(symbol->value) +
                                 " runs past the end of the section (" + std::to_string(section->size) +
                                 " bytes)");
        }
        auto record = section->data.subspan(symbol->value, record_size);
        uint32_t fields[kKnownFields] = {0, 0, 0, 0, 0};
        for (uint64_t i = 0; i < kKnownFields && (i + 1) * 4 <= record_size; ++i)
            fields[i] = read_u32(record, i * 4);
        for (uint64_t byte = kKnownFields * 4; byte < record_size; ++byte) {
            if (record[byte] != 0) {
                return unsupported(elf, section->name,
                                   "legacy map '" + symbol->name + "': non-zero byte at offset " +
                                       std::to_string(byte) + " of its " + std::to_string(record_size) +
                                       "-byte definition, a field bpfvm does not know");
            }
        }
        auto type = known_map_type(elf, section->name, symbol->name, fields[0]);
        if (!type) return type.error();
        MapDefinition map{};
        map.name = symbol->name;
        map.type = *type;
        map.key_size = fields[1];
        map.value_size = fields[2];
        map.max_entries = fields[3];
        map.flags = fields[4];
        map.origin = MapOrigin::Legacy;
        table.maps.push_back(std::move(map));
        table.placement.push_back({section->index, symbol->value, record_size, std::nullopt});
    }
    return Ok{};
}

// The BTF-defined map parser: each member of the definition struct is one attribute.
class BtfMapParser {
 public:
    BtfMapParser(const ElfFile& elf, const Btf& btf) : elf_(elf), btf_(btf) {}

    // `is_inner`: the template of a map-in-map's inner maps (no name, no pinning, no values).
    Result<MapDefinition> parse(uint32_t struct_id, const std::string& name, bool is_inner, int depth) {
        MapDefinition map{};
        map.name = name;
        map.origin = MapOrigin::Btf;
        std::optional<uint32_t> type;
        std::optional<uint32_t> key_size;
        std::optional<uint32_t> value_size;
        bool has_values = false;
        uint32_t values_member_type = 0;
        for (const BtfMember& member : btf_.members(struct_id)) {
            std::string attribute(member.name);
            auto fail = [&](std::string why) {
                return map_error(elf_, kBtfMapsSection,
                                 "map '" + name + "': attribute '" + attribute + "' " + why);
            };
            if (attribute == "type" || attribute == "max_entries" || attribute == "map_flags" ||
                attribute == "numa_node" || attribute == "map_extra" || attribute == "key_size" ||
                attribute == "value_size" || attribute == "pinning") {
                auto value = uint_attribute(member.type);
                if (!value) return fail(value.error().message);
                if (attribute == "type") {
                    type = *value;
                } else if (attribute == "max_entries") {
                    map.max_entries = *value;
                } else if (attribute == "map_flags") {
                    map.flags = *value;
                } else if (attribute == "numa_node") {
                    map.numa_node = *value;
                } else if (attribute == "map_extra") {
                    map.map_extra = *value;
                } else if (attribute == "pinning") {
                    if (is_inner) return fail("is not allowed in an inner map definition");
                    if (*value > kPinByName) {
                        return fail("has value " + std::to_string(*value) +
                                    ": only 0 (none) and 1 (LIBBPF_PIN_BY_NAME) exist");
                    }
                    map.pinning = *value;
                } else if (auto& size = attribute == "key_size" ? key_size : value_size;
                           size && *size != *value) {
                    return fail("says " + std::to_string(*value) + " bytes but the type says " +
                                std::to_string(*size));
                } else {
                    size = *value;
                }
            } else if (attribute == "key" || attribute == "value") {
                auto pointee = pointee_of(member.type);
                if (!pointee) return fail(pointee.error().message);
                auto size = btf_.size_of(*pointee);
                if (!size) return fail("names a type without a size: " + size.error().message);
                auto& recorded = attribute == "key" ? key_size : value_size;
                if (recorded && *recorded != *size) {
                    return fail("has a " + std::to_string(*size) + "-byte type but the size attribute says " +
                                std::to_string(*recorded));
                }
                recorded = *size;
                (attribute == "key" ? map.key_type_id : map.value_type_id) = *pointee;
            } else if (attribute == "values") {
                if (is_inner) return fail("is not allowed in an inner map definition");
                has_values = true;
                values_member_type = member.type;
            } else {
                return unsupported(elf_, kBtfMapsSection,
                                   "map '" + name + "': unknown attribute '" + attribute + "'");
            }
        }
        if (!type) {
            return map_error(elf_, kBtfMapsSection, "map '" + name + "': definition has no 'type' attribute");
        }
        auto known = known_map_type(elf_, kBtfMapsSection, name, *type);
        if (!known) return known.error();
        map.type = *known;
        map.key_size = key_size.value_or(0);
        map.value_size = value_size.value_or(0);
        if (has_values) {
            // The values are file descriptors of programs or maps, as libbpf sizes them.
            if (value_size && *value_size != kFileDescriptorSize) {
                return map_error(elf_, kBtfMapsSection,
                                 "map '" + name +
                                     "': a map with 'values' holds 4-byte descriptors, but its value "
                                     "size is " +
                                     std::to_string(*value_size));
            }
            map.value_size = kFileDescriptorSize;
            Status status = parse_values(map, values_member_type, depth);
            if (!status) return status.error();
        }
        return map;
    }

 private:
    // `__uint(name, N)` is `int (*name)[N]`: a pointer to an array of N elements.
    Result<uint32_t> uint_attribute(uint32_t member_type) {
        auto pointer = btf_.resolve(member_type);
        if (!pointer) return pointer.error();
        const BtfType* t = btf_.type(*pointer);
        if (t->kind != BtfKind::Ptr)
            return invalid("is not __uint(): expected a pointer, found " + kind_of(*pointer));
        const BtfType* array = btf_.type(t->ref_type());
        if (!array || array->kind != BtfKind::Array) {
            return invalid("is not __uint(): expected a pointer to an array, found a pointer to " +
                           kind_of(t->ref_type()));
        }
        return array->array_nelems();
    }

    // `__type(name, T)` is `T *name`.
    Result<uint32_t> pointee_of(uint32_t member_type) {
        auto pointer = btf_.resolve(member_type);
        if (!pointer) return pointer.error();
        const BtfType* t = btf_.type(*pointer);
        if (t->kind != BtfKind::Ptr)
            return invalid("is not __type(): expected a pointer, found " + kind_of(*pointer));
        return t->ref_type();
    }

    // `__array(values, T)` is `T *values[]`: for map-in-map, T is the inner map's definition
    // struct; for a prog array, a function prototype.
    Status parse_values(MapDefinition& map, uint32_t member_type, int depth) {
        auto fail = [&](std::string why) {
            return map_error(elf_, kBtfMapsSection, "map '" + map.name + "': attribute 'values' " + why);
        };
        auto array_id = btf_.resolve(member_type);
        if (!array_id) return fail(array_id.error().message);
        const BtfType* array = btf_.type(*array_id);
        if (array->kind != BtfKind::Array) return fail("is not an array but " + kind_of(*array_id));
        auto pointer_id = btf_.resolve(array->array_elem_type());
        if (!pointer_id) return fail(pointer_id.error().message);
        const BtfType* pointer = btf_.type(*pointer_id);
        if (pointer->kind != BtfKind::Ptr)
            return fail("elements are not pointers but " + kind_of(*pointer_id));
        auto pointee_id = btf_.resolve(pointer->ref_type());
        if (!pointee_id) return fail(pointee_id.error().message);
        const BtfType* pointee = btf_.type(*pointee_id);
        bool map_in_map = map.type == isa::MapType::ArrayOfMaps || map.type == isa::MapType::HashOfMaps;
        if (map_in_map) {
            if (pointee->kind != BtfKind::Struct)
                return fail("of a map-in-map must point to a map definition");
            constexpr int kMaxNesting = 1;  // the kernel allows no map-in-map-in-map
            if (depth >= kMaxNesting)
                return fail("nests map-in-map definitions, which the kernel does not allow");
            auto inner = parse(*pointee_id, map.name + ".inner", true, depth + 1);
            if (!inner) return inner.error();
            map.inner = std::make_shared<const MapDefinition>(std::move(*inner));
            return Ok{};
        }
        if (map.type == isa::MapType::ProgArray) {
            if (pointee->kind != BtfKind::FuncProto) return fail("of a prog array must point to functions");
            return Ok{};
        }
        return fail("is only allowed in prog arrays and map-in-map definitions, not in a " +
                    std::string(isa::map_type_name(map.type)) + " map");
    }

    std::string kind_of(uint32_t id) const {
        const BtfType* t = btf_.type(id);
        return t ? std::string(btf_kind_name(t->kind)) : "an invalid type id";
    }

    static Error invalid(std::string message) {
        return make_error(ErrorKind::InvalidInput, std::move(message));
    }

    const ElfFile& elf_;
    const Btf& btf_;
};

Status collect_btf_maps(const ElfFile& elf, const Btf* btf, MapTable& table) {
    const ElfSection* section = elf.section(kBtfMapsSection);
    if (!section) return Ok{};
    if (!btf) {
        return map_error(
            elf, kBtfMapsSection,
            "BTF-defined maps need the object's BTF, but it has no .BTF section (build with -g)");
    }
    auto datasec = btf->find_by_name(kBtfMapsSection, BtfKind::Datasec);
    if (!datasec)
        return map_error(elf, kBtfMapsSection, "the BTF has no DATASEC '.maps' describing the section");
    for (const BtfVarSecinfo& info : btf->var_secinfos(*datasec)) {
        const BtfType* var = btf->type(info.type);
        if (!var || var->kind != BtfKind::Var) {
            return map_error(elf, kBtfMapsSection,
                             "DATASEC entry at offset " + std::to_string(info.offset) + " is not a variable");
        }
        std::string name(btf->name(info.type));
        // clang may leave DATASEC offsets zero (libbpf fixes them up the same way): the ELF
        // symbol of the variable says where its definition is.
        const ElfSymbol* symbol = nullptr;
        for (const ElfSymbol& candidate : elf.symbols()) {
            if (candidate.section == section->index && candidate.name == name) symbol = &candidate;
        }
        if (!symbol) {
            return map_error(elf, kBtfMapsSection,
                             "map '" + name + "' has no ELF symbol in the .maps section");
        }
        uint64_t size = symbol->size ? symbol->size : info.size;
        if (symbol->value > section->size || size > section->size - symbol->value) {
            return map_error(elf, kBtfMapsSection,
                             "map '" + name + "' at offset " + std::to_string(symbol->value) + " (" +
                                 std::to_string(size) + " bytes) runs past the end of the section (" +
                                 std::to_string(section->size) + " bytes)");
        }
        auto struct_id = btf->resolve(var->ref_type());
        if (!struct_id)
            return map_error(elf, kBtfMapsSection, "map '" + name + "': " + struct_id.error().message);
        if (btf->type(*struct_id)->kind != BtfKind::Struct) {
            return map_error(elf, kBtfMapsSection, "map '" + name + "': definition is not a struct");
        }
        auto map = BtfMapParser(elf, *btf).parse(*struct_id, name, false, 0);
        if (!map) return map.error();
        MapPlacement placement{section->index, symbol->value, size, std::nullopt};
        for (const BtfMember& member : btf->members(*struct_id)) {
            if (member.name == "values") placement.values_offset = member.bit_offset / 8;
        }
        table.maps.push_back(std::move(*map));
        table.placement.push_back(placement);
    }
    return Ok{};
}

Status collect_global_data(const ElfFile& elf, const Btf* btf, MapTable& table) {
    // The kernel's limit on an array map's value size.
    constexpr uint64_t kMaxValueSize = INT32_MAX;
    // The first DATASEC of each name (btf__find_by_name_kind), indexed once for all sections.
    std::map<std::string_view, uint32_t> datasecs;
    for (uint32_t id = 1; btf && id < btf->type_count(); ++id) {
        if (btf->type(id)->kind == BtfKind::Datasec) datasecs.try_emplace(btf->name(id), id);
    }
    for (const ElfSection& section : elf.sections()) {
        if (!is_global_data_section(section) || section.size == 0) continue;
        if (section.size > kMaxValueSize) {
            return map_error(elf, section.name,
                             "global data section of " + std::to_string(section.size) +
                                 " bytes is larger than an array map value may be (" +
                                 std::to_string(kMaxValueSize) + ")");
        }
        MapDefinition map{};
        map.name = section.name;
        map.type = isa::MapType::Array;
        map.key_size = 4;
        map.value_size = static_cast<uint32_t>(section.size);
        map.max_entries = 1;
        map.origin = MapOrigin::GlobalData;
        map.read_only = section.name.starts_with(".rodata");
        // .bss (SHT_NOBITS) has no bytes in the file and starts zeroed: initial_data stays empty.
        if (section.type != SHT_NOBITS) map.initial_data.assign(section.data.begin(), section.data.end());
        // The value is the section's DATASEC, as libbpf types it (the key stays the plain u32
        // index 0); only one laid out for these bytes describes them.
        bool has_global_variable = false;
        if (auto datasec = datasecs.find(section.name);
            datasec != datasecs.end() && btf->type(datasec->second)->size() == section.size) {
            map.value_type_id = datasec->second;
            for (const BtfVarSecinfo& variable : btf->var_secinfos(datasec->second)) {
                const BtfType* var = btf->type(variable.type);
                if (var != nullptr && var->kind == BtfKind::Var && var->var_linkage() != BtfLinkage::Static)
                    has_global_variable = true;
            }
        }
        // As libbpf (map_is_mmapable): user space may mmap a section holding a non-static
        // variable; programs may not write .rodata.
        map.flags =
            (has_global_variable ? kFlagMmapable : 0) | (map.read_only ? kFlagReadOnlyForPrograms : 0);
        table.maps.push_back(std::move(map));
        table.placement.push_back({section.index, 0, section.size, std::nullopt});
    }
    return Ok{};
}

// libbpf's btf_fixup_datasec over one object. Sections and symbols are indexed once, so a
// crafted object with many DATASECs, variables or symbols costs n log n, not n * m.
class DatasecFixer {
 public:
    DatasecFixer(const ElfFile& elf, Btf& btf) : btf_(btf) {
        for (const ElfSection& section : elf.sections()) sections_.try_emplace(section.name, &section);
        // The symbol libbpf matches a variable with (find_elf_var_sym): the first global or
        // weak object of that name; here also required to be in the variable's section.
        for (const ElfSymbol& symbol : elf.symbols()) {
            if (symbol.type == STT_OBJECT && (symbol.binding == STB_GLOBAL || symbol.binding == STB_WEAK))
                symbols_.try_emplace(std::pair{uint32_t{symbol.section}, std::string_view(symbol.name)},
                                     &symbol);
        }
    }

    // The fix-up of one DATASEC, or nothing when it cannot be done consistently.
    void fix_up(uint32_t id) {
        const BtfType& datasec = *btf_.type(id);
        // The extern sections are laid out from the externs (libbpf's collect_externs), which
        // bpfvm does not support; their names are not ELF sections.
        if (datasec.name.empty() || datasec.name == ".kconfig" || datasec.name == ".ksyms") return;
        auto found = sections_.find(datasec.name);
        if (found == sections_.end()) return;
        const ElfSection& section = *found->second;
        if (section.size == 0 || section.size > UINT32_MAX) return;
        // The BPF static linker writes sizes and offsets; then only the linkage is fixed up.
        const bool clang_layout = datasec.size() == 0;
        const uint32_t size = clang_layout ? static_cast<uint32_t>(section.size) : datasec.size();
        std::vector<uint32_t> offsets;
        std::vector<uint32_t> hidden;
        for (const BtfVarSecinfo& info : btf_.var_secinfos(id)) {
            const BtfType* var = btf_.type(info.type);
            if (!var || var->kind != BtfKind::Var) return;
            uint32_t offset = info.offset;
            // Static variables have their offsets (clang writes them relative to the section);
            // externs have no storage here.
            if (var->var_linkage() != BtfLinkage::Static && var->var_linkage() != BtfLinkage::Extern) {
                auto symbol = symbols_.find(std::pair{section.index, var->name});
                if (symbol == symbols_.end() || symbol->second->value > UINT32_MAX) return;
                if (clang_layout) offset = static_cast<uint32_t>(symbol->second->value);
                // As libbpf does for functions: a hidden global is private to the object, which
                // makes it static to the kernel.
                const uint8_t visibility = symbol->second->visibility;
                if (visibility == STV_HIDDEN || visibility == STV_INTERNAL) hidden.push_back(info.type);
            }
            if (offset > size || info.size > size - offset) return;
            offsets.push_back(offset);
        }
        btf_.lay_out_datasec(id, size, offsets);
        for (uint32_t var : hidden) btf_.set_var_linkage(var, BtfLinkage::Static);
    }

 private:
    Btf& btf_;
    std::map<std::string_view, const ElfSection*> sections_;  // the first of each name
    std::map<std::pair<uint32_t, std::string_view>, const ElfSymbol*> symbols_;
};

bool has_prefix_or_equals(std::string_view name, std::string_view base) {
    return name == base || (name.starts_with(base) && name.size() > base.size() && name[base.size()] == '.');
}

}  // namespace

std::optional<uint32_t> MapTable::definition_at(uint32_t section, uint64_t offset) const {
    for (uint32_t i = 0; i < maps.size(); ++i) {
        if (maps[i].origin != MapOrigin::GlobalData && placement[i].section == section &&
            placement[i].offset == offset) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<uint32_t> MapTable::definition_containing(uint32_t section, uint64_t offset) const {
    for (uint32_t i = 0; i < maps.size(); ++i) {
        if (maps[i].origin != MapOrigin::GlobalData && placement[i].section == section &&
            offset >= placement[i].offset && offset - placement[i].offset < placement[i].size) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<uint32_t> MapTable::data_map_of(uint32_t section) const {
    for (uint32_t i = 0; i < maps.size(); ++i) {
        if (maps[i].origin == MapOrigin::GlobalData && placement[i].section == section) return i;
    }
    return std::nullopt;
}

void fix_up_datasecs(const ElfFile& elf, Btf& btf) {
    DatasecFixer fixer(elf, btf);
    for (uint32_t id = 1; id < btf.type_count(); ++id) {
        if (btf.type(id)->kind == BtfKind::Datasec) fixer.fix_up(id);
    }
}

bool is_global_data_section(const ElfSection& section) {
    if (!(section.flags & SHF_ALLOC) || (section.flags & SHF_EXECINSTR)) return false;
    if (section.type == SHT_PROGBITS) {
        return has_prefix_or_equals(section.name, ".data") || has_prefix_or_equals(section.name, ".rodata");
    }
    return section.type == SHT_NOBITS && has_prefix_or_equals(section.name, ".bss");
}

Result<MapTable> collect_maps(const ElfFile& elf, const Btf* btf) {
    MapTable table;
    if (Status status = collect_legacy_maps(elf, table); !status) return status.error();
    if (Status status = collect_btf_maps(elf, btf, table); !status) return status.error();
    if (Status status = collect_global_data(elf, btf, table); !status) return status.error();
    return table;
}

Status collect_map_initial_values(const ElfFile& elf, const Btf* btf, MapTable& table) {
    const ElfSection* section = elf.section(kBtfMapsSection);
    if (!section || !btf) return Ok{};
    auto relocations = elf.relocations_for(section->index);
    if (!relocations) return relocations.error();
    for (const ElfRelocation& relocation : *relocations) {
        auto fail = [&](std::string why) {
            return map_error(
                elf, kBtfMapsSection,
                "relocation at offset " + std::to_string(relocation.offset) + ": " + std::move(why));
        };
        auto index = table.definition_containing(section->index, relocation.offset);
        if (!index) return fail("is not inside any map definition");
        MapDefinition& map = table.maps[*index];
        bool map_in_map = map.type == isa::MapType::ArrayOfMaps || map.type == isa::MapType::HashOfMaps;
        if (!map_in_map && map.type != isa::MapType::ProgArray) {
            return fail("initializes map '" + map.name + "', which is neither a prog array nor a map-in-map");
        }
        const std::optional<uint32_t>& values_offset = table.placement[*index].values_offset;
        uint64_t within = relocation.offset - table.placement[*index].offset;
        if (!values_offset || within < *values_offset || (within - *values_offset) % 8 != 0) {
            return fail("in map '" + map.name + "' is not at an element of its 'values' array");
        }
        const ElfSymbol& symbol = elf.symbols()[relocation.symbol];
        if (symbol.name.empty()) return fail("names no symbol (a section symbol cannot be a map or program)");
        if (map_in_map) {
            const ElfSection* target = elf.section(symbol.section);
            if (!target || target->index != section->index ||
                !table.definition_at(section->index, symbol.value)) {
                return fail("in map-in-map '" + map.name + "' names '" + symbol.name +
                            "', which is not a map");
            }
        } else if (symbol.type != STT_FUNC) {
            return fail("in prog array '" + map.name + "' names '" + symbol.name +
                        "', which is not a function");
        }
        uint64_t key = (within - *values_offset) / 8;
        if (key >= map.max_entries) {
            return fail("sets element " + std::to_string(key) + " of map '" + map.name +
                        "', which has only " + std::to_string(map.max_entries) + " entries");
        }
        map.initial_values.push_back({static_cast<uint32_t>(key), symbol.name});
    }
    return Ok{};
}

}  // namespace bpfvm::loader::detail
