// `bpfvm run prog.o`: an object's maps and programs in a vm::Runtime, maps filled from JSON
// before a run and dumped as JSON after it, and runs on packets, captures or contexts.
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>

#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/commands.hpp"
#include "bpfvm/vm/runtime.hpp"

namespace bpfvm::tools {

// The runtime for a loaded object: map definitions become maps (same indices), programs keep
// their order, and prog array / map-of-maps slots that BTF `values` initializers fill are set.
Result<std::unique_ptr<vm::Runtime>> make_runtime(const loader::Object& object,
                                                  const vm::RuntimeOptions& options);

// One map's contents as JSON: {"type", "key_size", "value_size", "max_entries", "entries": [...]}
// with keys and values BTF-typed where the object has types for them (see btf_json.hpp);
// per-CPU values as "values" (one per CPU), queue and stack contents as "values" in pop order,
// prog arrays and maps of maps with the program's or map's name as the value.
nlohmann::ordered_json map_to_json(const vm::Runtime& runtime, vm::MapId id, const loader::Object& object);
// Fills a map from JSON as map_to_json prints it (the whole object, or just its "entries"
// list); entries are written with BPF_ANY.
Status map_from_json(vm::Runtime& runtime, vm::MapId id, const loader::Object& object,
                     const nlohmann::ordered_json& json);

int run_object(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bpfvm::tools
