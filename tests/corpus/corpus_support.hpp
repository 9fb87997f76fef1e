// What the corpus tests share: the `// bpfvm-expect:` parser, the list of corpus objects, and
// libbpf (the reference loader, used by tests only) with the probe for a usable bpf() syscall.
//
// Expectation lines (see corpus/c/*.bpf.c):
//   // bpfvm-expect: program SECTION FUNCTION TYPE
//   // bpfvm-expect: map NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES
//   // bpfvm-expect: verdict FUNCTION accept|reject [RULE-ID reason words...]   (the kernel's, as root)
//   // bpfvm-expect: bpfvm-verdict FUNCTION accept|reject [RULE-ID] reason words...
//      (where bpfvm's default unprivileged rules deliberately differ from the kernel's; why is required)
//   // bpfvm-expect: loadable yes|no [why]
//   // bpfvm-expect: run LABEL FUNCTION [bpfvm run options...]
//   // bpfvm-expect: result LABEL {JSON that `bpfvm run --json` output must contain}
// Paths in run options (--map NAME=FILE, --ctx FILE, --pcap FILE) are relative to the source.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bpf_syscall_probe.hpp"

namespace bpfvm::corpus_test {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Expectation parser
// ---------------------------------------------------------------------------------------------

using ProgramLine = std::tuple<std::string, std::string, std::string>;  // section, function, type
// name, type, key size, value size, max entries
using MapLine = std::tuple<std::string, std::string, unsigned, unsigned, unsigned>;

struct RunLine {
    std::string function;
    std::vector<std::string> options;
    std::string result;  // JSON text
    int line = 0;
};

struct Expectations {
    std::set<ProgramLine> programs;
    std::set<MapLine> maps;
    std::map<std::string, bool> accept;              // function -> accept? (the kernel's verdict)
    std::map<std::string, std::string> reject_rule;  // function -> verifier rule id of a rejection
    // Where bpfvm's verdict differs from the kernel's on purpose: function -> (accept?, rule id).
    std::map<std::string, std::pair<bool, std::string>> bpfvm_verdict;
    std::optional<bool> loadable;
    std::map<std::string, RunLine> runs;  // by label
};

// Parses the expectation lines of one source file. Returns an error message on a malformed or
// unknown line (so a typo fails the test instead of being ignored).
inline std::string parse_expectations(const fs::path& source, Expectations& out) {
    std::ifstream in(source);
    if (!in) return "cannot read " + source.string();
    static const std::string marker = "// bpfvm-expect:";
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.rfind(marker, 0) != 0) continue;
        std::istringstream words(line.substr(marker.size()));
        std::vector<std::string> w;
        for (std::string s; words >> s;) w.push_back(s);
        const std::string where = source.filename().string() + ":" + std::to_string(lineno) + ": ";
        if (w.empty()) return where + "empty expectation";
        auto number = [&](const std::string& s, unsigned& value) {
            try {
                size_t used = 0;
                unsigned long v = std::stoul(s, &used, 0);
                value = static_cast<unsigned>(v);
                return used == s.size();
            } catch (...) {
                return false;
            }
        };
        const std::string& key = w[0];
        if (key == "program") {
            if (w.size() != 4) return where + "program needs SECTION FUNCTION TYPE";
            if (!out.programs.emplace(w[1], w[2], w[3]).second) return where + "duplicate program line";
        } else if (key == "map") {
            unsigned k = 0, v = 0, m = 0;
            if (w.size() != 6 || !number(w[3], k) || !number(w[4], v) || !number(w[5], m))
                return where + "map needs NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES";
            if (!out.maps.emplace(w[1], w[2], k, v, m).second) return where + "duplicate map line";
        } else if (key == "verdict") {
            if (w.size() < 3 || (w[2] != "accept" && w[2] != "reject"))
                return where + "verdict needs FUNCTION accept|reject [reason]";
            if (!out.accept.emplace(w[1], w[2] == "accept").second)
                return where + "duplicate verdict for " + w[1];
            if (w[2] == "reject") {
                if (w.size() < 4) return where + "a reject verdict needs the verifier rule id";
                out.reject_rule[w[1]] = w[3];
            }
        } else if (key == "bpfvm-verdict") {
            if (w.size() < 4 || (w[2] != "accept" && w[2] != "reject"))
                return where + "bpfvm-verdict needs FUNCTION accept|reject [RULE-ID] reason";
            if (w[2] == "reject" && w.size() < 5)
                return where + "bpfvm-verdict reject needs RULE-ID and a reason";
            if (!out.bpfvm_verdict
                     .emplace(w[1], std::make_pair(w[2] == "accept", w[2] == "reject" ? w[3] : ""))
                     .second)
                return where + "duplicate bpfvm-verdict for " + w[1];
        } else if (key == "loadable") {
            if (w.size() < 2 || (w[1] != "yes" && w[1] != "no")) return where + "loadable needs yes|no [why]";
            if (out.loadable) return where + "duplicate loadable line";
            out.loadable = w[1] == "yes";
        } else if (key == "run") {
            if (w.size() < 3) return where + "run needs LABEL FUNCTION [options]";
            RunLine& run = out.runs[w[1]];
            if (!run.function.empty()) return where + "duplicate run label " + w[1];
            run.function = w[2];
            run.options.assign(w.begin() + 3, w.end());
            run.line = lineno;
        } else if (key == "result") {
            if (w.size() < 3) return where + "result needs LABEL JSON";
            auto it = out.runs.find(w[1]);
            if (it == out.runs.end()) return where + "result for unknown run label " + w[1];
            const auto json_start = line.find('{');
            if (json_start == std::string::npos) return where + "result needs a JSON object";
            it->second.result = line.substr(json_start);
        } else {
            return where + "unknown expectation key '" + key + "'";
        }
    }
    for (const auto& [label, run] : out.runs)
        if (run.result.empty()) return source.filename().string() + ": run " + label + " has no result line";
    if (!out.loadable) return source.filename().string() + ": missing 'loadable' line";
    if (out.programs.empty()) return source.filename().string() + ": no 'program' lines";
    std::set<std::string> functions;
    for (const auto& p : out.programs) functions.insert(std::get<1>(p));
    for (const auto& f : functions)
        if (!out.accept.count(f)) return source.filename().string() + ": no verdict for program " + f;
    for (const auto& [f, ok] : out.accept)
        if (!functions.count(f)) return source.filename().string() + ": verdict for unknown program " + f;
    return {};
}

// ---------------------------------------------------------------------------------------------
// The corpus on disk
// ---------------------------------------------------------------------------------------------

struct CorpusEntry {
    fs::path source;
    fs::path object;
};

inline std::vector<CorpusEntry> corpus_entries() {
    std::vector<CorpusEntry> entries;
    const fs::path root = fs::path(BPFVM_SOURCE_DIR) / "corpus" / "c";
    for (const fs::path& dir : {root, root / "v4"}) {
        if (!fs::is_directory(dir)) continue;
        for (const auto& f : fs::directory_iterator(dir)) {
            const std::string name = f.path().filename().string();
            const std::string suffix = ".bpf.c";
            if (!f.is_regular_file() || name.size() <= suffix.size() ||
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            const std::string stem = name.substr(0, name.size() - suffix.size());
            entries.push_back({f.path(), fs::path(BPFVM_CORPUS_DIR) / (stem + ".bpf.o")});
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const CorpusEntry& a, const CorpusEntry& b) { return a.source < b.source; });
    return entries;
}

// ---------------------------------------------------------------------------------------------
// libbpf plumbing
// ---------------------------------------------------------------------------------------------

// libbpf's messages are collected here and shown only when a check fails.
inline std::string libbpf_messages;

inline int collect_libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    char buffer[4096];
    int n = vsnprintf(buffer, sizeof buffer, format, args);
    libbpf_messages += buffer;
    return n;
}

struct ObjectCloser {
    void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

inline ObjectPtr open_object(const fs::path& object) {
    libbpf_set_print(collect_libbpf_print);
    bpf_object* obj = bpf_object__open_file(object.c_str(), nullptr);
    if (libbpf_get_error(obj)) return nullptr;
    return ObjectPtr(obj);
}

// libbpf names global-data maps "<object name prefix>.bss"; the expectations use the ELF
// section name (".bss", ".rodata.str1.1"), so drop everything before the first '.'.
inline std::string normalise_map_name(const std::string& name) {
    auto dot = name.find('.');
    return dot == std::string::npos ? name : name.substr(dot);
}

// Whether bpf() is usable here (an empty string) or why not.
using test_support::probe_bpf_syscall;

inline std::string describe(const std::set<ProgramLine>& s) {
    std::string out;
    for (const auto& [sec, fn, type] : s) out += "  program " + sec + " " + fn + " " + type + "\n";
    return out;
}
inline std::string describe(const std::set<MapLine>& s) {
    std::string out;
    for (const auto& [name, type, k, v, m] : s)
        out += "  map " + name + " " + type + " " + std::to_string(k) + " " + std::to_string(v) + " " +
               std::to_string(m) + "\n";
    return out;
}

// ---------------------------------------------------------------------------------------------
// The bpfvm CLI, as users run it
// ---------------------------------------------------------------------------------------------

inline std::string shell_quote(const std::string& word) {
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

struct CommandOutput {
    int status = -1;
    std::string out;
};

inline CommandOutput run_cli(const std::vector<std::string>& args) {
    // A cross build's CLI runs under the emulator (qemu-user) that runs the tests: its words.
    std::string command = BPFVM_CLI_EMULATOR;
    if (!command.empty()) command += " ";
    command += shell_quote(BPFVM_CLI);
    for (const auto& a : args) command += " " + shell_quote(a);
    command += " 2>&1";
    CommandOutput result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> buffer{};
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace bpfvm::corpus_test
