// Helper functions of the platform ABI, as data: every id of the kernel's __BPF_FUNC_MAPPER with
// its name and, for the helpers bpfvm models, a prototype after the kernel's struct
// bpf_func_proto (argument and return kinds, GPL-only, packet access, which program types may
// call it). The verifier checks calls against these; the runtime implements the same helpers.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "bpfvm/isa/program_types.hpp"

namespace bpfvm::isa {

// What a helper expects in one of r1..r5 (the kernel's enum bpf_arg_type; its MEM_RDONLY,
// MEM_UNINIT and PTR_MAYBE_NULL flags are folded into distinct kinds).
enum class ArgKind : uint8_t {
    None,                    // the argument slot is unused
    Anything,                // any initialized value
    ConstMapPtr,             // a map, loaded with a map relocation (ld_imm64)
    PtrToMapKey,             // readable memory of the map's key size
    PtrToMapValue,           // readable memory of the map's value size
    PtrToUninitMapValue,     // writable memory of the map's value size; the helper fills it
    PtrToCtx,                // the program's context, unmodified
    PtrToMem,                // initialized memory the helper reads and may write; sized by the next arg
    PtrToReadonlyMem,        // initialized memory the helper only reads; sized by the next arg
    PtrToReadonlyMemOrNull,  // as PtrToReadonlyMem, or null (then the size may be zero)
    PtrToUninitMem,          // writable memory the helper fills; sized by the next arg
    PtrToMemOrNull,          // as PtrToMem, or null (then the size may be zero)
    ConstSize,               // the size of the previous memory arg, known bounds, > 0
    ConstSizeOrZero,         // the size of the previous memory arg, known bounds, >= 0
    ConstAllocSizeOrZero,    // the size of memory the helper returns (ringbuf_reserve)
    PtrToStackOrNull,        // a pointer into the stack, or null (callback context)
    PtrToFunc,               // a subprogram, loaded with a function relocation (callback)
    PtrToConstStr,           // a NUL-terminated string in read-only map memory (.rodata)
    PtrToRingbufMem,         // memory from ringbuf_reserve, released by this call
    PtrToSpinLock,           // the struct bpf_spin_lock inside a map value
    PtrToLong,               // an aligned 8-byte slot the helper writes
};

// What a helper leaves in r0 (the kernel's enum bpf_return_type).
enum class ReturnKind : uint8_t {
    Integer,
    Void,                   // r0 is not defined after the call
    PtrToMapValueOrNull,    // a value of the map given as an argument, or null
    PtrToRingbufMemOrNull,  // reserved ring buffer memory (size: ret_size_arg), or null; the
                            // program must submit or discard it before exit
    UnsupportedBtfPointer,  // a BTF-typed kernel object (task_struct); bpfvm has none to give
};

// Stable names: "ptr_to_map_key", "ptr_to_map_value_or_null", ...
std::string_view arg_kind_name(ArgKind kind);
std::string_view return_kind_name(ReturnKind kind);

// A memory argument is followed by the argument that gives its size (the kernel checks the pair
// together); these say which kinds take which part.
bool is_sized_memory_arg(ArgKind kind);
bool is_memory_size_arg(ArgKind kind);

// A set of program types. Bit n is kernel value n; bpfvm's Bytes type has the top bit.
class ProgramTypeSet {
 public:
    constexpr ProgramTypeSet() = default;
    constexpr ProgramTypeSet(std::initializer_list<ProgramType> types) {
        for (ProgramType type : types) bits_ |= bit(type);
    }
    static constexpr ProgramTypeSet every_type() {
        ProgramTypeSet set;
        set.bits_ = ~uint64_t{0};
        return set;
    }
    constexpr bool contains(ProgramType type) const { return (bits_ & bit(type)) != 0; }
    constexpr ProgramTypeSet operator|(ProgramTypeSet other) const {
        ProgramTypeSet set;
        set.bits_ = bits_ | other.bits_;
        return set;
    }

 private:
    static constexpr uint64_t bit(ProgramType type) {
        auto value = static_cast<int32_t>(type);
        if (type == ProgramType::Bytes) return uint64_t{1} << 63;
        return value >= 0 && value < 63 ? uint64_t{1} << value : 0;
    }
    uint64_t bits_ = 0;
};

struct HelperPrototype {
    int32_t id;
    std::string_view name;  // as __BPF_FUNC_MAPPER spells it, without "bpf_"
    bool known;             // false: only the id and name are known, calls are rejected by name
    ReturnKind ret;
    std::array<ArgKind, 5> args;  // r1..r5; slots past arg_count are ArgKind::None
    uint8_t arg_count;
    uint8_t ret_size_arg;    // 1-based argument giving the size of returned memory, 0 for none
    bool gpl_only;           // callable only from programs with a GPL-compatible license
    bool packet_access;      // memory arguments may point into the packet
    ProgramTypeSet callers;  // program types that may call it
};

// nullptr for ids outside the table: negative, or past the last helper id (211, the list is frozen).
const HelperPrototype* helper_by_id(int64_t id);
// Accepts "map_lookup_elem" and "bpf_map_lookup_elem"; nullptr for an unknown name.
const HelperPrototype* helper_by_name(std::string_view name);
// Every helper id, dense from 0 ("unspec").
std::span<const HelperPrototype> all_helpers();

// Whether a program of this type may call the helper; false for helpers without a prototype.
// Follows the kernel for the types bpfvm runs (socket_filter, sched_cls, sched_act, xdp, kprobe,
// tracepoint, raw_tracepoint, perf_event, syscall; bytes gets the generic helpers), with the
// differences helpers.cpp lists; other kernel types get only the helpers every type may call.
bool helper_allowed_for(const HelperPrototype& helper, ProgramType type);

// Whether the helper may move or resize the packet (the kernel's bpf_helper_changes_pkt_data):
// every packet pointer a program holds is invalid after calling it.
bool helper_changes_packet_data(int32_t id);

// The helpers that call a program function (ArgKind::PtrToFunc), and what the callback gets:
// bpf_loop calls fn(index, ctx), for_each_map_elem calls fn(map, key, value, ctx). Both take
// the callback in r2 and its context in r3, and the callback returns 0 (go on) or 1 (stop).
enum class CallbackKind : uint8_t { None, Loop, ForEachMapElem, Other };
CallbackKind helper_callback_kind(int32_t id);

}  // namespace bpfvm::isa
