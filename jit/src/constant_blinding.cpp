#include "constant_blinding.hpp"

#include <type_traits>
#include <variant>

namespace bpfvm::jit {
namespace {

using isa::Op;
using isa::Operand;

class Blinder {
 public:
    Blinder(const isa::Program& original, std::mt19937_64& keys) : original_(original), keys_(keys) {}

    BlindedProgram run() {
        for (index_ = 0; index_ < original_.size(); ++index_) {
            out_.first.push_back(static_cast<uint32_t>(out_.program.size()));
            std::visit([this](const auto& insn) { rewrite(insn); }, original_.instructions[index_]);
        }
        // Every target above is still an original index.
        for (isa::Instruction& insn : out_.program.instructions) {
            if (auto* j = std::get_if<isa::Jump>(&insn)) j->target = out_.first.at(j->target);
            if (auto* c = std::get_if<isa::Call>(&insn); c && c->op == Op::CallLocal)
                c->target = out_.first.at(c->target);
            if (auto* l = std::get_if<isa::LoadImm64>(&insn); l && l->src_kind == isa::kPseudoFunc)
                l->target = out_.first.at(l->target);
        }
        return std::move(out_);
    }

 private:
    void emit(isa::Instruction insn) {
        out_.program.instructions.push_back(insn);
        out_.program.slot.push_back(original_.slot[index_]);
    }

    int32_t key() { return static_cast<int32_t>(keys_()); }

    // dst = imm (sign-extended to 64 bits when is64), without imm in the code.
    void load_blinded(uint8_t dst, int32_t imm, bool is64) {
        const int32_t k = key();
        emit(isa::Alu{Op::Mov, is64, dst, Operand::make_imm(imm ^ k)});
        emit(isa::Alu{Op::Xor, is64, dst, Operand::make_imm(k)});
    }

    // ax = imm sign-extended, so that a 64-bit use sees the sign-extended immediate and a 32-bit
    // use its low half, as the immediate forms define.
    Operand blinded_operand(const Operand& src) {
        if (src.is_reg) return src;
        load_blinded(kAuxRegister, src.imm, true);
        return Operand::make_reg(kAuxRegister);
    }

    void rewrite(const isa::Alu& x) {
        if (x.op == Op::Neg || x.src.is_reg) return emit(x);
        if (x.op == Op::Mov) return load_blinded(x.dst, x.src.imm, x.is64);
        isa::Alu blinded = x;
        blinded.src = blinded_operand(x.src);
        emit(blinded);
    }

    void rewrite(const isa::Jump& j) {
        if (j.op == Op::Ja || j.src.is_reg) return emit(j);
        isa::Jump blinded = j;
        blinded.src = blinded_operand(j.src);
        emit(blinded);
    }

    void rewrite(const isa::Call& c) {
        if (c.op != Op::CallHelper) return emit(c);
        load_blinded(kAuxRegister, c.imm, true);
        isa::Call blinded = c;
        blinded.op = Op::CallReg;
        blinded.imm = 0;
        blinded.reg = kAuxRegister;
        emit(blinded);
    }

    void rewrite(const isa::LoadImm64& l) {
        if (l.src_kind != 0) return emit(l);
        const auto k = keys_();
        isa::LoadImm64 masked = l, mask = l;
        masked.imm_lo ^= static_cast<int32_t>(k);
        masked.imm_hi ^= static_cast<int32_t>(k >> 32);
        mask.dst = kAuxRegister;
        mask.imm_lo = static_cast<int32_t>(k);
        mask.imm_hi = static_cast<int32_t>(k >> 32);
        emit(masked);
        emit(mask);
        emit(isa::Alu{Op::Xor, true, l.dst, Operand::make_reg(kAuxRegister)});
    }

    void rewrite(const isa::Store& s) {
        isa::Store blinded = s;
        blinded.value = blinded_operand(s.value);
        emit(blinded);
    }

    // [src +] imm becomes ax (= imm [+ src]) + 0.
    void rewrite(const isa::PacketLoad& p) {
        load_blinded(kAuxRegister, p.imm, true);
        if (p.indirect) emit(isa::Alu{Op::Add, true, kAuxRegister, Operand::make_reg(p.src)});
        emit(isa::PacketLoad{true, p.size, kAuxRegister, 0});
    }

    template <typename Insn>
    void rewrite(const Insn& insn) {
        emit(insn);  // no immediate operand: Endian, Exit, Load, Atomic
    }

    const isa::Program& original_;
    std::mt19937_64& keys_;
    BlindedProgram out_;
    uint32_t index_ = 0;
};

}  // namespace

BlindedProgram blind_constants(const isa::Program& program, std::mt19937_64& keys) {
    return Blinder(program, keys).run();
}

}  // namespace bpfvm::jit
