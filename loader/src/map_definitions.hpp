// Map definitions of an object, gathered as libbpf gathers them: legacy `maps` section
// (struct bpf_map_def records), BTF-defined `.maps` (a DATASEC of struct variables whose
// members encode the attributes), and global data sections (.data, .rodata, .bss and their
// dotted variants), in that order. Internal to the loader.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/elf.hpp"
#include "bpfvm/loader/object.hpp"

namespace bpfvm::loader::detail {

// Where a map's definition (or, for global data, its whole contents) sits in the ELF file:
// relocations name a symbol in that section, and the symbol's value says which map.
struct MapPlacement {
    uint32_t section = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    // BTF-defined maps with a `values` member: its byte offset in the definition, where the
    // `.rel.maps` initializers point.
    std::optional<uint32_t> values_offset;
};

struct MapTable {
    std::vector<MapDefinition> maps;
    std::vector<MapPlacement> placement;  // parallel to maps

    // The definition map (legacy or BTF) whose record starts at this offset of the section.
    std::optional<uint32_t> definition_at(uint32_t section, uint64_t offset) const;
    // The definition map whose record contains this offset (for `.maps` initializers).
    std::optional<uint32_t> definition_containing(uint32_t section, uint64_t offset) const;
    // The global-data map made from this section.
    std::optional<uint32_t> data_map_of(uint32_t section) const;
};

// Completes the object's DATASECs from the ELF file, as libbpf does when it opens an object
// (btf_fixup_datasec): clang writes them with size 0 and offset 0 for every non-static
// variable. Each DATASEC named after a section gets the section's size, each global variable
// the value of its ELF symbol in that section, and each hidden global becomes static; the
// variables are then sorted by offset. Static variables keep their offsets (clang writes them)
// and externs, like the .kconfig and .ksyms sections, are left alone. A DATASEC that cannot be
// completed consistently (no such section, an entry that is not a variable, a variable without
// its symbol or outside the section) is left as it is: libbpf would refuse the object, bpfvm
// only needs the BTF to describe global data.
void fix_up_datasecs(const ElfFile& elf, Btf& btf);

// Whether libbpf makes a global-data map from a section of this name and type.
bool is_global_data_section(const ElfSection& section);

// All maps of the object. `btf` may be null (an object built without -g); BTF-defined maps
// then are an error naming the `.maps` section. Global-data maps are typed by their section's
// DATASEC, so `btf` should have been through fix_up_datasecs.
Result<MapTable> collect_maps(const ElfFile& elf, const Btf* btf);

// Reads the `values` initializers of BTF-defined prog-array and map-in-map definitions from
// `.rel.maps`: each relocation names the program function or the inner map stored at an index.
Status collect_map_initial_values(const ElfFile& elf, const Btf* btf, MapTable& table);

}  // namespace bpfvm::loader::detail
