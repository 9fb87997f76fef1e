// create_map: BPF_MAP_CREATE's checks (kernel/bpf/syscall.c and each map type's alloc_check),
// then the storage limit, then the type's factory.
#include <bit>
#include <optional>
#include <string>

#include "maps/internal.hpp"

namespace bpfvm::vm {
namespace detail {

using isa::MapType;

bool is_percpu(MapType type) {
    return type == MapType::PercpuArray || type == MapType::PercpuHash || type == MapType::LruPercpuHash;
}

Error map_error(ErrorKind kind, const MapSpec& spec, const std::string& problem) {
    return make_error(kind, "map '" + spec.name + "': " + problem);
}

namespace {

struct Problem {
    ErrorKind kind;
    std::string text;
};

std::string hex(uint64_t value) {
    return to_hex(value);
}

std::string type_name(MapType type) {
    return std::string(isa::map_type_name(type));
}

bool is_lru(MapType type) {
    return type == MapType::LruHash || type == MapType::LruPercpuHash;
}
bool is_map_of_maps(MapType type) {
    return type == MapType::ArrayOfMaps || type == MapType::HashOfMaps;
}

// Creation flags each type accepts (the *_CREATE_FLAG_MASK of its kernel file, narrowed where
// the type's alloc_check rejects more, e.g. NUMA placement of per-CPU maps).
std::optional<uint32_t> allowed_flags(MapType type) {
    switch (type) {
        case MapType::Array: return kFlagNumaNode | kFlagMmapable | kFlagsAccess | kFlagInnerMap;
        case MapType::PercpuArray: return kFlagsAccess;
        case MapType::ProgArray:
        case MapType::ArrayOfMaps: return kFlagNumaNode | kFlagsAccess;
        case MapType::PerfEventArray: return kFlagNumaNode | kFlagsAccess | kFlagPreserveElems;
        case MapType::Hash:
        case MapType::HashOfMaps: return kFlagNoPrealloc | kFlagNumaNode | kFlagsAccess | kFlagZeroSeed;
        case MapType::PercpuHash: return kFlagNoPrealloc | kFlagsAccess | kFlagZeroSeed;
        case MapType::LruHash: return kFlagNoCommonLru | kFlagNumaNode | kFlagsAccess | kFlagZeroSeed;
        case MapType::LruPercpuHash: return kFlagNoCommonLru | kFlagsAccess | kFlagZeroSeed;
        case MapType::LpmTrie: return kFlagNoPrealloc | kFlagNumaNode | kFlagsAccess;
        case MapType::Queue:
        case MapType::Stack: return kFlagNumaNode | kFlagsAccess;
        case MapType::Ringbuf:
        case MapType::Cpumap: return kFlagNumaNode;
        case MapType::Devmap:
        case MapType::DevmapHash:
        case MapType::Xskmap: return kFlagNumaNode | kFlagReadOnly | kFlagWriteOnly;
        default: return std::nullopt;
    }
}

// Map types an inner map may have: those with map_meta_equal in the kernel.
bool can_be_inner(MapType type) {
    return allowed_flags(type).has_value() && type != MapType::ProgArray && !is_map_of_maps(type);
}

std::string bytes_word(uint64_t n) {
    return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

std::optional<Problem> invalid(std::string text) {
    return Problem{ErrorKind::InvalidInput, std::move(text)};
}

std::optional<Problem> exact_size(MapType type, const char* part, uint32_t actual, uint32_t expected) {
    if (actual == expected) return std::nullopt;
    return invalid(type_name(type) + " " + part + " must be " + bytes_word(expected) + ", not " +
                   std::to_string(actual));
}

std::optional<Problem> nonzero_size(MapType type, const char* part, uint32_t actual) {
    if (actual != 0) return std::nullopt;
    return invalid(type_name(type) + " " + part + " must not be empty (size 0)");
}

std::optional<Problem> size_at_most(MapType type, const char* part, uint64_t actual, uint64_t limit,
                                    const char* why) {
    if (actual <= limit) return std::nullopt;
    return invalid(type_name(type) + " " + part + " must be at most " + bytes_word(limit) + why + ", not " +
                   std::to_string(actual));
}

// The rules of one type, in the order the kernel applies them (flags first, then sizes).
std::optional<Problem> check_definition(const MapSpec& spec) {
    const MapType type = spec.type;
    const uint32_t max_entries = spec.max_entries;
    const auto allowed = allowed_flags(type);
    if (!allowed) {
        const auto name = isa::map_type_name(type);
        if (name == "unknown")
            return invalid("unknown map type " + std::to_string(static_cast<uint32_t>(type)));
        return Problem{ErrorKind::Unsupported, std::string(name) + " maps are not simulated by bpfvm"};
    }

    const uint32_t flags = spec.flags;
    if (is_lru(type) && (flags & kFlagNoPrealloc) != 0) {
        return invalid(type_name(type) + " maps are always preallocated: BPF_F_NO_PREALLOC is not supported");
    }
    if ((flags & ~*allowed) != 0) {
        return invalid("flags " + hex(flags & ~*allowed) + " are not valid for " + type_name(type) + " maps");
    }
    if ((flags & (kFlagReadOnlyProg | kFlagWriteOnlyProg)) == (kFlagReadOnlyProg | kFlagWriteOnlyProg)) {
        return invalid("BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
    }
    if ((flags & (kFlagReadOnly | kFlagWriteOnly)) == (kFlagReadOnly | kFlagWriteOnly)) {
        return invalid("BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
    }
    if ((flags & kFlagNoCommonLru) != 0 && (flags & kFlagNumaNode) != 0) {
        return invalid("BPF_F_NO_COMMON_LRU cannot be combined with BPF_F_NUMA_NODE");
    }
    if (type == MapType::LpmTrie && (flags & kFlagNoPrealloc) == 0) {
        return invalid("lpm_trie maps need BPF_F_NO_PREALLOC (flags 0x1)");
    }
    if (spec.map_extra != 0) {
        return invalid("map_extra must be 0 for " + type_name(type) + " maps, not " + hex(spec.map_extra));
    }
    if (max_entries == 0) return invalid("max_entries must be more than 0");
    if (!spec.initial_data.empty()) {
        if (type != MapType::Array) return invalid("only array maps can hold initial data");
        if (spec.initial_data.size() > spec.value_size) {
            return invalid("initial data of " + bytes_word(spec.initial_data.size()) +
                           " does not fit the value size " + std::to_string(spec.value_size));
        }
    }

    const uint32_t key = spec.key_size;
    const uint32_t value = spec.value_size;
    std::optional<Problem> problem;
    switch (type) {
        case MapType::Array:
        case MapType::PercpuArray:
            if ((problem = exact_size(type, "keys", key, 4)) ||
                (problem = nonzero_size(type, "values", value))) {
                return problem;
            }
            // Arrays live in vmalloc memory: the kernel only guards round_up(value_size) against
            // overflow (INT_MAX); the map's total is bounded by MapLimits::max_bytes instead.
            if (type == MapType::Array) return size_at_most(type, "values", value, INT32_MAX, "");
            return size_at_most(type, "values", round_up8(value), kPercpuMaxValue,
                                " (rounded up to 8, the per-CPU allocator's unit)");
        case MapType::ProgArray:
        case MapType::ArrayOfMaps:
        case MapType::PerfEventArray:
            if ((problem = exact_size(type, "keys", key, 4))) return problem;
            return exact_size(type, "values", value, 4);
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash:
        case MapType::HashOfMaps:
            if ((problem = nonzero_size(type, "keys", key))) return problem;
            if (type == MapType::HashOfMaps) {
                if ((problem = exact_size(type, "values", value, 4))) return problem;
            } else if ((problem = nonzero_size(type, "values", value))) {
                return problem;
            }
            // sizeof(struct htab_elem) is 48 bytes: an element must stay kmalloc-able.
            if (uint64_t{key} + value >= kKmallocMaxSize - 48) {
                return invalid(type_name(type) + " keys and values together must be under " +
                               bytes_word(kKmallocMaxSize - 48) + ", not " +
                               std::to_string(uint64_t{key} + value));
            }
            if (is_percpu(type)) {
                return size_at_most(type, "values", round_up8(value), kPercpuMaxValue,
                                    " (rounded up to 8, the per-CPU allocator's unit)");
            }
            return std::nullopt;
        case MapType::LpmTrie:
            if (key < 5 || key > 260) {
                return invalid(
                    "lpm_trie keys must be 5 to 260 bytes (a 4-byte prefix length and 1 to 256 data "
                    "bytes), not " +
                    std::to_string(key));
            }
            if ((problem = nonzero_size(type, "values", value))) return problem;
            // LPM_VAL_SIZE_MAX: KMALLOC_MAX_SIZE less the largest key data and the 24-byte node.
            return size_at_most(type, "values", value, kKmallocMaxSize - 256 - 24, "");
        case MapType::Queue:
        case MapType::Stack:
            if ((problem = exact_size(type, "keys", key, 0)) ||
                (problem = nonzero_size(type, "values", value))) {
                return problem;
            }
            return size_at_most(type, "values", value, kKmallocMaxSize, "");
        case MapType::Ringbuf:
            if ((problem = exact_size(type, "keys", key, 0)) ||
                (problem = exact_size(type, "values", value, 0))) {
                return problem;
            }
            if (!std::has_single_bit(max_entries) || max_entries % kPageSize != 0) {
                return invalid("ringbuf size (max_entries) must be a power of 2 and a multiple of " +
                               std::to_string(kPageSize) + ", not " + std::to_string(max_entries));
            }
            return std::nullopt;
        case MapType::Devmap:
        case MapType::DevmapHash:
        case MapType::Cpumap:
            if ((problem = exact_size(type, "keys", key, 4))) return problem;
            // struct bpf_devmap_val / bpf_cpumap_val: ifindex or qsize, then an optional program.
            if (value != 4 && value != 8) {
                return invalid(type_name(type) + " values must be 4 or 8 bytes, not " +
                               std::to_string(value));
            }
            if (type == MapType::Cpumap && max_entries > kMaxCpus) {
                return invalid("cpumap max_entries must be at most " + std::to_string(kMaxCpus) +
                               " (NR_CPUS), not " + std::to_string(max_entries));
            }
            return std::nullopt;
        case MapType::Xskmap:
            if ((problem = exact_size(type, "keys", key, 4))) return problem;
            return exact_size(type, "values", value, 4);
        default: return Problem{ErrorKind::Unsupported, type_name(type) + " maps are not simulated by bpfvm"};
    }
}

// a * b, or UINT64_MAX when it does not fit.
uint64_t saturating_mul(uint64_t a, uint64_t b) {
    uint64_t product;
    return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}
uint64_t saturating_add(uint64_t a, uint64_t b) {
    return a + b < a ? UINT64_MAX : a + b;
}

// Host bytes a map's keys and values take when full (per-CPU values once per CPU).
uint64_t storage_bytes(const MapSpec& spec, uint32_t cpus) {
    const uint32_t max_entries = spec.max_entries;
    const uint64_t copies = is_percpu(spec.type) ? cpus : 1;
    const uint64_t values = saturating_mul(round_up8(spec.value_size), copies);
    uint64_t per_entry;
    switch (spec.type) {
        case MapType::Ringbuf: return max_entries;
        case MapType::ProgArray:
        case MapType::ArrayOfMaps:
        case MapType::PerfEventArray: per_entry = 8; break;
        case MapType::Array:
        case MapType::PercpuArray:
        case MapType::Queue:
        case MapType::Stack:
        case MapType::Devmap:
        case MapType::Cpumap:
        case MapType::Xskmap: per_entry = values; break;
        // The trie keeps each key twice: as given and masked to its prefix (the index).
        case MapType::LpmTrie: per_entry = saturating_add(2 * round_up8(spec.key_size), values); break;
        default: per_entry = saturating_add(round_up8(spec.key_size), values); break;
    }
    return saturating_mul(per_entry, max_entries);
}

}  // namespace
}  // namespace detail

using detail::map_error;

Result<std::unique_ptr<Map>> create_map(const MapSpec& spec, const MapLimits& limits) {
    using isa::MapType;
    if (limits.cpus == 0 || limits.cpus > detail::kMaxCpus) {
        return map_error(ErrorKind::InvalidInput, spec,
                         "the run must simulate 1 to " + std::to_string(detail::kMaxCpus) + " CPUs, not " +
                             std::to_string(limits.cpus));
    }
    // libbpf sizes a perf event array without max_entries to the number of CPUs.
    MapSpec actual = spec;
    if (actual.type == MapType::PerfEventArray && actual.max_entries == 0) actual.max_entries = limits.cpus;

    if (auto problem = detail::check_definition(actual)) {
        return map_error(problem->kind, spec, problem->text);
    }
    if (detail::is_map_of_maps(actual.type)) {
        if (!actual.inner) {
            return map_error(ErrorKind::InvalidInput, spec, "maps of maps need an inner map template");
        }
        const MapSpec& inner = *actual.inner;
        if (!detail::can_be_inner(inner.type)) {
            return map_error(ErrorKind::InvalidInput, spec,
                             "inner map '" + inner.name + "': " + detail::type_name(inner.type) +
                                 " maps cannot be inner maps");
        }
        if (auto problem = detail::check_definition(inner)) {
            return map_error(problem->kind, spec, "inner map '" + inner.name + "': " + problem->text);
        }
    }

    const uint64_t needed = detail::storage_bytes(actual, limits.cpus);
    if (needed > limits.max_bytes) {
        return make_error(ErrorKind::InvalidInput, "map '" + spec.name + "' needs " +
                                                       (needed == UINT64_MAX ? "more than " : "") +
                                                       std::to_string(needed) + " bytes, more than the " +
                                                       std::to_string(limits.max_bytes) + " a map may use");
    }

    switch (actual.type) {
        case MapType::Array:
        case MapType::PercpuArray: return detail::make_array(std::move(actual), limits.cpus);
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash: return detail::make_hash(std::move(actual), limits.cpus);
        case MapType::LpmTrie: return detail::make_lpm_trie(std::move(actual), limits.cpus);
        case MapType::Queue:
        case MapType::Stack: return detail::make_queue(std::move(actual), limits.cpus);
        case MapType::ProgArray:
        case MapType::ArrayOfMaps:
        case MapType::HashOfMaps: return detail::make_reference(std::move(actual), limits.cpus);
        case MapType::Devmap:
        case MapType::DevmapHash:
        case MapType::Cpumap:
        case MapType::Xskmap: return detail::make_redirect(std::move(actual), limits.cpus);
        case MapType::Ringbuf: return detail::make_ringbuf(std::move(actual), limits.cpus);
        case MapType::PerfEventArray:
            return detail::make_perf_event_array(std::move(actual), limits.cpus, limits.max_bytes);
        default: break;
    }
    return map_error(ErrorKind::Unsupported, spec,
                     detail::type_name(actual.type) + " maps are not simulated");
}

bool matches_template(const MapSpec& inner, const MapSpec& templ) {
    using isa::MapType;
    // bpf_map_meta_equal, plus array_map_meta_equal and xsk_map_meta_equal, which also compare
    // max_entries (arrays unless the template has BPF_F_INNER_MAP).
    if (!detail::can_be_inner(templ.type)) return false;
    if (inner.type != templ.type || inner.key_size != templ.key_size ||
        inner.value_size != templ.value_size || inner.flags != templ.flags) {
        return false;
    }
    const bool sized = (templ.type == MapType::Array && (templ.flags & detail::kFlagInnerMap) == 0) ||
                       templ.type == MapType::Xskmap;
    return !sized || inner.max_entries == templ.max_entries;
}

uint32_t ElementMap::user_value_size() const {
    const uint32_t value_size = spec().value_size;
    if (!detail::is_percpu(type())) return value_size;
    return static_cast<uint32_t>(detail::round_up8(value_size) * cpus());
}

}  // namespace bpfvm::vm
