#include "bpfvm/isa/decoder.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace bpfvm::isa {
namespace {

std::string hex8(uint8_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", v);
    return buf;
}

Error decode_error(ErrorKind kind, uint32_t pc, std::string message) {
    Location where;
    where.instruction = pc;
    return make_error(kind, std::move(message), std::move(where));
}

const char* field_name(Field f) {
    switch (f) {
        case kDst: return "dst";
        case kSrc: return "src";
        case kOffset: return "offset";
        case kImm: return "imm";
        default: return "?";
    }
}

int32_t field_value(const RawInstruction& raw, Field f) {
    switch (f) {
        case kDst: return raw.dst();
        case kSrc: return raw.src();
        case kOffset: return raw.offset;
        case kImm: return raw.imm;
        default: return 0;
    }
}

constexpr Field kAllFields[] = {kDst, kSrc, kOffset, kImm};

// Picks the table row for raw among those sharing its opcode byte.
Result<const OpcodeForm*> select_form(const RawInstruction& raw, uint32_t pc) {
    auto forms = forms_for_opcode(raw.opcode);
    if (forms.empty()) {
        return decode_error(ErrorKind::UnknownOpcode, pc, "unknown opcode " + hex8(raw.opcode));
    }
    Field selector = forms.front().selector;
    if (selector == kNoField) return &forms.front();
    int32_t value = field_value(raw, selector);
    for (const auto& form : forms) {
        if (form.selector_value == value) return &form;
    }
    return decode_error(ErrorKind::InvalidField, pc,
                        "opcode " + hex8(raw.opcode) + " (" + std::string(forms.front().mnemonic) +
                            ") has no form with " + field_name(selector) + " = " + std::to_string(value));
}

bool writes_src(const OpcodeForm& form) {
    // Fetching atomics return the old value in src; cmpxchg returns it in r0 instead.
    return form.kind == Kind::Atomic && form.op != Op::AtomicCmpXchg && form.op != Op::LoadAcquire &&
           form.op != Op::StoreRelease && (form.selector_value & kAtomicFetch) != 0;
}

Result<Instruction> build(const OpcodeForm& form, const RawInstruction& raw, uint8_t dst, uint32_t pc,
                          std::span<const RawInstruction> slots) {
    const uint8_t src = raw.src();
    auto second_operand = [&] {
        switch (form.source) {
            case Source::Reg: return Operand::make_reg(src);
            case Source::Imm: return Operand::make_imm(raw.imm);
            default: return Operand{};
        }
    };
    switch (form.kind) {
        case Kind::Alu:
            return Instruction{Alu{form.op, form.width == 64, dst, second_operand(),
                                   static_cast<uint8_t>(form.op == Op::MovSx ? raw.offset : 0)}};
        case Kind::Endian: return Instruction{Endian{form.op, dst, static_cast<uint8_t>(raw.imm)}};
        case Kind::Jump: {
            bool is32 = form.width == 32;
            int32_t offset = (form.op == Op::Ja && is32) ? raw.imm : raw.offset;
            return Instruction{Jump{form.op, is32, dst, second_operand(), offset}};
        }
        case Kind::Call:
            return Instruction{Call{form.op, form.op == Op::CallReg ? 0 : raw.imm,
                                    form.op == Op::CallReg ? dst : uint8_t{0},
                                    form.op == Op::CallKfunc ? raw.offset : int16_t{0}}};
        case Kind::Exit: return Instruction{Exit{}};
        case Kind::LoadImm64: {
            if (pc + 1 >= slots.size()) {
                return decode_error(ErrorKind::TruncatedProgram, pc,
                                    "lddw needs two slots but the program ends after the first");
            }
            const RawInstruction& next = slots[pc + 1];
            if (next.opcode != 0 || next.regs != 0 || next.offset != 0) {
                return decode_error(ErrorKind::ReservedFieldSet, pc + 1,
                                    "second slot of lddw must have opcode, registers and offset 0");
            }
            return Instruction{LoadImm64{dst, src, raw.imm, next.imm}};
        }
        case Kind::Load: return Instruction{Load{dst, src, raw.offset, form.width, form.op == Op::LoadSx}};
        case Kind::Store: return Instruction{Store{dst, raw.offset, form.width, second_operand()}};
        case Kind::Atomic:
            return Instruction{
                Atomic{form.op, (form.selector_value & kAtomicFetch) != 0, form.width, dst, src, raw.offset}};
        case Kind::PacketLoad:
            return Instruction{PacketLoad{form.op == Op::PacketInd, form.width, src, raw.imm}};
    }
    return decode_error(ErrorKind::UnknownOpcode, pc, "unhandled form");
}

}  // namespace

Result<std::vector<RawInstruction>> slots_from_bytes(std::span<const uint8_t> bytes) {
    if (bytes.size() % sizeof(RawInstruction) != 0) {
        return make_error(ErrorKind::TruncatedProgram,
                          "program is " + std::to_string(bytes.size()) +
                              " bytes, not a whole number of 8-byte instructions");
    }
    std::vector<RawInstruction> slots(bytes.size() / sizeof(RawInstruction));
    for (size_t i = 0; i < slots.size(); ++i) {
        const uint8_t* p = bytes.data() + i * 8;
        slots[i].opcode = p[0];
        slots[i].regs = p[1];
        slots[i].offset = static_cast<int16_t>(p[2] | (p[3] << 8));
        slots[i].imm =
            static_cast<int32_t>(static_cast<uint32_t>(p[4]) | (static_cast<uint32_t>(p[5]) << 8) |
                                 (static_cast<uint32_t>(p[6]) << 16) | (static_cast<uint32_t>(p[7]) << 24));
    }
    return slots;
}

std::vector<uint8_t> bytes_from_slots(std::span<const RawInstruction> slots) {
    std::vector<uint8_t> bytes;
    bytes.reserve(slots.size() * 8);
    for (const auto& s : slots) {
        auto off = static_cast<uint16_t>(s.offset);
        auto imm = static_cast<uint32_t>(s.imm);
        for (uint8_t b : {s.opcode, s.regs, static_cast<uint8_t>(off), static_cast<uint8_t>(off >> 8),
                          static_cast<uint8_t>(imm), static_cast<uint8_t>(imm >> 8),
                          static_cast<uint8_t>(imm >> 16), static_cast<uint8_t>(imm >> 24)}) {
            bytes.push_back(b);
        }
    }
    return bytes;
}

Result<Instruction> decode_instruction(std::span<const RawInstruction> slots, uint32_t pc) {
    if (pc >= slots.size()) {
        return decode_error(
            ErrorKind::TruncatedProgram, pc,
            "no instruction at slot " + std::to_string(pc) + " of " + std::to_string(slots.size()));
    }
    const RawInstruction& raw = slots[pc];
    auto form = select_form(raw, pc);
    if (!form) return form.error();
    const OpcodeForm& f = **form;

    uint8_t dst = raw.dst();
    // LLVM before 19 put callx's register in imm; accept that encoding of the same instruction.
    bool legacy_callx = f.op == Op::CallReg && dst == 0 && raw.imm > 0 && raw.imm < kRegisterCount;
    if (legacy_callx) dst = static_cast<uint8_t>(raw.imm);

    for (Field field : kAllFields) {
        if ((f.operands & field) || f.selector == field) continue;
        if (legacy_callx && field == kImm) continue;
        if (int32_t v = field_value(raw, field); v != 0) {
            return decode_error(ErrorKind::ReservedFieldSet, pc,
                                std::string("reserved field ") + field_name(field) + " of " +
                                    std::string(f.mnemonic) + " (opcode " + hex8(raw.opcode) +
                                    ") must be 0, is " + std::to_string(v));
        }
    }
    if ((f.operands & kDst) && dst >= kRegisterCount) {
        return decode_error(ErrorKind::InvalidRegister, pc,
                            "invalid destination register r" + std::to_string(dst));
    }
    if ((f.operands & kSrc) && raw.src() >= kRegisterCount) {
        return decode_error(ErrorKind::InvalidRegister, pc,
                            "invalid source register r" + std::to_string(raw.src()));
    }
    if (f.writes_dst && dst == kFramePointer) {
        return decode_error(ErrorKind::InvalidRegister, pc,
                            std::string(f.mnemonic) + " writes r10, the read-only frame pointer");
    }
    if (writes_src(f) && raw.src() == kFramePointer) {
        return decode_error(
            ErrorKind::InvalidRegister, pc,
            std::string(f.mnemonic) + " returns the old value in r10, the read-only frame pointer");
    }
    return build(f, raw, dst, pc, slots);
}

Result<Program> decode_program(std::span<const RawInstruction> slots) {
    if (slots.empty()) return make_error(ErrorKind::EmptyProgram, "program has no instructions");
    if (slots.size() > UINT32_MAX / 2) return make_error(ErrorKind::InvalidInput, "program is too large");

    Program program;
    constexpr uint32_t kNotAStart = UINT32_MAX;
    std::vector<uint32_t> index_of_slot(slots.size(), kNotAStart);
    for (uint32_t pc = 0; pc < slots.size();) {
        auto insn = decode_instruction(slots, pc);
        if (!insn) return insn.error();
        index_of_slot[pc] = static_cast<uint32_t>(program.instructions.size());
        program.slot.push_back(pc);
        pc += std::holds_alternative<LoadImm64>(*insn) ? 2 : 1;
        program.instructions.push_back(std::move(*insn));
    }

    // Resolves "pc + 1 + delta" to an instruction index.
    auto resolve = [&](uint32_t pc, int64_t delta, const char* what) -> Result<uint32_t> {
        int64_t target = static_cast<int64_t>(pc) + 1 + delta;
        if (target < 0 || target >= static_cast<int64_t>(slots.size())) {
            return decode_error(ErrorKind::JumpOutOfRange, pc,
                                std::string(what) + " to slot " + std::to_string(target) +
                                    " is outside the program (" + std::to_string(slots.size()) + " slots)");
        }
        if (index_of_slot[target] == kNotAStart) {
            return decode_error(ErrorKind::JumpIntoMiddle, pc,
                                std::string(what) + " to slot " + std::to_string(target) +
                                    " lands in the second half of an lddw");
        }
        return index_of_slot[target];
    };

    // Subprogram entries: the program start and every local call or code-address target.
    std::vector<bool> is_entry(program.size(), false);
    is_entry[0] = true;
    for (uint32_t i = 0; i < program.size(); ++i) {
        uint32_t pc = program.slot[i];
        auto& insn = program.instructions[i];
        if (auto* jump = std::get_if<Jump>(&insn)) {
            auto t = resolve(pc, jump->offset, "jump");
            if (!t) return t.error();
            jump->target = *t;
        } else if (auto* call = std::get_if<Call>(&insn); call && call->op == Op::CallLocal) {
            auto t = resolve(pc, call->imm, "local call");
            if (!t) return t.error();
            call->target = *t;
            is_entry[*t] = true;
        } else if (auto* ld = std::get_if<LoadImm64>(&insn); ld && ld->src_kind == kPseudoFunc) {
            auto t = resolve(pc, ld->imm_lo, "code address");
            if (!t) return t.error();
            ld->target = *t;
            is_entry[*t] = true;
        }
    }

    // Each subprogram ends with exit or an unconditional jump, and its jumps stay inside it.
    std::vector<uint32_t> subprog_of(program.size());
    for (uint32_t i = 0, current = 0; i < program.size(); ++i) {
        if (is_entry[i]) current = i;
        subprog_of[i] = current;
    }
    for (uint32_t i = 0; i < program.size(); ++i) {
        bool last_of_subprog = i + 1 == program.size() || is_entry[i + 1];
        if (last_of_subprog && !ends_flow(program.instructions[i])) {
            return decode_error(ErrorKind::FallsOffEnd, program.slot[i],
                                "execution can run past the end of the " +
                                    std::string(i + 1 == program.size() ? "program" : "subprogram") +
                                    ": its last instruction is neither exit nor an unconditional jump");
        }
        if (auto* jump = std::get_if<Jump>(&program.instructions[i]);
            jump && subprog_of[jump->target] != subprog_of[i]) {
            return decode_error(ErrorKind::JumpOutOfRange, program.slot[i],
                                "jump to slot " + std::to_string(program.slot[jump->target]) +
                                    " leaves the subprogram that starts at slot " +
                                    std::to_string(program.slot[subprog_of[i]]));
        }
    }
    return program;
}

Result<Program> decode_program(std::span<const uint8_t> bytes) {
    auto slots = slots_from_bytes(bytes);
    if (!slots) return slots.error();
    return decode_program(std::span<const RawInstruction>(*slots));
}

}  // namespace bpfvm::isa
