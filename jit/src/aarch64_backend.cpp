// AArch64 instruction selection on asmjit's a64 assembler, under ProgramCompiler (program_compiler.hpp:
// what each BPF instruction does) and backend.hpp (frame layout, errors, linking).
//
// Register mapping (AAPCS64): r1-r5 are x0-x4 (the helper-call argument registers); r0 is x7;
// r6-r9 are x19-x22, r10 is x23 (callee-saved, so BPF-to-BPF and runtime calls keep them); x24
// holds the RunState; the auxiliary register of constant blinding is x25 (callee-saved: runtime
// calls made by memory checks keep it, and no sequence below writes it). x9-x12 are scratch (x9
// the address of a memory access), x16 the target of runtime calls; x18 (platform) is unused.
//
// sp stays 16-byte aligned. The trampoline saves x19-x26, x29/x30 and the previous entry_sp
// (the host stack pointer of the innermost entry) in one frame. A BPF-to-BPF call pushes r6-r10
// and x30 (48 bytes) and branches with `bl`; exit is `ret`. Runtime calls keep x30 on the stack
// around `blr`. Errors branch to one abort path that resets sp to the innermost entry's and
// returns through the trampoline. Atomics are LL/SC loops (ldaxr/stlxr), which every ARMv8 core
// has; LSE is not used.
#include "backends.hpp"

#include <asmjit/arm/a64assembler.h>
#include <asmjit/arm/a64utils.h>

#include <cstddef>
#include <string>

#include "program_compiler.hpp"

namespace bpfvm::jit {
namespace {

using namespace asmjit;
using a64::Gp;
using arm::CondCode;
using isa::Op;

// r0-r10, then the auxiliary register of constant blinding (index 11, as the kernel's BPF_REG_AX).
const a64::GpX kReg[kBackendRegisterCount] = {a64::x7,  a64::x0,  a64::x1,  a64::x2,  a64::x3,  a64::x4,
                                              a64::x19, a64::x20, a64::x21, a64::x22, a64::x23, a64::x25};
const a64::GpX kState = a64::x24;
const a64::GpX kAddr = a64::x9;     // address of the memory access
const a64::GpX kTmp = a64::x10;     // immediates, loaded fields
const a64::GpX kTmp2 = a64::x11;    // quotients, old values of atomics
const a64::GpX kStatus = a64::x12;  // store-exclusive status
const a64::GpX kCall = a64::x16;    // runtime call target
// Registers the trampoline saves, in pairs (x26 keeps the frame a multiple of 16 bytes).
const a64::GpX kSavedPairs[][2] = {
    {a64::x19, a64::x20}, {a64::x21, a64::x22}, {a64::x23, a64::x24}, {a64::x25, a64::x26}};
constexpr int32_t kFrameBytes = 96;        // x29/x30, four pairs, previous entry_sp + padding
constexpr int32_t kSavedEntryOffset = 80;  // of the previous entry_sp in the frame
// A program of at most this many instructions, with its stubs, spans less than 1 MiB (no BPF
// instruction takes 100 AArch64 instructions), so conditional branches within it reach.
constexpr size_t kNearInstructions = 2048;

int32_t reg_offset(unsigned r) {
    return static_cast<int32_t>(offsetof(RunState, regs) + 8 * r);
}
#define STATE_FIELD(field) a64::ptr(kState, static_cast<int32_t>(offsetof(RunState, field)))

Gp width(const a64::GpX& r, bool is64) {
    return is64 ? Gp(r) : Gp(r.w());
}

class Compiler final : public ProgramCompiler<Compiler, a64::Assembler> {
 public:
    using ProgramCompiler::ProgramCompiler;

    // uint32_t trampoline(RunState* state (x0), uint64_t target (x1)).
    void trampoline() {
        trampoline_ = a_.newLabel();
        abort_ = a_.newLabel();
        Label tail = a_.newLabel();
        a_.bind(trampoline_);
        a_.stp(a64::x29, a64::x30, a64::ptr_pre(a64::sp, -kFrameBytes));
        a_.mov(a64::x29, a64::sp);
        int32_t offset = 16;
        for (const auto& pair : kSavedPairs) {
            a_.stp(pair[0], pair[1], a64::ptr(a64::sp, offset));
            offset += 16;
        }
        a_.mov(kState, a64::x0);
        a_.mov(kCall, a64::x1);
        a_.ldr(kTmp, STATE_FIELD(entry_sp));
        a_.str(kTmp, a64::ptr(a64::sp, kSavedEntryOffset));
        a_.mov(kTmp, a64::sp);
        a_.str(kTmp, STATE_FIELD(entry_sp));
        // The auxiliary register is never live across an entry: r0-r10 only.
        for (unsigned r = 0; r < isa::kRegisterCount; ++r) reload(r);
        a_.blr(kCall);
        spill(0);
        a_.mov(a64::w0, a64::wzr);
        a_.bind(tail);
        a_.ldr(kTmp, a64::ptr(a64::sp, kSavedEntryOffset));
        a_.str(kTmp, STATE_FIELD(entry_sp));
        offset = 16;
        for (const auto& pair : kSavedPairs) {
            a_.ldp(pair[0], pair[1], a64::ptr(a64::sp, offset));
            offset += 16;
        }
        a_.ldp(a64::x29, a64::x30, a64::ptr_post(a64::sp, kFrameBytes));
        a_.ret(a64::x30);
        a_.bind(abort_);
        a_.ldr(kTmp, STATE_FIELD(entry_sp));
        a_.mov(a64::sp, kTmp);
        a_.mov(a64::w0, 1);
        a_.b(tail);
    }

 private:
    friend ProgramCompiler;

    // ---- the hooks of ProgramCompiler outside single instructions ----
    // r0-r5 live in caller-saved host registers (the auxiliary register does not).
    static constexpr unsigned kVolatileRegisters[] = {0, 1, 2, 3, 4, 5};
    void spill(unsigned r) { a_.str(kReg[r], a64::ptr(kState, reg_offset(r))); }
    void reload(unsigned r) { a_.ldr(kReg[r], a64::ptr(kState, reg_offset(r))); }

    void begin_program() {
        far_ = program_->size() > kNearInstructions;
        local_abort_ = a_.newLabel();
    }
    void end_program() {
        a_.bind(local_abort_);
        a_.b(abort_);
    }
    Label abort_label() const { return local_abort_; }
    void jump(const Label& target) { a_.b(target); }

    // Conditional branches reach +-1 MiB. Inside a program of more than kNearInstructions
    // instructions, branches to jump targets, stubs and the abort path jump over an
    // unconditional branch (+-128 MiB) instead; the abort path is reached through a branch
    // after the program's stubs (the trampoline's may be further away in a large module).
    void branch(CondCode cc, const Label& target) {
        if (!far_) {
            a_.b(cc, target);
            return;
        }
        Label skip = a_.newLabel();
        a_.b(arm::negateCond(cc), skip);
        a_.b(target);
        a_.bind(skip);
    }

    void decrement_budget(const Label& exhausted) {
        a_.ldr(kTmp, STATE_FIELD(budget_left));
        a_.subs(kTmp, kTmp, 1);
        a_.str(kTmp, STATE_FIELD(budget_left));
        branch(CondCode::kLO, exhausted);  // borrowed: the budget was 0
    }

    // Arguments in x0-x4 (BPF r1-r5: spilled first where they matter). x30 is the return address
    // of the BPF function: kept on the stack around the call.
    void call_runtime(const void* fn, std::initializer_list<RuntimeArg> args) {
        unsigned i = 0;
        for (const RuntimeArg& arg : args) {
            const a64::GpX r = a64::x(i++);
            switch (arg.kind) {
                case RuntimeArg::State: a_.mov(r, kState); break;
                case RuntimeArg::Address: a_.mov(r, kAddr); break;
                case RuntimeArg::SpilledRegister:
                    a_.ldr(r, a64::ptr(kState, reg_offset(static_cast<unsigned>(arg.value))));
                    break;
                case RuntimeArg::Value: load_imm(r, arg.value); break;
            }
        }
        load_imm(kCall, reinterpret_cast<uint64_t>(fn));
        a_.str(a64::x30, a64::ptr_pre(a64::sp, -16));
        a_.blr(kCall);
        a_.ldr(a64::x30, a64::ptr_post(a64::sp, 16));
    }
    void branch_if_result_nonzero(const Label& target) {
        if (!far_) {
            a_.cbnz(a64::w0, target);
            return;
        }
        Label skip = a_.newLabel();
        a_.cbz(a64::w0, skip);
        a_.b(target);
        a_.bind(skip);
    }
    void branch_if_result_not(uint32_t value, const Label& target) {
        a_.cmp(a64::w0, Imm(value));
        branch(CondCode::kNE, target);
    }
    void jump_to_tail_target() {
        a_.ldr(kCall, STATE_FIELD(tail_target));
        a_.br(kCall);
    }

    void branch_if_depth_above(uint32_t depth, const Label& target) {
        a_.ldr(kTmp.w(), STATE_FIELD(depth));
        a_.cmp(kTmp.w(), Imm(depth));
        branch(CondCode::kHI, target);
    }
    void add_depth(int32_t delta) {
        a_.ldr(kTmp.w(), STATE_FIELD(depth));
        delta >= 0 ? a_.add(kTmp.w(), kTmp.w(), Imm(delta)) : a_.sub(kTmp.w(), kTmp.w(), Imm(-delta));
        a_.str(kTmp.w(), STATE_FIELD(depth));
    }
    void set_current_program(uint32_t index) {
        load_imm32(kTmp, index);
        a_.str(kTmp.w(), STATE_FIELD(current_program));
    }
    // `bl`: r6-r10 and x30 are pushed (48 bytes; the callee may change them), r10 moves down one
    // frame.
    void call_function(const Label& target) {
        a_.stp(kReg[6], kReg[7], a64::ptr_pre(a64::sp, -48));
        a_.stp(kReg[8], kReg[9], a64::ptr(a64::sp, 16));
        a_.stp(kReg[10], a64::x30, a64::ptr(a64::sp, 32));
        a_.sub(kReg[isa::kFramePointer], kReg[isa::kFramePointer], Imm(isa::kStackSize));
        a_.bl(target);
        a_.ldp(kReg[10], a64::x30, a64::ptr(a64::sp, 32));
        a_.ldp(kReg[8], kReg[9], a64::ptr(a64::sp, 16));
        a_.ldp(kReg[6], kReg[7], a64::ptr_post(a64::sp, 48));
    }

    // dst = value with movz/movn and movk, one instruction per halfword that differs from the
    // background (0 or 0xffff).
    void load_imm(const a64::GpX& dst, uint64_t value) {
        int zeros = 0, ones = 0;
        for (int i = 0; i < 4; ++i) {
            const uint16_t h = static_cast<uint16_t>(value >> (16 * i));
            zeros += h == 0;
            ones += h == 0xffff;
        }
        const bool inverted = ones > zeros;
        const uint16_t background = inverted ? 0xffff : 0;
        bool first = true;
        for (int i = 0; i < 4; ++i) {
            const uint16_t h = static_cast<uint16_t>(value >> (16 * i));
            if (h == background) continue;
            if (first) {
                if (inverted) {
                    a_.movn(dst, Imm(static_cast<uint16_t>(~h)), Imm(16 * i));
                } else {
                    a_.movz(dst, Imm(h), Imm(16 * i));
                }
                first = false;
            } else {
                a_.movk(dst, Imm(h), Imm(16 * i));
            }
        }
        if (first) inverted ? a_.movn(dst, Imm(0), Imm(0)) : a_.movz(dst, Imm(0), Imm(0));
    }
    void load_imm32(const a64::GpX& dst, uint32_t value) {
        a_.movz(dst.w(), Imm(value & 0xffff), Imm(0));
        if (value >> 16) a_.movk(dst.w(), Imm(value >> 16), Imm(16));
    }
    // An ALU or jump immediate as the operation sees it: sign-extended to 64 bits, or the 32-bit
    // pattern.
    static uint64_t imm_value(int32_t imm, bool is64) {
        return is64 ? static_cast<uint64_t>(static_cast<int64_t>(imm)) : static_cast<uint32_t>(imm);
    }
    // The immediate in kTmp, at the operation's width.
    Gp imm_in_tmp(int32_t imm, bool is64) {
        if (is64) {
            load_imm(kTmp, imm_value(imm, true));
        } else {
            load_imm32(kTmp, static_cast<uint32_t>(imm));
        }
        return width(kTmp, is64);
    }

    // ---- ALU ----
    void alu(const isa::Alu& x) {
        const bool w64 = x.is64;
        const Gp d = width(kReg[x.dst], w64);
        const bool reg = x.src.is_reg;
        const int32_t imm = x.src.imm;
        const uint64_t value = imm_value(imm, w64);
        auto source = [&]() { return reg ? width(kReg[x.src.reg], w64) : imm_in_tmp(imm, w64); };
        switch (x.op) {
            case Op::Add:
            case Op::Sub: {
                const bool add = x.op == Op::Add;
                if (!reg && imm >= 0 && imm < 4096) {
                    add ? a_.add(d, d, Imm(imm)) : a_.sub(d, d, Imm(imm));
                } else if (!reg && imm < 0 && imm > -4096) {
                    add ? a_.sub(d, d, Imm(-imm)) : a_.add(d, d, Imm(-imm));
                } else {
                    const Gp s = source();
                    add ? a_.add(d, d, s) : a_.sub(d, d, s);
                }
                break;
            }
            case Op::Or:
            case Op::And:
            case Op::Xor: {
                auto op = [&](const auto& s) {
                    switch (x.op) {
                        case Op::Or: a_.orr(d, d, s); break;
                        case Op::And: a_.and_(d, d, s); break;
                        default: a_.eor(d, d, s); break;
                    }
                };
                if (!reg && a64::Utils::isLogicalImm(value, w64 ? 64 : 32)) {
                    op(Imm(value));
                } else if (!reg && value == 0) {
                    op(width(a64::xzr, w64));
                } else {
                    op(source());
                }
                break;
            }
            case Op::Mul: a_.mul(d, d, source()); break;
            case Op::Neg: a_.neg(d, d); break;
            case Op::Mov: a_.mov(d, width(kReg[x.src.reg], w64)); break;
            case Op::MovSx: movsx(x); break;
            case Op::Lsh:
            case Op::Rsh:
            case Op::Arsh: shift(x); break;
            case Op::Div:
            case Op::Mod:
            case Op::SDiv:
            case Op::SMod: divide(x, source()); break;
            default: break;
        }
    }

    void movsx(const isa::Alu& x) {
        const Gp d = width(kReg[x.dst], x.is64);
        const a64::GpX s = kReg[x.src.reg];
        switch (x.sx_bits) {
            case 8: a_.sxtb(d, s.w()); break;
            case 16: a_.sxth(d, s.w()); break;
            default:
                if (x.is64) {
                    a_.sxtw(d, s.w());
                } else {
                    a_.mov(d, s.w());
                }
                break;
        }
    }

    // The variable shifts take the count modulo the width, as the ISA defines.
    void shift(const isa::Alu& x) {
        const bool w64 = x.is64;
        const Gp d = width(kReg[x.dst], w64);
        if (!x.src.is_reg) {
            const unsigned count = static_cast<uint32_t>(x.src.imm) & (w64 ? 63 : 31);
            if (count == 0) {
                if (!w64) a_.mov(d, d);  // still zero-extends
                return;
            }
            switch (x.op) {
                case Op::Lsh: a_.lsl(d, d, Imm(count)); break;
                case Op::Rsh: a_.lsr(d, d, Imm(count)); break;
                default: a_.asr(d, d, Imm(count)); break;
            }
            return;
        }
        const Gp s = width(kReg[x.src.reg], w64);
        switch (x.op) {
            case Op::Lsh: a_.lslv(d, d, s); break;
            case Op::Rsh: a_.lsrv(d, d, s); break;
            default: a_.asrv(d, d, s); break;
        }
    }

    // udiv/sdiv give 0 when dividing by zero and INT_MIN for INT_MIN / -1, and msub then gives
    // the dividend and 0 for the remainders: exactly what isa::alu defines, without branches.
    void divide(const isa::Alu& x, const Gp& s) {
        const bool w64 = x.is64;
        const bool is_signed = x.op == Op::SDiv || x.op == Op::SMod;
        const bool is_div = x.op == Op::Div || x.op == Op::SDiv;
        const Gp d = width(kReg[x.dst], w64);
        const Gp q = is_div ? d : width(kTmp2, w64);
        is_signed ? a_.sdiv(q, d, s) : a_.udiv(q, d, s);
        if (!is_div) a_.msub(d, q, s, d);
    }

    void endian(const isa::Endian& e) {
        const a64::GpX d = kReg[e.dst];
        const bool swap = e.op != Op::ToLe;  // little-endian host: ToBe and Swap swap
        switch (e.bits) {
            case 16:
                if (swap) a_.rev16(d.w(), d.w());
                a_.uxth(d.w(), d.w());
                break;
            case 32:
                if (swap) {
                    a_.rev(d.w(), d.w());
                } else {
                    a_.mov(d.w(), d.w());
                }
                break;
            default:
                if (swap) a_.rev(d, d);
                break;
        }
    }

    // ---- jumps and calls ----
    void compare_and_branch(const isa::Jump& j, const Label& target) {
        const bool w64 = !j.is32;
        const Gp d = width(kReg[j.dst], w64);
        const int32_t imm = j.src.imm;
        const uint64_t value = imm_value(imm, w64);
        if (j.op == Op::Jset) {
            if (j.src.is_reg) {
                a_.tst(d, width(kReg[j.src.reg], w64));
            } else if (a64::Utils::isLogicalImm(value, w64 ? 64 : 32)) {
                a_.tst(d, Imm(value));
            } else {
                a_.tst(d, imm_in_tmp(imm, w64));
            }
        } else if (j.src.is_reg) {
            a_.cmp(d, width(kReg[j.src.reg], w64));
        } else if (imm >= 0 && imm < 4096) {
            a_.cmp(d, Imm(imm));
        } else {
            a_.cmp(d, imm_in_tmp(imm, w64));
        }
        CondCode cc = CondCode::kEQ;
        switch (j.op) {
            case Op::Jeq: cc = CondCode::kEQ; break;
            case Op::Jne: cc = CondCode::kNE; break;
            case Op::Jgt: cc = CondCode::kHI; break;
            case Op::Jge: cc = CondCode::kHS; break;
            case Op::Jlt: cc = CondCode::kLO; break;
            case Op::Jle: cc = CondCode::kLS; break;
            case Op::Jset: cc = CondCode::kNE; break;
            case Op::Jsgt: cc = CondCode::kGT; break;
            case Op::Jsge: cc = CondCode::kGE; break;
            case Op::Jslt: cc = CondCode::kLT; break;
            case Op::Jsle: cc = CondCode::kLE; break;
            default: break;
        }
        branch(cc, target);
    }

    void exit_function() { a_.ret(a64::x30); }

    void load_constant(uint8_t dst, uint64_t value) { load_imm(kReg[dst], value); }

    // ---- memory ----
    void address(uint8_t base, int16_t offset) {
        if (offset >= 0 && offset < 4096) {
            a_.add(kAddr, kReg[base], Imm(offset));
        } else if (offset < 0 && offset > -4096) {
            a_.sub(kAddr, kReg[base], Imm(-offset));
        } else {
            load_imm(kAddr, static_cast<uint64_t>(static_cast<int64_t>(offset)));
            a_.add(kAddr, kReg[base], kAddr);
        }
    }

    // The stack is writable and flat: one unsigned comparison.
    void branch_if_in_stack(uint32_t size, const Label& target) {
        static_assert(kStackBytes - 1 < 4096, "the stack bound is a 12-bit immediate");
        a_.ldr(kTmp, STATE_FIELD(stack_lo));
        a_.sub(kTmp, kAddr, kTmp);
        a_.cmp(kTmp, Imm(kStackBytes - size));
        a_.b(CondCode::kLS, target);  // a few instructions ahead
    }

    void branch_if_misaligned(uint32_t size, const Label& target) {
        a_.tst(kAddr, Imm(size - 1));
        branch(CondCode::kNE, target);
    }

    void load(const isa::Load& l) {
        const a64::GpX d = kReg[l.dst];
        const a64::Mem m = a64::ptr(kAddr);
        if (l.sign_extend) {
            switch (l.size) {
                case 1: a_.ldrsb(d, m); break;
                case 2: a_.ldrsh(d, m); break;
                case 4: a_.ldrsw(d, m); break;
                default: a_.ldr(d, m); break;
            }
            return;
        }
        switch (l.size) {
            case 1: a_.ldrb(d.w(), m); break;
            case 2: a_.ldrh(d.w(), m); break;
            case 4: context_load(d); break;
            default: a_.ldr(d, m); break;
        }
    }

    // A 4-byte load of a context packet field gives the 64-bit pointer behind it.
    void context_load(const a64::GpX& d) {
        Label redirect[3], load64 = a_.newLabel(), done = a_.newLabel();
        for (int i = 0; i < 3; ++i) {
            redirect[i] = a_.newLabel();
            a_.ldr(kTmp, a64::ptr(kState, static_cast<int32_t>(offsetof(RunState, ctx_field) + 8 * i)));
            a_.cmp(kAddr, kTmp);
            a_.b(CondCode::kEQ, redirect[i]);
        }
        a_.ldr(d.w(), a64::ptr(kAddr));
        a_.b(done);
        for (int i = 0; i < 3; ++i) {
            a_.bind(redirect[i]);
            a_.ldr(kAddr, a64::ptr(kState, static_cast<int32_t>(offsetof(RunState, ctx_pointer) + 8 * i)));
            a_.b(load64);
        }
        a_.bind(load64);
        a_.ldr(d, a64::ptr(kAddr));
        a_.bind(done);
    }

    void store_sized(const a64::GpX& value, uint32_t size, const a64::Mem& m) {
        switch (size) {
            case 1: a_.strb(value.w(), m); break;
            case 2: a_.strh(value.w(), m); break;
            case 4: a_.str(value.w(), m); break;
            default: a_.str(value, m); break;
        }
    }

    void store(const isa::Store& s) {
        if (s.value.is_reg) {
            store_sized(kReg[s.value.reg], s.size, a64::ptr(kAddr));
        } else if (s.value.imm == 0) {
            store_sized(a64::xzr, s.size, a64::ptr(kAddr));
        } else {
            load_imm(kTmp, imm_value(s.value.imm, true));
            store_sized(kTmp, s.size, a64::ptr(kAddr));
        }
    }

    // ---- atomics: LL/SC loops ----
    // The value register at the access's width (w for up to 4 bytes).
    static Gp sized(const a64::GpX& r, uint32_t size) { return size == 8 ? Gp(r) : Gp(r.w()); }

    void load_exclusive(const a64::GpX& dst, uint32_t size) {
        const a64::Mem m = a64::ptr(kAddr);
        switch (size) {
            case 1: a_.ldaxrb(dst.w(), m); break;
            case 2: a_.ldaxrh(dst.w(), m); break;
            default: a_.ldaxr(sized(dst, size), m); break;
        }
    }
    // kStatus.w = 0 if the store happened.
    void store_exclusive(const a64::GpX& value, uint32_t size) {
        const a64::Mem m = a64::ptr(kAddr);
        switch (size) {
            case 1: a_.stlxrb(kStatus.w(), value.w(), m); break;
            case 2: a_.stlxrh(kStatus.w(), value.w(), m); break;
            case 4: a_.stlxr(kStatus.w(), value.w(), m); break;
            default:
                // asmjit 1.9 rejects stlxr with a 64-bit value: STLXR Ws, Xt, [Xn] by hand.
                a_.embedUInt32(0xc800fc00u | (kStatus.id() << 16) | (kAddr.id() << 5) | value.id());
                break;
        }
    }

    void atomic(const isa::Atomic& x) {
        const a64::Mem m = a64::ptr(kAddr);
        const a64::GpX src = kReg[x.src];
        switch (x.op) {
            case Op::LoadAcquire: {
                const a64::GpX d = kReg[x.dst];
                switch (x.size) {
                    case 1: a_.ldarb(d.w(), m); break;
                    case 2: a_.ldarh(d.w(), m); break;
                    default: a_.ldar(sized(d, x.size), m); break;
                }
                return;
            }
            case Op::StoreRelease:
                // asmjit 1.9 encodes its stlr() as stllr: emit the instruction ids directly.
                switch (x.size) {
                    case 1: a_.emit(a64::Inst::kIdStlrb, src.w(), m); break;
                    case 2: a_.emit(a64::Inst::kIdStlrh, src.w(), m); break;
                    default: a_.emit(a64::Inst::kIdStlr, sized(src, x.size), m); break;
                }
                return;
            default: break;
        }
        const Gp old = sized(kTmp2, x.size), next = sized(kTmp, x.size), operand = sized(src, x.size);
        Label retry = a_.newLabel();
        if (x.op == Op::AtomicCmpXchg) {
            // r0 is compared with the old value at the access's width; r0 gets the old value.
            Label differ = a_.newLabel(), done = a_.newLabel();
            const a64::GpX r0 = kReg[0];
            a_.bind(retry);
            load_exclusive(kTmp2, x.size);
            switch (x.size) {
                case 1: a_.uxtb(kTmp.w(), r0.w()); break;
                case 2: a_.uxth(kTmp.w(), r0.w()); break;
                default: a_.mov(next, sized(r0, x.size)); break;
            }
            a_.cmp(old, next);
            a_.b(CondCode::kNE, differ);
            store_exclusive(src, x.size);
            a_.cbnz(kStatus.w(), retry);
            a_.b(done);
            a_.bind(differ);
            a_.clrex(Imm(15));
            a_.bind(done);
            a_.mov(r0, kTmp2);
            return;
        }
        a_.bind(retry);
        load_exclusive(kTmp2, x.size);
        switch (x.op) {
            case Op::AtomicXchg: break;
            case Op::AtomicAdd: a_.add(next, old, operand); break;
            case Op::AtomicOr: a_.orr(next, old, operand); break;
            case Op::AtomicAnd: a_.and_(next, old, operand); break;
            default: a_.eor(next, old, operand); break;
        }
        store_exclusive(x.op == Op::AtomicXchg ? src : kTmp, x.size);
        a_.cbnz(kStatus.w(), retry);
        if (x.fetch || x.op == Op::AtomicXchg) a_.mov(src, kTmp2);  // zero-extended by the load
    }

    void packet_address(const isa::PacketLoad& p) {
        load_imm(kAddr, imm_value(p.imm, true));
        if (p.indirect) a_.add(kAddr, kAddr, kReg[p.src]);
    }

    Label local_abort_;  // after the current program's stubs: branches to abort_
    bool far_ = false;   // the current program is large: see branch()
};

}  // namespace

Result<std::unique_ptr<CompiledModule>> compile_aarch64(std::span<const isa::Program* const> programs,
                                                        const JitOptions& options) {
    return assemble_module<Compiler, a64::Assembler>(Arch::kAArch64, "arm64", programs, options);
}

}  // namespace bpfvm::jit
