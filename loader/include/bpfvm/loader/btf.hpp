// BTF (BPF Type Format) and BTF.ext: the type information clang emits in `.BTF` and the
// per-instruction records (function info, line info, CO-RE relocations) in `.BTF.ext`.
// Written from the kernel's Documentation/bpf/btf.rst and <linux/btf.h>. Every reference
// (type id, string offset, trailing-data length) is checked at parse time, so the accessors
// below never read outside the data and never need to fail on a parsed object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/isa/error.hpp"

namespace bpfvm::loader {

// Numbers as in BTF_KIND_* of <linux/btf.h>; Void is id 0, never stored in the data.
enum class BtfKind : uint8_t {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
};
inline constexpr uint8_t kBtfMaxKind = 19;

// "int", "struct", "func_proto", ...; "unknown" for numbers outside the enum.
std::string_view btf_kind_name(BtfKind kind);

// BTF_INT_* encoding bits of an INT type.
inline constexpr uint8_t kBtfIntSigned = 1 << 0;
inline constexpr uint8_t kBtfIntChar = 1 << 1;
inline constexpr uint8_t kBtfIntBool = 1 << 2;

// Linkage of a VAR (BTF_VAR_*) and of a FUNC (BTF_FUNC_*, stored in the FUNC's vlen).
enum class BtfLinkage : uint32_t { Static = 0, Global = 1, Extern = 2 };

struct BtfMember {
    std::string_view name;  // empty for an anonymous struct/union member
    uint32_t type = 0;
    uint32_t bit_offset = 0;
    uint32_t bitfield_size = 0;  // 0 when the member is not a bitfield
};

struct BtfEnumerator {
    std::string_view name;
    // Raw value; read it as signed when the enum's `is_signed()` says so.
    uint64_t value = 0;
};

struct BtfParam {
    std::string_view name;  // empty when the prototype has no parameter names
    uint32_t type = 0;      // 0 in the last parameter means "..." (variadic)
};

struct BtfVarSecinfo {
    uint32_t type = 0;  // a VAR (or FUNC for extern functions in .ksyms)
    uint32_t offset = 0;
    uint32_t size = 0;
};

// One decoded type. Kind-specific single values live inline; the lists that follow a type
// (members, enumerators, params, var_secinfos) are slices of shared vectors in Btf, read with
// Btf::members(id) and friends. Names view the Btf's owned string section.
struct BtfType {
    BtfKind kind = BtfKind::Void;
    bool kind_flag = false;
    uint16_t vlen = 0;  // number of trailing items; for FUNC, the linkage
    std::string_view name;
    // Size in bytes for INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC; the referenced type
    // for PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO (return), VAR, DECL_TAG,
    // TYPE_TAG.
    uint32_t size_or_type = 0;

    // First item of this type's trailing list in the Btf vector that matches its kind.
    uint32_t first_item = 0;

    // INT: encoding (kBtfInt*), bit offset and bit count.
    uint32_t int_encoding() const { return extra_[0]; }
    uint32_t int_offset() const { return extra_[1]; }
    uint32_t int_bits() const { return extra_[2]; }
    // ARRAY: element type, index type, element count.
    uint32_t array_elem_type() const { return extra_[0]; }
    uint32_t array_index_type() const { return extra_[1]; }
    uint32_t array_nelems() const { return extra_[2]; }
    // VAR: linkage.
    BtfLinkage var_linkage() const { return static_cast<BtfLinkage>(extra_[0]); }
    // DECL_TAG: index of the tagged member or parameter; -1 tags the type itself.
    int32_t decl_tag_component_idx() const { return static_cast<int32_t>(extra_[0]); }

    uint32_t size() const { return size_or_type; }
    uint32_t ref_type() const { return size_or_type; }
    // ENUM/ENUM64 with kind_flag set hold signed values.
    bool is_signed_enum() const { return kind_flag; }
    // FWD with kind_flag set declares a union, otherwise a struct.
    bool is_union_fwd() const { return kind_flag; }
    BtfLinkage func_linkage() const { return static_cast<BtfLinkage>(vlen); }

 private:
    friend class BtfParser;
    friend class Btf;
    // The kind's single trailing values (INT, ARRAY, VAR, DECL_TAG), kept in one slot so
    // vmlinux's 100k+ types stay small.
    uint32_t extra_[3] = {0, 0, 0};
};

class Btf {
 public:
    // Parses a `.BTF` section or a raw BTF file (/sys/kernel/btf/vmlinux). The bytes are
    // copied: the result does not refer to `data`.
    static Result<Btf> parse(std::span<const uint8_t> data);

    // Number of type ids including void: valid ids are 0 .. type_count() - 1.
    uint32_t type_count() const { return static_cast<uint32_t>(types_.size()); }
    // nullptr for an id >= type_count().
    const BtfType* type(uint32_t id) const { return id < types_.size() ? &types_[id] : nullptr; }
    // Empty for anonymous types and ids out of range.
    std::string_view name(uint32_t id) const;

    std::span<const BtfMember> members(uint32_t id) const;           // STRUCT, UNION
    std::span<const BtfEnumerator> enumerators(uint32_t id) const;   // ENUM, ENUM64
    std::span<const BtfParam> params(uint32_t id) const;             // FUNC_PROTO
    std::span<const BtfVarSecinfo> var_secinfos(uint32_t id) const;  // DATASEC

    // First type with this name and kind, or nullopt.
    std::optional<uint32_t> find_by_name(std::string_view name, BtfKind kind) const;

    // Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the underlying type id.
    Result<uint32_t> resolve(uint32_t id) const;

    // Size in bytes of a value of this type (PTR: 8; ARRAY: element size * count; VAR: its
    // type's size). Errors for types without a size (void, FUNC, FUNC_PROTO, FWD, DECL_TAG),
    // on overflow past 32 bits, on cycles and on nesting deeper than the kernel allows.
    Result<uint32_t> size_of(uint32_t id) const;

    // C-like spelling for diagnostics: "struct iphdr *", "unsigned int", "__u32",
    // "int (*)(void *)". Never fails: cycles and very deep nesting print as "...".
    std::string to_string(uint32_t id) const;

    // A string by its offset into the string section; nullopt if the offset is outside it.
    std::optional<std::string_view> string_at(uint32_t offset) const;
    uint32_t string_section_size() const { return static_cast<uint32_t>(strings_->size()); }

    // Fix-ups for what the compiler could not know when it wrote the BTF, applied by the loader
    // from the ELF file before it shares the Btf (libbpf's btf_fixup_datasec). They change
    // sizes, offsets and linkage only, never a reference, so what parse() checked still holds.
    // Ids of another kind are ignored.
    //
    // Sets the size of a DATASEC and the offsets of its variables (`offsets` parallel to
    // var_secinfos(id); ignored unless it has one offset per variable), then sorts the
    // variables by offset, keeping the order of equal offsets.
    void lay_out_datasec(uint32_t id, uint32_t size, std::span<const uint32_t> offsets);
    void set_var_linkage(uint32_t id, BtfLinkage linkage);

 private:
    friend class BtfParser;
    friend class BtfExt;

    void append_c_name(uint32_t id, std::string& out, int depth) const;

    // Shared so a copied Btf, and a BtfExt made from it, keep the names they view alive.
    std::shared_ptr<const std::vector<char>> strings_ = std::make_shared<std::vector<char>>();
    std::vector<BtfType> types_;
    std::vector<BtfMember> members_;
    std::vector<BtfEnumerator> enumerators_;
    std::vector<BtfParam> params_;
    std::vector<BtfVarSecinfo> var_secinfos_;
};

// Kinds of CO-RE relocation (enum bpf_core_relo_kind of <linux/bpf.h>).
enum class BtfCoreReloKind : uint32_t {
    FieldByteOffset = 0,
    FieldByteSize = 1,
    FieldExists = 2,
    FieldSigned = 3,
    FieldLshiftU64 = 4,
    FieldRshiftU64 = 5,
    TypeIdLocal = 6,
    TypeIdTarget = 7,
    TypeExists = 8,
    TypeSize = 9,
    EnumvalExists = 10,
    EnumvalValue = 11,
    TypeMatches = 12,
};

struct BtfFuncInfo {
    uint32_t insn_off = 0;  // byte offset of the function's first instruction in its section
    uint32_t type_id = 0;   // a FUNC
};

struct BtfLineInfo {
    uint32_t insn_off = 0;  // byte offset in the section, as clang writes it
    std::string_view file_name;
    std::string_view source_line;  // text of the line, may be empty
    uint32_t line = 0;
    uint32_t column = 0;
};

struct BtfCoreRelo {
    uint32_t insn_off = 0;    // byte offset in the section
    uint32_t type_id = 0;     // root type of the access, in the object's BTF
    std::string_view access;  // "0:1:2" style access string
    BtfCoreReloKind kind = BtfCoreReloKind::FieldByteOffset;
};

// Records of one ELF code section ("xdp", ".text", ...).
struct BtfExtSection {
    std::string name;
    std::vector<BtfFuncInfo> func_infos;
    std::vector<BtfLineInfo> line_infos;
    std::vector<BtfCoreRelo> core_relos;
};

class BtfExt {
 public:
    // Parses `.BTF.ext`; names and type ids are checked against `btf` (the object's `.BTF`).
    // The result keeps the BTF string section alive; it does not refer to `data`.
    static Result<BtfExt> parse(std::span<const uint8_t> data, const Btf& btf);

    // Sections in the order they first appear in the data.
    const std::vector<BtfExtSection>& sections() const { return sections_; }
    // nullptr when the section has no records.
    const BtfExtSection* section(std::string_view name) const;

 private:
    std::shared_ptr<const std::vector<char>> strings_;
    std::vector<BtfExtSection> sections_;
};

namespace detail {

// Bounds-checked little-endian reader over untrusted bytes: every read says whether the bytes
// were there, and a failed read leaves the position unchanged.
class ByteReader {
 public:
    explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    size_t offset() const { return offset_; }
    size_t remaining() const { return bytes_.size() - offset_; }

    std::optional<uint8_t> u8() {
        if (remaining() < 1) return std::nullopt;
        return bytes_[offset_++];
    }
    std::optional<uint16_t> u16() {
        if (remaining() < 2) return std::nullopt;
        uint16_t value = static_cast<uint16_t>(bytes_[offset_] | bytes_[offset_ + 1] << 8);
        offset_ += 2;
        return value;
    }
    std::optional<uint32_t> u32() {
        if (remaining() < 4) return std::nullopt;
        uint32_t value = 0;
        for (int i = 3; i >= 0; --i) value = value << 8 | bytes_[offset_ + i];
        offset_ += 4;
        return value;
    }
    bool skip(size_t count) {
        if (remaining() < count) return false;
        offset_ += count;
        return true;
    }

 private:
    std::span<const uint8_t> bytes_;
    size_t offset_ = 0;
};

}  // namespace detail

}  // namespace bpfvm::loader
