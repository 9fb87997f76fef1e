// Parsing `.BTF.ext`: a header, then up to three info blocks (func_info, line_info,
// core_relo). Each block starts with its record size and holds, per ELF code section, a
// sub-block {sec_name_off, num_info} followed by num_info records of that size. Records may be
// longer than the fields we know (a newer producer); we read the known prefix and skip the rest.
#include <string>
#include <utility>

#include "bpfvm/loader/btf.hpp"

namespace bpfvm::loader {

namespace {

constexpr uint16_t kBtfMagic = 0xeB9F;
constexpr uint8_t kBtfExtVersion = 1;
constexpr uint32_t kHeaderSizeWithoutCoreRelo = 24;  // up to line_info_len
constexpr uint32_t kHeaderSizeWithCoreRelo = 32;     // adds core_relo_off, core_relo_len
constexpr uint32_t kMaxCoreReloKind = static_cast<uint32_t>(BtfCoreReloKind::TypeMatches);

Error invalid(std::string message, std::string section = {}) {
    Location where;
    where.section = std::move(section);
    return make_error(ErrorKind::InvalidInput, "BTF.ext: " + std::move(message), std::move(where));
}

// What differs between the three info blocks.
struct InfoBlock {
    const char* name;
    uint32_t min_record_size;
};
constexpr InfoBlock kFuncInfo{"func_info", 8};
constexpr InfoBlock kLineInfo{"line_info", 16};
constexpr InfoBlock kCoreRelo{"core_relo", 16};

class BtfExtParser {
 public:
    BtfExtParser(const Btf& btf, std::vector<BtfExtSection>& sections) : btf_(btf), sections_(sections) {}

    // Parses one info block; `block` is its bytes, empty when the header says it is absent.
    Status parse_block(const InfoBlock& kind, std::span<const uint8_t> block) {
        if (block.empty()) return Ok{};
        detail::ByteReader reader(block);
        auto record_size = reader.u32();
        if (!record_size) return invalid(std::string(kind.name) + ": block is too short for its record size");
        if (*record_size < kind.min_record_size || *record_size % 4 != 0) {
            return invalid(std::string(kind.name) + ": record size " + std::to_string(*record_size) +
                           " is not a multiple of 4 of at least " + std::to_string(kind.min_record_size));
        }
        while (reader.remaining() > 0) {
            auto name_off = reader.u32();
            auto num_info = reader.u32();
            if (!name_off || !num_info) {
                return invalid(std::string(kind.name) + ": section header at byte " +
                               std::to_string(reader.offset()) + " is truncated");
            }
            auto section_name = btf_.string_at(*name_off);
            if (!section_name || section_name->empty()) {
                return invalid(std::string(kind.name) + ": section name offset " + std::to_string(*name_off) +
                               " does not name a string in the BTF string section");
            }
            std::string context =
                std::string(kind.name) + " for section '" + std::string(*section_name) + "'";
            // Checked before any allocation: num_info * record_size must fit in what is left.
            if (uint64_t{*num_info} * *record_size > reader.remaining()) {
                return invalid(context + ": " + std::to_string(*num_info) + " records of " +
                                   std::to_string(*record_size) + " bytes run past the end of the block",
                               std::string(*section_name));
            }
            BtfExtSection& section = section_named(*section_name);
            for (uint32_t index = 0; index < *num_info; ++index) {
                detail::ByteReader record(block.subspan(reader.offset(), *record_size));
                reader.skip(*record_size);
                Status status = parse_record(kind, record, section, index, context);
                if (!status) return status;
            }
        }
        return Ok{};
    }

 private:
    BtfExtSection& section_named(std::string_view name) {
        for (BtfExtSection& section : sections_) {
            if (section.name == name) return section;
        }
        sections_.push_back(BtfExtSection{std::string(name), {}, {}, {}});
        return sections_.back();
    }

    Status parse_record(const InfoBlock& kind, detail::ByteReader& record, BtfExtSection& section,
                        uint32_t index, const std::string& context) {
        auto fail = [&](const std::string& message) {
            return invalid(context + ", record " + std::to_string(index) + ": " + message, section.name);
        };
        auto string_or_fail = [&](uint32_t offset, const char* what) -> Result<std::string_view> {
            auto text = btf_.string_at(offset);
            if (!text) {
                return fail(std::string(what) + " offset " + std::to_string(offset) +
                            " is outside the BTF string section (size " +
                            std::to_string(btf_.string_section_size()) + ")");
            }
            return *text;
        };
        // The record holds at least min_record_size bytes (checked per block): these reads succeed.
        uint32_t insn_off = *record.u32();
        if (&kind == &kFuncInfo) {
            uint32_t type_id = *record.u32();
            const BtfType* type = btf_.type(type_id);
            if (!type || type->kind != BtfKind::Func) {
                return fail("type " + std::to_string(type_id) + " is not a FUNC in the BTF");
            }
            section.func_infos.push_back(BtfFuncInfo{insn_off, type_id});
        } else if (&kind == &kLineInfo) {
            uint32_t file_name_off = *record.u32();
            uint32_t line_off = *record.u32();
            uint32_t line_col = *record.u32();
            auto file_name = string_or_fail(file_name_off, "file name");
            if (!file_name) return file_name.error();
            auto source_line = string_or_fail(line_off, "source line");
            if (!source_line) return source_line.error();
            // line_col packs the line number above a 10-bit column.
            section.line_infos.push_back(
                BtfLineInfo{insn_off, *file_name, *source_line, line_col >> 10, line_col & 0x3ff});
        } else {
            uint32_t type_id = *record.u32();
            uint32_t access_off = *record.u32();
            uint32_t relo_kind = *record.u32();
            if (type_id >= btf_.type_count()) {
                return fail("type " + std::to_string(type_id) + " does not exist in the BTF (" +
                            std::to_string(btf_.type_count()) + " types)");
            }
            auto access = string_or_fail(access_off, "access string");
            if (!access) return access.error();
            if (relo_kind > kMaxCoreReloKind)
                return fail("unknown CO-RE relocation kind " + std::to_string(relo_kind));
            section.core_relos.push_back(
                BtfCoreRelo{insn_off, type_id, *access, static_cast<BtfCoreReloKind>(relo_kind)});
        }
        return Ok{};
    }

    const Btf& btf_;
    std::vector<BtfExtSection>& sections_;
};

}  // namespace

Result<BtfExt> BtfExt::parse(std::span<const uint8_t> data, const Btf& btf) {
    detail::ByteReader header(data);
    auto magic = header.u16();
    auto version = header.u8();
    auto flags = header.u8();
    auto hdr_len = header.u32();
    auto func_info_off = header.u32();
    auto func_info_len = header.u32();
    auto line_info_off = header.u32();
    auto line_info_len = header.u32();
    if (!line_info_len) {
        return invalid("data is " + std::to_string(data.size()) + " bytes, shorter than the " +
                       std::to_string(kHeaderSizeWithoutCoreRelo) + "-byte header");
    }
    if (*magic != kBtfMagic) return invalid("bad magic " + std::to_string(*magic) + " (expected 0xeb9f)");
    if (*version != kBtfExtVersion) {
        return make_error(ErrorKind::Unsupported,
                          "BTF.ext: version " + std::to_string(*version) + " is not supported");
    }
    if (*flags != 0) return invalid("header flags " + std::to_string(*flags) + " are not zero");
    if (*hdr_len < kHeaderSizeWithoutCoreRelo || *hdr_len > data.size()) {
        return invalid("header length " + std::to_string(*hdr_len) + " is outside " +
                       std::to_string(kHeaderSizeWithoutCoreRelo) + ".." + std::to_string(data.size()));
    }
    uint32_t core_relo_off = 0;
    uint32_t core_relo_len = 0;
    if (*hdr_len >= kHeaderSizeWithCoreRelo) {
        core_relo_off = *header.u32();
        core_relo_len = *header.u32();
    }

    // Offsets count from the end of the header.
    auto body = data.subspan(*hdr_len);
    auto block_bytes = [&](const InfoBlock& kind, uint32_t offset,
                           uint32_t length) -> Result<std::span<const uint8_t>> {
        if (uint64_t{offset} + length > body.size()) {
            return invalid(std::string(kind.name) + " block (offset " + std::to_string(offset) + ", length " +
                           std::to_string(length) + ") runs past the data (" + std::to_string(body.size()) +
                           " bytes after the header)");
        }
        return body.subspan(offset, length);
    };

    BtfExt ext;
    ext.strings_ = btf.strings_;
    BtfExtParser parser(btf, ext.sections_);
    const std::pair<const InfoBlock*, std::pair<uint32_t, uint32_t>> blocks[] = {
        {&kFuncInfo, {*func_info_off, *func_info_len}},
        {&kLineInfo, {*line_info_off, *line_info_len}},
        {&kCoreRelo, {core_relo_off, core_relo_len}},
    };
    for (const auto& [kind, range] : blocks) {
        auto bytes = block_bytes(*kind, range.first, range.second);
        if (!bytes) return bytes.error();
        Status status = parser.parse_block(*kind, *bytes);
        if (!status) return status.error();
    }
    return ext;
}

const BtfExtSection* BtfExt::section(std::string_view name) const {
    for (const BtfExtSection& section : sections_) {
        if (section.name == name) return &section;
    }
    return nullptr;
}

}  // namespace bpfvm::loader
