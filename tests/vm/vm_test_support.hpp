// What the vm tests share: building map specs.
#pragma once

#include <string>

#include "bpfvm/vm/maps.hpp"

namespace bpfvm::vm::test {

inline MapSpec make_spec(std::string name, isa::MapType type, uint32_t key_size, uint32_t value_size,
                         uint32_t max_entries, uint32_t flags = 0) {
    MapSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.key_size = key_size;
    spec.value_size = value_size;
    spec.max_entries = max_entries;
    spec.flags = flags;
    return spec;
}

}  // namespace bpfvm::vm::test
