// The decoder's structural checks on malformed programs, and a seeded random search showing that
// any bytes give either a program or an error, and that every accepted program reprints and
// reassembles to its own encoding.
#include <gtest/gtest.h>

#include <random>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

using test::raw;
using Slots = std::vector<RawInstruction>;

const RawInstruction kExit = raw(0x95);

ErrorKind decode_error_kind(const Slots& slots) {
    auto program = decode_program(std::span<const RawInstruction>(slots));
    EXPECT_FALSE(program.ok()) << "decoded " << program->size() << " instructions";
    return program.ok() ? ErrorKind::Io : program.error().kind;
}

TEST(Decoder, EmptyProgram) {
    EXPECT_EQ(decode_error_kind({}), ErrorKind::EmptyProgram);
    auto from_bytes = decode_program(std::span<const uint8_t>{});
    ASSERT_FALSE(from_bytes.ok());
    EXPECT_EQ(from_bytes.error().kind, ErrorKind::EmptyProgram);
}

TEST(Decoder, BytesNotAMultipleOfEight) {
    const std::vector<uint8_t> bytes{0x95, 0, 0, 0, 0, 0, 0, 0, 0x95};
    auto program = decode_program(std::span<const uint8_t>(bytes));
    ASSERT_FALSE(program.ok());
    EXPECT_EQ(program.error().kind, ErrorKind::TruncatedProgram);
}

TEST(Decoder, TruncatedLddw) {
    EXPECT_EQ(decode_error_kind({raw(0x18, 0, 0, 0, 1)}), ErrorKind::TruncatedProgram);
    EXPECT_EQ(decode_error_kind({kExit, raw(0x18, 0, 0, 0, 1)}), ErrorKind::TruncatedProgram);
}

TEST(Decoder, LddwSecondSlotMustBeBlank) {
    EXPECT_EQ(decode_error_kind({raw(0x18, 0, 0, 0, 1), raw(0x95), kExit}), ErrorKind::ReservedFieldSet);
    EXPECT_EQ(decode_error_kind({raw(0x18, 0, 0, 0, 1), raw(0, 1), kExit}), ErrorKind::ReservedFieldSet);
    EXPECT_EQ(decode_error_kind({raw(0x18, 0, 0, 0, 1), raw(0, 0, 0, 1), kExit}),
              ErrorKind::ReservedFieldSet);
}

TEST(Decoder, JumpsOutsideTheProgram) {
    EXPECT_EQ(decode_error_kind({raw(0x05, 0, 0, -2), kExit}), ErrorKind::JumpOutOfRange);  // to slot -1
    EXPECT_EQ(decode_error_kind({raw(0x05, 0, 0, 1), kExit}), ErrorKind::JumpOutOfRange);   // to slot 2 of 2
    EXPECT_EQ(decode_error_kind({raw(0x15, 0, 0, 5, 0), kExit}), ErrorKind::JumpOutOfRange);
    EXPECT_EQ(decode_error_kind({raw(0x06, 0, 0, 0, -100), kExit}), ErrorKind::JumpOutOfRange);
    EXPECT_EQ(decode_error_kind({raw(0x85, 0, 1, 0, 7), kExit}), ErrorKind::JumpOutOfRange);  // local call
}

TEST(Decoder, JumpIntoTheMiddleOfLddw) {
    EXPECT_EQ(decode_error_kind({raw(0x05, 0, 0, 1), raw(0x18, 0, 0, 0, 1), raw(0), kExit}),
              ErrorKind::JumpIntoMiddle);
}

TEST(Decoder, FallsOffTheEnd) {
    EXPECT_EQ(decode_error_kind({raw(0xb7, 0, 0, 0, 1)}), ErrorKind::FallsOffEnd);
    EXPECT_EQ(decode_error_kind({kExit, raw(0x15, 0, 0, -2, 0)}), ErrorKind::FallsOffEnd);
    // A subprogram (entered by call local) must end with exit or ja too.
    EXPECT_TRUE(decode_program(Slots{raw(0x85, 0, 1, 0, 1), kExit, raw(0xb7, 0, 0, 0, 1), kExit}).ok());
    EXPECT_EQ(decode_error_kind({raw(0x85, 0, 1, 0, 1), raw(0xb7, 0, 0, 0, 1), kExit}),
              ErrorKind::FallsOffEnd);
}

TEST(Decoder, JumpMayNotLeaveItsSubprogram) {
    // Slot 0 calls slot 2; the jump at slot 1 goes into that subprogram.
    EXPECT_EQ(decode_error_kind({raw(0x85, 0, 1, 0, 1), raw(0x05, 0, 0, 0), kExit}),
              ErrorKind::JumpOutOfRange);
}

struct ReservedCase {
    std::vector<uint8_t> bytes;  // one instruction; exit is appended
    ErrorKind kind;
};

// Each field an instruction does not use, set. A field that selects among forms sharing the opcode
// (mov's offset picks mov or movsx; sdiv's offset picks div or sdiv) reports InvalidField.
const ReservedCase kReservedCases[] = {
    {{0x07, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // add imm: offset
    {{0x07, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // add imm: src
    {{0x0f, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // add reg: imm
    {{0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // add32 reg: offset
    {{0x87, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // neg: imm
    {{0x84, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // neg32: src
    {{0xdc, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // be16: offset
    {{0xd4, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // le16: src
    {{0x85, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // call: dst
    {{0x85, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // call: offset
    {{0x95, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // exit: dst
    {{0x95, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // exit: imm
    {{0x05, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // ja: src
    {{0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // ja: imm
    {{0x15, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // jeq imm: src
    {{0x1d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // jeq reg: imm
    {{0x79, 0xa0, 0xf8, 0xff, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // ldxdw: imm
    {{0x7a, 0x1a, 0xf8, 0xff, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // stdw: src
    {{0x63, 0x0a, 0xfc, 0xff, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // stxw: imm
    {{0x20, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // ldabsw: dst
    {{0x8d, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::ReservedFieldSet},  // callx: offset
    {{0xbc, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::InvalidField},      // mov32 reg: offset 1
    {{0xbf, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, ErrorKind::InvalidField},      // mov reg: offset 1
    {{0x37, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrorKind::InvalidField},      // div imm: offset 2
};

TEST(Decoder, ReservedFieldsMustBeZero) {
    for (const auto& c : kReservedCases) {
        std::vector<uint8_t> bytes = c.bytes;
        bytes.insert(bytes.end(), {0x95, 0, 0, 0, 0, 0, 0, 0});
        SCOPED_TRACE(test::mc_hex_line(*slots_from_bytes(bytes)));
        auto program = decode_program(std::span<const uint8_t>(bytes));
        ASSERT_FALSE(program.ok());
        EXPECT_EQ(program.error().kind, c.kind) << program.error().to_string();
        EXPECT_EQ(program.error().where.instruction, 0u);
    }
}

TEST(Decoder, WritesToR10AreRejected) {
    EXPECT_EQ(decode_error_kind({raw(0xb7, 10, 0, 0, 1), kExit}), ErrorKind::InvalidRegister);   // mov
    EXPECT_EQ(decode_error_kind({raw(0x79, 10, 1, 0), kExit}), ErrorKind::InvalidRegister);      // ldxdw
    EXPECT_EQ(decode_error_kind({raw(0xdc, 10, 0, 0, 16), kExit}), ErrorKind::InvalidRegister);  // be16
    EXPECT_EQ(decode_error_kind({raw(0x18, 10, 0, 0, 1), raw(0), kExit}), ErrorKind::InvalidRegister);
    // A fetching atomic writes its src register.
    EXPECT_EQ(decode_error_kind({raw(0xdb, 1, 10, 0, 0x01), kExit}), ErrorKind::InvalidRegister);
    // Reading r10 and storing through it are fine.
    auto program =
        decode_program(Slots{raw(0xbf, 1, 10), raw(0x7b, 10, 1, -8), raw(0xb7, 0, 0, 0, 0), kExit});
    EXPECT_TRUE(program.ok()) << program.error().to_string();
}

TEST(Decoder, RegistersAboveR10AreRejected) {
    EXPECT_EQ(decode_error_kind({raw(0xb7, 11, 0, 0, 1), kExit}), ErrorKind::InvalidRegister);
    EXPECT_EQ(decode_error_kind({raw(0xbf, 0, 11), kExit}), ErrorKind::InvalidRegister);
    EXPECT_EQ(decode_error_kind({raw(0x7b, 15, 1, -8), kExit}), ErrorKind::InvalidRegister);
    EXPECT_EQ(decode_error_kind({raw(0x8d, 12), kExit}), ErrorKind::InvalidRegister);  // callx
}

TEST(Decoder, ErrorsNameTheSlot) {
    auto program =
        decode_program(Slots{raw(0xb7, 0, 0, 0, 0), raw(0x18, 0, 0, 0, 1), raw(0), raw(0xff), kExit});
    ASSERT_FALSE(program.ok());
    EXPECT_EQ(program.error().kind, ErrorKind::UnknownOpcode);
    EXPECT_EQ(program.error().where.instruction, 3u);
}

// Random programs: either an error or a program whose encoding reprints and reassembles to itself.
// Half the slots use real opcodes so that many programs get past the first instruction.
TEST(Decoder, RandomProgramsNeverCrash) {
    std::mt19937 rng(20240601);
    std::vector<uint8_t> opcodes;
    for (const auto& form : opcode_forms()) opcodes.push_back(form.opcode);

    size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        const size_t count = 1 + rng() % 12;
        Slots slots(count);
        for (auto& slot : slots) {
            const uint64_t bits = (uint64_t{rng()} << 32) | rng();
            slot = raw(static_cast<uint8_t>(bits), 0, 0, static_cast<int16_t>(bits >> 16),
                       static_cast<int32_t>(bits >> 32));
            slot.regs = static_cast<uint8_t>(bits >> 8);
            switch (rng() % 4) {
                case 0: break;  // all random
                case 1: slot.opcode = opcodes[rng() % opcodes.size()]; break;
                default: {
                    // Plausible: real opcode, small registers, short jumps, small imm.
                    slot.opcode = opcodes[rng() % opcodes.size()];
                    slot.regs = RawInstruction::pack_regs(rng() % 11, rng() % 11);
                    slot.offset = static_cast<int16_t>(static_cast<int>(rng() % 5) - 2);
                    slot.imm = static_cast<int32_t>(rng() % 3 == 0 ? rng() % 65 : rng() % 3);
                }
            }
        }
        if (rng() % 2) slots.back() = kExit;

        auto program = decode_program(std::span<const RawInstruction>(slots));
        if (!program.ok()) {
            EXPECT_FALSE(program.error().message.empty());
            continue;
        }
        ++accepted;
        ASSERT_EQ(program->slot_count(), slots.size());
        const Slots encoded = encode(*program);
        std::string text;
        for (const auto& insn : program->instructions) {
            EXPECT_FALSE(disassemble(insn).empty());
            text += disassemble(insn, {Syntax::Conformance, round % 2 == 0}) + "\n";
        }
        auto reassembled = assemble(text);
        ASSERT_TRUE(reassembled.ok()) << reassembled.error().to_string() << "\n" << text;
        EXPECT_EQ(*reassembled, encoded) << text;
        EXPECT_FALSE(listing(*program).empty());
    }
    // The search must reach the accepting paths, not only the first-byte rejections.
    EXPECT_GT(accepted, 100u);
}

}  // namespace
}  // namespace bpfvm::isa
