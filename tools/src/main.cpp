// The bpfvm command line: argument parsing only; the commands live in commands.cpp.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bpfvm/tools/commands.hpp"

int main(int argc, char** argv) {
    using namespace bpfvm::tools;
    CLI::App app{"bpfvm: a userspace eBPF virtual machine"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "bpfvm 0.1.0");

    ConformanceOptions conformance;
    auto* conformance_cmd = app.add_subcommand("conformance", "Run bpf_conformance .data cases");
    conformance_cmd->add_option("paths", conformance.paths, "Folders of .data files, or single files")
        ->required();
    conformance_cmd->add_option("--engine", conformance.engine, "interpreter, jit or auto")
        ->capture_default_str();
    conformance_cmd->add_flag("--expect-reject", conformance.expect_reject,
                              "Negative suite: every case must end rejected or with a different result");
    conformance_cmd->add_flag("-v,--verbose", conformance.verbose, "Also list passing cases");

    PluginOptions plugin;
    auto* plugin_cmd =
        app.add_subcommand("conformance-plugin",
                           "bpf_conformance plugin protocol: memory hex as argument, program hex on stdin");
    plugin_cmd->add_option("memory", plugin.memory_hex, "Input memory as space-separated hex bytes");
    plugin_cmd->add_option("options", plugin.plugin_options, "Plugin options (ignored)");
    plugin_cmd->add_option("--engine", plugin.engine, "interpreter, jit or auto")->capture_default_str();
    plugin_cmd->allow_extras();

    RunOptions run;
    auto* run_cmd = app.add_subcommand("run",
                                       "Run a program of an ELF object on a packet, capture or context, or a "
                                       "raw program (.bin, .asm, .data)");
    run_cmd->add_option("file", run.file, "ELF object or program file")->required();
    auto* mem = run_cmd->add_option("--mem", run.memory_hex,
                                    "Input memory as hex bytes (r1 = address, r2 = length; bytes programs)");
    run_cmd->add_option("--mem-file", run.memory_file, "Input memory from a file")->excludes(mem);
    run_cmd->add_option("--engine", run.engine, "interpreter, jit or auto")->capture_default_str();
    run_cmd->add_option("--budget", run.budget, "Instruction budget (default 1000000)");
    run_cmd->add_flag("--stats", run.stats, "Print the engine and the instruction count");
    run_cmd->add_flag(
        "--trust-verified", run.trust_verified,
        "Verify first, then run without run-time access checks (refused if the verifier rejects it)");
    run_cmd->add_flag(
        "--blind-constants", run.blind_constants,
        "JIT: blind every immediate of the program in the generated code (against JIT spraying)");
    run_cmd->add_option("--section", run.section, "The program of this ELF section");
    run_cmd->add_option("--function", run.function, "The program with this C function name");
    auto* packet =
        run_cmd->add_option("--packet", run.packet_hex, "One packet as hex bytes (xdp, tc, socket)");
    run_cmd->add_option("--pcap", run.pcap_in, "Run on every packet of a capture (pcap or pcapng)")
        ->excludes(packet);
    run_cmd->add_option("--pcap-out", run.pcap_out, "Write the packets as the program left them");
    run_cmd->add_option("--ctx", run.context_file,
                        "Context bytes from a file (pt_regs, tracepoint record, __sk_buff / xdp_md fields)");
    run_cmd->add_option("--repeat", run.repeat, "Runs per input (maps keep their contents)")
        ->capture_default_str();
    run_cmd->add_option("--cpus", run.cpus, "Simulated CPUs (per-CPU maps)")->capture_default_str();
    run_cmd->add_option("--cpu", run.cpu, "The CPU the program runs on")->capture_default_str();
    run_cmd->add_option("--ifindex", run.ifindex, "The device packets arrive on (ingress_ifindex)")
        ->capture_default_str();
    run_cmd->add_option("--rx-queue", run.rx_queue, "The receive queue of XDP packets")
        ->capture_default_str();
    run_cmd->add_option("--func-ip", run.func_ip, "What bpf_get_func_ip returns")->capture_default_str();
    run_cmd->add_option("--cookie", run.cookie, "What bpf_get_attach_cookie returns")->capture_default_str();
    run_cmd->add_option("--map", run.map_files, "Fill a map before the run: NAME=FILE.json (repeatable)");
    run_cmd->add_flag("--dump-maps", run.dump_maps, "Print every map after the run");
    run_cmd->add_option("--event-type", run.event_type,
                        "Show ring buffer and perf event records as this BTF struct (default: hex)");
    run_cmd->add_flag("--json", run.json,
                      "One JSON document: r0, verdict, printk, events, maps, instructions, error");
    run_cmd->add_option("--clock", run.clock, "fixed (reproducible) or host")->capture_default_str();
    run_cmd->add_option("--clock-start", run.clock_start_ns, "Fixed clock start, ns")->capture_default_str();
    run_cmd->add_option("--seed", run.seed, "Seed of bpf_get_prandom_u32")->capture_default_str();

    // --type and --btf: how an ELF object is opened.
    auto add_object_options = [](CLI::App* command, ObjectOptions& object) {
        command->add_option("--type", object.type,
                            "Program type for every program, overriding section names (libbpf's names: xdp, "
                            "socket_filter, kprobe, ..., or bytes)");
        command->add_option("--btf", object.btf_file,
                            "BTF to resolve CO-RE relocations against (e.g. /sys/kernel/btf/vmlinux); "
                            "default: the object's own BTF");
    };

    add_object_options(run_cmd, run.object);

    InfoOptions info;
    auto* info_cmd = app.add_subcommand("info", "List an object's programs, maps, license and BTF");
    info_cmd->add_option("file", info.file, "ELF object (clang -target bpf)")->required();
    info_cmd->add_flag("--json", info.json, "One JSON document instead of text");
    add_object_options(info_cmd, info.object);

    DisasmOptions disasm;
    auto* disasm_cmd = app.add_subcommand("disasm", "Disassemble a program or the programs of an ELF object");
    disasm_cmd->add_option("file", disasm.file, "Program file or ELF object")->required();
    disasm_cmd->add_flag("--source", disasm.source, "Interleave C source lines (objects with BTF line info)");
    disasm_cmd->add_option("--section", disasm.section, "Only programs of this ELF section");
    disasm_cmd->add_option("--function", disasm.function, "Only this program (its C function name)");
    add_object_options(disasm_cmd, disasm.object);
    disasm_cmd
        ->add_option("--syntax", disasm.syntax,
                     "llvm (as llvm-objdump) or conformance (as the assembler reads)")
        ->capture_default_str();
    disasm_cmd->add_flag("--hex", disasm.hex, "Immediates and offsets in hex, as llvm-objdump 15+");

    VerifyOptions verify;
    auto* verify_cmd = app.add_subcommand(
        "verify",
        "Verify the programs of ELF objects (or raw program files) as the kernel's verifier would; "
        "exit code 0 all accepted, 1 one rejected, 2 a file could not be loaded");
    verify_cmd->add_option("files", verify.files, "ELF objects or program files (.bin, .asm, .data)")
        ->required();
    verify_cmd->add_option("--format", verify.format, "text, json or sarif (SARIF 2.1.0, for code scanning)")
        ->check(CLI::IsMember({"text", "json", "sarif"}))
        ->capture_default_str();
    verify_cmd->add_option("--section", verify.section, "Only programs of this ELF section");
    verify_cmd->add_option("--function", verify.function, "Only this program (its C function name)");
    verify_cmd->add_option(
        "--dot", verify.dot_dir,
        "Write DIR/<section>_<function>.dot: the control-flow graph with the state at each "
        "block");
    verify_cmd->add_flag("-v,--verbose", verify.verbose,
                         "Print the abstract state before every instruction (as the kernel's log level 2)");
    verify_cmd->add_flag("--stats", verify.stats, "Print instructions processed, states stored, time");
    verify_cmd->add_flag("--privileged", verify.privileged,
                         "The kernel's rules for privileged loaders (CAP_BPF + CAP_PERFMON)");
    add_object_options(verify_cmd, verify.object);

    AsmOptions assemble;
    auto* asm_cmd = app.add_subcommand("asm", "Assemble bpf_conformance-syntax text to raw bytecode");
    asm_cmd->add_option("file", assemble.file, "Assembly (.asm) or conformance case (.data)")->required();
    asm_cmd->add_option("-o,--output", assemble.output, "Output .bin file")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    if (*conformance_cmd) return conformance_command(conformance, std::cout, std::cerr);
    if (*plugin_cmd) return conformance_plugin_command(plugin, std::cin, std::cout);
    if (*run_cmd) return run_command(run, std::cout, std::cerr);
    if (*info_cmd) return info_command(info, std::cout, std::cerr);
    if (*disasm_cmd) return disasm_command(disasm, std::cout, std::cerr);
    if (*asm_cmd) return asm_command(assemble, std::cout, std::cerr);
    if (*verify_cmd) return verify_command(verify, std::cout, std::cerr);
    return 2;
}
