#include "btf_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace bpfvm::tools {
namespace {

using json = nlohmann::ordered_json;
using loader::Btf;
using loader::BtfKind;
using loader::BtfType;

// The kernel's MAX_RESOLVE_DEPTH: no legitimate type nests deeper.
constexpr int kMaxDepth = 32;
// Work bounds against crafted BTF whose small type graph fans out into a huge tree (structs of
// 65535 zero-sized members of structs of 65535 members...). Real map values stay far below.
constexpr size_t kMaxWork = size_t{1} << 20;

// Members visited plus values rendered or encoded, shared by one top-level call.
struct Budget {
    size_t used = 0;
    bool spend(size_t amount = 1) {
        used += amount;
        return used <= kMaxWork;
    }
    bool exhausted() const { return used > kMaxWork; }
};

bool is_char_int(const BtfType& type) {
    if (type.kind != BtfKind::Int || type.size() != 1 || type.int_bits() != 8) return false;
    // clang gives plain `char` the signed encoding, not BTF_INT_CHAR: go by its name as well.
    return (type.int_encoding() & loader::kBtfIntChar) != 0 || type.name == "char";
}

uint64_t mask_of(uint32_t bits) {
    return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

int64_t sign_extend(uint64_t value, uint32_t bits) {
    if (bits == 0 || bits >= 64) return static_cast<int64_t>(value);
    uint64_t sign = uint64_t{1} << (bits - 1);
    value &= mask_of(bits);
    return static_cast<int64_t>((value ^ sign) - sign);
}

// Bits [offset, offset + bits) of little-endian memory, bit i being bit i % 8 of byte i / 8
// (how the little-endian BPF target lays out bitfields). bits <= 64; the caller checks bounds.
uint64_t read_bits(std::span<const uint8_t> bytes, uint32_t offset, uint32_t bits) {
    uint64_t value = 0;
    for (uint32_t i = 0; i < bits; ++i) {
        uint32_t bit = offset + i;
        if (bytes[bit / 8] >> (bit % 8) & 1) value |= uint64_t{1} << i;
    }
    return value;
}

void write_bits(std::span<uint8_t> bytes, uint32_t offset, uint32_t bits, uint64_t value) {
    for (uint32_t i = 0; i < bits; ++i) {
        uint32_t bit = offset + i;
        auto flag = static_cast<uint8_t>(1u << (bit % 8));
        if (value >> i & 1) {
            bytes[bit / 8] |= flag;
        } else {
            bytes[bit / 8] &= static_cast<uint8_t>(~flag);
        }
    }
}

// A printable ASCII string, its NUL, then only zeros: shown as a JSON string, which gives
// back exactly these bytes. Anything else (no NUL, data after it, non-ASCII) stays an array.
bool is_c_string(std::span<const uint8_t> bytes) {
    auto nul = std::find(bytes.begin(), bytes.end(), uint8_t{0});
    if (nul == bytes.end()) return false;
    bool printable = std::all_of(bytes.begin(), nul, [](uint8_t c) {
        return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
    });
    return printable && std::all_of(nul, bytes.end(), [](uint8_t c) { return c == 0; });
}

// BTF names are not checked to be identifiers, and nlohmann's dump() throws on invalid UTF-8:
// bytes outside printable ASCII become "\xNN", for printing and for matching JSON keys alike.
std::string display_name(std::string_view name) {
    return printable_bytes(name);
}

std::optional<uint8_t> hex_digit(char c) {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
    return std::nullopt;
}

std::string_view strip_hex_prefix(std::string_view text) {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
    return text;
}

// "0a00", "0x0a00": bytes in memory order; nullopt when not an even count of hex digits.
std::optional<std::vector<uint8_t>> parse_hex(std::string_view text) {
    text = strip_hex_prefix(text);
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<uint8_t> bytes;
    bytes.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        auto high = hex_digit(text[i]);
        auto low = hex_digit(text[i + 1]);
        if (!high || !low) return std::nullopt;
        bytes.push_back(static_cast<uint8_t>(*high << 4 | *low));
    }
    return bytes;
}

// One named value inside a struct, union or anonymous member flattened into it, with its
// place in the outermost composite's bytes.
struct Field {
    std::string_view name;
    uint32_t type = 0;        // the member's type; for bitfields, resolved to its INT/ENUM
    uint32_t bit_offset = 0;  // from the start of the outermost composite
    uint32_t bits = 0;        // bitfield width; 0 for a whole member
    uint32_t size = 0;        // bytes of a whole member
};

class FieldCollector {
 public:
    FieldCollector(const Btf& btf, Budget& budget) : btf_(btf), budget_(budget) {}

    // The named fields of struct/union `id`, `size` bytes long; nullopt when the BTF does not
    // describe a layout that fits (member outside the bytes, unaligned non-bitfield, unsized
    // member type, a composite containing itself, too deep or too wide).
    std::optional<std::vector<Field>> collect(uint32_t id, uint32_t size) {
        std::vector<Field> fields;
        std::vector<uint32_t> path;
        if (!add(id, size, 0, 0, path, fields)) return std::nullopt;
        return fields;
    }

 private:
    bool add(uint32_t id, uint32_t size, uint32_t base_bits, int depth, std::vector<uint32_t>& path,
             std::vector<Field>& fields) {
        if (depth > kMaxDepth) return false;
        if (std::find(path.begin(), path.end(), id) != path.end()) return false;
        const BtfType* composite = btf_.type(id);
        if (!composite || (composite->kind != BtfKind::Struct && composite->kind != BtfKind::Union))
            return false;
        path.push_back(id);
        for (const loader::BtfMember& member : btf_.members(id)) {
            if (!budget_.spend()) return false;
            auto resolved = btf_.resolve(member.type);
            if (!resolved) return false;
            const BtfType& type = *btf_.type(*resolved);
            uint32_t bit_offset = member.bit_offset;
            uint32_t bits = member.bitfield_size;
            // Without kind_flag, a bitfield is an INT member narrower than its type.
            if (bits == 0 && !composite->kind_flag && type.kind == BtfKind::Int &&
                (type.int_bits() != type.size() * 8 || type.int_offset() != 0)) {
                bits = type.int_bits();
                bit_offset += type.int_offset();
            }
            uint64_t absolute = uint64_t{base_bits} + bit_offset;
            if (bits != 0) {
                bool integral =
                    type.kind == BtfKind::Int || type.kind == BtfKind::Enum || type.kind == BtfKind::Enum64;
                if (!integral || bits > 64 || uint64_t{bit_offset} + bits > uint64_t{size} * 8) return false;
                if (member.name.empty()) continue;  // padding: C cannot name it
                fields.push_back(Field{member.name, *resolved, static_cast<uint32_t>(absolute), bits, 0});
                continue;
            }
            if (bit_offset % 8 != 0) return false;
            auto member_size = btf_.size_of(member.type);
            if (!member_size || uint64_t{bit_offset / 8} + *member_size > size) return false;
            if (member.name.empty()) {
                if (type.kind == BtfKind::Struct || type.kind == BtfKind::Union) {
                    if (absolute > UINT32_MAX ||
                        !add(*resolved, *member_size, static_cast<uint32_t>(absolute), depth + 1, path,
                             fields))
                        return false;
                }
                continue;
            }
            fields.push_back(
                Field{member.name, member.type, static_cast<uint32_t>(absolute), 0, *member_size});
        }
        path.pop_back();
        return true;
    }

    const Btf& btf_;
    Budget& budget_;
};

struct Variable {
    std::string_view name;
    uint32_t type = 0;
    uint32_t offset = 0;
    uint32_t size = 0;
};

// The variables of a DATASEC `size` bytes long, or nullopt when it is not laid out for them:
// a variable outside the bytes, a size that disagrees with its type, or overlapping variables
// (clang leaves global variables' offsets zero until a loader fixes them up).
std::optional<std::vector<Variable>> datasec_variables(const Btf& btf, uint32_t id, uint32_t size) {
    std::vector<Variable> variables;
    for (const loader::BtfVarSecinfo& info : btf.var_secinfos(id)) {
        const BtfType* var = btf.type(info.type);
        if (!var || var->kind != BtfKind::Var) continue;  // extern functions in .ksyms
        auto var_size = btf.size_of(var->ref_type());
        if (!var_size || *var_size != info.size || uint64_t{info.offset} + info.size > size)
            return std::nullopt;
        variables.push_back(Variable{var->name, var->ref_type(), info.offset, info.size});
    }
    std::vector<Variable> by_offset = variables;
    std::sort(by_offset.begin(), by_offset.end(),
              [](const Variable& a, const Variable& b) { return a.offset < b.offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        if (by_offset[i - 1].offset + by_offset[i - 1].size > by_offset[i].offset) return std::nullopt;
    }
    return variables;
}

// An INT's value (already extracted, `bits` wide) as JSON.
json int_json(uint32_t encoding, uint32_t bits, uint64_t value) {
    if ((encoding & loader::kBtfIntBool) != 0 && value <= 1) return json(value == 1);
    if ((encoding & loader::kBtfIntSigned) != 0) return json(sign_extend(value, bits));
    return json(value);
}

json enum_json(const Btf& btf, uint32_t id, uint64_t value, uint32_t bits) {
    uint64_t mask = mask_of(bits);
    for (const loader::BtfEnumerator& enumerator : btf.enumerators(id)) {
        if ((enumerator.value & mask) == (value & mask)) return json(display_name(enumerator.name));
    }
    if (btf.type(id)->is_signed_enum()) return json(sign_extend(value, bits));
    return json(value & mask);
}

class Renderer {
 public:
    explicit Renderer(const Btf& btf) : btf_(btf) {}

    bool exhausted() const { return budget_.exhausted(); }

    json render(uint32_t id, std::span<const uint8_t> bytes, int depth) {
        if (depth > kMaxDepth || !budget_.spend()) return bytes_to_hex(bytes);
        auto resolved = btf_.resolve(id);
        if (!resolved) return bytes_to_hex(bytes);
        auto size = btf_.size_of(*resolved);
        if (!size || *size != bytes.size()) return bytes_to_hex(bytes);
        const BtfType& type = *btf_.type(*resolved);
        switch (type.kind) {
            case BtfKind::Int: {
                uint32_t bits = type.int_bits();
                if (bits == 0 || bits > 64 || uint64_t{type.int_offset()} + bits > uint64_t{*size} * 8) break;
                return int_json(type.int_encoding(), bits, read_bits(bytes, type.int_offset(), bits));
            }
            case BtfKind::Enum:
            case BtfKind::Enum64:
                if (*size == 0 || *size > 8) break;
                return enum_json(btf_, *resolved, read_bits(bytes, 0, *size * 8), *size * 8);
            case BtfKind::Float: return float_json(bytes);
            case BtfKind::Array: return array_json(*resolved, type, bytes, depth);
            case BtfKind::Struct:
            case BtfKind::Union: return composite_json(*resolved, bytes, depth);
            case BtfKind::Datasec: return datasec_json(*resolved, bytes, depth);
            case BtfKind::Var: return render(type.ref_type(), bytes, depth + 1);
            default: break;  // pointers, and kinds a value cannot have
        }
        return bytes_to_hex(bytes);
    }

 private:
    static json float_json(std::span<const uint8_t> bytes) {
        double value = 0;
        if (bytes.size() == sizeof(float)) {
            float narrow = 0;
            std::memcpy(&narrow, bytes.data(), sizeof narrow);
            value = narrow;
        } else if (bytes.size() == sizeof(double)) {
            std::memcpy(&value, bytes.data(), sizeof value);
        } else {
            return bytes_to_hex(bytes);  // long double and other widths
        }
        // JSON has no NaN or infinity (nlohmann would print null): keep the bits instead.
        if (!std::isfinite(value)) return bytes_to_hex(bytes);
        return json(value);
    }

    json array_json(uint32_t id, const BtfType& type, std::span<const uint8_t> bytes, int depth) {
        auto element_size = btf_.size_of(type.array_elem_type());
        if (!element_size || path_contains(id)) return bytes_to_hex(bytes);
        json out = json::array();
        if (*element_size == 0) return out;  // nothing to show, whatever the count
        auto element = btf_.resolve(type.array_elem_type());
        if (element && is_char_int(*btf_.type(*element)) && is_c_string(bytes)) {
            return json(std::string(bytes.begin(), std::find(bytes.begin(), bytes.end(), uint8_t{0})));
        }
        path_.push_back(id);
        for (uint32_t i = 0; i < type.array_nelems() && !exhausted(); ++i) {
            out.push_back(render(type.array_elem_type(),
                                 bytes.subspan(size_t{i} * *element_size, *element_size), depth + 1));
        }
        path_.pop_back();
        return out;
    }

    json composite_json(uint32_t id, std::span<const uint8_t> bytes, int depth) {
        if (path_contains(id)) return bytes_to_hex(bytes);
        auto fields = FieldCollector(btf_, budget_).collect(id, static_cast<uint32_t>(bytes.size()));
        if (!fields) return bytes_to_hex(bytes);
        path_.push_back(id);
        json out = json::object();
        for (const Field& field : *fields) {
            if (exhausted()) break;
            std::string name = display_name(field.name);
            if (out.contains(name)) continue;  // duplicate names only come from hostile BTF
            if (field.bits != 0) {
                uint64_t value = read_bits(bytes, field.bit_offset, field.bits);
                const BtfType& type = *btf_.type(field.type);
                out[name] = type.kind == BtfKind::Int ? int_json(type.int_encoding(), field.bits, value)
                                                      : enum_json(btf_, field.type, value, field.bits);
            } else {
                out[name] = render(field.type, bytes.subspan(field.bit_offset / 8, field.size), depth + 1);
            }
        }
        path_.pop_back();
        return out;
    }

    json datasec_json(uint32_t id, std::span<const uint8_t> bytes, int depth) {
        auto variables = datasec_variables(btf_, id, static_cast<uint32_t>(bytes.size()));
        if (!variables || path_contains(id) || !budget_.spend(variables->size())) return bytes_to_hex(bytes);
        path_.push_back(id);
        json out = json::object();
        for (const Variable& variable : *variables) {
            std::string name = display_name(variable.name);
            if (out.contains(name)) continue;
            out[name] = render(variable.type, bytes.subspan(variable.offset, variable.size), depth + 1);
        }
        path_.pop_back();
        return out;
    }

    bool path_contains(uint32_t id) const { return std::find(path_.begin(), path_.end(), id) != path_.end(); }

    const Btf& btf_;
    Budget budget_;
    // Arrays and composites being rendered: one containing itself is a cycle.
    std::vector<uint32_t> path_;
};

// Messages quote BTF names and JSON text: kept to ASCII so they can be printed anywhere,
// JSON output included.
Error invalid(const std::string& path, const std::string& why) {
    std::string message = path.empty() ? why : "at " + path + ": " + why;
    std::string safe;
    for (char c : message) {
        auto byte = static_cast<uint8_t>(c);
        safe += (byte >= 0x20 && byte < 0x7f) ? std::string(1, c) : display_name(std::string_view(&c, 1));
    }
    return make_error(ErrorKind::InvalidInput, std::move(safe));
}

std::string json_kind(const json& value) {
    if (value.is_number_integer()) return "the integer " + value.dump();
    if (value.is_number()) return "the number " + value.dump();
    if (value.is_string()) {
        std::string text = value.get<std::string>();
        if (text.size() > 40) text = text.substr(0, 37) + "...";
        return "the string \"" + text + "\"";
    }
    return std::string(value.type_name());
}

class Encoder {
 public:
    explicit Encoder(const Btf& btf) : btf_(btf) {}

    Status encode(uint32_t id, const json& value, std::span<uint8_t> out, const std::string& path,
                  int depth) {
        if (depth > kMaxDepth) return invalid(path, "the BTF type nests too deeply (a cycle?)");
        if (!budget_.spend()) return invalid(path, "the value is too large to encode from JSON");
        auto resolved = btf_.resolve(id);
        if (!resolved) return invalid(path, resolved.error().message);
        const BtfType& type = *btf_.type(*resolved);
        if (type.kind == BtfKind::Var) return encode(type.ref_type(), value, out, path, depth + 1);
        const std::string type_name = btf_.to_string(id);

        if (value.is_string()) {
            const std::string& text = value.get_ref<const std::string&>();
            bool char_array = false;
            if (type.kind == BtfKind::Array) {
                auto element = btf_.resolve(type.array_elem_type());
                char_array = element && is_char_int(*btf_.type(*element));
            }
            if ((type.kind == BtfKind::Enum || type.kind == BtfKind::Enum64) && !out.empty() &&
                out.size() <= 8) {
                for (const loader::BtfEnumerator& enumerator : btf_.enumerators(*resolved)) {
                    if (display_name(enumerator.name) == text) {
                        write_bits(out, 0, static_cast<uint32_t>(out.size()) * 8, enumerator.value);
                        return Ok{};
                    }
                }
            }
            // Text for a char array, unless it is exactly the array's bytes in hex (text that
            // long would not fit).
            if (char_array && strip_hex_prefix(text).size() != out.size() * 2) {
                if (text.size() > out.size()) {
                    return invalid(path, "a string of " + std::to_string(text.size()) +
                                             " characters does not fit in " + type_name);
                }
                std::fill(out.begin(), out.end(), uint8_t{0});
                std::copy(text.begin(), text.end(), out.begin());
                return Ok{};
            }
            auto bytes = parse_hex(text);
            if (bytes && bytes->size() == out.size()) {
                std::copy(bytes->begin(), bytes->end(), out.begin());
                return Ok{};
            }
            if (type.kind == BtfKind::Enum || type.kind == BtfKind::Enum64) {
                return invalid(path, "unknown enumerator \"" + text + "\" of " + type_name + " (" +
                                         enumerator_list(*resolved) + ")");
            }
            if (bytes) {
                return invalid(path, "wrong length: the hex string has " + std::to_string(bytes->size()) +
                                         " bytes, " + type_name + " has " + std::to_string(out.size()));
            }
            return invalid(path, "expected " + expected_form(type, type_name) + ", got " + json_kind(value));
        }

        switch (type.kind) {
            case BtfKind::Int: {
                uint32_t bits = type.int_bits();
                if (bits > 64) {
                    return invalid(path, type_name + " is " + std::to_string(bits) +
                                             "-bit: give it as a hex string of its " +
                                             std::to_string(out.size()) + " bytes");
                }
                if (bits == 0 || uint64_t{type.int_offset()} + bits > out.size() * 8)
                    return invalid(path, type_name + ": its BTF encoding does not fit its size");
                auto number = integer(value, bits, type.int_encoding(), false, type_name, path);
                if (!number) return number.error();
                write_bits(out, type.int_offset(), bits, *number);
                return Ok{};
            }
            case BtfKind::Enum:
            case BtfKind::Enum64: {
                if (out.empty() || out.size() > 8) return invalid(path, type_name + " has an unusable size");
                auto number = integer(value, static_cast<uint32_t>(out.size()) * 8, 0, true, type_name, path,
                                      *resolved);
                if (!number) return number.error();
                write_bits(out, 0, static_cast<uint32_t>(out.size()) * 8, *number);
                return Ok{};
            }
            case BtfKind::Ptr: {
                auto number = integer(value, 64, 0, false, type_name, path);
                if (!number) return number.error();
                write_bits(out, 0, 64, *number);
                return Ok{};
            }
            case BtfKind::Float: return encode_float(value, out, type_name, path);
            case BtfKind::Array: return encode_array(*resolved, type, value, out, path, depth);
            case BtfKind::Struct:
            case BtfKind::Union: return encode_composite(*resolved, value, out, type_name, path, depth);
            case BtfKind::Datasec: return encode_datasec(*resolved, value, out, type_name, path, depth);
            default:
                return invalid(path, type_name + " (" + std::string(loader::btf_kind_name(type.kind)) +
                                         ") has no JSON form: give a hex string of its bytes");
        }
    }

 private:
    static std::string expected_form(const BtfType& type, const std::string& type_name) {
        switch (type.kind) {
            case BtfKind::Int: return "an integer for " + type_name;
            case BtfKind::Ptr: return "an address (number) for " + type_name;
            case BtfKind::Float: return "a number for " + type_name;
            case BtfKind::Array: return "an array for " + type_name;
            case BtfKind::Struct:
            case BtfKind::Union:
            case BtfKind::Datasec: return "an object for " + type_name;
            default: return "a hex string for " + type_name;
        }
    }

    std::string enumerator_list(uint32_t id) const {
        std::string list;
        size_t count = 0;
        for (const loader::BtfEnumerator& enumerator : btf_.enumerators(id)) {
            if (++count > 8) {
                list += ", ...";
                break;
            }
            list += (list.empty() ? "" : ", ") + display_name(enumerator.name);
        }
        return list.empty() ? "it has no enumerators" : "one of " + list;
    }

    // A JSON integer (or bool, or enumerator name for enum bitfields) that fits `bits`.
    // Enums take either signedness: their BTF signedness is often not recorded.
    Result<uint64_t> integer(const json& value, uint32_t bits, uint32_t encoding, bool any_sign,
                             const std::string& type_name, const std::string& path,
                             std::optional<uint32_t> enum_id = std::nullopt) const {
        const bool is_signed = (encoding & loader::kBtfIntSigned) != 0;
        const std::string width = std::to_string(bits) + "-bit";
        if (value.is_boolean()) {
            if ((encoding & loader::kBtfIntBool) != 0 || bits == 1) return uint64_t{value.get<bool>()};
            return invalid(path, "expected an integer for " + type_name + ", got a boolean");
        }
        if (value.is_string() && enum_id) {
            for (const loader::BtfEnumerator& enumerator : btf_.enumerators(*enum_id)) {
                if (display_name(enumerator.name) == value.get_ref<const std::string&>()) {
                    if (bits < 64 && (enumerator.value & ~mask_of(bits)) != 0 &&
                        sign_extend(enumerator.value, bits) != static_cast<int64_t>(enumerator.value))
                        return invalid(path, display_name(enumerator.name) + " does not fit in " + width);
                    return enumerator.value & mask_of(bits);
                }
            }
            return invalid(path, "unknown enumerator \"" + value.get<std::string>() + "\" of " + type_name +
                                     " (" + enumerator_list(*enum_id) + ")");
        }
        // nlohmann keeps non-negative numbers built from signed C++ values as signed: go by sign.
        bool non_negative =
            value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
        if (non_negative) {
            uint64_t number = value.is_number_unsigned() ? value.get<uint64_t>()
                                                         : static_cast<uint64_t>(value.get<int64_t>());
            uint64_t max = (is_signed && !any_sign) ? mask_of(bits - 1) : mask_of(bits);
            if (number > max) {
                return invalid(path, value.dump() + " is out of range for " + type_name + " (" + width + " " +
                                         (is_signed && !any_sign ? "signed" : "unsigned") + ", at most " +
                                         std::to_string(max) + ")");
            }
            return number;
        }
        if (value.is_number_integer()) {
            int64_t number = value.get<int64_t>();
            if (!is_signed && !any_sign) {
                return invalid(
                    path, value.dump() + " is out of range for " + type_name + " (" + width + " unsigned)");
            }
            int64_t min = bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
            if (number < min) {
                return invalid(path, value.dump() + " is out of range for " + type_name + " (" + width +
                                         " signed, at least " + std::to_string(min) + ")");
            }
            return static_cast<uint64_t>(number) & mask_of(bits);
        }
        return invalid(path, "expected an integer for " + type_name + ", got " + json_kind(value));
    }

    static Status encode_float(const json& value, std::span<uint8_t> out, const std::string& type_name,
                               const std::string& path) {
        if (!value.is_number())
            return invalid(path, "expected a number for " + type_name + ", got " + json_kind(value));
        double number = value.get<double>();
        if (out.size() == sizeof(float)) {
            auto narrow = static_cast<float>(number);
            if (std::isfinite(number) && !std::isfinite(narrow))
                return invalid(path, value.dump() + " is out of range for " + type_name);
            std::memcpy(out.data(), &narrow, sizeof narrow);
        } else if (out.size() == sizeof(double)) {
            std::memcpy(out.data(), &number, sizeof number);
        } else {
            return invalid(path, type_name + " is " + std::to_string(out.size()) +
                                     " bytes: give it as a hex string of its bytes");
        }
        return Ok{};
    }

    Status encode_array(uint32_t id, const BtfType& type, const json& value, std::span<uint8_t> out,
                        const std::string& path, int depth) {
        const std::string type_name = btf_.to_string(id);
        if (!value.is_array())
            return invalid(path, "expected an array for " + type_name + ", got " + json_kind(value));
        if (value.size() > type.array_nelems()) {
            return invalid(path, "wrong length: " + std::to_string(value.size()) + " elements, " + type_name +
                                     " has " + std::to_string(type.array_nelems()));
        }
        auto element_size = btf_.size_of(type.array_elem_type());
        if (!element_size) return invalid(path, element_size.error().message);
        for (size_t i = 0; i < value.size(); ++i) {
            Status status =
                encode(type.array_elem_type(), value[i], out.subspan(i * *element_size, *element_size),
                       path + "[" + std::to_string(i) + "]", depth + 1);
            if (!status) return status;
        }
        return Ok{};
    }

    Status encode_composite(uint32_t id, const json& value, std::span<uint8_t> out,
                            const std::string& type_name, const std::string& path, int depth) {
        if (!value.is_object())
            return invalid(path, "expected an object for " + type_name + ", got " + json_kind(value));
        auto fields = FieldCollector(btf_, budget_).collect(id, static_cast<uint32_t>(out.size()));
        if (!fields) {
            return invalid(path,
                           "the BTF layout of " + type_name +
                               " does not fit its size (or has a cycle): give a hex string of its bytes");
        }
        for (const auto& [key, member_value] : value.items()) {
            auto field = std::find_if(fields->begin(), fields->end(),
                                      [&key = key](const Field& f) { return display_name(f.name) == key; });
            if (field == fields->end()) {
                std::string names;
                for (const Field& f : *fields) names += (names.empty() ? "" : ", ") + display_name(f.name);
                return invalid(path,
                               "unknown member '" + key + "' of " + type_name + " (members: " + names + ")");
            }
            std::string member_path = path + "." + key;
            if (field->bits != 0) {
                const BtfType& member_type = *btf_.type(field->type);
                bool is_enum = member_type.kind != BtfKind::Int;
                auto number = integer(member_value, field->bits, is_enum ? 0 : member_type.int_encoding(),
                                      is_enum, btf_.to_string(field->type) + " bitfield", member_path,
                                      is_enum ? std::optional<uint32_t>(field->type) : std::nullopt);
                if (!number) return number.error();
                write_bits(out, field->bit_offset, field->bits, *number);
                continue;
            }
            Status status = encode(field->type, member_value, out.subspan(field->bit_offset / 8, field->size),
                                   member_path, depth + 1);
            if (!status) return status;
        }
        return Ok{};
    }

    Status encode_datasec(uint32_t id, const json& value, std::span<uint8_t> out,
                          const std::string& type_name, const std::string& path, int depth) {
        if (!value.is_object())
            return invalid(path, "expected an object for " + type_name + ", got " + json_kind(value));
        auto variables = datasec_variables(btf_, id, static_cast<uint32_t>(out.size()));
        if (!variables) {
            return invalid(
                path,
                type_name + " has no variable layout (offsets not fixed up): give a hex string of its bytes");
        }
        for (const auto& [key, variable_value] : value.items()) {
            auto variable =
                std::find_if(variables->begin(), variables->end(),
                             [&key = key](const Variable& v) { return display_name(v.name) == key; });
            if (variable == variables->end()) {
                std::string names;
                for (const Variable& v : *variables)
                    names += (names.empty() ? "" : ", ") + display_name(v.name);
                return invalid(
                    path, "unknown variable '" + key + "' of " + type_name + " (variables: " + names + ")");
            }
            Status status =
                encode(variable->type, variable_value, out.subspan(variable->offset, variable->size),
                       path + "." + key, depth + 1);
            if (!status) return status;
        }
        return Ok{};
    }

    const Btf& btf_;
    Budget budget_;
};

}  // namespace

std::string bytes_to_hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (uint8_t byte : bytes) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 0xf];
    }
    return text;
}

nlohmann::ordered_json btf_to_json(const loader::Btf& btf, uint32_t type_id, std::span<const uint8_t> bytes) {
    if (type_id == 0) return bytes_to_hex(bytes);
    Renderer renderer(btf);
    json out = renderer.render(type_id, bytes, 0);
    // A value too big to show in full is shown as its bytes rather than cut short.
    if (renderer.exhausted()) return bytes_to_hex(bytes);
    return out;
}

Result<std::vector<uint8_t>> json_to_bytes(const loader::Btf* btf, uint32_t type_id,
                                           const nlohmann::ordered_json& value, uint32_t size) {
    std::optional<uint32_t> typed_size;
    if (btf && type_id != 0) {
        auto type_size = btf->size_of(type_id);
        if (type_size) typed_size = *type_size;
    }
    if (!typed_size || *typed_size != size) {
        // No usable type: the bytes themselves.
        std::string why;
        if (!btf || type_id == 0) {
            why = "no BTF type";
        } else {
            why = "its BTF type " + btf->to_string(type_id) +
                  (typed_size ? " is " + std::to_string(*typed_size) + " bytes" : " has no size");
        }
        if (!value.is_string()) {
            return invalid("", "expected a hex string of " + std::to_string(size) + " bytes (" + why +
                                   "), got " + json_kind(value));
        }
        auto bytes = parse_hex(value.get_ref<const std::string&>());
        if (!bytes) return invalid("", json_kind(value) + " is not hex (" + why + ")");
        if (bytes->size() != size) {
            return invalid("", "wrong length: the hex string has " + std::to_string(bytes->size()) +
                                   " bytes, " + std::to_string(size) + " expected");
        }
        return std::move(*bytes);
    }
    std::vector<uint8_t> out(size, 0);
    Status status = Encoder(*btf).encode(type_id, value, out, "", 0);
    if (!status) return status.error();
    return out;
}

}  // namespace bpfvm::tools
