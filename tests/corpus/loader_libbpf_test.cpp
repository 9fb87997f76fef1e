// bpfvm's loader over the whole corpus, against the corpus expectations and against libbpf:
// the same programs and maps (in libbpf's order, with its flags), and, where the kernel lets us
// load, the same linked instructions libbpf handed to the kernel (subprograms appended in the
// same order, calls and map references relocated to the same targets).
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "bpfvm/isa/instruction.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/object.hpp"
#include "corpus/corpus_support.hpp"

namespace bpfvm::corpus_test {
namespace {

std::set<ProgramLine> programs_of(const loader::Object& object) {
    std::set<ProgramLine> programs;
    for (const loader::Program& p : object.programs) {
        programs.emplace(p.section, p.function, std::string(isa::program_type_name(p.type)));
    }
    return programs;
}

std::set<MapLine> maps_of(const loader::Object& object) {
    std::set<MapLine> maps;
    for (const loader::MapDefinition& m : object.maps) {
        maps.emplace(m.name, std::string(isa::map_type_name(m.type)), m.key_size, m.value_size,
                     m.max_entries);
    }
    return maps;
}

TEST(LoaderCorpus, EveryObjectLoadsWithTheExpectedProgramsAndMaps) {
    auto entries = corpus_entries();
    ASSERT_FALSE(entries.empty());
    for (const auto& entry : entries) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations ex;
        ASSERT_EQ(parse_expectations(entry.source, ex), "");
        auto object = loader::load_object(entry.object);
        ASSERT_TRUE(object) << object.error().to_string();
        EXPECT_EQ(programs_of(*object), ex.programs) << "bpfvm sees:\n"
                                                     << describe(programs_of(*object)) << "expected:\n"
                                                     << describe(ex.programs);
        EXPECT_EQ(maps_of(*object), ex.maps) << "bpfvm sees:\n"
                                             << describe(maps_of(*object)) << "expected:\n"
                                             << describe(ex.maps);
        for (const loader::Program& program : object->programs) {
            ASSERT_EQ(program.function_of.size(), program.code.size());
            ASSERT_EQ(program.source.size(), program.code.size());
            EXPECT_EQ(program.function_of.front(), program.function);
            // Every corpus object is built with -g: every instruction has a source line.
            EXPECT_FALSE(program.source_file().empty()) << program.function;
            EXPECT_TRUE(program.source.front().has_value()) << program.function;
        }
    }
}

// libbpf's map order and attributes, including flags (libbpf marks global data mmapable and
// .rodata read-only for programs).
TEST(LoaderCorpus, MapsMatchLibbpfInOrder) {
    for (const auto& entry : corpus_entries()) {
        SCOPED_TRACE(entry.source.filename().string());
        libbpf_messages.clear();
        ObjectPtr reference = open_object(entry.object);
        if (!reference) continue;  // legacy-map objects: libbpf 1.x refuses them (checked elsewhere)
        auto object = loader::load_object(entry.object);
        ASSERT_TRUE(object) << object.error().to_string();
        std::vector<std::string> theirs;
        bpf_map* map;
        bpf_object__for_each_map(map, reference.get()) {
            const char* type = libbpf_bpf_map_type_str(bpf_map__type(map));
            theirs.push_back(normalise_map_name(bpf_map__name(map)) + " " + (type ? type : "?") + " " +
                             std::to_string(bpf_map__key_size(map)) + " " +
                             std::to_string(bpf_map__value_size(map)) + " " +
                             std::to_string(bpf_map__max_entries(map)) + " flags " +
                             std::to_string(bpf_map__map_flags(map)));
        }
        std::vector<std::string> ours;
        for (const loader::MapDefinition& m : object->maps) {
            ours.push_back(m.name + " " + std::string(isa::map_type_name(m.type)) + " " +
                           std::to_string(m.key_size) + " " + std::to_string(m.value_size) + " " +
                           std::to_string(m.max_entries) + " flags " + std::to_string(m.flags));
        }
        EXPECT_EQ(ours, theirs);
    }
}

// The object's BTF as libbpf fixes it up when it opens the object (btf_fixup_datasec): every
// DATASEC with the same size and the same variables at the same offsets, in the same order,
// with the same linkage (hidden globals become static); and maps with the same BTF key and
// value types (global data: its DATASEC). Over the corpus and the loader's own cases.
TEST(LoaderCorpus, DatasecsAndMapTypesMatchLibbpf) {
    std::vector<fs::path> objects;
    for (const auto& entry : corpus_entries()) objects.push_back(entry.object);
    for (const auto& file : fs::directory_iterator(fs::path(BPFVM_CORPUS_DIR) / "loader")) {
        if (file.path().string().ends_with(".bpf.o")) objects.push_back(file.path());
    }
    std::sort(objects.begin(), objects.end());
    size_t datasecs = 0, typed_maps = 0;
    for (const fs::path& path : objects) {
        SCOPED_TRACE(path.filename().string());
        libbpf_messages.clear();
        ObjectPtr reference = open_object(path);
        auto object = loader::load_object(path);
        // Legacy maps (libbpf), externs (bpfvm, which fails the programs using them and keeps no
        // .kconfig map): no common ground.
        const bool program_failed =
            object && std::any_of(object->programs.begin(), object->programs.end(),
                                  [](const loader::Program& p) { return p.load_error.has_value(); });
        if (!reference || !object || program_failed) continue;
        const btf* theirs = bpf_object__btf(reference.get());
        ASSERT_EQ(theirs != nullptr, object->btf != nullptr);
        if (!theirs) continue;
        const loader::Btf& ours = *object->btf;
        ASSERT_EQ(btf__type_cnt(theirs), ours.type_count());
        for (uint32_t id = 1; id < ours.type_count(); ++id) {
            if (ours.type(id)->kind != loader::BtfKind::Datasec) continue;
            SCOPED_TRACE(std::string(ours.name(id)));
            const btf_type* t = btf__type_by_id(theirs, id);
            ASSERT_TRUE(btf_is_datasec(t));
            EXPECT_EQ(btf__name_by_offset(theirs, t->name_off), ours.name(id));
            EXPECT_EQ(t->size, ours.type(id)->size());
            ASSERT_EQ(btf_vlen(t), ours.var_secinfos(id).size());
            const btf_var_secinfo* vsi = btf_var_secinfos(t);
            for (const loader::BtfVarSecinfo& info : ours.var_secinfos(id)) {
                EXPECT_EQ(vsi->type, info.type);
                EXPECT_EQ(vsi->offset, info.offset) << ours.name(info.type);
                EXPECT_EQ(vsi->size, info.size);
                const btf_type* var = btf__type_by_id(theirs, vsi->type);
                if (btf_is_var(var)) {
                    EXPECT_EQ(btf_var(var)->linkage,
                              static_cast<uint32_t>(ours.type(info.type)->var_linkage()))
                        << ours.name(info.type);
                }
                ++vsi;
            }
            ++datasecs;
        }
        bpf_map* map;
        bpf_object__for_each_map(map, reference.get()) {
            const std::string name = normalise_map_name(bpf_map__name(map));
            auto it = std::find_if(object->maps.begin(), object->maps.end(),
                                   [&](const loader::MapDefinition& m) { return m.name == name; });
            ASSERT_NE(it, object->maps.end()) << name;
            EXPECT_EQ(it->key_type_id, bpf_map__btf_key_type_id(map)) << name;
            EXPECT_EQ(it->value_type_id, bpf_map__btf_value_type_id(map)) << name;
            if (it->origin == loader::MapOrigin::GlobalData && it->value_type_id != 0) ++typed_maps;
        }
    }
    EXPECT_GT(datasecs, 40u);
    EXPECT_GT(typed_maps, 10u);
}

// What libbpf turned one of our relocated instructions into: map references become file
// descriptors (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE) where bpfvm keeps map indices.
std::string compare_slot(const isa::RawInstruction& ours, const isa::RawInstruction* ours_next,
                         const bpf_insn& theirs, const bpf_insn* theirs_next, const loader::Object& object,
                         bpf_object* reference) {
    constexpr uint8_t kMapIndex = 5, kMapIndexValue = 6;
    auto map_fd = [&](uint32_t index) -> int {
        if (index >= object.maps.size()) return -1;
        bpf_map* map;
        bpf_object__for_each_map(map, reference) {
            if (normalise_map_name(bpf_map__name(map)) == object.maps[index].name) return bpf_map__fd(map);
        }
        return -1;
    };
    constexpr uint8_t kLddw = BPF_LD | BPF_DW | BPF_IMM;
    if (ours.opcode == kLddw && (ours.src() == kMapIndex || ours.src() == kMapIndexValue)) {
        if (!ours_next || !theirs_next) return "lddw without its second slot";
        const uint8_t expected_src = ours.src() == kMapIndex ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
        if (theirs.code != ours.opcode || theirs.src_reg != expected_src || theirs.dst_reg != ours.dst()) {
            return "libbpf wrote a different lddw form: code " + std::to_string(theirs.code) + " src " +
                   std::to_string(theirs.src_reg) + " dst " + std::to_string(theirs.dst_reg) + ", ours src " +
                   std::to_string(ours.src()) + " dst " + std::to_string(ours.dst());
        }
        if (theirs.imm != map_fd(static_cast<uint32_t>(ours.imm))) {
            return "lddw refers to a different map than " + object.maps[static_cast<uint32_t>(ours.imm)].name;
        }
        if (theirs_next->imm != ours_next->imm) {
            return "map value offset " + std::to_string(ours_next->imm) + " vs libbpf's " +
                   std::to_string(theirs_next->imm);
        }
        return {};
    }
    if (theirs.code != ours.opcode || theirs.dst_reg != ours.dst() || theirs.src_reg != ours.src() ||
        theirs.off != ours.offset || theirs.imm != ours.imm) {
        char text[160];
        std::snprintf(text, sizeof text, "ours %02x %x %x %d %d, libbpf's %02x %x %x %d %d", ours.opcode,
                      ours.dst(), ours.src(), ours.offset, ours.imm, theirs.code, theirs.dst_reg,
                      theirs.src_reg, theirs.off, theirs.imm);
        return text;
    }
    return {};
}

TEST(LoaderKernel, LinkedProgramsMatchWhatLibbpfLoads) {
    if (std::string why = probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    // libbpf resolves CO-RE relocations against the running kernel's BTF: so do we, here.
    std::ifstream vmlinux_file("/sys/kernel/btf/vmlinux", std::ios::binary);
    std::vector<uint8_t> vmlinux_bytes((std::istreambuf_iterator<char>(vmlinux_file)),
                                       std::istreambuf_iterator<char>());
    auto vmlinux = loader::Btf::parse(vmlinux_bytes);
    if (!vmlinux) GTEST_SKIP() << "no readable /sys/kernel/btf/vmlinux: " << vmlinux.error().to_string();
    loader::LoadOptions options;
    options.core_target = std::make_shared<const loader::Btf>(std::move(*vmlinux));
    size_t compared = 0;
    for (const auto& entry : corpus_entries()) {
        SCOPED_TRACE(entry.source.filename().string());
        Expectations ex;
        ASSERT_EQ(parse_expectations(entry.source, ex), "");
        if (!*ex.loadable) continue;
        auto object = loader::load_object(entry.object, options);
        ASSERT_TRUE(object) << object.error().to_string();
        for (const loader::Program& program : object->programs) {
            if (!ex.accept.at(program.function)) continue;  // the kernel rejects it: nothing to compare
            SCOPED_TRACE(program.function);
            libbpf_messages.clear();
            ObjectPtr reference = open_object(entry.object);
            ASSERT_TRUE(reference) << libbpf_messages;
            bool whole_object = std::any_of(object->maps.begin(), object->maps.end(), [](const auto& m) {
                return m.type == isa::MapType::ProgArray && !m.initial_values.empty();
            });
            bpf_program* prog;
            bpf_program* wanted = nullptr;
            bpf_object__for_each_program(prog, reference.get()) {
                bool is_it = program.function == bpf_program__name(prog);
                bpf_program__set_autoload(prog, is_it || whole_object);
                if (is_it) wanted = prog;
            }
            ASSERT_NE(wanted, nullptr);
            ASSERT_EQ(bpf_object__load(reference.get()), 0) << libbpf_messages;
            const bpf_insn* theirs = bpf_program__insns(wanted);
            size_t count = bpf_program__insn_cnt(wanted);
            std::vector<isa::RawInstruction> ours = isa::encode(program.code);
            ASSERT_EQ(ours.size(), count) << "linked program length differs from libbpf's";
            for (size_t slot = 0; slot < count; ++slot) {
                std::string difference =
                    compare_slot(ours[slot], slot + 1 < count ? &ours[slot + 1] : nullptr, theirs[slot],
                                 slot + 1 < count ? &theirs[slot + 1] : nullptr, *object, reference.get());
                EXPECT_EQ(difference, "") << "slot " << slot;
                if (ours[slot].opcode == (BPF_LD | BPF_DW | BPF_IMM)) ++slot;  // compared with its first slot
            }
            ++compared;
        }
    }
    EXPECT_GT(compared, 10u);
}

}  // namespace
}  // namespace bpfvm::corpus_test
