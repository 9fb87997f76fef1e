#include "trusted_run.hpp"

#include <algorithm>
#include <string>

#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "object_conversion.hpp"

namespace bpfvm::tools {
namespace {

Status refusal(const std::string& who, const isa::Program& code, const verifier::VerifyResult& result,
               Location where) {
    std::string message = "--trust-verified: the verifier rejects " + who;
    if (!result.diagnostics.empty()) {
        const verifier::Diagnostic& d = result.diagnostics.front();
        message += " (" + std::string(verifier::rule_id(d.rule)) + "): " + d.message;
        if (d.instruction < code.size()) {
            message += " at `" + isa::disassemble(code.instructions[d.instruction], {}) + "`";
            where.instruction = code.slot[d.instruction];
        }
    }
    message += "; `bpfvm verify` explains it, and a run without --trust-verified checks every access";
    return make_error(ErrorKind::InvalidInput, std::move(message), std::move(where));
}

}  // namespace

Status verify_for_trusted_run(const loader::Object& object, size_t program_index) {
    const std::vector<verifier::MapInfo> maps = verifier_maps(object);
    const bool tail_calls =
        std::any_of(object.maps.begin(), object.maps.end(),
                    [](const loader::MapDefinition& m) { return m.type == isa::MapType::ProgArray; });
    for (size_t i = 0; i < object.programs.size(); ++i) {
        const loader::Program& program = object.programs[i];
        // A program that did not load cannot be entered: a tail call into it fails checked.
        if (program.load_error || (i != program_index && !tail_calls)) continue;
        const auto result =
            verifier::verify(program.code, program.type, maps, verify_options(object, program, false));
        if (!result.accepted) {
            const std::string who =
                "program '" + program.function + "'" +
                (i == program_index ? "" : ", which a tail call of the program run may enter");
            Location where;
            where.file = object.path;
            where.section = program.section;
            return refusal(who, program.code, result, std::move(where));
        }
    }
    return Ok{};
}

Status verify_for_trusted_run(const isa::Program& program, isa::ProgramType type) {
    const auto result = verifier::verify(program, type, {}, verifier::VerifyOptions{});
    if (!result.accepted) return refusal("the program", program, result, {});
    return Ok{};
}

}  // namespace bpfvm::tools
