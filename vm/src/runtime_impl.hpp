// The runtime's state, shared by its parts: runtime.cpp (maps, programs, runs), run_context.cpp
// (contexts and packets) and the kernel helper implementations.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpfvm/vm/runtime.hpp"
#include "program_preparation.hpp"

namespace bpfvm::vm {

// The packet of a run, in a buffer that does not move while the program runs, so pointers the
// program holds stay valid when a helper moves the packet's head or tail inside it.
struct PacketBuffer {
    std::vector<uint8_t> frame;
    uint64_t hard_start = 0;  // first byte the head may move to
    uint64_t hard_end = 0;    // one past the last byte the tail may move to
    uint64_t meta = 0;        // data_meta (== data when there is no metadata)
    uint64_t data = 0;
    uint64_t data_end = 0;
    uint64_t output_start = 0;  // a socket filter's Ethernet header: its data starts after it,
                                // the packet the run hands back does not

    uint64_t length() const { return data_end - data; }
    uint8_t* at(uint64_t address) { return reinterpret_cast<uint8_t*>(address); }
};

// What one run has: its request, context, packet and what it produces.
struct RunState {
    ProgramId program = 0;
    isa::ProgramType type = isa::ProgramType::Bytes;
    const RunRequest* request = nullptr;
    RunOutcome* outcome = nullptr;

    // The context memory (uapi struct, then packet pointers), 8-byte aligned.
    std::vector<uint64_t> context;
    uint32_t context_size = 0;  // bytes of the uapi struct the program sees
    PacketBuffer packet;
    bool has_packet = false;
    size_t packet_region = 0;  // index of the packet's region in the run's memory map

    uint32_t tail_calls = 0;
    uint64_t clock_reads = 0;

    uint8_t* context_bytes() { return reinterpret_cast<uint8_t*>(context.data()); }
    uint64_t context_address() const { return reinterpret_cast<uint64_t>(context.data()); }
};

struct PreparedEntry {
    std::optional<PreparedProgram> prepared;
    std::optional<Error> error;  // why the program cannot run
};

// A helper as the runtime dispatches it: its prototype (the name owned here) and code.
struct RuntimeHelper {
    std::string name;
    isa::HelperPrototype prototype;
    HelperFunction function;
};

struct Runtime::Impl {
    RuntimeOptions options;
    std::vector<std::unique_ptr<Map>> maps;
    std::unordered_map<uint64_t, MapId> map_by_handle;
    std::vector<ProgramSpec> programs;
    std::vector<PreparedEntry> prepared;
    std::vector<const isa::Program*> tail_call_targets;  // prepared code by program id, or null
    std::map<int64_t, RuntimeHelper> helpers;
    HelperTable helper_table;  // what engines call: argument checks, then the helper
    std::mt19937_64 random;
    RunState* run = nullptr;  // the run in progress, for the helpers

    uint64_t handle_of(MapId id) const { return reinterpret_cast<uint64_t>(maps[id].get()); }
    // The map a helper's map argument names, or nullptr for a value that is not a map.
    Map* map_from_handle(uint64_t handle) const {
        auto it = map_by_handle.find(handle);
        return it == map_by_handle.end() ? nullptr : maps[it->second].get();
    }
    MapId add_map(std::unique_ptr<Map> map);
    void install_helper(const isa::HelperPrototype& prototype, std::string name, HelperFunction function);
    uint64_t now_ns();
};

// Registers the kernel helpers bpfvm simulates (runtime_helpers.cpp).
void install_kernel_helpers(Runtime::Impl& impl);
// Their names, as the isa helper table spells them.
std::vector<std::string_view> kernel_helper_names();

// Builds the context and packet of a run for its program type and adds their regions
// (run_context.cpp): the regions, arguments, legacy packet and context packet fields of
// `input`. Errors are about the request (a packet too large for the type).
Status build_run_context(Runtime::Impl& impl, RunState& run, RunInput& input);
// After a helper moved the packet's head, tail or metadata: updates the context's packet
// pointers and the packet's region.
void sync_packet(RunState& run, MemoryMap& memory);
// Copies the packet as the program left it into the outcome.
void collect_packet(RunState& run);

}  // namespace bpfvm::vm
