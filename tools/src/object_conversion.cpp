#include "object_conversion.hpp"

#include <algorithm>
#include <iterator>

namespace bpfvm::tools {

bool gpl_compatible(const std::string& license) {
    static const char* const kCompatible[] = {"GPL",          "GPL v2",       "GPL and additional rights",
                                              "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"};
    return std::any_of(std::begin(kCompatible), std::end(kCompatible),
                       [&](const char* name) { return license == name; });
}

std::map<uint32_t, std::string> poisoned_instructions(const loader::Program& program) {
    std::map<uint32_t, std::string> poisoned;
    for (const loader::UnresolvedRelocation& unresolved : program.unresolved) {
        poisoned[unresolved.instruction] = unresolved.message;
    }
    return poisoned;
}

isa::DisasmOptions with_object_names(isa::DisasmOptions style, const loader::Object& object,
                                     const loader::Program& program) {
    style.map_name = [&object](uint32_t index) {
        return index < object.maps.size() ? object.maps[index].name : "#" + std::to_string(index);
    };
    style.function_name = [&program](uint32_t instruction) {
        return instruction < program.function_of.size() ? program.function_of[instruction] : "?";
    };
    return style;
}

}  // namespace bpfvm::tools
