// Walks all 256 opcode bytes: the defined ones decode, encode back to the same bytes and survive a
// trip through the conformance syntax and the assembler; the others are rejected.
#include <gtest/gtest.h>

#include <set>

#include "bpfvm/isa/assembler.hpp"
#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "isa/isa_test_support.hpp"

namespace bpfvm::isa {
namespace {

using test::canonical_slots;
using test::describe;

// The opcode bytes RFC 9669 and the kernel define, written out independently of the opcode table
// so that each checks the other.
const std::set<uint8_t> kDefinedOpcodes = {
    // ALU (32-bit): add sub mul div or and lsh rsh (K and X), neg (K only), mod xor mov arsh
    // (K and X), then le/be (end).
    0x04,
    0x0c,
    0x14,
    0x1c,
    0x24,
    0x2c,
    0x34,
    0x3c,
    0x44,
    0x4c,
    0x54,
    0x5c,
    0x64,
    0x6c,
    0x74,
    0x7c,  //
    0x84,
    0x94,
    0x9c,
    0xa4,
    0xac,
    0xb4,
    0xbc,
    0xc4,
    0xcc,
    0xd4,
    0xdc,  //
    // ALU64: the same operations, then bswap.
    0x07,
    0x0f,
    0x17,
    0x1f,
    0x27,
    0x2f,
    0x37,
    0x3f,
    0x47,
    0x4f,
    0x57,
    0x5f,
    0x67,
    0x6f,
    0x77,
    0x7f,  //
    0x87,
    0x97,
    0x9f,
    0xa7,
    0xaf,
    0xb7,
    0xbf,
    0xc7,
    0xcf,
    0xd7,  //
    // JMP: ja, conditional jumps (K and X), call, callx, exit.
    0x05,
    0x15,
    0x1d,
    0x25,
    0x2d,
    0x35,
    0x3d,
    0x45,
    0x4d,
    0x55,
    0x5d,
    0x65,
    0x6d,
    0x75,
    0x7d,  //
    0x85,
    0x8d,
    0x95,
    0xa5,
    0xad,
    0xb5,
    0xbd,
    0xc5,
    0xcd,
    0xd5,
    0xdd,  //
    // JMP32: gotol and the conditional jumps; no call or exit.
    0x06,
    0x16,
    0x1e,
    0x26,
    0x2e,
    0x36,
    0x3e,
    0x46,
    0x4e,
    0x56,
    0x5e,
    0x66,
    0x6e,
    0x76,
    0x7e,  //
    0xa6,
    0xae,
    0xb6,
    0xbe,
    0xc6,
    0xce,
    0xd6,
    0xde,  //
    // LD: lddw, legacy packet loads (abs w/h/b, ind w/h/b).
    0x18,
    0x20,
    0x28,
    0x30,
    0x40,
    0x48,
    0x50,
    // LDX (zero- and sign-extending), ST, STX.
    0x61,
    0x69,
    0x71,
    0x79,
    0x81,
    0x89,
    0x91,  //
    0x62,
    0x6a,
    0x72,
    0x7a,  //
    0x63,
    0x6b,
    0x73,
    0x7b,  //
    // Atomics: w and dw read-modify-write, and load-acquire/store-release for b, h, w, dw.
    0xc3,
    0xcb,
    0xd3,
    0xdb,
};

TEST(OpcodeCoverage, TableDefinesExactlyTheIsaOpcodes) {
    std::set<uint8_t> in_table;
    for (const auto& form : opcode_forms()) in_table.insert(form.opcode);
    EXPECT_EQ(in_table, kDefinedOpcodes);
    EXPECT_EQ(kDefinedOpcodes.size(), 128u);
}

TEST(OpcodeCoverage, EveryOpcodeByteDecodesRoundTripsOrIsRejected) {
    size_t forms_checked = 0;
    for (unsigned byte = 0; byte < 256; ++byte) {
        const auto opcode = static_cast<uint8_t>(byte);
        const auto forms = forms_for_opcode(opcode);
        if (!kDefinedOpcodes.contains(opcode)) {
            EXPECT_TRUE(forms.empty()) << "opcode " << byte;
            const std::vector<RawInstruction> slots{test::raw(opcode), test::raw(0x95)};
            auto decoded = decode_instruction(slots, 0);
            ASSERT_FALSE(decoded.ok()) << "opcode " << byte << " decoded";
            EXPECT_EQ(decoded.error().kind, ErrorKind::UnknownOpcode) << "opcode " << byte;
            continue;
        }
        ASSERT_FALSE(forms.empty()) << "opcode " << byte << " has no table row";
        for (const OpcodeForm& form : forms) {
            SCOPED_TRACE(describe(form));
            ++forms_checked;
            const std::vector<RawInstruction> slots = canonical_slots(form);

            auto decoded = decode_instruction(slots, 0);
            ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
            EXPECT_EQ(&form_of(*decoded), &form);

            const Encoded encoded = encode(*decoded);
            EXPECT_EQ(
                std::vector<RawInstruction>(encoded.slots.begin(), encoded.slots.begin() + encoded.count),
                slots);

            EXPECT_FALSE(disassemble(*decoded).empty());
            for (bool hex : {false, true}) {
                const std::string text = disassemble(*decoded, {Syntax::Conformance, hex});
                auto assembled = assemble(text);
                ASSERT_TRUE(assembled.ok()) << text << ": " << assembled.error().to_string();
                EXPECT_EQ(*assembled, slots) << text;
            }
        }
    }
    EXPECT_EQ(forms_checked, opcode_forms().size());
}

// A row's selector must be its only way in: the same opcode with an unlisted selector value fails.
TEST(OpcodeCoverage, SelectorValuesOutsideTheTableAreRejected) {
    const std::vector<RawInstruction> sdiv_with_offset_2{test::raw(0x37, 1, 0, 2, 3), test::raw(0x95)};
    auto decoded = decode_instruction(sdiv_with_offset_2, 0);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().kind, ErrorKind::InvalidField);

    const std::vector<RawInstruction> atomic_sub{test::raw(0xdb, 10, 1, -8, 0x10), test::raw(0x95)};
    decoded = decode_instruction(atomic_sub, 0);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().kind, ErrorKind::InvalidField);

    const std::vector<RawInstruction> lddw_src_7{test::raw(0x18, 1, 7, 0, 1), test::raw(0)};
    decoded = decode_instruction(lddw_src_7, 0);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().kind, ErrorKind::InvalidField);
}

}  // namespace
}  // namespace bpfvm::isa
