// Map keys and values as JSON typed by the object's BTF, for `bpfvm run --dump-maps` (bytes ->
// JSON) and `--map NAME=FILE.json` (JSON -> bytes). Without BTF for a key or value, both sides
// use a hex string of the bytes.
//
// Conventions (btf_to_json prints them; json_to_bytes reads them back, so
// json_to_bytes(btf_to_json(x)) == x, padding aside):
//  - Hex strings are always the bytes as they lie in memory, lowest address first: "0a000000"
//    is the little-endian u32 10. btf_to_json prints them without a prefix; json_to_bytes also
//    takes a "0x" prefix, and takes a hex string of exactly the right length for any type.
//  - Integers up to 64 bits are JSON numbers, signed when the BTF encoding says so; bool
//    encodings are true/false (other values as numbers); wider integers are hex strings.
//  - char arrays (1-byte int elements with the BTF char encoding or named "char") holding a
//    printable ASCII string, NUL-terminated with only zeros after the NUL, are JSON strings;
//    otherwise, and for every other array, JSON arrays. json_to_bytes takes a string for a char
//    array as text unless it is exactly 2 * size hex digits; arrays may be shorter than the C
//    array (missing trailing elements are zero), never longer.
//  - structs and unions are objects by member name, in member order; the members of anonymous
//    struct/union members are flattened into the enclosing object, as C names them. A union
//    shows every member, each read from the same bytes. Bitfields are extracted per BTF
//    (kind_flag member offsets, or the older INT-encoded width) and shown like their type.
//    Members missing from a JSON object are zero. Padding (bytes or bits no named member
//    covers, unnamed bitfields) is not shown, so it reads back as zero.
//  - enums are the enumerator's name when one has the value, else the number.
//  - pointers are hex strings; floats and doubles are numbers (NaN and infinities, which JSON
//    cannot hold, are hex strings).
//  - typedef, const, volatile, restrict, type_tag and var are followed.
//  - DATASEC (the .data/.rodata/.bss global-data maps) is an object of its variables by name
//    at their DATASEC offsets. The DATASEC must be laid out (size and offsets set, as libbpf's
//    fixup does); clang leaves them zero in the object file, and such a DATASEC prints as hex.
//  - Names from the BTF are shown as printable ASCII (other bytes as "\xNN"), and JSON keys
//    are matched against that form.
//  - BTF that does not fit the bytes never makes an error: a value whose type is unknown,
//    cyclic, nested too deeply or of another size than its bytes prints as a hex string, and a
//    struct/union/DATASEC whose layout does not fit (a member outside it, an anonymous member
//    containing its own struct) prints entirely as hex. A value so large or fanned-out that showing it
//    would take over about a million steps prints entirely as hex.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/isa/error.hpp"
#include "bpfvm/loader/btf.hpp"

namespace bpfvm::tools {

// The bytes of a value of BTF type `type_id` as JSON (see above). Type id 0 (no BTF type)
// gives the hex string.
nlohmann::ordered_json btf_to_json(const loader::Btf& btf, uint32_t type_id, std::span<const uint8_t> bytes);

// The reverse, for --map files: exactly `size` bytes from JSON as btf_to_json prints it, or
// from a hex string for any type. With no BTF (btf null or type_id 0) only hex strings are
// accepted. Errors (ErrorKind::InvalidInput) name the member or element path (".stats[2].n")
// and say why: out of range for its width, unknown member, unknown enumerator, wrong length.
Result<std::vector<uint8_t>> json_to_bytes(const loader::Btf* btf, uint32_t type_id,
                                           const nlohmann::ordered_json& value, uint32_t size);

// Hex string of bytes in memory order ("0a000000"), two lowercase digits a byte.
std::string bytes_to_hex(std::span<const uint8_t> bytes);

}  // namespace bpfvm::tools
