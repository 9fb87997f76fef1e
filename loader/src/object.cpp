// load_object: from a validated ELF file to self-contained programs, the way libbpf opens and
// relocates an object: BTF (its DATASECs laid out from the ELF file) and BTF.ext first, then
// maps, then CO-RE per code section, then per program the relocations of maps, global data and
// subprogram calls, with subprograms appended in the order libbpf appends them (depth first,
// at their first call).
//
// What fails where: a fault in what every program needs (ELF structure, symbols, relocation
// tables, maps, BTF and BTF.ext, license, a code section that is not whole instructions) fails
// the object. A fault in one instruction (it does not decode, a jump or call leaves its
// function, its relocation or CO-RE record does not fit it) fails only the programs whose
// linked code holds that instruction: they are listed with Program::load_error, as libbpf and
// the kernel fail one program and load the others.
#include "bpfvm/loader/object.hpp"

#include <elf.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/loader/btf.hpp"
#include "bpfvm/loader/core.hpp"
#include "bpfvm/loader/elf.hpp"
#include "core_detail.hpp"
#include "map_definitions.hpp"

namespace bpfvm::loader {

namespace {

// BPF relocation types, from LLVM's BPF backend (glibc's <elf.h> lacks most of them).
constexpr uint32_t kRelocNone = 0;
constexpr uint32_t kReloc64_64 = 1;     // lddw: map, global data or function address
constexpr uint32_t kRelocAbs64 = 2;     // 64-bit data (DWARF, .maps initializers)
constexpr uint32_t kRelocAbs32 = 3;     // 32-bit data (DWARF, BTF.ext)
constexpr uint32_t kRelocNoDyld32 = 4;  // 32-bit data that dynamic loaders must leave alone
constexpr uint32_t kReloc64_32 = 10;    // call to a BPF function

std::string relocation_name(uint32_t type) {
    switch (type) {
        case kRelocNone: return "R_BPF_NONE";
        case kReloc64_64: return "R_BPF_64_64";
        case kRelocAbs64: return "R_BPF_64_ABS64";
        case kRelocAbs32: return "R_BPF_64_ABS32";
        case kRelocNoDyld32: return "R_BPF_64_NODYLD32";
        case kReloc64_32: return "R_BPF_64_32";
        default: return "relocation type " + std::to_string(type);
    }
}

bool is_known_relocation(uint32_t type) {
    return type == kRelocNone || type == kReloc64_64 || type == kRelocAbs64 || type == kRelocAbs32 ||
           type == kRelocNoDyld32 || type == kReloc64_32;
}

bool is_code_section(const ElfSection& section) {
    return section.type == SHT_PROGBITS && (section.flags & SHF_EXECINSTR) && section.size > 0;
}

// One ELF code section after CO-RE: its slots, the relocation of each slot, its functions.
struct CodeSection {
    const ElfSection* elf = nullptr;
    std::vector<isa::RawInstruction> slots;
    std::map<uint32_t, ElfRelocation> relocation_at;   // by slot
    std::map<uint32_t, const ElfSymbol*> function_at;  // FUNC symbols by first slot
    std::map<uint32_t, std::string> poisoned;          // by slot: why its CO-RE relocation failed
    // By slot: why the instruction cannot be linked, found before linking (a relocation that
    // does not sit on it properly, a CO-RE record that does not fit it). Fails the programs
    // whose code holds it.
    std::map<uint32_t, Error> broken;
    std::vector<BtfLineInfo> line_infos;  // sorted by insn_off
};

// A function copied into a linked program.
struct Piece {
    const CodeSection* section;
    uint32_t start;  // slot in the section
    uint32_t count;  // slots
    std::string name;
    uint32_t offset;  // slot in the linked program
};

class ObjectLoader {
 public:
    ObjectLoader(ElfFile elf, const LoadOptions& options) : elf_(std::move(elf)), options_(options) {}

    Result<Object> load() {
        object_.path = elf_.file_name();
        if (Status s = read_btf(); !s) return s.error();
        if (Status s = read_license_and_version(); !s) return s.error();
        auto maps = detail::collect_maps(elf_, btf_.get());
        if (!maps) return maps.error();
        maps_ = std::move(*maps);
        if (Status s = detail::collect_map_initial_values(elf_, btf_.get(), maps_); !s) return s.error();
        if (Status s = check_relocation_types(); !s) return s.error();
        if (Status s = read_code_sections(); !s) return s.error();
        if (Status s = discover_programs(); !s) return s.error();
        if (Status s = check_prog_array_targets(); !s) return s.error();
        object_.maps = std::move(maps_.maps);
        object_.btf = btf_;
        return std::move(object_);
    }

 private:
    Error error(ErrorKind kind, std::string message, std::string section = {},
                std::optional<uint32_t> instruction = std::nullopt) const {
        Location where;
        where.file = elf_.file_name();
        where.section = std::move(section);
        where.instruction = instruction;
        return make_error(kind, std::move(message), std::move(where));
    }
    Error invalid(std::string message, std::string section = {},
                  std::optional<uint32_t> instruction = std::nullopt) const {
        return error(ErrorKind::InvalidInput, std::move(message), std::move(section), instruction);
    }
    // Errors from the BTF parsers and the decoder, placed in this file and section.
    Error located(Error e, const std::string& section) const {
        e.where.file = elf_.file_name();
        if (e.where.section.empty()) e.where.section = section;
        return e;
    }

    Status read_btf() {
        const ElfSection* btf_section = elf_.section(".BTF");
        if (!btf_section) return Ok{};
        auto btf = Btf::parse(btf_section->data);
        if (!btf) return located(btf.error(), ".BTF");
        // Sizes and offsets clang leaves zero, filled in as libbpf does, before anyone reads them.
        detail::fix_up_datasecs(elf_, *btf);
        btf_ = std::make_shared<const Btf>(std::move(*btf));
        if (const ElfSection* ext_section = elf_.section(".BTF.ext")) {
            auto ext = BtfExt::parse(ext_section->data, *btf_);
            if (!ext) return located(ext.error(), ".BTF.ext");
            btf_ext_ = std::move(*ext);
        }
        return Ok{};
    }

    Status read_license_and_version() {
        if (const ElfSection* license = elf_.section("license")) {
            auto bytes = license->data;
            auto end = std::find(bytes.begin(), bytes.end(), uint8_t{0});
            object_.license.assign(bytes.begin(), end);
        }
        if (const ElfSection* version = elf_.section("version")) {
            if (version->data.size() != 4) {
                return invalid(
                    "the kernel version must be 4 bytes, found " + std::to_string(version->data.size()),
                    "version");
            }
            uint32_t value = 0;
            for (int i = 3; i >= 0; --i) value = value << 8 | version->data[i];
            object_.kernel_version = value;
        }
        return Ok{};
    }

    // Every relocation in the file has a type we know, whatever section it applies to.
    Status check_relocation_types() {
        for (const ElfSection& section : elf_.sections()) {
            if (section.type != SHT_REL && section.type != SHT_RELA) continue;
            auto relocations = elf_.relocations_for(section.info);
            if (!relocations) return relocations.error();
            for (const ElfRelocation& relocation : *relocations) {
                if (!is_known_relocation(relocation.type)) {
                    return error(ErrorKind::Unsupported,
                                 "unsupported " + relocation_name(relocation.type) + " at offset " +
                                     std::to_string(relocation.offset) +
                                     " (known: R_BPF_64_64, R_BPF_64_ABS64, "
                                     "R_BPF_64_ABS32, R_BPF_64_NODYLD32, R_BPF_64_32)",
                                 section.name);
                }
            }
        }
        return Ok{};
    }

    Status read_code_sections() {
        for (const ElfSection& section : elf_.sections()) {
            if (!is_code_section(section)) continue;
            CodeSection code;
            code.elf = &section;
            auto slots = isa::slots_from_bytes(section.data);
            if (!slots) return located(slots.error(), section.name);
            code.slots = std::move(*slots);
            auto relocations = elf_.relocations_for(section.index);
            if (!relocations) return relocations.error();
            for (const ElfRelocation& relocation : *relocations) {
                if (relocation.type == kRelocNone) continue;
                // relocations_for checked that the offset lies in the section.
                auto slot = static_cast<uint32_t>(relocation.offset / 8);
                if (relocation.offset % 8 != 0) {
                    code.broken.emplace(slot, invalid(relocation_name(relocation.type) + " at offset " +
                                                          std::to_string(relocation.offset) +
                                                          " is not at an instruction boundary",
                                                      section.name, slot));
                } else if (!code.relocation_at.emplace(slot, relocation).second) {
                    code.broken.emplace(slot, invalid("two relocations apply to the instruction at slot " +
                                                          std::to_string(slot),
                                                      section.name, slot));
                }
            }
            for (const ElfSymbol& symbol : elf_.symbols()) {
                if (symbol.section != section.index || symbol.type != STT_FUNC) continue;
                if (symbol.value % 8 != 0 || symbol.size % 8 != 0 || symbol.size == 0 ||
                    symbol.value > section.size || symbol.size > section.size - symbol.value) {
                    return invalid("function '" + symbol.name + "' (offset " + std::to_string(symbol.value) +
                                       ", " + std::to_string(symbol.size) +
                                       " bytes) is not a whole number of instructions inside the section",
                                   section.name);
                }
                auto [it, inserted] =
                    code.function_at.emplace(static_cast<uint32_t>(symbol.value / 8), &symbol);
                if (!inserted && it->second->binding == STB_LOCAL && symbol.binding != STB_LOCAL) {
                    it->second = &symbol;  // prefer the global name for aliases
                }
            }
            if (Status s = apply_core(code); !s) return s;
            if (btf_ext_) {
                if (const BtfExtSection* ext = btf_ext_->section(section.name)) {
                    code.line_infos = ext->line_infos;
                    // clang writes them in order; sorting guards the lookup against other producers.
                    // (std::stable_sort trips a libstdc++ deprecation warning under clang.)
                    std::sort(code.line_infos.begin(), code.line_infos.end(),
                              [](const BtfLineInfo& a, const BtfLineInfo& b) {
                                  return std::tie(a.insn_off, a.line, a.column) <
                                         std::tie(b.insn_off, b.line, b.column);
                              });
                }
            }
            code_.push_back(std::move(code));
        }
        return Ok{};
    }

    Status apply_core(CodeSection& code) {
        if (!btf_ext_) return Ok{};
        const BtfExtSection* ext = btf_ext_->section(code.elf->name);
        if (!ext || ext->core_relos.empty()) return Ok{};
        // One index of the target's type names for the whole object: vmlinux has 100k+ types.
        if (!core_index_) core_index_.emplace(options_.core_target ? *options_.core_target : *btf_);
        std::vector<CorePoison> poisoned;
        std::vector<Error> failures;
        Status status = detail::apply_core_relocations_per_instruction(code.slots, code.elf->name,
                                                                       ext->core_relos, *btf_, *core_index_,
                                                                       elf_.file_name(), poisoned, failures);
        if (!status) return status;
        for (CorePoison& poison : poisoned) code.poisoned[poison.slot] = std::move(poison.message);
        for (Error& failure : failures) {
            const uint32_t slot = *failure.where.instruction;
            code.broken.emplace(slot, std::move(failure));
        }
        return Ok{};
    }

    // Which functions are programs, and of what type (see LoadOptions and the issue of
    // objects built for other runtimes: with no section libbpf knows, every global function
    // is a program).
    Status discover_programs() {
        bool any_known_section = false;
        for (const CodeSection& code : code_) {
            if (code.elf->name != ".text" && isa::program_type_for_section(code.elf->name))
                any_known_section = true;
        }
        for (const CodeSection& code : code_) {
            const std::string& name = code.elf->name;
            if (any_known_section) {
                if (name == ".text") continue;  // subprograms
                auto section_type = isa::program_type_for_section(name);
                if (!section_type && !options_.type_override) {
                    return error(ErrorKind::Unsupported,
                                 "section '" + name +
                                     "' holds code but is not a program section libbpf knows (SEC(\"xdp\"), "
                                     "SEC(\"kprobe/...\"), ...); give the program type with --type",
                                 name);
                }
                isa::ProgramType type = options_.type_override.value_or(
                    section_type ? section_type->type : isa::ProgramType::Bytes);
                std::string attach = section_type && !options_.type_override
                                         ? std::string(section_type->expected_attach_type)
                                         : "";
                if (Status s = add_programs_of(code, type, attach, false); !s) return s;
            } else {
                isa::ProgramType type = options_.type_override.value_or(isa::ProgramType::Bytes);
                if (Status s = add_programs_of(code, type, "", true); !s) return s;
            }
        }
        if (object_.programs.empty()) {
            return invalid(code_.empty() ? "the object has no code section"
                                         : "the object has no program: no global "
                                           "function in any code section");
        }
        return Ok{};
    }

    // Programs of one section: its global functions; static ones are subprograms. A section
    // without any function symbol (hand-written assembly) is one program.
    Status add_programs_of(const CodeSection& code, isa::ProgramType type, const std::string& attach,
                           bool globals_only) {
        if (code.function_at.empty()) {
            if (globals_only && code.elf->name == ".text") return Ok{};
            return add_program(code, 0, static_cast<uint32_t>(code.slots.size()), code.elf->name, type,
                               attach);
        }
        for (const auto& [slot, symbol] : code.function_at) {
            if (symbol->binding == STB_LOCAL) continue;
            if (Status s = add_program(code, slot, static_cast<uint32_t>(symbol->size / 8), symbol->name,
                                       type, attach);
                !s) {
                return s;
            }
        }
        return Ok{};
    }

    // Adds the program, with its load error when its code (or a subprogram it calls) is faulty.
    Status add_program(const CodeSection& code, uint32_t start, uint32_t count, const std::string& function,
                       isa::ProgramType type, const std::string& attach) {
        Program program;
        program.section = code.elf->name;
        program.function = function;
        program.type = type;
        program.expected_attach_type = attach;
        std::vector<Piece> pieces;
        std::vector<isa::RawInstruction> slots;
        if (Status s = link(code, start, count, function, pieces, slots); !s) {
            program.load_error = located(std::move(s.error()), code.elf->name);
            object_.programs.push_back(std::move(program));
            return Ok{};
        }

        auto decoded = isa::decode_program(std::span<const isa::RawInstruction>(slots));
        if (!decoded) {
            Error e = decoded.error();
            if (e.where.instruction) {
                const Piece& piece = piece_of(pieces, *e.where.instruction);
                uint32_t section_slot = piece.start + (*e.where.instruction - piece.offset);
                e.message = in_function(piece, pieces) + e.message;
                e.where.instruction = section_slot;
                e.where.section = piece.section->elf->name;
            }
            program.load_error = located(std::move(e), code.elf->name);
            object_.programs.push_back(std::move(program));
            return Ok{};
        }
        program.code = std::move(*decoded);
        for (uint32_t i = 0; i < program.code.size(); ++i) {
            uint32_t slot = program.code.slot[i];
            const Piece& piece = piece_of(pieces, slot);
            uint32_t section_slot = piece.start + (slot - piece.offset);
            program.function_of.push_back(piece.name);
            program.source.push_back(source_of(piece, section_slot));
            if (auto poison = piece.section->poisoned.find(section_slot);
                poison != piece.section->poisoned.end()) {
                program.unresolved.push_back({i, poison->second});
            }
        }
        object_.programs.push_back(std::move(program));
        return Ok{};
    }

    // How errors name where they are: "in function 'twice' (linked into program 'uses_twice'): ",
    // or "in function 'drop_runts': " in the program's own function.
    static std::string in_function(const Piece& piece, const std::vector<Piece>& pieces) {
        const std::string& program = pieces.front().name;
        return "in function '" + piece.name + "'" +
               (piece.name == program ? std::string() : " (linked into program '" + program + "')") + ": ";
    }

    static const Piece& piece_of(const std::vector<Piece>& pieces, uint32_t slot) {
        for (const Piece& piece : pieces) {
            if (slot >= piece.offset && slot - piece.offset < piece.count) return piece;
        }
        return pieces.front();
    }

    // The line-info record in effect at a slot: the last one at or before it, within the
    // function (records start at each function's first instruction).
    static std::optional<SourceLocation> source_of(const Piece& piece, uint32_t section_slot) {
        const auto& infos = piece.section->line_infos;
        auto after =
            std::upper_bound(infos.begin(), infos.end(), section_slot,
                             [](uint32_t slot, const BtfLineInfo& info) { return slot < info.insn_off / 8; });
        if (after == infos.begin()) return std::nullopt;
        const BtfLineInfo& info = *std::prev(after);
        if (info.insn_off / 8 < piece.start) return std::nullopt;
        return SourceLocation{std::string(info.file_name), info.line, info.column,
                              std::string(info.source_line)};
    }

    const CodeSection* code_section(uint32_t index) const {
        for (const CodeSection& code : code_) {
            if (code.elf->index == index) return &code;
        }
        return nullptr;
    }

    // Copies the program's function, then every function it reaches through calls and code
    // addresses, rewriting relocated instructions to bpfvm's pseudo forms. An error here is
    // about one instruction of those functions: it fails this program only.
    Status link(const CodeSection& code, uint32_t start, uint32_t count, const std::string& function,
                std::vector<Piece>& pieces, std::vector<isa::RawInstruction>& slots) {
        pieces.push_back({&code, start, count, function, 0});
        slots.assign(code.slots.begin() + start, code.slots.begin() + start + count);
        // Depth first, like libbpf: a callee's own callees are appended before the caller's
        // later callees.
        std::vector<std::pair<size_t, uint32_t>> stack{{0, 0}};  // piece, next slot within it
        while (!stack.empty()) {
            auto& [piece_index, next] = stack.back();
            if (next >= pieces[piece_index].count) {
                stack.pop_back();
                continue;
            }
            const Piece piece = pieces[piece_index];
            if (next == 0) {
                // An instruction of this function that was found broken before linking.
                const auto& broken = piece.section->broken;
                if (auto first = broken.lower_bound(piece.start);
                    first != broken.end() && first->first - piece.start < piece.count) {
                    Error e = first->second;
                    e.message = in_function(piece, pieces) + e.message;
                    return e;
                }
            }
            uint32_t local = next;
            // Decoded within its function: an ld_imm64 cannot take its second half from the next.
            const std::span<const isa::RawInstruction> function_slots(
                piece.section->slots.data() + piece.start, piece.count);
            auto insn = isa::decode_instruction(function_slots, local);
            if (!insn) {
                Error e = insn.error();
                if (e.kind == ErrorKind::TruncatedProgram) {
                    e.message = "lddw needs two slots but is the last instruction of its function";
                }
                e.message = in_function(piece, pieces) + e.message;
                e.where.file = elf_.file_name();
                e.where.section = piece.section->elf->name;
                e.where.instruction = piece.start + e.where.instruction.value_or(local);
                return e;
            }
            next += std::holds_alternative<isa::LoadImm64>(*insn) ? 2 : 1;
            auto callee = relocate(piece, local, *insn, slots, pieces);
            if (!callee) return callee.error();
            if (*callee) stack.emplace_back(**callee, 0);
        }
        return Ok{};
    }

    // Relocates one instruction in place. Returns the index of a newly appended piece that
    // must be processed next, if the instruction made one.
    Result<std::optional<size_t>> relocate(const Piece& piece, uint32_t local, const isa::Instruction& insn,
                                           std::vector<isa::RawInstruction>& slots,
                                           std::vector<Piece>& pieces) {
        const CodeSection& code = *piece.section;
        const std::string& section_name = code.elf->name;
        uint32_t section_slot = piece.start + local;
        uint32_t out = piece.offset + local;
        auto found = code.relocation_at.find(section_slot);
        const ElfRelocation* relocation = found == code.relocation_at.end() ? nullptr : &found->second;
        auto fail = [&](ErrorKind kind, std::string why) {
            return error(kind, in_function(piece, pieces) + std::move(why), section_name, section_slot);
        };
        const ElfSymbol* symbol = relocation ? &elf_.symbols()[relocation->symbol] : nullptr;
        auto symbol_name = [&]() -> std::string {
            if (!symbol->name.empty()) return "'" + symbol->name + "'";
            const ElfSection* s = elf_.section(symbol->section);
            return "section '" + (s ? s->name : std::to_string(symbol->section)) + "'";
        };

        if (const auto* load = std::get_if<isa::LoadImm64>(&insn)) {
            if (!relocation) {
                if (load->src_kind != 0) {
                    return fail(ErrorKind::InvalidInput, "lddw with pseudo source " +
                                                             std::to_string(load->src_kind) +
                                                             " has no relocation saying what it refers to");
                }
                return std::optional<size_t>{};
            }
            if (relocation->type != kReloc64_64) {
                return fail(ErrorKind::InvalidInput, relocation_name(relocation->type) +
                                                         " cannot apply to lddw (expected R_BPF_64_64)");
            }
            if (symbol->section == SHN_UNDEF) {
                return fail(ErrorKind::Unsupported,
                            "extern " + symbol_name() + " (a .kconfig or .ksyms variable) is not supported");
            }
            if (code_section(symbol->section)) {
                int64_t byte = static_cast<int64_t>(symbol->value) + load->imm_lo;
                if (byte % 8 != 0) {
                    return fail(ErrorKind::InvalidInput,
                                "code address of " + symbol_name() + " is not at an instruction boundary");
                }
                auto callee = piece_for(symbol->section, byte / 8, pieces, slots, fail);
                if (!callee) return callee.error();
                auto& [callee_index, appended] = *callee;
                slots[out].regs = isa::RawInstruction::pack_regs(load->dst, isa::kPseudoFunc);
                slots[out].imm =
                    static_cast<int32_t>(pieces[callee_index].offset) - static_cast<int32_t>(out + 1);
                slots[out + 1].imm = 0;
                return appended ? std::optional<size_t>(callee_index) : std::nullopt;
            }
            if (auto map = maps_.definition_at(symbol->section, symbol->value)) {
                slots[out].regs = isa::RawInstruction::pack_regs(load->dst, isa::kPseudoMapIndex);
                slots[out].imm = static_cast<int32_t>(*map);
                slots[out + 1].imm = 0;
                return std::optional<size_t>{};
            }
            if (auto map = maps_.data_map_of(symbol->section)) {
                int64_t offset = static_cast<int64_t>(symbol->value) + load->imm_lo;
                const MapDefinition& definition = maps_.maps[*map];
                if (offset < 0 || offset > definition.value_size) {
                    return fail(ErrorKind::InvalidInput,
                                "offset " + std::to_string(offset) + " into " + definition.name +
                                    " is outside its " + std::to_string(definition.value_size) + " bytes");
                }
                slots[out].regs = isa::RawInstruction::pack_regs(load->dst, isa::kPseudoMapIndexValue);
                slots[out].imm = static_cast<int32_t>(*map);
                slots[out + 1].imm = static_cast<int32_t>(offset);
                return std::optional<size_t>{};
            }
            const ElfSection* target = elf_.section(symbol->section);
            if (target && (target->name == "maps" || target->name == ".maps")) {
                return fail(ErrorKind::InvalidInput, "lddw refers to offset " +
                                                         std::to_string(symbol->value) + " of " +
                                                         target->name + ", where no map definition starts");
            }
            return fail(ErrorKind::Unsupported, "lddw refers to " + symbol_name() + " in section '" +
                                                    (target ? target->name : "?") +
                                                    "', which is neither a map, global data nor code");
        }

        const auto* call = std::get_if<isa::Call>(&insn);
        if (call && call->op == isa::Op::CallLocal) {
            std::pair<uint32_t, int64_t> target;  // section index, slot
            if (relocation) {
                if (relocation->type != kReloc64_32 && relocation->type != kReloc64_64) {
                    return fail(
                        ErrorKind::InvalidInput,
                        relocation_name(relocation->type) + " cannot apply to a call (expected R_BPF_64_32)");
                }
                if (!code_section(symbol->section)) {
                    return fail(
                        ErrorKind::Unsupported,
                        "call to " + symbol_name() + ", which is not a function in a code section" +
                            (symbol->section == SHN_UNDEF ? " (extern functions are not supported)" : ""));
                }
                if (symbol->value % 8 != 0) {
                    return fail(ErrorKind::InvalidInput,
                                "call target " + symbol_name() + " is not at an instruction boundary");
                }
                target = {symbol->section, static_cast<int64_t>(symbol->value / 8) + call->imm + 1};
            } else {
                target = {code.elf->index, static_cast<int64_t>(section_slot) + call->imm + 1};
            }
            auto callee = piece_for(target.first, target.second, pieces, slots, fail);
            if (!callee) return callee.error();
            auto& [callee_index, appended] = *callee;
            slots[out].imm =
                static_cast<int32_t>(pieces[callee_index].offset) - static_cast<int32_t>(out + 1);
            return appended ? std::optional<size_t>(callee_index) : std::nullopt;
        }
        if (call && call->op == isa::Op::CallKfunc) {
            return fail(
                ErrorKind::Unsupported,
                "kfunc call" + (symbol ? " to " + symbol_name() : std::string()) + " is not supported");
        }
        if (relocation) {
            return fail(ErrorKind::InvalidInput,
                        relocation_name(relocation->type) + " against " + symbol_name() +
                            " applies to an instruction that is neither lddw nor a call");
        }
        return std::optional<size_t>{};
    }

    // The piece holding the function that starts at `slot` of a code section, appending it
    // (and its code) to the program the first time. Returns {piece index, appended now}.
    template <typename Fail>
    Result<std::pair<size_t, bool>> piece_for(uint32_t section_index, int64_t slot,
                                              std::vector<Piece>& pieces,
                                              std::vector<isa::RawInstruction>& slots, Fail& fail) {
        const CodeSection* code = code_section(section_index);
        if (!code || slot < 0 || slot >= static_cast<int64_t>(code->slots.size())) {
            return fail(ErrorKind::JumpOutOfRange,
                        "call target slot " + std::to_string(slot) + " is outside section '" +
                            (code ? code->elf->name : std::to_string(section_index)) + "'");
        }
        auto start = static_cast<uint32_t>(slot);
        for (size_t i = 0; i < pieces.size(); ++i) {
            if (pieces[i].section == code && pieces[i].start == start) return std::pair{i, false};
        }
        auto function = code->function_at.find(start);
        if (function == code->function_at.end()) {
            return fail(ErrorKind::InvalidInput, "call target slot " + std::to_string(start) +
                                                     " of section '" + code->elf->name +
                                                     "' is not the start of a function");
        }
        auto count = static_cast<uint32_t>(function->second->size / 8);
        pieces.push_back({code, start, count, function->second->name, static_cast<uint32_t>(slots.size())});
        slots.insert(slots.end(), code->slots.begin() + start, code->slots.begin() + start + count);
        return std::pair{pieces.size() - 1, true};
    }

    // Prog-array initializers must name programs, not subprograms.
    Status check_prog_array_targets() const {
        for (const MapDefinition& map : maps_.maps) {
            if (map.type != isa::MapType::ProgArray) continue;
            for (const MapInitialValue& value : map.initial_values) {
                bool is_program = std::any_of(object_.programs.begin(), object_.programs.end(),
                                              [&](const Program& p) { return p.function == value.target; });
                if (!is_program) {
                    return invalid("prog array '" + map.name + "' element " + std::to_string(value.key) +
                                       " names '" + value.target + "', which is not a program",
                                   ".maps");
                }
            }
        }
        return Ok{};
    }

    ElfFile elf_;
    const LoadOptions& options_;
    Object object_;
    std::shared_ptr<const Btf> btf_;
    std::optional<BtfExt> btf_ext_;
    std::optional<CoreTargetIndex> core_index_;
    detail::MapTable maps_;
    std::vector<CodeSection> code_;
};

}  // namespace

std::string_view map_origin_name(MapOrigin origin) {
    switch (origin) {
        case MapOrigin::Btf: return "btf";
        case MapOrigin::Legacy: return "legacy";
        case MapOrigin::GlobalData: return "global_data";
    }
    return "unknown";
}

std::string Program::source_file() const {
    for (const auto& location : source) {
        if (location && !location->file.empty()) return location->file;
    }
    return {};
}

Result<Object> load_object(std::span<const uint8_t> bytes, const std::string& name,
                           const LoadOptions& options) {
    auto elf = ElfFile::parse(bytes, name);
    if (!elf) return elf.error();
    return ObjectLoader(std::move(*elf), options).load();
}

Result<Object> load_object(const std::filesystem::path& path, const LoadOptions& options) {
    auto elf = ElfFile::read(path);
    if (!elf) return elf.error();
    return ObjectLoader(std::move(*elf), options).load();
}

}  // namespace bpfvm::loader
