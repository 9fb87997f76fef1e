// The abstract machine state the verifier tracks along a path: per call frame, what each
// register holds (a Value: a scalar, or a pointer of some kind with its offset) and what each
// stack byte holds; across frames, the acquired references (ring buffer records), the packet
// bytes proven readable, and a held spin lock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "scalar.hpp"

namespace bpfvm::verifier {

enum class ValueType : uint8_t {
    Uninit,      // never written (or clobbered by a call)
    Scalar,      // a number (num)
    Ctx,         // the program's context
    Stack,       // a frame's stack; aux: frame number; off is relative to the frame pointer
    Packet,      // the packet; id: which variable part the offset shares (0: none), see ranges
    PacketEnd,   // one past the packet's last byte
    PacketMeta,  // the metadata area before the packet (xdp)
    MapPtr,      // a map itself (map)
    MapValue,    // inside a map's value (map)
    MapKey,      // a map key a callback gets (map), read-only
    Mem,         // memory of aux bytes (a ring buffer record)
    Func,        // a program function (aux: its entry instruction)
    KernelPtr,   // a kernel object bpfvm does not model (__sk_buff's sk); null at run time
};

std::string_view value_type_name(ValueType type);

struct Value {
    ValueType type = ValueType::Uninit;
    bool maybe_null = false;  // a map lookup or reserve result not checked yet
    uint32_t id = 0;          // shared by copies: null checks, packet ranges, equal scalars
    uint32_t ref = 0;         // the acquired reference this pointer holds (0: none)
    uint32_t aux = 0;         // see ValueType
    int32_t off = 0;          // pointers: the known part of the offset
    const MapInfo* map = nullptr;
    Scalar num;  // Scalar: the value; pointers: the variable part of the offset (0 when none)

    static Value scalar(Scalar value) {
        Value v;
        v.type = ValueType::Scalar;
        v.num = value;
        return v;
    }
    static Value constant(uint64_t value) { return scalar(Scalar::constant(value)); }
    static Value pointer(ValueType type, int32_t off = 0) {
        Value v;
        v.type = type;
        v.off = off;
        v.num = Scalar::constant(0);
        return v;
    }

    bool is_pointer() const { return type != ValueType::Uninit && type != ValueType::Scalar; }
    bool is_null_constant() const {
        return type == ValueType::Scalar && num.is_constant() && num.constant_value() == 0;
    }
    // Whether the variable part of the offset is known to be 0.
    bool fixed_offset() const { return num.is_constant() && num.constant_value() == 0; }

    // Kernel-log style: "scalar(umax=255)", "42", "pkt(off=14,r=14)", "fp-16", "map_value(flows,off=4)".
    std::string to_string(int32_t packet_range = -1) const;
    bool operator==(const Value&) const = default;
};

// What one stack byte holds.
enum class StackByte : uint8_t {
    Invalid,  // never written: reads are refused (unprivileged)
    Misc,     // some initialized data
    Zero,     // known zero
    Spill,    // part of the spilled register of its slot
};

// Eight bytes of stack: slot i covers [fp - 8*(i+1), fp - 8*i).
struct StackSlot {
    std::array<StackByte, 8> bytes{};  // by offset within the slot (address order)
    Value spilled;                     // the register held by the Spill bytes
    uint8_t spill_offset = 0;          // where in the slot the spill starts
    uint8_t spill_size = 0;            // 0: no spill

    bool operator==(const StackSlot&) const = default;
};

struct Frame {
    std::array<Value, isa::kRegisterCount> regs;
    std::vector<StackSlot> stack;  // grows as deeper slots are written
    uint32_t callsite = 0;         // the call instruction that made this frame (frame 0: none)
    uint32_t function = 0;         // entry instruction of the function running in it
    // A callback frame: the helper that calls it (bpf_loop, for_each_map_elem) and the number of
    // references held when it started (it must release what it acquires).
    bool callback = false;
    uint32_t refs_at_entry = 0;

    StackSlot& slot(uint32_t index);  // grows the stack
    const StackSlot* find_slot(uint32_t index) const;
    bool operator==(const Frame&) const = default;
};

// Bytes of the packet (from the pointer with this id's variable part) the program proved in
// bounds by comparing with data_end (or with data, for the metadata area).
struct PacketRange {
    bool meta = false;
    uint32_t id = 0;
    int32_t range = 0;
    bool operator==(const PacketRange&) const = default;
};

struct Reference {
    uint32_t id = 0;
    uint32_t instruction = 0;  // where it was acquired
    bool operator==(const Reference&) const = default;
};

struct SpinLockHeld {
    const MapInfo* map = nullptr;
    uint32_t id = 0;  // the map value pointer's id
    bool operator==(const SpinLockHeld&) const = default;
};

struct State {
    std::vector<Frame> frames;  // back() is the running frame
    std::vector<PacketRange> ranges;
    std::vector<Reference> refs;
    std::optional<SpinLockHeld> lock;
    // bytes programs: the scalar id of r2 (the data length) as given at entry, so a check of the
    // length proves packet bytes readable.
    uint32_t length_id = 0;
    uint32_t next_id = 1;

    Frame& frame() { return frames.back(); }
    const Frame& frame() const { return frames.back(); }
    uint32_t fresh_id() { return next_id++; }

    int32_t packet_range(bool meta, uint32_t id) const;
    void set_packet_range(bool meta, uint32_t id, int32_t range);  // only grows
    // Applies `update` to every value (registers and spilled) in every frame.
    template <typename F>
    void for_each_value(F&& update) {
        for (Frame& f : frames) {
            for (Value& v : f.regs) update(v);
            for (StackSlot& s : f.stack) {
                if (s.spill_size != 0) update(s.spilled);
            }
        }
    }
    size_t memory_bytes() const;

    // The value as the log prints it, with the packet bytes proven for a packet pointer.
    std::string describe(const Value& v) const;

    // Registers and non-empty stack slots of the running frame, one line:
    // "R1=ctx() R10=fp0 fp-8=mmmmmmmm".
    std::string to_string() const;
    std::string stack_to_string(const Frame& frame) const;
};

// Whether two pointers point into the same region (the packet, one frame's stack, one map value),
// so their difference or order says nothing about where that region is.
bool same_region(const Value& a, const Value& b);

// Whether every concrete state of `cur` is one of `old`'s, looking only at what `relevant` says
// was read after `old` (pruning: the explored state covers this one), and at the bounds of only
// the numbers `precise` says a check depended on (null: every number). Ids are matched as a
// consistent renaming.
struct ReadMarks;
bool state_covers(const State& old, const State& cur, const ReadMarks* relevant, const ReadMarks* precise);
// Registers of the running frame identical (the first test for a loop that comes back to the
// same state).
bool same_registers(const State& a, const State& b);
// An upper bound of both (for block states in --dot and callback iterations); with `widen`, bounds
// that moved are widened so repeated joins end.
State join_states(const State& a, const State& b, bool widen);

// Which registers and stack slots, per frame, a state's successors read before writing them.
struct ReadMarks {
    static constexpr size_t kMaxFrames = isa::kMaxCallDepth + 1;
    std::array<uint16_t, kMaxFrames> regs{};
    std::array<uint64_t, kMaxFrames> slots{};

    bool reg(size_t frame, uint8_t r) const { return (regs[frame] >> r) & 1; }
    bool slot(size_t frame, uint32_t s) const { return s < 64 && ((slots[frame] >> s) & 1); }
    void merge(const ReadMarks& other) {
        for (size_t i = 0; i < kMaxFrames; ++i) {
            regs[i] |= other.regs[i];
            slots[i] |= other.slots[i];
        }
    }
};

}  // namespace bpfvm::verifier
