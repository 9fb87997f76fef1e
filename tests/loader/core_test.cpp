// CO-RE relocation resolution and patching: the corpus program core_fields.bpf.o relocated
// against its own BTF (every value must come back unchanged) and against the running kernel's
// BTF (offsets must equal those found by walking vmlinux's members by name here, independently
// of the resolver), plus small hand-built BTF blobs for each rule and for hostile input.
#include "bpfvm/loader/core.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "loader/core_test_support.hpp"

namespace bpfvm::loader {
namespace {

using core_test::CoreObject;
using core_test::MemberSpec;
using core_test::TypeBuilder;

constexpr const char* kCoreObject = "core_fields.bpf.o";
constexpr const char* kCoreSection = "kprobe/do_nanosleep";

BtfCoreRelo relo(BtfCoreReloKind kind, uint32_t type_id, std::string_view access, uint32_t slot = 0) {
    return BtfCoreRelo{slot * 8, type_id, access, kind};
}

// Resolves and expects success.
CoreResolution resolve_ok(const Btf& local, const Btf& target, const BtfCoreRelo& r) {
    auto res = resolve_core_relocation(local, target, r);
    EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().to_string());
    return res.ok() ? *res : CoreResolution{};
}

std::string resolve_error(const Btf& local, const Btf& target, const BtfCoreRelo& r) {
    auto res = resolve_core_relocation(local, target, r);
    EXPECT_FALSE(res.ok()) << "resolved to " << (res.ok() ? res->target_value : 0);
    return res.ok() ? std::string() : res.error().message;
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

TEST(CoreNames, EssentialNameDropsTheLastFlavorSuffix) {
    EXPECT_EQ(core_essential_name("task_struct___pre514"), "task_struct");
    EXPECT_EQ(core_essential_name("task_struct"), "task_struct");
    EXPECT_EQ(core_essential_name("a___b___c"), "a___b");
    EXPECT_EQ(core_essential_name("x___y"), "x");
    // The separator needs a non-underscore character on both sides.
    EXPECT_EQ(core_essential_name("a____b"), "a____b");
    EXPECT_EQ(core_essential_name("a___"), "a___");
    EXPECT_EQ(core_essential_name("___a"), "___a");
    EXPECT_EQ(core_essential_name("_a___b"), "_a");
    EXPECT_EQ(core_essential_name(""), "");
}

TEST(CoreNames, KindNamesAreLibbpfs) {
    const std::map<BtfCoreReloKind, std::string> expected = {
        {BtfCoreReloKind::FieldByteOffset, "byte_off"},     {BtfCoreReloKind::FieldByteSize, "byte_sz"},
        {BtfCoreReloKind::FieldExists, "field_exists"},     {BtfCoreReloKind::FieldSigned, "signed"},
        {BtfCoreReloKind::FieldLshiftU64, "lshift_u64"},    {BtfCoreReloKind::FieldRshiftU64, "rshift_u64"},
        {BtfCoreReloKind::TypeIdLocal, "local_type_id"},    {BtfCoreReloKind::TypeIdTarget, "target_type_id"},
        {BtfCoreReloKind::TypeExists, "type_exists"},       {BtfCoreReloKind::TypeSize, "type_size"},
        {BtfCoreReloKind::EnumvalExists, "enumval_exists"}, {BtfCoreReloKind::EnumvalValue, "enumval_value"},
        {BtfCoreReloKind::TypeMatches, "type_matches"},
    };
    for (const auto& [kind, name] : expected) EXPECT_EQ(core_relo_kind_name(kind), name);
    EXPECT_EQ(core_relo_kind_name(static_cast<BtfCoreReloKind>(99)), "unknown");
}

// ---------------------------------------------------------------------------------------------
// The corpus program
// ---------------------------------------------------------------------------------------------

class CoreCorpus : public ::testing::Test {
 protected:
    void SetUp() override {
        object_ = core_test::read_core_object(kCoreObject);
        if (!object_.skip_reason.empty()) GTEST_SKIP() << object_.skip_reason;
        auto section = object_.core_relos.find(kCoreSection);
        ASSERT_NE(section, object_.core_relos.end()) << "no CO-RE records for " << kCoreSection;
        records_ = section->second;
        ASSERT_GE(records_.size(), 30u);
    }

    const Btf& local() const { return *object_.btf; }

    CoreObject object_;
    std::vector<BtfCoreRelo> records_;
};

// The records come from the tests' own .BTF.ext reader; BtfExt must find the same ones.
TEST_F(CoreCorpus, BtfExtParserFindsTheSameRecords) {
    const BtfExtSection* section = object_.ext->section(kCoreSection);
    ASSERT_NE(section, nullptr);
    ASSERT_EQ(section->core_relos.size(), records_.size())
        << "BtfExt::parse misses the core_relo block: clang writes a 32-byte .BTF.ext header that "
           "includes core_relo_off/len (24 bytes without them)";
    for (size_t i = 0; i < records_.size(); ++i) {
        EXPECT_EQ(section->core_relos[i].insn_off, records_[i].insn_off);
        EXPECT_EQ(section->core_relos[i].type_id, records_[i].type_id);
        EXPECT_EQ(section->core_relos[i].access, records_[i].access);
        EXPECT_EQ(section->core_relos[i].kind, records_[i].kind);
    }
}

TEST_F(CoreCorpus, CoversEveryRelocationKind) {
    std::set<BtfCoreReloKind> kinds;
    for (const BtfCoreRelo& r : records_) kinds.insert(r.kind);
    for (uint32_t k = 0; k <= static_cast<uint32_t>(BtfCoreReloKind::TypeMatches); ++k) {
        EXPECT_TRUE(kinds.count(static_cast<BtfCoreReloKind>(k)))
            << "core_fields.bpf.c has no " << core_relo_kind_name(static_cast<BtfCoreReloKind>(k))
            << " relocation";
    }
}

TEST_F(CoreCorpus, EveryRelocationResolvesToItselfAgainstItsOwnBtf) {
    for (const BtfCoreRelo& r : records_) {
        CoreResolution res = resolve_ok(local(), local(), r);
        SCOPED_TRACE(res.description);
        EXPECT_TRUE(res.resolved);
        EXPECT_TRUE(res.found) << res.failure;
        EXPECT_EQ(res.target_value, res.local_value) << core_relo_kind_name(r.kind);
        EXPECT_EQ(res.target_field_size, res.local_field_size);
    }
}

TEST_F(CoreCorpus, ApplyingItsOwnBtfOnlyRewritesUncheckedBitfieldValues) {
    std::vector<isa::RawInstruction> slots = object_.slots(kCoreSection);
    ASSERT_FALSE(slots.empty());
    const std::vector<isa::RawInstruction> original = slots;
    std::vector<CorePoison> poisoned;
    Status status =
        apply_core_relocations(slots, kCoreSection, records_, local(), local(), kCoreObject, poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    EXPECT_TRUE(poisoned.empty());
    // Values that are checked against the instruction are unchanged by construction; the
    // bitfield's load chunk is libbpf's choice (the declared type's size), not clang's.
    std::set<uint32_t> unchecked;
    for (const BtfCoreRelo& r : records_) {
        auto res = resolve_core_relocation(local(), local(), r);
        ASSERT_TRUE(res.ok());
        if (!res->check_local_value) unchecked.insert(r.insn_off / 8);
    }
    for (uint32_t i = 0; i < slots.size(); ++i) {
        if (!unchecked.count(i)) {
            EXPECT_EQ(slots[i], original[i]) << "slot " << i;
        }
    }
    EXPECT_TRUE(isa::decode_program(slots).ok());
}

// ---------------------------------------------------------------------------------------------
// Against the running kernel: expected values found by walking vmlinux by member name.
// ---------------------------------------------------------------------------------------------

// A member found by name, looking through anonymous struct/union members, with its bit offset
// from the start of `id`.
struct FoundMember {
    BtfMember member;
    uint64_t bit_offset = 0;
};

std::optional<FoundMember> find_member_by_name(const Btf& btf, uint32_t id, std::string_view name,
                                               int depth = 0) {
    if (depth > 16) return std::nullopt;
    auto resolved = btf.resolve(id);
    if (!resolved) return std::nullopt;
    for (const BtfMember& m : btf.members(*resolved)) {
        if (m.name == name) return FoundMember{m, m.bit_offset};
        if (m.name.empty()) {
            if (auto inner = find_member_by_name(btf, m.type, name, depth + 1)) {
                inner->bit_offset += m.bit_offset;
                return inner;
            }
        }
    }
    return std::nullopt;
}

// One step of an access, by name: a member or an array index.
struct Step {
    std::string member;  // empty for an index
    uint32_t index = 0;
};

// The named path of a field access in the local BTF ("0:2:1" on task_struct -> se, vlag).
std::vector<Step> named_path(const Btf& btf, uint32_t root, std::string_view access) {
    std::vector<uint32_t> raw;
    size_t pos = 0;
    while (pos <= access.size()) {
        size_t colon = access.find(':', pos);
        if (colon == std::string_view::npos) colon = access.size();
        raw.push_back(static_cast<uint32_t>(std::stoul(std::string(access.substr(pos, colon - pos)))));
        pos = colon + 1;
    }
    std::vector<Step> path;
    uint32_t id = root;
    for (size_t i = 1; i < raw.size(); ++i) {
        id = *btf.resolve(id);
        const BtfType* type = btf.type(id);
        if (type->kind == BtfKind::Array) {
            path.push_back(Step{"", raw[i]});
            id = type->array_elem_type();
        } else {
            const BtfMember& m = btf.members(id)[raw[i]];
            if (!m.name.empty()) path.push_back(Step{std::string(m.name), 0});
            id = m.type;
        }
    }
    return path;
}

struct KernelField {
    uint64_t bit_offset = 0;
    uint32_t bitfield_size = 0;
    uint32_t type = 0;  // the member's type in vmlinux
};

// Walks `path` from the type named `root` in vmlinux.
std::optional<KernelField> kernel_field(const Btf& vmlinux, const std::string& root,
                                        const std::vector<Step>& path) {
    auto id = vmlinux.find_by_name(root, BtfKind::Struct);
    if (!id) return std::nullopt;
    KernelField field;
    field.type = *id;
    for (const Step& step : path) {
        if (step.member.empty()) {
            uint32_t array = *vmlinux.resolve(field.type);
            uint32_t element = vmlinux.type(array)->array_elem_type();
            field.bit_offset += uint64_t{step.index} * *vmlinux.size_of(element) * 8;
            field.type = element;
            field.bitfield_size = 0;
            continue;
        }
        auto found = find_member_by_name(vmlinux, field.type, step.member);
        if (!found) return std::nullopt;
        field.bit_offset += found->bit_offset;
        field.bitfield_size = found->member.bitfield_size;
        field.type = found->member.type;
    }
    return field;
}

class CoreVmlinux : public CoreCorpus {
 protected:
    void SetUp() override {
        CoreCorpus::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        std::string why;
        vmlinux_ = core_test::read_vmlinux_btf(why);
        if (!vmlinux_) GTEST_SKIP() << why;
        index_.emplace(*vmlinux_);
    }

    std::optional<Btf> vmlinux_;
    std::optional<CoreTargetIndex> index_;
};

TEST_F(CoreVmlinux, ValuesMatchAnIndependentWalkOfVmlinux) {
    size_t checked = 0;
    for (const BtfCoreRelo& r : records_) {
        auto resolved = resolve_core_relocation(local(), *index_, r);
        ASSERT_TRUE(resolved.ok()) << resolved.error().to_string();
        const CoreResolution& res = *resolved;
        SCOPED_TRACE(res.description + " " + std::string(core_relo_kind_name(r.kind)));
        const std::string root(core_essential_name(local().name(r.type_id)));
        const BtfType* local_root = local().type(r.type_id);
        switch (r.kind) {
            case BtfCoreReloKind::FieldByteOffset:
            case BtfCoreReloKind::FieldByteSize:
            case BtfCoreReloKind::FieldExists:
            case BtfCoreReloKind::FieldSigned:
            case BtfCoreReloKind::FieldLshiftU64:
            case BtfCoreReloKind::FieldRshiftU64: {
                auto path = named_path(local(), r.type_id, r.access);
                auto field = kernel_field(*vmlinux_, root, path);
                if (!field) {
                    // Only the pre-5.14 `state` is missing from the kernel, and only behind a guard.
                    EXPECT_EQ(path.back().member, "state");
                    EXPECT_FALSE(res.found);
                    if (r.kind == BtfCoreReloKind::FieldExists) {
                        EXPECT_TRUE(res.resolved);
                        EXPECT_EQ(res.target_value, 0u);
                    } else {
                        EXPECT_FALSE(res.resolved) << "an access to a missing field must be poisoned";
                    }
                    EXPECT_NE(res.failure.find("state"), std::string::npos) << res.failure;
                    ++checked;
                    break;
                }
                ASSERT_TRUE(res.resolved && res.found) << res.failure;
                const uint32_t kernel_type = *vmlinux_->resolve(field->type);
                const BtfType* type = vmlinux_->type(kernel_type);
                if (r.kind == BtfCoreReloKind::FieldExists) {
                    EXPECT_EQ(res.target_value, 1u);
                } else if (r.kind == BtfCoreReloKind::FieldSigned) {
                    const bool is_signed =
                        type->kind == BtfKind::Int && (type->int_encoding() & kBtfIntSigned);
                    EXPECT_EQ(res.target_value, is_signed ? 1u : 0u);
                } else if (field->bitfield_size == 0) {
                    const uint64_t size = *vmlinux_->size_of(kernel_type);
                    if (r.kind == BtfCoreReloKind::FieldByteOffset) {
                        EXPECT_EQ(res.target_value, field->bit_offset / 8);
                        EXPECT_EQ(res.target_field_size, size);
                    } else if (r.kind == BtfCoreReloKind::FieldByteSize) {
                        EXPECT_EQ(res.target_value, size);
                    } else {
                        ADD_FAILURE() << "shift relocation on a whole field";
                    }
                } else {
                    // A bitfield: the load chunk (offset/size from the other relocations of the
                    // same field) must hold the field, and the shifts must extract exactly it.
                    uint64_t byte_off = 0, byte_sz = 0;
                    for (const BtfCoreRelo& other : records_) {
                        if (other.type_id != r.type_id || other.access != r.access) continue;
                        auto o = resolve_core_relocation(local(), *index_, other);
                        ASSERT_TRUE(o.ok());
                        if (other.kind == BtfCoreReloKind::FieldByteOffset) byte_off = o->target_value;
                        if (other.kind == BtfCoreReloKind::FieldByteSize) byte_sz = o->target_value;
                    }
                    ASSERT_TRUE(byte_sz == 1 || byte_sz == 2 || byte_sz == 4 || byte_sz == 8) << byte_sz;
                    EXPECT_EQ(byte_off % byte_sz, 0u);
                    EXPECT_LE(byte_off * 8, field->bit_offset);
                    EXPECT_LE(field->bit_offset + field->bitfield_size, (byte_off + byte_sz) * 8);
                    const uint64_t end_in_chunk = field->bit_offset + field->bitfield_size - byte_off * 8;
                    if (r.kind == BtfCoreReloKind::FieldLshiftU64) {
                        EXPECT_EQ(res.target_value, 64 - end_in_chunk);
                    } else if (r.kind == BtfCoreReloKind::FieldRshiftU64) {
                        EXPECT_EQ(res.target_value, 64u - field->bitfield_size);
                    } else if (r.kind == BtfCoreReloKind::FieldByteSize) {
                        EXPECT_GE(res.target_value * 8, field->bitfield_size);
                    }
                }
                ++checked;
                break;
            }
            case BtfCoreReloKind::TypeIdLocal:
                EXPECT_EQ(res.target_value, r.type_id);
                ++checked;
                break;
            case BtfCoreReloKind::TypeIdTarget:
            case BtfCoreReloKind::TypeExists:
            case BtfCoreReloKind::TypeSize:
            case BtfCoreReloKind::TypeMatches: {
                auto id = vmlinux_->find_by_name(root, local_root->kind);
                EXPECT_TRUE(res.resolved);
                if (!id) {
                    EXPECT_EQ(root, "bpfvm_not_in_any_kernel");
                    EXPECT_FALSE(res.found);
                    EXPECT_EQ(res.target_value, 0u);
                } else if (r.kind == BtfCoreReloKind::TypeIdTarget) {
                    EXPECT_EQ(res.target_value, *id);
                } else if (r.kind == BtfCoreReloKind::TypeSize) {
                    EXPECT_EQ(res.target_value, *vmlinux_->size_of(*id));
                } else {
                    EXPECT_EQ(res.target_value, 1u);
                }
                ++checked;
                break;
            }
            case BtfCoreReloKind::EnumvalExists:
            case BtfCoreReloKind::EnumvalValue: {
                const std::string_view name =
                    local().enumerators(r.type_id)[std::stoul(std::string(r.access))].name;
                std::optional<uint64_t> value;
                for (BtfKind kind : {BtfKind::Enum, BtfKind::Enum64}) {
                    auto id = vmlinux_->find_by_name(root, kind);
                    if (!id) continue;
                    for (const BtfEnumerator& e : vmlinux_->enumerators(*id)) {
                        if (e.name != name) continue;
                        value = e.value;
                        if (kind == BtfKind::Enum)
                            value = static_cast<uint64_t>(int64_t{static_cast<int32_t>(e.value)});
                    }
                }
                ASSERT_TRUE(value) << name << " is not in vmlinux";
                EXPECT_EQ(res.target_value, r.kind == BtfCoreReloKind::EnumvalExists ? 1 : *value);
                ++checked;
                break;
            }
        }
    }
    EXPECT_EQ(checked, records_.size());
}

TEST_F(CoreVmlinux, ApplyPoisonsOnlyTheGuardedMissingFieldAndShrinksTheWideLoad) {
    std::vector<isa::RawInstruction> slots = object_.slots(kCoreSection);
    std::vector<CorePoison> poisoned;
    Status status =
        apply_core_relocations(slots, kCoreSection, records_, local(), *vmlinux_, kCoreObject, poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    ASSERT_EQ(poisoned.size(), 1u);
    const isa::RawInstruction& poison = slots[poisoned[0].slot];
    EXPECT_EQ(poison.imm, kCorePoisonHelperId);
    EXPECT_NE(poisoned[0].message.find("task_struct___pre514.state"), std::string::npos)
        << poisoned[0].message;
    auto program = isa::decode_program(slots);
    ASSERT_TRUE(program.ok()) << program.error().to_string();

    // `flags` is unsigned long in the program and unsigned int in the kernel: its direct load
    // must read 4 bytes at the kernel's offset.
    auto task = vmlinux_->find_by_name("task_struct", BtfKind::Struct);
    ASSERT_TRUE(task);
    auto flags = find_member_by_name(*vmlinux_, *task, "flags");
    ASSERT_TRUE(flags);
    bool saw_flags_load = false;
    for (const BtfCoreRelo& r : records_) {
        auto decoded = isa::decode_instruction(slots, r.insn_off / 8);
        ASSERT_TRUE(decoded.ok());
        const auto* load = std::get_if<isa::Load>(&*decoded);
        if (!load || named_path(local(), r.type_id, r.access).back().member != "flags") continue;
        saw_flags_load = true;
        EXPECT_EQ(load->size, 4);
        EXPECT_EQ(static_cast<uint64_t>(load->offset), flags->bit_offset / 8);
    }
    EXPECT_TRUE(saw_flags_load);
}

TEST_F(CoreVmlinux, IndexAndLinearScanAgree) {
    auto task = vmlinux_->find_by_name("task_struct", BtfKind::Struct);
    ASSERT_TRUE(task);
    auto named = index_->types_named("task_struct");
    EXPECT_NE(std::find(named.begin(), named.end(), *task), named.end());
    EXPECT_TRUE(index_->types_named("").empty());
    EXPECT_TRUE(index_->types_named("bpfvm_not_in_any_kernel").empty());
    for (const BtfCoreRelo& r : records_) {
        auto with_index = resolve_core_relocation(local(), *index_, r);
        auto scanning = resolve_core_relocation(local(), *vmlinux_, r);
        ASSERT_EQ(with_index.ok(), scanning.ok());
        if (!with_index.ok()) continue;
        EXPECT_EQ(with_index->resolved, scanning->resolved);
        EXPECT_EQ(with_index->target_value, scanning->target_value);
    }
}

TEST_F(CoreVmlinux, ManyRelocationsAgainstVmlinuxStayFast) {
    // 20 copies of every record: with one index per apply call this is a few thousand
    // logarithmic look-ups; a scan of vmlinux's types per record would take far longer.
    std::vector<BtfCoreRelo> many;
    for (int i = 0; i < 20; ++i) many.insert(many.end(), records_.begin(), records_.end());
    auto start = std::chrono::steady_clock::now();
    for (const BtfCoreRelo& r : many) ASSERT_TRUE(resolve_core_relocation(local(), *index_, r).ok());
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 10);
}

// ---------------------------------------------------------------------------------------------
// Hand-built BTF: fields
// ---------------------------------------------------------------------------------------------

TEST(CoreFields, NestedMembersArraysAndAnonymousMembers) {
    // local: struct outer { int a; struct inner in; int arr[4]; }  struct inner { int x; int y; }
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_inner = l.add_struct("inner", 8, {{"x", l_int, 0}, {"y", l_int, 32}});
    const uint32_t l_arr = l.add_array(l_int, l_int, 4);
    const uint32_t l_outer =
        l.add_struct("outer", 28, {{"a", l_int, 0}, {"in", l_inner, 32}, {"arr", l_arr, 96}});
    Btf local = l.parse();

    // target: struct outer { long pad; union { int q; struct inner in; }; int arr[8]; int a; }
    //         struct inner { int pad; int pad2; int y; int x; }
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    const uint32_t t_long = t.add_int("long", 8, true);
    const uint32_t t_inner = t.add_struct(
        "inner", 16, {{"pad", t_int, 0}, {"pad2", t_int, 32}, {"y", t_int, 64}, {"x", t_int, 96}});
    const uint32_t t_anon = t.add_struct("", 16, {{"q", t_int, 0}, {"in", t_inner, 0}}, /*is_union=*/true);
    const uint32_t t_arr = t.add_array(t_int, t_int, 8);
    t.add_struct("outer", 64, {{"pad", t_long, 0}, {"", t_anon, 64}, {"arr", t_arr, 192}, {"a", t_int, 448}});
    Btf target = t.parse();

    CoreResolution a = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "0:0"));
    EXPECT_TRUE(a.resolved);
    EXPECT_EQ(a.local_value, 0u);
    EXPECT_EQ(a.target_value, 56u);
    EXPECT_EQ(a.description, "struct outer.a (0:0)");

    CoreResolution y = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "0:1:1"));
    EXPECT_EQ(y.local_value, 8u);
    EXPECT_EQ(y.target_value, 8u + 8u);  // union at 8, inner.y at 8 inside
    EXPECT_EQ(y.description, "struct outer.in.y (0:1:1)");

    CoreResolution x = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "0:1:0"));
    EXPECT_EQ(x.target_value, 8u + 12u);
    EXPECT_EQ(x.local_field_size, 4u);
    EXPECT_EQ(x.target_field_size, 4u);

    CoreResolution element =
        resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "0:2:3"));
    EXPECT_EQ(element.local_value, 12u + 12u);
    EXPECT_EQ(element.target_value, 24u + 12u);
    EXPECT_EQ(element.description, "struct outer.arr[3] (0:2:3)");

    // Index 5 exists in the target's int[8], not in the local int[4]: a malformed record.
    EXPECT_NE(resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "0:2:5"))
                  .find("out of range"),
              std::string::npos);

    // The root index scales by the root type's size on each side.
    CoreResolution second = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_outer, "2:0"));
    EXPECT_EQ(second.local_value, 56u);
    EXPECT_EQ(second.target_value, 128u + 56u);

    CoreResolution size = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteSize, l_outer, "0:2"));
    EXPECT_EQ(size.local_value, 16u);
    EXPECT_EQ(size.target_value, 32u);
    CoreResolution element_size =
        resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteSize, l_outer, "0:2:1"));
    EXPECT_EQ(element_size.target_value, 4u);
    // Shifts make no sense for an array element.
    resolve_error(local, target, relo(BtfCoreReloKind::FieldLshiftU64, l_outer, "0:2:1"));
}

TEST(CoreFields, FlexibleArrayMayBeIndexedPastItsEnd) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_flex = l.add_array(l_int, l_int, 0);
    const uint32_t l_s = l.add_struct("msg", 4, {{"len", l_int, 0}, {"data", l_flex, 32}});
    Btf local = l.parse();
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    const uint32_t t_flex = t.add_array(t_int, t_int, 0);
    t.add_struct("msg", 8, {{"flags", t_int, 0}, {"len", t_int, 32}, {"data", t_flex, 64}});
    Btf target = t.parse();
    CoreResolution res = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:1:7"));
    EXPECT_EQ(res.local_value, 4u + 28u);
    EXPECT_EQ(res.target_value, 8u + 28u);
}

TEST(CoreFields, IncompatibleOrMissingFieldsDoNotResolve) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_ptr = l.add_ptr(l_int);
    const uint32_t l_s = l.add_struct("s", 24, {{"p", l_ptr, 0}, {"n", l_int, 64}, {"gone", l_int, 96}});
    Btf local = l.parse();
    TypeBuilder t;
    const uint32_t t_int = t.add_int("unsigned int", 4, false);
    const uint32_t t_inner = t.add_struct("inner", 4, {{"v", t_int, 0}});
    t.add_struct("s", 16, {{"n", t_int, 0}, {"p", t_inner, 32}});
    Btf target = t.parse();

    // int -> unsigned int: integers are compatible whatever their size and sign.
    CoreResolution n = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:1"));
    EXPECT_TRUE(n.resolved);
    EXPECT_EQ(n.target_value, 0u);
    CoreResolution n_signed = resolve_ok(local, target, relo(BtfCoreReloKind::FieldSigned, l_s, "0:1"));
    EXPECT_EQ(n_signed.local_value, 1u);
    EXPECT_EQ(n_signed.target_value, 0u);

    // pointer -> struct: not compatible.
    CoreResolution p = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:0"));
    EXPECT_FALSE(p.resolved);
    EXPECT_FALSE(p.found);
    EXPECT_NE(p.failure.find("'p'"), std::string::npos) << p.failure;
    CoreResolution p_exists = resolve_ok(local, target, relo(BtfCoreReloKind::FieldExists, l_s, "0:0"));
    EXPECT_TRUE(p_exists.resolved);
    EXPECT_EQ(p_exists.target_value, 0u);
    EXPECT_EQ(p_exists.local_value, 1u);

    CoreResolution gone = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:2"));
    EXPECT_FALSE(gone.resolved);
    EXPECT_NE(gone.failure.find("member 'gone' not found in struct s"), std::string::npos) << gone.failure;
}

// ---------------------------------------------------------------------------------------------
// Bitfields
// ---------------------------------------------------------------------------------------------

struct BitfieldCase {
    const char* access;
    uint64_t byte_off, byte_sz, lshift, rshift, is_signed;
};

TEST(CoreBitfields, OffsetSizeAndShiftsFollowTheTargetLayout) {
    // local struct bits { unsigned a:3; unsigned b:5; unsigned c:12; int d:4; u64 e:7; }
    TypeBuilder l;
    const uint32_t l_uint = l.add_int("unsigned int", 4, false);
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_u64 = l.add_int("unsigned long long", 8, false);
    const uint32_t l_bits = l.add_struct("bits", 8,
                                         {{"a", l_uint, 0, 3},
                                          {"b", l_uint, 3, 5},
                                          {"c", l_uint, 8, 12},
                                          {"d", l_int, 20, 4},
                                          {"e", l_u64, 24, 7}});
    Btf local = l.parse();
    // target: an int before them, and the bitfields elsewhere; c straddles a 4-byte boundary
    // (so its load widens to 8 bytes), e straddles an 8-byte boundary.
    TypeBuilder t;
    const uint32_t t_uint = t.add_int("unsigned int", 4, false);
    const uint32_t t_int = t.add_int("int", 4, true);
    const uint32_t t_u64 = t.add_int("unsigned long long", 8, false);
    t.add_struct("bits", 24,
                 {{"pad", t_int, 0, 0},
                  {"b", t_uint, 37, 5},
                  {"c", t_uint, 26, 12},
                  {"d", t_int, 72, 4},
                  {"e", t_u64, 124, 7}});
    Btf target = t.parse();

    const BitfieldCase local_cases[] = {
        {"0:1", 0, 4, 64 - 8, 64 - 5, 0},
        {"0:2", 0, 4, 64 - 20, 64 - 12, 0},
        {"0:3", 0, 4, 64 - 24, 64 - 4, 1},
    };
    const BitfieldCase target_cases[] = {
        {"0:1", 4, 4, 64 - (42 - 32), 64 - 5, 0},
        {"0:2", 0, 8, 64 - 38, 64 - 12, 0},
        {"0:3", 8, 4, 64 - (76 - 64), 64 - 4, 1},
    };
    for (size_t i = 0; i < std::size(target_cases); ++i) {
        const BitfieldCase& want = target_cases[i];
        const BitfieldCase& was = local_cases[i];
        SCOPED_TRACE(want.access);
        const std::pair<BtfCoreReloKind, std::pair<uint64_t, uint64_t>> kinds[] = {
            {BtfCoreReloKind::FieldByteOffset, {was.byte_off, want.byte_off}},
            {BtfCoreReloKind::FieldByteSize, {was.byte_sz, want.byte_sz}},
            {BtfCoreReloKind::FieldLshiftU64, {was.lshift, want.lshift}},
            {BtfCoreReloKind::FieldRshiftU64, {was.rshift, want.rshift}},
            {BtfCoreReloKind::FieldSigned, {was.is_signed, want.is_signed}},
        };
        for (const auto& [kind, values] : kinds) {
            CoreResolution res = resolve_ok(local, target, relo(kind, l_bits, want.access));
            EXPECT_TRUE(res.resolved);
            EXPECT_EQ(res.local_value, values.first) << core_relo_kind_name(kind);
            EXPECT_EQ(res.target_value, values.second) << core_relo_kind_name(kind);
            // libbpf checks only signedness and the right shift of a bitfield.
            const bool checked =
                kind == BtfCoreReloKind::FieldSigned || kind == BtfCoreReloKind::FieldRshiftU64;
            EXPECT_EQ(res.check_local_value, checked) << core_relo_kind_name(kind);
            EXPECT_EQ(res.target_field_size, 0u);  // no load-size adjustment for bitfields
        }
    }
    // e crosses an 8-byte boundary on the target: no single load holds it.
    std::string error = resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_bits, "0:4"));
    EXPECT_NE(error.find("cannot be read with one load"), std::string::npos) << error;
    // The local e is fine.
    CoreResolution local_e = resolve_ok(local, local, relo(BtfCoreReloKind::FieldLshiftU64, l_bits, "0:4"));
    EXPECT_EQ(local_e.target_value, 64u - 31u);
}

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

TEST(CoreEnums, Enum64AndSignedEnumValues) {
    TypeBuilder l;
    const uint32_t l_flags = l.add_enum64("flags", {{"A", 0x100000000ull}, {"B", 5}, {"C", 9}});
    const uint32_t l_small = l.add_enum("small", 4, {{"NEG", -3}, {"POS", 7}}, /*is_signed=*/true);
    const uint32_t l_grow = l.add_enum("grow", 4, {{"G", 1}});
    const uint32_t l_top = l.add_enum("top", 4, {{"HIGH", 0x80000000ll}});
    Btf local = l.parse();
    TypeBuilder t;
    t.add_enum64("flags", {{"B", 6}, {"A", 0x200000000ull}});
    t.add_enum("small", 4, {{"POS", 8}, {"NEG", -4}}, true);
    t.add_enum64("grow", {{"G", 0x100000001ull}});
    t.add_enum("top", 4, {{"HIGH", 0x80000001ll}});
    Btf target = t.parse();

    CoreResolution a = resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_flags, "0"));
    EXPECT_EQ(a.local_value, 0x100000000ull);
    EXPECT_EQ(a.target_value, 0x200000000ull);
    EXPECT_EQ(a.description, "enum flags::A (0)");
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_flags, "1")).target_value, 6u);
    CoreResolution neg = resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_small, "0"));
    EXPECT_EQ(neg.local_value, static_cast<uint64_t>(-3));
    EXPECT_EQ(neg.target_value, static_cast<uint64_t>(-4));
    // A 32-bit enum may relocate to a 64-bit one.
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_grow, "0")).target_value,
              0x100000001ull);
    // 32-bit enumerators read as signed 32-bit numbers, whatever the enum's sign (as libbpf).
    CoreResolution top = resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_top, "0"));
    EXPECT_EQ(top.local_value, 0xffffffff80000000ull);
    EXPECT_EQ(top.target_value, 0xffffffff80000001ull);

    // C is not in the target.
    CoreResolution c_exists = resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalExists, l_flags, "2"));
    EXPECT_TRUE(c_exists.resolved);
    EXPECT_EQ(c_exists.local_value, 1u);
    EXPECT_EQ(c_exists.target_value, 0u);
    CoreResolution c = resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_flags, "2"));
    EXPECT_FALSE(c.resolved);
    EXPECT_NE(c.failure.find("C"), std::string::npos);

    EXPECT_NE(
        resolve_error(local, target, relo(BtfCoreReloKind::EnumvalValue, l_flags, "3")).find("out of range"),
        std::string::npos);
    resolve_error(local, target, relo(BtfCoreReloKind::EnumvalValue, l_flags, "0:0"));
}

// ---------------------------------------------------------------------------------------------
// Types, flavors, ambiguity
// ---------------------------------------------------------------------------------------------

TEST(CoreTypes, FlavorSuffixesAreIgnoredAndAgreeingCandidatesAreFine) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_foo = l.add_struct("foo___v2", 8, {{"y", l_int, 0}, {"x", l_int, 32}});
    Btf local = l.parse();

    // One candidate without a suffix; a union of the same name is not a candidate.
    TypeBuilder one;
    const uint32_t o_int = one.add_int("int", 4, true);
    one.add_struct("foo", 12, {{"x", o_int, 0}}, /*is_union=*/true);
    const uint32_t o_foo = one.add_struct("foo", 12, {{"y", o_int, 0}, {"x", o_int, 64}});
    Btf target_one = one.parse();
    EXPECT_EQ(
        resolve_ok(local, target_one, relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:1")).target_value, 8u);
    EXPECT_EQ(resolve_ok(local, target_one, relo(BtfCoreReloKind::TypeSize, l_foo, "0")).target_value, 12u);
    CoreResolution id = resolve_ok(local, target_one, relo(BtfCoreReloKind::TypeIdTarget, l_foo, "0"));
    EXPECT_EQ(id.target_value, o_foo);
    EXPECT_EQ(id.local_value, l_foo);
    EXPECT_FALSE(id.check_local_value);
    CoreResolution local_id = resolve_ok(local, target_one, relo(BtfCoreReloKind::TypeIdLocal, l_foo, "0"));
    EXPECT_EQ(local_id.target_value, l_foo);
    EXPECT_FALSE(local_id.check_local_value);

    // Several flavors in the target: those with x agree on its offset, the one without x is
    // no candidate for the field (but is one for type_exists).
    TypeBuilder many;
    const uint32_t m_int = many.add_int("int", 4, true);
    many.add_struct("foo___a", 12, {{"x", m_int, 64}});
    many.add_struct("foo___b", 12, {{"z", m_int, 0}, {"x", m_int, 64}});
    many.add_struct("foo___c", 12, {{"z", m_int, 0}});
    Btf target_many = many.parse();
    CoreResolution x = resolve_ok(local, target_many, relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:1"));
    EXPECT_TRUE(x.resolved);
    EXPECT_EQ(x.target_value, 8u);
    EXPECT_EQ(resolve_ok(local, target_many, relo(BtfCoreReloKind::TypeSize, l_foo, "0")).target_value, 12u);
    EXPECT_EQ(resolve_ok(local, target_many, relo(BtfCoreReloKind::TypeExists, l_foo, "0")).target_value, 1u);
}

TEST(CoreTypes, CandidatesThatDisagreeAreAnAmbiguityError) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_foo = l.add_struct("foo", 8, {{"y", l_int, 0}, {"x", l_int, 32}});
    Btf local = l.parse();
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    t.add_struct("foo___a", 12, {{"x", t_int, 64}});
    t.add_struct("foo___b", 16, {{"x", t_int, 96}});
    Btf target = t.parse();
    std::string field = resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:1"));
    EXPECT_NE(field.find("ambiguous"), std::string::npos) << field;
    EXPECT_NE(field.find("byte_off"), std::string::npos) << field;
    EXPECT_NE(field.find("struct foo.x (0:1)"), std::string::npos) << field;
    std::string size = resolve_error(local, target, relo(BtfCoreReloKind::TypeSize, l_foo, "0"));
    EXPECT_NE(size.find("ambiguous"), std::string::npos) << size;
    // Both exist, so existence is not ambiguous.
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::TypeExists, l_foo, "0")).target_value, 1u);
}

TEST(CoreTypes, EarlierMatchesNarrowTheCandidatesForLaterRecordsOfTheSameRoot) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_foo = l.add_struct("foo", 8, {{"x", l_int, 0}, {"y", l_int, 32}});
    Btf local = l.parse();
    // Only foo___a has x; both have y, at different offsets.
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    t.add_struct("foo___a", 8, {{"y", t_int, 0}, {"x", t_int, 32}});
    t.add_struct("foo___b", 8, {{"z", t_int, 0}, {"y", t_int, 32}});
    Btf target = t.parse();
    // On its own, y is ambiguous.
    EXPECT_NE(
        resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:1")).find("ambiguous"),
        std::string::npos);
    // After x picked foo___a, y follows foo___a (libbpf's candidate cache does the same).
    std::vector<isa::RawInstruction> slots = {
        isa::encode(isa::Alu{isa::Op::Mov, true, 1, isa::Operand::make_imm(0)}).slots[0],
        isa::encode(isa::Alu{isa::Op::Mov, true, 2, isa::Operand::make_imm(4)}).slots[0],
        isa::encode(isa::Exit{}).slots[0],
    };
    const std::vector<BtfCoreRelo> records = {relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:0", 0),
                                              relo(BtfCoreReloKind::FieldByteOffset, l_foo, "0:1", 1)};
    std::vector<CorePoison> poisoned;
    Status status = apply_core_relocations(slots, "sec", records, local, target, "f.o", poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    EXPECT_EQ(slots[0].imm, 4);
    EXPECT_EQ(slots[1].imm, 0);
    // In the other order y comes first and is ambiguous.
    const std::vector<BtfCoreRelo> reversed = {records[1], records[0]};
    EXPECT_FALSE(apply_core_relocations(slots, "sec", reversed, local, target, "f.o", poisoned).ok());
}

TEST(CoreTypes, MissingTypeResolvesToZeroOrPoison) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_gone = l.add_struct("nothere", 4, {{"x", l_int, 0}});
    const uint32_t l_enum = l.add_enum("gone_enum", 4, {{"V", 1}});
    Btf local = l.parse();
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    t.add_struct("other", 4, {{"x", t_int, 0}});
    Btf target = t.parse();

    for (BtfCoreReloKind kind : {BtfCoreReloKind::TypeExists, BtfCoreReloKind::TypeSize,
                                 BtfCoreReloKind::TypeIdTarget, BtfCoreReloKind::TypeMatches}) {
        CoreResolution res = resolve_ok(local, target, relo(kind, l_gone, "0"));
        SCOPED_TRACE(core_relo_kind_name(kind));
        EXPECT_TRUE(res.resolved);
        EXPECT_FALSE(res.found);
        EXPECT_EQ(res.target_value, 0u);
        EXPECT_NE(res.failure.find("no struct named nothere"), std::string::npos) << res.failure;
    }
    CoreResolution offset = resolve_ok(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_gone, "0:0"));
    EXPECT_FALSE(offset.resolved);
    CoreResolution exists = resolve_ok(local, target, relo(BtfCoreReloKind::FieldExists, l_gone, "0:0"));
    EXPECT_TRUE(exists.resolved);
    EXPECT_EQ(exists.target_value, 0u);
    EXPECT_FALSE(resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_enum, "0")).resolved);
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalExists, l_enum, "0")).target_value, 0u);
}

TEST(CoreTypes, TypedefRootsAndTypeMatches) {
    // local: typedef unsigned int u32; struct pair { int a; struct pair *next; }
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_uint = l.add_int("unsigned int", 4, false);
    const uint32_t l_u32 = l.add_typedef("u32", l_uint);
    const uint32_t l_pair_ptr = l.add_ptr(l_u32 + 2);  // the struct added next
    const uint32_t l_pair = l.add_struct("pair", 16, {{"a", l_int, 0}, {"next", l_pair_ptr, 64}});
    ASSERT_EQ(l_pair, l_pair_ptr + 1);
    Btf local = l.parse();

    // target 1: u32 is 8 bytes wide (still an integer: compatible); pair has an extra member.
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    const uint32_t t_ulong = t.add_int("unsigned long", 8, false);
    t.add_typedef("u32", t_ulong);
    const uint32_t t_pair_ptr = t.add_ptr(t_ulong + 3);
    t.add_struct("pair", 24, {{"b", t_ulong, 0}, {"a", t_int, 64}, {"next", t_pair_ptr, 128}});
    Btf target = t.parse();
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::TypeSize, l_u32, "0")).target_value, 8u);
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::TypeExists, l_u32, "0")).target_value, 1u);
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::TypeMatches, l_pair, "0")).target_value, 1u);
    // type_matches is stricter: u32 is 4 bytes locally, 8 in the target.
    CoreResolution u32_matches = resolve_ok(local, target, relo(BtfCoreReloKind::TypeMatches, l_u32, "0"));
    EXPECT_TRUE(u32_matches.resolved);
    EXPECT_EQ(u32_matches.target_value, 0u);

    // target 2: u32 names a struct (not compatible); pair.a is unsigned (does not match).
    TypeBuilder t2;
    const uint32_t t2_uint = t2.add_int("unsigned int", 4, false);
    const uint32_t t2_s = t2.add_struct("u32_holder", 4, {{"v", t2_uint, 0}});
    t2.add_typedef("u32", t2_s);
    const uint32_t t2_pair_ptr = t2.add_ptr(t2_s + 3);
    t2.add_struct("pair", 16, {{"a", t2_uint, 0}, {"next", t2_pair_ptr, 64}});
    Btf target2 = t2.parse();
    EXPECT_EQ(resolve_ok(local, target2, relo(BtfCoreReloKind::TypeExists, l_u32, "0")).target_value, 0u);
    EXPECT_EQ(resolve_ok(local, target2, relo(BtfCoreReloKind::TypeMatches, l_pair, "0")).target_value, 0u);
    // Field access through the typedef'd struct still works (ints are compatible).
    EXPECT_EQ(resolve_ok(local, target2, relo(BtfCoreReloKind::FieldByteOffset, l_pair, "0:1")).target_value,
              8u);
}

// ---------------------------------------------------------------------------------------------
// Malformed records
// ---------------------------------------------------------------------------------------------

TEST(CoreMalformed, BadAccessStringsIndicesAndRootsAreErrors) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_s = l.add_struct("s", 8, {{"a", l_int, 0}, {"b", l_int, 32}});
    const uint32_t l_anon = l.add_struct("", 4, {{"a", l_int, 0}});
    const uint32_t l_e = l.add_enum("e", 4, {{"V", 1}});
    Btf local = l.parse();
    Btf target = local;

    std::string out_of_range =
        resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:2"));
    EXPECT_NE(out_of_range.find("member index 2 is out of range: struct s has 2 members"), std::string::npos)
        << out_of_range;

    const std::string too_long = [] {
        std::string s = "0";
        for (int i = 0; i < 64; ++i) s += ":0";
        return s;
    }();
    for (std::string access :
         {"", ":0", "0:", "0::1", "a", "0:x", "-1", "+1", " 0", "99999999999", "2147483648"}) {
        SCOPED_TRACE("access '" + access + "'");
        resolve_error(local, target, BtfCoreRelo{0, l_s, access, BtfCoreReloKind::FieldByteOffset});
    }
    resolve_error(local, target, BtfCoreRelo{0, l_s, too_long, BtfCoreReloKind::FieldByteOffset});
    // Type relocations take exactly "0".
    resolve_error(local, target, relo(BtfCoreReloKind::TypeExists, l_s, "1"));
    resolve_error(local, target, relo(BtfCoreReloKind::TypeExists, l_s, "0:0"));
    // An int has no members.
    EXPECT_NE(
        resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_int, "0:0")).find("neither"),
        std::string::npos);
    // Root ids outside the BTF, anonymous roots, enum relocations on a struct, unknown kinds.
    resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, 999, "0:0"));
    resolve_error(local, target, relo(BtfCoreReloKind::TypeIdLocal, 999, "0"));
    EXPECT_NE(
        resolve_error(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_anon, "0:0")).find("anonymous"),
        std::string::npos);
    resolve_error(local, target, relo(BtfCoreReloKind::TypeExists, 0, "0"));
    resolve_error(local, target, relo(BtfCoreReloKind::EnumvalValue, l_s, "0"));
    resolve_error(local, target, relo(static_cast<BtfCoreReloKind>(13), l_s, "0"));
    // The enum itself is fine.
    EXPECT_EQ(resolve_ok(local, target, relo(BtfCoreReloKind::EnumvalValue, l_e, "0")).target_value, 1u);
}

// ---------------------------------------------------------------------------------------------
// Patching instructions
// ---------------------------------------------------------------------------------------------

isa::RawInstruction one_slot(const isa::Instruction& insn) {
    return isa::encode(insn).slots[0];
}

void push(std::vector<isa::RawInstruction>& slots, const isa::Instruction& insn) {
    auto encoded = isa::encode(insn);
    slots.insert(slots.end(), encoded.slots.begin(), encoded.slots.begin() + encoded.count);
}

// local:  struct s { int a; int x; u64 big; u32 small; int sval; }  enum64 e64 { V = 1 << 32 }
// target: struct s { int x; int a; u32 big; ...; u64 small; long sval; }  enum64 e64 { V = 3 << 32 | 2 }
struct PatchFixture {
    Btf local, target;
    uint32_t s = 0, e64 = 0;

    explicit PatchFixture(uint32_t target_x_bits = 0, bool target_has_v = true) {
        TypeBuilder l;
        const uint32_t l_int = l.add_int("int", 4, true);
        const uint32_t l_u32 = l.add_int("unsigned int", 4, false);
        const uint32_t l_u64 = l.add_int("unsigned long long", 8, false);
        s = l.add_struct("s", 24,
                         {{"a", l_int, 0},
                          {"x", l_int, 32},
                          {"big", l_u64, 64},
                          {"small", l_u32, 128},
                          {"sval", l_int, 160}});
        e64 = l.add_enum64("e64", {{"V", 0x100000000ull}});
        local = l.parse();
        TypeBuilder t;
        const uint32_t t_int = t.add_int("int", 4, true);
        const uint32_t t_u32 = t.add_int("unsigned int", 4, false);
        const uint32_t t_u64 = t.add_int("unsigned long long", 8, false);
        const uint32_t t_long = t.add_int("long", 8, true);
        t.add_struct("s", 40000 + 64,
                     {{"x", t_int, target_x_bits},
                      {"a", t_int, 32},
                      {"big", t_u32, 64},
                      {"small", t_u64, 128},
                      {"sval", t_long, 192}});
        t.add_enum64("e64", {{target_has_v ? "V" : "W", 0x300000002ull}});
        target = t.parse();
    }
};

TEST(CorePatch, ImmediatesOffsetsSizesAndLdImm64) {
    PatchFixture f;
    using isa::Op;
    std::vector<isa::RawInstruction> slots;
    push(slots, isa::Alu{Op::Mov, true, 1, isa::Operand::make_imm(4)});  // 0: r1 = offsetof(x)
    push(slots, isa::Load{2, 1, 4, 4, false});                           // 1: r2 = *(u32 *)(r1 + 4)
    push(slots, isa::Load{3, 1, 8, 8, false});                           // 2: r3 = *(u64 *)(r1 + 8)
    push(slots, isa::Store{1, 16, 4, isa::Operand::make_reg(2)});        // 3: *(u32 *)(r1 + 16) = r2
    push(slots, isa::Load{4, 1, 20, 4, false});                          // 4: r4 = *(u32 *)(r1 + 20)
    push(slots, isa::LoadImm64{5, 0, 0, 1});                             // 5-6: r5 = 1 << 32
    push(slots, isa::Exit{});                                            // 7
    const std::vector<BtfCoreRelo> records = {
        relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 0),
        relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 1),
        relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:2", 2),
        relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:3", 3),
        relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:4", 4),
        relo(BtfCoreReloKind::EnumvalValue, f.e64, "0", 5),
    };
    std::vector<CorePoison> poisoned;
    Status status = apply_core_relocations(slots, "sec", records, f.local, f.target, "f.o", poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();

    EXPECT_EQ(slots[0], one_slot(isa::Alu{Op::Mov, true, 1, isa::Operand::make_imm(0)}));
    EXPECT_EQ(slots[1], one_slot(isa::Load{2, 1, 0, 4, false}));
    // big: u64 locally, u32 in the target (both unsigned): the load shrinks to 4 bytes.
    EXPECT_EQ(slots[2], one_slot(isa::Load{3, 1, 8, 4, false}));
    // small: u32 locally, u64 in the target: the store widens, as libbpf does.
    EXPECT_EQ(slots[3], one_slot(isa::Store{1, 16, 8, isa::Operand::make_reg(2)}));
    // sval: int locally, long in the target: signed, so the size cannot follow: poisoned.
    EXPECT_EQ(slots[4], one_slot(isa::Call{Op::CallHelper, kCorePoisonHelperId}));
    ASSERT_EQ(poisoned.size(), 1u);
    EXPECT_EQ(poisoned[0].slot, 4u);
    EXPECT_NE(poisoned[0].message.find("struct s.sval"), std::string::npos) << poisoned[0].message;
    EXPECT_EQ(slots[5].imm, 2);
    EXPECT_EQ(slots[6].imm, 3);
    EXPECT_TRUE(isa::decode_program(slots).ok());
}

TEST(CorePatch, InstructionNotHoldingTheLocalValueIsAnError) {
    PatchFixture f;
    std::vector<isa::RawInstruction> slots;
    push(slots, isa::Exit{});
    push(slots, isa::Alu{isa::Op::Mov, true, 1, isa::Operand::make_imm(5)});  // offsetof(x) is 4
    push(slots, isa::Exit{});
    const std::vector<BtfCoreRelo> records = {relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 1)};
    std::vector<CorePoison> poisoned;
    Status status = apply_core_relocations(slots, "kprobe/x", records, f.local, f.target, "f.o", poisoned);
    ASSERT_FALSE(status.ok());
    const Error& e = status.error();
    EXPECT_EQ(e.kind, ErrorKind::InvalidInput);
    EXPECT_EQ(e.where.file, "f.o");
    EXPECT_EQ(e.where.section, "kprobe/x");
    ASSERT_TRUE(e.where.instruction);
    EXPECT_EQ(*e.where.instruction, 1u);
    EXPECT_NE(e.message.find("byte_off"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("struct s.x (0:1)"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("holds 5"), std::string::npos) << e.message;
    EXPECT_NE(e.to_string().find("section kprobe/x: instruction 1:"), std::string::npos) << e.to_string();
}

TEST(CorePatch, OffsetThatDoesNotFitSixteenBitsIsAnError) {
    PatchFixture f(/*target_x_bits=*/40000 * 8);
    std::vector<isa::RawInstruction> slots;
    push(slots, isa::Load{2, 1, 4, 4, false});
    push(slots, isa::Alu{isa::Op::Mov, true, 1, isa::Operand::make_imm(4)});
    push(slots, isa::Exit{});
    std::vector<CorePoison> poisoned;
    const std::vector<BtfCoreRelo> load = {relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 0)};
    Status status = apply_core_relocations(slots, "sec", load, f.local, f.target, "f.o", poisoned);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("16-bit"), std::string::npos) << status.error().message;
    // An ALU immediate has room for it.
    const std::vector<BtfCoreRelo> alu = {relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 1)};
    ASSERT_TRUE(apply_core_relocations(slots, "sec", alu, f.local, f.target, "f.o", poisoned).ok());
    EXPECT_EQ(slots[1].imm, 40000);
}

TEST(CorePatch, UnresolvedLdImm64IsPoisonedInBothSlots) {
    PatchFixture f(0, /*target_has_v=*/false);
    std::vector<isa::RawInstruction> slots;
    push(slots, isa::LoadImm64{5, 0, 0, 1});
    push(slots, isa::Exit{});
    const std::vector<BtfCoreRelo> records = {relo(BtfCoreReloKind::EnumvalValue, f.e64, "0", 0)};
    std::vector<CorePoison> poisoned;
    Status status = apply_core_relocations(slots, "sec", records, f.local, f.target, "f.o", poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    const isa::RawInstruction poison = one_slot(isa::Call{isa::Op::CallHelper, kCorePoisonHelperId});
    EXPECT_EQ(slots[0], poison);
    EXPECT_EQ(slots[1], poison);
    ASSERT_EQ(poisoned.size(), 2u);
    EXPECT_EQ(poisoned[0].slot, 0u);
    EXPECT_EQ(poisoned[1].slot, 1u);
    EXPECT_NE(poisoned[0].message.find("enum e64::V"), std::string::npos) << poisoned[0].message;
    EXPECT_NE(poisoned[0].message.find("0xbad2310"), std::string::npos) << poisoned[0].message;
    auto program = isa::decode_program(slots);
    ASSERT_TRUE(program.ok()) << program.error().to_string();
    EXPECT_EQ(program->size(), 3u);
}

TEST(CorePatch, InstructionsThatCannotTakeAValueAreErrors) {
    PatchFixture f;
    using isa::Op;
    std::vector<isa::RawInstruction> slots;
    push(slots, isa::Alu{Op::Add, true, 1, isa::Operand::make_reg(2)});       // 0
    push(slots, isa::Jump{Op::Jeq, false, 1, isa::Operand::make_imm(4), 0});  // 1
    push(slots, isa::LoadImm64{1, 1, 4, 0});                                  // 2-3: map fd
    push(slots, isa::Load{2, 1, 8, 1, false});                                // 4: 1-byte load of big
    push(slots, isa::Exit{});                                                 // 5
    auto apply_one = [&](const BtfCoreRelo& r) {
        std::vector<isa::RawInstruction> copy = slots;
        std::vector<CorePoison> poisoned;
        Status status = apply_core_relocations(copy, "sec", std::span<const BtfCoreRelo>(&r, 1), f.local,
                                               f.target, "f.o", poisoned);
        EXPECT_FALSE(status.ok());
        return status.ok() ? std::string() : status.error().message;
    };
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 0)).find("immediate"),
              std::string::npos);
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 1)).find("jeq"),
              std::string::npos);
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 2)).find("ld_imm64"),
              std::string::npos);
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:2", 4)).find("accesses 1 bytes"),
              std::string::npos);
    // Not an instruction of the section: past the end, or not on an 8-byte boundary.
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 6)).find("not an instruction"),
              std::string::npos);
    EXPECT_NE(
        apply_one(BtfCoreRelo{4, f.s, "0:1", BtfCoreReloKind::FieldByteOffset}).find("not an instruction"),
        std::string::npos);
    // The second slot of an ld_imm64 does not decode on its own.
    EXPECT_NE(apply_one(relo(BtfCoreReloKind::FieldByteOffset, f.s, "0:1", 3)).find("does not decode"),
              std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

TEST(CoreHostile, SelfContainingAnonymousMemberEndsInAnError) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_s = l.add_struct("s", 4, {{"x", l_int, 0}});
    Btf local = l.parse();
    TypeBuilder t;
    t.add_int("int", 4, true);
    t.add_struct("s", 4, {{"", 2, 0}});  // its only member is an anonymous copy of itself
    Btf target = t.parse();
    auto res = resolve_core_relocation(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:0"));
    ASSERT_FALSE(res.ok());
    EXPECT_NE(res.error().message.find("nested too deeply"), std::string::npos) << res.error().message;
}

TEST(CoreHostile, TypedefCycleInTheTargetIsAnError) {
    TypeBuilder l;
    const uint32_t l_int = l.add_int("int", 4, true);
    const uint32_t l_s = l.add_struct("s", 4, {{"x", l_int, 0}});
    Btf local = l.parse();
    TypeBuilder t;
    t.add_typedef("a", 2);  // 1 -> 2
    t.add_typedef("b", 1);  // 2 -> 1
    t.add_struct("s", 4, {{"x", 1, 0}});
    Btf target = t.parse();
    auto res = resolve_core_relocation(local, target, relo(BtfCoreReloKind::FieldByteOffset, l_s, "0:0"));
    ASSERT_FALSE(res.ok());
    EXPECT_NE(res.error().message.find("target BTF"), std::string::npos) << res.error().message;
    // A typedef cycle as a type relocation's root.
    TypeBuilder l2;
    l2.add_typedef("a", 2);
    l2.add_typedef("b", 1);
    Btf local2 = l2.parse();
    EXPECT_FALSE(resolve_core_relocation(local2, target, relo(BtfCoreReloKind::TypeSize, 1, "0")).ok());
    EXPECT_FALSE(resolve_core_relocation(local2, target, relo(BtfCoreReloKind::TypeMatches, 1, "0")).ok());
    EXPECT_FALSE(resolve_core_relocation(local2, local2, relo(BtfCoreReloKind::TypeExists, 1, "0")).ok());
}

TEST(CoreHostile, ExponentialTypeMatchStopsAtTheWorkLimit) {
    // local s_k { s_{k-1} m; }; target s_k has 16 members all named m of type s_{k-1}; the
    // innermost ints differ in size, so every path fails only at the bottom: 16^20 paths.
    constexpr int kLevels = 20;
    TypeBuilder l;
    uint32_t l_prev = l.add_int("int", 4, true);
    TypeBuilder t;
    uint32_t t_prev = t.add_int("int", 8, true);
    for (int k = 1; k <= kLevels; ++k) {
        const std::string name = "s" + std::to_string(k);
        l_prev = l.add_struct(name, 4, {{"m", l_prev, 0}});
        std::vector<MemberSpec> members;
        for (int i = 0; i < 16; ++i) members.push_back({"m", t_prev, 0});
        t_prev = t.add_struct(name, 8, members);
    }
    Btf local = l.parse();
    Btf target = t.parse();
    auto start = std::chrono::steady_clock::now();
    auto res = resolve_core_relocation(local, target, relo(BtfCoreReloKind::TypeMatches, l_prev, "0"));
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(res.ok());
    EXPECT_NE(res.error().message.find("steps"), std::string::npos) << res.error().message;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 10);
}

TEST_F(CoreCorpus, RandomRecordsNeverCrash) {
    // Every kind with random roots and access strings, against the object's own BTF and a
    // small unrelated target: each call either resolves or returns an error.
    TypeBuilder t;
    const uint32_t t_int = t.add_int("int", 4, true);
    t.add_struct("task_struct", 8, {{"pid", t_int, 0}, {"", t_int, 32}});
    t.add_enum("pid_type", 4, {{"PIDTYPE_SID", 3}});
    Btf small = t.parse();
    std::mt19937 rng(1234);
    std::vector<std::string> accesses;
    for (int i = 0; i < 2000; ++i) {
        std::string access = std::to_string(rng() % 3);
        const int length = static_cast<int>(rng() % 6);
        for (int j = 0; j < length; ++j) access += ":" + std::to_string(rng() % 20);
        accesses.push_back(access);
    }
    size_t ok = 0;
    for (const std::string& access : accesses) {
        const BtfCoreRelo r{0, static_cast<uint32_t>(rng() % (local().type_count() + 3)), access,
                            static_cast<BtfCoreReloKind>(rng() % 14)};
        for (const Btf* target : {static_cast<const Btf*>(&local()), static_cast<const Btf*>(&small)}) {
            auto res = resolve_core_relocation(local(), *target, r);
            if (res.ok()) ++ok;
        }
    }
    EXPECT_GT(ok, 0u);
}

TEST_F(CoreCorpus, MutatedTargetBtfNeverCrashes) {
    const ElfSection* section = object_.elf->section(".BTF");
    ASSERT_NE(section, nullptr);
    const std::vector<uint8_t> original(section->data.begin(), section->data.end());
    std::mt19937 rng(42);
    size_t parsed = 0;
    for (int round = 0; round < 400; ++round) {
        std::vector<uint8_t> bytes = original;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) {
            // Keep the header: mutate the type section, where the graph is.
            const size_t at = 24 + rng() % (bytes.size() - 24);
            bytes[at] = static_cast<uint8_t>(rng());
        }
        auto target = Btf::parse(bytes);
        if (!target) continue;
        ++parsed;
        std::vector<isa::RawInstruction> slots = object_.slots(kCoreSection);
        std::vector<CorePoison> poisoned;
        (void)apply_core_relocations(slots, kCoreSection, records_, local(), *target, kCoreObject, poisoned);
        for (const BtfCoreRelo& r : records_) (void)resolve_core_relocation(*target, *target, r);
    }
    EXPECT_GT(parsed, 0u);
}

}  // namespace
}  // namespace bpfvm::loader
