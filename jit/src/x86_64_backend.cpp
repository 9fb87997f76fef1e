// x86-64 instruction selection on asmjit's x86 assembler, under ProgramCompiler
// (program_compiler.hpp: what each BPF instruction does) and backend.hpp (frame layout, errors,
// linking).
//
// Register mapping (System V): r0 rax; r1-r5 rdi, rsi, rdx, rcx, r8 (the helper-call argument
// registers); r6-r9 rbx, r13, r14, r15; r10 rbp. r12 holds the RunState; r10 and r11 are scratch
// (r11 the address of a memory access); r9 is ax, the register of constant blinding
// (kAuxRegister), and a scratch in sequences that never read ax (atomics). Inside every BPF
// function rsp = 8 (mod 16), so a runtime call is `sub rsp, 8; call`. BPF-to-BPF calls are native
// calls that push r6-r9 and r10; exit is `ret`. Errors jump to one abort path that resets rsp to
// the innermost entry's and returns through the trampoline.
#include "backends.hpp"

#include <asmjit/x86.h>

#include <cstddef>
#include <string>

#include "program_compiler.hpp"

namespace bpfvm::jit {
namespace {

using namespace asmjit;
using isa::Op;
using x86::Gp;

const Gp kReg[kBackendRegisterCount] = {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8,
                                        x86::rbx, x86::r13, x86::r14, x86::r15, x86::rbp, x86::r9};
const Gp kState = x86::r12;

int32_t reg_offset(unsigned r) {
    return static_cast<int32_t>(offsetof(RunState, regs) + 8 * r);
}
#define STATE_FIELD(field) x86::qword_ptr(kState, static_cast<int32_t>(offsetof(RunState, field)))
#define STATE_FIELD32(field) x86::dword_ptr(kState, static_cast<int32_t>(offsetof(RunState, field)))

Gp sized(const Gp& r, unsigned bytes) {
    switch (bytes) {
        case 1: return r.r8();
        case 2: return r.r16();
        case 4: return r.r32();
        default: return r.r64();
    }
}
Gp width(const Gp& r, bool is64) {
    return is64 ? Gp(r.r64()) : Gp(r.r32());
}
x86::Mem at_r11(unsigned bytes) {
    return x86::ptr(x86::r11, 0, bytes);
}

class Compiler final : public ProgramCompiler<Compiler, x86::Assembler> {
 public:
    using ProgramCompiler::ProgramCompiler;

    void trampoline() {
        trampoline_ = a_.newLabel();
        abort_ = a_.newLabel();
        Label tail = a_.newLabel();
        a_.bind(trampoline_);
        for (const Gp& r : {x86::rbp, x86::rbx, x86::r12, x86::r13, x86::r14, x86::r15}) a_.push(r);
        a_.mov(kState, x86::rdi);
        a_.push(STATE_FIELD(entry_sp));
        a_.mov(STATE_FIELD(entry_sp), x86::rsp);
        a_.mov(x86::r11, x86::rsi);
        for (unsigned r = 0; r < isa::kRegisterCount; ++r) reload(r);
        a_.call(x86::r11);
        spill(0);
        a_.xor_(x86::eax, x86::eax);
        a_.bind(tail);
        a_.pop(STATE_FIELD(entry_sp));
        for (const Gp& r : {x86::r15, x86::r14, x86::r13, x86::r12, x86::rbx, x86::rbp}) a_.pop(r);
        a_.ret();
        a_.bind(abort_);
        a_.mov(x86::rsp, STATE_FIELD(entry_sp));
        a_.mov(x86::eax, 1);
        a_.jmp(tail);
    }

 private:
    friend ProgramCompiler;

    // ---- the hooks of ProgramCompiler outside single instructions ----
    // r0-r5 and ax live in caller-saved host registers.
    static constexpr unsigned kVolatileRegisters[] = {0, 1, 2, 3, 4, 5, kAuxRegister};
    void spill(unsigned r) { a_.mov(x86::qword_ptr(kState, reg_offset(r)), kReg[r]); }
    void reload(unsigned r) { a_.mov(kReg[r], x86::qword_ptr(kState, reg_offset(r))); }

    void begin_program() {}
    void end_program() {}
    Label abort_label() const { return abort_; }
    void jump(const Label& target) { a_.jmp(target); }

    void decrement_budget(const Label& exhausted) {
        a_.sub(STATE_FIELD(budget_left), 1);
        a_.jb(exhausted);
    }

    // Arguments in rdi, rsi, rdx, rcx, r8 (BPF r1-r5: spilled first where they matter); rsp is 8
    // (mod 16) inside BPF functions.
    void call_runtime(const void* fn, std::initializer_list<RuntimeArg> args) {
        static const Gp kArgument[] = {x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8};
        unsigned i = 0;
        for (const RuntimeArg& arg : args) {
            const Gp& r = kArgument[i++];
            switch (arg.kind) {
                case RuntimeArg::State: a_.mov(r, kState); break;
                case RuntimeArg::Address: a_.mov(r, x86::r11); break;
                case RuntimeArg::SpilledRegister:
                    a_.mov(r, x86::qword_ptr(kState, reg_offset(static_cast<unsigned>(arg.value))));
                    break;
                case RuntimeArg::Value: mov_constant(r, arg.value); break;
            }
        }
        a_.mov(x86::r10, reinterpret_cast<uint64_t>(fn));
        a_.sub(x86::rsp, 8);
        a_.call(x86::r10);
        a_.add(x86::rsp, 8);
    }
    void branch_if_result_nonzero(const Label& target) {
        a_.test(x86::eax, x86::eax);
        a_.jnz(target);
    }
    void branch_if_result_not(uint32_t value, const Label& target) {
        a_.cmp(x86::eax, value);
        a_.jne(target);
    }
    void jump_to_tail_target() { a_.jmp(STATE_FIELD(tail_target)); }

    void branch_if_depth_above(uint32_t depth, const Label& target) {
        a_.cmp(STATE_FIELD32(depth), depth);
        a_.ja(target);
    }
    void add_depth(int32_t delta) { a_.add(STATE_FIELD32(depth), delta); }
    void set_current_program(uint32_t index) { a_.mov(STATE_FIELD32(current_program), index); }
    // A native call: r6-r10 are pushed (the callee may change them), r10 moves down one frame.
    void call_function(const Label& target) {
        for (unsigned r : {6u, 7u, 8u, 9u, 10u}) a_.push(kReg[r]);
        a_.sub(kReg[isa::kFramePointer], isa::kStackSize);
        a_.call(target);
        for (unsigned r : {10u, 9u, 8u, 7u, 6u}) a_.pop(kReg[r]);
    }

    // ---- ALU ----
    void alu(const isa::Alu& x) {
        const bool w64 = x.is64;
        const Gp d = width(kReg[x.dst], w64);
        const bool reg = x.src.is_reg;
        const Gp s = width(kReg[x.src.reg], w64);
        const int32_t imm = x.src.imm;
        switch (x.op) {
            case Op::Add: reg ? a_.add(d, s) : a_.add(d, imm); break;
            case Op::Sub: reg ? a_.sub(d, s) : a_.sub(d, imm); break;
            case Op::Or: reg ? a_.or_(d, s) : a_.or_(d, imm); break;
            case Op::And: reg ? a_.and_(d, s) : a_.and_(d, imm); break;
            case Op::Xor: reg ? a_.xor_(d, s) : a_.xor_(d, imm); break;
            case Op::Mul: reg ? a_.imul(d, s) : a_.imul(d, d, imm); break;
            case Op::Neg: a_.neg(d); break;
            case Op::Mov: a_.mov(d, s); break;
            case Op::MovSx: movsx(x); break;
            case Op::Lsh:
            case Op::Rsh:
            case Op::Arsh: shift(x); break;
            case Op::Div:
            case Op::Mod:
            case Op::SDiv:
            case Op::SMod: divide(x); break;
            default: break;
        }
    }

    void movsx(const isa::Alu& x) {
        const Gp d = width(kReg[x.dst], x.is64);
        const Gp s = kReg[x.src.reg];
        switch (x.sx_bits) {
            case 8: a_.movsx(d, s.r8()); break;
            case 16: a_.movsx(d, s.r16()); break;
            default:
                if (x.is64) {
                    a_.movsxd(d, s.r32());
                } else {
                    a_.mov(d, s.r32());
                }
                break;
        }
    }

    void shift(const isa::Alu& x) {
        const bool w64 = x.is64;
        const Gp d = width(kReg[x.dst], w64);
        auto op = [&](const Gp& target, const auto& count) {
            switch (x.op) {
                case Op::Lsh: a_.shl(target, count); break;
                case Op::Rsh: a_.shr(target, count); break;
                default: a_.sar(target, count); break;
            }
        };
        if (!x.src.is_reg) {
            const unsigned count = static_cast<uint32_t>(x.src.imm) & (w64 ? 63 : 31);
            if (count != 0) {
                op(d, Imm(count));
            } else if (!w64) {
                a_.mov(d, d);  // still zero-extends
            }
            return;
        }
        // The count must be in cl, which holds r4: shift a copy in r10.
        const Gp t = width(x86::r10, w64);
        a_.mov(x86::r10, kReg[x.dst]);
        a_.mov(x86::r11, x86::rcx);
        a_.mov(x86::rcx, kReg[x.src.reg]);
        op(t, x86::cl);
        a_.mov(x86::rcx, x86::r11);
        a_.mov(d, t);
    }

    // Division and modulo as isa::alu defines them: by zero, div gives 0 and mod the dividend;
    // signed by -1, sdiv negates (INT_MIN stays INT_MIN) and smod gives 0.
    void divide(const isa::Alu& x) {
        const bool w64 = x.is64;
        const bool is_signed = x.op == Op::SDiv || x.op == Op::SMod;
        const bool is_div = x.op == Op::Div || x.op == Op::SDiv;
        const Gp dv = width(x86::r10, w64), sv = width(x86::r11, w64);
        a_.mov(dv, width(kReg[x.dst], w64));
        if (x.src.is_reg) {
            a_.mov(sv, width(kReg[x.src.reg], w64));
        } else if (w64) {
            a_.mov(x86::r11, static_cast<int64_t>(x.src.imm));
        } else {
            a_.mov(x86::r11d, static_cast<uint32_t>(x.src.imm));
        }
        Label nonzero = a_.newLabel(), normal = a_.newLabel(), done = a_.newLabel();
        a_.test(sv, sv);
        a_.jnz(nonzero);
        if (is_div) a_.xor_(x86::r10d, x86::r10d);
        a_.jmp(done);
        a_.bind(nonzero);
        if (is_signed) {
            a_.cmp(sv, -1);
            a_.jne(normal);
            if (is_div) {
                a_.neg(dv);
            } else {
                a_.xor_(x86::r10d, x86::r10d);
            }
            a_.jmp(done);
        }
        a_.bind(normal);
        a_.push(x86::rax);
        a_.push(x86::rdx);
        a_.mov(width(x86::rax, w64), dv);
        if (is_signed) {
            w64 ? a_.cqo() : a_.cdq();
            a_.idiv(sv);
        } else {
            a_.xor_(x86::edx, x86::edx);
            a_.div(sv);
        }
        a_.mov(dv, width(is_div ? x86::rax : x86::rdx, w64));
        a_.pop(x86::rdx);
        a_.pop(x86::rax);
        a_.bind(done);
        a_.mov(width(kReg[x.dst], w64), dv);
    }

    void endian(const isa::Endian& e) {
        const Gp d = kReg[e.dst];
        const bool swap = e.op != Op::ToLe;  // little-endian host: ToBe and Swap swap
        switch (e.bits) {
            case 16:
                if (swap) a_.rol(d.r16(), 8);
                a_.movzx(d.r32(), d.r16());
                break;
            case 32:
                if (swap) {
                    a_.bswap(d.r32());
                } else {
                    a_.mov(d.r32(), d.r32());
                }
                break;
            default:
                if (swap) a_.bswap(d.r64());
                break;
        }
    }

    // ---- jumps and calls ----
    void compare_and_branch(const isa::Jump& j, const Label& target) {
        const bool w64 = !j.is32;
        const Gp d = width(kReg[j.dst], w64);
        if (j.op == Op::Jset) {
            if (j.src.is_reg) {
                a_.test(d, width(kReg[j.src.reg], w64));
            } else {
                a_.test(d, j.src.imm);
            }
        } else if (j.src.is_reg) {
            a_.cmp(d, width(kReg[j.src.reg], w64));
        } else {
            a_.cmp(d, j.src.imm);
        }
        switch (j.op) {
            case Op::Jeq: a_.je(target); break;
            case Op::Jne: a_.jne(target); break;
            case Op::Jgt: a_.ja(target); break;
            case Op::Jge: a_.jae(target); break;
            case Op::Jlt: a_.jb(target); break;
            case Op::Jle: a_.jbe(target); break;
            case Op::Jset: a_.jnz(target); break;
            case Op::Jsgt: a_.jg(target); break;
            case Op::Jsge: a_.jge(target); break;
            case Op::Jslt: a_.jl(target); break;
            case Op::Jsle: a_.jle(target); break;
            default: break;
        }
    }

    void exit_function() { a_.ret(); }

    void load_constant(uint8_t dst, uint64_t value) { mov_constant(kReg[dst], value); }

    // r = value: the 32-bit move where it is enough (it zero-extends).
    void mov_constant(const Gp& r, uint64_t value) {
        if (value <= UINT32_MAX) {
            a_.mov(r.r32(), static_cast<uint32_t>(value));
        } else {
            a_.mov(r.r64(), value);
        }
    }

    // ---- memory: the address in r11 ----
    void address(uint8_t base, int16_t offset) { a_.lea(x86::r11, x86::ptr(kReg[base], offset)); }

    // The stack is writable and flat: one unsigned comparison (r10 is scratch).
    void branch_if_in_stack(uint32_t size, const Label& target) {
        a_.mov(x86::r10, x86::r11);
        a_.sub(x86::r10, STATE_FIELD(stack_lo));
        a_.cmp(x86::r10, static_cast<int32_t>(kStackBytes - size));
        a_.jbe(target);
    }

    void branch_if_misaligned(uint32_t size, const Label& target) {
        a_.test(x86::r11d, size - 1);
        a_.jnz(target);
    }

    void load(const isa::Load& l) {
        const Gp d = kReg[l.dst];
        if (l.sign_extend) {
            switch (l.size) {
                case 1: a_.movsx(d, x86::byte_ptr(x86::r11)); break;
                case 2: a_.movsx(d, x86::word_ptr(x86::r11)); break;
                case 4: a_.movsxd(d, x86::dword_ptr(x86::r11)); break;
                default: a_.mov(d, x86::qword_ptr(x86::r11)); break;
            }
            return;
        }
        switch (l.size) {
            case 1: a_.movzx(d.r32(), x86::byte_ptr(x86::r11)); break;
            case 2: a_.movzx(d.r32(), x86::word_ptr(x86::r11)); break;
            case 4: context_load(d); break;
            default: a_.mov(d, x86::qword_ptr(x86::r11)); break;
        }
    }

    // A 4-byte load of a context packet field gives the 64-bit pointer behind it.
    void context_load(const Gp& d) {
        Label redirect[3], load64 = a_.newLabel(), done = a_.newLabel();
        for (int i = 0; i < 3; ++i) {
            redirect[i] = a_.newLabel();
            a_.cmp(x86::r11,
                   x86::qword_ptr(kState, static_cast<int32_t>(offsetof(RunState, ctx_field) + 8 * i)));
            a_.je(redirect[i]);
        }
        a_.mov(d.r32(), x86::dword_ptr(x86::r11));
        a_.jmp(done);
        for (int i = 0; i < 3; ++i) {
            a_.bind(redirect[i]);
            a_.mov(x86::r11,
                   x86::qword_ptr(kState, static_cast<int32_t>(offsetof(RunState, ctx_pointer) + 8 * i)));
            a_.jmp(load64);
        }
        a_.bind(load64);
        a_.mov(d, x86::qword_ptr(x86::r11));
        a_.bind(done);
    }

    void store(const isa::Store& s) {
        const x86::Mem m = at_r11(s.size);
        if (s.value.is_reg) {
            a_.mov(m, sized(kReg[s.value.reg], s.size));
            return;
        }
        const int32_t imm = s.value.imm;
        switch (s.size) {
            case 1: a_.mov(m, static_cast<int8_t>(imm)); break;
            case 2: a_.mov(m, static_cast<int16_t>(imm)); break;
            default: a_.mov(m, imm); break;
        }
    }

    // The low `size` bytes of r, zero-extended to 64 bits in place.
    void zero_extend(const Gp& r, unsigned size) {
        switch (size) {
            case 1: a_.movzx(r.r32(), r.r8()); break;
            case 2: a_.movzx(r.r32(), r.r16()); break;
            case 4: a_.mov(r.r32(), r.r32()); break;
            default: break;
        }
    }

    void atomic(const isa::Atomic& x) {
        const x86::Mem m = at_r11(x.size);
        const Gp src = sized(kReg[x.src], x.size);
        switch (x.op) {
            case Op::LoadAcquire:
                if (x.size == 8) {
                    a_.mov(kReg[x.dst], m);
                } else if (x.size == 4) {
                    a_.mov(kReg[x.dst].r32(), m);
                } else {
                    a_.movzx(kReg[x.dst].r32(), m);
                }
                return;
            case Op::StoreRelease: a_.mov(m, src); return;
            case Op::AtomicXchg:
                a_.xchg(m, src);
                zero_extend(kReg[x.src], x.size);
                return;
            case Op::AtomicCmpXchg:
                a_.lock().cmpxchg(m, src, sized(x86::rax, x.size));
                zero_extend(x86::rax, x.size);  // the old value, also when the exchange happened
                return;
            case Op::AtomicAdd:
                if (x.fetch) {
                    a_.lock().xadd(m, src);
                    zero_extend(kReg[x.src], x.size);
                } else {
                    a_.lock().add(m, src);
                }
                return;
            default: break;
        }
        if (!x.fetch) {
            switch (x.op) {
                case Op::AtomicOr: a_.lock().or_(m, src); break;
                case Op::AtomicAnd: a_.lock().and_(m, src); break;
                default: a_.lock().xor_(m, src); break;
            }
            return;
        }
        // Fetching or/and/xor: a cmpxchg loop (rax is r0: kept on the host stack meanwhile).
        const Gp operand = sized(x86::r9, x.size), next = sized(x86::r10, x.size),
                 old = sized(x86::rax, x.size);
        a_.mov(x86::r9, kReg[x.src]);
        a_.push(x86::rax);
        if (x.size >= 4) {
            a_.mov(old, m);
        } else {
            a_.movzx(x86::eax, m);
        }
        Label retry = a_.newLabel();
        a_.bind(retry);
        a_.mov(next, old);
        switch (x.op) {
            case Op::AtomicOr: a_.or_(next, operand); break;
            case Op::AtomicAnd: a_.and_(next, operand); break;
            default: a_.xor_(next, operand); break;
        }
        a_.lock().cmpxchg(m, next, old);
        a_.jnz(retry);
        a_.mov(x86::r10, x86::rax);
        zero_extend(x86::r10, x.size);
        a_.pop(x86::rax);
        a_.mov(kReg[x.src], x86::r10);
    }

    void packet_address(const isa::PacketLoad& p) {
        a_.mov(x86::r11, static_cast<int64_t>(p.imm));
        if (p.indirect) a_.add(x86::r11, kReg[p.src]);
    }
};

}  // namespace

Result<std::unique_ptr<CompiledModule>> compile_x86_64(std::span<const isa::Program* const> programs,
                                                       const JitOptions& options) {
    return assemble_module<Compiler, x86::Assembler>(Arch::kX64, "x86-64", programs, options);
}

}  // namespace bpfvm::jit
