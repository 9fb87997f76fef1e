#include "bpfvm/isa/opcode_table.hpp"

#include <algorithm>
#include <array>

namespace bpfvm::isa {
namespace {

// One row per instruction form, sorted by opcode byte. Width is bits for ALU/JMP forms and
// bytes for memory forms; the selector column tells forms sharing an opcode byte apart.
// clang-format off
constexpr OpcodeForm kForms[] = {
    {0x04, Kind::Alu, Op::Add, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "add32"},
    {0x05, Kind::Jump, Op::Ja, 64, Source::None, kNoField, 0, kOffset, false, IsaVersion::V1, Group::Base32, "ja"},
    {0x06, Kind::Jump, Op::Ja, 32, Source::None, kNoField, 0, kImm, false, IsaVersion::V4, Group::Base32, "ja32"},
    {0x07, Kind::Alu, Op::Add, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "add"},
    {0x0c, Kind::Alu, Op::Add, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "add32"},
    {0x0f, Kind::Alu, Op::Add, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "add"},
    {0x14, Kind::Alu, Op::Sub, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "sub32"},
    {0x15, Kind::Jump, Op::Jeq, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jeq"},
    {0x16, Kind::Jump, Op::Jeq, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jeq32"},
    {0x17, Kind::Alu, Op::Sub, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "sub"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 1, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.map_fd"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 2, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.map_value"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 3, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.btf_var"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 4, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.func"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 5, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.map_idx"},
    {0x18, Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, kSrc, 6, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lddw.map_idx_value"},
    {0x1c, Kind::Alu, Op::Sub, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "sub32"},
    {0x1d, Kind::Jump, Op::Jeq, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jeq"},
    {0x1e, Kind::Jump, Op::Jeq, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jeq32"},
    {0x1f, Kind::Alu, Op::Sub, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "sub"},
    {0x20, Kind::PacketLoad, Op::PacketAbs, 4, Source::None, kNoField, 0, kImm, false, IsaVersion::V1, Group::Packet, "ldabsw"},
    {0x24, Kind::Alu, Op::Mul, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::DivMul32, "mul32"},
    {0x25, Kind::Jump, Op::Jgt, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jgt"},
    {0x26, Kind::Jump, Op::Jgt, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jgt32"},
    {0x27, Kind::Alu, Op::Mul, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::DivMul64, "mul"},
    {0x28, Kind::PacketLoad, Op::PacketAbs, 2, Source::None, kNoField, 0, kImm, false, IsaVersion::V1, Group::Packet, "ldabsh"},
    {0x2c, Kind::Alu, Op::Mul, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::DivMul32, "mul32"},
    {0x2d, Kind::Jump, Op::Jgt, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jgt"},
    {0x2e, Kind::Jump, Op::Jgt, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jgt32"},
    {0x2f, Kind::Alu, Op::Mul, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::DivMul64, "mul"},
    {0x30, Kind::PacketLoad, Op::PacketAbs, 1, Source::None, kNoField, 0, kImm, false, IsaVersion::V1, Group::Packet, "ldabsb"},
    {0x34, Kind::Alu, Op::Div, 32, Source::Imm, kOffset, 0, kDst | kImm, true, IsaVersion::V3, Group::DivMul32, "div32"},
    {0x34, Kind::Alu, Op::SDiv, 32, Source::Imm, kOffset, 1, kDst | kImm, true, IsaVersion::V4, Group::DivMul32, "sdiv32"},
    {0x35, Kind::Jump, Op::Jge, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jge"},
    {0x36, Kind::Jump, Op::Jge, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jge32"},
    {0x37, Kind::Alu, Op::Div, 64, Source::Imm, kOffset, 0, kDst | kImm, true, IsaVersion::V1, Group::DivMul64, "div"},
    {0x37, Kind::Alu, Op::SDiv, 64, Source::Imm, kOffset, 1, kDst | kImm, true, IsaVersion::V4, Group::DivMul64, "sdiv"},
    {0x3c, Kind::Alu, Op::Div, 32, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V3, Group::DivMul32, "div32"},
    {0x3c, Kind::Alu, Op::SDiv, 32, Source::Reg, kOffset, 1, kDst | kSrc, true, IsaVersion::V4, Group::DivMul32, "sdiv32"},
    {0x3d, Kind::Jump, Op::Jge, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jge"},
    {0x3e, Kind::Jump, Op::Jge, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jge32"},
    {0x3f, Kind::Alu, Op::Div, 64, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V1, Group::DivMul64, "div"},
    {0x3f, Kind::Alu, Op::SDiv, 64, Source::Reg, kOffset, 1, kDst | kSrc, true, IsaVersion::V4, Group::DivMul64, "sdiv"},
    {0x40, Kind::PacketLoad, Op::PacketInd, 4, Source::None, kNoField, 0, kSrc | kImm, false, IsaVersion::V1, Group::Packet, "ldindw"},
    {0x44, Kind::Alu, Op::Or, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "or32"},
    {0x45, Kind::Jump, Op::Jset, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jset"},
    {0x46, Kind::Jump, Op::Jset, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jset32"},
    {0x47, Kind::Alu, Op::Or, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "or"},
    {0x48, Kind::PacketLoad, Op::PacketInd, 2, Source::None, kNoField, 0, kSrc | kImm, false, IsaVersion::V1, Group::Packet, "ldindh"},
    {0x4c, Kind::Alu, Op::Or, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "or32"},
    {0x4d, Kind::Jump, Op::Jset, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jset"},
    {0x4e, Kind::Jump, Op::Jset, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jset32"},
    {0x4f, Kind::Alu, Op::Or, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "or"},
    {0x50, Kind::PacketLoad, Op::PacketInd, 1, Source::None, kNoField, 0, kSrc | kImm, false, IsaVersion::V1, Group::Packet, "ldindb"},
    {0x54, Kind::Alu, Op::And, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "and32"},
    {0x55, Kind::Jump, Op::Jne, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jne"},
    {0x56, Kind::Jump, Op::Jne, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jne32"},
    {0x57, Kind::Alu, Op::And, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "and"},
    {0x5c, Kind::Alu, Op::And, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "and32"},
    {0x5d, Kind::Jump, Op::Jne, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jne"},
    {0x5e, Kind::Jump, Op::Jne, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jne32"},
    {0x5f, Kind::Alu, Op::And, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "and"},
    {0x61, Kind::Load, Op::Load, 4, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V1, Group::Base32, "ldxw"},
    {0x62, Kind::Store, Op::StoreImm, 4, Source::Imm, kNoField, 0, kDst | kOffset | kImm, false, IsaVersion::V1, Group::Base32, "stw"},
    {0x63, Kind::Store, Op::StoreReg, 4, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base32, "stxw"},
    {0x64, Kind::Alu, Op::Lsh, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "lsh32"},
    {0x65, Kind::Jump, Op::Jsgt, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jsgt"},
    {0x66, Kind::Jump, Op::Jsgt, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jsgt32"},
    {0x67, Kind::Alu, Op::Lsh, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "lsh"},
    {0x69, Kind::Load, Op::Load, 2, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V1, Group::Base32, "ldxh"},
    {0x6a, Kind::Store, Op::StoreImm, 2, Source::Imm, kNoField, 0, kDst | kOffset | kImm, false, IsaVersion::V1, Group::Base32, "sth"},
    {0x6b, Kind::Store, Op::StoreReg, 2, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base32, "stxh"},
    {0x6c, Kind::Alu, Op::Lsh, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "lsh32"},
    {0x6d, Kind::Jump, Op::Jsgt, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jsgt"},
    {0x6e, Kind::Jump, Op::Jsgt, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jsgt32"},
    {0x6f, Kind::Alu, Op::Lsh, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "lsh"},
    {0x71, Kind::Load, Op::Load, 1, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V1, Group::Base32, "ldxb"},
    {0x72, Kind::Store, Op::StoreImm, 1, Source::Imm, kNoField, 0, kDst | kOffset | kImm, false, IsaVersion::V1, Group::Base32, "stb"},
    {0x73, Kind::Store, Op::StoreReg, 1, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base32, "stxb"},
    {0x74, Kind::Alu, Op::Rsh, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "rsh32"},
    {0x75, Kind::Jump, Op::Jsge, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V1, Group::Base64, "jsge"},
    {0x76, Kind::Jump, Op::Jsge, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jsge32"},
    {0x77, Kind::Alu, Op::Rsh, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "rsh"},
    {0x79, Kind::Load, Op::Load, 8, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V1, Group::Base64, "ldxdw"},
    {0x7a, Kind::Store, Op::StoreImm, 8, Source::Imm, kNoField, 0, kDst | kOffset | kImm, false, IsaVersion::V1, Group::Base64, "stdw"},
    {0x7b, Kind::Store, Op::StoreReg, 8, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "stxdw"},
    {0x7c, Kind::Alu, Op::Rsh, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "rsh32"},
    {0x7d, Kind::Jump, Op::Jsge, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Base64, "jsge"},
    {0x7e, Kind::Jump, Op::Jsge, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jsge32"},
    {0x7f, Kind::Alu, Op::Rsh, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "rsh"},
    {0x81, Kind::Load, Op::LoadSx, 4, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Base64, "ldxsw"},
    {0x84, Kind::Alu, Op::Neg, 32, Source::None, kNoField, 0, kDst, true, IsaVersion::V3, Group::Base32, "neg32"},
    {0x85, Kind::Call, Op::CallHelper, 64, Source::Imm, kSrc, 0, kImm, false, IsaVersion::V1, Group::Base32, "call"},
    {0x85, Kind::Call, Op::CallLocal, 64, Source::Imm, kSrc, 1, kImm, false, IsaVersion::V1, Group::Base32, "call local"},
    {0x85, Kind::Call, Op::CallKfunc, 64, Source::Imm, kSrc, 2, kImm | kOffset, false, IsaVersion::V1, Group::Base32, "call runtime"},
    {0x87, Kind::Alu, Op::Neg, 64, Source::None, kNoField, 0, kDst, true, IsaVersion::V1, Group::Base64, "neg"},
    {0x89, Kind::Load, Op::LoadSx, 2, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Base64, "ldxsh"},
    {0x8d, Kind::Call, Op::CallReg, 64, Source::Reg, kNoField, 0, kDst, false, IsaVersion::V1, Group::Extension, "callx"},
    {0x91, Kind::Load, Op::LoadSx, 1, Source::None, kNoField, 0, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Base64, "ldxsb"},
    {0x94, Kind::Alu, Op::Mod, 32, Source::Imm, kOffset, 0, kDst | kImm, true, IsaVersion::V3, Group::DivMul32, "mod32"},
    {0x94, Kind::Alu, Op::SMod, 32, Source::Imm, kOffset, 1, kDst | kImm, true, IsaVersion::V4, Group::DivMul32, "smod32"},
    {0x95, Kind::Exit, Op::Exit, 64, Source::None, kNoField, 0, kNoField, false, IsaVersion::V1, Group::Base32, "exit"},
    {0x97, Kind::Alu, Op::Mod, 64, Source::Imm, kOffset, 0, kDst | kImm, true, IsaVersion::V1, Group::DivMul64, "mod"},
    {0x97, Kind::Alu, Op::SMod, 64, Source::Imm, kOffset, 1, kDst | kImm, true, IsaVersion::V4, Group::DivMul64, "smod"},
    {0x9c, Kind::Alu, Op::Mod, 32, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V3, Group::DivMul32, "mod32"},
    {0x9c, Kind::Alu, Op::SMod, 32, Source::Reg, kOffset, 1, kDst | kSrc, true, IsaVersion::V4, Group::DivMul32, "smod32"},
    {0x9f, Kind::Alu, Op::Mod, 64, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V1, Group::DivMul64, "mod"},
    {0x9f, Kind::Alu, Op::SMod, 64, Source::Reg, kOffset, 1, kDst | kSrc, true, IsaVersion::V4, Group::DivMul64, "smod"},
    {0xa4, Kind::Alu, Op::Xor, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "xor32"},
    {0xa5, Kind::Jump, Op::Jlt, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V2, Group::Base64, "jlt"},
    {0xa6, Kind::Jump, Op::Jlt, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jlt32"},
    {0xa7, Kind::Alu, Op::Xor, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "xor"},
    {0xac, Kind::Alu, Op::Xor, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "xor32"},
    {0xad, Kind::Jump, Op::Jlt, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V2, Group::Base64, "jlt"},
    {0xae, Kind::Jump, Op::Jlt, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jlt32"},
    {0xaf, Kind::Alu, Op::Xor, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "xor"},
    {0xb4, Kind::Alu, Op::Mov, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "mov32"},
    {0xb5, Kind::Jump, Op::Jle, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V2, Group::Base64, "jle"},
    {0xb6, Kind::Jump, Op::Jle, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jle32"},
    {0xb7, Kind::Alu, Op::Mov, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "mov"},
    {0xbc, Kind::Alu, Op::Mov, 32, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "mov32"},
    {0xbc, Kind::Alu, Op::MovSx, 32, Source::Reg, kOffset, 8, kDst | kSrc, true, IsaVersion::V4, Group::Base32, "movsx832"},
    {0xbc, Kind::Alu, Op::MovSx, 32, Source::Reg, kOffset, 16, kDst | kSrc, true, IsaVersion::V4, Group::Base32, "movsx1632"},
    {0xbd, Kind::Jump, Op::Jle, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V2, Group::Base64, "jle"},
    {0xbe, Kind::Jump, Op::Jle, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jle32"},
    {0xbf, Kind::Alu, Op::Mov, 64, Source::Reg, kOffset, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "mov"},
    {0xbf, Kind::Alu, Op::MovSx, 64, Source::Reg, kOffset, 8, kDst | kSrc, true, IsaVersion::V4, Group::Base64, "movsx864"},
    {0xbf, Kind::Alu, Op::MovSx, 64, Source::Reg, kOffset, 16, kDst | kSrc, true, IsaVersion::V4, Group::Base64, "movsx1664"},
    {0xbf, Kind::Alu, Op::MovSx, 64, Source::Reg, kOffset, 32, kDst | kSrc, true, IsaVersion::V4, Group::Base64, "movsx3264"},
    {0xc3, Kind::Atomic, Op::AtomicAdd, 4, Source::Reg, kImm, 0x0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Atomic32, "lock add32"},
    {0xc3, Kind::Atomic, Op::AtomicAdd, 4, Source::Reg, kImm, 0x1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock fetch add32"},
    {0xc3, Kind::Atomic, Op::AtomicOr, 4, Source::Reg, kImm, 0x40, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock or32"},
    {0xc3, Kind::Atomic, Op::AtomicOr, 4, Source::Reg, kImm, 0x41, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock fetch or32"},
    {0xc3, Kind::Atomic, Op::AtomicAnd, 4, Source::Reg, kImm, 0x50, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock and32"},
    {0xc3, Kind::Atomic, Op::AtomicAnd, 4, Source::Reg, kImm, 0x51, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock fetch and32"},
    {0xc3, Kind::Atomic, Op::AtomicXor, 4, Source::Reg, kImm, 0xa0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock xor32"},
    {0xc3, Kind::Atomic, Op::AtomicXor, 4, Source::Reg, kImm, 0xa1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock fetch xor32"},
    {0xc3, Kind::Atomic, Op::AtomicXchg, 4, Source::Reg, kImm, 0xe1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock xchg32"},
    {0xc3, Kind::Atomic, Op::AtomicCmpXchg, 4, Source::Reg, kImm, 0xf1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic32, "lock cmpxchg32"},
    {0xc3, Kind::Atomic, Op::LoadAcquire, 4, Source::Reg, kImm, 0x100, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Extension, "ldxacqw"},
    {0xc3, Kind::Atomic, Op::StoreRelease, 4, Source::Reg, kImm, 0x110, kDst | kSrc | kOffset, false, IsaVersion::V4, Group::Extension, "stxrelw"},
    {0xc4, Kind::Alu, Op::Arsh, 32, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V3, Group::Base32, "arsh32"},
    {0xc5, Kind::Jump, Op::Jslt, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V2, Group::Base64, "jslt"},
    {0xc6, Kind::Jump, Op::Jslt, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jslt32"},
    {0xc7, Kind::Alu, Op::Arsh, 64, Source::Imm, kNoField, 0, kDst | kImm, true, IsaVersion::V1, Group::Base64, "arsh"},
    {0xcb, Kind::Atomic, Op::LoadAcquire, 2, Source::Reg, kImm, 0x100, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Extension, "ldxacqh"},
    {0xcb, Kind::Atomic, Op::StoreRelease, 2, Source::Reg, kImm, 0x110, kDst | kSrc | kOffset, false, IsaVersion::V4, Group::Extension, "stxrelh"},
    {0xcc, Kind::Alu, Op::Arsh, 32, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V3, Group::Base32, "arsh32"},
    {0xcd, Kind::Jump, Op::Jslt, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V2, Group::Base64, "jslt"},
    {0xce, Kind::Jump, Op::Jslt, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jslt32"},
    {0xcf, Kind::Alu, Op::Arsh, 64, Source::Reg, kNoField, 0, kDst | kSrc, true, IsaVersion::V1, Group::Base64, "arsh"},
    {0xd3, Kind::Atomic, Op::LoadAcquire, 1, Source::Reg, kImm, 0x100, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Extension, "ldxacqb"},
    {0xd3, Kind::Atomic, Op::StoreRelease, 1, Source::Reg, kImm, 0x110, kDst | kSrc | kOffset, false, IsaVersion::V4, Group::Extension, "stxrelb"},
    {0xd4, Kind::Endian, Op::ToLe, 32, Source::None, kImm, 16, kDst, true, IsaVersion::V1, Group::Base32, "le16"},
    {0xd4, Kind::Endian, Op::ToLe, 32, Source::None, kImm, 32, kDst, true, IsaVersion::V1, Group::Base32, "le32"},
    {0xd4, Kind::Endian, Op::ToLe, 32, Source::None, kImm, 64, kDst, true, IsaVersion::V1, Group::Base32, "le64"},
    {0xd5, Kind::Jump, Op::Jsle, 64, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V2, Group::Base64, "jsle"},
    {0xd6, Kind::Jump, Op::Jsle, 32, Source::Imm, kNoField, 0, kDst | kImm | kOffset, false, IsaVersion::V3, Group::Base32, "jsle32"},
    {0xd7, Kind::Endian, Op::Swap, 64, Source::None, kImm, 16, kDst, true, IsaVersion::V4, Group::Base64, "swap16"},
    {0xd7, Kind::Endian, Op::Swap, 64, Source::None, kImm, 32, kDst, true, IsaVersion::V4, Group::Base64, "swap32"},
    {0xd7, Kind::Endian, Op::Swap, 64, Source::None, kImm, 64, kDst, true, IsaVersion::V4, Group::Base64, "swap64"},
    {0xdb, Kind::Atomic, Op::AtomicAdd, 8, Source::Reg, kImm, 0x0, kDst | kSrc | kOffset, false, IsaVersion::V1, Group::Atomic64, "lock add"},
    {0xdb, Kind::Atomic, Op::AtomicAdd, 8, Source::Reg, kImm, 0x1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock fetch add"},
    {0xdb, Kind::Atomic, Op::AtomicOr, 8, Source::Reg, kImm, 0x40, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock or"},
    {0xdb, Kind::Atomic, Op::AtomicOr, 8, Source::Reg, kImm, 0x41, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock fetch or"},
    {0xdb, Kind::Atomic, Op::AtomicAnd, 8, Source::Reg, kImm, 0x50, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock and"},
    {0xdb, Kind::Atomic, Op::AtomicAnd, 8, Source::Reg, kImm, 0x51, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock fetch and"},
    {0xdb, Kind::Atomic, Op::AtomicXor, 8, Source::Reg, kImm, 0xa0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock xor"},
    {0xdb, Kind::Atomic, Op::AtomicXor, 8, Source::Reg, kImm, 0xa1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock fetch xor"},
    {0xdb, Kind::Atomic, Op::AtomicXchg, 8, Source::Reg, kImm, 0xe1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock xchg"},
    {0xdb, Kind::Atomic, Op::AtomicCmpXchg, 8, Source::Reg, kImm, 0xf1, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Atomic64, "lock cmpxchg"},
    {0xdb, Kind::Atomic, Op::LoadAcquire, 8, Source::Reg, kImm, 0x100, kDst | kSrc | kOffset, true, IsaVersion::V4, Group::Extension, "ldxacqdw"},
    {0xdb, Kind::Atomic, Op::StoreRelease, 8, Source::Reg, kImm, 0x110, kDst | kSrc | kOffset, false, IsaVersion::V4, Group::Extension, "stxreldw"},
    {0xdc, Kind::Endian, Op::ToBe, 32, Source::None, kImm, 16, kDst, true, IsaVersion::V1, Group::Base32, "be16"},
    {0xdc, Kind::Endian, Op::ToBe, 32, Source::None, kImm, 32, kDst, true, IsaVersion::V1, Group::Base32, "be32"},
    {0xdc, Kind::Endian, Op::ToBe, 32, Source::None, kImm, 64, kDst, true, IsaVersion::V1, Group::Base32, "be64"},
    {0xdd, Kind::Jump, Op::Jsle, 64, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V2, Group::Base64, "jsle"},
    {0xde, Kind::Jump, Op::Jsle, 32, Source::Reg, kNoField, 0, kDst | kSrc | kOffset, false, IsaVersion::V3, Group::Base32, "jsle32"},
};
// clang-format on

constexpr bool sorted_by_opcode() {
    for (size_t i = 1; i < std::size(kForms); ++i) {
        if (kForms[i - 1].opcode > kForms[i].opcode) return false;
    }
    return true;
}
static_assert(sorted_by_opcode(), "forms_for_opcode() relies on rows sorted by opcode");

}  // namespace

std::span<const OpcodeForm> opcode_forms() {
    return kForms;
}

std::span<const OpcodeForm> forms_for_opcode(uint8_t opcode) {
    auto [first, last] =
        std::equal_range(std::begin(kForms), std::end(kForms), opcode, [](const auto& a, const auto& b) {
            auto key = [](const auto& x) {
                if constexpr (std::is_same_v<std::decay_t<decltype(x)>, OpcodeForm>) {
                    return x.opcode;
                } else {
                    return static_cast<uint8_t>(x);
                }
            };
            return key(a) < key(b);
        });
    return {first, last};
}

std::string_view group_name(Group group) {
    switch (group) {
        case Group::Base32: return "base32";
        case Group::Base64: return "base64";
        case Group::Atomic32: return "atomic32";
        case Group::Atomic64: return "atomic64";
        case Group::DivMul32: return "divmul32";
        case Group::DivMul64: return "divmul64";
        case Group::Packet: return "packet";
        case Group::Extension: return "extension";
    }
    return "?";
}

std::string_view inst_class_name(InstClass cls) {
    static constexpr std::array<std::string_view, 8> kNames{"ld",  "ldx", "st",    "stx",
                                                            "alu", "jmp", "jmp32", "alu64"};
    return kNames[static_cast<uint8_t>(cls) & 7];
}

}  // namespace bpfvm::isa
