// What a BPF instruction does in generated code, above the host's instructions: the budget on
// back edges and calls, the region check before every access, the sequence of a helper call (and
// of a tail call), BPF-to-BPF calls with their depth limit, and raising errors from stubs.
// ProgramCompiler<Backend, Assembler> holds this once; a backend derives from it and provides
// only instruction selection (the hooks listed below).
//
// Hooks of Backend (called on the derived object):
//   alu(Alu) (not a move of an immediate), endian(Endian), exit_function(),
//   compare_and_branch(Jump, target), load_constant(dst, value) (all 64 bits of dst)
//   address(base, offset)           the access's address into the backend's address register
//   packet_address(PacketLoad)      imm (+ src) into the address register
//   load(Load), store(Store), atomic(Atomic)  the access itself, at the address register
//   branch_if_in_stack(size, ok)    [address, address + size) lies in the flat BPF stack
//   branch_if_misaligned(size, to)  the address register is not a multiple of size
//   decrement_budget(exhausted)     budget_left -= 1; branch when it was 0
//   branch_if_depth_above(n, to), add_depth(delta), set_current_program(index)
//   call_function(target)           keeps r6-r10, moves r10 down a frame, calls, restores
//   spill(r), reload(r)             BPF register r to and from RunState::regs[r]
//   call_runtime(fn, args)          a System V / AAPCS64 call with args in order (RuntimeArg)
//   branch_if_result_nonzero(to), branch_if_result_not(value, to)  on the runtime's result
//   jump(to), jump_to_tail_target(), abort_label()  abort_label(): where a failed runtime
//                                   call branches (the trampoline's abort path, or a branch to it)
//   begin_program(), end_program()  around a program's code (after its stubs)
//   kVolatileRegisters              BPF registers (with ax) in host registers a call clobbers
#pragma once

#include <asmjit/core.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "backend.hpp"
#include "bpfvm/isa/semantics.hpp"

namespace bpfvm::jit {

// An argument of a runtime call.
struct RuntimeArg {
    enum Kind { State, Value, Address, SpilledRegister } kind;
    uint64_t value = 0;  // Value: the value; SpilledRegister: the BPF register

    static RuntimeArg state() { return {State, 0}; }
    static RuntimeArg immediate(uint64_t v) { return {Value, v}; }
    static RuntimeArg address() { return {Address, 0}; }
    // The register as spilled to RunState::regs (its host register may be an argument register).
    static RuntimeArg spilled(unsigned reg) { return {SpilledRegister, reg}; }
};

template <class Backend, class Assembler>
class ProgramCompiler {
 public:
    ProgramCompiler(Assembler& a, CompiledModule& module, const JitOptions& options)
        : a_(a), module_(module), checked_(options.checks == vm::MemoryChecks::Checked) {}

    void program(uint32_t index, const isa::Program& p) {
        index_ = index;
        program_ = &p;
        labels_.clear();
        for (size_t i = 0; i < p.size(); ++i) labels_.push_back(a_.newLabel());
        program_labels_.push_back(labels_);
        self().begin_program();
        for (pc_ = 0; pc_ < p.size(); ++pc_) {
            a_.bind(labels_[pc_]);
            std::visit([this](const auto& insn) { this->emit(insn); }, p.instructions[pc_]);
        }
        for (const Stub& s : stubs_) {
            a_.bind(s.label);
            if (s.kind == Stub::Budget) {
                self().call_runtime(reinterpret_cast<const void*>(&rt_budget_exhausted),
                                    {RuntimeArg::state(), RuntimeArg::immediate(s.slot)});
            } else {
                self().call_runtime(
                    reinterpret_cast<const void*>(&rt_raise),
                    {RuntimeArg::state(), RuntimeArg::immediate(reinterpret_cast<uint64_t>(s.error))});
            }
            self().jump(abort_);
        }
        stubs_.clear();
        self().end_program();
    }

    asmjit::Label trampoline_label() const { return trampoline_; }
    const std::vector<std::vector<asmjit::Label>>& program_labels() const { return program_labels_; }

 protected:
    // What backends use: the assembler, the labels their trampoline binds, the program being
    // compiled.
    Assembler& a_;
    asmjit::Label trampoline_, abort_;
    const isa::Program* program_ = nullptr;

 private:
    uint32_t slot() const { return program_->slot[pc_]; }

    // A stub raising an error prepared now, at the current instruction.
    asmjit::Label raise_stub(ErrorKind kind, std::string message) {
        asmjit::Label l = a_.newLabel();
        stubs_.push_back(
            Stub{l, Stub::Raise, slot(), prepare_error(module_, kind, std::move(message), slot())});
        return l;
    }

    void budget() {
        asmjit::Label l = a_.newLabel();
        stubs_.push_back(Stub{l, Stub::Budget, slot(), nullptr});
        self().decrement_budget(l);
    }

    void save_volatile() {
        for (unsigned r : Backend::kVolatileRegisters) self().spill(r);
    }
    void restore_volatile() {
        for (unsigned r : Backend::kVolatileRegisters) self().reload(r);
    }

    // A runtime call from the middle of a program: volatile registers are kept across it, and a
    // nonzero result aborts.
    void checked_runtime_call(const void* fn, std::initializer_list<RuntimeArg> args) {
        save_volatile();
        self().call_runtime(fn, args);
        self().branch_if_result_nonzero(self().abort_label());
        restore_volatile();
    }

    // Out-of-line code that raises an error and aborts.
    struct Stub {
        asmjit::Label label;
        enum Kind { Budget, Raise } kind;
        uint32_t slot;
        const Error* error;  // Raise: prepared in the module
    };

    Backend& self() { return static_cast<Backend&>(*this); }

    // A move of an immediate loads a constant (movsx of an immediate folds the extension).
    void emit(const isa::Alu& x) {
        if ((x.op == isa::Op::Mov || x.op == isa::Op::MovSx) && !x.src.is_reg) {
            uint64_t value = static_cast<uint64_t>(int64_t{x.src.imm});
            if (x.op == isa::Op::MovSx) value = isa::sign_extend(value, x.sx_bits);
            self().load_constant(x.dst, x.is64 ? value : static_cast<uint32_t>(value));
            return;
        }
        self().alu(x);
    }
    void emit(const isa::Endian& e) { self().endian(e); }
    void emit(const isa::Exit&) { self().exit_function(); }

    void emit(const isa::Jump& j) {
        if (j.target <= pc_) budget();  // a back edge
        if (j.op == isa::Op::Ja) {
            self().jump(labels_[j.target]);
        } else {
            self().compare_and_branch(j, labels_[j.target]);
        }
    }

    void emit(const isa::LoadImm64& l) {
        if (l.src_kind != 0) {
            self().jump(raise_stub(ErrorKind::Unsupported, pseudo_lddw_message(l.src_kind)));
            return;
        }
        self().load_constant(l.dst, l.value());
    }

    void emit(const isa::Call& c) {
        switch (c.op) {
            case isa::Op::CallLocal: call_local(c.target); return;
            case isa::Op::CallHelper:
                call_helper(RuntimeArg::immediate(static_cast<uint64_t>(int64_t{c.imm})));
                return;
            case isa::Op::CallReg: call_helper(RuntimeArg::spilled(c.reg)); return;
            default: self().jump(raise_stub(ErrorKind::Unsupported, kfunc_message(c.imm))); return;
        }
    }

    void call_local(uint32_t target) {
        budget();
        self().branch_if_depth_above(kDeepestCallingDepth,
                                     raise_stub(ErrorKind::StackOverflow, call_too_deep_message()));
        self().add_depth(1);
        self().call_function(labels_[target]);
        self().add_depth(-1);
        self().set_current_program(index_);
    }

    // Every register goes to RunState::regs (the helper reads r1-r5, a tail call or callback
    // the rest, callx with blinded constants its id from ax), then rt_call_helper: 0 continues,
    // kRuntimeTailCall continues at the tail target with the registers unchanged, anything else
    // aborts.
    void call_helper(RuntimeArg id) {
        budget();
        for (unsigned r = 0; r < kBackendRegisterCount; ++r) self().spill(r);
        self().call_runtime(reinterpret_cast<const void*>(&rt_call_helper),
                            {RuntimeArg::state(), id, RuntimeArg::immediate(slot())});
        asmjit::Label special = a_.newLabel(), done = a_.newLabel();
        self().branch_if_result_nonzero(special);
        restore_volatile();
        self().set_current_program(index_);
        self().jump(done);
        a_.bind(special);
        self().branch_if_result_not(kRuntimeTailCall, self().abort_label());
        restore_volatile();
        self().jump_to_tail_target();
        a_.bind(done);
    }

    // The region check of [address, address + size); the address register holds the address
    // again afterwards.
    void check(uint8_t base, int16_t offset, uint32_t size, AccessKind kind) {
        if (!checked_) return;
        asmjit::Label ok = a_.newLabel();
        self().branch_if_in_stack(size, ok);  // without leaving generated code
        checked_runtime_call(
            reinterpret_cast<const void*>(&rt_check_access),
            {RuntimeArg::state(), RuntimeArg::address(), RuntimeArg::immediate(size),
             RuntimeArg::immediate(static_cast<uint32_t>(kind)), RuntimeArg::immediate(slot())});
        self().address(base, offset);
        a_.bind(ok);
    }

    void emit(const isa::Load& l) {
        self().address(l.base, l.offset);
        check(l.base, l.offset, l.size, AccessKind::Load);
        self().load(l);
    }

    void emit(const isa::Store& s) {
        self().address(s.base, s.offset);
        check(s.base, s.offset, s.size, AccessKind::Store);
        self().store(s);
    }

    void emit(const isa::Atomic& x) {
        const bool acquire = x.op == isa::Op::LoadAcquire;
        const uint8_t base = acquire ? x.src : x.dst;
        self().address(base, x.offset);
        check(base, x.offset, x.size, acquire ? AccessKind::AtomicRead : AccessKind::AtomicWrite);
        if (x.size > 1) {
            self().branch_if_misaligned(
                x.size, raise_stub(ErrorKind::MemoryFault, misaligned_atomic_message(x.size)));
        }
        self().atomic(x);
    }

    void emit(const isa::PacketLoad& p) {
        self().packet_address(p);
        checked_runtime_call(reinterpret_cast<const void*>(&rt_packet_load),
                             {RuntimeArg::state(), RuntimeArg::address(), RuntimeArg::immediate(p.size),
                              RuntimeArg::immediate(slot())});
    }

    CompiledModule& module_;
    const bool checked_;
    uint32_t index_ = 0;
    uint32_t pc_ = 0;
    std::vector<asmjit::Label> labels_;
    std::vector<std::vector<asmjit::Label>> program_labels_;
    std::vector<Stub> stubs_;
};

}  // namespace bpfvm::jit
