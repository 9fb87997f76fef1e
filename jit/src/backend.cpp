#include "backend.hpp"

namespace bpfvm::jit {

const Error* prepare_error(CompiledModule& module, ErrorKind kind, std::string message, uint32_t slot) {
    Location where;
    where.instruction = slot;
    module.errors.push_back(make_error(kind, std::move(message), std::move(where)));
    return &module.errors.back();
}

std::string call_too_deep_message() {
    return "call would nest " + std::to_string(isa::kMaxCallDepth + 1) + " frames; at most " +
           std::to_string(isa::kMaxCallDepth) + " are allowed";
}

std::string kfunc_message(int64_t btf_id) {
    return "calls of kernel functions (kfunc, BTF id " + std::to_string(btf_id) + ") are not supported";
}

std::string pseudo_lddw_message(uint8_t src_kind) {
    return "lddw with src=" + std::to_string(src_kind) +
           " refers to a map, variable or function that only a loaded object provides";
}

std::string misaligned_atomic_message(uint32_t size) {
    return "atomic access of " + std::to_string(size) + " bytes at a misaligned address";
}

Error asmjit_error(std::string_view arch, asmjit::Error e) {
    return make_error(ErrorKind::Unsupported,
                      "the " + std::string(arch) +
                          " JIT could not assemble the program: " + asmjit::DebugUtils::errorAsString(e));
}

Status link_module(asmjit::CodeHolder& code, CompiledModule& module, const EmittedCode& emitted,
                   const std::vector<int>& compiled_index, std::string_view arch) {
    using asmjit::kErrorOk;
    if (auto e = code.flatten(); e != kErrorOk) return asmjit_error(arch, e);
    if (auto e = code.resolveUnresolvedLinks(); e != kErrorOk) return asmjit_error(arch, e);
    const size_t size = code.codeSize();
    if (auto s = module.code.allocate(size); !s) return s.error();
    const uint64_t base = reinterpret_cast<uint64_t>(module.code.data());
    if (auto e = code.relocateToBase(base); e != kErrorOk) return asmjit_error(arch, e);
    if (auto e = code.copyFlattenedData(module.code.data(), size, asmjit::CopySectionFlags::kPadTargetBuffer);
        e != kErrorOk) {
        return asmjit_error(arch, e);
    }
    if (auto s = module.code.seal(); !s) return s.error();
    module.trampoline = base + code.labelOffsetFromBase(emitted.trampoline);
    for (int index : compiled_index) {
        std::vector<uint64_t> addresses;
        if (index >= 0) {
            for (const asmjit::Label& l : (*emitted.program_labels)[index])
                addresses.push_back(base + code.labelOffsetFromBase(l));
        }
        module.instruction_address.push_back(std::move(addresses));
    }
    return Ok{};
}

}  // namespace bpfvm::jit
