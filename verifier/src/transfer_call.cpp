// Transfer functions of calls and exits: helper calls checked against their prototypes (each
// argument's kind, memory arguments with their sizes, the map fitting the helper), what the
// helper returns, references acquired and released, BPF-to-BPF calls with their own frames,
// callbacks (bpf_loop, for_each_map_elem) iterated to a fixpoint, and the rules at exit.
#include <algorithm>
#include <string>
#include <variant>

#include "analyzer.hpp"
#include "bpfvm/isa/map_helpers.hpp"
#include "bpfvm/isa/printf_format.hpp"

namespace bpfvm::verifier {

namespace {

constexpr uint64_t kMaxHelperMemory = uint64_t{1} << 29;
constexpr uint64_t kMaxLoopIterations = uint64_t{1} << 23;  // BPF_MAX_LOOPS

std::string helper_name(const isa::HelperPrototype& helper) {
    return "bpf_" + std::string(helper.name);
}

bool is_map_of_maps(const MapInfo& map) {
    return map.type == isa::MapType::ArrayOfMaps || map.type == isa::MapType::HashOfMaps;
}

}  // namespace

bool Analyzer::call(Path& path, const isa::Call& insn) {
    switch (insn.op) {
        case isa::Op::CallHelper: return call_helper(path, insn);
        case isa::Op::CallLocal: return call_local(path, insn.target);
        case isa::Op::CallKfunc:
            return fail(
                path, Rule::Unsupported,
                "kfunc call (BTF id " + std::to_string(insn.imm) + "): bpfvm has no kernel functions");
        default:
            return fail(
                path, Rule::Unsupported,
                "callx (an indirect call through r" + std::to_string(insn.reg) + ") is not supported");
    }
}

std::optional<uint64_t> Analyzer::constant_stack_key(Path& path, const Value& key, uint32_t key_size) {
    // As the kernel reads one: within one slot, either bytes all known zero, or a number spilled
    // at the key's address with exactly the key's size.
    if (key.type != ValueType::Stack || !key.fixed_offset() || key_size == 0 || key_size > 8) return {};
    int64_t at = key.off;
    if (at >= 0 || at < -static_cast<int64_t>(isa::kStackSize)) return {};
    auto slot_index = static_cast<uint32_t>((-at - 1) / 8);
    auto byte = static_cast<uint32_t>(at + 8 * (static_cast<int64_t>(slot_index) + 1));
    if (byte + key_size > 8) return {};
    const StackSlot* slot = path.state.frames[key.aux].find_slot(slot_index);
    if (slot == nullptr) return {};
    std::optional<uint64_t> value;
    bool zero = true;
    for (uint32_t i = byte; i < byte + key_size; ++i) zero = zero && slot->bytes[i] == StackByte::Zero;
    if (zero) {
        value = 0;
    } else if (slot->spill_size == key_size && slot->spill_offset == byte &&
               slot->spilled.type == ValueType::Scalar && slot->spilled.num.is_constant()) {
        value = slot->spilled.num.constant_value();
    }
    if (value && slot_index < 64) {
        // The verdict depends on the key's exact value: keep states with another key apart.
        ReadMarks need;
        need.slots[key.aux] |= uint64_t{1} << slot_index;
        mark_precise(path, need, /*during_instruction=*/true);
    }
    return value;
}

namespace {

// As the kernel's mark_reg_invalid: values that stop being pointers (packet pointers after a
// helper that may move the packet, a released record) become unreadable for unprivileged
// programs (the address would leak) and unknown numbers for privileged ones, in registers and
// spilled on the stack alike.
void invalidate(State& state, bool privileged, auto stale) {
    const Value replacement = privileged ? Value::scalar(Scalar()) : Value{};
    for (Frame& f : state.frames) {
        for (Value& v : f.regs) {
            if (stale(v)) v = replacement;
        }
        for (StackSlot& s : f.stack) {
            if (s.spill_size != 0 && stale(s.spilled)) s.spilled = replacement;
        }
    }
}

}  // namespace

void Analyzer::invalidate_packet_pointers(State& state) {
    invalidate(state, options_.privileged, [](const Value& v) {
        return v.type == ValueType::Packet || v.type == ValueType::PacketEnd ||
               v.type == ValueType::PacketMeta;
    });
    state.ranges.clear();
}

void Analyzer::release_reference(State& state, uint32_t ref) {
    std::erase_if(state.refs, [&](const Reference& r) { return r.id == ref; });
    invalidate(state, options_.privileged, [&](const Value& v) { return v.is_pointer() && v.ref == ref; });
}

bool Analyzer::check_snprintf_format(Path& path) {
    // As the kernel's check_bpf_snprintf_call: the format (a constant string, r3) must suit the
    // number of u64 arguments in r4 (r5 bytes, a multiple of 8).
    const Value& format = path.state.frame().regs[3];
    const Value& data_len = path.state.frame().regs[5];
    uint64_t length = data_len.num.bits().value;  // the kernel reads the known bits
    if (length % 8 != 0) {
        return fail(path, Rule::HelperArgument,
                    "bpf_snprintf's data length r5 (" + describe(path, 5) +
                        ") must be a multiple of 8: the arguments are an array of u64",
                    {5});
    }
    const std::vector<uint8_t>& bytes = format.map->initial_data;
    auto begin = bytes.begin() + format.off;
    std::string_view text(reinterpret_cast<const char*>(&*begin),
                          static_cast<size_t>(std::find(begin, bytes.end(), 0) - begin));
    isa::PrintfFormat parsed = isa::parse_printf_format(text, length / 8);
    if (parsed.error) {
        return fail(path, Rule::HelperArgument,
                    "bpf_snprintf's format \"" + printable_bytes(text) + "\" (r3, in map " +
                        format.map->name + ") is refused: " + parsed.error->message,
                    {3, 5});
    }
    return true;
}

bool Analyzer::check_memory_arg(Path& path, const isa::HelperPrototype& helper, uint8_t arg,
                                isa::ArgKind kind, uint8_t size_reg, isa::ArgKind size_kind) {
    const Value* p = read_reg(path, arg);
    if (p == nullptr) return false;
    Value ptr = *p;
    const Value* s = read_reg(path, size_reg);
    if (s == nullptr) return false;
    Value size = *s;
    std::string name = helper_name(helper);
    if (size.is_pointer()) {
        return fail(path, Rule::HelperArgument,
                    reg_name(size_reg) + ", the size for " + name + "'s memory in " + reg_name(arg) +
                        ", must be a number, not " + size.to_string(),
                    {size_reg});
    }
    bool or_null = kind == isa::ArgKind::PtrToReadonlyMemOrNull || kind == isa::ArgKind::PtrToMemOrNull;
    if (or_null && ptr.is_null_constant()) {
        if (size.num.umax() != 0) {
            return fail(path, Rule::HelperArgument,
                        reg_name(arg) + " is null but its size " + reg_name(size_reg) + " (" +
                            size.to_string() + ") may not be 0",
                        {arg, size_reg});
        }
        return true;
    }
    mark_precise_regs(path, {size_reg});
    if (size.num.smin() < 0) {
        return fail(
            path, Rule::HelperArgument,
            reg_name(size_reg) + " (" + size.to_string() + "), the size for " + name + ", may be negative",
            {size_reg});
    }
    if (size.num.umax() >= kMaxHelperMemory) {
        return fail(path, Rule::HelperArgument,
                    reg_name(size_reg) + " (" + size.to_string() + "), the size for " + name +
                        ", has no upper bound: check it against a constant or mask it first",
                    {size_reg});
    }
    bool zero_allowed = size_kind == isa::ArgKind::ConstSizeOrZero;
    if (!zero_allowed && size.num.umin() == 0) {
        return fail(path, Rule::HelperArgument,
                    reg_name(size_reg) + " (" + size.to_string() + "), the size for " + name + ", may be 0",
                    {size_reg});
    }
    if (size.num.umax() == 0) return true;  // nothing is accessed
    switch (ptr.type) {
        case ValueType::Stack:
        case ValueType::MapValue:
        case ValueType::Mem:
        case ValueType::MapKey: break;
        case ValueType::Packet:
        case ValueType::PacketMeta:
            if (helper.packet_access) break;
            return fail(
                path, Rule::HelperArgument,
                name + " may not be given packet memory (" + reg_name(arg) + "): copy the bytes to the stack",
                {arg});
        case ValueType::Scalar:
        case ValueType::Ctx:
        case ValueType::PacketEnd:
        case ValueType::MapPtr:
        case ValueType::Func:
        case ValueType::KernelPtr:
            if (!ptr.maybe_null) {
                return fail(path, Rule::HelperArgument,
                            reg_name(arg) + " (" + describe(path, arg) +
                                ") must point to memory (stack, map value, " +
                                "packet or ring buffer record) for " + name,
                            {arg});
            }
            break;
        case ValueType::Uninit: break;
    }
    Access access = kind == isa::ArgKind::PtrToUninitMem ? Access::HelperWrite
                    : kind == isa::ArgKind::PtrToMem || kind == isa::ArgKind::PtrToMemOrNull
                        ? Access::HelperReadWrite
                        : Access::HelperRead;
    if (!check_access(path, arg, ptr, 0, size.num.umin(), size.num.umax(), access)) return false;
    if (ptr.type == ValueType::Stack && access != Access::HelperRead) {
        stack_clobber(path, ptr, ptr.num.smin(), ptr.num.smax() + static_cast<int64_t>(size.num.umax()));
    }
    return true;
}

bool Analyzer::check_helper_arg(Path& path, const isa::HelperPrototype& helper, uint8_t arg,
                                CallFacts& facts) {
    isa::ArgKind kind = helper.args[arg - 1];
    if (kind == isa::ArgKind::None || isa::is_memory_size_arg(kind)) return true;
    if (isa::is_sized_memory_arg(kind)) {
        isa::ArgKind size_kind = arg < 5 ? helper.args[arg] : isa::ArgKind::None;
        if (!isa::is_memory_size_arg(size_kind)) {
            return fail(path, Rule::Unsupported,
                        helper_name(helper) + "'s prototype has no size for argument " + std::to_string(arg));
        }
        return check_memory_arg(path, helper, arg, kind, static_cast<uint8_t>(arg + 1), size_kind);
    }
    const Value* v = read_reg(path, arg);
    if (v == nullptr) return false;
    Value value = *v;
    std::string name = helper_name(helper);
    std::string who = reg_name(arg) + " (" + describe(path, arg) + ")";
    auto wrong = [&](const std::string& expected) {
        return fail(
            path, Rule::HelperArgument,
            name + " expects " + expected + " in " + reg_name(arg) + ", but it holds " + describe(path, arg),
            {arg});
    };
    switch (kind) {
        case isa::ArgKind::Anything:
            if (value.is_pointer() && !options_.privileged) {
                return fail(
                    path, Rule::PointerLeak,
                    who + " is a pointer passed to " + name + " as a number, which would leak its address",
                    {arg});
            }
            return true;
        case isa::ArgKind::ConstMapPtr: {
            if (value.type != ValueType::MapPtr || value.maybe_null) {
                if (value.type == ValueType::MapPtr) {
                    return fail(path, Rule::NullDereference,
                                who + " may be null: check the inner map for null", {arg});
                }
                return wrong("a map (loaded with a map relocation, &map_name)");
            }
            facts.map = value.map;
            std::string_view conflict = isa::map_helper_conflict(value.map->type, helper.id, type_);
            if (!conflict.empty()) {
                return fail(path, Rule::HelperArgument,
                            name + " cannot use map " + value.map->name + ": " + std::string(conflict),
                            {arg});
            }
            return true;
        }
        case isa::ArgKind::PtrToMapKey:
        case isa::ArgKind::PtrToMapValue:
        case isa::ArgKind::PtrToUninitMapValue: {
            if (facts.map == nullptr) return wrong("a pointer after a map argument");
            uint32_t size = kind == isa::ArgKind::PtrToMapKey ? facts.map->key_size : facts.map->value_size;
            switch (value.type) {
                case ValueType::Stack:
                case ValueType::MapValue:
                case ValueType::Mem:
                case ValueType::MapKey: break;
                case ValueType::Packet:
                case ValueType::PacketMeta:
                    if (helper.packet_access) break;
                    return wrong("a pointer to stack or map memory");
                default:
                    if (value.maybe_null) break;  // check_access reports the missing null check
                    return wrong(kind == isa::ArgKind::PtrToMapKey ? "a pointer to the key"
                                                                   : "a pointer to the value");
            }
            Access access =
                kind == isa::ArgKind::PtrToUninitMapValue ? Access::HelperWrite : Access::HelperRead;
            if (!check_access(path, arg, value, 0, size, size, access)) return false;
            if (kind == isa::ArgKind::PtrToMapKey) facts.constant_key = constant_stack_key(path, value, size);
            if (value.type == ValueType::Stack && access == Access::HelperWrite) {
                stack_clobber(path, value, value.num.smin(), value.num.smax() + size);
            }
            return true;
        }
        case isa::ArgKind::PtrToCtx:
            if (value.type != ValueType::Ctx) return wrong("the context (r1 at entry)");
            if (!value.fixed_offset() || value.off != 0) return wrong("the unmodified context");
            return true;
        case isa::ArgKind::ConstAllocSizeOrZero:
            if (value.type != ValueType::Scalar || !value.num.is_constant())
                return wrong("a known constant size");
            facts.alloc_size = value.num.constant_value();
            mark_precise_regs(path, {arg});
            return true;
        case isa::ArgKind::PtrToStackOrNull:
            if (!value.is_null_constant() && value.type != ValueType::Stack) {
                return wrong("a pointer to the stack or null");
            }
            facts.callback_context = value;
            return true;
        case isa::ArgKind::PtrToFunc:
            if (value.type != ValueType::Func) return wrong("a function (a callback)");
            facts.callback = value.aux;
            return true;
        case isa::ArgKind::PtrToConstStr: {
            const MapInfo* map = value.map;
            if (value.type != ValueType::MapValue || value.maybe_null || map == nullptr || !map->read_only ||
                !value.fixed_offset()) {
                return wrong("a constant string in read-only map memory (.rodata)");
            }
            auto at = static_cast<size_t>(value.off);
            const auto& bytes = map->initial_data;
            if (at >= bytes.size() ||
                std::find(bytes.begin() + static_cast<ptrdiff_t>(at), bytes.end(), 0) == bytes.end()) {
                return fail(path, Rule::HelperArgument,
                            who + " is not a NUL-terminated string within map " + map->name, {arg});
            }
            return true;
        }
        case isa::ArgKind::PtrToRingbufMem: {
            if (value.type == ValueType::Mem && value.maybe_null) {
                return fail(path, Rule::NullDereference,
                            who + " may be null: check the bpf_ringbuf_reserve result before submitting it",
                            {arg});
            }
            if (value.type != ValueType::Mem || value.ref == 0) {
                return fail(path, Rule::InvalidRelease,
                            name + " releases a record from bpf_ringbuf_reserve, but " + who + " is not one",
                            {arg});
            }
            if (!value.fixed_offset() || value.off != 0) {
                return fail(path, Rule::InvalidRelease,
                            who + " must point to the start of the record it releases", {arg});
            }
            facts.released_ref_reg = arg;
            return true;
        }
        case isa::ArgKind::PtrToSpinLock: {
            if (value.type != ValueType::MapValue || value.maybe_null || !value.fixed_offset()) {
                return fail(path, Rule::SpinLock,
                            who + " must point to a struct bpf_spin_lock in a map value", {arg});
            }
            if (!value.map->spin_lock_offset ||
                static_cast<int64_t>(*value.map->spin_lock_offset) != value.off) {
                return fail(path, Rule::SpinLock,
                            who + " does not point to the bpf_spin_lock of map " + value.map->name, {arg});
            }
            return true;
        }
        case isa::ArgKind::PtrToLong:
            if (value.type != ValueType::Stack && value.type != ValueType::MapValue) {
                return wrong("a pointer to an 8-byte stack or map value slot");
            }
            if (!check_access(path, arg, value, 0, 8, 8, Access::Store)) return false;
            if (value.type == ValueType::Stack)
                stack_clobber(path, value, value.num.smin(), value.num.smax() + 8);
            return true;
        default: return fail(path, Rule::Unsupported, name + ": argument kind not modelled");
    }
}

bool Analyzer::call_helper(Path& path, const isa::Call& insn) {
    const isa::HelperPrototype* helper = isa::helper_by_id(insn.imm);
    if (helper == nullptr) {
        return fail(path, Rule::HelperNotAllowed, "call to unknown helper " + std::to_string(insn.imm));
    }
    std::string name = helper_name(*helper);
    if (!helper->known) {
        return fail(path, Rule::Unsupported,
                    name + " (helper " + std::to_string(insn.imm) + ") is not modelled by bpfvm");
    }
    if (!isa::helper_allowed_for(*helper, type_)) {
        return fail(path, Rule::HelperNotAllowed,
                    std::string(isa::program_type_name(type_)) + " programs may not call " + name);
    }
    if (helper->gpl_only && !options_.gpl_compatible) {
        return fail(path, Rule::HelperNotAllowed,
                    name + " is GPL-only and the program's license is not GPL-compatible");
    }
    bool unlock = helper->name == "spin_unlock";
    if (path.state.lock && !unlock) {
        return fail(path, Rule::SpinLock, "calling " + name + " while holding a bpf_spin_lock");
    }
    CallFacts facts;
    for (uint8_t arg = 1; arg <= helper->arg_count; ++arg) {
        if (!check_helper_arg(path, *helper, arg, facts)) return false;
    }
    if (helper->name == "snprintf" && !check_snprintf_format(path)) return false;
    State& state = path.state;
    if (helper->name == "tail_call" && !state.refs.empty()) {
        return fail(path, Rule::UnreleasedReference,
                    "a tail call while holding the ring buffer record reserved at instruction " +
                        std::to_string(state.refs.front().instruction) + " would leak it");
    }
    if (helper->name == "spin_lock") {
        const Value& lock = state.frame().regs[1];
        state.lock = SpinLockHeld{lock.map, lock.id};
    } else if (unlock) {
        const Value& lock = state.frame().regs[1];
        if (!state.lock) return fail(path, Rule::SpinLock, "bpf_spin_unlock without a lock held", {1});
        if (state.lock->map != lock.map || state.lock->id != lock.id) {
            return fail(path, Rule::SpinLock, "bpf_spin_unlock of another lock than the one held", {1});
        }
        state.lock.reset();
    }
    if (facts.released_ref_reg) {
        uint32_t ref = state.frame().regs[*facts.released_ref_reg].ref;
        bool held = std::any_of(state.refs.begin(), state.refs.end(),
                                [&](const Reference& r) { return r.id == ref; });
        if (!held)
            return fail(path, Rule::InvalidRelease, "the record was already released",
                        {*facts.released_ref_reg});
        release_reference(state, ref);
    }
    isa::CallbackKind callback = isa::helper_callback_kind(helper->id);
    if (callback == isa::CallbackKind::Loop || callback == isa::CallbackKind::ForEachMapElem) {
        if (!facts.callback || !cfg_.function_at(*facts.callback)) {
            return fail(path, Rule::HelperArgument, name + "'s callback is not a function of the program",
                        {2});
        }
        // Between the helper's calls of the callback: iterate there until the state is stable.
        path.callback_point = true;
        return true;
    }
    if (callback == isa::CallbackKind::Other) {
        return fail(path, Rule::Unsupported, "callbacks of " + name + " are not supported");
    }
    if (isa::helper_changes_packet_data(helper->id)) invalidate_packet_pointers(state);

    Value r0;
    switch (helper->ret) {
        case isa::ReturnKind::Integer: r0 = Value::scalar(Scalar()); break;
        case isa::ReturnKind::Void: break;
        case isa::ReturnKind::PtrToMapValueOrNull: {
            const MapInfo* map = facts.map;
            if (is_map_of_maps(*map)) {
                if (!map->inner)
                    return fail(path, Rule::Unsupported,
                                "map of maps " + map->name + " has no inner map template");
                r0 = Value::pointer(ValueType::MapPtr);
                r0.map = map->inner.get();
            } else {
                r0 = Value::pointer(ValueType::MapValue);
                r0.map = map;
            }
            r0.maybe_null = true;
            r0.id = state.fresh_id();
            // The kernel's privileged rules know that an array has every key below max_entries.
            bool array = map->type == isa::MapType::Array || map->type == isa::MapType::PercpuArray;
            if (options_.privileged && array && helper->name == "map_lookup_elem" && facts.constant_key &&
                *facts.constant_key < map->max_entries) {
                r0.maybe_null = false;
                if (!map->spin_lock_offset) r0.id = 0;
            }
            break;
        }
        case isa::ReturnKind::PtrToRingbufMemOrNull: {
            if (!facts.alloc_size || *facts.alloc_size > kMaxHelperMemory) {
                return fail(path, Rule::HelperArgument, name + " needs a known record size", {2});
            }
            r0 = Value::pointer(ValueType::Mem);
            r0.aux = static_cast<uint32_t>(*facts.alloc_size);
            r0.maybe_null = true;
            r0.id = state.fresh_id();
            r0.ref = r0.id;
            state.refs.push_back({r0.ref, path.pc});
            break;
        }
        case isa::ReturnKind::UnsupportedBtfPointer:
            return fail(path, Rule::Unsupported, name + " returns a kernel object bpfvm does not model");
    }
    for (uint8_t r = 1; r <= 5; ++r) write_reg(path, r, Value{});
    write_reg(path, 0, r0);
    ++path.pc;
    return true;
}

bool Analyzer::callback_point(Path& path) {
    // Either the helper calls the callback (again), or it returns.
    Path returning = path;
    returning.callback_point = false;
    for (uint8_t r = 1; r <= 5; ++r) write_reg(returning, r, Value{});
    write_reg(returning, 0, Value::scalar(Scalar()));
    returning.pc = path.pc + 1;
    fork(path, std::move(returning));
    return enter_callback(path);
}

bool Analyzer::enter_callback(Path& path) {
    State& state = path.state;
    if (state.frames.size() >= isa::kMaxCallDepth) {
        return fail(path, Rule::CallDepth, "the callback would be the 9th nested frame (the limit is 8)");
    }
    const auto& insn = std::get<isa::Call>(program_.instructions[path.pc]);
    isa::CallbackKind kind = isa::helper_callback_kind(insn.imm);
    const Frame& caller = state.frame();
    Frame frame;
    frame.callsite = path.pc;
    frame.function = caller.regs[2].aux;
    frame.callback = true;
    frame.refs_at_entry = static_cast<uint32_t>(state.refs.size());
    auto index = static_cast<uint32_t>(state.frames.size());
    frame.regs[isa::kFramePointer] = Value::pointer(ValueType::Stack);
    frame.regs[isa::kFramePointer].aux = index;
    if (kind == isa::CallbackKind::Loop) {
        frame.regs[1] = Value::scalar(Scalar::unsigned_range(0, kMaxLoopIterations - 1));
        frame.regs[2] = caller.regs[3];
    } else {
        const Value& map = caller.regs[1];
        frame.regs[1] = map;
        frame.regs[2] = Value::pointer(ValueType::MapKey);
        frame.regs[2].map = map.map;
        frame.regs[3] = Value::pointer(ValueType::MapValue);
        frame.regs[3].map = map.map;
        frame.regs[4] = caller.regs[3];
    }
    uint32_t caller_function = caller.function;
    call_edges_.emplace(caller_function, frame.function);
    path.callback_point = false;
    path.pc = frame.function;
    state.frames.push_back(std::move(frame));
    mark_frame_written(path, index);
    return true;
}

bool Analyzer::call_local(Path& path, uint32_t target) {
    State& state = path.state;
    if (state.frames.size() >= isa::kMaxCallDepth) {
        return fail(path, Rule::CallDepth, "the call would be the 9th nested frame (the limit is 8)");
    }
    if (state.lock) return fail(path, Rule::SpinLock, "a function call while holding a bpf_spin_lock");
    const Frame& caller = state.frame();
    Frame frame;
    frame.callsite = path.pc;
    frame.function = target;
    for (uint8_t r = 1; r <= 5; ++r) frame.regs[r] = caller.regs[r];
    auto index = static_cast<uint32_t>(state.frames.size());
    frame.regs[isa::kFramePointer] = Value::pointer(ValueType::Stack);
    frame.regs[isa::kFramePointer].aux = index;
    // What the callee reads of r1-r5 is the caller's.
    for (uint8_t r = 1; r <= 5; ++r) {
        if (caller.regs[r].type != ValueType::Uninit) mark_reg_read(path, index - 1, r);
    }
    call_edges_.emplace(caller.function, target);
    state.frames.push_back(std::move(frame));
    mark_frame_written(path, index);
    path.pc = target;
    return true;
}

bool Analyzer::exit(Path& path) {
    State& state = path.state;
    const Value* r0 = read_reg(path, 0);
    if (r0 == nullptr) return false;
    Value ret = *r0;
    if (state.lock) return fail(path, Rule::SpinLock, "exit while holding a bpf_spin_lock: unlock it first");
    Frame& frame = state.frame();
    if (state.frames.size() == 1) {
        if (ret.is_pointer()) {
            if (!options_.privileged) {
                return fail(path, Rule::PointerLeak,
                            "r0 (" + describe(path, 0) + ") leaks an address as the return value", {0});
            }
        } else if (auto range = isa::return_range(type_)) {
            mark_precise_regs(path, {0});
            if (ret.num.s32_min() < range->min || ret.num.s32_max() > range->max) {
                return fail(path, Rule::ReturnValue,
                            "r0 (" + describe(path, 0) +
                                ") at exit: " + std::string(isa::program_type_name(type_)) +
                                " programs must return a value in [" + std::to_string(range->min) + ", " +
                                std::to_string(range->max) + "]",
                            {0});
            }
        }
        if (!state.refs.empty()) {
            return fail(path, Rule::UnreleasedReference,
                        "the ring buffer record reserved at instruction " +
                            std::to_string(state.refs.front().instruction) +
                            " is neither submitted nor discarded on this path");
        }
        end_path(path);
        return false;
    }
    if (ret.type == ValueType::Stack && ret.aux == state.frames.size() - 1) {
        return fail(path, Rule::InvalidMemoryAccess,
                    "returning a pointer into the returning function's own stack", {0});
    }
    if (frame.callback) {
        mark_precise_regs(path, {0});
        if (ret.type != ValueType::Scalar || ret.num.smin() < 0 || ret.num.smax() > 1) {
            return fail(path, Rule::ReturnValue,
                        "r0 (" + describe(path, 0) +
                            ") at the end of a callback: it must return 0 (go on) or 1 (stop)",
                        {0});
        }
        if (state.refs.size() > frame.refs_at_entry) {
            return fail(path, Rule::UnreleasedReference,
                        "the callback returns while holding the ring buffer record reserved at instruction " +
                            std::to_string(state.refs.back().instruction));
        }
    }
    uint32_t callsite = frame.callsite;
    bool callback = frame.callback;
    auto popped = static_cast<uint32_t>(state.frames.size() - 1);
    state.frames.pop_back();
    // Pointers into the popped frame's stack are gone with it.
    state.for_each_value([&](Value& v) {
        if (v.type == ValueType::Stack && v.aux == popped) v = Value{};
    });
    if (callback) {
        path.pc = callsite;
        path.callback_point = true;
        return true;
    }
    for (uint8_t r = 1; r <= 5; ++r) write_reg(path, r, Value{});
    write_reg(path, 0, ret);
    path.pc = callsite + 1;
    return true;
}

}  // namespace bpfvm::verifier
