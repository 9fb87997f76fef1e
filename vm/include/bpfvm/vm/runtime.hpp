// A runtime: the maps and programs of a loaded object, the kernel helpers simulated against
// them, and runs of one program on one input (a packet, a context) with any engine. This is the
// C++ embedding API; the bpfvm CLI is one of its users.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/contexts.hpp"
#include "bpfvm/isa/error.hpp"
#include "bpfvm/isa/helpers.hpp"
#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/isa/program_types.hpp"
#include "bpfvm/vm/engine.hpp"
#include "bpfvm/vm/helpers.hpp"
#include "bpfvm/vm/maps.hpp"

namespace bpfvm::vm {

// A program as the runtime takes it: the loaded code with its ld_imm64 pseudo forms for maps
// (map index, map index + value offset) and subprograms still in place; the runtime resolves
// them and rewrites context accesses before anything runs.
struct ProgramSpec {
    std::string name;
    isa::ProgramType type = isa::ProgramType::Bytes;
    isa::Program code;
    // Instructions (indices into code.instructions) that must not run, with why: CO-RE
    // relocations the loader could not resolve. Reaching one stops the run with that message.
    std::map<uint32_t, std::string> poisoned;
    // Whether the license lets the program call GPL-only helpers (trace_printk, probe_read...).
    bool gpl_compatible = true;
};

// Where ktime_get_ns and friends read time from. Fixed runs are reproducible: time starts at
// clock_start_ns and advances by one microsecond at each read.
enum class ClockMode : uint8_t { Fixed, Host };

// Who get_current_pid_tgid, get_current_uid_gid and get_current_comm say is running.
struct TaskIdentity {
    uint32_t pid = 4242;  // the thread id (the kernel's pid)
    uint32_t tgid = 4242;
    uint32_t uid = 1000;
    uint32_t gid = 1000;
    std::string comm = "bpfvm";
};

struct RuntimeOptions {
    MapLimits map_limits;  // cpus: per-CPU maps keep this many values
    isa::Platform platform = isa::host_platform();
    ClockMode clock = ClockMode::Fixed;
    uint64_t clock_start_ns = 1'000'000'000;
    uint64_t random_seed = 1;
    TaskIdentity task;
    uint64_t instruction_budget = kDefaultInstructionBudget;
};

// One run's input.
struct RunRequest {
    // xdp, sched_cls, sched_act, socket_filter: the packet, an Ethernet frame. bytes: the data r1
    // points to (r2 is its length).
    std::vector<uint8_t> packet;
    // The context's own bytes: struct pt_regs (kprobe), the record (tracepoint), the arguments
    // (raw_tracepoint), struct bpf_perf_event_data, a syscall program's context; for packet
    // types the initial struct __sk_buff / xdp_md (cb[], mark, ...; packet fields are the
    // runtime's). Shorter than the context: zero-filled.
    std::vector<uint8_t> context;
    uint32_t cpu = 0;  // the simulated CPU the program runs on
    uint32_t ingress_ifindex = 1;
    uint32_t rx_queue_index = 0;
    uint64_t attach_cookie = 0;  // get_attach_cookie
    uint64_t func_ip = 0;        // get_func_ip
};

// A record a program sent to a ring buffer or perf event array.
struct RecordedEvent {
    std::string map;
    uint32_t cpu = 0;
    std::vector<uint8_t> data;
};

// Where bpf_redirect or bpf_redirect_map sent the packet.
struct Redirect {
    std::string map;      // empty for bpf_redirect
    uint64_t target = 0;  // ifindex, or the map key
    uint64_t flags = 0;
};

struct RunOutcome {
    uint64_t r0 = 0;
    std::optional<std::string> verdict;  // isa::verdict_name for the program's type
    uint64_t instructions = 0;           // executed, across tail calls and callbacks
    bool instructions_exact = true;      // false: back edges and calls (RunResult)
    std::vector<std::string> printk;     // trace_printk lines, without the newline
    std::vector<RecordedEvent> events;   // ring buffer and perf event records, in order
    std::optional<Redirect> redirect;
    // Packet types: the packet as the program left it, as BPF_PROG_TEST_RUN gives it back:
    // [data_meta, data_end) for XDP, whose first metadata_size bytes are the metadata in front
    // of the frame; [data, data_end) for the others.
    std::vector<uint8_t> packet;
    uint32_t metadata_size = 0;
    // Set when the program stopped with an error; what it produced until then is kept.
    std::optional<Error> error;
    // The program the error happened in (another than the one run after a tail call); its
    // instruction is Error::where.instruction.
    ProgramId error_program = 0;
};

class Runtime {
 public:
    // Creates the maps (ids are their indices here) and prepares every program. A program that
    // cannot be prepared (an invalid context access, a map index out of range) is kept with its
    // error, which running it reports.
    static Result<std::unique_ptr<Runtime>> create(std::vector<MapSpec> maps,
                                                   std::vector<ProgramSpec> programs,
                                                   RuntimeOptions options = {});
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    const RuntimeOptions& options() const;

    size_t map_count() const;
    Map& map(MapId id);
    const Map& map(MapId id) const;
    std::optional<MapId> find_map(std::string_view name) const;
    // A map that no program refers to directly: an inner map for a map of maps.
    Result<MapId> add_map(const MapSpec& spec);
    // Fills a prog_array slot with a program, or a map-of-maps slot with a map matching its
    // template; checks the target like BPF_MAP_UPDATE_ELEM with an fd would.
    Status set_reference(MapId map, std::span<const uint8_t> key, uint32_t target);

    size_t program_count() const;
    const ProgramSpec& program(ProgramId id) const;
    std::optional<ProgramId> find_program(std::string_view name) const;
    // The program as it runs (maps and subprograms resolved, context accesses rewritten), or
    // why it cannot run.
    Result<const isa::Program*> prepared(ProgramId id) const;

    // Adds a helper or replaces one with the same id. The prototype's argument kinds are
    // checked before each call (map handles, memory arguments) as for the built-in helpers;
    // its `callers` say which program types may call it.
    void add_helper(const isa::HelperPrototype& prototype, HelperFunction function);
    // The helpers engines dispatch through: the built-in ones and those added.
    const HelperTable& helpers() const;

    // Runs a program once. An Error is returned for a request that cannot run at all (the
    // program could not be prepared, a packet larger than the type allows); an error during the
    // run is in RunOutcome::error with what the program produced before it.
    Result<RunOutcome> run(ProgramId id, const RunRequest& request, Engine& engine);

    struct Impl;  // defined in vm/src, shared by the runtime's parts

 private:
    explicit Runtime(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace bpfvm::vm
