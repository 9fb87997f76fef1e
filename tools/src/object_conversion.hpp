// What the commands that hand a loaded object to the library (`run`, `verify`) and the ones that
// print it (`disasm`, `verify`) make of it the same way: the license rule, the instructions that
// unresolved CO-RE relocations poison, and the names instructions are printed with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/verifier/verifier.hpp"

namespace bpfvm::tools {

// The kernel's license_is_gpl_compatible.
bool gpl_compatible(const std::string& license);

// Instruction index -> why it must never run, from the program's unresolved CO-RE relocations.
std::map<uint32_t, std::string> poisoned_instructions(const loader::Program& program);

// The verifier's view of the object's maps, in the loader's order (the indices ld_imm64 uses):
// sizes, flags, initial data, inner maps and where a value's bpf_spin_lock sits.
std::vector<verifier::MapInfo> verifier_maps(const loader::Object& object);

// The options one program of the object is verified with: the license rule and the
// instructions unresolved CO-RE relocations poisoned.
verifier::VerifyOptions verify_options(const loader::Object& object, const loader::Program& program,
                                       bool privileged);

// `style` with the names the loader resolved: `r1 = map[counters] ll`, `call +4 <sum>`. The
// result refers to `object` and `program`, which must outlive it.
isa::DisasmOptions with_object_names(isa::DisasmOptions style, const loader::Object& object,
                                     const loader::Program& program);

}  // namespace bpfvm::tools
