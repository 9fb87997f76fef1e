// The typed instruction form: raw eBPF bytes are decoded once into these, and the verifier,
// interpreter, JITs and disassembler visit them instead of decoding bits again.
#pragma once

#include <array>
#include <cstdint>
#include <variant>
#include <vector>

#include "bpfvm/isa/opcode_table.hpp"

namespace bpfvm::isa {

inline constexpr uint8_t kRegisterCount = 11;  // r0..r10
inline constexpr uint8_t kFramePointer = 10;   // r10, read-only
inline constexpr uint32_t kStackSize = 512;    // bytes per frame
inline constexpr uint32_t kMaxCallDepth = 8;   // frames, as the kernel allows

// One 8-byte instruction slot as it is stored (little-endian).
struct RawInstruction {
    uint8_t opcode = 0;
    uint8_t regs = 0;  // dst in the low nibble, src in the high nibble
    int16_t offset = 0;
    int32_t imm = 0;

    uint8_t dst() const { return regs & 0x0f; }
    uint8_t src() const { return regs >> 4; }
    static uint8_t pack_regs(uint8_t dst, uint8_t src) {
        return static_cast<uint8_t>((dst & 0x0f) | (src << 4));
    }
    bool operator==(const RawInstruction&) const = default;
};
static_assert(sizeof(RawInstruction) == 8);

// The second operand of ALU, jump and store forms: a register (BPF_X) or the immediate (BPF_K).
struct Operand {
    bool is_reg = false;
    uint8_t reg = 0;
    int32_t imm = 0;

    static Operand make_reg(uint8_t r) { return {true, r, 0}; }
    static Operand make_imm(int32_t v) { return {false, 0, v}; }

    bool operator==(const Operand&) const = default;
};

struct Alu {
    Op op;      // Add .. Arsh (never an Endian op)
    bool is64;  // ALU64 class, else ALU (32-bit, zero-extending)
    uint8_t dst;
    Operand src;          // unused for Neg
    uint8_t sx_bits = 0;  // MovSx: 8, 16 or 32

    bool operator==(const Alu&) const = default;
};

struct Endian {
    Op op;  // ToLe, ToBe or Swap
    uint8_t dst;
    uint8_t bits;  // 16, 32 or 64

    bool operator==(const Endian&) const = default;
};

struct Jump {
    Op op;      // Ja .. Jsle
    bool is32;  // JMP32 class (for Ja: gotol with a 32-bit offset in imm)
    uint8_t dst;
    Operand src;
    int32_t offset;       // relative, in slots
    uint32_t target = 0;  // index into Program::instructions, set by the decoder

    bool operator==(const Jump&) const = default;
};

struct Call {
    Op op;  // CallHelper, CallLocal, CallKfunc, CallReg
    int32_t imm;
    uint8_t reg = 0;      // CallReg: register holding the helper id
    int16_t offset = 0;   // CallKfunc: module BTF index
    uint32_t target = 0;  // CallLocal: index into Program::instructions

    bool operator==(const Call&) const = default;
};

struct Exit {
    bool operator==(const Exit&) const = default;
};

// LoadImm64::src_kind values: what the loader must put in place of the immediate (BPF_PSEUDO_*).
inline constexpr uint8_t kPseudoMapFd = 1;          // imm: a map's file descriptor
inline constexpr uint8_t kPseudoMapValue = 2;       // imm: map fd, next imm: offset into its value
inline constexpr uint8_t kPseudoBtfId = 3;          // imm: a kernel variable's BTF id (ksym)
inline constexpr uint8_t kPseudoFunc = 4;           // imm: relative address of a subprogram
inline constexpr uint8_t kPseudoMapIndex = 5;       // imm: index into the object's maps
inline constexpr uint8_t kPseudoMapIndexValue = 6;  // imm: map index, next imm: offset into its value

// BPF_LD_IMM64 in both its slots. src_kind 0 is a plain constant; 1..6 are the pseudo forms.
struct LoadImm64 {
    uint8_t dst;
    uint8_t src_kind;
    int32_t imm_lo;
    int32_t imm_hi;
    uint32_t target = 0;  // src_kind 4 (code address): index into Program::instructions

    uint64_t value() const {
        return static_cast<uint32_t>(imm_lo) | (static_cast<uint64_t>(static_cast<uint32_t>(imm_hi)) << 32);
    }

    bool operator==(const LoadImm64&) const = default;
};

struct Load {
    uint8_t dst;
    uint8_t base;
    int16_t offset;
    uint8_t size;  // bytes: 1, 2, 4, 8
    bool sign_extend;

    bool operator==(const Load&) const = default;
};

struct Store {
    uint8_t base;
    int16_t offset;
    uint8_t size;
    Operand value;

    bool operator==(const Store&) const = default;
};

// Read-modify-write on memory at dst + offset with register src; LoadAcquire reads src + offset
// into dst, StoreRelease writes src to dst + offset.
struct Atomic {
    Op op;
    bool fetch;  // the old value is returned in src (Xchg and CmpXchg always fetch)
    uint8_t size;
    uint8_t dst;
    uint8_t src;
    int16_t offset;

    bool operator==(const Atomic&) const = default;
};

// Legacy packet access (BPF_ABS / BPF_IND): r0 = ntoh(*(packet + [src +] imm)).
struct PacketLoad {
    bool indirect;
    uint8_t size;
    uint8_t src;
    int32_t imm;

    bool operator==(const PacketLoad&) const = default;
};

using Instruction = std::variant<Alu, Endian, Jump, Call, Exit, LoadImm64, Load, Store, Atomic, PacketLoad>;

// A decoded program: one element per instruction (LD_IMM64 is one element spanning two slots).
struct Program {
    std::vector<Instruction> instructions;
    std::vector<uint32_t> slot;  // slot index of each instruction (what llvm-objdump prints)

    size_t size() const { return instructions.size(); }
    uint32_t slot_count() const;

    bool operator==(const Program&) const = default;
};

// Encoding back to raw slots goes through the opcode table: the row whose kind, op, width,
// source and selector match the typed instruction gives the opcode byte.
struct Encoded {
    std::array<RawInstruction, 2> slots;
    uint8_t count;  // 1, or 2 for LD_IMM64
};
Encoded encode(const Instruction& insn);
std::vector<RawInstruction> encode(const Program& program);

// The table row an instruction was decoded from.
const OpcodeForm& form_of(const Instruction& insn);

// Whether an instruction always transfers control (exit, ja/gotol): a program or subprogram
// may end only with one of these.
bool ends_flow(const Instruction& insn);

}  // namespace bpfvm::isa
