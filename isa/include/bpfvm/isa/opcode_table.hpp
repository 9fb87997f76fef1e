// The one table of eBPF instruction forms (RFC 9669 and the kernel's instruction-set.rst).
// Decoder, encoder, assembler, disassembler, verifier, interpreter and JITs derive what an
// instruction is from these rows; nothing else in bpfvm switches on opcode bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace bpfvm::isa {

// Instruction classes: the low 3 bits of the opcode.
enum class InstClass : uint8_t { Ld = 0, Ldx = 1, St = 2, Stx = 3, Alu = 4, Jmp = 5, Jmp32 = 6, Alu64 = 7 };

// Which alternative of isa::Instruction a form decodes to.
enum class Kind : uint8_t {
    Alu,
    Endian,
    Jump,
    Call,
    Exit,
    LoadImm64,
    Load,
    Store,
    Atomic,
    PacketLoad,
};

// The operation of a form. Together with width and source it names exactly one row.
enum class Op : uint8_t {
    // Kind::Alu
    Add,
    Sub,
    Mul,
    Div,
    SDiv,
    Or,
    And,
    Lsh,
    Rsh,
    Neg,
    Mod,
    SMod,
    Xor,
    Mov,
    MovSx,  // selector: offset = 8, 16 or 32 (bits of the source that are sign-extended)
    Arsh,
    // Kind::Endian; selector: imm = 16, 32 or 64
    ToLe,
    ToBe,
    Swap,
    // Kind::Jump
    Ja,
    Jeq,
    Jgt,
    Jge,
    Jset,
    Jne,
    Jsgt,
    Jsge,
    Jlt,
    Jle,
    Jslt,
    Jsle,
    // Kind::Call; selector: src = 0 helper, 1 local, 2 kfunc
    CallHelper,
    CallLocal,
    CallKfunc,
    CallReg,  // callx: register in dst
    // Kind::Exit
    Exit,
    // Kind::LoadImm64; selector: src = 0..6 (plain value and the loader's pseudo forms)
    LoadImm64,
    // Kind::Load / Store
    Load,
    LoadSx,
    StoreImm,
    StoreReg,
    // Kind::Atomic; selector: imm (operation code, with or without BPF_FETCH)
    AtomicAdd,
    AtomicOr,
    AtomicAnd,
    AtomicXor,
    AtomicXchg,
    AtomicCmpXchg,
    LoadAcquire,
    StoreRelease,
    // Kind::PacketLoad (legacy BPF_ABS / BPF_IND)
    PacketAbs,
    PacketInd,
};

// Whether the second operand comes from the immediate (BPF_K) or a register (BPF_X).
enum class Source : uint8_t { None, Imm, Reg };

// Instruction fields, as flags: which fields carry an operand or select the form.
enum Field : uint8_t { kNoField = 0, kDst = 1, kSrc = 2, kOffset = 4, kImm = 8 };

// The LLVM -mcpu level that introduced a form (v1 baseline, v2 jlt/jle/jslt/jsle,
// v3 jmp32, alu32 and atomic fetch, v4 sdiv/smod, movsx, memsx, bswap, gotol).
enum class IsaVersion : uint8_t { V1 = 1, V2 = 2, V3 = 3, V4 = 4 };

// Conformance groups of RFC 9669 section 2.4; Extension marks forms outside the RFC (callx,
// load-acquire/store-release) that compilers and the kernel use.
enum class Group : uint8_t { Base32, Base64, Atomic32, Atomic64, DivMul32, DivMul64, Packet, Extension };

// BPF_FETCH and the atomic operation codes (the imm of an atomic instruction).
inline constexpr int32_t kAtomicFetch = 0x01;

struct OpcodeForm {
    uint8_t opcode;
    Kind kind;
    Op op;
    // Operand width in bits for Alu/Jump/Endian (32 or 64), access size in bytes for memory.
    uint8_t width;
    Source source;
    // Field whose value distinguishes this form from others sharing the opcode byte, and the
    // value it must hold (kNoField when the opcode byte alone decides).
    Field selector;
    int32_t selector_value;
    // Fields that carry operands. Fields neither here nor the selector are reserved: zero.
    uint8_t operands;
    bool writes_dst;  // the form writes register dst (so dst may not be r10)
    IsaVersion version;
    Group group;
    // Mnemonic in the bpf_conformance assembler syntax ("add32", "ldxsw", "lock fetch add").
    std::string_view mnemonic;

    InstClass inst_class() const { return static_cast<InstClass>(opcode & 0x07); }
};

// Every form, each opcode byte's forms contiguous and in ascending opcode order.
std::span<const OpcodeForm> opcode_forms();

// The forms that share one opcode byte (empty for an opcode the ISA does not define).
std::span<const OpcodeForm> forms_for_opcode(uint8_t opcode);

// Human-readable names used in tables, errors and docs.
std::string_view group_name(Group group);
std::string_view inst_class_name(InstClass cls);

}  // namespace bpfvm::isa
