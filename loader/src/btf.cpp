// Parsing and querying `.BTF`, following Documentation/bpf/btf.rst: a header, then a type
// section of variable-length records and a string section of NUL-terminated names.
#include "bpfvm/loader/btf.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace bpfvm::loader {

namespace {

constexpr uint16_t kBtfMagic = 0xeB9F;
constexpr uint16_t kBtfMagicSwapped = 0x9FeB;
constexpr uint8_t kBtfVersion = 1;
constexpr uint32_t kBtfHeaderSize = 24;  // struct btf_header up to str_len
// Chains of modifiers, typedefs and arrays longer than this are rejected, as the kernel's
// MAX_RESOLVE_DEPTH does, so a cycle or pathological nesting ends in an error.
constexpr int kMaxResolveDepth = 32;

Error invalid(std::string message) {
    return make_error(ErrorKind::InvalidInput, "BTF: " + std::move(message));
}

std::string type_label(uint32_t id, BtfKind kind) {
    return "type " + std::to_string(id) + " (" + std::string(btf_kind_name(kind)) + ")";
}

bool is_modifier(BtfKind kind) {
    switch (kind) {
        case BtfKind::Typedef:
        case BtfKind::Const:
        case BtfKind::Volatile:
        case BtfKind::Restrict:
        case BtfKind::TypeTag: return true;
        default: return false;
    }
}

// Kinds whose size_or_type field names another type.
bool refers_to_type(BtfKind kind) {
    switch (kind) {
        case BtfKind::Ptr:
        case BtfKind::Typedef:
        case BtfKind::Volatile:
        case BtfKind::Const:
        case BtfKind::Restrict:
        case BtfKind::Func:
        case BtfKind::FuncProto:
        case BtfKind::Var:
        case BtfKind::DeclTag:
        case BtfKind::TypeTag: return true;
        default: return false;
    }
}

}  // namespace

std::string_view btf_kind_name(BtfKind kind) {
    switch (kind) {
        case BtfKind::Void: return "void";
        case BtfKind::Int: return "int";
        case BtfKind::Ptr: return "ptr";
        case BtfKind::Array: return "array";
        case BtfKind::Struct: return "struct";
        case BtfKind::Union: return "union";
        case BtfKind::Enum: return "enum";
        case BtfKind::Fwd: return "fwd";
        case BtfKind::Typedef: return "typedef";
        case BtfKind::Volatile: return "volatile";
        case BtfKind::Const: return "const";
        case BtfKind::Restrict: return "restrict";
        case BtfKind::Func: return "func";
        case BtfKind::FuncProto: return "func_proto";
        case BtfKind::Var: return "var";
        case BtfKind::Datasec: return "datasec";
        case BtfKind::Float: return "float";
        case BtfKind::DeclTag: return "decl_tag";
        case BtfKind::TypeTag: return "type_tag";
        case BtfKind::Enum64: return "enum64";
    }
    return "unknown";
}

// Reads the type section into a Btf. Names are resolved against the Btf's own string copy.
class BtfParser {
 public:
    BtfParser(Btf& btf, std::span<const uint8_t> type_section) : btf_(btf), reader_(type_section) {}

    Status parse_types() {
        // The smallest type record is 12 bytes: this bounds the reservation by the input size.
        btf_.types_.reserve(reader_.remaining() / 12 + 1);
        btf_.types_.push_back(BtfType{});  // id 0: void
        while (reader_.remaining() > 0) {
            uint32_t id = static_cast<uint32_t>(btf_.types_.size());
            Status status = parse_type(id);
            if (!status) return status;
        }
        return check_type_references();
    }

 private:
    Result<std::string_view> name_at(uint32_t offset, const std::string& what) {
        auto name = btf_.string_at(offset);
        if (!name) {
            return invalid(what + ": name offset " + std::to_string(offset) +
                           " is outside the string section (size " +
                           std::to_string(btf_.string_section_size()) + ")");
        }
        return *name;
    }

    Error truncated(uint32_t id, BtfKind kind, std::string_view part) {
        return invalid(type_label(id, kind) + ": " + std::string(part) +
                       " runs past the end of the type section");
    }

    Status parse_type(uint32_t id) {
        auto name_off = reader_.u32();
        auto info = reader_.u32();
        auto size_or_type = reader_.u32();
        if (!name_off || !info || !size_or_type) {
            return invalid("type " + std::to_string(id) + ": header runs past the end of the type section");
        }
        uint32_t kind_number = (*info >> 24) & 0x1f;
        if (kind_number == 0 || kind_number > kBtfMaxKind) {
            return make_error(ErrorKind::Unsupported, "BTF: type " + std::to_string(id) +
                                                          " has unknown kind " + std::to_string(kind_number));
        }
        BtfType type;
        type.kind = static_cast<BtfKind>(kind_number);
        type.kind_flag = (*info >> 31) != 0;
        type.vlen = static_cast<uint16_t>(*info & 0xffff);
        type.size_or_type = *size_or_type;
        auto name = name_at(*name_off, type_label(id, type.kind));
        if (!name) return name.error();
        type.name = *name;

        Status trailing = parse_trailing(id, type);
        if (!trailing) return trailing;
        btf_.types_.push_back(type);
        return Ok{};
    }

    // The data that follows the common header, by kind.
    Status parse_trailing(uint32_t id, BtfType& type) {
        // Bounds check of the whole list before reserving, so a huge vlen cannot allocate.
        auto check_list = [&](size_t item_size, std::string_view what) -> Status {
            if (reader_.remaining() < type.vlen * item_size) return truncated(id, type.kind, what);
            return Ok{};
        };
        switch (type.kind) {
            case BtfKind::Int: {
                auto bits = reader_.u32();
                if (!bits) return truncated(id, type.kind, "int encoding");
                type.extra_[0] = (*bits >> 24) & 0x0f;
                type.extra_[1] = (*bits >> 16) & 0xff;
                type.extra_[2] = *bits & 0xff;
                return Ok{};
            }
            case BtfKind::Array: {
                auto elem = reader_.u32();
                auto index = reader_.u32();
                auto nelems = reader_.u32();
                if (!elem || !index || !nelems) return truncated(id, type.kind, "array data");
                type.extra_[0] = *elem;
                type.extra_[1] = *index;
                type.extra_[2] = *nelems;
                return Ok{};
            }
            case BtfKind::Struct:
            case BtfKind::Union: {
                if (Status status = check_list(12, "member list"); !status) return status;
                type.first_item = static_cast<uint32_t>(btf_.members_.size());
                for (uint32_t i = 0; i < type.vlen; ++i) {
                    uint32_t name_off = *reader_.u32();
                    uint32_t member_type = *reader_.u32();
                    uint32_t offset = *reader_.u32();
                    auto name = name_at(name_off, type_label(id, type.kind) + " member " + std::to_string(i));
                    if (!name) return name.error();
                    BtfMember member{*name, member_type, offset, 0};
                    // With kind_flag the offset packs a bitfield size in its top 8 bits.
                    if (type.kind_flag) {
                        member.bit_offset = offset & 0xffffff;
                        member.bitfield_size = offset >> 24;
                    }
                    btf_.members_.push_back(member);
                }
                return Ok{};
            }
            case BtfKind::Enum:
            case BtfKind::Enum64: {
                bool is64 = type.kind == BtfKind::Enum64;
                if (Status status = check_list(is64 ? 12 : 8, "enumerator list"); !status) return status;
                type.first_item = static_cast<uint32_t>(btf_.enumerators_.size());
                for (uint32_t i = 0; i < type.vlen; ++i) {
                    uint32_t name_off = *reader_.u32();
                    uint64_t value = *reader_.u32();
                    if (is64) {
                        value |= uint64_t{*reader_.u32()} << 32;
                    } else if (type.kind_flag) {
                        // Signed 32-bit values are sign-extended so they read back as int64_t.
                        value = static_cast<uint64_t>(int64_t{static_cast<int32_t>(value)});
                    }
                    auto name =
                        name_at(name_off, type_label(id, type.kind) + " enumerator " + std::to_string(i));
                    if (!name) return name.error();
                    btf_.enumerators_.push_back(BtfEnumerator{*name, value});
                }
                return Ok{};
            }
            case BtfKind::FuncProto: {
                if (Status status = check_list(8, "parameter list"); !status) return status;
                type.first_item = static_cast<uint32_t>(btf_.params_.size());
                for (uint32_t i = 0; i < type.vlen; ++i) {
                    uint32_t name_off = *reader_.u32();
                    uint32_t param_type = *reader_.u32();
                    auto name =
                        name_at(name_off, type_label(id, type.kind) + " parameter " + std::to_string(i));
                    if (!name) return name.error();
                    btf_.params_.push_back(BtfParam{*name, param_type});
                }
                return Ok{};
            }
            case BtfKind::Var: {
                auto linkage = reader_.u32();
                if (!linkage) return truncated(id, type.kind, "var linkage");
                type.extra_[0] = *linkage;
                return Ok{};
            }
            case BtfKind::Datasec: {
                if (Status status = check_list(12, "var_secinfo list"); !status) return status;
                type.first_item = static_cast<uint32_t>(btf_.var_secinfos_.size());
                for (uint32_t i = 0; i < type.vlen; ++i) {
                    uint32_t var_type = *reader_.u32();
                    uint32_t offset = *reader_.u32();
                    uint32_t size = *reader_.u32();
                    btf_.var_secinfos_.push_back(BtfVarSecinfo{var_type, offset, size});
                }
                return Ok{};
            }
            case BtfKind::DeclTag: {
                auto component = reader_.u32();
                if (!component) return truncated(id, type.kind, "component index");
                type.extra_[0] = *component;
                return Ok{};
            }
            default: return Ok{};  // PTR, FWD, TYPEDEF, modifiers, FUNC, FLOAT: no trailing data
        }
    }

    // Done after all types are read, since references may point forward.
    Status check_type_references() {
        const uint32_t count = btf_.type_count();
        auto check = [&](uint32_t id, uint32_t target, const std::string& what) -> Status {
            if (target >= count) {
                return invalid(type_label(id, btf_.types_[id].kind) + ": " + what + " refers to type " +
                               std::to_string(target) + ", past the last type " + std::to_string(count - 1));
            }
            return Ok{};
        };
        for (uint32_t id = 1; id < count; ++id) {
            const BtfType& type = btf_.types_[id];
            Status status = Ok{};
            if (refers_to_type(type.kind)) status = check(id, type.size_or_type, "its type");
            if (!status) return status;
            switch (type.kind) {
                case BtfKind::Array:
                    if (status = check(id, type.array_elem_type(), "element type"); !status) return status;
                    if (status = check(id, type.array_index_type(), "index type"); !status) return status;
                    break;
                case BtfKind::Struct:
                case BtfKind::Union:
                    for (const BtfMember& member : btf_.members(id)) {
                        if (status = check(id, member.type, "member '" + std::string(member.name) + "'");
                            !status) {
                            return status;
                        }
                    }
                    break;
                case BtfKind::FuncProto:
                    for (const BtfParam& param : btf_.params(id)) {
                        if (status = check(id, param.type, "a parameter"); !status) return status;
                    }
                    break;
                case BtfKind::Datasec:
                    for (const BtfVarSecinfo& info : btf_.var_secinfos(id)) {
                        if (status = check(id, info.type, "a variable"); !status) return status;
                    }
                    break;
                default: break;
            }
        }
        return Ok{};
    }

    Btf& btf_;
    detail::ByteReader reader_;
};

Result<Btf> Btf::parse(std::span<const uint8_t> data) {
    detail::ByteReader header(data);
    auto magic = header.u16();
    auto version = header.u8();
    auto flags = header.u8();
    auto hdr_len = header.u32();
    auto type_off = header.u32();
    auto type_len = header.u32();
    auto str_off = header.u32();
    auto str_len = header.u32();
    if (!str_len) {
        return invalid("data is " + std::to_string(data.size()) + " bytes, shorter than the " +
                       std::to_string(kBtfHeaderSize) + "-byte header");
    }
    if (*magic == kBtfMagicSwapped) {
        return make_error(ErrorKind::Unsupported, "BTF: big-endian BTF is not supported");
    }
    if (*magic != kBtfMagic) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "%04x", *magic);
        return invalid("bad magic 0x" + std::string(hex) + " (expected 0xeb9f)");
    }
    if (*version != kBtfVersion) {
        return make_error(ErrorKind::Unsupported,
                          "BTF: version " + std::to_string(*version) + " is not supported");
    }
    if (*flags != 0) return invalid("header flags " + std::to_string(*flags) + " are not zero");
    if (*hdr_len < kBtfHeaderSize || *hdr_len > data.size()) {
        return invalid("header length " + std::to_string(*hdr_len) + " is outside 24.." +
                       std::to_string(data.size()));
    }
    // A newer, longer header is acceptable only if the fields we do not know are zero.
    for (size_t i = kBtfHeaderSize; i < *hdr_len; ++i) {
        if (data[i] != 0)
            return invalid("unknown header field at byte " + std::to_string(i) + " is not zero");
    }
    // Offsets count from the end of the header. 64-bit sums cannot overflow.
    const uint64_t body_size = data.size() - *hdr_len;
    if (uint64_t{*type_off} + *type_len > body_size) {
        return invalid("type section (offset " + std::to_string(*type_off) + ", length " +
                       std::to_string(*type_len) + ") runs past the data (" + std::to_string(body_size) +
                       " bytes after the header)");
    }
    if (uint64_t{*str_off} + *str_len > body_size) {
        return invalid("string section (offset " + std::to_string(*str_off) + ", length " +
                       std::to_string(*str_len) + ") runs past the data (" + std::to_string(body_size) +
                       " bytes after the header)");
    }
    if (*type_off % 4 != 0) {
        return invalid("type section offset " + std::to_string(*type_off) + " is not 4-aligned");
    }
    const bool sections_overlap =
        *type_off < uint64_t{*str_off} + *str_len && *str_off < uint64_t{*type_off} + *type_len;
    if (*type_len > 0 && sections_overlap) {
        return invalid("type and string sections overlap");
    }
    auto body = data.subspan(*hdr_len);
    auto strings = body.subspan(*str_off, *str_len);
    // Offset 0 must be the empty name, and a terminating NUL keeps every name inside.
    if (strings.empty() || strings.front() != 0 || strings.back() != 0) {
        return invalid("string section must start and end with a NUL byte");
    }

    Btf btf;
    btf.strings_ = std::make_shared<const std::vector<char>>(strings.begin(), strings.end());
    BtfParser parser(btf, body.subspan(*type_off, *type_len));
    Status status = parser.parse_types();
    if (!status) return status.error();
    return btf;
}

std::optional<std::string_view> Btf::string_at(uint32_t offset) const {
    const std::vector<char>& strings = *strings_;
    if (offset >= strings.size()) return std::nullopt;
    // The section ends with a NUL (checked at parse), so strlen stays inside it.
    const char* start = strings.data() + offset;
    return std::string_view(start, std::strlen(start));
}

std::string_view Btf::name(uint32_t id) const {
    const BtfType* found = type(id);
    return found ? found->name : std::string_view{};
}

namespace {

template <typename Item>
std::span<const Item> items_of(const BtfType* type, const std::vector<Item>& items, BtfKind kind_a,
                               BtfKind kind_b) {
    if (!type || (type->kind != kind_a && type->kind != kind_b)) return {};
    return std::span<const Item>(items).subspan(type->first_item, type->vlen);
}

}  // namespace

std::span<const BtfMember> Btf::members(uint32_t id) const {
    return items_of(type(id), members_, BtfKind::Struct, BtfKind::Union);
}
std::span<const BtfEnumerator> Btf::enumerators(uint32_t id) const {
    return items_of(type(id), enumerators_, BtfKind::Enum, BtfKind::Enum64);
}
std::span<const BtfParam> Btf::params(uint32_t id) const {
    return items_of(type(id), params_, BtfKind::FuncProto, BtfKind::FuncProto);
}
std::span<const BtfVarSecinfo> Btf::var_secinfos(uint32_t id) const {
    return items_of(type(id), var_secinfos_, BtfKind::Datasec, BtfKind::Datasec);
}

void Btf::lay_out_datasec(uint32_t id, uint32_t size, std::span<const uint32_t> offsets) {
    if (id >= types_.size() || types_[id].kind != BtfKind::Datasec) return;
    BtfType& datasec = types_[id];
    if (offsets.size() != datasec.vlen) return;
    datasec.size_or_type = size;
    auto first = var_secinfos_.begin() + datasec.first_item;
    auto last = first + datasec.vlen;
    for (auto [info, offset] = std::pair{first, offsets.begin()}; info != last; ++info, ++offset)
        info->offset = *offset;
    // Variables at the same offset (zero-sized ones) keep clang's order. (std::stable_sort would
    // say so directly, but libstdc++ 12's uses get_temporary_buffer, which clang 19 deprecates.)
    std::vector<std::pair<BtfVarSecinfo, size_t>> ordered;
    for (auto it = first; it != last; ++it) ordered.emplace_back(*it, ordered.size());
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return a.first.offset != b.first.offset ? a.first.offset < b.first.offset : a.second < b.second;
    });
    for (size_t i = 0; i < ordered.size(); ++i) first[static_cast<std::ptrdiff_t>(i)] = ordered[i].first;
}

void Btf::set_var_linkage(uint32_t id, BtfLinkage linkage) {
    if (id >= types_.size() || types_[id].kind != BtfKind::Var) return;
    types_[id].extra_[0] = static_cast<uint32_t>(linkage);
}

std::optional<uint32_t> Btf::find_by_name(std::string_view name, BtfKind kind) const {
    for (uint32_t id = 1; id < types_.size(); ++id) {
        if (types_[id].kind == kind && types_[id].name == name) return id;
    }
    return std::nullopt;
}

Result<uint32_t> Btf::resolve(uint32_t id) const {
    if (id >= type_count()) return invalid("type " + std::to_string(id) + " does not exist");
    const uint32_t start = id;
    for (int depth = 0; depth <= kMaxResolveDepth; ++depth) {
        if (!is_modifier(types_[id].kind)) return id;
        id = types_[id].size_or_type;
    }
    return invalid(type_label(start, types_[start].kind) + ": typedef/modifier chain is longer than " +
                   std::to_string(kMaxResolveDepth) + " (a cycle?)");
}

Result<uint32_t> Btf::size_of(uint32_t id) const {
    if (id >= type_count()) return invalid("type " + std::to_string(id) + " does not exist");
    const uint32_t start = id;
    // Product of the element counts of the arrays passed through on the way down.
    uint64_t multiplier = 1;
    for (int depth = 0; depth <= kMaxResolveDepth; ++depth) {
        const BtfType& type = types_[id];
        uint64_t size = 0;
        switch (type.kind) {
            case BtfKind::Int:
            case BtfKind::Struct:
            case BtfKind::Union:
            case BtfKind::Enum:
            case BtfKind::Enum64:
            case BtfKind::Float:
            case BtfKind::Datasec: size = type.size_or_type; break;
            case BtfKind::Ptr: size = 8; break;
            case BtfKind::Array:
                multiplier *= type.array_nelems();  // both factors < 2^32 here: no 64-bit overflow
                if (multiplier > UINT32_MAX) multiplier = uint64_t{UINT32_MAX} + 1;  // stays "too big"
                id = type.array_elem_type();
                continue;
            case BtfKind::Typedef:
            case BtfKind::Const:
            case BtfKind::Volatile:
            case BtfKind::Restrict:
            case BtfKind::TypeTag:
            case BtfKind::Var: id = type.size_or_type; continue;
            default:
                return invalid(type_label(start, types_[start].kind) + ": " +
                               std::string(btf_kind_name(type.kind)) + " type " + std::to_string(id) +
                               " has no size");
        }
        uint64_t total = size * multiplier;  // size < 2^32 and multiplier <= 2^32: fits
        if (total > UINT32_MAX) {
            return invalid(type_label(start, types_[start].kind) + ": size overflows 32 bits");
        }
        return static_cast<uint32_t>(total);
    }
    return invalid(type_label(start, types_[start].kind) + ": nested deeper than " +
                   std::to_string(kMaxResolveDepth) + " types (a cycle?)");
}

namespace {

// Names are for messages: a crafted BTF (prototypes whose parameters are prototypes) would
// otherwise print an exponentially long string. Past this length printing stops.
constexpr size_t kMaxTypeNameLength = 512;

void append_declarator_suffix(std::string& out, char next) {
    if (!out.empty() && out.back() != '*' && out.back() != ' ' && next != ' ') out += ' ';
}

}  // namespace

void Btf::append_c_name(uint32_t id, std::string& out, int depth) const {
    if (out.size() >= kMaxTypeNameLength) {
        if (!out.ends_with("...")) out += "...";
        return;
    }
    if (depth > kMaxResolveDepth || id >= type_count()) {
        out += "...";
        return;
    }
    const BtfType& type = types_[id];
    auto named = [&](std::string_view prefix) {
        out += prefix;
        out += type.name.empty() ? std::string_view("(anon)") : type.name;
    };
    switch (type.kind) {
        case BtfKind::Void: out += "void"; return;
        case BtfKind::Int:
        case BtfKind::Float:
        case BtfKind::Typedef: out += type.name; return;
        case BtfKind::Struct: named("struct "); return;
        case BtfKind::Union: named("union "); return;
        case BtfKind::Enum:
        case BtfKind::Enum64: named("enum "); return;
        case BtfKind::Fwd: named(type.is_union_fwd() ? "union " : "struct "); return;
        case BtfKind::Ptr: {
            const BtfType* target = this->type(type.size_or_type);
            if (target && target->kind == BtfKind::FuncProto) {
                // Function pointer: "ret (*)(params)".
                append_c_name(target->size_or_type, out, depth + 1);
                out += " (*)(";
                bool first = true;
                for (const BtfParam& param : params(type.size_or_type)) {
                    if (out.size() >= kMaxTypeNameLength) break;
                    if (!first) out += ", ";
                    first = false;
                    if (param.type == 0) {
                        out += "...";
                    } else {
                        append_c_name(param.type, out, depth + 1);
                    }
                }
                out += ")";
                return;
            }
            append_c_name(type.size_or_type, out, depth + 1);
            append_declarator_suffix(out, '*');
            out += '*';
            return;
        }
        case BtfKind::Const:
        case BtfKind::Volatile:
        case BtfKind::Restrict: {
            std::string_view qualifier = btf_kind_name(type.kind);
            const BtfType* target = this->type(type.size_or_type);
            if (target && target->kind == BtfKind::Ptr) {
                // A qualified pointer: the qualifier follows the star ("char * const").
                append_c_name(type.size_or_type, out, depth + 1);
                out += ' ';
                out += qualifier;
            } else {
                out += qualifier;
                out += ' ';
                append_c_name(type.size_or_type, out, depth + 1);
            }
            return;
        }
        case BtfKind::TypeTag:
            out += "__attribute__((btf_type_tag(\"";
            out += type.name;
            out += "\"))) ";
            append_c_name(type.size_or_type, out, depth + 1);
            return;
        case BtfKind::Array:
            append_c_name(type.array_elem_type(), out, depth + 1);
            out += '[';
            out += std::to_string(type.array_nelems());
            out += ']';
            return;
        case BtfKind::FuncProto:
        case BtfKind::Func: {
            uint32_t proto_id = type.kind == BtfKind::Func ? type.size_or_type : id;
            const BtfType* proto = this->type(proto_id);
            if (!proto || proto->kind != BtfKind::FuncProto) {
                named("func ");
                return;
            }
            append_c_name(proto->size_or_type, out, depth + 1);
            append_declarator_suffix(out, 'x');
            if (type.kind == BtfKind::Func) out += type.name;
            out += '(';
            bool first = true;
            for (const BtfParam& param : params(proto_id)) {
                if (out.size() >= kMaxTypeNameLength) break;
                if (!first) out += ", ";
                first = false;
                if (param.type == 0) {
                    out += "...";
                    continue;
                }
                append_c_name(param.type, out, depth + 1);
                if (!param.name.empty()) {
                    append_declarator_suffix(out, 'x');
                    out += param.name;
                }
            }
            if (first) out += "void";
            out += ')';
            return;
        }
        case BtfKind::Var:
            append_c_name(type.size_or_type, out, depth + 1);
            append_declarator_suffix(out, 'x');
            out += type.name;
            return;
        case BtfKind::Datasec: named("datasec "); return;
        case BtfKind::DeclTag:
            out += "__attribute__((btf_decl_tag(\"";
            out += type.name;
            out += "\"))) ";
            append_c_name(type.size_or_type, out, depth + 1);
            return;
    }
    out += "...";
}

std::string Btf::to_string(uint32_t id) const {
    std::string out;
    append_c_name(id, out, 0);
    return out;
}

}  // namespace bpfvm::loader
