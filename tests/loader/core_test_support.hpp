// Helpers for the CO-RE tests: a typed builder of small BTF blobs (on top of the raw word
// builder of the BTF tests) and readers for a corpus object's code sections and BTF.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/elf.hpp"
#include "loader/btf_test_support.hpp"

namespace bpfvm::loader::core_test {

struct MemberSpec {
    std::string name;  // empty for an anonymous struct/union member
    uint32_t type = 0;
    uint32_t bit_offset = 0;
    uint32_t bitfield_size = 0;  // 0: not a bitfield
};

// Builds a BTF type by type; each add returns the new type's id (ids start at 1).
class TypeBuilder {
 public:
    uint32_t add_int(const std::string& name, uint32_t bytes, bool is_signed, uint32_t bit_offset = 0) {
        raw_.type(raw_.add_string(name), 1, 0, bytes);
        raw_.word((is_signed ? 1u : 0u) << 24 | bit_offset << 16 | bytes * 8);
        return next_id_++;
    }
    uint32_t add_ptr(uint32_t to) { return add_ref(2, "", to); }
    uint32_t add_typedef(const std::string& name, uint32_t to) { return add_ref(8, name, to); }
    uint32_t add_const(uint32_t to) { return add_ref(10, "", to); }
    uint32_t add_fwd(const std::string& name, bool is_union) {
        raw_.type(raw_.add_string(name), 7, 0, 0, is_union);
        return next_id_++;
    }
    uint32_t add_array(uint32_t element, uint32_t index_type, uint32_t count) {
        raw_.type(0, 3, 0, 0);
        raw_.word(element).word(index_type).word(count);
        return next_id_++;
    }
    uint32_t add_struct(const std::string& name, uint32_t size, const std::vector<MemberSpec>& members,
                        bool is_union = false) {
        bool bitfields = false;
        for (const MemberSpec& m : members) bitfields |= m.bitfield_size != 0;
        raw_.type(name.empty() ? 0 : raw_.add_string(name), is_union ? 5 : 4,
                  static_cast<uint32_t>(members.size()), size, bitfields);
        for (const MemberSpec& m : members) {
            raw_.word(m.name.empty() ? 0 : raw_.add_string(m.name)).word(m.type);
            raw_.word(bitfields ? (m.bitfield_size << 24 | m.bit_offset) : m.bit_offset);
        }
        return next_id_++;
    }
    uint32_t add_enum(const std::string& name, uint32_t size,
                      const std::vector<std::pair<std::string, int64_t>>& values, bool is_signed = false) {
        raw_.type(name.empty() ? 0 : raw_.add_string(name), 6, static_cast<uint32_t>(values.size()), size,
                  is_signed);
        for (const auto& [n, v] : values) raw_.word(raw_.add_string(n)).word(static_cast<uint32_t>(v));
        return next_id_++;
    }
    uint32_t add_enum64(const std::string& name, const std::vector<std::pair<std::string, uint64_t>>& values,
                        bool is_signed = false) {
        raw_.type(name.empty() ? 0 : raw_.add_string(name), 19, static_cast<uint32_t>(values.size()), 8,
                  is_signed);
        for (const auto& [n, v] : values) {
            raw_.word(raw_.add_string(n)).word(static_cast<uint32_t>(v)).word(static_cast<uint32_t>(v >> 32));
        }
        return next_id_++;
    }
    // Raw access for types the helpers above do not cover.
    btf_test::BtfBuilder& raw() { return raw_; }
    uint32_t claim_id() { return next_id_++; }

    std::vector<uint8_t> bytes() const { return raw_.build(); }
    Btf parse() const {
        auto btf = Btf::parse(bytes());
        EXPECT_TRUE(btf.ok()) << btf.error().to_string();
        return btf.ok() ? std::move(*btf) : Btf{};
    }

 private:
    uint32_t add_ref(uint32_t kind, const std::string& name, uint32_t to) {
        raw_.type(name.empty() ? 0 : raw_.add_string(name), kind, 0, to);
        return next_id_++;
    }

    btf_test::BtfBuilder raw_;
    uint32_t next_id_ = 1;
};

// The CO-RE records of `.BTF.ext` by section, read here directly (independently of BtfExt):
// the header is magic, version, flags, hdr_len, then func_info, line_info and core_relo
// offset/length pairs (24 bytes without the core_relo pair, 32 with it); the core_relo block
// is a record size, then per section {name offset, count} and count records of
// {insn_off, type_id, access_str_off, kind}.
inline std::optional<std::map<std::string, std::vector<BtfCoreRelo>>> read_core_relos(
    std::span<const uint8_t> ext, const Btf& btf, std::string& why) {
    detail::ByteReader header(ext);
    header.skip(4);
    auto hdr_len = header.u32();
    header.skip(16);
    auto core_off = header.u32();
    auto core_len = header.u32();
    std::map<std::string, std::vector<BtfCoreRelo>> out;
    if (!hdr_len || *hdr_len > ext.size()) {
        why = ".BTF.ext header is truncated";
        return std::nullopt;
    }
    if (*hdr_len < 32 || !core_len) return out;  // no core_relo block
    if (uint64_t{*core_off} + *core_len > ext.size() - *hdr_len) {
        why = "core_relo block outside .BTF.ext";
        return std::nullopt;
    }
    detail::ByteReader block(ext.subspan(*hdr_len + *core_off, *core_len));
    auto record_size = block.u32();
    if (!record_size || *record_size < 16) {
        why = "bad core_relo record size";
        return std::nullopt;
    }
    while (block.remaining() > 0) {
        auto name_off = block.u32();
        auto count = block.u32();
        auto name = name_off ? btf.string_at(*name_off) : std::nullopt;
        if (!count || !name) {
            why = "bad core_relo section header";
            return std::nullopt;
        }
        std::vector<BtfCoreRelo>& records = out[std::string(*name)];
        for (uint32_t i = 0; i < *count; ++i) {
            auto insn_off = block.u32();
            auto type_id = block.u32();
            auto access_off = block.u32();
            auto kind = block.u32();
            auto access = access_off ? btf.string_at(*access_off) : std::nullopt;
            if (!kind || !access || !block.skip(*record_size - 16)) {
                why = "truncated core_relo record";
                return std::nullopt;
            }
            records.push_back(BtfCoreRelo{*insn_off, *type_id, *access, static_cast<BtfCoreReloKind>(*kind)});
        }
    }
    return out;
}

// A code section of an object with its BTF and CO-RE records.
struct CoreObject {
    std::optional<ElfFile> elf;
    std::optional<Btf> btf;
    std::optional<BtfExt> ext;
    // From read_core_relos.
    std::map<std::string, std::vector<BtfCoreRelo>> core_relos;
    std::string skip_reason;

    // The raw slots of a section, empty if it is not there.
    std::vector<isa::RawInstruction> slots(const std::string& section) const {
        const ElfSection* s = elf->section(section);
        if (!s) return {};
        auto slots = isa::slots_from_bytes(s->data);
        return slots.ok() ? *slots : std::vector<isa::RawInstruction>{};
    }
};

inline CoreObject read_core_object(const std::string& object_name) {
    CoreObject out;
    std::filesystem::path path = std::filesystem::path(BPFVM_CORPUS_DIR) / object_name;
    if (!std::filesystem::exists(path)) {
        out.skip_reason = path.string() + " was not built";
        return out;
    }
    auto elf = ElfFile::read(path);
    if (!elf) {
        out.skip_reason = "cannot read " + path.string() + ": " + elf.error().to_string();
        return out;
    }
    out.elf = std::move(*elf);
    const ElfSection* btf_section = out.elf->section(".BTF");
    const ElfSection* ext_section = out.elf->section(".BTF.ext");
    if (!btf_section || !ext_section) {
        out.skip_reason = path.string() + " has no .BTF or .BTF.ext";
        return out;
    }
    auto btf = Btf::parse(btf_section->data);
    if (!btf) {
        out.skip_reason = btf.error().to_string();
        return out;
    }
    out.btf = std::move(*btf);
    auto ext = BtfExt::parse(ext_section->data, *out.btf);
    if (!ext) {
        out.skip_reason = ext.error().to_string();
        return out;
    }
    out.ext = std::move(*ext);
    std::string why;
    auto relos = read_core_relos(ext_section->data, *out.btf, why);
    if (!relos) {
        out.skip_reason = path.string() + ": " + why;
        return out;
    }
    out.core_relos = std::move(*relos);
    return out;
}

// The running kernel's BTF, or nullopt (with `why`) when it cannot be read.
inline std::optional<Btf> read_vmlinux_btf(std::string& why) {
    const char* path = "/sys/kernel/btf/vmlinux";
    auto bytes = btf_test::read_bytes(path);
    if (bytes.empty()) {
        why = std::string(path) + " is not readable on this machine";
        return std::nullopt;
    }
    auto btf = Btf::parse(bytes);
    if (!btf) {
        why = std::string(path) + " does not parse: " + btf.error().to_string();
        return std::nullopt;
    }
    return std::move(*btf);
}

}  // namespace bpfvm::loader::core_test
