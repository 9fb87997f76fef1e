// CO-RE relocation resolution and patching, written from the kernel's
// Documentation/bpf/llvm_reloc.rst (the record and access-string format) and libbpf's
// documented CO-RE rules (candidates by essential name, field and type compatibility, bitfield
// load chunks, ambiguity, poisoning). Every input is treated as hostile: indices are checked
// against their types, type chains go through Btf::resolve / Btf::size_of (which reject
// cycles and deep nesting), recursion is bounded by the access length or a fixed depth, and a
// work budget caps what one relocation may cost.
#include "bpfvm/loader/core.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>
#include <variant>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/opcode_table.hpp"
#include "core_detail.hpp"

namespace bpfvm::loader {

namespace {

// Longest access string, as libbpf's BPF_CORE_SPEC_MAX_LEN; also bounds the target's
// low-level path, which grows by one per anonymous struct/union passed through.
constexpr size_t kMaxSpecLength = 64;
// Depth of the type comparisons (array of array of ..., pointer to pointer to ..., nested
// function prototypes), as libbpf bounds them.
constexpr int kMaxCompareDepth = 32;
// Offsets beyond 4 GiB cannot be meant: bit offsets are kept below this.
constexpr uint64_t kMaxBitOffset = uint64_t{UINT32_MAX} * 8;
// Steps (members visited, types compared, candidates tried) one relocation may take, and all
// relocations of one apply call together. Real objects against vmlinux need a few thousand
// per relocation; crafted type graphs could otherwise need exponential time.
constexpr uint64_t kWorkPerRelocation = uint64_t{1} << 20;
constexpr uint64_t kWorkPerApply = uint64_t{1} << 26;

enum class Family { Field, Type, Enumval };

std::optional<Family> family_of(BtfCoreReloKind kind) {
    switch (kind) {
        case BtfCoreReloKind::FieldByteOffset:
        case BtfCoreReloKind::FieldByteSize:
        case BtfCoreReloKind::FieldExists:
        case BtfCoreReloKind::FieldSigned:
        case BtfCoreReloKind::FieldLshiftU64:
        case BtfCoreReloKind::FieldRshiftU64: return Family::Field;
        case BtfCoreReloKind::TypeIdLocal:
        case BtfCoreReloKind::TypeIdTarget:
        case BtfCoreReloKind::TypeExists:
        case BtfCoreReloKind::TypeSize:
        case BtfCoreReloKind::TypeMatches: return Family::Type;
        case BtfCoreReloKind::EnumvalExists:
        case BtfCoreReloKind::EnumvalValue: return Family::Enumval;
    }
    return std::nullopt;
}

bool is_composite(BtfKind kind) {
    return kind == BtfKind::Struct || kind == BtfKind::Union;
}
bool is_any_enum(BtfKind kind) {
    return kind == BtfKind::Enum || kind == BtfKind::Enum64;
}
// Kinds that may stand for each other: the same kind, or a 32-bit and a 64-bit enum.
bool kinds_compatible(BtfKind a, BtfKind b) {
    return a == b || (is_any_enum(a) && is_any_enum(b));
}

// Type names match when equal up to their flavor suffixes; an anonymous target type matches
// only an anonymous local one.
bool names_match(std::string_view local, std::string_view target) {
    if (target.empty()) return local.empty();
    return core_essential_name(local) == core_essential_name(target);
}

// A short name for messages ("struct task_struct", "u32", "char[16]"). Never recursive beyond
// one array element: Btf::to_string spells out whole function-pointer graphs, which a crafted
// BTF can make exponentially long.
std::string type_label(const Btf& btf, uint32_t id) {
    const BtfType* type = btf.type(id);
    if (!type) return "type " + std::to_string(id);
    auto named = [&](std::string_view prefix) {
        return std::string(prefix) + (type->name.empty() ? std::string("(anon)") : std::string(type->name));
    };
    switch (type->kind) {
        case BtfKind::Void: return "void";
        case BtfKind::Struct: return named("struct ");
        case BtfKind::Union: return named("union ");
        case BtfKind::Enum:
        case BtfKind::Enum64: return named("enum ");
        case BtfKind::Fwd: return named(type->is_union_fwd() ? "union " : "struct ");
        case BtfKind::Int:
        case BtfKind::Float:
        case BtfKind::Typedef:
            if (!type->name.empty()) return std::string(type->name);
            break;
        case BtfKind::Array: {
            const BtfType* element = btf.type(type->array_elem_type());
            std::string prefix = element && element->kind != BtfKind::Array
                                     ? type_label(btf, type->array_elem_type())
                                     : "type " + std::to_string(type->array_elem_type());
            return prefix + "[" + std::to_string(type->array_nelems()) + "]";
        }
        default: break;
    }
    return std::string(btf_kind_name(type->kind)) + " type " + std::to_string(id);
}

// "0:1:2" -> {0, 1, 2}: decimal numbers below 2^31 (libbpf reads them as int), separated by
// single colons, at most kMaxSpecLength of them.
std::optional<std::vector<uint32_t>> parse_access(std::string_view text, std::string& why) {
    std::vector<uint32_t> indices;
    size_t pos = 0;
    if (text.empty()) {
        why = "the access string is empty";
        return std::nullopt;
    }
    while (true) {
        uint64_t value = 0;
        size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            value = value * 10 + static_cast<uint64_t>(text[pos] - '0');
            if (value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
                why = "access index at character " + std::to_string(pos) + " is too large";
                return std::nullopt;
            }
            ++pos;
            ++digits;
        }
        if (digits == 0) {
            why = "access string '" + std::string(text) + "' is not colon-separated decimal indices";
            return std::nullopt;
        }
        if (indices.size() == kMaxSpecLength) {
            why = "access string has more than " + std::to_string(kMaxSpecLength) + " indices";
            return std::nullopt;
        }
        indices.push_back(static_cast<uint32_t>(value));
        if (pos == text.size()) return indices;
        if (text[pos] != ':') {
            why = "access string '" + std::string(text) + "' is not colon-separated decimal indices";
            return std::nullopt;
        }
        ++pos;
    }
}

// One step of an access: a named member of a struct/union, or an array index (also the
// first, "pointer" index into the root type).
struct Accessor {
    uint32_t type_id = 0;   // the struct/union holding the member, or the array element type
    uint32_t index = 0;     // member index, or element index
    std::string_view name;  // the member's name; empty for an array index
};

// An access resolved against one BTF: the named steps (anonymous members passed through are
// only in `raw`), the full path of indices and the bit offset it reaches.
struct Spec {
    const Btf* btf = nullptr;
    uint32_t root = 0;  // the root type as given (a candidate id, not resolved)
    std::vector<Accessor> accessors;
    std::vector<uint32_t> raw;
    uint64_t bit_offset = 0;
};

// What one side of a relocation computes.
struct Calc {
    bool poison = false;
    uint64_t value = 0;
    uint32_t field_size = 0;  // byte offsets of whole fields: the field's size
    uint32_t field_type = 0;  // and its type, resolved
    bool validate = true;
};

// Candidate target types per local root type id, shared by the relocations of one apply call.
// As in libbpf, a relocation that matched some candidates narrows the list to those for the
// relocations after it: once `foo.x` picked foo___a over foo___b (which has no x), `foo.y`
// is not ambiguous between them.
using CandidateCache = std::map<uint32_t, std::vector<uint32_t>>;

class Resolver {
 public:
    Resolver(const Btf& local, const Btf& target, const CoreTargetIndex* index, const BtfCoreRelo& relo,
             uint64_t budget, CandidateCache* cache)
        : local_(local), target_(target), index_(index), relo_(relo), budget_(budget), cache_(cache) {}

    uint64_t work_used() const { return used_; }

    Result<CoreResolution> run() {
        auto family = family_of(relo_.kind);
        if (!family) {
            return make_error(ErrorKind::InvalidInput, "CO-RE relocation has unknown kind " +
                                                           std::to_string(static_cast<uint32_t>(relo_.kind)));
        }
        family_ = *family;
        const BtfType* root = local_.type(relo_.type_id);
        result_.description = type_label(local_, relo_.type_id) + " (" + std::string(relo_.access) + ")";
        if (!root)
            return fail("root type " + std::to_string(relo_.type_id) + " does not exist in the local BTF");

        std::string why;
        auto raw = parse_access(relo_.access, why);
        if (!raw) return fail(why);

        Spec local;
        local.btf = &local_;
        local.root = relo_.type_id;
        if (family_ == Family::Type) {
            if (raw->size() != 1 || (*raw)[0] != 0)
                return fail("a type relocation's access string must be \"0\"");
            result_.description = type_label(local_, relo_.type_id);
        } else if (family_ == Family::Enumval) {
            if (Status s = parse_enumval_spec(*raw, local); !s) return s.error();
        } else {
            if (Status s = parse_field_spec(*raw, local); !s) return s.error();
        }

        if (relo_.kind == BtfCoreReloKind::TypeIdLocal) {
            // Needs no target: the id in the object's own BTF.
            result_.local_value = result_.target_value = relo_.type_id;
            result_.resolved = result_.found = true;
            result_.check_local_value = false;
            return std::move(result_);
        }
        if (root->name.empty()) return fail("the root type is anonymous; CO-RE needs a named type");

        auto local_calc = calc(&local);
        if (!local_calc) return local_calc.error();
        result_.local_value = local_calc->value;
        result_.check_local_value = local_calc->validate;
        result_.local_field_size = local_calc->field_size;

        const std::string_view essential = core_essential_name(root->name);
        std::vector<uint32_t> own_candidates;
        std::vector<uint32_t>* cached = nullptr;
        if (cache_) {
            auto [entry, inserted] = cache_->try_emplace(relo_.type_id);
            cached = &entry->second;
            if (inserted) *cached = candidates_for(essential, root->kind);
        } else {
            own_candidates = candidates_for(essential, root->kind);
        }
        const std::vector<uint32_t>& candidates = cached ? *cached : own_candidates;
        if (candidates.empty()) {
            mismatch_ = "no " + std::string(btf_kind_name(root->kind)) + " named " + std::string(essential) +
                        " in the target BTF";
        }

        std::optional<Spec> chosen;
        Calc chosen_calc;
        std::vector<uint32_t> matching;
        for (uint32_t candidate : candidates) {
            if (!spend()) return too_much_work();
            Spec spec;
            spec.btf = &target_;
            spec.root = candidate;
            auto matched = match(local, candidate, spec);
            if (!matched) return matched.error();
            if (!*matched) continue;
            matching.push_back(candidate);
            auto target_calc = calc(&spec);
            if (!target_calc) return target_calc.error();
            if (!chosen) {
                chosen = std::move(spec);
                chosen_calc = *target_calc;
                continue;
            }
            if (spec.bit_offset != chosen->bit_offset) {
                return fail("ambiguous: target types " + candidate_label(chosen->root) + " and " +
                            candidate_label(candidate) + " put the field at different bit offsets (" +
                            std::to_string(chosen->bit_offset) + " and " + std::to_string(spec.bit_offset) +
                            ")");
            }
            if (target_calc->poison != chosen_calc.poison || target_calc->value != chosen_calc.value) {
                return fail("ambiguous: target types " + candidate_label(chosen->root) + " and " +
                            candidate_label(candidate) + " give different values (" +
                            std::to_string(chosen_calc.value) + " and " + std::to_string(target_calc->value) +
                            ")");
            }
        }

        if (cached && !matching.empty()) *cached = std::move(matching);

        Calc target_calc;
        if (chosen) {
            target_calc = chosen_calc;
            result_.found = true;
        } else {
            auto none = calc(nullptr);
            if (!none) return none.error();
            target_calc = *none;
            result_.failure = mismatch_.empty() ? "no target type matches the access" : mismatch_;
        }
        result_.resolved = !target_calc.poison;
        result_.target_value = target_calc.value;
        result_.target_field_size = target_calc.field_size;
        if (family_ == Family::Field && chosen && result_.local_field_size != result_.target_field_size) {
            const BtfType* local_type = local_.type(local_calc->field_type);
            const BtfType* target_type = target_.type(target_calc.field_type);
            const bool both_pointers = local_type && target_type && local_type->kind == BtfKind::Ptr &&
                                       target_type->kind == BtfKind::Ptr;
            const bool both_unsigned = local_type && target_type && local_type->kind == BtfKind::Int &&
                                       target_type->kind == BtfKind::Int &&
                                       (local_type->int_encoding() & kBtfIntSigned) == 0 &&
                                       (target_type->int_encoding() & kBtfIntSigned) == 0;
            result_.access_size_adjustable = both_pointers || both_unsigned;
        }
        return std::move(result_);
    }

 private:
    Error fail(const std::string& message) const {
        return make_error(ErrorKind::InvalidInput, "CO-RE " + std::string(core_relo_kind_name(relo_.kind)) +
                                                       " relocation of " + result_.description + ": " +
                                                       message);
    }
    Error too_much_work() const {
        return fail("resolving it takes more than " + std::to_string(budget_) +
                    " steps (a pathological type graph?)");
    }
    std::string candidate_label(uint32_t id) const {
        return std::to_string(id) + " (" + type_label(target_, id) + ")";
    }
    bool spend() {
        if (used_ >= budget_) return false;
        ++used_;
        return true;
    }

    Result<uint32_t> resolve(const Btf& btf, uint32_t id) const {
        auto resolved = btf.resolve(id);
        if (!resolved) {
            return fail(std::string(&btf == &local_ ? "local" : "target") +
                        " BTF: " + resolved.error().message);
        }
        return *resolved;
    }
    // One step down a local/target pair being compared: spends work and skips typedefs and
    // modifiers on both sides.
    Status resolve_pair(uint32_t& local_id, uint32_t& target_id) {
        if (!spend()) return too_much_work();
        auto l = resolve(local_, local_id);
        if (!l) return l.error();
        auto t = resolve(target_, target_id);
        if (!t) return t.error();
        local_id = *l;
        target_id = *t;
        return Ok{};
    }
    Result<uint32_t> size_of(const Btf& btf, uint32_t id) const {
        auto size = btf.size_of(id);
        if (!size) {
            return fail(std::string(&btf == &local_ ? "local" : "target") + " BTF: " + size.error().message);
        }
        return *size;
    }
    // spec.bit_offset += count * bytes * 8, refusing offsets past 4 GiB.
    Status add_bits(Spec& spec, uint64_t count, uint64_t bytes) const {
        const uint64_t left = kMaxBitOffset - spec.bit_offset;
        if (bytes != 0 && count > left / 8 / bytes) return fail("the offset it reaches is larger than 4 GiB");
        spec.bit_offset += count * bytes * 8;
        return Ok{};
    }
    Status add_member_bits(Spec& spec, uint32_t bit_offset) const {
        if (bit_offset > kMaxBitOffset - spec.bit_offset)
            return fail("the offset it reaches is larger than 4 GiB");
        spec.bit_offset += bit_offset;
        return Ok{};
    }

    // A zero-length array that is the last member of its struct may be indexed past its end.
    static bool is_flexible_array(const Btf& btf, const Accessor& parent, const BtfType& array) {
        if (parent.name.empty() || array.array_nelems() > 0) return false;
        const BtfType* holder = btf.type(parent.type_id);
        return holder && holder->vlen > 0 && parent.index == holder->vlen - 1u;
    }

    Status parse_enumval_spec(const std::vector<uint32_t>& raw, Spec& spec) {
        auto root = resolve(local_, relo_.type_id);
        if (!root) return root.error();
        const BtfType& type = *local_.type(*root);
        if (!is_any_enum(type.kind)) return fail("the root type is not an enum");
        if (raw.size() != 1) return fail("an enum value relocation's access string must be one index");
        if (raw[0] >= type.vlen) {
            return fail("enumerator index " + std::to_string(raw[0]) + " is out of range: " +
                        type_label(local_, *root) + " has " + std::to_string(type.vlen) + " enumerators");
        }
        const BtfEnumerator& enumerator = local_.enumerators(*root)[raw[0]];
        spec.accessors.push_back(Accessor{*root, raw[0], enumerator.name});
        spec.raw = raw;
        result_.description = type_label(local_, relo_.type_id) + "::" + std::string(enumerator.name) + " (" +
                              std::string(relo_.access) + ")";
        return Ok{};
    }

    Status parse_field_spec(const std::vector<uint32_t>& raw, Spec& spec) {
        auto root = resolve(local_, relo_.type_id);
        if (!root) return root.error();
        uint32_t id = *root;
        spec.raw = raw;
        spec.accessors.push_back(Accessor{id, raw[0], {}});
        auto root_size = size_of(local_, id);
        if (!root_size) return root_size.error();
        if (Status s = add_bits(spec, raw[0], *root_size); !s) return s;

        for (size_t i = 1; i < raw.size(); ++i) {
            auto resolved = resolve(local_, id);
            if (!resolved) return resolved.error();
            id = *resolved;
            const BtfType& type = *local_.type(id);
            const uint32_t index = raw[i];
            if (is_composite(type.kind)) {
                if (index >= type.vlen) {
                    return fail("member index " + std::to_string(index) + " is out of range: " +
                                type_label(local_, id) + " has " + std::to_string(type.vlen) + " members");
                }
                const BtfMember& member = local_.members(id)[index];
                if (Status s = add_member_bits(spec, member.bit_offset); !s) return s;
                if (!member.name.empty()) spec.accessors.push_back(Accessor{id, index, member.name});
                id = member.type;
            } else if (type.kind == BtfKind::Array) {
                auto element = resolve(local_, type.array_elem_type());
                if (!element) return element.error();
                if (!is_flexible_array(local_, spec.accessors.back(), type) && index >= type.array_nelems()) {
                    return fail("array index " + std::to_string(index) +
                                " is out of range: " + type_label(local_, id) + " has " +
                                std::to_string(type.array_nelems()) + " elements");
                }
                spec.accessors.push_back(Accessor{*element, index, {}});
                auto element_size = size_of(local_, *element);
                if (!element_size) return element_size.error();
                if (Status s = add_bits(spec, index, *element_size); !s) return s;
                id = *element;
            } else {
                return fail("access index " + std::to_string(i) + " reaches " + type_label(local_, id) +
                            ", which is neither a struct, a union nor an array");
            }
        }
        // "struct task_struct.se.vruntime": the root, then each named step or index.
        std::string text = type_label(local_, relo_.type_id);
        for (size_t i = 0; i < spec.accessors.size(); ++i) {
            const Accessor& step = spec.accessors[i];
            if (!step.name.empty()) {
                text += '.';
                text += step.name;
            } else if (i > 0 || step.index > 0) {
                text += '[' + std::to_string(step.index) + ']';
            }
        }
        result_.description = text + " (" + std::string(relo_.access) + ")";
        return Ok{};
    }

    std::vector<uint32_t> candidates_for(std::string_view essential, BtfKind local_kind) const {
        std::vector<uint32_t> ids;
        auto consider = [&](uint32_t id) {
            const BtfType* type = target_.type(id);
            if (type && !type->name.empty() && kinds_compatible(type->kind, local_kind)) ids.push_back(id);
        };
        if (index_) {
            for (uint32_t id : index_->types_named(essential)) consider(id);
        } else {
            for (uint32_t id = 1; id < target_.type_count(); ++id) {
                if (core_essential_name(target_.name(id)) == essential) consider(id);
            }
        }
        return ids;
    }

    void note_mismatch(std::string why) {
        if (mismatch_.empty()) mismatch_ = std::move(why);
    }

    // Whether the local access matches the candidate; fills `spec` when it does.
    Result<bool> match(const Spec& local, uint32_t candidate, Spec& spec) {
        if (family_ == Family::Type) {
            if (relo_.kind == BtfCoreReloKind::TypeMatches) {
                auto matched = types_match(relo_.type_id, candidate, false, kMaxCompareDepth);
                if (matched && !*matched)
                    note_mismatch("target type " + std::to_string(candidate) + " does not match");
                return matched;
            }
            auto compatible = types_compatible(relo_.type_id, candidate, kMaxCompareDepth);
            if (compatible && !*compatible)
                note_mismatch("target type " + std::to_string(candidate) + " is not compatible");
            return compatible;
        }
        if (family_ == Family::Enumval) return match_enumval(local, candidate, spec);
        return match_field(local, candidate, spec);
    }

    Result<bool> match_enumval(const Spec& local, uint32_t candidate, Spec& spec) {
        auto id = resolve(target_, candidate);
        if (!id) return id.error();
        const BtfType& type = *target_.type(*id);
        if (!is_any_enum(type.kind)) return false;
        const std::string_view wanted = core_essential_name(local.accessors[0].name);
        auto enumerators = target_.enumerators(*id);
        for (uint32_t i = 0; i < enumerators.size(); ++i) {
            if (!spend()) return too_much_work();
            if (core_essential_name(enumerators[i].name) == wanted) {
                spec.accessors.push_back(Accessor{*id, i, enumerators[i].name});
                spec.raw.push_back(i);
                return true;
            }
        }
        note_mismatch("enumerator " + std::string(local.accessors[0].name) + " not found in " +
                      type_label(target_, *id));
        return false;
    }

    Result<bool> match_field(const Spec& local, uint32_t candidate, Spec& spec) {
        uint32_t target_id = candidate;
        for (size_t i = 0; i < local.accessors.size(); ++i) {
            const Accessor& step = local.accessors[i];
            auto resolved = resolve(target_, target_id);
            if (!resolved) return resolved.error();
            target_id = *resolved;
            if (!step.name.empty()) {
                uint32_t next = 0;
                auto found = match_member(step, target_id, spec, next);
                if (!found) return found.error();
                if (!*found) {
                    note_mismatch("member '" + std::string(step.name) + "' not found in " +
                                  type_label(target_, target_id) + " (or its type is not compatible)");
                    return false;
                }
                target_id = next;
                continue;
            }
            if (i > 0) {
                // An array index: the target must have an array here, long enough.
                const BtfType& type = *target_.type(target_id);
                if (type.kind != BtfKind::Array) {
                    note_mismatch(type_label(target_, target_id) + " is not an array");
                    return false;
                }
                if (!is_flexible_array(target_, spec.accessors.back(), type) &&
                    step.index >= type.array_nelems()) {
                    note_mismatch("index " + std::to_string(step.index) + " is outside " +
                                  type_label(target_, target_id));
                    return false;
                }
                auto element = resolve(target_, type.array_elem_type());
                if (!element) return element.error();
                target_id = *element;
            }
            if (spec.raw.size() == kMaxSpecLength) return fail("the target access is nested too deeply");
            spec.accessors.push_back(Accessor{target_id, step.index, {}});
            spec.raw.push_back(step.index);
            auto size = size_of(target_, target_id);
            if (!size) return size.error();
            if (Status s = add_bits(spec, step.index, *size); !s) return s.error();
        }
        return true;
    }

    // Finds the local member `step` names in the target struct/union `target_id`, looking
    // through anonymous struct/union members; `next` gets the matched member's type.
    Result<bool> match_member(const Accessor& step, uint32_t target_id, Spec& spec, uint32_t& next) {
        auto resolved = resolve(target_, target_id);
        if (!resolved) return resolved.error();
        target_id = *resolved;
        if (!is_composite(target_.type(target_id)->kind)) return false;
        const BtfMember& local_member = local_.members(step.type_id)[step.index];
        auto members = target_.members(target_id);
        for (uint32_t i = 0; i < members.size(); ++i) {
            if (!spend()) return too_much_work();
            const BtfMember& member = members[i];
            if (spec.raw.size() == kMaxSpecLength) return fail("the target access is nested too deeply");
            const uint64_t saved_offset = spec.bit_offset;
            if (Status s = add_member_bits(spec, member.bit_offset); !s) return s.error();
            spec.raw.push_back(i);
            if (member.name.empty()) {
                auto found = match_member(step, member.type, spec, next);
                if (!found || *found) return found;
            } else if (member.name == local_member.name) {
                auto compatible = fields_compatible(local_member.type, member.type);
                if (!compatible) return compatible.error();
                if (!*compatible) {
                    spec.raw.pop_back();
                    spec.bit_offset = saved_offset;
                    return false;
                }
                spec.accessors.push_back(Accessor{target_id, i, member.name});
                next = member.type;
                return true;
            }
            spec.raw.pop_back();
            spec.bit_offset = saved_offset;
        }
        return false;
    }

    // Field types that an access may relocate between: any two structs/unions, pointers,
    // floats; integers (not the old bitfield-like ints with an offset); enums and forward
    // declarations with the same essential name (or one anonymous); arrays of such.
    Result<bool> fields_compatible(uint32_t local_id, uint32_t target_id) {
        for (int depth = 0; depth < kMaxCompareDepth; ++depth) {
            if (Status step = resolve_pair(local_id, target_id); !step) return step.error();
            const BtfType& lt = *local_.type(local_id);
            const BtfType& tt = *target_.type(target_id);
            if (is_composite(lt.kind) && is_composite(tt.kind)) return true;
            if (!kinds_compatible(lt.kind, tt.kind)) return false;
            switch (lt.kind) {
                case BtfKind::Ptr:
                case BtfKind::Float: return true;
                case BtfKind::Fwd:
                case BtfKind::Enum:
                case BtfKind::Enum64: {
                    std::string_view ln = core_essential_name(lt.name);
                    std::string_view tn = core_essential_name(tt.name);
                    return ln.empty() || tn.empty() || ln == tn;
                }
                case BtfKind::Int: return lt.int_offset() == 0 && tt.int_offset() == 0;
                case BtfKind::Array:
                    local_id = lt.array_elem_type();
                    target_id = tt.array_elem_type();
                    continue;
                default: return false;
            }
        }
        return fail("field types are nested deeper than " + std::to_string(kMaxCompareDepth));
    }

    // Type compatibility for type_exists, type_size and target_type_id: the root kinds agree
    // (names were matched by the candidate search); pointers, arrays and function prototypes
    // are compared through to what they refer to.
    Result<bool> types_compatible(uint32_t local_id, uint32_t target_id, int level) {
        const BtfType* local_root = local_.type(local_id);
        const BtfType* target_root = target_.type(target_id);
        if (!local_root || !target_root) return fail("type id out of range");
        if (!kinds_compatible(local_root->kind, target_root->kind)) return false;
        for (int depth = 0; depth < kMaxCompareDepth; ++depth) {
            if (Status step = resolve_pair(local_id, target_id); !step) return step.error();
            const BtfType& lt = *local_.type(local_id);
            const BtfType& tt = *target_.type(target_id);
            if (!kinds_compatible(lt.kind, tt.kind)) return false;
            switch (lt.kind) {
                case BtfKind::Void:
                case BtfKind::Struct:
                case BtfKind::Union:
                case BtfKind::Enum:
                case BtfKind::Enum64:
                case BtfKind::Fwd: return true;
                case BtfKind::Int: return lt.int_offset() == 0 && tt.int_offset() == 0;
                case BtfKind::Ptr:
                    local_id = lt.ref_type();
                    target_id = tt.ref_type();
                    continue;
                case BtfKind::Array:
                    local_id = lt.array_elem_type();
                    target_id = tt.array_elem_type();
                    continue;
                case BtfKind::FuncProto: {
                    if (lt.vlen != tt.vlen) return false;
                    auto lp = local_.params(local_id);
                    auto tp = target_.params(target_id);
                    for (size_t i = 0; i < lp.size(); ++i) {
                        if (level <= 0) return fail("function prototypes are nested too deeply");
                        auto lr = resolve(local_, lp[i].type);
                        if (!lr) return lr.error();
                        auto tr = resolve(target_, tp[i].type);
                        if (!tr) return tr.error();
                        auto same = types_compatible(*lr, *tr, level - 1);
                        if (!same || !*same) return same;
                    }
                    local_id = lt.ref_type();
                    target_id = tt.ref_type();
                    continue;
                }
                default: return false;
            }
        }
        return fail("types are nested deeper than " + std::to_string(kMaxCompareDepth));
    }

    // type_matches: a stricter, structural relation (libbpf's bpf_core_types_match): names
    // agree at every level, integers agree in size and sign, local members and enumerators all
    // exist in the target, arrays agree in length, prototypes in arity; behind a pointer a
    // struct may match a forward declaration.
    Result<bool> types_match(uint32_t local_id, uint32_t target_id, bool behind_pointer, int level) {
        if (level <= 0) return fail("types are nested too deeply to match");
        for (int depth = 0; depth < kMaxCompareDepth; ++depth) {
            if (Status step = resolve_pair(local_id, target_id); !step) return step.error();
            const BtfType& lt = *local_.type(local_id);
            const BtfType& tt = *target_.type(target_id);
            if (!names_match(lt.name, tt.name)) return false;
            switch (lt.kind) {
                case BtfKind::Void: return tt.kind == BtfKind::Void;
                case BtfKind::Fwd:
                    if (behind_pointer && tt.kind != BtfKind::Fwd) {
                        return (tt.kind == BtfKind::Struct && !lt.is_union_fwd()) ||
                               (tt.kind == BtfKind::Union && lt.is_union_fwd());
                    }
                    return tt.kind == BtfKind::Fwd && lt.is_union_fwd() == tt.is_union_fwd();
                case BtfKind::Enum:
                case BtfKind::Enum64: return is_any_enum(tt.kind) && enums_match(local_id, target_id);
                case BtfKind::Struct:
                case BtfKind::Union:
                    if (behind_pointer) {
                        if (lt.kind == tt.kind) return true;
                        return tt.kind == BtfKind::Fwd && (lt.kind == BtfKind::Union) == tt.is_union_fwd();
                    }
                    if (lt.kind != tt.kind) return false;
                    return composites_match(local_id, target_id, behind_pointer, level);
                case BtfKind::Int:
                    return tt.kind == BtfKind::Int && lt.size() == tt.size() &&
                           (lt.int_encoding() & kBtfIntSigned) == (tt.int_encoding() & kBtfIntSigned);
                case BtfKind::Ptr:
                    if (tt.kind != BtfKind::Ptr) return false;
                    behind_pointer = true;
                    local_id = lt.ref_type();
                    target_id = tt.ref_type();
                    continue;
                case BtfKind::Array:
                    if (tt.kind != BtfKind::Array || lt.array_nelems() != tt.array_nelems()) return false;
                    local_id = lt.array_elem_type();
                    target_id = tt.array_elem_type();
                    continue;
                case BtfKind::FuncProto: {
                    if (tt.kind != BtfKind::FuncProto || lt.vlen != tt.vlen) return false;
                    auto lp = local_.params(local_id);
                    auto tp = target_.params(target_id);
                    for (size_t i = 0; i < lp.size(); ++i) {
                        auto same = types_match(lp[i].type, tp[i].type, behind_pointer, level - 1);
                        if (!same || !*same) return same;
                    }
                    local_id = lt.ref_type();
                    target_id = tt.ref_type();
                    continue;
                }
                default: return false;
            }
        }
        return fail("types are nested deeper than " + std::to_string(kMaxCompareDepth));
    }

    Result<bool> enums_match(uint32_t local_id, uint32_t target_id) {
        const BtfType& lt = *local_.type(local_id);
        const BtfType& tt = *target_.type(target_id);
        if (lt.size() != tt.size() || lt.vlen > tt.vlen) return false;
        for (const BtfEnumerator& wanted : local_.enumerators(local_id)) {
            bool matched = false;
            for (const BtfEnumerator& candidate : target_.enumerators(target_id)) {
                if (!spend()) return too_much_work();
                if (names_match(wanted.name, candidate.name)) {
                    matched = true;
                    break;
                }
            }
            if (!matched) return false;
        }
        return true;
    }

    Result<bool> composites_match(uint32_t local_id, uint32_t target_id, bool behind_pointer, int level) {
        auto local_members = local_.members(local_id);
        auto target_members = target_.members(target_id);
        if (local_members.size() > target_members.size()) return false;
        for (const BtfMember& wanted : local_members) {
            bool matched = false;
            for (const BtfMember& candidate : target_members) {
                if (!spend()) return too_much_work();
                if (!names_match(wanted.name, candidate.name)) continue;
                auto same = types_match(wanted.type, candidate.type, behind_pointer, level - 1);
                if (!same) return same.error();
                if (*same) {
                    matched = true;
                    break;
                }
            }
            if (!matched) return false;
        }
        return true;
    }

    // The value of the relocation on one side; `spec` is null when the target has no match.
    Result<Calc> calc(const Spec* spec) {
        if (family_ != Family::Type) {
            // Existence checks answer 0 or 1; any other field or enumerator relocation without a
            // match poisons its instruction.
            Calc out;
            if (relo_.kind == BtfCoreReloKind::FieldExists || relo_.kind == BtfCoreReloKind::EnumvalExists) {
                out.value = spec ? 1 : 0;
                return out;
            }
            if (!spec) {
                out.poison = true;
                return out;
            }
        }
        switch (family_) {
            case Family::Field: return calc_field(*spec);
            case Family::Type: return calc_type(spec);
            case Family::Enumval: return calc_enumval(*spec);
        }
        return fail("unknown relocation family");
    }

    Result<Calc> calc_type(const Spec* spec) {
        Calc out;
        if (!spec) return out;  // type relocations resolve to 0 when nothing matches
        switch (relo_.kind) {
            case BtfCoreReloKind::TypeIdTarget:
                out.value = spec->root;
                out.validate = false;  // linking renumbers types: the compiled id is not checked
                break;
            case BtfCoreReloKind::TypeExists:
            case BtfCoreReloKind::TypeMatches: out.value = 1; break;
            case BtfCoreReloKind::TypeSize: {
                auto size = size_of(*spec->btf, spec->root);
                if (!size) return size.error();
                out.value = *size;
                break;
            }
            default: return fail("not a type relocation");
        }
        return out;
    }

    Result<Calc> calc_enumval(const Spec& spec) {
        Calc out;
        const Accessor& step = spec.accessors[0];
        const BtfType& type = *spec.btf->type(step.type_id);
        uint64_t value = spec.btf->enumerators(step.type_id)[step.index].value;
        // A 32-bit enumerator is read as a signed 32-bit number and widened, as libbpf does.
        if (type.kind == BtfKind::Enum) {
            value = static_cast<uint64_t>(int64_t{static_cast<int32_t>(static_cast<uint32_t>(value))});
        }
        out.value = value;
        return out;
    }

    Result<Calc> calc_field(const Spec& spec) {
        Calc out;
        const Btf& btf = *spec.btf;
        const Accessor& last = spec.accessors.back();
        if (last.name.empty()) {
            // The access ends at an array element (or the root itself).
            auto size = size_of(btf, last.type_id);
            if (!size) return size.error();
            if (relo_.kind == BtfCoreReloKind::FieldByteOffset) {
                out.value = spec.bit_offset / 8;
                out.field_size = *size;
                out.field_type = last.type_id;
            } else if (relo_.kind == BtfCoreReloKind::FieldByteSize) {
                out.value = *size;
            } else {
                return fail("this kind cannot apply to an array element");
            }
            return out;
        }

        const BtfMember& member = btf.members(last.type_id)[last.index];
        auto field_type = resolve(btf, member.type);
        if (!field_type) return field_type.error();
        const BtfType& type = *btf.type(*field_type);
        const uint64_t bit_offset = spec.bit_offset;
        uint64_t bit_size = member.bitfield_size;
        uint64_t byte_size = 0;
        uint64_t byte_offset = 0;
        const bool bitfield = bit_size > 0;
        if (bitfield) {
            // The smallest naturally aligned load, at least the field's declared type, that
            // holds every bit of the field.
            if (type.kind != BtfKind::Int && !is_any_enum(type.kind)) {
                return fail("bitfield member '" + std::string(member.name) + "' has type " +
                            type_label(btf, *field_type) + ", not an integer or enum");
            }
            byte_size = type.size();
            if (byte_size != 1 && byte_size != 2 && byte_size != 4 && byte_size != 8) {
                return fail("bitfield member '" + std::string(member.name) + "' has a " +
                            std::to_string(byte_size) + "-byte type");
            }
            byte_offset = bit_offset / 8 / byte_size * byte_size;
            while (bit_offset + bit_size - byte_offset * 8 > byte_size * 8) {
                if (byte_size >= 8) {
                    return fail("bitfield member '" + std::string(member.name) +
                                "' cannot be read with one load of at most 8 bytes");
                }
                byte_size *= 2;
                byte_offset = bit_offset / 8 / byte_size * byte_size;
            }
        } else {
            auto size = size_of(btf, *field_type);
            if (!size) return size.error();
            byte_size = *size;
            byte_offset = bit_offset / 8;
            bit_size = byte_size * 8;
        }
        // Bitfield offsets, sizes and shifts depend on the load chunk, which clang may choose
        // differently: only signedness and the right shift are checked for bitfields.
        out.validate = !bitfield;
        switch (relo_.kind) {
            case BtfCoreReloKind::FieldByteOffset:
                out.value = byte_offset;
                if (!bitfield) {
                    out.field_size = static_cast<uint32_t>(byte_size);
                    out.field_type = *field_type;
                }
                break;
            case BtfCoreReloKind::FieldByteSize: out.value = byte_size; break;
            case BtfCoreReloKind::FieldSigned:
                out.value = (is_any_enum(type.kind) && type.is_signed_enum()) ||
                            (type.kind == BtfKind::Int && (type.int_encoding() & kBtfIntSigned) != 0);
                out.validate = true;
                break;
            case BtfCoreReloKind::FieldLshiftU64:
                // Little-endian: the field's top bit moves to bit 63 (wraps like libbpf's u64
                // arithmetic for fields wider than 8 bytes).
                out.value = 64 - (bit_offset + bit_size - byte_offset * 8);
                break;
            case BtfCoreReloKind::FieldRshiftU64:
                out.value = 64 - bit_size;
                out.validate = true;
                break;
            default: return fail("not a field relocation");
        }
        return out;
    }

    const Btf& local_;
    const Btf& target_;
    const CoreTargetIndex* index_;
    const BtfCoreRelo& relo_;
    const uint64_t budget_;
    CandidateCache* cache_;
    uint64_t used_ = 0;
    Family family_ = Family::Field;
    CoreResolution result_;
    std::string mismatch_;
};

Result<CoreResolution> resolve_with_budget(const Btf& local, const Btf& target, const CoreTargetIndex* index,
                                           const BtfCoreRelo& relo, uint64_t& budget, CandidateCache* cache) {
    Resolver resolver(local, target, index, relo, std::min(budget, kWorkPerRelocation), cache);
    auto result = resolver.run();
    budget -= std::min(budget, resolver.work_used());
    return result;
}

// The typed form of `insn` with another access size, if the ISA has that form.
std::optional<isa::Instruction> with_access_size(const isa::Instruction& insn, uint8_t size) {
    const isa::OpcodeForm& form = isa::form_of(insn);
    bool exists = false;
    for (const isa::OpcodeForm& other : isa::opcode_forms()) {
        if (other.kind == form.kind && other.op == form.op && other.source == form.source &&
            other.selector == form.selector && other.selector_value == form.selector_value &&
            other.width == size) {
            exists = true;
            break;
        }
    }
    if (!exists) return std::nullopt;
    isa::Instruction resized = insn;
    if (auto* load = std::get_if<isa::Load>(&resized)) {
        load->size = size;
    } else if (auto* store = std::get_if<isa::Store>(&resized)) {
        store->size = size;
    } else if (auto* atomic = std::get_if<isa::Atomic>(&resized)) {
        atomic->size = size;
    } else {
        return std::nullopt;
    }
    return resized;
}

uint8_t access_size(const isa::Instruction& insn) {
    if (const auto* load = std::get_if<isa::Load>(&insn)) return load->size;
    if (const auto* store = std::get_if<isa::Store>(&insn)) return store->size;
    if (const auto* atomic = std::get_if<isa::Atomic>(&insn)) return atomic->size;
    return 0;
}

void set_offset(isa::Instruction& insn, int16_t offset) {
    if (auto* load = std::get_if<isa::Load>(&insn)) load->offset = offset;
    if (auto* store = std::get_if<isa::Store>(&insn)) store->offset = offset;
    if (auto* atomic = std::get_if<isa::Atomic>(&insn)) atomic->offset = offset;
}

isa::RawInstruction poison_instruction() {
    return isa::encode(isa::Instruction{isa::Call{isa::Op::CallHelper, kCorePoisonHelperId}}).slots[0];
}

// Applies record `n` of a section's records to its slots.
Status apply_one(std::vector<isa::RawInstruction>& slots, const std::string& section_name, size_t n,
                 const BtfCoreRelo& relo, const Btf& local, const Btf& target, const CoreTargetIndex* index,
                 const std::string& file_name, uint64_t& budget, CandidateCache& cache,
                 std::vector<CorePoison>& poisoned) {
    Location where{file_name, section_name, std::nullopt, std::nullopt, std::nullopt};
    const std::string kind = std::string(core_relo_kind_name(relo.kind));
    if (relo.insn_off % 8 != 0 || relo.insn_off / 8 >= slots.size()) {
        return make_error(ErrorKind::InvalidInput,
                          "CO-RE " + kind + " relocation #" + std::to_string(n) + " of " +
                              type_label(local, relo.type_id) + " (" + std::string(relo.access) +
                              ") is at byte offset " + std::to_string(relo.insn_off) +
                              ", which is not an instruction of the section (" +
                              std::to_string(slots.size()) + " instructions)",
                          where);
    }
    const uint32_t slot = relo.insn_off / 8;
    where.instruction = slot;
    auto res = resolve_with_budget(local, target, index, relo, budget, &cache);
    if (!res) {
        Error error = std::move(res.error());
        error.where = where;
        return error;
    }
    const std::string context = "CO-RE " + kind + " relocation of " + res->description;
    auto error = [&](const std::string& message) {
        return make_error(ErrorKind::InvalidInput, context + ": " + message, where);
    };

    auto decoded = isa::decode_instruction(slots, slot);
    if (!decoded) return error("the relocated instruction does not decode: " + decoded.error().message);
    isa::Instruction& insn = *decoded;
    const bool is_ld_imm64 = std::holds_alternative<isa::LoadImm64>(insn);

    auto poison = [&](const std::string& why) {
        const std::string message =
            context + " " + why + "; the instruction was replaced by libbpf's poison call " +
            to_hex(static_cast<uint32_t>(kCorePoisonHelperId)) + " and must not be reached";
        slots[slot] = poison_instruction();
        poisoned.push_back(CorePoison{slot, message});
        if (is_ld_imm64) {
            slots[slot + 1] = poison_instruction();
            poisoned.push_back(CorePoison{slot + 1, "second slot of a poisoned ld_imm64: " + message});
        }
    };
    if (!res->resolved) {
        poison("did not resolve on the target (" + res->failure + ")");
        return Ok{};
    }

    const uint64_t expected = res->local_value;
    const uint64_t value = res->target_value;
    auto holds = [&](int64_t actual) {
        return error("the instruction holds " + std::to_string(actual) + ", not the expected local value " +
                     std::to_string(expected) + " (relocated value " + std::to_string(value) + ")");
    };
    if (auto* alu = std::get_if<isa::Alu>(&insn)) {
        if (alu->src.is_reg || alu->op == isa::Op::Neg || alu->op == isa::Op::MovSx) {
            return error("an ALU instruction takes a CO-RE value only as its immediate operand");
        }
        const int32_t imm = slots[slot].imm;
        if (res->check_local_value && static_cast<uint64_t>(int64_t{imm}) != expected) return holds(imm);
        const bool fits = value <= UINT32_MAX || value >= (uint64_t{0} - (uint64_t{1} << 31));
        if (!fits) return error("the relocated value " + std::to_string(value) + " does not fit in 32 bits");
        slots[slot].imm = static_cast<int32_t>(static_cast<uint32_t>(value));
    } else if (std::holds_alternative<isa::Load>(insn) || std::holds_alternative<isa::Store>(insn) ||
               std::holds_alternative<isa::Atomic>(insn)) {
        const int16_t offset = slots[slot].offset;
        if (res->check_local_value && static_cast<uint64_t>(int64_t{offset}) != expected)
            return holds(offset);
        if (value > static_cast<uint64_t>(std::numeric_limits<int16_t>::max())) {
            return error("the relocated offset " + std::to_string(value) +
                         " does not fit in an instruction's 16-bit offset");
        }
        if (res->local_field_size != res->target_field_size) {
            if (!res->access_size_adjustable) {
                poison("accesses a field whose size differs on the target (" +
                       std::to_string(res->local_field_size) + " -> " +
                       std::to_string(res->target_field_size) +
                       " bytes) and is not a pointer or unsigned integer");
                return Ok{};
            }
            if (access_size(insn) != res->local_field_size) {
                return error("the instruction accesses " + std::to_string(access_size(insn)) +
                             " bytes, but the local field has " + std::to_string(res->local_field_size));
            }
            const uint32_t size = res->target_field_size;
            std::optional<isa::Instruction> resized;
            if (size == 1 || size == 2 || size == 4 || size == 8) {
                resized = with_access_size(insn, static_cast<uint8_t>(size));
            }
            if (!resized) {
                return error("the instruction cannot access the target field's " + std::to_string(size) +
                             " bytes");
            }
            insn = *resized;
        }
        set_offset(insn, static_cast<int16_t>(value));
        slots[slot] = isa::encode(insn).slots[0];
    } else if (auto* ld = std::get_if<isa::LoadImm64>(&insn)) {
        const isa::RawInstruction& second = slots[slot + 1];
        if (ld->src_kind != 0 || second.opcode != 0 || second.regs != 0 || second.offset != 0) {
            return error("only a plain ld_imm64 (no pseudo source) takes a CO-RE value");
        }
        if (res->check_local_value && ld->value() != expected)
            return holds(static_cast<int64_t>(ld->value()));
        slots[slot].imm = static_cast<int32_t>(static_cast<uint32_t>(value));
        slots[slot + 1].imm = static_cast<int32_t>(static_cast<uint32_t>(value >> 32));
    } else {
        return error("a " + std::string(isa::form_of(insn).mnemonic) +
                     " instruction cannot take a CO-RE value (expected an ALU immediate, a load or "
                     "store offset, or an ld_imm64)");
    }
    return Ok{};
}

// With `failures`, an error located at one instruction (its record does not resolve or does not
// fit it) leaves that instruction as it was and is collected there; the other records are still
// applied. Errors that are not about one instruction, or that end the call's work budget, end it.
Status apply_all(std::vector<isa::RawInstruction>& slots, const std::string& section_name,
                 std::span<const BtfCoreRelo> records, const Btf& local, const Btf& target,
                 const CoreTargetIndex* index, const std::string& file_name,
                 std::vector<CorePoison>& poisoned, std::vector<Error>* failures) {
    uint64_t budget = kWorkPerApply;
    CandidateCache cache;
    for (size_t n = 0; n < records.size(); ++n) {
        Status applied = apply_one(slots, section_name, n, records[n], local, target, index, file_name,
                                   budget, cache, poisoned);
        if (applied) continue;
        if (failures == nullptr || !applied.error().where.instruction || budget == 0) return applied;
        failures->push_back(std::move(applied.error()));
    }
    return Ok{};
}

}  // namespace

std::string_view core_relo_kind_name(BtfCoreReloKind kind) {
    switch (kind) {
        case BtfCoreReloKind::FieldByteOffset: return "byte_off";
        case BtfCoreReloKind::FieldByteSize: return "byte_sz";
        case BtfCoreReloKind::FieldExists: return "field_exists";
        case BtfCoreReloKind::FieldSigned: return "signed";
        case BtfCoreReloKind::FieldLshiftU64: return "lshift_u64";
        case BtfCoreReloKind::FieldRshiftU64: return "rshift_u64";
        case BtfCoreReloKind::TypeIdLocal: return "local_type_id";
        case BtfCoreReloKind::TypeIdTarget: return "target_type_id";
        case BtfCoreReloKind::TypeExists: return "type_exists";
        case BtfCoreReloKind::TypeSize: return "type_size";
        case BtfCoreReloKind::EnumvalExists: return "enumval_exists";
        case BtfCoreReloKind::EnumvalValue: return "enumval_value";
        case BtfCoreReloKind::TypeMatches: return "type_matches";
    }
    return "unknown";
}

std::string_view core_essential_name(std::string_view name) {
    if (name.size() < 5) return name;
    // "X___Y" with X and Y not '_': the last such separator starts the flavor suffix.
    for (size_t i = name.size() - 5 + 1; i-- > 0;) {
        if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' &&
            name[i + 4] != '_') {
            return name.substr(0, i + 1);
        }
    }
    return name;
}

CoreTargetIndex::CoreTargetIndex(const Btf& target) : target_(&target) {
    std::vector<std::pair<std::string_view, uint32_t>> entries;
    entries.reserve(target.type_count());
    for (uint32_t id = 1; id < target.type_count(); ++id) {
        std::string_view name = target.name(id);
        if (!name.empty()) entries.emplace_back(core_essential_name(name), id);
    }
    std::sort(entries.begin(), entries.end());
    names_.reserve(entries.size());
    ids_.reserve(entries.size());
    for (const auto& [name, id] : entries) {
        names_.push_back(name);
        ids_.push_back(id);
    }
}

std::span<const uint32_t> CoreTargetIndex::types_named(std::string_view essential_name) const {
    if (essential_name.empty()) return {};
    auto [first, last] = std::equal_range(names_.begin(), names_.end(), essential_name);
    return std::span<const uint32_t>(ids_).subspan(static_cast<size_t>(first - names_.begin()),
                                                   static_cast<size_t>(last - first));
}

Result<CoreResolution> resolve_core_relocation(const Btf& local, const Btf& target, const BtfCoreRelo& relo) {
    uint64_t budget = kWorkPerRelocation;
    return resolve_with_budget(local, target, nullptr, relo, budget, nullptr);
}

Result<CoreResolution> resolve_core_relocation(const Btf& local, const CoreTargetIndex& target,
                                               const BtfCoreRelo& relo) {
    uint64_t budget = kWorkPerRelocation;
    return resolve_with_budget(local, target.btf(), &target, relo, budget, nullptr);
}

Status apply_core_relocations(std::vector<isa::RawInstruction>& section_slots,
                              const std::string& section_name, std::span<const BtfCoreRelo> records,
                              const Btf& local, const Btf& target, const std::string& file_name,
                              std::vector<CorePoison>& poisoned) {
    if (records.empty()) return Ok{};
    // One index per call: building it is linear in the target, looking a name up logarithmic.
    CoreTargetIndex index(target);
    return apply_all(section_slots, section_name, records, local, target, &index, file_name, poisoned,
                     nullptr);
}

Status apply_core_relocations(std::vector<isa::RawInstruction>& section_slots,
                              const std::string& section_name, std::span<const BtfCoreRelo> records,
                              const Btf& local, const CoreTargetIndex& target, const std::string& file_name,
                              std::vector<CorePoison>& poisoned) {
    return apply_all(section_slots, section_name, records, local, target.btf(), &target, file_name, poisoned,
                     nullptr);
}

namespace detail {

Status apply_core_relocations_per_instruction(std::vector<isa::RawInstruction>& section_slots,
                                              const std::string& section_name,
                                              std::span<const BtfCoreRelo> records, const Btf& local,
                                              const CoreTargetIndex& target, const std::string& file_name,
                                              std::vector<CorePoison>& poisoned,
                                              std::vector<Error>& failures) {
    return apply_all(section_slots, section_name, records, local, target.btf(), &target, file_name, poisoned,
                     &failures);
}

}  // namespace detail

}  // namespace bpfvm::loader
