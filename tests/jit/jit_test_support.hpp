// What the JIT tests share: assembling programs and running them on both engines.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/jit/jit.hpp"
#include "bpfvm/vm/interpreter.hpp"

namespace bpfvm::jit::test {

inline isa::Program assemble_program(const std::string& text) {
    auto slots = isa::assemble(text);
    EXPECT_TRUE(slots.ok()) << (slots ? "" : slots.error().to_string());
    if (!slots) return {};
    auto program = isa::decode_program(std::span<const isa::RawInstruction>(*slots));
    EXPECT_TRUE(program.ok()) << (program ? "" : program.error().to_string());
    if (!program) return {};
    return std::move(*program);
}

// Runs a program on one engine with r1 pointing at `memory` (r2 its size), which the run may
// write: the memory block of a generated program (random_program.hpp).
inline Result<vm::RunResult> run_on_memory(vm::Engine& engine, const isa::Program& program,
                                           std::vector<uint8_t>& memory) {
    vm::RunInput input;
    input.memory.add(memory.data(), memory.size(), true, "input");
    input.args[0] = reinterpret_cast<uint64_t>(memory.data());
    input.args[1] = memory.size();
    return engine.run(program, input);
}

inline std::string describe(const Result<vm::RunResult>& r) {
    return r ? "r0 = " + to_hex(r->r0) : r.error().to_string();
}

}  // namespace bpfvm::jit::test
