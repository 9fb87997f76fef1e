// Map keys and values as BTF-typed JSON, checked on clang-built corpus objects (the map
// definitions' key/value types as the loader finds them) and on hostile hand-built BTF.
#include "btf_json.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/elf.hpp"
#include "bpfvm/loader/object.hpp"
#include "loader/btf_test_support.hpp"

namespace bpfvm::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using loader::Btf;
using loader::BtfKind;
using loader::MapDefinition;
using loader::btf_test::BtfBuilder;

loader::Object load(const std::string& name) {
    auto object = loader::load_object(fs::path(BPFVM_CORPUS_DIR) / name);
    EXPECT_TRUE(object.ok()) << object.error().to_string();
    if (!object.ok()) return {};
    EXPECT_NE(object->btf, nullptr) << name;
    return std::move(*object);
}

const MapDefinition& map_named(const loader::Object& object, const std::string& name) {
    for (const MapDefinition& map : object.maps) {
        if (map.name == name) return map;
    }
    ADD_FAILURE() << "no map " << name;
    static const MapDefinition none{};
    return none;
}

template <typename T>
std::vector<uint8_t> le(T value) {
    std::vector<uint8_t> bytes(sizeof(T));
    std::memcpy(bytes.data(), &value, sizeof(T));
    return bytes;
}

// Prints, checks the JSON, reads it back and checks the bytes are the same.
void expect_round_trip(const Btf& btf, uint32_t type, const std::vector<uint8_t>& bytes,
                       const json& expected) {
    json printed = btf_to_json(btf, type, bytes);
    EXPECT_EQ(printed, expected) << printed.dump();
    auto back = json_to_bytes(&btf, type, printed, static_cast<uint32_t>(bytes.size()));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, bytes) << printed.dump();
}

std::string error_of(const Btf* btf, uint32_t type, const json& value, uint32_t size) {
    auto bytes = json_to_bytes(btf, type, value, size);
    EXPECT_FALSE(bytes.ok()) << value.dump();
    if (bytes.ok()) return "";
    EXPECT_EQ(bytes.error().kind, ErrorKind::InvalidInput);
    return bytes.error().message;
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST(BtfJsonHex, BytesToHexIsMemoryOrder) {
    EXPECT_EQ(bytes_to_hex(le<uint32_t>(10)), "0a000000");
    EXPECT_EQ(bytes_to_hex(std::vector<uint8_t>{0xde, 0xad, 0xBE, 0xef}), "deadbeef");
    EXPECT_EQ(bytes_to_hex({}), "");
}

TEST(BtfJsonHex, UntypedValuesAreHexOnly) {
    auto bytes = json_to_bytes(nullptr, 0, "0x0100", 2);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    EXPECT_EQ(*bytes, (std::vector<uint8_t>{1, 0}));
    bytes = json_to_bytes(nullptr, 0, "0A000000", 4);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, le<uint32_t>(10));

    EXPECT_CONTAINS(error_of(nullptr, 0, "0x010203", 4),
                    "wrong length: the hex string has 3 bytes, 4 expected");
    EXPECT_CONTAINS(error_of(nullptr, 0, "0x123", 2), "is not hex");
    EXPECT_CONTAINS(error_of(nullptr, 0, "zz00", 2), "is not hex");
    EXPECT_CONTAINS(error_of(nullptr, 0, 10, 4), "expected a hex string of 4 bytes (no BTF type)");
}

// __u16 key, __u8 value (xdp_firewall's blocked_ports), __u32 key, __u64 value (raw_tp_sched).
TEST(BtfJsonCorpus, IntegerKeysAndValues) {
    loader::Object firewall = load("xdp_firewall.bpf.o");
    ASSERT_NE(firewall.btf, nullptr);
    const Btf& btf = *firewall.btf;
    const MapDefinition& ports = map_named(firewall, "blocked_ports");
    ASSERT_NE(ports.key_type_id, 0u);
    ASSERT_NE(ports.value_type_id, 0u);
    expect_round_trip(btf, ports.key_type_id, le<uint16_t>(9999), 9999);
    expect_round_trip(btf, ports.value_type_id, {1}, 1);
    expect_round_trip(btf, ports.value_type_id, {255}, 255);

    // A hex string is the bytes in memory order, for any type.
    auto key = json_to_bytes(&btf, ports.key_type_id, "0x0f27", 2);
    ASSERT_TRUE(key.ok()) << key.error().to_string();
    EXPECT_EQ(*key, le<uint16_t>(9999));

    EXPECT_CONTAINS(error_of(&btf, ports.value_type_id, 256, 1),
                    "256 is out of range for __u8 (8-bit unsigned, at most 255)");
    EXPECT_CONTAINS(error_of(&btf, ports.key_type_id, -1, 2),
                    "-1 is out of range for __u16 (16-bit unsigned)");
    EXPECT_CONTAINS(error_of(&btf, ports.key_type_id, 1.5, 2),
                    "expected an integer for __u16, got the number 1.5");
    EXPECT_CONTAINS(error_of(&btf, ports.key_type_id, "0x0f2700", 2),
                    "wrong length: the hex string has 3 bytes, __u16 has 2");
    EXPECT_CONTAINS(error_of(&btf, ports.key_type_id, "port", 2),
                    "expected an integer for __u16, got the string");
    // The map's size wins over a BTF type of another size: then only hex is taken.
    EXPECT_CONTAINS(error_of(&btf, ports.key_type_id, 1, 4), "its BTF type __u16 is 2 bytes");

    loader::Object sched = load("raw_tp_sched.bpf.o");
    ASSERT_NE(sched.btf, nullptr);
    const MapDefinition& switches = map_named(sched, "switches");
    expect_round_trip(*sched.btf, switches.key_type_id, le<uint32_t>(3), 3);
    expect_round_trip(*sched.btf, switches.value_type_id, le<uint64_t>(~uint64_t{0}), ~uint64_t{0});
    expect_round_trip(*sched.btf, switches.value_type_id, le<uint64_t>(1'000'000'000'000), 1'000'000'000'000);
}

// struct core_result: 17 __u64 members and one __s64 (core_fields' results map), and the
// struct key and value of map_types' flows.
TEST(BtfJsonCorpus, StructValues) {
    loader::Object object = load("core_fields.bpf.o");
    ASSERT_NE(object.btf, nullptr);
    const MapDefinition& results = map_named(object, "results");
    ASSERT_EQ(object.btf->to_string(results.value_type_id), "struct core_result");
    std::vector<uint8_t> bytes;
    const char* names[] = {
        "pid",           "tgid",     "parent_tgid", "vruntime",       "vlag",       "total_vm",
        "in_iowait",     "comm3",    "old_state",   "flags",          "se_size",    "se_type_id",
        "local_type_id", "pid_size", "sid",         "kernel_context", "task_flags", "prio"};
    json expected = json::object();
    for (int i = 0; i < 18; ++i) {
        if (std::string(names[i]) == "vlag") {
            auto bytes_of = le<int64_t>(-12345);
            bytes.insert(bytes.end(), bytes_of.begin(), bytes_of.end());
            expected[names[i]] = -12345;
        } else {
            auto bytes_of = le<uint64_t>(uint64_t(i) * 1000 + 7);
            bytes.insert(bytes.end(), bytes_of.begin(), bytes_of.end());
            expected[names[i]] = uint64_t(i) * 1000 + 7;
        }
    }
    expect_round_trip(*object.btf, results.value_type_id, bytes, expected);

    // Members missing from the JSON are zero; an unknown one is an error naming the members.
    auto partial = json_to_bytes(object.btf.get(), results.value_type_id, json{{"tgid", 42}}, 144);
    ASSERT_TRUE(partial.ok()) << partial.error().to_string();
    std::vector<uint8_t> want(144, 0);
    want[8] = 42;
    EXPECT_EQ(*partial, want);
    std::string error = error_of(object.btf.get(), results.value_type_id, json{{"tgid", 1}, {"gid", 2}}, 144);
    EXPECT_CONTAINS(error, "unknown member 'gid' of struct core_result (members: pid, tgid, parent_tgid");
    error = error_of(object.btf.get(), results.value_type_id, json{{"vlag", "x"}}, 144);
    EXPECT_CONTAINS(error, "at .vlag: expected an integer for __s64");
    error = error_of(object.btf.get(), results.value_type_id, json::array({1, 2}), 144);
    EXPECT_CONTAINS(error, "expected an object for struct core_result, got array");

    loader::Object maps = load("map_types.bpf.o");
    ASSERT_NE(maps.btf, nullptr);
    const MapDefinition& flows = map_named(maps, "flows");
    std::vector<uint8_t> key = le<uint32_t>(0x0100000a);  // 10.0.0.1 in network order
    auto daddr = le<uint32_t>(0x0200000a);
    key.insert(key.end(), daddr.begin(), daddr.end());
    expect_round_trip(*maps.btf, flows.key_type_id, key, json{{"saddr", 0x0100000a}, {"daddr", 0x0200000a}});
    std::vector<uint8_t> stats = le<uint64_t>(3);
    auto bytes_count = le<uint64_t>(4500);
    stats.insert(stats.end(), bytes_count.begin(), bytes_count.end());
    expect_round_trip(*maps.btf, flows.value_type_id, stats, json{{"packets", 3}, {"bytes", 4500}});
}

// A char array as a string: reject_helper_args' key struct session_key { char name[64]; }.
TEST(BtfJsonCorpus, CharArrays) {
    loader::Object object = load("reject_helper_args.bpf.o");
    ASSERT_NE(object.btf, nullptr);
    const Btf& btf = *object.btf;
    const MapDefinition& sessions = map_named(object, "sessions");
    ASSERT_EQ(sessions.key_size, 64u);
    std::vector<uint8_t> key(64, 0);
    std::memcpy(key.data(), "alice", 5);
    expect_round_trip(btf, sessions.key_type_id, key, json{{"name", "alice"}});
    expect_round_trip(btf, sessions.key_type_id, std::vector<uint8_t>(64, 0), json{{"name", ""}});

    // Bytes after the NUL, or no NUL, or non-printable bytes: an array, so nothing is lost.
    std::vector<uint8_t> junk = key;
    junk[40] = 'x';
    json printed = btf_to_json(btf, sessions.key_type_id, junk);
    ASSERT_TRUE(printed["name"].is_array()) << printed.dump();
    EXPECT_EQ(printed["name"][0], 'a');
    EXPECT_EQ(printed["name"][40], 'x');
    auto back = json_to_bytes(&btf, sessions.key_type_id, printed, 64);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, junk);
    std::vector<uint8_t> full(64, 'a');
    EXPECT_TRUE(btf_to_json(btf, sessions.key_type_id, full)["name"].is_array());
    std::vector<uint8_t> binary = key;
    binary[1] = 0xc3;
    EXPECT_TRUE(btf_to_json(btf, sessions.key_type_id, binary)["name"].is_array());

    // Text that would not fit; an array that is too long; hex of exactly the array's size.
    std::string error = error_of(&btf, sessions.key_type_id, json{{"name", std::string(65, 'b')}}, 64);
    EXPECT_CONTAINS(error, "at .name: a string of 65 characters does not fit in char[64]");
    error = error_of(&btf, sessions.key_type_id, json{{"name", std::vector<int>(65, 1)}}, 64);
    EXPECT_CONTAINS(error, "at .name: wrong length: 65 elements, char[64] has 64");
    error = error_of(&btf, sessions.key_type_id, json{{"name", json::array({1, 300})}}, 64);
    EXPECT_CONTAINS(error, "at .name[1]: 300 is out of range for char (8-bit signed, at most 127)");
    auto hex = json_to_bytes(&btf, sessions.key_type_id, json{{"name", "0x" + bytes_to_hex(key)}}, 64);
    ASSERT_TRUE(hex.ok()) << hex.error().to_string();
    EXPECT_EQ(*hex, key);
    // A short array fills the start; the rest is zero.
    auto short_array = json_to_bytes(&btf, sessions.key_type_id, json{{"name", json::array({104, 105})}}, 64);
    ASSERT_TRUE(short_array.ok());
    std::vector<uint8_t> hi(64, 0);
    hi[0] = 'h';
    hi[1] = 'i';
    EXPECT_EQ(*short_array, hi);
}

// Enums from core_fields' BTF (pid_type, 32-bit; perf_callchain_context, an ENUM64), and
// task_struct: a 1-bit bitfield with kind_flag, pointers, char comm[16], a nested struct.
TEST(BtfJsonCorpus, EnumsBitfieldsPointers) {
    loader::Object object = load("core_fields.bpf.o");
    ASSERT_NE(object.btf, nullptr);
    const Btf& btf = *object.btf;
    auto pid_type = btf.find_by_name("pid_type", BtfKind::Enum);
    ASSERT_TRUE(pid_type);
    expect_round_trip(btf, *pid_type, le<uint32_t>(3), "PIDTYPE_SID");
    expect_round_trip(btf, *pid_type, le<uint32_t>(0), "PIDTYPE_PID");
    expect_round_trip(btf, *pid_type, le<uint32_t>(17), 17);  // no enumerator has it
    EXPECT_CONTAINS(error_of(&btf, *pid_type, "PIDTYPE_NONE", 4),
                    "unknown enumerator \"PIDTYPE_NONE\" of enum pid_type (one of PIDTYPE_PID, PIDTYPE_TGID");
    auto context = btf.find_by_name("perf_callchain_context", BtfKind::Enum64);
    ASSERT_TRUE(context);
    expect_round_trip(btf, *context, le<uint64_t>(static_cast<uint64_t>(-512)), "PERF_CONTEXT_USER");

    auto task = btf.find_by_name("task_struct", BtfKind::Struct);
    ASSERT_TRUE(task);
    std::vector<uint8_t> bytes(88, 0);
    auto put = [&](size_t offset, auto value) { std::memcpy(bytes.data() + offset, &value, sizeof value); };
    put(0, uint32_t{2});                    // __state
    put(8, uint64_t{0x400100});             // flags
    put(16, int32_t{-20});                  // prio
    put(24, uint64_t{111});                 // se.vruntime
    put(32, int64_t{-5});                   // se.vlag
    put(40, uint64_t{0xffff888012345678});  // mm
    bytes[48] = 0xfe | 1;                   // in_iowait (bit 384); the other bits are padding
    put(52, int32_t{4242});                 // pid
    put(56, int32_t{4240});                 // tgid
    std::memcpy(bytes.data() + 72, "sleep", 5);
    json expected = {{"__state", 2},
                     {"flags", 0x400100},
                     {"prio", -20},
                     {"se", {{"vruntime", 111}, {"vlag", -5}}},
                     {"mm", "785634128088ffff"},
                     {"in_iowait", 1},
                     {"pid", 4242},
                     {"tgid", 4240},
                     {"real_parent", "0000000000000000"},
                     {"comm", "sleep"}};
    json printed = btf_to_json(btf, *task, bytes);
    EXPECT_EQ(printed, expected) << printed.dump();
    auto back = json_to_bytes(&btf, *task, printed, 88);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    std::vector<uint8_t> without_padding = bytes;
    without_padding[48] = 1;  // padding bits after the bitfield are not shown, so come back zero
    EXPECT_EQ(*back, without_padding);

    EXPECT_CONTAINS(error_of(&btf, *task, json{{"in_iowait", 2}}, 88),
                    "at .in_iowait: 2 is out of range for unsigned int bitfield (1-bit unsigned, at most 1)");
    EXPECT_CONTAINS(error_of(&btf, *task, json{{"se", {{"vruntime", 1}, {"lag", 2}}}}, 88),
                    "at .se: unknown member 'lag' of struct sched_entity (members: vruntime, vlag)");
    EXPECT_CONTAINS(error_of(&btf, *task, json{{"comm", std::string(17, 'c')}}, 88),
                    "at .comm: a string of 17 characters does not fit in char[16]");
}

// A test-side version of libbpf's DATASEC fixup (btf_fixup_datasec): clang leaves the
// size of a DATASEC and the offsets of its global variables zero; the section's size and the
// variables' ELF symbols give them. Used while the loader leaves global-data maps untyped.
std::shared_ptr<const Btf> fixed_up_btf(const fs::path& path) {
    auto elf = loader::ElfFile::read(path);
    if (!elf.ok()) return nullptr;
    const loader::ElfSection* section = elf->section(".BTF");
    if (!section) return nullptr;
    std::vector<uint8_t> data(section->data.begin(), section->data.end());
    auto u32 = [&](size_t offset) {
        uint32_t value = 0;
        std::memcpy(&value, data.data() + offset, 4);
        return value;
    };
    auto set_u32 = [&](size_t offset, uint32_t value) { std::memcpy(data.data() + offset, &value, 4); };
    uint32_t header_length = u32(4);
    size_t types = header_length + u32(8);
    size_t types_end = types + u32(12);
    size_t strings = header_length + u32(16);
    auto string_at = [&](uint32_t offset) {
        return std::string(reinterpret_cast<const char*>(&data[strings + offset]));
    };
    std::vector<uint32_t> name_offsets = {0};
    std::vector<size_t> datasecs;
    for (size_t at = types; at < types_end;) {
        uint32_t info = u32(at + 4);
        uint32_t kind = info >> 24 & 0x1f, vlen = info & 0xffff;
        name_offsets.push_back(u32(at));
        if (kind == 15) datasecs.push_back(at);
        size_t trailing = 0;
        switch (kind) {
            case 1:
            case 14:
            case 17: trailing = 4; break;
            case 3: trailing = 12; break;
            case 4:
            case 5:
            case 15:
            case 19: trailing = 12 * size_t{vlen}; break;
            case 6:
            case 13: trailing = 8 * size_t{vlen}; break;
            default: break;
        }
        at += 12 + trailing;
    }
    for (size_t at : datasecs) {
        const loader::ElfSection* target = elf->section(string_at(u32(at)));
        if (!target) continue;
        set_u32(at + 8, static_cast<uint32_t>(target->size));
        for (uint32_t i = 0; i < (u32(at + 4) & 0xffff); ++i) {
            size_t info = at + 12 + 12 * size_t{i};
            std::string name = string_at(name_offsets.at(u32(info)));
            for (const loader::ElfSymbol& symbol : elf->symbols()) {
                if (symbol.section == target->index && symbol.name == name)
                    set_u32(info + 4, static_cast<uint32_t>(symbol.value));
            }
        }
    }
    auto btf = Btf::parse(data);
    if (!btf.ok()) return nullptr;
    return std::make_shared<const Btf>(std::move(*btf));
}

// global_data.bpf.c: .rodata { max_len = 1500, verbose = 0, bpf_printk's format string },
// .data { seen_bytes = 0x1000, scale = 3 }, .bss { packets, oversized }.
TEST(BtfJsonCorpus, GlobalDataSections) {
    const fs::path path = fs::path(BPFVM_CORPUS_DIR) / "global_data.bpf.o";
    loader::Object object = load("global_data.bpf.o");
    ASSERT_NE(object.btf, nullptr);
    auto fixed = fixed_up_btf(path);
    ASSERT_NE(fixed, nullptr);

    auto check = [&](const std::string& name, const json& expected) {
        SCOPED_TRACE(name);
        const MapDefinition& map = map_named(object, name);
        ASSERT_EQ(map.origin, loader::MapOrigin::GlobalData);
        std::vector<uint8_t> bytes = map.initial_data;
        bytes.resize(map.value_size, 0);  // .bss has no initial data
        // The type: the loader's, once it types global data with a laid-out DATASEC; until then
        // the fixed-up copy of the object's BTF.
        const Btf* btf = object.btf.get();
        uint32_t type = map.value_type_id;
        if (type == 0) {
            btf = fixed.get();
            auto datasec = btf->find_by_name(name, BtfKind::Datasec);
            ASSERT_TRUE(datasec);
            type = *datasec;
        }
        expect_round_trip(*btf, type, bytes, expected);
    };
    check(".rodata",
          json{{"max_len", 1500}, {"verbose", 0}, {"xdp_globals.____fmt", "oversized packet: %d bytes"}});
    check(".data", json{{"seen_bytes", 0x1000}, {"scale", 3}});
    check(".bss", json{{"packets", 0}, {"oversized", 0}});

    // Setting one variable of .data leaves the others zero; unknown names are errors.
    auto datasec = fixed->find_by_name(".data", BtfKind::Datasec);
    ASSERT_TRUE(datasec);
    auto bytes = json_to_bytes(fixed.get(), *datasec, json{{"scale", 7}}, 12);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    EXPECT_EQ(*bytes, (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0}));
    EXPECT_CONTAINS(error_of(fixed.get(), *datasec, json{{"scal", 7}}, 12),
                    "unknown variable 'scal' of datasec .data (variables: seen_bytes, scale)");

    // A VAR is followed to its type: char LICENSE[4] = "GPL".
    auto license = object.btf->find_by_name("LICENSE", BtfKind::Var);
    ASSERT_TRUE(license);
    expect_round_trip(*object.btf, *license, {'G', 'P', 'L', 0}, "GPL");

    // The loader lays out the DATASEC as libbpf does and types the map with it.
    const MapDefinition& data = map_named(object, ".data");
    ASSERT_NE(data.value_type_id, 0u);
    EXPECT_EQ(btf_to_json(*object.btf, data.value_type_id, data.initial_data),
              (json{{"seen_bytes", 0x1000}, {"scale", 3}}));
}

TEST(BtfJsonCorpus, EveryCorpusMapRoundTrips) {
    // Whatever the types, patterned bytes of every map's key and value print and read back;
    // padding no member covers (between DATASEC variables, in structs) is not printed, so it
    // comes back zero: the JSON is what must survive the round trip.
    for (const fs::path& path : loader::btf_test::corpus_objects()) {
        auto object = loader::load_object(path);
        if (!object.ok() || !object->btf) continue;
        for (const MapDefinition& map : object->maps) {
            for (auto [type, size] :
                 {std::pair{map.key_type_id, map.key_size}, std::pair{map.value_type_id, map.value_size}}) {
                std::vector<uint8_t> bytes(size);
                for (uint32_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
                json printed = btf_to_json(*object->btf, type, bytes);
                auto back = json_to_bytes(object->btf.get(), type, printed, size);
                ASSERT_TRUE(back.ok())
                    << path.filename() << " " << map.name << ": " << back.error().to_string();
                EXPECT_EQ(btf_to_json(*object->btf, type, *back), printed)
                    << path.filename() << " " << map.name << ": " << printed.dump();
            }
        }
    }
}

// Hand-built BTF: kinds the corpus does not have, and hostile graphs.
class BtfJsonBuilt : public ::testing::Test {
 protected:
    static constexpr uint32_t kInt = 1, kStruct = 4, kUnion = 5, kEnum = 6, kTypedef = 8, kConst = 10,
                              kArray = 3, kPtr = 2, kFloat = 16, kDatasec = 15, kVar = 14;

    uint32_t add(uint32_t name, uint32_t kind, uint32_t vlen, uint32_t size_or_type, bool kind_flag = false) {
        builder_.type(name, kind, vlen, size_or_type, kind_flag);
        return ++count_;
    }
    uint32_t add_int(const std::string& name, uint32_t size, uint32_t encoding, uint32_t bits) {
        uint32_t id = add(builder_.add_string(name), kInt, 0, size);
        builder_.word(encoding << 24 | bits);
        return id;
    }
    void member(const std::string& name, uint32_t type, uint32_t offset) {
        builder_.word(name.empty() ? 0 : builder_.add_string(name)).word(type).word(offset);
    }
    Btf build() {
        auto btf = Btf::parse(builder_.build());
        EXPECT_TRUE(btf.ok()) << btf.error().to_string();
        return btf.ok() ? std::move(*btf) : Btf{};
    }

    BtfBuilder builder_;
    uint32_t count_ = 0;
};

TEST_F(BtfJsonBuilt, ScalarsUnionsAnonymousMembersAndBitfields) {
    uint32_t u32 = add_int("unsigned int", 4, 0, 32);
    uint32_t s32 = add_int("int", 4, 1, 32);
    uint32_t boolean = add_int("_Bool", 1, 4, 8);
    uint32_t wide = add_int("unsigned __int128", 16, 0, 128);
    uint32_t dbl = add(builder_.add_string("double"), kFloat, 0, 8);
    uint32_t flt = add(builder_.add_string("float"), kFloat, 0, 4);
    uint32_t ptr = add(0, kPtr, 0, u32);
    uint32_t color = add(builder_.add_string("color"), kEnum, 2, 4, /*signed*/ true);
    builder_.word(builder_.add_string("RED")).word(static_cast<uint32_t>(-1));
    builder_.word(builder_.add_string("BLUE")).word(2);
    // struct bits { unsigned a:3; int b:5; enum color c:2; (6 bits of padding) unsigned d:16; }
    uint32_t bits = add(builder_.add_string("bits"), kStruct, 4, 4, true);
    member("a", u32, 3u << 24 | 0);
    member("b", s32, 5u << 24 | 3);
    member("c", color, 2u << 24 | 8);
    member("d", u32, 16u << 24 | 16);
    // union u { unsigned i; float f; }
    uint32_t un = add(builder_.add_string("u"), kUnion, 2, 4);
    member("i", u32, 0);
    member("f", flt, 0);
    // struct outer { bool flag; struct { unsigned x; unsigned y; }; struct bits b; union u v;
    //                double d; unsigned *p; __int128 w; }  (anonymous struct flattened)
    uint32_t anon = add(0, kStruct, 2, 8);
    member("x", u32, 0);
    member("y", u32, 32);
    uint32_t outer = add(builder_.add_string("outer"), kStruct, 7, 56);
    member("flag", boolean, 0);
    member("", anon, 32);
    member("b", bits, 96);
    member("v", un, 128);
    member("d", dbl, 192);
    member("p", ptr, 256);
    member("w", wide, 320);
    Btf btf = build();

    std::vector<uint8_t> bytes(56, 0);
    auto put = [&](size_t offset, auto value) { std::memcpy(bytes.data() + offset, &value, sizeof value); };
    put(0, uint8_t{1});
    put(4, uint32_t{10});
    put(8, uint32_t{20});
    // a = 5, b = -3 (0b11101), c = 2 (BLUE), d = 0xbeef
    uint32_t packed = 5u | (0x1du << 3) | (2u << 8) | (0xbeefu << 16);
    put(12, packed);
    put(16, 1.5f);
    put(24, -0.25);
    put(32, uint64_t{0x1234});
    put(40, uint64_t{1});
    json printed = btf_to_json(btf, outer, bytes);
    float as_float = 1.5f;
    uint32_t float_bits = 0;
    std::memcpy(&float_bits, &as_float, 4);
    json expected = {{"flag", true},
                     {"x", 10},
                     {"y", 20},
                     {"b", {{"a", 5}, {"b", -3}, {"c", "BLUE"}, {"d", 0xbeef}}},
                     {"v", {{"i", float_bits}, {"f", 1.5}}},
                     {"d", -0.25},
                     {"p", "3412000000000000"},
                     {"w", "01000000000000000000000000000000"}};
    EXPECT_EQ(printed, expected) << printed.dump();
    auto back = json_to_bytes(&btf, outer, printed, 56);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, bytes);

    // A signed enum value no enumerator has; RED is -1 in a 2-bit field.
    put(12, uint32_t{3u << 8});
    EXPECT_EQ(btf_to_json(btf, bits, std::span(bytes).subspan(12, 4))["c"], "RED");
    EXPECT_EQ(btf_to_json(btf, color, le<int32_t>(-7)), -7);

    EXPECT_CONTAINS(error_of(&btf, outer, json{{"b", {{"b", 16}}}}, 56),
                    "at .b.b: 16 is out of range for int bitfield (5-bit signed, at most 15)");
    EXPECT_CONTAINS(error_of(&btf, outer, json{{"b", {{"b", -17}}}}, 56), "(5-bit signed, at least -16)");
    EXPECT_CONTAINS(error_of(&btf, outer, json{{"b", {{"c", "GREEN"}}}}, 56),
                    "at .b.c: unknown enumerator \"GREEN\" of enum color bitfield (one of RED, BLUE)");
    EXPECT_CONTAINS(error_of(&btf, outer, json{{"w", 1}}, 56), "at .w: unsigned __int128 is 128-bit");
    EXPECT_CONTAINS(error_of(&btf, outer, json{{"flag", "yes"}}, 56),
                    "at .flag: expected an integer for _Bool");
    EXPECT_CONTAINS(error_of(&btf, outer, json{{"z", 1}}, 56), "(members: flag, x, y, b, v, d, p, w)");

    // JSON cannot hold NaN: its bits are kept as hex.
    std::vector<uint8_t> nan = le<double>(std::numeric_limits<double>::quiet_NaN());
    expect_round_trip(btf, dbl, nan, bytes_to_hex(nan));
    expect_round_trip(btf, boolean, {7}, 7);
}

TEST_F(BtfJsonBuilt, BitfieldsWithoutKindFlag) {
    // Older encoding: the member's INT type carries the width.
    uint32_t three = add_int("unsigned int", 4, 0, 3);
    uint32_t five = add_int("int", 4, 1, 5);
    uint32_t bits = add(builder_.add_string("old"), kStruct, 2, 4);
    member("a", three, 0);
    member("b", five, 3);
    Btf btf = build();
    uint32_t packed = 6u | (0x10u << 3);  // a = 6, b = -16
    expect_round_trip(btf, bits, le<uint32_t>(packed), json{{"a", 6}, {"b", -16}});
}

TEST_F(BtfJsonBuilt, HostileGraphsFallBackToHex) {
    uint32_t u32 = add_int("unsigned int", 4, 0, 32);
    // struct loop { loop_t self; } with typedef struct loop loop_t: it contains itself.
    uint32_t loop = add(builder_.add_string("loop"), kStruct, 2, 4);
    member("n", u32, 0);
    member("self", loop + 1, 0);
    uint32_t loop_t = add(builder_.add_string("loop_t"), kTypedef, 0, loop);
    // The same, as an anonymous member (flattening must not loop either).
    uint32_t anon_loop = add(builder_.add_string("anon_loop"), kStruct, 1, 4);
    member("", anon_loop + 1, 0);
    add(0, kConst, 0, anon_loop);
    // typedef a -> typedef b -> typedef a.
    uint32_t a = add(builder_.add_string("a"), kTypedef, 0, count_ + 2);
    add(builder_.add_string("b"), kTypedef, 0, a);
    // An array of itself.
    uint32_t self_array = add(0, kArray, 0, 0);
    builder_.word(self_array).word(u32).word(2);
    // A struct whose member lies past its end.
    uint32_t past = add(builder_.add_string("past"), kStruct, 1, 4);
    member("x", u32, 32);
    // A DATASEC whose variable is the DATASEC itself.
    uint32_t var = add(builder_.add_string("v"), kVar, 0, count_ + 2);
    builder_.word(1);
    uint32_t sec = add(builder_.add_string(".data"), kDatasec, 1, 4);
    builder_.word(var).word(0).word(4);
    Btf btf = build();

    std::vector<uint8_t> bytes = {1, 2, 3, 4};
    json printed = btf_to_json(btf, loop, bytes);
    EXPECT_EQ(printed, (json{{"n", 0x04030201}, {"self", "01020304"}})) << printed.dump();
    auto back = json_to_bytes(&btf, loop_t, printed, 4);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, bytes);
    // Deeply nested JSON for the self-containing struct ends in an error, not a crash.
    json deep = 1;
    for (int i = 0; i < 100; ++i) deep = json{{"self", deep}};
    EXPECT_CONTAINS(error_of(&btf, loop, deep, 4), "nests too deeply");

    EXPECT_EQ(btf_to_json(btf, anon_loop, bytes), "01020304");
    EXPECT_CONTAINS(error_of(&btf, anon_loop, json::object(), 4), "does not fit its size (or has a cycle)");
    EXPECT_EQ(btf_to_json(btf, a, bytes), "01020304");
    EXPECT_CONTAINS(error_of(&btf, a, 1, 4), "has no size");
    EXPECT_EQ(btf_to_json(btf, self_array, bytes), "01020304");
    EXPECT_EQ(btf_to_json(btf, past, bytes), "01020304");
    EXPECT_EQ(btf_to_json(btf, sec, bytes), (json{{"v", "01020304"}}));
    // Sizes that disagree with the bytes; type ids past the end.
    EXPECT_EQ(btf_to_json(btf, u32, std::vector<uint8_t>{1, 2}), "0102");
    EXPECT_EQ(btf_to_json(btf, 999, bytes), "01020304");
    EXPECT_EQ(btf_to_json(btf, 0, bytes), "01020304");
}

TEST_F(BtfJsonBuilt, NamesAreShownAsAscii) {
    // BTF names are not checked to be identifiers; JSON text must stay valid UTF-8.
    uint32_t u8 = add_int("unsigned char", 1, 0, 8);
    uint32_t odd = add(builder_.add_string("odd"), kStruct, 2, 2);
    member("caf\xc3", u8, 0);
    member("a\\b", u8, 8);
    uint32_t enumeration = add(builder_.add_string("e"), kEnum, 1, 1);
    builder_.word(builder_.add_string("\xff")).word(1);
    Btf btf = build();
    json printed = btf_to_json(btf, odd, std::vector<uint8_t>{1, 2});
    EXPECT_EQ(printed, (json{{"caf\\xc3", 1}, {"a\\x5cb", 2}}));
    EXPECT_NO_THROW(printed.dump());
    auto back = json_to_bytes(&btf, odd, printed, 2);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, (std::vector<uint8_t>{1, 2}));
    expect_round_trip(btf, enumeration, {1}, "\\xff");
    std::string error = error_of(&btf, odd, json{{"x", 1}}, 2);
    EXPECT_CONTAINS(error, "(members: caf\\xc3, a\\x5cb)");
}

TEST_F(BtfJsonBuilt, FanOutIsBounded) {
    // struct wide { 65535 anonymous `struct leaves` } with struct leaves { 65535 u8 members }:
    // a few megabytes of BTF that would flatten into 4 billion fields.
    uint32_t u8 = add_int("unsigned char", 1, 0, 8);
    uint32_t leaves = add(builder_.add_string("leaves"), kStruct, 65535, 1);
    uint32_t name = builder_.add_string("x");
    for (int i = 0; i < 65535; ++i) builder_.word(name).word(u8).word(0);
    uint32_t wide = add(builder_.add_string("wide"), kStruct, 65535, 1);
    for (int i = 0; i < 65535; ++i) builder_.word(0).word(leaves).word(0);
    // An array of a million of them.
    uint32_t many = add(0, kArray, 0, 0);
    builder_.word(wide).word(u8).word(1'000'000);
    Btf btf = build();

    auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> bytes(1'000'000, 7);
    EXPECT_EQ(btf_to_json(btf, wide, std::span(bytes).subspan(0, 1)), "07");
    json printed = btf_to_json(btf, many, bytes);
    EXPECT_TRUE(printed.is_string());
    EXPECT_FALSE(json_to_bytes(&btf, wide, json::object(), 1).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace bpfvm::tools
