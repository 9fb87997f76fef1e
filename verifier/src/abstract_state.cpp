#include "abstract_state.hpp"

#include <algorithm>
#include <utility>

namespace bpfvm::verifier {

std::string_view value_type_name(ValueType type) {
    switch (type) {
        case ValueType::Uninit: return "uninit";
        case ValueType::Scalar: return "scalar";
        case ValueType::Ctx: return "ctx";
        case ValueType::Stack: return "fp";
        case ValueType::Packet: return "pkt";
        case ValueType::PacketEnd: return "pkt_end";
        case ValueType::PacketMeta: return "pkt_meta";
        case ValueType::MapPtr: return "map_ptr";
        case ValueType::MapValue: return "map_value";
        case ValueType::MapKey: return "map_key";
        case ValueType::Mem: return "ringbuf_mem";
        case ValueType::Func: return "func";
        case ValueType::KernelPtr: return "kernel_ptr";
    }
    return "unknown";
}

std::string Value::to_string(int32_t packet_range) const {
    if (type == ValueType::Uninit) return "?";
    if (type == ValueType::Scalar) {
        std::string text = num.is_constant() ? num.to_string() : "scalar(" + num.to_string() + ")";
        if (id != 0 && !num.is_constant()) text.insert(text.size() - 1, ",id=" + std::to_string(id));
        return text;
    }
    std::string parts;
    auto add = [&](const std::string& part) {
        if (!parts.empty()) parts += ',';
        parts += part;
    };
    if (type == ValueType::Stack) {
        std::string base = aux == 0 ? "fp" : "fp[" + std::to_string(aux) + "]";
        if (fixed_offset()) return base + (off < 0 ? std::to_string(off) : "+" + std::to_string(off));
        add("off=" + std::to_string(off));
        add("var=" + num.to_string());
        return base + "(" + parts + ")";
    }
    if (map != nullptr) add(map->name);
    if (type == ValueType::Mem) add("size=" + std::to_string(aux));
    if (type == ValueType::Func) add("insn=" + std::to_string(aux));
    if (id != 0) add("id=" + std::to_string(id));
    if (ref != 0) add("ref=" + std::to_string(ref));
    if (off != 0 || type == ValueType::Packet || type == ValueType::PacketMeta)
        add("off=" + std::to_string(off));
    if (!fixed_offset()) add("var=" + num.to_string());
    if (packet_range >= 0) add("r=" + std::to_string(packet_range));
    std::string name(value_type_name(type));
    if (maybe_null) name += "_or_null";
    return name + "(" + parts + ")";
}

StackSlot& Frame::slot(uint32_t index) {
    if (index >= stack.size()) stack.resize(index + 1);
    return stack[index];
}

const StackSlot* Frame::find_slot(uint32_t index) const {
    return index < stack.size() ? &stack[index] : nullptr;
}

int32_t State::packet_range(bool meta, uint32_t id) const {
    for (const PacketRange& r : ranges) {
        if (r.meta == meta && r.id == id) return r.range;
    }
    return 0;
}

void State::set_packet_range(bool meta, uint32_t id, int32_t range) {
    for (PacketRange& r : ranges) {
        if (r.meta == meta && r.id == id) {
            r.range = std::max(r.range, range);
            return;
        }
    }
    ranges.push_back({meta, id, range});
}

size_t State::memory_bytes() const {
    size_t bytes =
        sizeof(State) + ranges.capacity() * sizeof(PacketRange) + refs.capacity() * sizeof(Reference);
    for (const Frame& f : frames) bytes += sizeof(Frame) + f.stack.capacity() * sizeof(StackSlot);
    return bytes;
}

namespace {

char byte_letter(StackByte b) {
    switch (b) {
        case StackByte::Invalid: return '?';
        case StackByte::Misc: return 'm';
        case StackByte::Zero: return '0';
        case StackByte::Spill: return 'r';
    }
    return '?';
}

}  // namespace

std::string State::describe(const Value& v) const {
    int32_t range = -1;
    if (v.type == ValueType::Packet) range = packet_range(false, v.id);
    if (v.type == ValueType::PacketMeta) range = packet_range(true, v.id);
    return v.to_string(range);
}

std::string State::stack_to_string(const Frame& f) const {
    std::string text;
    for (size_t i = 0; i < f.stack.size(); ++i) {
        const StackSlot& s = f.stack[i];
        bool empty =
            std::all_of(s.bytes.begin(), s.bytes.end(), [](StackByte b) { return b == StackByte::Invalid; });
        if (empty) continue;
        text += " fp-" + std::to_string((i + 1) * 8) + "=";
        bool whole_spill = s.spill_size == 8;
        if (whole_spill) {
            text += describe(s.spilled);
            continue;
        }
        // Address order is low to high; print like the kernel, highest byte first.
        for (size_t b = 8; b-- > 0;) text += byte_letter(s.bytes[b]);
        if (s.spill_size != 0) {
            text += "(+" + std::to_string(s.spill_offset) + ":" + std::to_string(s.spill_size) + "=" +
                    describe(s.spilled) + ")";
        }
    }
    return text;
}

std::string State::to_string() const {
    std::string text;
    const Frame& f = frame();
    if (frames.size() > 1) text += "frame" + std::to_string(frames.size() - 1) + ": ";
    bool first = true;
    for (uint8_t r = 0; r < isa::kRegisterCount; ++r) {
        const Value& v = f.regs[r];
        if (v.type == ValueType::Uninit) continue;
        if (!first) text += ' ';
        first = false;
        text += "R" + std::to_string(r) + "=" + describe(v);
    }
    text += stack_to_string(f);
    for (const Reference& ref : refs) text += " refs=" + std::to_string(ref.id);
    if (lock) text += " lock=" + std::to_string(lock->id);
    return text;
}

bool same_region(const Value& a, const Value& b) {
    auto packet = [](const Value& v) {
        return v.type == ValueType::Packet || v.type == ValueType::PacketEnd ||
               v.type == ValueType::PacketMeta;
    };
    if (packet(a) && packet(b)) return true;
    if (a.maybe_null || b.maybe_null || a.type != b.type) return false;
    switch (a.type) {
        case ValueType::Stack: return a.aux == b.aux;
        // A global data map has a single value; other maps' values may be different elements.
        case ValueType::MapValue:
            return a.map == b.map && a.map->type == isa::MapType::Array && a.map->max_entries == 1;
        case ValueType::Mem: return a.ref == b.ref && a.ref != 0;
        case ValueType::Ctx: return true;
        default: return false;
    }
}

// ---------------------------------------------------------------------------------------------
// Covering (pruning) and joining
// ---------------------------------------------------------------------------------------------

namespace {

// A consistent renaming of ids from one state to another.
class IdMap {
 public:
    bool match(uint32_t old_id, uint32_t cur_id) {
        if (old_id == 0 && cur_id == 0) return true;
        if (old_id == 0 || cur_id == 0) return false;
        for (const auto& [o, c] : pairs_) {
            if (o == old_id) return c == cur_id;
            if (c == cur_id) return false;
        }
        pairs_.emplace_back(old_id, cur_id);
        return true;
    }
    // Scalars: an old value not linked to others makes no claim the current link breaks.
    bool match_scalar(uint32_t old_id, uint32_t cur_id) { return old_id == 0 || match(old_id, cur_id); }

 private:
    std::vector<std::pair<uint32_t, uint32_t>> pairs_;
};

bool value_covers(const State& old_state, const State& cur_state, const Value& old, const Value& cur,
                  IdMap& ids, bool precise) {
    if (old.type == ValueType::Uninit) return true;  // the explored paths never read it
    if (old.type != cur.type) return false;
    if (old.type == ValueType::Scalar) {
        // A number no later check depended on: any number will do.
        if (!precise) return true;
        return old.num.subsumes(cur.num) && ids.match_scalar(old.id, cur.id);
    }
    if (old.maybe_null != cur.maybe_null || old.aux != cur.aux || old.off != cur.off || old.map != cur.map)
        return false;
    if (!old.num.subsumes(cur.num)) return false;
    if (!ids.match(old.id, cur.id) || !ids.match(old.ref, cur.ref)) return false;
    if (old.type == ValueType::Packet || old.type == ValueType::PacketMeta) {
        bool meta = old.type == ValueType::PacketMeta;
        if (old_state.packet_range(meta, old.id) > cur_state.packet_range(meta, cur.id)) return false;
    }
    return true;
}

bool slot_covers(const State& old_state, const State& cur_state, const StackSlot& old, const StackSlot* cur,
                 IdMap& ids, bool precise) {
    static const StackSlot kEmpty{};
    const StackSlot& c = cur != nullptr ? *cur : kEmpty;
    bool cur_pointer_spill = c.spill_size != 0 && c.spilled.is_pointer();
    for (size_t b = 0; b < 8; ++b) {
        StackByte ob = old.bytes[b];
        StackByte cb = c.bytes[b];
        switch (ob) {
            case StackByte::Invalid: break;
            case StackByte::Misc:
                if (cb == StackByte::Invalid || (cb == StackByte::Spill && cur_pointer_spill)) return false;
                break;
            case StackByte::Zero:
                if (cb == StackByte::Zero) break;
                if (cb == StackByte::Spill && c.spilled.is_null_constant()) break;
                return false;
            case StackByte::Spill:
                if (cb != StackByte::Spill) return false;
                break;
        }
    }
    if (old.spill_size != 0) {
        if (old.spill_offset != c.spill_offset || old.spill_size != c.spill_size) return false;
        if (!value_covers(old_state, cur_state, old.spilled, c.spilled, ids, precise)) return false;
    }
    return true;
}

bool same_value_shape(const Value& a, const Value& b) {
    return a.type == b.type && a.maybe_null == b.maybe_null && a.aux == b.aux && a.off == b.off &&
           a.map == b.map && a.num == b.num && (a.ref == 0) == (b.ref == 0);
}

}  // namespace

bool state_covers(const State& old, const State& cur, const ReadMarks* relevant, const ReadMarks* precise) {
    if (old.frames.size() != cur.frames.size() || old.refs.size() != cur.refs.size()) return false;
    if (old.lock.has_value() != cur.lock.has_value()) return false;
    IdMap ids;
    for (size_t fi = 0; fi < old.frames.size(); ++fi) {
        const Frame& of = old.frames[fi];
        const Frame& cf = cur.frames[fi];
        if (of.callsite != cf.callsite || of.function != cf.function || of.callback != cf.callback)
            return false;
        for (uint8_t r = 0; r < isa::kRegisterCount; ++r) {
            if (relevant != nullptr && !relevant->reg(fi, r)) continue;
            bool exact = precise == nullptr || precise->reg(fi, r);
            if (!value_covers(old, cur, of.regs[r], cf.regs[r], ids, exact)) return false;
        }
        for (uint32_t s = 0; s < of.stack.size(); ++s) {
            if (relevant != nullptr && !relevant->slot(fi, s)) continue;
            bool exact = precise == nullptr || precise->slot(fi, s);
            if (!slot_covers(old, cur, of.stack[s], cf.find_slot(s), ids, exact)) return false;
        }
    }
    for (size_t i = 0; i < old.refs.size(); ++i) {
        if (!ids.match(old.refs[i].id, cur.refs[i].id)) return false;
    }
    if (old.lock && (old.lock->map != cur.lock->map || !ids.match(old.lock->id, cur.lock->id))) return false;
    return ids.match_scalar(old.length_id, cur.length_id);
}

bool same_registers(const State& a, const State& b) {
    if (a.frames.size() != b.frames.size()) return false;
    const Frame& fa = a.frame();
    const Frame& fb = b.frame();
    for (uint8_t r = 0; r < isa::kRegisterCount; ++r) {
        if (!same_value_shape(fa.regs[r], fb.regs[r])) return false;
    }
    return true;
}

namespace {

// Folds the known offset into the variable part, so two pointers into the same region with
// different known offsets can be joined.
Value with_variable_offset(Value v) {
    v.num = Scalar::alu(isa::Op::Add, true, v.num,
                        Scalar::constant(static_cast<uint64_t>(static_cast<int64_t>(v.off))));
    v.off = 0;
    return v;
}

Value join_values(const Value& a, const Value& b, bool widen) {
    if (a.type != b.type || a.type == ValueType::Uninit) return Value{};
    if (a.type == ValueType::Scalar) {
        Value v = Value::scalar(widen ? a.num.widen(b.num) : a.num.join(b.num));
        v.id = a.id == b.id ? a.id : 0;
        return v;
    }
    if (a.aux != b.aux || a.map != b.map || a.ref != b.ref) return Value{};
    Value x = a;
    Value y = b;
    if (x.off != y.off) {
        // A packet pointer's offset is relative to its id's proven range: keep those apart.
        if ((x.type == ValueType::Packet || x.type == ValueType::PacketMeta) && (x.id != 0 || y.id != 0))
            return Value{};
        x = with_variable_offset(x);
        y = with_variable_offset(y);
    }
    if (x.id != y.id && (x.maybe_null || x.type == ValueType::Packet || x.type == ValueType::PacketMeta))
        return Value{};
    Value v = x;
    v.maybe_null = x.maybe_null || y.maybe_null;
    v.num = widen ? x.num.widen(y.num) : x.num.join(y.num);
    if (x.id != y.id) v.id = 0;
    return v;
}

StackSlot join_slots(const StackSlot& a, const StackSlot& b, bool widen) {
    StackSlot s;
    bool spill_joined = false;
    Value spilled;
    if (a.spill_size != 0 && a.spill_size == b.spill_size && a.spill_offset == b.spill_offset) {
        spilled = join_values(a.spilled, b.spilled, widen);
        spill_joined = spilled.type != ValueType::Uninit;
    }
    bool a_pointer = a.spill_size != 0 && a.spilled.is_pointer();
    bool b_pointer = b.spill_size != 0 && b.spilled.is_pointer();
    for (size_t i = 0; i < 8; ++i) {
        StackByte x = a.bytes[i];
        StackByte y = b.bytes[i];
        if (x == StackByte::Invalid || y == StackByte::Invalid) {
            s.bytes[i] = StackByte::Invalid;
        } else if (x == StackByte::Spill && y == StackByte::Spill && spill_joined) {
            s.bytes[i] = StackByte::Spill;
        } else if ((x == StackByte::Spill && a_pointer) || (y == StackByte::Spill && b_pointer)) {
            s.bytes[i] = StackByte::Invalid;  // part of a pointer in one state: unreadable in the join
        } else if (x == StackByte::Zero && y == StackByte::Zero) {
            s.bytes[i] = StackByte::Zero;
        } else {
            s.bytes[i] = StackByte::Misc;
        }
    }
    if (spill_joined && s.bytes[a.spill_offset] == StackByte::Spill) {
        s.spilled = spilled;
        s.spill_offset = a.spill_offset;
        s.spill_size = a.spill_size;
    }
    return s;
}

}  // namespace

State join_states(const State& a, const State& b, bool widen) {
    if (a.frames.size() != b.frames.size()) return a;
    State s = a;
    for (size_t fi = 0; fi < a.frames.size(); ++fi) {
        const Frame& fa = a.frames[fi];
        const Frame& fb = b.frames[fi];
        Frame& f = s.frames[fi];
        for (uint8_t r = 0; r < isa::kRegisterCount; ++r)
            f.regs[r] = join_values(fa.regs[r], fb.regs[r], widen);
        size_t slots = std::max(fa.stack.size(), fb.stack.size());
        f.stack.assign(slots, StackSlot{});
        static const StackSlot kEmpty{};
        for (size_t i = 0; i < slots; ++i) {
            const StackSlot* x = fa.find_slot(static_cast<uint32_t>(i));
            const StackSlot* y = fb.find_slot(static_cast<uint32_t>(i));
            f.stack[i] = join_slots(x ? *x : kEmpty, y ? *y : kEmpty, widen);
        }
    }
    // Ranges proven in both.
    s.ranges.clear();
    for (const PacketRange& r : a.ranges) {
        int32_t other = b.packet_range(r.meta, r.id);
        if (other > 0) s.ranges.push_back({r.meta, r.id, std::min(r.range, other)});
    }
    s.next_id = std::max(a.next_id, b.next_id);
    if (a.length_id != b.length_id) s.length_id = 0;
    return s;
}

}  // namespace bpfvm::verifier
