// Checks the `// bpfvm-expect:` lines of every corpus program against the reference
// implementations: libbpf (what the object contains: programs, their types, maps) and the
// running kernel's verifier (which programs load). These are the oracles that bpfvm's own
// loader and verifier are later compared with, so the expectations must hold here first.
//
// Expectation lines (see corpus/c/*.bpf.c):
//   // bpfvm-expect: program SECTION FUNCTION TYPE
//   // bpfvm-expect: map NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES
//   // bpfvm-expect: verdict FUNCTION accept|reject [reason words...]
//   // bpfvm-expect: loadable yes|no [why]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Expectation parser
// ---------------------------------------------------------------------------------------------

using ProgramLine = std::tuple<std::string, std::string, std::string>;  // section, function, type
// name, type, key size, value size, max entries
using MapLine = std::tuple<std::string, std::string, unsigned, unsigned, unsigned>;

struct Expectations {
    std::set<ProgramLine> programs;
    std::set<MapLine> maps;
    std::map<std::string, bool> accept;  // function -> accept?
    std::optional<bool> loadable;
};

// Parses the expectation lines of one source file. Returns an error message on a malformed or
// unknown line (so a typo fails the test instead of being ignored).
std::string parse_expectations(const fs::path& source, Expectations& out) {
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
        } else if (key == "loadable") {
            if (w.size() < 2 || (w[1] != "yes" && w[1] != "no")) return where + "loadable needs yes|no [why]";
            if (out.loadable) return where + "duplicate loadable line";
            out.loadable = w[1] == "yes";
        } else {
            return where + "unknown expectation key '" + key + "'";
        }
    }
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

TEST(CorpusExpectations, ParserRejectsTyposAndMissingLines) {
    auto parse_text = [](const std::string& text) {
        fs::path p = fs::temp_directory_path() / "bpfvm_expect_parser_test.bpf.c";
        std::ofstream(p) << text;
        Expectations e;
        std::string err = parse_expectations(p, e);
        fs::remove(p);
        return err;
    };
    const std::string good =
        "// bpfvm-expect: program xdp f xdp\n"
        "// bpfvm-expect: map m array 4 8 1\n"
        "// bpfvm-expect: verdict f accept\n"
        "// bpfvm-expect: loadable yes\n";
    EXPECT_EQ(parse_text(good), "");
    EXPECT_NE(parse_text(good + "// bpfvm-expect: progam xdp g xdp\n"), "");
    EXPECT_NE(parse_text(good + "// bpfvm-expect: map m2 array 4 eight 1\n"), "");
    EXPECT_NE(parse_text(good + "// bpfvm-expect: verdict f maybe\n"), "");
    EXPECT_NE(parse_text("// bpfvm-expect: program xdp f xdp\n// bpfvm-expect: loadable yes\n"), "");
    EXPECT_NE(parse_text("// bpfvm-expect: program xdp f xdp\n// bpfvm-expect: verdict f accept\n"), "");
}

// ---------------------------------------------------------------------------------------------
// The corpus on disk
// ---------------------------------------------------------------------------------------------

struct CorpusEntry {
    fs::path source;
    fs::path object;
};

std::vector<CorpusEntry> corpus_entries() {
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

TEST(CorpusLibbpf, EveryCorpusSourceHasAnObject) {
    auto entries = corpus_entries();
    ASSERT_FALSE(entries.empty());
    size_t objects = 0;
    for (const auto& f : fs::directory_iterator(BPFVM_CORPUS_DIR))
        if (f.path().filename().string().size() > 6 &&
            f.path().string().substr(f.path().string().size() - 6) == ".bpf.o")
            ++objects;
    EXPECT_EQ(objects, entries.size()) << "objects in " << BPFVM_CORPUS_DIR;
    for (const auto& e : entries) EXPECT_TRUE(fs::exists(e.object)) << e.object;
}

TEST(CorpusLibbpf, ExpectationsParse) {
    for (const auto& e : corpus_entries()) {
        Expectations ex;
        EXPECT_EQ(parse_expectations(e.source, ex), "") << e.source;
    }
}

// ---------------------------------------------------------------------------------------------
// libbpf plumbing
// ---------------------------------------------------------------------------------------------

// libbpf's messages are collected here and shown only when a check fails.
std::string libbpf_messages;

int collect_libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
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

ObjectPtr open_object(const fs::path& object) {
    libbpf_set_print(collect_libbpf_print);
    bpf_object* obj = bpf_object__open_file(object.c_str(), nullptr);
    if (libbpf_get_error(obj)) return nullptr;
    return ObjectPtr(obj);
}

// libbpf names global-data maps "<object name prefix>.bss"; the expectations use the ELF
// section name (".bss", ".rodata.str1.1"), so drop everything before the first '.'.
std::string normalise_map_name(const std::string& name) {
    auto dot = name.find('.');
    return dot == std::string::npos ? name : name.substr(dot);
}

// ---------------------------------------------------------------------------------------------
// A minimal ELF reader, used only for objects libbpf 1.x refuses to open (legacy SEC("maps")
// definitions): lists programs and legacy maps the way older libbpf versions did.
// ---------------------------------------------------------------------------------------------

struct RawObject {
    std::set<ProgramLine> programs;
    std::set<MapLine> maps;
};

std::optional<RawObject> read_elf_directly(const fs::path& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        error = "too small for an ELF header";
        return std::nullopt;
    }
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shoff + uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > bytes.size()) {
        error = "not a well-formed ELF64 file";
        return std::nullopt;
    }
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    std::memcpy(sh.data(), bytes.data() + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
    auto in_file = [&](const Elf64_Shdr& s) {
        return s.sh_type == SHT_NOBITS || s.sh_offset + s.sh_size <= bytes.size();
    };
    for (const auto& s : sh)
        if (!in_file(s)) {
            error = "section outside the file";
            return std::nullopt;
        }
    auto str = [&](const Elf64_Shdr& strtab, uint32_t off) -> std::string {
        if (off >= strtab.sh_size) return {};
        const char* p = bytes.data() + strtab.sh_offset + off;
        return std::string(p, strnlen(p, strtab.sh_size - off));
    };
    const Elf64_Shdr& shstr = sh.at(eh.e_shstrndx);
    RawObject raw;
    for (const auto& symtab : sh) {
        if (symtab.sh_type != SHT_SYMTAB) continue;
        const Elf64_Shdr& strtab = sh.at(symtab.sh_link);
        for (size_t i = 0; i < symtab.sh_size / sizeof(Elf64_Sym); ++i) {
            Elf64_Sym sym;
            std::memcpy(&sym, bytes.data() + symtab.sh_offset + i * sizeof sym, sizeof sym);
            if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= sh.size()) continue;
            const Elf64_Shdr& sec = sh[sym.st_shndx];
            const std::string sec_name = str(shstr, sec.sh_name);
            const std::string name = str(strtab, sym.st_name);
            if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC && ELF64_ST_BIND(sym.st_info) == STB_GLOBAL &&
                (sec.sh_flags & SHF_EXECINSTR) && sec_name != ".text") {
                bpf_prog_type type{};
                bpf_attach_type attach{};
                const char* type_name = "unknown";
                if (libbpf_prog_type_by_name(sec_name.c_str(), &type, &attach) == 0)
                    type_name = libbpf_bpf_prog_type_str(type);
                raw.programs.emplace(sec_name, name, type_name ? type_name : "unknown");
            } else if (sec_name == "maps" && ELF64_ST_TYPE(sym.st_info) == STT_OBJECT) {
                uint32_t def[5] = {};
                if (sym.st_value + sizeof def > sec.sh_size) {
                    error = "legacy map definition outside its section";
                    return std::nullopt;
                }
                std::memcpy(def, bytes.data() + sec.sh_offset + sym.st_value, sizeof def);
                const char* t = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(def[0]));
                raw.maps.emplace(name, t ? t : "unknown", def[1], def[2], def[3]);
            }
        }
    }
    return raw;
}

// ---------------------------------------------------------------------------------------------
// Object contents against libbpf
// ---------------------------------------------------------------------------------------------

std::string describe(const std::set<ProgramLine>& s) {
    std::string out;
    for (const auto& [sec, fn, type] : s) out += "  program " + sec + " " + fn + " " + type + "\n";
    return out;
}
std::string describe(const std::set<MapLine>& s) {
    std::string out;
    for (const auto& [name, type, k, v, m] : s)
        out += "  map " + name + " " + type + " " + std::to_string(k) + " " + std::to_string(v) + " " +
               std::to_string(m) + "\n";
    return out;
}

TEST(CorpusLibbpf, ProgramsAndMapsMatchLibbpf) {
    for (const auto& entry : corpus_entries()) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations ex;
        ASSERT_EQ(parse_expectations(entry.source, ex), "");

        libbpf_messages.clear();
        ObjectPtr obj = open_object(entry.object);
        std::set<ProgramLine> programs;
        std::set<MapLine> maps;
        if (!obj) {
            // libbpf 1.x refuses some objects at open time (legacy "maps" section). That is only
            // acceptable for objects marked not loadable; read those with the ELF reader instead.
            ASSERT_FALSE(*ex.loadable) << "libbpf cannot open " << entry.object << ":\n" << libbpf_messages;
            std::string error;
            auto raw = read_elf_directly(entry.object, error);
            ASSERT_TRUE(raw) << error;
            programs = raw->programs;
            maps = raw->maps;
        } else {
            bpf_program* prog;
            bpf_object__for_each_program(prog, obj.get()) {
                const char* type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
                programs.emplace(bpf_program__section_name(prog), bpf_program__name(prog),
                                 type ? type : "unknown");
            }
            bpf_map* map;
            bpf_object__for_each_map(map, obj.get()) {
                const char* type = libbpf_bpf_map_type_str(bpf_map__type(map));
                maps.emplace(normalise_map_name(bpf_map__name(map)), type ? type : "unknown",
                             bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map));
            }
        }
        EXPECT_EQ(programs, ex.programs) << "libbpf sees:\n"
                                         << describe(programs) << "expected:\n"
                                         << describe(ex.programs);
        EXPECT_EQ(maps, ex.maps) << "libbpf sees:\n" << describe(maps) << "expected:\n" << describe(ex.maps);
    }
}

// ---------------------------------------------------------------------------------------------
// Verdicts against the kernel verifier
// ---------------------------------------------------------------------------------------------

// Loads a trivial socket filter ("r0 = 0; exit") to find out whether bpf() is usable here.
// Returns an empty string if it is, otherwise why not.
std::string probe_bpf_syscall() {
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfvm_probe", "GPL", insns, 2, nullptr);
    if (fd >= 0) {
        close(fd);
        return {};
    }
    return std::string("bpf(BPF_PROG_LOAD) of a trivial program failed: ") + std::strerror(errno) +
           " (needs root or CAP_BPF on Linux; skipping the kernel verifier oracle)";
}

struct LoadResult {
    int error = 0;       // 0 on success, negative errno otherwise
    std::string log;     // the kernel verifier log of the program of interest
    std::string libbpf;  // libbpf's own messages
};

// Opens `object` again and loads it with only `only` autoloaded (or every program when `only`
// is empty), collecting the verifier log of `only`.
LoadResult load_object(const fs::path& object, const std::string& only) {
    LoadResult result;
    libbpf_messages.clear();
    ObjectPtr obj = open_object(object);
    if (!obj) {
        result.error = -EINVAL;
        result.libbpf = libbpf_messages;
        return result;
    }
    std::vector<char> log(16 << 20);
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj.get()) {
        const bool wanted = only.empty() || only == bpf_program__name(prog);
        bpf_program__set_autoload(prog, wanted);
        if (wanted && !only.empty()) {
            bpf_program__set_log_buf(prog, log.data(), log.size());
            bpf_program__set_log_level(prog, 1);
        }
    }
    result.error = bpf_object__load(obj.get());
    if (result.error == -ENOSPC) {
        // A log too large for the buffer makes the load fail on its own: retry without a log.
        obj = open_object(object);
        bpf_object__for_each_program(prog, obj.get()) {
            bpf_program__set_autoload(prog, only.empty() || only == bpf_program__name(prog));
        }
        result.error = bpf_object__load(obj.get());
    }
    result.log.assign(log.data(), strnlen(log.data(), log.size()));
    result.libbpf = libbpf_messages;
    return result;
}

// The end of a verifier log is where the reason for a rejection is.
std::string tail(const std::string& s, size_t n = 3000) {
    return s.size() <= n ? s : "...\n" + s.substr(s.size() - n);
}

TEST(CorpusKernel, VerdictsMatchKernelVerifier) {
    if (std::string why = probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    for (const auto& entry : corpus_entries()) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations ex;
        ASSERT_EQ(parse_expectations(entry.source, ex), "");
        if (!*ex.loadable) {
            // Not loadable with libbpf 1.x: the whole object must fail to open or load.
            LoadResult r = load_object(entry.object, "");
            EXPECT_NE(r.error, 0) << "object marked 'loadable no' loaded fine";
            continue;
        }
        const bool has_prog_array = std::any_of(
            ex.maps.begin(), ex.maps.end(), [](const MapLine& m) { return std::get<1>(m) == "prog_array"; });
        if (has_prog_array) {
            // Tail-call objects: the prog_array is filled with the other programs at load time, so
            // the object is loaded whole, and every program in it must be accepted.
            for (const auto& [fn, accept] : ex.accept)
                EXPECT_TRUE(accept) << fn << ": reject verdicts do not belong in a tail-call object";
            LoadResult r = load_object(entry.object, "");
            EXPECT_EQ(r.error, 0) << "whole object failed to load: " << std::strerror(-r.error) << "\n"
                                  << tail(r.libbpf);
            continue;
        }
        for (const auto& [fn, accept] : ex.accept) {
            SCOPED_TRACE(fn);
            LoadResult r = load_object(entry.object, fn);
            if (accept) {
                EXPECT_EQ(r.error, 0) << fn << " expected to load but the kernel rejected it ("
                                      << std::strerror(-r.error) << "). Verifier log:\n"
                                      << tail(r.log) << "\nlibbpf:\n"
                                      << tail(r.libbpf);
            } else {
                EXPECT_NE(r.error, 0) << fn << " expected to be rejected but the kernel accepted it. "
                                      << "Verifier log:\n"
                                      << tail(r.log);
                // BPFVM_SHOW_VERIFIER_LOG=1 prints why each reject program was rejected.
                if (r.error != 0 && std::getenv("BPFVM_SHOW_VERIFIER_LOG"))
                    std::printf("%s rejected as expected:\n%s\n", fn.c_str(), tail(r.log, 600).c_str());
            }
        }
    }
}

}  // namespace
