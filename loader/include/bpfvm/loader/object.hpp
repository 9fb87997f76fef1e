// What the loader makes of a clang-built BPF object: self-contained programs (subprograms
// linked in), map definitions (BTF-defined, legacy and global data) and source information.
// Plain data that the verifier, the runtime and `bpfvm info` read; nothing here executes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::loader {

class Btf;

// Where a map definition came from.
enum class MapOrigin : uint8_t { Btf, Legacy, GlobalData };
std::string_view map_origin_name(MapOrigin origin);

struct MapDefinition {
    std::string name;  // the variable's name, or the section's for global data (".rodata")
    isa::MapType type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t flags;
    uint32_t pinning = 0;
    MapOrigin origin;
    uint32_t key_type_id = 0;  // BTF ids when the definition names types (0 otherwise)
    uint32_t value_type_id = 0;
    std::vector<uint8_t> initial_data;  // global data: the section's bytes (zeros for .bss)
    bool read_only = false;             // .rodata and friends
    std::optional<uint32_t> inner_map;  // map-in-map: index of the inner map's definition
};

// Where one instruction of a linked program came from.
struct SourceLocation {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
    std::string text;  // the source line, as BTF line info records it
};

struct Program {
    std::string section;   // ELF section name as written in SEC()
    std::string function;  // the C function name
    isa::ProgramType type;
    std::string expected_attach_type;  // libbpf's name, empty when none
    isa::Program code;                 // decoded, with subprograms appended and calls fixed
    // Per instruction of code: the function it belongs to and its source line, when known.
    std::vector<std::string> function_of;
    std::vector<std::optional<SourceLocation>> source;
};

struct Object {
    std::string path;
    std::string license;
    std::optional<uint32_t> kernel_version;
    std::vector<Program> programs;
    std::vector<MapDefinition> maps;
    std::shared_ptr<const Btf> btf;  // null when the object has no .BTF
};

struct LoadOptions {
    // The program type for every program, overriding section names (`--type`).
    std::optional<isa::ProgramType> type_override;
};

Result<Object> load_object(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace bpfvm::loader
