// The DATASEC fix-up of load_object (libbpf's btf_fixup_datasec): clang writes each DATASEC
// with size 0 and every non-static variable at offset 0; the loaded object's BTF has the ELF
// sections' sizes and the symbols' offsets, and global-data maps are typed by their DATASEC.
// The ELF file itself (section sizes, symbol values) is the oracle; tests/corpus compares the
// same with what libbpf makes of the objects.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/elf.hpp"
#include "bpfvm/loader/object.hpp"
#include "loader/btf_test_support.hpp"

namespace bpfvm::loader {
namespace {

using btf_test::BtfBuilder;

std::filesystem::path corpus(const std::string& name) {
    return std::filesystem::path(BPFVM_CORPUS_DIR) / name;
}
std::filesystem::path loader_case(const std::string& name) {
    return std::filesystem::path(BPFVM_CORPUS_DIR) / "loader" / (name + ".bpf.o");
}

const MapDefinition* find_map(const Object& object, const std::string& name) {
    for (const MapDefinition& m : object.maps) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

// Variable name -> offset, in the DATASEC's order.
std::vector<std::pair<std::string, uint32_t>> layout_of(const Btf& btf, uint32_t datasec) {
    std::vector<std::pair<std::string, uint32_t>> layout;
    for (const BtfVarSecinfo& info : btf.var_secinfos(datasec))
        layout.emplace_back(std::string(btf.name(info.type)), info.offset);
    return layout;
}

using Layout = std::vector<std::pair<std::string, uint32_t>>;

// Every global-data map with a DATASEC: typed by it, the DATASEC as large as the section, each
// variable where its ELF symbol (global, or local for a static) says, in offset order.
void expect_laid_out_as_the_elf_file(const std::filesystem::path& path, size_t expected_typed_maps) {
    SCOPED_TRACE(path.filename().string());
    auto object = load_object(path);
    ASSERT_TRUE(object) << object.error().to_string();
    ASSERT_NE(object->btf, nullptr);
    const Btf& btf = *object->btf;
    auto elf = ElfFile::read(path);
    ASSERT_TRUE(elf) << elf.error().to_string();
    size_t typed = 0;
    for (const MapDefinition& map : object->maps) {
        if (map.origin != MapOrigin::GlobalData) continue;
        SCOPED_TRACE(map.name);
        const ElfSection* section = elf->section(map.name);
        ASSERT_NE(section, nullptr);
        EXPECT_EQ(map.key_type_id, 0u);  // the key is the u32 index 0, untyped as in libbpf
        auto datasec = btf.find_by_name(map.name, BtfKind::Datasec);
        if (!datasec) {
            EXPECT_EQ(map.value_type_id, 0u);  // .rodata.str1.1: literals, no variables
            continue;
        }
        ++typed;
        EXPECT_EQ(map.value_type_id, *datasec);
        EXPECT_EQ(btf.type(*datasec)->size(), section->size);
        EXPECT_EQ(*btf.size_of(*datasec), map.value_size);
        uint32_t previous = 0;
        for (const BtfVarSecinfo& info : btf.var_secinfos(*datasec)) {
            const std::string name(btf.name(info.type));
            SCOPED_TRACE(name);
            ASSERT_EQ(btf.type(info.type)->kind, BtfKind::Var);
            const ElfSymbol* symbol = nullptr;
            for (const ElfSymbol& candidate : elf->symbols()) {
                if (candidate.type == STT_OBJECT && candidate.section == section->index &&
                    candidate.name == name)
                    symbol = &candidate;
            }
            ASSERT_NE(symbol, nullptr);
            EXPECT_EQ(info.offset, symbol->value);
            EXPECT_EQ(info.size, symbol->size);
            EXPECT_LE(uint64_t{info.offset} + info.size, section->size);
            EXPECT_GE(info.offset, previous) << "variables are sorted by offset";
            previous = info.offset;
            // Static in BTF exactly when not visible outside the object (local or hidden).
            const bool is_static = symbol->binding == STB_LOCAL || symbol->visibility == STV_HIDDEN;
            EXPECT_EQ(btf.type(info.type)->var_linkage(),
                      is_static ? BtfLinkage::Static : BtfLinkage::Global);
        }
    }
    EXPECT_EQ(typed, expected_typed_maps);
}

TEST(DatasecFixup, GlobalDataIsLaidOutAsTheElfFileSays) {
    expect_laid_out_as_the_elf_file(corpus("global_data.bpf.o"), 3);
    expect_laid_out_as_the_elf_file(loader_case("global_sections"), 5);
    expect_laid_out_as_the_elf_file(loader_case("strings_and_version"), 1);
    for (const char* name : {"signed_ops.bpf.o", "xdp_firewall.bpf.o", "tail_call.bpf.o"})
        expect_laid_out_as_the_elf_file(corpus(name), name == std::string("signed_ops.bpf.o") ? 2 : 1);
}

// global_data.bpf.c, as the source lays it out.
TEST(DatasecFixup, GlobalDataCorpusObject) {
    auto object = load_object(corpus("global_data.bpf.o"));
    ASSERT_TRUE(object) << object.error().to_string();
    const Btf& btf = *object->btf;
    auto expect = [&](const std::string& section, uint32_t size, const Layout& layout) {
        SCOPED_TRACE(section);
        const MapDefinition* map = find_map(*object, section);
        ASSERT_NE(map, nullptr);
        ASSERT_NE(map->value_type_id, 0u);
        EXPECT_EQ(btf.name(map->value_type_id), section);
        EXPECT_EQ(btf.type(map->value_type_id)->size(), size);
        EXPECT_EQ(layout_of(btf, map->value_type_id), layout);
    };
    expect(".data", 12, {{"seen_bytes", 0}, {"scale", 8}});
    expect(".bss", 16, {{"packets", 0}, {"oversized", 8}});
    // bpf_printk's format is a static variable: clang wrote its offset already.
    expect(".rodata", 35, {{"max_len", 0}, {"verbose", 4}, {"xdp_globals.____fmt", 8}});
    // Sections that are not maps are laid out too, as libbpf does.
    auto license = btf.find_by_name("license", BtfKind::Datasec);
    ASSERT_TRUE(license);
    EXPECT_EQ(btf.type(*license)->size(), 4u);
}

// Globals move to their symbols' offsets while statics keep the ones clang wrote; the hidden
// global becomes static; custom sections are typed like the standard ones.
TEST(DatasecFixup, StaticHiddenAndCustomSections) {
    auto object = load_object(loader_case("global_sections"));
    ASSERT_TRUE(object) << object.error().to_string();
    const Btf& btf = *object->btf;
    auto layout = [&](const std::string& section) {
        const MapDefinition* map = find_map(*object, section);
        return map && map->value_type_id ? layout_of(btf, map->value_type_id) : Layout{};
    };
    EXPECT_EQ(layout(".data"), (Layout{{"data_total", 0}, {"data_hidden", 8}, {"data_static", 12}}));
    EXPECT_EQ(layout(".bss"), (Layout{{"bss_packets", 0}, {"bss_static", 8}}));
    EXPECT_EQ(layout(".data.counters"),
              (Layout{{"counter_hits", 0}, {"counter_misses", 8}, {"counter_static", 12}}));
    EXPECT_EQ(layout(".rodata.config"), (Layout{{"config_flags", 0}}));
    auto linkage = [&](const std::string& name) {
        auto var = btf.find_by_name(name, BtfKind::Var);
        return var ? btf.type(*var)->var_linkage() : BtfLinkage::Extern;
    };
    EXPECT_EQ(linkage("data_hidden"), BtfLinkage::Static);
    EXPECT_EQ(linkage("data_total"), BtfLinkage::Global);
    EXPECT_EQ(linkage("data_static"), BtfLinkage::Static);
}

// global_data.bpf.o with its .BTF replaced: the bytes are written over the original ones
// (padded, so no section moves) and .BTF.ext, which describes the original types, loses its name
// so the loader does not see it.
std::vector<uint8_t> with_btf(const std::filesystem::path& path, std::vector<uint8_t> btf) {
    auto bytes = btf_test::read_bytes(path);
    auto elf = ElfFile::parse(bytes, path.string());
    if (!elf) return {};
    const ElfSection* section = elf->section(".BTF");
    const ElfSection* ext = elf->section(".BTF.ext");
    if (!section || !ext || btf.size() > section->size) return {};
    btf.resize(section->size, 0);
    std::copy(btf.begin(), btf.end(), bytes.begin() + static_cast<ptrdiff_t>(section->offset));
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    const size_t name_field =
        header.e_shoff + size_t{ext->index} * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_name);
    const uint32_t empty_name = 0;
    std::memcpy(bytes.data() + name_field, &empty_name, sizeof empty_name);
    return bytes;
}

TEST(DatasecFixup, DatasecsThatCannotBeLaidOutAreLeftAsTheyAre) {
    constexpr uint32_t kInt = 1, kVar = 14, kDatasec = 15;
    constexpr uint32_t kStatic = 0, kGlobal = 1, kExtern = 2;
    BtfBuilder b;
    b.type(b.add_string("int"), kInt, 0, 4).word(32);  // 1
    auto var = [&](const char* name, uint32_t linkage) {
        b.type(b.add_string(name), kVar, 0, 1).word(linkage);
    };
    var("seen_bytes", kGlobal);            // 2: .data, offset 0
    var("scale", kGlobal);                 // 3: .data, offset 8
    var("max_len", kGlobal);               // 4: .rodata
    var("packets", kGlobal);               // 5: .bss
    var("nosuch", kGlobal);                // 6: no symbol anywhere
    var("far", kStatic);                   // 7: a static "at" an offset past its section
    var("LINUX_KERNEL_VERSION", kExtern);  // 8
    struct Entry {
        uint32_t type, offset, size;
    };
    auto datasec = [&](const char* name, std::vector<Entry> entries) {
        b.type(b.add_string(name), kDatasec, static_cast<uint32_t>(entries.size()), 0);
        for (const Entry& e : entries) b.word(e.type).word(e.offset).word(e.size);
    };
    datasec(".data", {{2, 0, 8}, {3, 0, 4}});       // 9: fine, among the rest
    datasec(".rodata", {{4, 0, 4}, {kInt, 0, 4}});  // 10: an INT among the variables
    datasec(".bss", {{5, 0, 8}, {6, 0, 8}});        // 11: a variable without its symbol
    datasec("license", {{3, 0, 4}});                // 12: scale's symbol is in .data
    datasec(".nosuch", {{2, 0, 8}});                // 13: no such section
    datasec("", {{2, 0, 8}});                       // 14: no name
    datasec(".data", {{7, 10, 4}});                 // 15: 10 + 4 > 12 bytes
    datasec(".ksyms", {{8, 0, 4}});                 // 16: externs: not laid out here
    datasec(".data", {{2, 0, 4096}});               // 17: larger than the section
    auto bytes = with_btf(corpus("global_data.bpf.o"), b.build());
    ASSERT_FALSE(bytes.empty());

    auto object = load_object(bytes, "hostile_btf.o");
    ASSERT_TRUE(object) << object.error().to_string();
    const Btf& btf = *object->btf;
    ASSERT_EQ(btf.type_count(), 18u);
    // The good one is laid out and types .data, whatever its neighbours.
    EXPECT_EQ(btf.type(9)->size(), 12u);
    EXPECT_EQ(layout_of(btf, 9), (Layout{{"seen_bytes", 0}, {"scale", 8}}));
    EXPECT_EQ(find_map(*object, ".data")->value_type_id, 9u);
    // The others keep clang's zeros (and their order), and type no map.
    const std::map<uint32_t, Layout> untouched = {
        {10, {{"max_len", 0}, {"int", 0}}},
        {11, {{"packets", 0}, {"nosuch", 0}}},
        {12, {{"scale", 0}}},
        {13, {{"seen_bytes", 0}}},
        {14, {{"seen_bytes", 0}}},
        {15, {{"far", 10}}},
        {16, {{"LINUX_KERNEL_VERSION", 0}}},
        {17, {{"seen_bytes", 0}}},
    };
    for (const auto& [id, layout] : untouched) {
        SCOPED_TRACE(id);
        EXPECT_EQ(btf.type(id)->size(), 0u);
        EXPECT_EQ(layout_of(btf, id), layout);
    }
    EXPECT_EQ(find_map(*object, ".rodata")->value_type_id, 0u);
    EXPECT_EQ(find_map(*object, ".bss")->value_type_id, 0u);
}

// The fix-ups themselves ignore ids of the wrong kind and offset lists of the wrong length.
TEST(DatasecFixup, BtfFixupsIgnoreWhatTheyDoNotApplyTo) {
    BtfBuilder b;
    b.type(b.add_string("int"), 1, 0, 4).word(32);                                            // 1
    b.type(b.add_string("a"), 14, 0, 1).word(1);                                              // 2
    b.type(b.add_string("b"), 14, 0, 1).word(1);                                              // 3
    b.type(b.add_string(".data"), 15, 2, 0).word(2).word(0).word(4).word(3).word(0).word(4);  // 4
    auto btf = Btf::parse(b.build());
    ASSERT_TRUE(btf) << btf.error().to_string();
    const std::vector<uint32_t> offsets = {4, 0};
    btf->lay_out_datasec(1, 8, offsets);   // not a DATASEC
    btf->lay_out_datasec(99, 8, offsets);  // no such type
    btf->lay_out_datasec(4, 8, std::vector<uint32_t>{4});
    EXPECT_EQ(btf->type(4)->size(), 0u);
    EXPECT_EQ(btf->type(1)->size(), 4u);
    btf->set_var_linkage(1, BtfLinkage::Extern);  // an INT: its encoding stays
    btf->set_var_linkage(99, BtfLinkage::Static);
    EXPECT_EQ(btf->type(1)->int_encoding(), 0u);
    EXPECT_EQ(btf->type(1)->int_bits(), 32u);

    btf->lay_out_datasec(4, 8, offsets);
    EXPECT_EQ(btf->type(4)->size(), 8u);
    EXPECT_EQ(layout_of(*btf, 4), (Layout{{"b", 0}, {"a", 4}}));
    btf->set_var_linkage(3, BtfLinkage::Static);
    EXPECT_EQ(btf->type(3)->var_linkage(), BtfLinkage::Static);
    EXPECT_EQ(btf->type(2)->var_linkage(), BtfLinkage::Global);
}

}  // namespace
}  // namespace bpfvm::loader
