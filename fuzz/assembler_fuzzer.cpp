// Arbitrary text through the assembler: an error or bytes; bytes that decode must print in the
// assembler's syntax and assemble back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto slots = isa::assemble(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!slots) return 0;
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
    if (!program) return 0;
    std::string text;
    for (const auto& insn : program->instructions) {
        text += isa::disassemble(insn, {isa::Syntax::Conformance, false});
        text += '\n';
    }
    auto again = isa::assemble(text);
    if (!again || *again != isa::encode(*program)) std::abort();
    return 0;
}
