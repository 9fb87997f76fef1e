#include "bpfvm/isa/instruction.hpp"

#include <cstdlib>

namespace bpfvm::isa {
namespace {

// What identifies a table row for a typed instruction.
struct FormKey {
    Kind kind;
    Op op;
    uint8_t width;
    Source source;
    int32_t selector;
    int32_t selector_mask;  // bits of the row's selector value that must equal selector
};

// The raw fields of an instruction before the row decides which of them are kept.
struct Fields {
    uint8_t dst = 0;
    uint8_t src = 0;
    int16_t offset = 0;
    int32_t imm = 0;
    int32_t imm_hi = 0;  // LD_IMM64 second slot
};

Source operand_source(const Operand& o) {
    return o.is_reg ? Source::Reg : Source::Imm;
}

struct KeyAndFields {
    FormKey key;
    Fields fields;
};

KeyAndFields describe(const Instruction& insn) {
    return std::visit(
        [](const auto& i) -> KeyAndFields {
            using T = std::decay_t<decltype(i)>;
            if constexpr (std::is_same_v<T, Alu>) {
                int32_t sel = i.op == Op::MovSx ? i.sx_bits : (i.op == Op::SDiv || i.op == Op::SMod) ? 1 : 0;
                Source s = i.op == Op::Neg ? Source::None : operand_source(i.src);
                return {{Kind::Alu, i.op, static_cast<uint8_t>(i.is64 ? 64 : 32), s, sel, -1},
                        {i.dst, i.src.reg, 0, i.src.imm}};
            } else if constexpr (std::is_same_v<T, Endian>) {
                return {{Kind::Endian, i.op, static_cast<uint8_t>(i.op == Op::Swap ? 64 : 32), Source::None,
                         i.bits, -1},
                        {i.dst}};
            } else if constexpr (std::is_same_v<T, Jump>) {
                bool gotol = i.op == Op::Ja && i.is32;
                Source s = i.op == Op::Ja ? Source::None : operand_source(i.src);
                return {{Kind::Jump, i.op, static_cast<uint8_t>(i.is32 ? 32 : 64), s, 0, 0},
                        {i.dst, i.src.reg, static_cast<int16_t>(gotol ? 0 : i.offset),
                         gotol ? i.offset : i.src.imm}};
            } else if constexpr (std::is_same_v<T, Call>) {
                Source s = i.op == Op::CallReg ? Source::Reg : Source::Imm;
                return {{Kind::Call, i.op, 64, s, 0, 0}, {i.reg, 0, i.offset, i.imm}};
            } else if constexpr (std::is_same_v<T, Exit>) {
                return {{Kind::Exit, Op::Exit, 64, Source::None, 0, 0}, {}};
            } else if constexpr (std::is_same_v<T, LoadImm64>) {
                return {{Kind::LoadImm64, Op::LoadImm64, 64, Source::Imm, i.src_kind, -1},
                        {i.dst, 0, 0, i.imm_lo, i.imm_hi}};
            } else if constexpr (std::is_same_v<T, Load>) {
                return {{Kind::Load, i.sign_extend ? Op::LoadSx : Op::Load, i.size, Source::None, 0, 0},
                        {i.dst, i.base, i.offset}};
            } else if constexpr (std::is_same_v<T, Store>) {
                bool reg = i.value.is_reg;
                return {
                    {Kind::Store, reg ? Op::StoreReg : Op::StoreImm, i.size, operand_source(i.value), 0, 0},
                    {i.base, i.value.reg, i.offset, i.value.imm}};
            } else if constexpr (std::is_same_v<T, Atomic>) {
                bool rmw = i.op != Op::LoadAcquire && i.op != Op::StoreRelease;
                return {{Kind::Atomic, i.op, i.size, Source::Reg, i.fetch ? kAtomicFetch : 0,
                         rmw ? kAtomicFetch : 0},
                        {i.dst, i.src, i.offset}};
            } else {
                static_assert(std::is_same_v<T, PacketLoad>);
                return {{Kind::PacketLoad, i.indirect ? Op::PacketInd : Op::PacketAbs, i.size, Source::None,
                         0, 0},
                        {0, i.src, 0, i.imm}};
            }
        },
        insn);
}

const OpcodeForm* find_form(const FormKey& key) {
    for (const auto& f : opcode_forms()) {
        if (f.kind == key.kind && f.op == key.op && f.width == key.width && f.source == key.source &&
            (f.selector_value & key.selector_mask) == (key.selector & key.selector_mask)) {
            return &f;
        }
    }
    return nullptr;
}

}  // namespace

const OpcodeForm& form_of(const Instruction& insn) {
    const OpcodeForm* form = find_form(describe(insn).key);
    // Every Instruction comes from the decoder or assembler, which only build table rows.
    if (form == nullptr) std::abort();
    return *form;
}

Encoded encode(const Instruction& insn) {
    auto [key, fields] = describe(insn);
    const OpcodeForm* form = find_form(key);
    if (form == nullptr) std::abort();

    RawInstruction raw;
    raw.opcode = form->opcode;
    uint8_t dst = (form->operands & kDst) ? fields.dst : 0;
    uint8_t src = (form->operands & kSrc) ? fields.src : 0;
    raw.offset = (form->operands & kOffset) ? fields.offset : 0;
    raw.imm = (form->operands & kImm) ? fields.imm : 0;
    switch (form->selector) {
        case kSrc: src = static_cast<uint8_t>(form->selector_value); break;
        case kOffset: raw.offset = static_cast<int16_t>(form->selector_value); break;
        case kImm: raw.imm = form->selector_value; break;
        default: break;
    }
    raw.regs = RawInstruction::pack_regs(dst, src);

    Encoded out{{raw, RawInstruction{}}, 1};
    if (form->kind == Kind::LoadImm64) {
        out.slots[1].imm = fields.imm_hi;
        out.count = 2;
    }
    return out;
}

std::vector<RawInstruction> encode(const Program& program) {
    std::vector<RawInstruction> slots;
    slots.reserve(program.size() + 1);
    for (const auto& insn : program.instructions) {
        auto e = encode(insn);
        slots.insert(slots.end(), e.slots.begin(), e.slots.begin() + e.count);
    }
    return slots;
}

bool ends_flow(const Instruction& insn) {
    if (std::holds_alternative<Exit>(insn)) return true;
    const auto* jump = std::get_if<Jump>(&insn);
    return jump != nullptr && jump->op == Op::Ja;
}

uint32_t Program::slot_count() const {
    if (instructions.empty()) return 0;
    return slot.back() + (std::holds_alternative<LoadImm64>(instructions.back()) ? 2 : 1);
}

}  // namespace bpfvm::isa
