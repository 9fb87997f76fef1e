// Which helpers accept which maps: the kernel verifier's check_map_func_compatibility as data, with
// the two other checks it makes on a helper's map argument (for_each_map_elem needs a map type with
// a for-each callback, may_update_sockmap for sockmap / sockhash updates).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::isa {

// Empty when the kernel's verifier accepts a map of `type` as the map argument (ArgKind::ConstMapPtr)
// of helper `helper_id`; otherwise a short reason ("prog_array maps can only be used with
// tail_call", "tail_call needs a prog_array map"). Both directions are checked: map types that allow
// only some helpers, and helpers that allow only some map types. Only meaningful for a helper's map
// argument: the kernel never asks about helpers without one. `program` matters only for
// map_update_elem / map_delete_elem on sockmap and sockhash, which the kernel allows from some
// program types; without it they are accepted.
std::string_view map_helper_conflict(MapType type, int32_t helper_id,
                                     std::optional<ProgramType> program = std::nullopt);

// The map types `helper_id` accepts as its map argument, when the helper allows only some (empty
// otherwise), for messages such as "expected a devmap, devmap_hash, cpumap or xskmap map".
std::span<const MapType> map_types_for_helper(int32_t helper_id);

}  // namespace bpfvm::isa
