// CO-RE patching as the object loader needs it, where a fault in one instruction fails only the
// programs that hold it. Internal to the loader.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/core.hpp"

namespace bpfvm::loader::detail {

// apply_core_relocations, except that a record which does not resolve (malformed access string,
// type ids that do not exist, ...) or whose instruction cannot take its value leaves that
// instruction as it was and adds an error located at its slot to `failures`; the other records
// are still applied. An error that is not about one instruction (a record outside the section)
// or that spends the work budget of the whole section is still returned.
Status apply_core_relocations_per_instruction(std::vector<isa::RawInstruction>& section_slots,
                                              const std::string& section_name,
                                              std::span<const BtfCoreRelo> records, const Btf& local,
                                              const CoreTargetIndex& target, const std::string& file_name,
                                              std::vector<CorePoison>& poisoned,
                                              std::vector<Error>& failures);

}  // namespace bpfvm::loader::detail
