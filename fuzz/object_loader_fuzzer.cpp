// Arbitrary bytes as an ELF object: load_object must end in an Object or an Error. A loaded
// object's programs must be self-consistent (one function name and source entry per
// instruction, map references inside the map table) and disassemble with their names.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/loader/object.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto object = loader::load_object(std::span<const uint8_t>(data, size), "fuzz.o");
    if (!object) {
        if (object.error().message.empty()) std::abort();  // every error says why
        return 0;
    }
    for (const loader::Program& program : object->programs) {
        if (program.load_error) {
            // A program that failed alone says why and has no code.
            if (program.load_error->message.empty() || !program.code.instructions.empty() ||
                !program.function_of.empty())
                std::abort();
            continue;
        }
        if (program.function_of.size() != program.code.size() ||
            program.source.size() != program.code.size()) {
            std::abort();
        }
        for (const auto& insn : program.code.instructions) {
            const auto* load = std::get_if<isa::LoadImm64>(&insn);
            if (load &&
                (load->src_kind == isa::kPseudoMapIndex || load->src_kind == isa::kPseudoMapIndexValue) &&
                static_cast<uint32_t>(load->imm_lo) >= object->maps.size()) {
                std::abort();  // a map reference outside the map table
            }
        }
        isa::DisasmOptions style;
        style.map_name = [&](uint32_t index) { return object->maps.at(index).name; };
        style.function_name = [&](uint32_t instruction) { return program.function_of.at(instruction); };
        if (isa::listing(program.code, style).empty()) std::abort();
    }
    return 0;
}
