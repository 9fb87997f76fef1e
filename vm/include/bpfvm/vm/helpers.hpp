// Helper functions a program calls with `call N` (or callx): a table from helper id to an
// implementation. Every engine dispatches through the same table.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/vm/memory.hpp"

namespace bpfvm::vm {

// Runs a subprogram of the running program for a helper (bpf_loop and for_each_map_elem
// callbacks): the engine calls it in a new frame, as a local call, and returns its r0.
class FunctionCaller {
 public:
    // `entry` is an index into the program's instructions; the caller has checked that a
    // function starts there.
    virtual Result<uint64_t> call_function(uint32_t entry, const std::array<uint64_t, 5>& args) = 0;

 protected:
    ~FunctionCaller() = default;
};

// What a helper sees of the run: its arguments, the memory it may touch (a helper that moves a
// packet's bounds resizes its region) and the engine, for callbacks.
struct HelperCall {
    std::array<uint64_t, 5> args;  // r1..r5
    MemoryMap& memory;
    uint32_t instruction;  // slot of the call, for error locations
    FunctionCaller& functions;

    // Checks that the helper may access [addr, addr + len).
    Status check(uint64_t addr, uint64_t len, Access access) const {
        return memory.check(addr, len, access, instruction, "helper");
    }
};

struct HelperReturn {
    HelperReturn() = default;
    HelperReturn(uint64_t value, bool stop = false) : r0(value), stop_program(stop) {}  // NOLINT
    static HelperReturn tail_call_to(uint32_t program) {
        HelperReturn ret;
        ret.tail_call = program;
        return ret;
    }

    uint64_t r0 = 0;
    // The program stops at once with this r0 (as the conformance suite's unwind helper does).
    bool stop_program = false;
    // A tail call: the engine continues at the start of this program (an index into
    // RunInput::programs) in the current frame, with r1 unchanged (the context), instead of
    // returning to the caller.
    std::optional<uint32_t> tail_call;
};

using HelperFunction = std::function<Result<HelperReturn>(const HelperCall&)>;

struct Helper {
    std::string name;
    HelperFunction function;
};

class HelperTable {
 public:
    void add(int64_t id, std::string name, HelperFunction function) {
        helpers_[id] = Helper{std::move(name), std::move(function)};
    }
    const Helper* find(int64_t id) const {
        auto it = helpers_.find(id);
        return it == helpers_.end() ? nullptr : &it->second;
    }
    const std::map<int64_t, Helper>& all() const { return helpers_; }

 private:
    std::map<int64_t, Helper> helpers_;
};

// The helpers the bpf_conformance suite expects (ids 0-5): gather_bytes, memfrob, no_op,
// sqrti, strcmp_ext and unwind.
HelperTable conformance_helpers();

}  // namespace bpfvm::vm
