// The verifier's soundness, measured: every program `bpfvm verify` accepts (the corpus objects,
// the conformance cases, the asm corpus) runs in the checked interpreter on many generated
// inputs, and none may end in a run-time error the verifier exists to rule out (a memory fault,
// a stack overflow, a context access or a helper argument the kernel would refuse). Inputs start
// from what the corpus run lines give (packets, captures, contexts, map contents) and grow by
// cutting every packet at every length, mutating bytes, and drawing random packets, contexts
// and memory. Each run is repeated in the interpreter without access checks (what
// --trust-verified runs), which must give the same results. BPFVM_SOUNDNESS_ROUNDS scales the number of
// mutations (default 24 per seed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/loader/object.hpp"
#include "bpfvm/tools/conformance.hpp"
#include "bpfvm/vm/interpreter.hpp"
#include "bpfvm/vm/runtime.hpp"
#include "corpus/corpus_support.hpp"
#include "object_run.hpp"
#include "pcap_io.hpp"

namespace bpfvm::corpus_test {
namespace {

using json = nlohmann::json;
using Bytes = std::vector<uint8_t>;

size_t rounds() {
    const char* text = std::getenv("BPFVM_SOUNDNESS_ROUNDS");
    return text != nullptr ? std::max<size_t>(1, std::strtoul(text, nullptr, 10)) : 24;
}

// Errors an accepted program must never meet: each is something the verifier checks.
bool verifier_should_have_refused(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::MemoryFault:
        case ErrorKind::StackOverflow:
        case ErrorKind::InvalidContextAccess:
        case ErrorKind::HelperArgument: return true;
        default: return false;
    }
}

// What `bpfvm verify --format json` says of each program of some files: path -> function (or
// "" for a raw program) -> accepted.
std::map<std::string, std::map<std::string, bool>> verdicts(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"verify", "--format", "json"};
    args.insert(args.end(), files.begin(), files.end());
    const CommandOutput output = run_cli(args);
    std::map<std::string, std::map<std::string, bool>> out;
    const json document = json::parse(output.out, nullptr, false);
    if (document.is_discarded()) {
        ADD_FAILURE() << "bpfvm verify printed no JSON:\n" << output.out.substr(0, 2000);
        return out;
    }
    for (const json& file : document["files"]) {
        auto& programs = out[file["path"].get<std::string>()];
        for (const json& program : file["programs"]) {
            const std::string function =
                program["function"].is_string() ? program["function"].get<std::string>() : "";
            programs[function] = program["verdict"] == "accepted";
        }
    }
    return out;
}

// Mutates bytes the way fuzzers do: overwrite, flip, set to boundary values, mostly in the
// first 64 bytes where headers live.
void mutate(Bytes& bytes, std::mt19937_64& random) {
    if (bytes.empty()) return;
    const size_t count = 1 + random() % 4;
    for (size_t i = 0; i < count; ++i) {
        const size_t span = random() % 4 == 0 ? bytes.size() : std::min<size_t>(bytes.size(), 64);
        uint8_t& byte = bytes[random() % span];
        switch (random() % 4) {
            case 0: byte = static_cast<uint8_t>(random()); break;
            case 1: byte ^= static_cast<uint8_t>(1u << (random() % 8)); break;
            case 2: byte = 0xff; break;
            default: byte = 0; break;
        }
    }
}

Bytes random_bytes(size_t size, std::mt19937_64& random) {
    Bytes bytes(size);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
    return bytes;
}

// Ethernet + IPv4/IPv6 + TCP/UDP/ICMP with random header fields, so parsers get past their
// first checks; length fields are left random on purpose.
Bytes random_frame(std::mt19937_64& random) {
    Bytes frame = random_bytes(14, random);
    const bool v6 = random() % 3 == 0;
    frame[12] = v6 ? 0x86 : 0x08;
    frame[13] = v6 ? 0xdd : 0x00;
    Bytes l3 = random_bytes(v6 ? 40 : 20, random);
    static constexpr uint8_t protocols[] = {6, 17, 1, 58, 47, 0};
    const uint8_t protocol = protocols[random() % std::size(protocols)];
    if (v6) {
        l3[0] = 0x60;
        l3[6] = protocol;
    } else {
        l3[0] = static_cast<uint8_t>(0x40 | (random() % 2 == 0 ? 5 : random() % 16));
        l3[9] = protocol;
    }
    frame.insert(frame.end(), l3.begin(), l3.end());
    const Bytes l4 = random_bytes(random() % 80, random);
    frame.insert(frame.end(), l4.begin(), l4.end());
    return frame;
}

bool takes_packet(isa::ProgramType type) {
    return type == isa::ProgramType::Xdp || type == isa::ProgramType::SchedCls ||
           type == isa::ProgramType::SchedAct || type == isa::ProgramType::SocketFilter;
}

struct Seeds {
    std::vector<Bytes> packets;
    std::vector<Bytes> contexts;
    // Each is one run line's map contents (NAME -> JSON file); the first is empty maps.
    std::vector<std::map<std::string, fs::path>> map_fills{{}};
};

Bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void add_capture(Seeds& seeds, const fs::path& pcap) {
    auto frames = tools::read_pcap(pcap);
    ASSERT_TRUE(frames) << frames.error().to_string();
    for (const auto& frame : *frames) seeds.packets.push_back(frame.data);
}

// The inputs of a program's run lines, every capture of the corpus, and random frames.
Seeds seeds_for(const CorpusEntry& entry, const Expectations& expectations, const std::string& function,
                std::mt19937_64& random) {
    Seeds seeds;
    const fs::path folder = entry.source.parent_path();
    for (const auto& [label, run] : expectations.runs) {
        if (run.function != function) continue;
        std::map<std::string, fs::path> fills;
        for (size_t i = 0; i + 1 < run.options.size(); ++i) {
            const std::string& option = run.options[i];
            const std::string& value = run.options[i + 1];
            if (option == "--packet") {
                auto bytes = tools::parse_hex_bytes(value);
                if (bytes) seeds.packets.push_back(*bytes);
            } else if (option == "--pcap") {
                add_capture(seeds, folder / value);
            } else if (option == "--ctx") {
                seeds.contexts.push_back(read_bytes(folder / value));
            } else if (option == "--map") {
                const auto equals = value.find('=');
                if (equals != std::string::npos)
                    fills[value.substr(0, equals)] = folder / value.substr(equals + 1);
            }
        }
        if (!fills.empty()) seeds.map_fills.push_back(std::move(fills));
    }
    const fs::path corpus = fs::path(BPFVM_SOURCE_DIR) / "corpus";
    add_capture(seeds, corpus / "packets" / "firewall.pcap");
    for (const auto& file : fs::directory_iterator(corpus / "c" / "inputs")) {
        if (file.path().extension() == ".pcap") add_capture(seeds, file.path());
    }
    for (int i = 0; i < 8; ++i) seeds.packets.push_back(random_frame(random));
    return seeds;
}

// The inputs one program runs on: each seed, each seed cut at every length (packets), and
// mutated copies; random contexts of every size up to the largest seen.
std::vector<vm::RunRequest> requests_for(isa::ProgramType type, const Seeds& seeds, std::mt19937_64& random) {
    std::vector<vm::RunRequest> requests;
    if (takes_packet(type)) {
        std::set<Bytes> packets;
        for (const Bytes& seed : seeds.packets) {
            for (size_t length = 0; length <= std::min<size_t>(seed.size(), 128); ++length) {
                packets.insert(Bytes(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(length)));
            }
            packets.insert(seed);
        }
        for (size_t i = 0; i < rounds(); ++i) {
            for (const Bytes& seed : seeds.packets) {
                Bytes mutated = seed;
                mutate(mutated, random);
                packets.insert(std::move(mutated));
            }
            packets.insert(random_bytes(random() % 200, random));
        }
        for (const Bytes& packet : packets) {
            vm::RunRequest request;
            request.packet = packet;
            requests.push_back(std::move(request));
        }
        return requests;
    }
    std::vector<Bytes> contexts = seeds.contexts;
    const isa::ContextLayout* layout = isa::context_layout(type, isa::host_platform());
    const size_t size = layout != nullptr ? layout->size : 64;
    contexts.push_back(Bytes(size, 0));
    for (size_t i = 0; i < rounds(); ++i) {
        for (const Bytes& seed : seeds.contexts) {
            Bytes mutated = seed;
            mutate(mutated, random);
            contexts.push_back(std::move(mutated));
        }
        contexts.push_back(random_bytes(size, random));
    }
    for (Bytes& context : contexts) {
        vm::RunRequest request;
        request.context = std::move(context);
        if (layout != nullptr && request.context.size() > layout->size) request.context.resize(layout->size);
        requests.push_back(std::move(request));
    }
    return requests;
}

struct Tally {
    size_t programs = 0;
    size_t runs = 0;
    std::map<std::string, size_t> other_errors;  // error kind -> runs that ended with it

    std::string summary() const {
        std::string text = std::to_string(programs) + " accepted programs, " + std::to_string(runs) + " runs";
        for (const auto& [kind, count] : other_errors)
            text += ", " + std::to_string(count) + " ended in " + kind;
        return text;
    }
};

// Counts a run; false (and a test failure) when it ended in an error the verifier should have
// ruled out.
bool check_outcome(const Result<vm::RunOutcome>& outcome, const std::string& who, const std::string& input,
                   Tally& tally) {
    ++tally.runs;
    const std::optional<Error> error = outcome ? outcome->error : std::optional<Error>(outcome.error());
    if (!error) return true;
    if (verifier_should_have_refused(error->kind)) {
        ADD_FAILURE() << who << " was accepted by the verifier but failed at run time on " << input << ":\n"
                      << error->to_string();
        return false;
    }
    ++tally.other_errors[std::string(error_kind_name(error->kind))];
    return true;
}

// A runtime for the object with maps filled from JSON files (map name -> file); null on error.
std::unique_ptr<vm::Runtime> runtime_with(const loader::Object& object,
                                          const std::map<std::string, fs::path>& fills) {
    auto runtime = tools::make_runtime(object, vm::RuntimeOptions{});
    if (!runtime) {
        ADD_FAILURE() << runtime.error().to_string();
        return nullptr;
    }
    for (const auto& [name, path] : fills) {
        auto map = (*runtime)->find_map(name);
        if (!map) {
            ADD_FAILURE() << "no map " << name;
            return nullptr;
        }
        std::ifstream in(path);
        const auto contents = nlohmann::ordered_json::parse(in, nullptr, false);
        if (auto filled = tools::map_from_json(**runtime, *map, object, contents); !filled) {
            ADD_FAILURE() << path << ": " << filled.error().to_string();
            return nullptr;
        }
    }
    return std::move(*runtime);
}

std::string describe_request(const vm::RunRequest& request) {
    const Bytes& bytes = request.packet.empty() ? request.context : request.packet;
    std::string hex = request.packet.empty() ? "context " : "packet ";
    static constexpr char digits[] = "0123456789abcdef";
    for (uint8_t b : bytes) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return hex;
}

// Calls `visit` for every program of every corpus object the loader loads, with bpfvm's verdict.
using ProgramVisitor = std::function<void(const CorpusEntry&, const Expectations&, const loader::Object&,
                                          size_t program_index, bool accepted)>;
void for_each_corpus_program(const ProgramVisitor& visit) {
    std::vector<std::string> objects;
    const std::vector<CorpusEntry> entries = corpus_entries();
    for (const CorpusEntry& entry : entries) objects.push_back(entry.object.string());
    const auto accepted = verdicts(objects);
    for (const CorpusEntry& entry : entries) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations expectations;
        ASSERT_EQ(parse_expectations(entry.source, expectations), "");
        auto object = loader::load_object(entry.object);
        if (!object) continue;  // objects the loader refuses on purpose (their tests say so)
        const auto file = accepted.find(entry.object.string());
        ASSERT_NE(file, accepted.end()) << "bpfvm verify did not report " << entry.object;
        for (size_t index = 0; index < object->programs.size(); ++index) {
            const auto verdict = file->second.find(object->programs[index].function);
            if (verdict != file->second.end()) visit(entry, expectations, *object, index, verdict->second);
        }
    }
}

TEST(Soundness, AcceptedCorpusProgramsNeverFaultOnGeneratedInputs) {
    std::mt19937_64 random(20261123);
    Tally tally;
    for_each_corpus_program([&](const CorpusEntry& entry, const Expectations& expectations,
                                const loader::Object& object, size_t index, bool accepted) {
        if (!accepted) return;
        const loader::Program& program = object.programs[index];
        const std::string who = entry.object.filename().string() + ":" + program.function;
        const Seeds seeds = seeds_for(entry, expectations, program.function, random);
        const std::vector<vm::RunRequest> requests = requests_for(program.type, seeds, random);
        ++tally.programs;
        // Two runtimes with the same maps see the same runs: one checks every access, the
        // other trusts the verdict (--trust-verified) and must give the same results.
        for (const auto& fills : seeds.map_fills) {
            auto checked = runtime_with(object, fills);
            auto trusted = runtime_with(object, fills);
            ASSERT_TRUE(checked && trusted) << who;
            vm::Interpreter checking;
            vm::Interpreter trusting(vm::MemoryChecks::Trusted);
            for (const vm::RunRequest& request : requests) {
                const auto id = static_cast<vm::ProgramId>(index);
                const auto outcome = checked->run(id, request, checking);
                if (!check_outcome(outcome, who, describe_request(request), tally)) continue;
                const auto trusted_outcome = trusted->run(id, request, trusting);
                ASSERT_TRUE(outcome && trusted_outcome);
                EXPECT_EQ(outcome->r0, trusted_outcome->r0)
                    << who << " trusted on " << describe_request(request);
                EXPECT_EQ(outcome->packet, trusted_outcome->packet) << who << " trusted";
                EXPECT_EQ(outcome->error.has_value(), trusted_outcome->error.has_value())
                    << who << " trusted";
            }
        }
    });
    std::printf("corpus: %s\n", tally.summary().c_str());
    EXPECT_GT(tally.programs, 40u);
}

// The inputs must be good enough to matter: corpus programs rejected for a missing bounds or
// null check fault on some of them in the checked interpreter. (Not every rejected program
// can: an index past one array element may land inside the next, and a NULL that only a full
// map would give never comes.)
TEST(Soundness, GeneratedInputsMakeRejectedProgramsFault) {
    std::mt19937_64 random(20261123);
    std::set<std::string> faulting;
    for_each_corpus_program([&](const CorpusEntry& entry, const Expectations& expectations,
                                const loader::Object& object, size_t index, bool accepted) {
        const loader::Program& program = object.programs[index];
        if (accepted || !expectations.reject_rule.count(program.function)) return;
        const Seeds seeds = seeds_for(entry, expectations, program.function, random);
        for (const auto& fills : seeds.map_fills) {
            auto runtime = runtime_with(object, fills);
            ASSERT_TRUE(runtime);
            vm::Interpreter checking;
            for (const vm::RunRequest& request : requests_for(program.type, seeds, random)) {
                const auto outcome = runtime->run(static_cast<vm::ProgramId>(index), request, checking);
                const std::optional<Error> error = outcome ? outcome->error : outcome.error();
                if (error && verifier_should_have_refused(error->kind)) faulting.insert(program.function);
            }
        }
    });
    std::string list;
    for (const std::string& function : faulting) list += " " + function;
    std::printf("rejected programs that fault:%s\n", list.c_str());
    for (const char* must : {"xdp_no_bounds_check", "xdp_no_null_check", "kprobe_read_file_direct",
                             "xdp_sample_rodata", "xdp_strip_eth_by_store", "xdp_align_packet_pointer"}) {
        EXPECT_TRUE(faulting.count(must)) << must << " never faulted on the generated inputs";
    }
}

// The conformance cases and the asm corpus: raw programs on memory of any length and content.
TEST(Soundness, AcceptedConformanceProgramsNeverFaultOnGeneratedMemory) {
    std::vector<std::string> files;
    for (const fs::path& folder : {fs::path(BPFVM_SHARED_DIR) / "conformance" / "tests",
                                   fs::path(BPFVM_SOURCE_DIR) / "corpus" / "asm"}) {
        if (!fs::is_directory(folder)) continue;
        for (const auto& file : fs::directory_iterator(folder)) {
            if (file.path().extension() == ".data") files.push_back(file.path().string());
        }
    }
    if (files.empty()) GTEST_SKIP() << "no conformance data at " << BPFVM_SHARED_DIR;
    std::sort(files.begin(), files.end());
    const auto accepted = verdicts(files);
    std::mt19937_64 random(20261123);
    Tally tally;
    for (const std::string& path : files) {
        const auto file = accepted.find(path);
        ASSERT_NE(file, accepted.end()) << "bpfvm verify did not report " << path;
        if (file->second.empty() || !file->second.begin()->second) continue;
        auto test_case = tools::read_conformance_case(path);
        ASSERT_TRUE(test_case) << test_case.error().to_string();
        auto bytes = tools::program_bytes(*test_case);
        ASSERT_TRUE(bytes) << bytes.error().to_string();
        ++tally.programs;
        std::vector<Bytes> memories = {test_case->memory, {}};
        for (size_t i = 0; i < rounds(); ++i) {
            Bytes mutated = test_case->memory;
            mutate(mutated, random);
            memories.push_back(std::move(mutated));
            memories.push_back(random_bytes(random() % (test_case->memory.size() + 16), random));
        }
        vm::Interpreter checking;
        vm::Interpreter trusting(vm::MemoryChecks::Trusted);
        for (const Bytes& memory : memories) {
            auto result = tools::decode_and_run(checking, *bytes, memory, vm::kDefaultInstructionBudget);
            ++tally.runs;
            if (result) {
                // The same run without access checks (--trust-verified) gives the same r0.
                auto trusted = tools::decode_and_run(trusting, *bytes, memory, vm::kDefaultInstructionBudget);
                ASSERT_TRUE(trusted) << path << ": " << trusted.error().to_string();
                EXPECT_EQ(result->r0, trusted->r0) << path;
                continue;
            }
            if (verifier_should_have_refused(result.error().kind)) {
                ADD_FAILURE() << path << " was accepted by the verifier but failed at run time on "
                              << memory.size() << " bytes of memory:\n"
                              << result.error().to_string();
            } else {
                ++tally.other_errors[std::string(error_kind_name(result.error().kind))];
            }
        }
    }
    std::printf("conformance: %s\n", tally.summary().c_str());
    EXPECT_GT(tally.programs, 100u);
}

}  // namespace
}  // namespace bpfvm::corpus_test
