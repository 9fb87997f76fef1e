// The bpfvm subcommands, as plain functions over option structs, so they can be tested without
// the command line. Each returns the process exit code and writes to the given streams.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace bpfvm::tools {

struct ConformanceOptions {
    std::vector<std::string> paths;  // folders of .data files, or single files
    std::string engine = "interpreter";
    bool expect_reject = false;  // every case must end not passing (negative suite)
    bool verbose = false;        // print passing cases too
};
int conformance_command(const ConformanceOptions& options, std::ostream& out, std::ostream& err);

// The bpf_conformance plugin protocol: memory hex in argv[1], program hex on stdin, r0 in hex
// on stdout; on failure a non-zero exit with the error on stdout.
struct PluginOptions {
    std::string memory_hex;
    std::vector<std::string> plugin_options;
    std::string engine = "interpreter";
};
int conformance_plugin_command(const PluginOptions& options, std::istream& in, std::ostream& out);

// How an ELF object is opened: `--type` overrides section names, `--btf` is the CO-RE target.
struct ObjectOptions {
    std::string type;      // libbpf program type name ("xdp", "bytes"); empty: from the section
    std::string btf_file;  // empty: the object's own BTF
};

struct RunOptions {
    std::string file;
    std::string memory_hex;   // --mem: raw programs' input memory; a bytes program's data
    std::string memory_file;  // --mem-file
    std::string engine = "auto";
    uint64_t budget = 0;  // 0: the default budget
    bool stats = false;
    // Run without access checks once the verifier accepts the program (and its tail call targets).
    bool trust_verified = false;
    // The JIT blinds every immediate of the program (against JIT spraying).
    bool blind_constants = false;

    // ELF objects.
    ObjectOptions object;
    std::string section;       // pick the program by section...
    std::string function;      // ...or by function name
    std::string packet_hex;    // --packet: one packet for xdp / tc / socket programs
    std::string context_file;  // --ctx: raw context bytes (pt_regs, tracepoint record, ...)
    std::string pcap_in;       // --pcap: run on every packet of a capture
    std::string pcap_out;      // --pcap-out: the packets as the program left them
    uint64_t repeat = 1;       // runs of the same input
    uint32_t cpus = 1;         // simulated CPUs (per-CPU maps)
    uint32_t cpu = 0;          // the CPU the program runs on
    uint32_t ifindex = 1;      // the device a packet arrives on
    uint32_t rx_queue = 0;
    uint64_t func_ip = 0;                // what bpf_get_func_ip returns
    uint64_t cookie = 0;                 // what bpf_get_attach_cookie returns
    std::vector<std::string> map_files;  // NAME=FILE.json, filled before the run
    bool dump_maps = false;
    std::string event_type;  // a BTF struct to show ring buffer and perf event records as
    bool json = false;
    std::string clock = "fixed";  // fixed or host
    uint64_t clock_start_ns = 1'000'000'000;
    uint64_t seed = 1;
};
int run_command(const RunOptions& options, std::ostream& out, std::ostream& err);

struct DisasmOptions {
    std::string file;
    std::string syntax = "llvm";
    bool hex = false;
    // ELF objects only.
    bool source = false;   // interleave C source lines from BTF line info
    std::string section;   // only programs of this section
    std::string function;  // only this program
    ObjectOptions object;
};
int disasm_command(const DisasmOptions& options, std::ostream& out, std::ostream& err);

// `bpfvm info prog.o`: programs, maps, license and BTF presence, as text or JSON.
struct InfoOptions {
    std::string file;
    bool json = false;
    ObjectOptions object;
};
int info_command(const InfoOptions& options, std::ostream& out, std::ostream& err);

// `bpfvm verify FILE...`: every program of each ELF object (or those --section/--function pick),
// or a raw program file, through the verifier. Exit code: 2 if a file could not be loaded, else 1
// if a program was rejected or could not be loaded, else 0.
struct VerifyOptions {
    std::vector<std::string> files;
    std::string format = "text";  // text, json or sarif
    std::string section;          // ELF objects: only programs of this section...
    std::string function;         // ...or with this C function name
    std::string dot_dir;          // write DIR/<section>_<function>.dot, the CFG with block states
    bool verbose = false;         // print the abstract state before every instruction (-v)
    bool stats = false;           // text: processed instructions, states, time per program
    bool privileged = false;      // the kernel's rules for CAP_BPF + CAP_PERFMON
    ObjectOptions object;         // --type also gives raw program files their type (default bytes)
};
int verify_command(const VerifyOptions& options, std::ostream& out, std::ostream& err);

struct AsmOptions {
    std::string file;
    std::string output;
};
int asm_command(const AsmOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bpfvm::tools
