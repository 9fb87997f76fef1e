// What the loader makes of a clang-built BPF object: self-contained programs (subprograms
// linked in), map definitions (BTF-defined, legacy and global data) and source information.
// Plain data that the verifier, the runtime and `bpfvm info` read; nothing here executes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
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

// One slot of a prog array or map-in-map filled at load time by a BTF `values` initializer.
struct MapInitialValue {
    uint32_t key = 0;
    std::string target;  // the program's function name (prog array) or the inner map's name
};

struct MapDefinition {
    std::string name;  // the variable's name, or the section's for global data (".rodata")
    isa::MapType type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t flags;
    uint32_t pinning = 0;    // LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1)
    uint64_t map_extra = 0;  // bloom filter hash count, arena address, ...
    uint32_t numa_node = 0;
    MapOrigin origin;
    // BTF ids when the definition names types (0 otherwise). Global data: the value is the
    // section's DATASEC (when the BTF has one laid out for it), the key (u32 index 0) has none.
    uint32_t key_type_id = 0;
    uint32_t value_type_id = 0;
    std::vector<uint8_t> initial_data;  // global data: the section's bytes; empty for .bss (zeros)
    bool read_only = false;             // .rodata and friends
    // Map-in-map: the template of the inner maps (from `__array(values, struct {...})`).
    std::shared_ptr<const MapDefinition> inner;
    std::vector<MapInitialValue> initial_values;
};

// Where one instruction of a linked program came from.
struct SourceLocation {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
    std::string text;  // the source line, as BTF line info records it
};

// An instruction whose CO-RE relocation did not resolve against the target BTF. It was
// replaced by `call 0xbad2310` (as libbpf does); running or verifying it is an error with
// this message, while code that never reaches it (behind bpf_core_field_exists()) is fine.
struct UnresolvedRelocation {
    uint32_t instruction = 0;  // index into Program::code.instructions
    std::string message;
};

struct Program {
    std::string section;   // ELF section name as written in SEC()
    std::string function;  // the C function name
    isa::ProgramType type;
    std::string expected_attach_type;  // libbpf's name, empty when none
    // Why this program cannot be loaded, when the fault lies in its own code or in a subprogram
    // it calls: an instruction that does not decode, a jump or call that leaves its function, a
    // relocation or CO-RE record of one of its instructions that does not fit or names what
    // bpfvm does not support (externs, kfuncs). The location is the faulty instruction (its
    // section and slot there, as llvm-objdump numbers it) and the message names its function.
    // Such a program keeps its section, function and type but has no code (and no function_of,
    // source or unresolved entries); the object's other programs load as usual. Faults in what
    // every program needs (ELF structure, maps, BTF, license) fail load_object instead.
    std::optional<Error> load_error;
    isa::Program code;  // decoded, with subprograms appended and calls fixed
    // Per instruction of code: the function it belongs to and its source line, when known.
    std::vector<std::string> function_of;
    std::vector<std::optional<SourceLocation>> source;
    std::vector<UnresolvedRelocation> unresolved;
    // The source file of the program's entry function, from BTF line info ("" when unknown).
    std::string source_file() const;
};

struct Object {
    std::string path;
    std::string license;
    std::optional<uint32_t> kernel_version;
    std::vector<Program> programs;
    std::vector<MapDefinition> maps;
    // Null when the object has no .BTF. DATASEC sizes and variable offsets are filled in from
    // the ELF sections and symbols, as libbpf does when it opens an object.
    std::shared_ptr<const Btf> btf;
};

struct LoadOptions {
    // The program type for every program, overriding section names (`--type`).
    std::optional<isa::ProgramType> type_override;
    // The BTF that CO-RE relocations are resolved against (`--btf`, e.g. the running kernel's
    // /sys/kernel/btf/vmlinux). Null: the object's own BTF, so the offsets clang compiled in
    // stand, as on a kernel whose types match the headers the program was built with.
    std::shared_ptr<const Btf> core_target;
};

Result<Object> load_object(const std::filesystem::path& path, const LoadOptions& options = {});
// The same from bytes already in memory; `name` is used in error locations.
Result<Object> load_object(std::span<const uint8_t> bytes, const std::string& name,
                           const LoadOptions& options = {});

}  // namespace bpfvm::loader
