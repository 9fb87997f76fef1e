// Transfer functions of memory: loads, stores and atomics through every kind of pointer, with
// the checks that make them safe (bounds per region, initialized stack, context fields by type,
// read-only memory), and what a load gives (a spilled register comes back whole, .rodata bytes
// come back as constants).
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "analyzer.hpp"
#include "bpfvm/isa/contexts.hpp"

namespace bpfvm::verifier {

namespace {

constexpr uint32_t kMapReadOnlyProg = 1u << 7;   // BPF_F_RDONLY_PROG
constexpr uint32_t kMapWriteOnlyProg = 1u << 8;  // BPF_F_WRONLY_PROG

std::string range_text(int64_t lo, int64_t hi) {
    return "[" + std::to_string(lo) + ", " + std::to_string(hi) + ")";
}

bool map_read_only(const MapInfo& map) {
    return map.read_only || (map.flags & kMapReadOnlyProg) != 0;
}

Value unknown_load(uint32_t size, bool sign_extend) {
    Scalar value = Scalar::unknown_of_size(size);
    if (sign_extend && size < 8) value = value.sign_extend(size * 8, true);
    return Value::scalar(value);
}

// The stack slot and the byte within it of a (negative) frame offset.
uint32_t slot_of(int64_t offset) {
    return static_cast<uint32_t>((-offset - 1) / 8);
}
uint32_t byte_of(int64_t offset) {
    return static_cast<uint32_t>(offset + 8 * (static_cast<int64_t>(slot_of(offset)) + 1));
}

// A spill destroyed by a write over part of the slot: its bytes become plain data, unknown even
// when the spilled value was known (the kernel forgets it too, and bpfvm must not accept a read
// of them that the kernel would refuse).
void drop_spill(StackSlot& slot) {
    if (slot.spill_size == 0) return;
    for (uint32_t b = slot.spill_offset; b < slot.spill_offset + slot.spill_size && b < 8u; ++b) {
        slot.bytes[b] = StackByte::Misc;
    }
    slot.spill_size = 0;
    slot.spill_offset = 0;
    slot.spilled = Value{};
}

}  // namespace

bool Analyzer::check_access(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint64_t min_size,
                            uint64_t max_size, Access access) {
    bool reads = access == Access::Load || access == Access::HelperRead || access == Access::HelperReadWrite;
    bool writes =
        access == Access::Store || access == Access::HelperWrite || access == Access::HelperReadWrite;
    std::string who = reg_name(reg) + " (" + describe(path, reg) + ")";
    if (ptr.maybe_null) {
        return fail(path, Rule::NullDereference,
                    who +
                        " may be null: compare it with 0 before using it (a map lookup or ring buffer "
                        "reservation can fail)",
                    {reg});
    }
    // A helper's memory argument too small for what the helper accesses breaks its prototype.
    Rule bounds =
        access == Access::Load || access == Access::Store ? Rule::OutOfBounds : Rule::HelperArgument;
    int64_t base = static_cast<int64_t>(ptr.off) + offset;
    // Wide: a number "dereferenced" may have any bounds (pointers' are within 2^29).
    auto clamp = [](__int128 v) {
        constexpr __int128 kMin = std::numeric_limits<int64_t>::min();
        constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
        return static_cast<int64_t>(v < kMin ? kMin : (v > kMax ? kMax : v));
    };
    int64_t lo = clamp(static_cast<__int128>(base) + ptr.num.smin());
    int64_t hi = clamp(static_cast<__int128>(base) + ptr.num.smax() + static_cast<__int128>(max_size));
    (void)min_size;
    switch (ptr.type) {
        case ValueType::Stack: {
            if (lo < -static_cast<int64_t>(isa::kStackSize) || hi > 0) {
                return fail(path, bounds,
                            "stack access " + range_text(lo, hi) + " through " + who +
                                " is outside the 512-byte frame below r10",
                            {reg});
            }
            if (access == Access::Load || access == Access::Store) {
                int64_t size = static_cast<int64_t>(max_size);
                bool aligned = ptr.fixed_offset()
                                   ? base % size == 0
                                   : (ptr.num.bits().mask & static_cast<uint64_t>(size - 1)) == 0 &&
                                         ((ptr.num.bits().value + static_cast<uint64_t>(base)) &
                                          static_cast<uint64_t>(size - 1)) == 0;
                if (!aligned) {
                    return fail(path, Rule::InvalidMemoryAccess,
                                "misaligned stack access at " + range_text(lo, hi) +
                                    ": stack accesses must be "
                                    "aligned to their size",
                                {reg});
                }
            }
            Frame& frame = path.state.frames[ptr.aux];
            uint32_t& depth = stack_depth_[frame.function];
            depth = std::max(depth, static_cast<uint32_t>(-lo));
            if (reads) {
                for (int64_t a = lo; a < hi; ++a) {
                    uint32_t s = slot_of(a);
                    mark_slot_read(path, ptr.aux, s);
                    const StackSlot* slot = frame.find_slot(s);
                    StackByte b = slot != nullptr ? slot->bytes[byte_of(a)] : StackByte::Invalid;
                    if (b == StackByte::Spill && access != Access::Load && !options_.privileged &&
                        slot->spilled.type != ValueType::Scalar) {
                        // A helper would copy the address somewhere the program can read it.
                        return fail(path, Rule::PointerLeak,
                                    "the helper reads stack bytes " + range_text(lo, hi) + " through " + who +
                                        ", which hold the spilled pointer " + slot->spilled.to_string() +
                                        " at fp" + std::to_string(a),
                                    {reg});
                    }
                    if (b == StackByte::Invalid && !options_.privileged) {
                        return fail(path, Rule::UninitializedStack,
                                    "reading stack bytes " + range_text(lo, hi) + " through " + who +
                                        ", but the byte at fp" + std::to_string(a) + " was never written",
                                    {reg});
                    }
                }
            }
            return true;
        }
        case ValueType::MapValue: {
            const MapInfo& map = *ptr.map;
            if (ptr.num.smin() < 0) {
                return fail(path, bounds,
                            who +
                                " may point before the start of the map value (its variable offset may be "
                                "negative): use an unsigned index or check it is >= 0",
                            {reg});
            }
            if (lo < 0 || hi > static_cast<int64_t>(map.value_size)) {
                return fail(path, bounds,
                            "access " + range_text(lo, hi) + " through " + who + " is outside the " +
                                std::to_string(map.value_size) + "-byte value of map " + map.name,
                            {reg});
            }
            if (writes && map_read_only(map)) {
                return fail(
                    path, Rule::ReadOnlyWrite,
                    "write through " + who + " into map " + map.name + ", which is read-only for programs",
                    {reg});
            }
            if (reads && (map.flags & kMapWriteOnlyProg) != 0) {
                return fail(
                    path, Rule::InvalidMemoryAccess,
                    "read through " + who + " from map " + map.name + ", which is write-only for programs",
                    {reg});
            }
            if (map.spin_lock_offset && (access == Access::Load || access == Access::Store)) {
                auto lock = static_cast<int64_t>(*map.spin_lock_offset);
                if (lo < lock + 4 && hi > lock) {
                    return fail(path, Rule::SpinLock,
                                "direct access to the bpf_spin_lock of map " + map.name +
                                    ": use bpf_spin_lock / bpf_spin_unlock",
                                {reg});
                }
            }
            return true;
        }
        case ValueType::Packet:
        case ValueType::PacketMeta: {
            bool meta = ptr.type == ValueType::PacketMeta;
            if (ptr.num.smin() < 0) {
                return fail(
                    path, bounds,
                    who + " may point before the start of the packet (its variable offset may be negative)",
                    {reg});
            }
            int32_t range = path.state.packet_range(meta, ptr.id);
            if (base < 0 || base + static_cast<int64_t>(max_size) > range) {
                std::string end =
                    meta ? "data" : (type_ == isa::ProgramType::Bytes ? "the data length" : "data_end");
                return fail(path, bounds,
                            "packet access " + range_text(base, base + static_cast<int64_t>(max_size)) +
                                " through " + who + " is not proven in bounds: only " +
                                std::to_string(range) +
                                " bytes from its base are (compare the pointer with " + end + " first)",
                            {reg});
            }
            if (writes && !isa::packet_writable(type_)) {
                return fail(path, Rule::ReadOnlyWrite,
                            "write to the packet through " + who + ": " +
                                std::string(isa::program_type_name(type_)) + " programs may only read it",
                            {reg});
            }
            return true;
        }
        case ValueType::Mem:
        case ValueType::MapKey: {
            int64_t size = ptr.type == ValueType::Mem ? ptr.aux : ptr.map->key_size;
            if (ptr.num.smin() < 0 || lo < 0 || hi > size) {
                return fail(path, bounds,
                            "access " + range_text(lo, hi) + " through " + who + " is outside its " +
                                std::to_string(size) + " bytes",
                            {reg});
            }
            if (writes && ptr.type == ValueType::MapKey) {
                return fail(path, Rule::ReadOnlyWrite, "write through " + who + ": map keys are read-only",
                            {reg});
            }
            return true;
        }
        case ValueType::KernelPtr:
            if (access == Access::Load) return true;  // null at run time: the access never happens
            return fail(path, Rule::InvalidMemoryAccess,
                        who + " points to a kernel object: it can only be read field by field", {reg});
        case ValueType::Scalar:
            return fail(path, Rule::InvalidMemoryAccess,
                        reg_name(reg) + " is a number (" + describe(path, reg) +
                            "), not a pointer: it cannot be " + (reads ? "read through" : "written through"),
                        {reg});
        default:
            return fail(
                path, Rule::InvalidMemoryAccess,
                who + " is a " + std::string(value_type_name(ptr.type)) + ", which cannot be dereferenced",
                {reg});
    }
}

bool Analyzer::check_context_access(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint32_t size,
                                    bool store, const isa::ContextField** field) {
    std::string who = reg_name(reg) + " (" + describe(path, reg) + ")";
    if (!ptr.fixed_offset() || ptr.off != 0) {
        return fail(path, Rule::InvalidContextAccess,
                    "access through a moved context pointer " + who +
                        ": context fields must be accessed as r1 + constant",
                    {reg});
    }
    const isa::ContextLayout* layout = isa::context_layout(type_, options_.platform);
    std::string name =
        layout != nullptr && !layout->struct_name.empty() ? std::string(layout->struct_name) : "context";
    if (offset < 0 || offset > 0xffff) {
        return fail(path, Rule::InvalidContextAccess,
                    "access at offset " + std::to_string(offset) + " of the " + name, {reg});
    }
    *field =
        isa::context_field(type_, static_cast<uint32_t>(offset), size,
                           store ? isa::ContextAccess::Store : isa::ContextAccess::Load, options_.platform);
    if (*field == nullptr) {
        std::string why;
        if (layout == nullptr) {
            why =
                "bpfvm has no context layout for " + std::string(isa::program_type_name(type_)) + " programs";
        } else {
            const isa::ContextField* readable = isa::context_field(
                type_, static_cast<uint32_t>(offset), size, isa::ContextAccess::Load, options_.platform);
            if (store && readable != nullptr) {
                why = std::string(readable->name) + " is read-only";
            } else {
                why = "no field of " + name + " may be " + (store ? "written" : "read") + " that way";
            }
        }
        return fail(path, Rule::InvalidContextAccess,
                    std::string(store ? "write" : "read") + " of " + std::to_string(size) +
                        " bytes at offset " + std::to_string(offset) + " of the " + name + ": " + why,
                    {reg});
    }
    return true;
}

Value Analyzer::map_value_load(const Value& ptr, int64_t offset, uint32_t size, bool sign_extend) const {
    const MapInfo& map = *ptr.map;
    int64_t at = ptr.off + offset;
    if (map_read_only(map) && ptr.fixed_offset() && at >= 0 &&
        static_cast<size_t>(at) + size <= map.initial_data.size()) {
        // A frozen map's bytes are known: the kernel reads them too, so .rodata settings fold.
        uint64_t value = 0;
        std::memcpy(&value, map.initial_data.data() + at, size);  // little-endian hosts and BPF
        Scalar result = Scalar::constant(value);
        if (sign_extend && size < 8) result = result.sign_extend(size * 8, true);
        return Value::scalar(result);
    }
    return unknown_load(size, sign_extend);
}

std::optional<Value> Analyzer::stack_load(Path& path, uint8_t reg, const Value& ptr, int64_t offset,
                                          uint32_t size, bool sign_extend) {
    Frame& frame = path.state.frames[ptr.aux];
    if (!ptr.fixed_offset()) {
        int64_t lo = ptr.off + offset + ptr.num.smin();
        int64_t hi = ptr.off + offset + ptr.num.smax() + size;
        for (int64_t a = lo; a < hi; ++a) {
            const StackSlot* slot = frame.find_slot(slot_of(a));
            if (slot != nullptr && slot->bytes[byte_of(a)] == StackByte::Spill &&
                slot->spilled.is_pointer() && !options_.privileged) {
                fail(path, Rule::PointerLeak,
                     "a variable-offset read through " + reg_name(reg) +
                         " may read part of a spilled pointer at fp" + std::to_string(a),
                     {reg});
                return std::nullopt;
            }
        }
        bool zero = true;
        for (int64_t a = lo; a < hi && zero; ++a) {
            const StackSlot* slot = frame.find_slot(slot_of(a));
            zero = slot != nullptr && slot->bytes[byte_of(a)] == StackByte::Zero;
        }
        return zero ? Value::constant(0) : unknown_load(size, sign_extend);
    }
    int64_t at = ptr.off + offset;
    uint32_t s = slot_of(at);
    uint32_t b = byte_of(at);
    record_stack_access(path, ptr.aux, s);
    const StackSlot* slot = frame.find_slot(s);
    if (slot == nullptr) return unknown_load(size, sign_extend);  // privileged read of never-written stack
    if (slot->spill_size != 0) {
        if (b == slot->spill_offset && size <= slot->spill_size && slot->spilled.type == ValueType::Scalar) {
            // The low bytes of the spilled number; still linked to its copies if nothing was cut.
            Value v = slot->spilled;
            if (size < 8) {
                Scalar low = v.num.truncate(size);
                if (sign_extend) return Value::scalar(low.sign_extend(size * 8, true));
                if ((v.num.umax() >> (8 * size)) != 0) v.id = 0;
                v.num = low;
            }
            return v;
        }
        if (b == slot->spill_offset && size == slot->spill_size) return slot->spilled;
        bool overlaps = b < slot->spill_offset + slot->spill_size && slot->spill_offset < b + size;
        if (overlaps && slot->spilled.is_pointer()) {
            // Privileged rules refuse it too: a pointer is filled back whole or not at all.
            fail(path, Rule::PointerLeak,
                 "a " + std::to_string(size) + "-byte read at fp" + std::to_string(at) +
                     " takes part of a spilled pointer (" + slot->spilled.to_string() + ")",
                 {reg});
            return std::nullopt;
        }
        if (overlaps && slot->spilled.type == ValueType::Uninit) {
            fail(path, Rule::UninitializedStack,
                 "a " + std::to_string(size) + "-byte read at fp" + std::to_string(at) +
                     " takes part of a spilled pointer that is no longer valid (a packet pointer after "
                     "a helper that may move the packet, or a released record)",
                 {reg});
            return std::nullopt;
        }
    }
    // Bytes that are all known zero, or all of a spilled 0, read as 0; other mixes as unknown.
    bool zero = true;
    bool spilled_zero = slot->spill_size != 0 && slot->spilled.is_null_constant();
    for (uint32_t i = b; i < b + size; ++i) {
        zero = zero && slot->bytes[i] == StackByte::Zero;
        spilled_zero = spilled_zero && slot->bytes[i] == StackByte::Spill;
    }
    if (zero || spilled_zero) return Value::constant(0);
    return unknown_load(size, sign_extend);
}

bool Analyzer::stack_store(Path& path, uint8_t reg, const Value& ptr, int64_t offset, uint32_t size,
                           const Value& value) {
    size_t frame_index = ptr.aux;
    Frame& frame = path.state.frames[frame_index];
    if (!ptr.fixed_offset()) {
        if (value.is_pointer() && !options_.privileged) {
            return fail(path, Rule::PointerLeak,
                        "a pointer stored through the variable-offset stack pointer " + reg_name(reg) +
                            " could not be tracked",
                        {reg});
        }
        stack_clobber(path, ptr, offset + ptr.num.smin(), offset + ptr.num.smax() + size);
        return true;
    }
    int64_t at = ptr.off + offset;
    uint32_t s = slot_of(at);
    uint32_t b = byte_of(at);
    record_stack_access(path, frame_index, s);
    StackSlot& slot = frame.slot(s);
    if (size == 8) {
        if (value.type == ValueType::Stack && frame_index + 1 != path.state.frames.size()) {
            // It could outlive the frame it points to.
            return fail(path, Rule::InvalidMemoryAccess,
                        "a stack pointer (" + value.to_string() + ") stored into a caller's stack frame",
                        {reg});
        }
        slot.bytes.fill(StackByte::Spill);
        slot.spilled = value;
        slot.spill_offset = 0;
        slot.spill_size = 8;
        mark_slot_written(path, frame_index, s);
        return true;
    }
    if (value.is_pointer()) {
        // Privileged rules refuse it too: a pointer is spilled whole or not at all.
        return fail(
            path, Rule::PointerLeak,
            "a " + std::to_string(size) + "-byte store of a pointer would keep only part of its address",
            {reg});
    }
    drop_spill(slot);
    // Only a store at the start of a slot spills a number, as the kernel's privileged rules track
    // it (0 included: a later write over part of the slot makes all of it unknown); elsewhere the
    // bytes are zero or unknown.
    if (b != 0) {
        StackByte byte = value.is_null_constant() ? StackByte::Zero : StackByte::Misc;
        for (uint32_t i = b; i < b + size; ++i) slot.bytes[i] = byte;
        return true;
    }
    // A narrow spill keeps the whole number, as the kernel does (a fill truncates it): what the
    // kernel concludes from it (a spilled 0, a constant map key) needs the whole value.
    for (uint32_t i = b; i < b + size; ++i) slot.bytes[i] = StackByte::Spill;
    slot.spilled = value;
    if ((value.num.umax() >> (8 * size)) != 0) slot.spilled.id = 0;
    slot.spill_offset = static_cast<uint8_t>(b);
    slot.spill_size = static_cast<uint8_t>(size);
    return true;
}

void Analyzer::stack_clobber(Path& path, const Value& ptr, int64_t lo, int64_t hi) {
    // lo, hi: relative to ptr's known offset plus its variable part's extremes.
    size_t frame_index = ptr.aux;
    Frame& frame = path.state.frames[frame_index];
    int64_t first = ptr.off + lo;
    int64_t last = ptr.off + hi;  // exclusive
    bool exact = ptr.fixed_offset();
    for (int64_t a = first; a < last; ++a) {
        if (a < -static_cast<int64_t>(isa::kStackSize) || a >= 0) continue;
        StackSlot& slot = frame.slot(slot_of(a));
        if (slot.spill_size != 0) drop_spill(slot);
        StackByte& byte = slot.bytes[byte_of(a)];
        if (exact || byte != StackByte::Invalid) byte = StackByte::Misc;
    }
    if (exact) {
        for (int64_t a = first; a < last; a += 8) {
            if (a % 8 == 0 && a + 8 <= last) mark_slot_written(path, frame_index, slot_of(a));
        }
    }
}

bool Analyzer::load(Path& path, const isa::Load& insn) {
    if (insn.dst == isa::kFramePointer) {
        return fail(path, Rule::ReadOnlyWrite, "r10 (the frame pointer) is read-only", {insn.dst});
    }
    const Value* b = read_reg(path, insn.base);
    if (b == nullptr) return false;
    Value base = *b;
    Value result;
    if (base.type == ValueType::Ctx) {
        const isa::ContextField* field = nullptr;
        if (!check_context_access(path, insn.base, base, insn.offset, insn.size, false, &field)) return false;
        switch (field->kind) {
            case isa::ContextFieldKind::Scalar: result = unknown_load(insn.size, insn.sign_extend); break;
            case isa::ContextFieldKind::PacketStart: result = Value::pointer(ValueType::Packet); break;
            case isa::ContextFieldKind::PacketEnd: result = Value::pointer(ValueType::PacketEnd); break;
            case isa::ContextFieldKind::PacketMeta: result = Value::pointer(ValueType::PacketMeta); break;
            case isa::ContextFieldKind::KernelPointer:
                result = Value::pointer(ValueType::KernelPtr);
                result.maybe_null = true;
                result.id = path.state.fresh_id();
                break;
        }
    } else {
        if (!check_access(path, insn.base, base, insn.offset, insn.size, insn.size, Access::Load))
            return false;
        switch (base.type) {
            case ValueType::Stack: {
                auto loaded = stack_load(path, insn.base, base, insn.offset, insn.size, insn.sign_extend);
                if (!loaded) return false;
                result = *loaded;
                break;
            }
            case ValueType::MapValue:
                result = map_value_load(base, insn.offset, insn.size, insn.sign_extend);
                break;
            default: result = unknown_load(insn.size, insn.sign_extend); break;
        }
    }
    write_reg(path, insn.dst, result);
    ++path.pc;
    return true;
}

bool Analyzer::store(Path& path, const isa::Store& insn) {
    const Value* b = read_reg(path, insn.base);
    if (b == nullptr) return false;
    Value base = *b;
    Value value;
    uint8_t value_reg = insn.value.is_reg ? insn.value.reg : insn.base;
    if (insn.value.is_reg) {
        const Value* v = read_reg(path, insn.value.reg);
        if (v == nullptr) return false;
        value = *v;
    } else {
        value = Value::constant(static_cast<uint64_t>(static_cast<int64_t>(insn.value.imm)));
    }
    if (base.type == ValueType::Ctx) {
        // Immediate stores into the context are allowed as register stores are (Linux 6.3).
        if (value.is_pointer()) {
            return fail(path, Rule::PointerLeak,
                        "r" + std::to_string(value_reg) + " leaks an address into the context", {value_reg});
        }
        const isa::ContextField* field = nullptr;
        if (!check_context_access(path, insn.base, base, insn.offset, insn.size, true, &field)) return false;
        ++path.pc;
        return true;
    }
    if (!check_access(path, insn.base, base, insn.offset, insn.size, insn.size, Access::Store)) return false;
    if (base.type == ValueType::Stack) {
        if (!stack_store(path, value_reg, base, insn.offset, insn.size, value)) return false;
    } else if (value.is_pointer() && !options_.privileged) {
        return fail(path, Rule::PointerLeak,
                    "r" + std::to_string(value_reg) + " (" + value.to_string() + ") leaks an address into " +
                        (base.type == ValueType::MapValue ? "a map value"
                         : base.type == ValueType::Mem    ? "a ring buffer record"
                                                          : "the packet"),
                    {value_reg});
    }
    ++path.pc;
    return true;
}

bool Analyzer::atomic(Path& path, const isa::Atomic& insn) {
    if (insn.op == isa::Op::LoadAcquire) {
        isa::Load load_insn{insn.dst, insn.src, insn.offset, insn.size, false};
        return load(path, load_insn);
    }
    if (insn.op == isa::Op::StoreRelease) {
        isa::Store store_insn{insn.dst, insn.offset, insn.size, isa::Operand::make_reg(insn.src)};
        return store(path, store_insn);
    }
    const Value* b = read_reg(path, insn.dst);
    if (b == nullptr) return false;
    Value base = *b;
    const Value* s = read_reg(path, insn.src);
    if (s == nullptr) return false;
    if (s->is_pointer() && !options_.privileged) {
        return fail(path, Rule::PointerLeak, "r" + std::to_string(insn.src) + " leaks an address into memory",
                    {insn.src});
    }
    if (insn.op == isa::Op::AtomicCmpXchg) {
        const Value* r0 = read_reg(path, 0);
        if (r0 == nullptr) return false;
        if (r0->is_pointer() && !options_.privileged) {
            return fail(path, Rule::PointerLeak, "r0 leaks an address into memory (cmpxchg)", {0});
        }
    }
    switch (base.type) {
        case ValueType::Stack:
        case ValueType::MapValue:
        case ValueType::Mem: break;
        case ValueType::Scalar:
        case ValueType::Uninit: break;  // check_access reports it
        default:
            if (!base.maybe_null) {
                return fail(path, Rule::InvalidMemoryAccess,
                            "atomic operations on " + std::string(value_type_name(base.type)) + " (r" +
                                std::to_string(insn.dst) + ") are not allowed",
                            {insn.dst});
            }
    }
    if (base.is_pointer() && !base.maybe_null) {
        // Atomics need natural alignment in every region, not only on the stack.
        Tnum at = base.num.bits().add(Tnum::constant(static_cast<uint64_t>(int64_t{base.off} + insn.offset)));
        if (((at.value | at.mask) & (insn.size - 1u)) != 0) {
            return fail(path, Rule::InvalidMemoryAccess,
                        "misaligned atomic access: " + std::to_string(insn.size) + " bytes at offset " +
                            std::to_string(int64_t{base.off} + insn.offset) + " of " + reg_name(insn.dst) +
                            " (" + describe(path, insn.dst) + "); atomics must be aligned to their size",
                        {insn.dst});
        }
        bool fetches = insn.fetch || insn.op == isa::Op::AtomicXchg || insn.op == isa::Op::AtomicCmpXchg;
        if (base.type == ValueType::Stack && !base.fixed_offset() && !fetches) {
            return fail(path, Rule::InvalidMemoryAccess,
                        "an atomic operation through the variable-offset stack pointer " +
                            reg_name(insn.dst) + " (" + describe(path, insn.dst) +
                            "): the kernel allows it only for operations that fetch the old value",
                        {insn.dst});
        }
    }
    if (!check_access(path, insn.dst, base, insn.offset, insn.size, insn.size, Access::Load)) return false;
    if (!check_access(path, insn.dst, base, insn.offset, insn.size, insn.size, Access::Store)) return false;
    if (base.type == ValueType::Stack) {
        auto old = stack_load(path, insn.dst, base, insn.offset, insn.size, false);
        if (!old) return false;
        if (old->is_pointer() && !options_.privileged) {
            return fail(path, Rule::PointerLeak, "an atomic operation on a spilled pointer", {insn.dst});
        }
        stack_clobber(path, base, insn.offset + base.num.smin(), insn.offset + base.num.smax() + insn.size);
    }
    Value fetched = Value::scalar(Scalar::unknown_of_size(insn.size));
    if (insn.op == isa::Op::AtomicCmpXchg) {
        write_reg(path, 0, fetched);
    } else if (insn.fetch || insn.op == isa::Op::AtomicXchg) {
        write_reg(path, insn.src, fetched);
    }
    ++path.pc;
    return true;
}

bool Analyzer::packet_load(Path& path, const isa::PacketLoad& insn) {
    if (type_ != isa::ProgramType::SocketFilter && type_ != isa::ProgramType::SchedCls &&
        type_ != isa::ProgramType::SchedAct) {
        return fail(path, Rule::InvalidMemoryAccess,
                    "legacy packet loads (LD_ABS / LD_IND) are only for socket filter and tc programs");
    }
    const Value* r6 = read_reg(path, 6);
    if (r6 == nullptr) return false;
    if (r6->type != ValueType::Ctx || !r6->fixed_offset() || r6->off != 0) {
        return fail(path, Rule::InvalidMemoryAccess, "legacy packet loads need r6 to hold the context", {6});
    }
    // The index may be anything initialized (a pointer makes the load fail and the program end
    // with 0, as the kernel allows).
    if (insn.indirect && read_reg(path, insn.src) == nullptr) return false;
    if (!path.state.refs.empty()) {
        return fail(path, Rule::UnreleasedReference,
                    "a legacy packet load may end the program while a ring buffer record is held");
    }
    for (uint8_t r = 1; r <= 5; ++r) write_reg(path, r, Value{});
    write_reg(path, 0, Value::scalar(Scalar::unknown_of_size(insn.size)));
    ++path.pc;
    return true;
}

}  // namespace bpfvm::verifier
