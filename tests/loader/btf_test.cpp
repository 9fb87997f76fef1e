// BTF and BTF.ext parsing, checked against clang-built corpus objects (their C sources are the
// oracle for line info), the running kernel's /sys/kernel/btf/vmlinux, and malformed input.
#include "bpfvm/loader/btf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "loader/btf_test_support.hpp"

namespace bpfvm::loader {
namespace {

using btf_test::BtfBuilder;

// Sections of a corpus object, or a skip reason.
struct CorpusBtf {
    btf_test::BtfSections sections;
    std::string skip_reason;
};

CorpusBtf load_corpus_btf(const std::string& object_name) {
    if (!std::filesystem::exists(btf_test::kObjcopy)) {
        return {{}, std::string(btf_test::kObjcopy) + " is not installed"};
    }
    std::filesystem::path object = std::filesystem::path(BPFVM_CORPUS_DIR) / object_name;
    if (!std::filesystem::exists(object)) return {{}, object.string() + " was not built"};
    auto sections = btf_test::extract_btf_sections(object);
    if (!sections) return {{}, "llvm-objcopy could not extract .BTF/.BTF.ext from " + object.string()};
    return {*sections, {}};
}

const BtfMember* find_member(const Btf& btf, uint32_t id, std::string_view name) {
    for (const BtfMember& member : btf.members(id)) {
        if (member.name == name) return &member;
    }
    return nullptr;
}

TEST(BtfCorpus, XdpCountTypes) {
    CorpusBtf corpus = load_corpus_btf("xdp_count.bpf.o");
    if (!corpus.skip_reason.empty()) GTEST_SKIP() << corpus.skip_reason;
    auto btf = Btf::parse(corpus.sections.btf);
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();

    auto xdp_md = btf->find_by_name("xdp_md", BtfKind::Struct);
    ASSERT_TRUE(xdp_md);
    const char* expected_members[] = {"data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index"};
    auto members = btf->members(*xdp_md);
    ASSERT_GE(members.size(), 5u);
    for (uint32_t i = 0; i < 5; ++i) {
        EXPECT_EQ(members[i].name, expected_members[i]);
        EXPECT_EQ(members[i].bit_offset, 32 * i);
        EXPECT_EQ(btf->to_string(members[i].type), "__u32");
        EXPECT_EQ(btf->to_string(*btf->resolve(members[i].type)), "unsigned int");
    }

    EXPECT_EQ(*btf->size_of(*xdp_md), 24u);
    EXPECT_EQ(btf->to_string(*xdp_md), "struct xdp_md");
    // clang emits only the types reachable from globals and function signatures: the local
    // `struct ethhdr *` and `struct iphdr *` of xdp_count are not here (vmlinux has them).
    EXPECT_FALSE(btf->find_by_name("iphdr", BtfKind::Struct));

    auto func = btf->find_by_name("xdp_count", BtfKind::Func);
    ASSERT_TRUE(func);
    EXPECT_EQ(btf->type(*func)->func_linkage(), BtfLinkage::Global);
    EXPECT_EQ(btf->to_string(*func), "int xdp_count(struct xdp_md *ctx)");
    auto count = btf->find_by_name("count", BtfKind::Func);
    ASSERT_TRUE(count);
    EXPECT_EQ(btf->type(*count)->func_linkage(), BtfLinkage::Static);

    auto maps = btf->find_by_name(".maps", BtfKind::Datasec);
    ASSERT_TRUE(maps);
    bool found_proto_counts = false;
    for (const BtfVarSecinfo& info : btf->var_secinfos(*maps)) {
        const BtfType* var = btf->type(info.type);
        ASSERT_NE(var, nullptr);
        if (var->kind == BtfKind::Var && var->name == "proto_counts") {
            found_proto_counts = true;
            EXPECT_EQ(var->var_linkage(), BtfLinkage::Global);
            EXPECT_EQ(info.size, *btf->size_of(info.type));
        }
    }
    EXPECT_TRUE(found_proto_counts);

    auto bss = btf->find_by_name(".bss", BtfKind::Datasec);
    ASSERT_TRUE(bss);
    ASSERT_EQ(btf->var_secinfos(*bss).size(), 1u);
    EXPECT_EQ(btf->to_string(btf->var_secinfos(*bss)[0].type), "__u64 total_packets");
    EXPECT_EQ(btf->var_secinfos(*bss)[0].size, 8u);
}

TEST(BtfCorpus, XdpCountLineAndFuncInfo) {
    CorpusBtf corpus = load_corpus_btf("xdp_count.bpf.o");
    if (!corpus.skip_reason.empty()) GTEST_SKIP() << corpus.skip_reason;
    auto btf = Btf::parse(corpus.sections.btf);
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    auto ext = BtfExt::parse(corpus.sections.btf_ext, *btf);
    ASSERT_TRUE(ext.ok()) << ext.error().to_string();

    const BtfExtSection* xdp = ext->section("xdp");
    ASSERT_NE(xdp, nullptr);
    ASSERT_EQ(xdp->func_infos.size(), 1u);
    EXPECT_EQ(xdp->func_infos[0].insn_off, 0u);
    EXPECT_EQ(btf->name(xdp->func_infos[0].type_id), "xdp_count");
    const BtfExtSection* text = ext->section(".text");
    ASSERT_NE(text, nullptr);
    ASSERT_EQ(text->func_infos.size(), 1u);
    EXPECT_EQ(btf->name(text->func_infos[0].type_id), "count");

    auto source_path = btf_test::corpus_source(std::filesystem::path(BPFVM_CORPUS_DIR) / "xdp_count.bpf.o");
    ASSERT_TRUE(source_path);
    auto source = btf_test::read_lines(*source_path);
    ASSERT_FALSE(xdp->line_infos.empty());
    bool saw_data_end_line = false;
    for (const BtfLineInfo& line : xdp->line_infos) {
        EXPECT_TRUE(line.file_name.ends_with("xdp_count.bpf.c")) << line.file_name;
        EXPECT_EQ(line.insn_off % 8, 0u);
        ASSERT_GE(line.line, 1u);
        ASSERT_LE(line.line, source.size());
        EXPECT_EQ(line.source_line, source[line.line - 1]) << "line " << line.line;
        EXPECT_GE(line.column, 1u);
        if (line.source_line.find("ctx->data_end") != std::string_view::npos) saw_data_end_line = true;
    }
    EXPECT_TRUE(saw_data_end_line);
}

// Every corpus object: both sections parse, every type prints and has a size or a clean error,
// and every line_info that points into the object's own C file quotes that file exactly.
TEST(BtfCorpus, EveryObjectParsesAndLineInfoQuotesItsSource) {
    if (!std::filesystem::exists(btf_test::kObjcopy))
        GTEST_SKIP() << btf_test::kObjcopy << " is not installed";
    auto objects = btf_test::corpus_objects();
    if (objects.empty()) GTEST_SKIP() << "no corpus objects in " << BPFVM_CORPUS_DIR;
    for (const auto& object : objects) {
        SCOPED_TRACE(object.string());
        auto sections = btf_test::extract_btf_sections(object);
        ASSERT_TRUE(sections);
        auto btf = Btf::parse(sections->btf);
        ASSERT_TRUE(btf.ok()) << btf.error().to_string();
        for (uint32_t id = 0; id < btf->type_count(); ++id) {
            EXPECT_FALSE(btf->to_string(id).empty());
            (void)btf->size_of(id);
            EXPECT_TRUE(btf->resolve(id).ok());
        }
        auto ext = BtfExt::parse(sections->btf_ext, *btf);
        ASSERT_TRUE(ext.ok()) << ext.error().to_string();
        auto source_path = btf_test::corpus_source(object);
        // A source edited after its object was built no longer matches the line info.
        if (!source_path ||
            std::filesystem::last_write_time(*source_path) > std::filesystem::last_write_time(object)) {
            continue;
        }
        auto source = btf_test::read_lines(*source_path);
        size_t checked = 0;
        for (const BtfExtSection& section : ext->sections()) {
            for (const BtfLineInfo& line : section.line_infos) {
                if (std::filesystem::path(line.file_name).filename() != source_path->filename()) continue;
                ASSERT_GE(line.line, 1u);
                ASSERT_LE(line.line, source.size());
                EXPECT_EQ(line.source_line, source[line.line - 1]) << section.name << " line " << line.line;
                ++checked;
            }
        }
        EXPECT_GT(checked, 0u);
    }
}

class BtfVmlinux : public ::testing::Test {
 protected:
    static constexpr const char* kPath = "/sys/kernel/btf/vmlinux";
    void SetUp() override {
        data_ = btf_test::read_bytes(kPath);
        if (data_.empty()) GTEST_SKIP() << kPath << " is not readable on this machine";
    }
    std::vector<uint8_t> data_;
};

TEST_F(BtfVmlinux, ParsesFastAndFindsKernelTypes) {
    auto start = std::chrono::steady_clock::now();
    auto btf = Btf::parse(data_);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    std::printf("vmlinux: %u types parsed in %.1f ms\n", btf->type_count(),
                std::chrono::duration<double, std::milli>(elapsed).count());
    EXPECT_GT(btf->type_count(), 10000u);

    auto task_struct = btf->find_by_name("task_struct", BtfKind::Struct);
    ASSERT_TRUE(task_struct);
    EXPECT_GT(*btf->size_of(*task_struct), 1000u);
    EXPECT_TRUE(btf->find_by_name("sk_buff", BtfKind::Struct));
    auto iphdr = btf->find_by_name("iphdr", BtfKind::Struct);
    ASSERT_TRUE(iphdr);
    EXPECT_EQ(*btf->size_of(*iphdr), 20u);
    const BtfMember* protocol = find_member(*btf, *iphdr, "protocol");
    ASSERT_NE(protocol, nullptr);
    EXPECT_EQ(protocol->bit_offset, 72u);
    EXPECT_EQ(btf->to_string(protocol->type), "__u8");
    // ihl and version are 4-bit bitfields in the first byte.
    const BtfMember* ihl = find_member(*btf, *iphdr, "ihl");
    ASSERT_NE(ihl, nullptr);
    EXPECT_EQ(ihl->bitfield_size, 4u);
    auto ethhdr = btf->find_by_name("ethhdr", BtfKind::Struct);
    ASSERT_TRUE(ethhdr);
    EXPECT_EQ(*btf->size_of(*ethhdr), 14u);
    const BtfMember* h_dest = find_member(*btf, *ethhdr, "h_dest");
    ASSERT_NE(h_dest, nullptr);
    EXPECT_EQ(btf->to_string(h_dest->type), "unsigned char[6]");
    EXPECT_EQ(*btf->size_of(h_dest->type), 6u);
    EXPECT_EQ(find_member(*btf, *ethhdr, "h_proto")->bit_offset, 96u);
    auto pid = find_member(*btf, *task_struct, "pid");
    ASSERT_NE(pid, nullptr);
    EXPECT_EQ(btf->to_string(pid->type), "pid_t");
    EXPECT_EQ(*btf->size_of(pid->type), 4u);
}

TEST_F(BtfVmlinux, EveryTypePrintsAndSizesWithoutFailureOrHang) {
    auto btf = Btf::parse(data_);
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    size_t sized = 0;
    for (uint32_t id = 0; id < btf->type_count(); ++id) {
        ASSERT_FALSE(btf->to_string(id).empty()) << id;
        ASSERT_TRUE(btf->resolve(id).ok()) << id;
        const BtfKind kind = btf->type(id)->kind;
        bool has_size = kind != BtfKind::Void && kind != BtfKind::Func && kind != BtfKind::FuncProto &&
                        kind != BtfKind::Fwd && kind != BtfKind::DeclTag;
        auto size = btf->size_of(id);
        if (size.ok()) {
            ++sized;
        } else {
            // Only genuinely size-less types (or typedefs of function types) fail; never
            // through depth or overflow.
            EXPECT_EQ(size.error().message.find("deeper"), std::string::npos) << size.error().message;
            EXPECT_EQ(size.error().message.find("overflow"), std::string::npos) << size.error().message;
        }
        if (!has_size) {
            EXPECT_FALSE(size.ok()) << id;
        }
    }
    EXPECT_GT(sized, 10000u);
}

// An independent count: bpftool prints one "[id] KIND ..." line per type.
TEST_F(BtfVmlinux, TypeCountMatchesBpftool) {
    FILE* pipe = popen("bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -c '^\\['", "r");
    unsigned long counted = 0;
    bool read = pipe && std::fscanf(pipe, "%lu", &counted) == 1;
    if (pipe) pclose(pipe);
    if (!read || counted == 0) {
        GTEST_SKIP() << "bpftool is not installed or cannot read vmlinux BTF";
    }
    auto btf = Btf::parse(data_);
    ASSERT_TRUE(btf.ok());
    EXPECT_EQ(btf->type_count(), counted + 1);  // plus void
}

// ---- Malformed input ----

CorpusBtf load_xdp_count_or_skip_reason() {
    return load_corpus_btf("xdp_count.bpf.o");
}

TEST(BtfMalformed, EveryTruncationOfARealSectionFailsCleanly) {
    CorpusBtf corpus = load_xdp_count_or_skip_reason();
    if (!corpus.skip_reason.empty()) GTEST_SKIP() << corpus.skip_reason;
    const auto& full = corpus.sections.btf;
    for (size_t length = 0; length < full.size(); ++length) {
        auto btf = Btf::parse(std::span(full).first(length));
        // The header's lengths describe the full data: every shorter prefix is an error.
        EXPECT_FALSE(btf.ok()) << "length " << length;
    }
    auto btf = Btf::parse(full);
    ASSERT_TRUE(btf.ok());
    const auto& ext_full = corpus.sections.btf_ext;
    for (size_t length = 0; length < ext_full.size(); ++length) {
        auto ext = BtfExt::parse(std::span(ext_full).first(length), *btf);
        EXPECT_FALSE(ext.ok()) << "length " << length;
    }
}

TEST(BtfMalformed, FlippedHeaderAndBodyBytesNeverCrash) {
    CorpusBtf corpus = load_xdp_count_or_skip_reason();
    if (!corpus.skip_reason.empty()) GTEST_SKIP() << corpus.skip_reason;
    auto bytes = corpus.sections.btf;
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (uint8_t mask : {0x01, 0x80, 0xff}) {
            bytes[i] ^= mask;
            auto btf = Btf::parse(bytes);
            if (btf.ok()) {
                // Whatever parsed must be safe to query.
                for (uint32_t id = 0; id < btf->type_count(); ++id) {
                    (void)btf->to_string(id);
                    (void)btf->size_of(id);
                    (void)btf->resolve(id);
                }
            }
            bytes[i] ^= mask;
        }
    }
    for (size_t i = 0; i < 24; ++i) {
        bytes[i] ^= 0xff;
        EXPECT_FALSE(Btf::parse(bytes).ok()) << "header byte " << i;
        bytes[i] ^= 0xff;
    }

    auto btf = Btf::parse(corpus.sections.btf);
    ASSERT_TRUE(btf.ok());
    auto ext_bytes = corpus.sections.btf_ext;
    for (size_t i = 0; i < ext_bytes.size(); ++i) {
        for (uint8_t mask : {0x01, 0x80, 0xff}) {
            ext_bytes[i] ^= mask;
            (void)BtfExt::parse(ext_bytes, *btf);
            ext_bytes[i] ^= mask;
        }
    }
}

TEST(BtfMalformed, TypeReferencingPastTheEnd) {
    BtfBuilder builder;
    uint32_t name = builder.add_string("p");
    builder.type(name, 2 /*PTR*/, 0, 7);
    auto btf = Btf::parse(builder.build());
    ASSERT_FALSE(btf.ok());
    EXPECT_EQ(btf.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(btf.error().message.find("type 1 (ptr)"), std::string::npos) << btf.error().message;
    EXPECT_NE(btf.error().message.find("refers to type 7"), std::string::npos) << btf.error().message;
}

TEST(BtfMalformed, TypedefCycleIsAnErrorNotAHang) {
    BtfBuilder builder;
    uint32_t a = builder.add_string("a_t");
    uint32_t b = builder.add_string("b_t");
    builder.type(a, 8 /*TYPEDEF*/, 0, 2).type(b, 8 /*TYPEDEF*/, 0, 3).type(0, 10 /*CONST*/, 0, 1);
    builder.type(0, 3 /*ARRAY*/, 0, 0).word(4).word(1).word(2);  // type 4: array of itself
    auto btf = Btf::parse(builder.build());
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();  // cycles are legal to store, not to follow
    EXPECT_FALSE(btf->resolve(1).ok());
    EXPECT_FALSE(btf->size_of(1).ok());
    EXPECT_FALSE(btf->size_of(4).ok());
    EXPECT_EQ(btf->to_string(3), "const a_t");  // typedefs print by name: no need to follow
    EXPECT_NE(btf->to_string(4).find("..."), std::string::npos);
}

TEST(BtfMalformed, PointerCycleStillPrints) {
    BtfBuilder builder;
    builder.type(0, 2 /*PTR*/, 0, 2).type(0, 9 /*VOLATILE*/, 0, 1);
    auto btf = Btf::parse(builder.build());
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    EXPECT_EQ(*btf->size_of(1), 8u);
    EXPECT_EQ(*btf->size_of(2), 8u);  // volatile pointer
    EXPECT_NE(btf->to_string(1).find("..."), std::string::npos);
    EXPECT_NE(btf->to_string(2).find("..."), std::string::npos);
}

// Prototypes whose parameters point back at them: printing each parameter prints the whole
// prototype again, so an unbounded printer would grow exponentially.
TEST(BtfMalformed, SelfReferentialPrototypesPrintBounded) {
    BtfBuilder builder;
    constexpr uint32_t kParams = 64;
    builder.type(0, 13 /*FUNC_PROTO*/, kParams, 2);  // type 1: returns type 2
    for (uint32_t i = 0; i < kParams; ++i) builder.word(0).word(2);
    builder.type(0, 2 /*PTR*/, 0, 1);  // type 2: pointer to type 1
    auto btf = Btf::parse(builder.build());
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    std::string name = btf->to_string(1);
    EXPECT_LE(name.size(), 1024u);
    EXPECT_NE(name.find("..."), std::string::npos) << name;
}

TEST(BtfMalformed, OverlappingSectionsAndBadStrings) {
    BtfBuilder builder;
    uint32_t name = builder.add_string("int");
    builder.type(name, 1 /*INT*/, 0, 4).word(32);
    auto good = builder.build();
    ASSERT_TRUE(Btf::parse(good).ok());
    auto put_u32 = [](std::vector<uint8_t>& bytes, size_t offset, uint32_t value) {
        for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    };
    auto overlap = good;
    put_u32(overlap, 16, 8);  // string section starts inside the type section
    auto result = Btf::parse(overlap);
    ASSERT_FALSE(result.ok());
    auto unterminated = good;
    unterminated.back() = 'x';
    result = Btf::parse(unterminated);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("NUL"), std::string::npos) << result.error().message;
    auto big_endian = good;
    std::swap(big_endian[0], big_endian[1]);
    result = Btf::parse(big_endian);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::Unsupported);
}

TEST(BtfMalformed, HugeVlenIsAnErrorWithoutAllocating) {
    BtfBuilder builder;
    uint32_t name = builder.add_string("big");
    builder.type(name, 4 /*STRUCT*/, 0xffff, 8);  // claims 65535 members, has none
    auto btf = Btf::parse(builder.build());
    ASSERT_FALSE(btf.ok());
    EXPECT_NE(btf.error().message.find("member list runs past"), std::string::npos) << btf.error().message;
}

TEST(BtfMalformed, UnknownKindNamesKindAndTypeId) {
    BtfBuilder builder;
    builder.type(0, 1 /*INT*/, 0, 4).word(32);
    builder.type(0, 25, 0, 0);
    auto btf = Btf::parse(builder.build());
    ASSERT_FALSE(btf.ok());
    EXPECT_EQ(btf.error().kind, ErrorKind::Unsupported);
    EXPECT_NE(btf.error().message.find("type 2 has unknown kind 25"), std::string::npos)
        << btf.error().message;
}

TEST(BtfMalformed, NameOffsetOutsideStrings) {
    BtfBuilder builder;
    builder.type(999, 1 /*INT*/, 0, 4).word(32);
    auto btf = Btf::parse(builder.build());
    ASSERT_FALSE(btf.ok());
    EXPECT_NE(btf.error().message.find("name offset 999"), std::string::npos) << btf.error().message;
}

TEST(BtfMalformed, ArrayOverflowingThirtyTwoBits) {
    BtfBuilder builder;
    uint32_t name = builder.add_string("int");
    builder.type(name, 1 /*INT*/, 0, 4).word(1u << 24 | 32);              // 1: int
    builder.type(0, 3 /*ARRAY*/, 0, 0).word(1).word(1).word(0x40000000);  // 2: int[2^30]
    builder.type(0, 3 /*ARRAY*/, 0, 0).word(1).word(1).word(0x3fffffff);  // 3: fits
    builder.type(0, 3 /*ARRAY*/, 0, 0).word(2).word(1).word(0x10000);     // 4: int[2^30][2^16]
    auto btf = Btf::parse(builder.build());
    ASSERT_TRUE(btf.ok()) << btf.error().to_string();
    EXPECT_EQ(btf->type(1)->int_encoding(), kBtfIntSigned);
    EXPECT_EQ(btf->type(1)->int_bits(), 32u);
    EXPECT_FALSE(btf->size_of(2).ok());
    EXPECT_EQ(*btf->size_of(3), 0xfffffffcu);
    EXPECT_FALSE(btf->size_of(4).ok());
    EXPECT_EQ(btf->to_string(4), "int[1073741824][65536]");
}

TEST(BtfMalformed, BtfExtRejectsBadRecords) {
    CorpusBtf corpus = load_xdp_count_or_skip_reason();
    if (!corpus.skip_reason.empty()) GTEST_SKIP() << corpus.skip_reason;
    auto btf = Btf::parse(corpus.sections.btf);
    ASSERT_TRUE(btf.ok());
    auto ext = corpus.sections.btf_ext;
    auto u32_at = [&](size_t offset) {
        return uint32_t{ext[offset]} | uint32_t{ext[offset + 1]} << 8 | uint32_t{ext[offset + 2]} << 16 |
               uint32_t{ext[offset + 3]} << 24;
    };
    auto put_u32 = [&](std::vector<uint8_t>& bytes, size_t offset, uint32_t value) {
        for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    };
    const uint32_t hdr_len = u32_at(4);
    const size_t func_info = hdr_len + u32_at(8);
    const size_t line_info = hdr_len + u32_at(16);

    auto small_record = ext;
    put_u32(small_record, func_info, 4);
    auto result = BtfExt::parse(small_record, *btf);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("func_info: record size 4"), std::string::npos);

    // First func_info record: {sec_name_off, num_info} at +4, record at +12 {insn_off, type_id}.
    auto not_a_func = ext;
    put_u32(not_a_func, func_info + 16, 1);
    result = BtfExt::parse(not_a_func, *btf);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("func_info for section"), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("record 0"), std::string::npos) << result.error().message;
    EXPECT_FALSE(result.error().where.section.empty());

    // First line_info record {insn_off, file_name_off, line_off, line_col} at +12.
    auto bad_file_name = ext;
    put_u32(bad_file_name, line_info + 16, 0x7fffffff);
    result = BtfExt::parse(bad_file_name, *btf);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("line_info for section"), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("file name offset"), std::string::npos) << result.error().message;

    auto huge_count = ext;
    put_u32(huge_count, line_info + 8, 0xffffffff);
    result = BtfExt::parse(huge_count, *btf);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("run past the end"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace bpfvm::loader
