// CO-RE ("compile once, run everywhere") relocations: clang records, for each instruction
// that bakes in a field offset, a type id, a type size or an enum value, the access it meant
// ("struct task_struct, member 3, member 1") in `.BTF.ext`. Resolving the access against a
// target BTF (the running kernel's, or the object's own) gives the value the instruction must
// hold on that target. Follows the rules in the kernel's Documentation/bpf/llvm_reloc.rst and
// libbpf's documented CO-RE semantics (candidate types by essential name, "___flavor"
// suffixes ignored, field compatibility, ambiguity is an error).
//
// All inputs may be hostile: access strings, indices and type graphs are checked, recursion
// is bounded, and the work one relocation may take is capped (an error past the cap), so a
// crafted BTF cannot make resolution crash, read out of bounds or run for long.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/loader/btf.hpp"

namespace bpfvm::loader {

// "byte_off", "type_exists", "enumval_value", ... as libbpf prints the kinds in its logs.
std::string_view core_relo_kind_name(BtfCoreReloKind kind);

// A type name without its "___flavor" suffix: "task_struct___pre514" -> "task_struct". The
// suffix starts at the last "___" that has a character other than '_' on both sides
// ("a____b" and "a___" keep their names), as libbpf defines it.
std::string_view core_essential_name(std::string_view name);

// What one relocation resolves to.
struct CoreResolution {
    // The access as written, for messages: "struct task_struct.se.vruntime (0:55:3:1)".
    std::string description;
    // The value clang compiled in, computed from the local BTF; the instruction must hold it
    // (when check_local_value says so).
    uint64_t local_value = 0;
    // False when the instruction must not run (it is poisoned): a field or enum value that
    // the target lacks. The *_exists kinds, type_size, type_matches and target_type_id
    // resolve to 0 instead and set this true, as libbpf does.
    bool resolved = false;
    uint64_t target_value = 0;
    // Whether a target type (and, for field and enum value kinds, the field or enumerator)
    // matched the access. False with resolved == true for the kinds that resolve to 0.
    bool found = false;
    // Whether the instruction must hold local_value before it is patched. libbpf does not
    // check bitfield offsets, sizes and left shifts (clang may pick another load size than
    // the one computed here) nor type ids (linking renumbers them); neither does bpfvm.
    bool check_local_value = true;
    // Field byte offsets used by a load or store: the field's size on the local and target
    // side, so the memory access size can follow the target when the two differ. Zero for
    // the other kinds and for bitfields.
    uint32_t local_field_size = 0;
    uint32_t target_field_size = 0;
    // When the two sizes differ, whether a load or store may change its size to the target's:
    // only for pointers and integers that are not signed on either side (a zero-extending
    // load of a narrower unsigned field keeps its value). A memory access whose size cannot
    // follow is poisoned, as libbpf does.
    bool access_size_adjustable = true;
    // Why it did not resolve, or why nothing was found for a kind that resolves to 0 ("no
    // struct named task_struct in the target BTF", "member 'state' not found in struct
    // task_struct"); empty when found.
    std::string failure;
};

// The named types of a target BTF indexed by essential name, built once so that resolving
// many relocations against a large target (vmlinux has over 100,000 types) does not scan
// every type for each relocation. Refers to `target`, which must outlive the index and stay
// where it is.
class CoreTargetIndex {
 public:
    explicit CoreTargetIndex(const Btf& target);

    const Btf& btf() const { return *target_; }
    // Ids of the types whose essential name is `essential_name`, ascending. Empty for "".
    std::span<const uint32_t> types_named(std::string_view essential_name) const;

 private:
    const Btf* target_;
    std::vector<std::string_view> names_;  // sorted; ids_[i] is the type named names_[i]
    std::vector<uint32_t> ids_;
};

// Resolves one relocation. Errors only for malformed records (a bad access string, an index
// outside its type, a root type of the wrong kind or without a name), for a target BTF that
// cannot be followed (cycles), for too much work, or for an ambiguous target (two candidate
// types giving different values); a missing target type or field is a CoreResolution with
// resolved == false (or, for the kinds that resolve to 0, found == false).
Result<CoreResolution> resolve_core_relocation(const Btf& local, const Btf& target, const BtfCoreRelo& relo);
// The same with a prebuilt index of the target: use it for more than a few relocations.
Result<CoreResolution> resolve_core_relocation(const Btf& local, const CoreTargetIndex& target,
                                               const BtfCoreRelo& relo);

// One instruction that was poisoned because its relocation did not resolve. Running or
// verifying that instruction is an error carrying `message`; code that never reaches it (for
// example behind a bpf_core_field_exists() check) is fine, as with libbpf.
struct CorePoison {
    uint32_t slot = 0;  // slot index in the section's code
    std::string message;
};

// Applies every CO-RE record of one code section to its raw slots: checks that the
// instruction at insn_off is one a CO-RE relocation may patch (ALU or ALU64 with an immediate
// source, a load or store offset, a plain LD_IMM64) and holds the local value, then writes the
// target value: the immediate, the offset (which must fit in 16 bits signed), or both halves
// of the 64-bit immediate. When a field's size differs on the target, a load or store of it
// changes its access size to the target's if access_size_adjustable (as libbpf does for
// pointers and unsigned integers) and is poisoned otherwise.
//
// As in libbpf, the records share their candidate lists: once a relocation of a root type
// matched some of its candidates (say foo___a, not foo___b, has the field), the later records
// of the same root type consider only those, so a field both flavors have is not ambiguous.
//
// Unresolved relocations poison the instruction: it becomes `call 0xbad2310`, libbpf's
// marker, and is appended to `poisoned`. For an LD_IMM64 both of its slots become that call,
// as libbpf writes them, so the code still decodes slot by slot; both slots are listed.
//
// Errors name the file, the section, the instruction slot, the relocation kind and the access.
// On an error the slots may be partly patched.
Status apply_core_relocations(std::vector<isa::RawInstruction>& section_slots,
                              const std::string& section_name, std::span<const BtfCoreRelo> records,
                              const Btf& local, const Btf& target, const std::string& file_name,
                              std::vector<CorePoison>& poisoned);
// The same with a prebuilt index of the target, for a caller that applies several sections.
Status apply_core_relocations(std::vector<isa::RawInstruction>& section_slots,
                              const std::string& section_name, std::span<const BtfCoreRelo> records,
                              const Btf& local, const CoreTargetIndex& target, const std::string& file_name,
                              std::vector<CorePoison>& poisoned);

// The helper id libbpf writes into a poisoned instruction (0xbad2310, "bad relo").
inline constexpr int32_t kCorePoisonHelperId = 0xbad2310;

}  // namespace bpfvm::loader
