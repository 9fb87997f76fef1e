// load_object over real clang-built objects: the corpus and the loader edge cases in
// corpus/loader (other runtimes' layouts, same-section subprograms, externs, map-in-map,
// string sections), byte-patched variants for unsupported features, and truncated or
// corrupted objects that must end in an error, never a crash (run under ASan+UBSan in CI).
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <set>

#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/loader/elf.hpp"
#include "bpfvm/loader/object.hpp"
#include "loader/elf_test_support.hpp"

namespace bpfvm::loader {
namespace {

using test::corpus_objects;
using test::read_bytes;

std::filesystem::path corpus(const std::string& name) {
    return std::filesystem::path(BPFVM_CORPUS_DIR) / name;
}
std::filesystem::path loader_case(const std::string& name) {
    return std::filesystem::path(BPFVM_CORPUS_DIR) / "loader" / (name + ".bpf.o");
}

const Program* find_program(const Object& object, const std::string& function) {
    for (const Program& p : object.programs) {
        if (p.function == function) return &p;
    }
    return nullptr;
}

const MapDefinition* find_map(const Object& object, const std::string& name) {
    for (const MapDefinition& m : object.maps) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

std::set<std::string> functions_in(const Program& program) {
    return {program.function_of.begin(), program.function_of.end()};
}

// The function a program's local calls go to, by instruction.
std::vector<std::string> call_targets(const Program& program) {
    std::vector<std::string> targets;
    for (const auto& insn : program.code.instructions) {
        if (const auto* call = std::get_if<isa::Call>(&insn); call && call->op == isa::Op::CallLocal) {
            targets.push_back(program.function_of.at(call->target));
        }
    }
    return targets;
}

TEST(LoadObject, StaticSubprogramInTheProgramSectionIsLinkedIntoEachProgram) {
    auto object = load_object(loader_case("same_section_subprog"));
    ASSERT_TRUE(object) << object.error().to_string();
    ASSERT_EQ(object->programs.size(), 2u);  // the static function is not a program
    for (const char* name : {"first_queue", "second_queue"}) {
        const Program* program = find_program(*object, name);
        ASSERT_NE(program, nullptr) << name;
        EXPECT_EQ(program->type, isa::ProgramType::Xdp);
        EXPECT_EQ(program->expected_attach_type, "xdp");
        EXPECT_EQ(functions_in(*program), (std::set<std::string>{name, "triple"}));
        EXPECT_EQ(call_targets(*program), std::vector<std::string>{"triple"});
        // The subprogram is appended after the program's own code.
        EXPECT_EQ(program->function_of.front(), name);
        EXPECT_EQ(program->function_of.back(), "triple");
    }
}

TEST(LoadObject, ObjectWithoutProgramSectionsMakesEachGlobalFunctionAProgram) {
    auto object = load_object(loader_case("text_only"));
    ASSERT_TRUE(object) << object.error().to_string();
    std::set<std::string> names;
    for (const Program& p : object->programs) {
        names.insert(p.function);
        EXPECT_EQ(p.type, isa::ProgramType::Bytes);
        EXPECT_EQ(p.section, ".text");
        EXPECT_EQ(call_targets(p), std::vector<std::string>{"mix"});
    }
    EXPECT_EQ(names, (std::set<std::string>{"checksum", "first_byte"}));

    LoadOptions options;
    options.type_override = isa::ProgramType::SocketFilter;
    auto typed = load_object(loader_case("text_only"), options);
    ASSERT_TRUE(typed) << typed.error().to_string();
    for (const Program& p : typed->programs) EXPECT_EQ(p.type, isa::ProgramType::SocketFilter);

    auto custom = load_object(loader_case("custom_section"));
    ASSERT_TRUE(custom) << custom.error().to_string();
    ASSERT_EQ(custom->programs.size(), 1u);
    EXPECT_EQ(custom->programs[0].section, "test");
    EXPECT_EQ(custom->programs[0].function, "entry");
    EXPECT_EQ(custom->programs[0].type, isa::ProgramType::Bytes);
}

TEST(LoadObject, UnknownProgramSectionIsAnErrorNamingItUnlessTheTypeIsGiven) {
    auto object = load_object(loader_case("unknown_section"));
    ASSERT_FALSE(object);
    EXPECT_EQ(object.error().kind, ErrorKind::Unsupported);
    EXPECT_EQ(object.error().where.section, "mystery");
    EXPECT_NE(object.error().message.find("'mystery'"), std::string::npos) << object.error().message;
    EXPECT_NE(object.error().message.find("--type"), std::string::npos) << object.error().message;

    LoadOptions options;
    options.type_override = isa::ProgramType::Xdp;
    auto typed = load_object(loader_case("unknown_section"), options);
    ASSERT_TRUE(typed) << typed.error().to_string();
    ASSERT_EQ(typed->programs.size(), 2u);
    EXPECT_EQ(find_program(*typed, "unknown")->type, isa::ProgramType::Xdp);
}

TEST(LoadObject, ExternVariablesAreUnsupportedByNameInTheProgramsThatUseThem) {
    auto object = load_object(loader_case("extern_kconfig"));
    ASSERT_TRUE(object) << object.error().to_string();
    const Program* program = find_program(*object, "version_gate");
    ASSERT_NE(program, nullptr);
    ASSERT_TRUE(program->load_error);
    EXPECT_EQ(program->load_error->kind, ErrorKind::Unsupported);
    EXPECT_EQ(program->load_error->where.section, "xdp");
    EXPECT_TRUE(program->load_error->where.instruction);
    EXPECT_NE(program->load_error->message.find("LINUX_KERNEL_VERSION"), std::string::npos)
        << program->load_error->message;
    EXPECT_TRUE(program->code.instructions.empty());
}

TEST(LoadObject, MapInMapKeepsItsInnerTemplateAndInitialSlots) {
    auto object = load_object(loader_case("map_in_map"));
    ASSERT_TRUE(object) << object.error().to_string();
    const MapDefinition* outer = find_map(*object, "outer");
    ASSERT_NE(outer, nullptr);
    EXPECT_EQ(outer->type, isa::MapType::ArrayOfMaps);
    EXPECT_EQ(outer->value_size, 4u);
    ASSERT_NE(outer->inner, nullptr);
    EXPECT_EQ(outer->inner->type, isa::MapType::Array);
    EXPECT_EQ(outer->inner->key_size, 4u);
    EXPECT_EQ(outer->inner->value_size, 8u);
    EXPECT_EQ(outer->inner->max_entries, 4u);
    ASSERT_EQ(outer->initial_values.size(), 2u);
    EXPECT_EQ(outer->initial_values[0].key, 0u);
    EXPECT_EQ(outer->initial_values[0].target, "inner_a");
    EXPECT_EQ(outer->initial_values[1].key, 1u);
    EXPECT_EQ(outer->initial_values[1].target, "inner_b");
    // The inner template is not a map of the object.
    EXPECT_EQ(object->maps.size(), 3u);
}

TEST(LoadObject, ProgArrayInitialSlotsNamePrograms) {
    auto object = load_object(corpus("tail_call.bpf.o"));
    ASSERT_TRUE(object) << object.error().to_string();
    const MapDefinition* table = find_map(*object, "jump_table");
    ASSERT_NE(table, nullptr);
    ASSERT_FALSE(table->initial_values.empty());
    for (const MapInitialValue& value : table->initial_values) {
        EXPECT_NE(find_program(*object, value.target), nullptr) << value.target;
        EXPECT_LT(value.key, table->max_entries);
    }
}

TEST(LoadObject, GlobalDataSectionsBecomeArraysWithTheirContents) {
    auto object = load_object(loader_case("strings_and_version"));
    ASSERT_TRUE(object) << object.error().to_string();
    EXPECT_EQ(object->license, "Dual BSD/GPL");
    ASSERT_TRUE(object->kernel_version);
    EXPECT_EQ(*object->kernel_version, 0x060100u);
    auto elf = ElfFile::read(loader_case("strings_and_version"));
    ASSERT_TRUE(elf);
    for (const char* name : {".rodata", ".rodata.str1.1"}) {
        const MapDefinition* map = find_map(*object, name);
        ASSERT_NE(map, nullptr) << name;
        EXPECT_EQ(map->origin, MapOrigin::GlobalData);
        EXPECT_TRUE(map->read_only);
        // BPF_F_RDONLY_PROG, and BPF_F_MMAPABLE where a non-static variable lives (threshold in
        // .rodata; the string literals are not variables), as libbpf.
        EXPECT_EQ(map->flags, std::string_view(name) == ".rodata" ? 0x480u : 0x80u) << name;
        EXPECT_EQ(map->key_size, 4u);
        EXPECT_EQ(map->max_entries, 1u);
        const ElfSection* section = elf->section(name);
        ASSERT_NE(section, nullptr);
        EXPECT_EQ(map->value_size, section->size);
        EXPECT_TRUE(std::equal(map->initial_data.begin(), map->initial_data.end(), section->data.begin(),
                               section->data.end()));
    }
    const std::string literal = "a string literal";
    const MapDefinition* strings = find_map(*object, ".rodata.str1.1");
    std::string contents(strings->initial_data.begin(), strings->initial_data.end());
    EXPECT_NE(contents.find(literal), std::string::npos);

    // The literal's lddw became a map-value reference with the literal's offset.
    const Program& program = object->programs.at(0);
    bool found = false;
    for (const auto& insn : program.code.instructions) {
        const auto* load = std::get_if<isa::LoadImm64>(&insn);
        if (!load || load->src_kind != isa::kPseudoMapIndexValue) continue;
        ASSERT_LT(static_cast<uint32_t>(load->imm_lo), object->maps.size());
        if (object->maps[load->imm_lo].name != ".rodata.str1.1") continue;
        EXPECT_EQ(contents.substr(load->imm_hi, literal.size()), literal);
        found = true;
    }
    EXPECT_TRUE(found);

    auto bss = load_object(corpus("global_data.bpf.o"));
    ASSERT_TRUE(bss) << bss.error().to_string();
    const MapDefinition* zeros = find_map(*bss, ".bss");
    ASSERT_NE(zeros, nullptr);
    EXPECT_EQ(zeros->flags, 0x400u);
    EXPECT_FALSE(zeros->read_only);
    EXPECT_TRUE(zeros->initial_data.empty());  // .bss starts zeroed, with no bytes in the file
    EXPECT_EQ(zeros->value_size, 16u);
}

TEST(LoadObject, LegacyMapsUseTheSectionSizeOverSymbols) {
    auto object = load_object(corpus("legacy_maps.bpf.o"));
    ASSERT_TRUE(object) << object.error().to_string();
    for (const MapDefinition& map : object->maps) EXPECT_EQ(map.origin, MapOrigin::Legacy) << map.name;
    const MapDefinition* flows = find_map(*object, "legacy_flows");
    ASSERT_NE(flows, nullptr);
    EXPECT_EQ(flows->type, isa::MapType::Hash);
}

TEST(LoadObject, EveryInstructionHasItsSourceLine) {
    auto object = load_object(corpus("loops.bpf.o"));
    ASSERT_TRUE(object) << object.error().to_string();
    const Program* program = find_program(*object, "loop_callback");
    ASSERT_NE(program, nullptr);
    ASSERT_TRUE(program->source.front());
    EXPECT_NE(program->source.front()->text.find("loop_callback"), std::string::npos)
        << program->source.front()->text;
    EXPECT_TRUE(program->source_file().ends_with("loops.bpf.c"));
    // Instructions of the appended callback carry the callback's own lines.
    bool callback_line = false;
    for (size_t i = 0; i < program->code.size(); ++i) {
        if (program->function_of[i] != "loop_callback" && program->source[i]) callback_line = true;
    }
    EXPECT_TRUE(callback_line);
}

// ---- Unsupported features in otherwise valid objects, made by patching real objects ----

// The file offsets of every relocation entry applying to the named section.
std::vector<size_t> relocation_entries(const std::vector<uint8_t>& bytes, const std::string& section) {
    auto elf = ElfFile::parse(bytes, "patched.o");
    EXPECT_TRUE(elf);
    std::vector<size_t> entries;
    const ElfSection* target = elf->section(section);
    if (!target) return entries;
    for (const ElfSection& s : elf->sections()) {
        if (s.type == SHT_REL && s.info == target->index) {
            for (size_t offset = 0; offset + sizeof(Elf64_Rel) <= s.size; offset += sizeof(Elf64_Rel)) {
                entries.push_back(s.offset + offset);
            }
        }
    }
    return entries;
}

TEST(LoadObject, UnknownRelocationTypeIsUnsupportedByNumber) {
    auto bytes = read_bytes(corpus("xdp_count.bpf.o"));
    auto entries = relocation_entries(bytes, "xdp");
    ASSERT_FALSE(entries.empty());
    bytes[entries[0] + 8] = 7;  // r_info's low byte: the type
    auto object = load_object(bytes, "patched.o");
    ASSERT_FALSE(object);
    EXPECT_EQ(object.error().kind, ErrorKind::Unsupported);
    EXPECT_NE(object.error().message.find("relocation type 7"), std::string::npos) << object.error().message;
}

TEST(LoadObject, RelocationOnAnInstructionThatCannotTakeOneFailsItsProgram) {
    auto bytes = read_bytes(corpus("xdp_count.bpf.o"));
    auto entries = relocation_entries(bytes, "xdp");
    ASSERT_FALSE(entries.empty());
    bytes[entries[0]] = 0;  // r_offset: the first instruction, a context load
    bytes[entries[0] + 1] = 0;
    auto object = load_object(bytes, "patched.o");
    ASSERT_TRUE(object) << object.error().to_string();
    ASSERT_EQ(object->programs.size(), 1u);
    const Program& program = object->programs[0];
    EXPECT_EQ(program.function, "xdp_count");
    ASSERT_TRUE(program.load_error);
    EXPECT_EQ(program.load_error->where.section, "xdp");
    EXPECT_EQ(program.load_error->where.instruction, 0u);
    EXPECT_NE(program.load_error->message.find("neither lddw nor a call"), std::string::npos)
        << program.load_error->to_string();
}

TEST(LoadObject, UnknownMapTypeIsUnsupportedByName) {
    auto bytes = read_bytes(corpus("legacy_maps.bpf.o"));
    auto elf = ElfFile::parse(bytes, "patched.o");
    ASSERT_TRUE(elf);
    const ElfSection* maps = elf->section("maps");
    ASSERT_NE(maps, nullptr);
    bytes[maps->offset] = 99;  // the first definition's type
    auto object = load_object(bytes, "patched.o");
    ASSERT_FALSE(object);
    EXPECT_EQ(object.error().kind, ErrorKind::Unsupported);
    EXPECT_NE(object.error().message.find("unsupported map type 99"), std::string::npos)
        << object.error().message;
}

// ---- Hostile input: every truncation and header corruption ends in an error or a load ----

std::vector<std::filesystem::path> robustness_objects() {
    return {corpus("loops.bpf.o"), corpus("tail_call.bpf.o"), loader_case("strings_and_version"),
            corpus("legacy_maps.bpf.o")};
}

TEST(LoadObjectRobustness, EveryTruncationEndsInAnError) {
    for (const auto& path : robustness_objects()) {
        SCOPED_TRACE(path.filename().string());
        auto bytes = read_bytes(path);
        ASSERT_FALSE(bytes.empty());
        ASSERT_TRUE(load_object(bytes, path.string())) << "the untouched object must load";
        for (size_t length = 0; length < bytes.size(); ++length) {
            auto object = load_object(std::span<const uint8_t>(bytes.data(), length), "truncated.o");
            // The section header table is at the end of clang's objects: any cut loses it.
            EXPECT_FALSE(object) << "truncated to " << length << " bytes, still loads";
            if (!object) {
                EXPECT_FALSE(object.error().message.empty());
            }
        }
    }
}

TEST(LoadObjectRobustness, CorruptedHeadersAndTablesNeverCrash) {
    for (const auto& path : robustness_objects()) {
        SCOPED_TRACE(path.filename().string());
        const auto original = read_bytes(path);
        auto elf = ElfFile::parse(original, path.string());
        ASSERT_TRUE(elf);
        // The ELF header, the section header table, and every relocation, symbol, BTF and
        // BTF.ext byte: where a flipped byte changes structure rather than code.
        std::vector<std::pair<size_t, size_t>> ranges{{0, sizeof(Elf64_Ehdr)}};
        Elf64_Ehdr header;
        std::memcpy(&header, original.data(), sizeof header);
        ranges.emplace_back(header.e_shoff, size_t{header.e_shnum} * sizeof(Elf64_Shdr));
        for (const ElfSection& s : elf->sections()) {
            bool structural = s.type == SHT_REL || s.type == SHT_SYMTAB || s.name == ".BTF" ||
                              s.name == ".BTF.ext" || s.name == "maps" || s.name == ".maps";
            if (structural && s.type != SHT_NOBITS)
                ranges.emplace_back(s.offset, std::min<size_t>(s.size, 4096));
        }
        size_t cases = 0, loaded = 0;
        for (auto [begin, length] : ranges) {
            for (size_t at = begin; at < begin + length && at < original.size(); ++at) {
                for (uint8_t change : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
                    auto bytes = original;
                    bytes[at] ^= change;
                    auto object = load_object(bytes, "corrupted.o");
                    ++cases;
                    if (object) {
                        ++loaded;
                    } else {
                        EXPECT_FALSE(object.error().message.empty());
                    }
                }
            }
        }
        EXPECT_GT(cases, 1000u);
        EXPECT_LT(loaded, cases);
    }
}

// Cutting the file anywhere loses the section table (clang writes it last), so this cuts each
// section instead: its header's size shrinks to every length, and the parsers of what it
// holds (BTF, BTF.ext, symbols, relocations, code, maps) see truncated data.
TEST(LoadObjectRobustness, EverySectionTruncationEndsInAnErrorOrALoad) {
    for (const auto& path : robustness_objects()) {
        SCOPED_TRACE(path.filename().string());
        const auto original = read_bytes(path);
        auto elf = ElfFile::parse(original, path.string());
        ASSERT_TRUE(elf);
        Elf64_Ehdr header;
        std::memcpy(&header, original.data(), sizeof header);
        size_t cases = 0;
        for (const ElfSection& section : elf->sections()) {
            if (section.size == 0 || section.type == SHT_NOBITS) continue;
            const size_t size_field =
                header.e_shoff + size_t{section.index} * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size);
            const uint64_t step = std::max<uint64_t>(1, section.size / 400);
            for (uint64_t cut = 0; cut < section.size; cut += step) {
                auto bytes = original;
                std::memcpy(bytes.data() + size_field, &cut, sizeof cut);
                auto object = load_object(bytes, "cut.o");
                ++cases;
                if (!object) {
                    EXPECT_FALSE(object.error().message.empty());
                }
            }
        }
        EXPECT_GT(cases, 500u);
    }
}

TEST(LoadObjectRobustness, RandomCorruptionNeverCrashes) {
    std::mt19937 random(20261123);
    for (const auto& path : robustness_objects()) {
        const auto original = read_bytes(path);
        for (int round = 0; round < 500; ++round) {
            auto bytes = original;
            int flips = 1 + static_cast<int>(random() % 8);
            for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
            auto object = load_object(bytes, "random.o");
            if (!object) {
                EXPECT_FALSE(object.error().message.empty());
            }
        }
    }
}

TEST(LoadObjectRobustness, AllCorpusObjectsLoad) {
    auto objects = corpus_objects();
    ASSERT_FALSE(objects.empty());
    for (const auto& path : objects) {
        auto object = load_object(path);
        EXPECT_TRUE(object) << path << ": " << object.error().to_string();
        if (!object) continue;
        for (const Program& program : object->programs) {
            EXPECT_FALSE(program.load_error)
                << path << ": " << program.function << ": " << program.load_error->to_string();
        }
    }
}

}  // namespace
}  // namespace bpfvm::loader
