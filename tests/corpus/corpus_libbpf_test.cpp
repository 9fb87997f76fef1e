// Checks the `// bpfvm-expect:` lines of every corpus program against the reference
// implementations: libbpf (what the object contains: programs, their types, maps) and the
// running kernel's verifier (which programs load). These are the oracles that bpfvm's own
// loader and verifier are compared with, so the expectations must hold here first.
#include <gtest/gtest.h>

#include <cstdlib>

#include "corpus/corpus_support.hpp"

namespace bpfvm::corpus_test {
namespace {

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
// Object contents against libbpf
// ---------------------------------------------------------------------------------------------

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
            // acceptable for objects marked not loadable; bpfvm's loader test covers those.
            ASSERT_FALSE(*ex.loadable) << "libbpf cannot open " << entry.object << ":\n" << libbpf_messages;
            continue;
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

struct LoadResult {
    int error = 0;       // 0 on success, negative errno otherwise
    std::string log;     // the kernel verifier log of the program of interest
    std::string libbpf;  // libbpf's own messages
};

// Opens `object` again and loads it with only `only` autoloaded (or every program when `only`
// is empty), collecting the verifier log of `only`.
LoadResult load_with_kernel(const fs::path& object, const std::string& only) {
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
            LoadResult r = load_with_kernel(entry.object, "");
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
            LoadResult r = load_with_kernel(entry.object, "");
            EXPECT_EQ(r.error, 0) << "whole object failed to load: " << std::strerror(-r.error) << "\n"
                                  << tail(r.libbpf);
            continue;
        }
        for (const auto& [fn, accept] : ex.accept) {
            SCOPED_TRACE(fn);
            LoadResult r = load_with_kernel(entry.object, fn);
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
}  // namespace bpfvm::corpus_test
