// What the JIT tests share: assembling programs and running them on both engines.
#pragma once

#include <gtest/gtest.h>

#include <string>

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

inline std::string describe(const Result<vm::RunResult>& r) {
    return r ? "r0 = " + to_hex(r->r0) : r.error().to_string();
}

}  // namespace bpfvm::jit::test
