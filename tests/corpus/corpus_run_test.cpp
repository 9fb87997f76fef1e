// Runs every `// bpfvm-expect: run` line of the corpus through the bpfvm CLI (`bpfvm run OBJ
// --function F OPTIONS --json`) and checks that the JSON it prints contains the `result` line's
// JSON: objects by key, arrays element by element in any order, scalars equal. Each line runs on
// every engine (the interpreter, the JIT, the JIT with blinded constants), whose outputs must be
// the same apart from what only says which engine ran.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bpfvm/jit/jit.hpp"
#include "corpus/corpus_support.hpp"

namespace bpfvm::corpus_test {
namespace {

using json = nlohmann::ordered_json;

// Where `actual` fails to contain `expected`, as a path and reason; empty when it does.
std::string containment_problem(const json& expected, const json& actual, const std::string& path) {
    if (expected.is_object()) {
        if (!actual.is_object()) return path + ": expected an object, got " + actual.dump();
        for (const auto& [key, value] : expected.items()) {
            if (!actual.contains(key)) return path + "/" + key + ": missing";
            std::string inner = containment_problem(value, actual[key], path + "/" + key);
            if (!inner.empty()) return inner;
        }
        return {};
    }
    if (expected.is_array()) {
        if (!actual.is_array()) return path + ": expected an array, got " + actual.dump();
        std::vector<bool> used(actual.size(), false);
        for (const json& want : expected) {
            bool found = false;
            for (size_t i = 0; i < actual.size() && !found; ++i) {
                if (!used[i] && containment_problem(want, actual[i], path).empty()) found = used[i] = true;
            }
            if (!found) return path + ": no element matches " + want.dump() + " in " + actual.dump();
        }
        return {};
    }
    if (expected.is_number() && actual.is_number()) {
        // 64-bit values may come back signed or unsigned.
        if (expected.is_number_float() || actual.is_number_float()) {
            return expected.get<double>() == actual.get<double>() ? "" : path + ": " + actual.dump();
        }
        return expected.get<int64_t>() == actual.get<int64_t>()
                   ? ""
                   : path + ": expected " + expected.dump() + ", got " + actual.dump();
    }
    return expected == actual ? "" : path + ": expected " + expected.dump() + ", got " + actual.dump();
}

// Makes a path in a run option relative to the source file's folder.
std::string resolve(const fs::path& folder, const std::string& option) {
    const auto equals = option.find('=');
    if (equals != std::string::npos) {
        return option.substr(0, equals + 1) + (folder / option.substr(equals + 1)).string();
    }
    return (folder / option).string();
}

// The engines this host has, as `bpfvm run` options.
std::vector<std::vector<std::string>> engines() {
    std::vector<std::vector<std::string>> out = {{"--engine", "interpreter"}};
    if (jit::host_supported()) {
        out.push_back({"--engine", "jit"});
        out.push_back({"--engine", "jit", "--blind-constants"});
    }
    return out;
}

// A run's JSON without the parts that legitimately differ between engines: the engine's name,
// what it counted, and error messages (which may name stack addresses).
json engine_neutral(json doc) {
    doc.erase("engine");
    doc.erase("instructions");
    doc.erase("back_edges_and_calls");
    if (doc.contains("error") && doc["error"].is_object()) doc["error"].erase("message");
    return doc;
}

TEST(CorpusRun, ContainmentFindsDifferences) {
    const json actual = json::parse(R"({"r0": 2, "maps": {"m": {"entries": [{"key": 1, "value": 5}]}}})");
    EXPECT_EQ(containment_problem(json::parse(R"({"r0": 2})"), actual, ""), "");
    EXPECT_NE(containment_problem(json::parse(R"({"r0": 3})"), actual, ""), "");
    EXPECT_NE(containment_problem(json::parse(R"({"verdict": null})"), actual, ""), "");
    EXPECT_EQ(containment_problem(json::parse(R"({"maps": {"m": {"entries": [{"value": 5}]}}})"), actual, ""),
              "");
    EXPECT_NE(containment_problem(json::parse(R"({"maps": {"m": {"entries": [{"value": 6}]}}})"), actual, ""),
              "");
}

TEST(CorpusRun, EveryRunLineGivesItsResult) {
    size_t runs = 0;
    for (const CorpusEntry& entry : corpus_entries()) {
        Expectations expectations;
        const std::string parse_error = parse_expectations(entry.source, expectations);
        ASSERT_TRUE(parse_error.empty()) << parse_error;
        // Every program the verifier should accept runs at least once.
        std::set<std::string> run_functions;
        for (const auto& [label, run] : expectations.runs) run_functions.insert(run.function);
        for (const auto& [function, accepted] : expectations.accept) {
            EXPECT_TRUE(!accepted || run_functions.count(function))
                << entry.source.filename().string() << ": no run line for program " << function;
        }
        for (const auto& [label, run] : expectations.runs) {
            SCOPED_TRACE(entry.source.filename().string() + ":" + std::to_string(run.line) + " run " + label);
            std::vector<std::string> args = {"run", entry.object.string(), "--function", run.function,
                                             "--json"};
            for (size_t i = 0; i < run.options.size(); ++i) {
                const std::string& option = run.options[i];
                args.push_back(option);
                const bool takes_path = option == "--map" || option == "--ctx" || option == "--pcap";
                if (takes_path && i + 1 < run.options.size())
                    args.push_back(resolve(entry.source.parent_path(), run.options[++i]));
            }
            std::optional<json> first;
            for (const std::vector<std::string>& engine : engines()) {
                std::vector<std::string> engine_args = args;
                engine_args.insert(engine_args.end(), engine.begin(), engine.end());
                SCOPED_TRACE(engine.size() > 2 ? "jit, blinded" : engine[1]);
                const CommandOutput output = run_cli(engine_args);
                json actual;
                try {
                    actual = json::parse(output.out);
                } catch (const json::exception& e) {
                    ADD_FAILURE() << "bpfvm printed no JSON (exit " << output.status << "):\n" << output.out;
                    continue;
                }
                const json expected = json::parse(run.result);
                const std::string problem = containment_problem(expected, actual, "");
                EXPECT_TRUE(problem.empty()) << problem << "\nfull output:\n" << actual.dump(2);
                if (!first) {
                    first = engine_neutral(actual);
                } else {
                    EXPECT_EQ(engine_neutral(actual).dump(2), first->dump(2))
                        << "differs from the interpreter";
                }
                ++runs;
            }
        }
    }
    EXPECT_GT(runs, 0u) << "the corpus has no run expectations";
}

}  // namespace
}  // namespace bpfvm::corpus_test
