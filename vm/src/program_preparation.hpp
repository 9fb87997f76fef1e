// Turns a loaded program into the one every engine runs, as the kernel does after verification:
// ld_imm64 references to maps, map values and subprograms become constants, and loads of the
// context's 32-bit packet pointer fields become 64-bit loads of real pointers. Context accesses
// the kernel would refuse (a field the type may not read or write, a narrow load of a packet
// pointer, an access through a context pointer plus an offset) are errors here.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "bpfvm/isa/contexts.hpp"
#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::vm {

// A subprogram's address as ld_imm64 of a function leaves it in a register: a tag a program
// cannot mistake for memory, and the function's instruction index. bpf_loop and
// for_each_map_elem check the index against the program's function entries.
inline constexpr uint64_t kFunctionAddressTag = 0xbf0f'0000'0000'0000;
inline constexpr uint64_t kFunctionAddressTagMask = 0xffff'ffff'0000'0000;

// What the runtime gives for the map references of a program.
struct ProgramLinks {
    // The handle a map argument of a helper carries (map index as the loader numbered maps).
    std::function<Result<uint64_t>(uint32_t map_index)> map_handle;
    // The address of byte `offset` of a global data map's value (map index + offset form).
    std::function<Result<uint64_t>(uint32_t map_index, uint32_t offset)> map_value_address;
};

struct PreparedProgram {
    isa::Program code;
    // Instruction indices where functions start: 0, local call targets and ld_imm64 function
    // references (callbacks), sorted.
    std::vector<uint32_t> function_entries;
};

// Context accesses are checked against isa::context_layout(type, platform); packet field loads
// are rewritten for the runtime's context memory (context_memory.hpp).
Result<PreparedProgram> prepare_program(const isa::Program& code, isa::ProgramType type,
                                        isa::Platform platform, const ProgramLinks& links);

}  // namespace bpfvm::vm
