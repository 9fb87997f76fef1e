#include "bpfvm/isa/assembler.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// The assembler knows the bpf_conformance syntax (operand shapes, labels, numbers) but no opcode
// numbers: mnemonics are looked up in the opcode table, the row and the operands give a typed
// isa::Instruction, and isa::encode turns that into bytes.

namespace bpfvm::isa {
namespace {

// A piece of the source and where it starts, so errors can point at it.
struct Token {
    std::string_view text;
    uint32_t line = 0;
    uint32_t column = 0;  // 1-based

    Token slice(size_t pos, size_t len = std::string_view::npos) const {
        return {text.substr(pos, len), line, column + static_cast<uint32_t>(pos)};
    }
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

Token trim(const Token& token) {
    size_t begin = 0;
    size_t end = token.text.size();
    while (begin < end && is_space(token.text[begin])) ++begin;
    while (end > begin && is_space(token.text[end - 1])) --end;
    return token.slice(begin, end - begin);
}

// Whitespace-separated words of a token.
std::vector<Token> split_words(const Token& token) {
    std::vector<Token> words;
    size_t pos = 0;
    while (pos < token.text.size()) {
        while (pos < token.text.size() && is_space(token.text[pos])) ++pos;
        size_t end = pos;
        while (end < token.text.size() && !is_space(token.text[end])) ++end;
        if (end > pos) words.push_back(token.slice(pos, end - pos));
        pos = end;
    }
    return words;
}

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

Error error_at(const Token& token, std::string message) {
    Location where;
    where.line = token.line;
    where.column = token.column;
    return make_error(ErrorKind::Syntax, std::move(message), std::move(where));
}

bool is_identifier(std::string_view text) {
    auto head = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
    auto tail = [&](char c) { return head(c) || std::isdigit(static_cast<unsigned char>(c)); };
    return !text.empty() && head(text.front()) && std::all_of(text.begin() + 1, text.end(), tail);
}

bool is_register_syntax(std::string_view text) {
    return text.starts_with('%');
}

// ---- Numbers ----

int64_t sign_extend(uint64_t value, unsigned bits) {
    if (bits == 64) return static_cast<int64_t>(value);
    const uint64_t sign = uint64_t{1} << (bits - 1);
    return static_cast<int64_t>((value ^ sign) - sign);
}

// Reads `digits` (decimal, or hex after 0x) with the sign already taken off, for a field of
// `bits` bits, and returns the value in two's complement. Decimal values must fit the signed range
// (a 64-bit field also takes unsigned decimals); hex values may use every bit of the field, so
// 0xffffffff is -1 in a 32-bit field, as the reference assembler reads it.
Result<uint64_t> parse_magnitude(const Token& where, bool negative, std::string_view digits, unsigned bits,
                                 const std::string& what) {
    const bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    if (hex) digits.remove_prefix(2);
    uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, hex ? 16 : 10);
    const bool malformed = digits.empty() || end != digits.data() + digits.size() ||
                           (ec != std::errc{} && ec != std::errc::result_out_of_range);
    if (malformed) return error_at(where, "invalid " + what + " " + quoted(where.text));

    const uint64_t field_max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
    const uint64_t signed_max = field_max >> 1;
    const uint64_t limit = negative ? signed_max + 1 : (hex || bits == 64) ? field_max : signed_max;
    if (ec == std::errc::result_out_of_range || magnitude > limit) {
        return error_at(where, what + " " + quoted(where.text) + " is out of range for a " +
                                   std::to_string(bits) + "-bit field");
    }
    return (negative ? 0 - magnitude : magnitude) & field_max;
}

// A whole literal: optional sign, then the number.
Result<uint64_t> parse_number(const Token& token, unsigned bits, const std::string& what) {
    std::string_view text = token.text;
    const bool negative = text.starts_with('-');
    if (negative || text.starts_with('+')) text.remove_prefix(1);
    return parse_magnitude(token, negative, text, bits, what);
}

Result<int32_t> parse_imm32(const Token& token) {
    auto value = parse_number(token, 32, "immediate");
    if (!value) return value.error();
    return static_cast<int32_t>(sign_extend(*value, 32));
}

// ---- Registers and memory operands ----

Result<uint8_t> parse_register(const Token& token) {
    std::string_view text = token.text;
    if (text.size() > 2 && text.starts_with("%r")) {
        unsigned number = 0;
        auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), number);
        if (ec == std::errc{} && end == text.data() + text.size() && number < kRegisterCount) {
            return static_cast<uint8_t>(number);
        }
    }
    return error_at(token, "invalid register " + quoted(text) + " (registers are %r0 to %r10)");
}

// The second operand of ALU, jump and store forms. The row was chosen by this operand's shape
// where the mnemonic has both, so a mismatch means the mnemonic has only the other (stw, stxw).
Result<Operand> parse_value(const Token& token, Source source) {
    if ((source == Source::Reg) != is_register_syntax(token.text)) {
        return error_at(token,
                        std::string(source == Source::Reg ? "expected a register" : "expected an immediate") +
                            ", got " + quoted(token.text));
    }
    if (source == Source::Reg) {
        auto reg = parse_register(token);
        if (!reg) return reg.error();
        return Operand::make_reg(*reg);
    }
    auto imm = parse_imm32(token);
    if (!imm) return imm.error();
    return Operand::make_imm(*imm);
}

struct MemoryOperand {
    uint8_t base = 0;
    int16_t offset = 0;
};

// `[%r1]`, `[%r1+4]`, `[%r10-8]`, `[%r1+0x10]`.
Result<MemoryOperand> parse_memory(const Token& token) {
    const std::string_view text = token.text;
    if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
        return error_at(token, "expected a memory operand such as [%r1+4], got " + quoted(text));
    }
    const Token inside = token.slice(1, text.size() - 2);
    const size_t sign = inside.text.find_first_of("+-");
    auto base = parse_register(trim(inside.slice(0, sign)));
    if (!base) return base.error();
    MemoryOperand memory{*base, 0};
    if (sign != std::string_view::npos) {
        const Token offset = inside.slice(sign);
        auto value = parse_magnitude(offset, offset.text[0] == '-', trim(offset.slice(1)).text, 16, "offset");
        if (!value) return value.error();
        memory.offset = static_cast<int16_t>(sign_extend(*value, 16));
    }
    return memory;
}

// ---- Jump targets ----

// A relative slot count (`+3`, `-2`) or a label that is resolved once every line is read.
struct Target {
    int32_t offset = 0;
    std::optional<Token> label;
};

Result<Target> parse_target(const Token& token, unsigned bits) {
    if (token.text.starts_with('+') || token.text.starts_with('-')) {
        auto value = parse_number(token, bits, "jump offset");
        if (!value) return value.error();
        return Target{static_cast<int32_t>(sign_extend(*value, bits)), std::nullopt};
    }
    if (is_identifier(token.text)) return Target{0, token};
    return error_at(token, "invalid jump target " + quoted(token.text) + " (expected a label, +N or -N)");
}

// ---- Mnemonics ----

// Spellings the reference assembler accepts besides the table's own mnemonics.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"bswap16", "swap16"},
    {"bswap32", "swap32"},
    {"bswap64", "swap64"},
    {"call helper", "call"},
};

// The longest mnemonic has three words ("lock fetch add32").
constexpr size_t kMaxMnemonicWords = 3;

std::string_view canonical_mnemonic(std::string_view name) {
    for (const auto& [alias, mnemonic] : kAliases) {
        if (alias == name) return mnemonic;
    }
    return name;
}

// The table rows written with a mnemonic. Rows sharing one differ only in the source of the
// second operand (add with an immediate or a register).
using FormList = std::vector<const OpcodeForm*>;

const FormList* forms_named(std::string_view name) {
    static const std::unordered_map<std::string_view, FormList> by_name = [] {
        std::unordered_map<std::string_view, FormList> map;
        for (const auto& form : opcode_forms()) map[form.mnemonic].push_back(&form);
        return map;
    }();
    auto it = by_name.find(canonical_mnemonic(name));
    return it == by_name.end() ? nullptr : &it->second;
}

const OpcodeForm& choose_form(std::string_view mnemonic, const std::vector<Token>& operands) {
    const FormList* forms = forms_named(mnemonic);
    // `call %r2` is the reference syntax for callx.
    if (forms->front()->op == Op::CallHelper && !operands.empty() && is_register_syntax(operands[0].text)) {
        forms = forms_named("callx");
    }
    if (forms->size() > 1 && operands.size() >= 2) {
        const Source wanted = is_register_syntax(operands[1].text) ? Source::Reg : Source::Imm;
        for (const OpcodeForm* form : *forms) {
            if (form->source == wanted) return *form;
        }
    }
    return *forms->front();
}

struct OperandCount {
    size_t min;
    size_t max;
};

OperandCount operand_count(const OpcodeForm& form) {
    switch (form.kind) {
        case Kind::Alu: return form.op == Op::Neg ? OperandCount{1, 1} : OperandCount{2, 2};
        case Kind::Endian: return {1, 1};
        case Kind::Jump: return form.op == Op::Ja ? OperandCount{1, 1} : OperandCount{3, 3};
        // `call runtime N, M`: our extension to name a kfunc's BTF module (the offset field).
        case Kind::Call: return form.op == Op::CallKfunc ? OperandCount{1, 2} : OperandCount{1, 1};
        case Kind::Exit: return {0, 0};
        case Kind::PacketLoad: return form.op == Op::PacketInd ? OperandCount{2, 2} : OperandCount{1, 1};
        case Kind::LoadImm64:
        case Kind::Load:
        case Kind::Store:
        case Kind::Atomic: return {2, 2};
    }
    return {0, 0};
}

// ---- Statements ----

struct Statement {
    Token mnemonic_token;  // the first word, for errors about the mnemonic
    std::string mnemonic;  // its words joined by single spaces
    std::vector<Token> operands;
};

// An operand is one word, except a memory operand, which may hold spaces (`[%r1 + 4]`).
Result<Token> single_operand(const Token& piece, const Token& after_comma) {
    const Token operand = trim(piece);
    if (operand.text.empty()) return error_at(after_comma, "missing operand");
    auto words = split_words(operand);
    if (words.size() > 1 && !operand.text.starts_with('[')) {
        return error_at(words[1], "expected ',' between operands");
    }
    return operand;
}

Error unknown_mnemonic(const std::vector<Token>& words, const Token& line) {
    if (words.empty()) return error_at(line, "expected a mnemonic before ','");
    const Token& first = words.front();
    if (first.text == "lock") {
        const size_t operation = words.size() > 1 && words[1].text == "fetch" ? 2 : 1;
        if (operation >= words.size()) {
            return error_at(first,
                            "invalid number of operands for lock: expected 'lock [fetch] <operation> "
                            "[<reg>+<offset>], <reg>'");
        }
        return error_at(words[operation],
                        "invalid lock operation " + quoted(words[operation].text) +
                            " (expected add, or, and, xor, xchg or cmpxchg, with 32 for 32 bits)");
    }
    // `-- name` is a section marker of the conformance data files; `.text` an assembler directive.
    if (first.text.starts_with("--") || first.text.starts_with('.')) {
        return error_at(first, "unknown directive " + quoted(trim(line).text));
    }
    return error_at(first, "unknown mnemonic " + quoted(first.text));
}

// Splits `mnemonic op1, op2, ...`. Mnemonics may be several words (`lock fetch add`, `call local`),
// so the longest run of leading words that names a form wins.
Result<Statement> split_statement(const Token& line) {
    const size_t first_comma = line.text.find(',');
    const Token head = line.slice(0, first_comma);
    const std::vector<Token> words = split_words(head);

    for (size_t count = std::min(words.size(), kMaxMnemonicWords); count > 0; --count) {
        std::string name(words[0].text);
        for (size_t i = 1; i < count; ++i) name += " " + std::string(words[i].text);
        if (forms_named(name) == nullptr) continue;

        Statement statement{words[0], std::string(canonical_mnemonic(name)), {}};
        if (count < words.size()) {
            auto first = single_operand(head.slice(words[count].column - head.column), words[count]);
            if (!first) return first.error();
            statement.operands.push_back(*first);
        } else if (first_comma != std::string_view::npos) {
            return error_at(line.slice(first_comma, 1), "expected an operand before ','");
        }
        for (size_t comma = first_comma; comma != std::string_view::npos;) {
            const size_t next = line.text.find(',', comma + 1);
            const Token piece =
                line.slice(comma + 1, next == std::string_view::npos ? next : next - comma - 1);
            auto operand = single_operand(piece, line.slice(comma, 1));
            if (!operand) return operand.error();
            statement.operands.push_back(*operand);
            comma = next;
        }
        return statement;
    }
    return unknown_mnemonic(words, line);
}

// ---- Building typed instructions ----

// An instruction as read, before its label (if any) is resolved.
struct PendingInstruction {
    Instruction insn;
    uint32_t slot = 0;
    std::optional<Token> label;
    unsigned target_bits = 0;  // width of the field the label offset goes into
};

// Fills `pending` from the table row and the operands (whose count is already checked).
Status build_instruction(const OpcodeForm& form, const std::vector<Token>& ops, PendingInstruction& pending) {
    auto take_target = [&](const Token& token, unsigned bits) -> Result<int32_t> {
        auto target = parse_target(token, bits);
        if (!target) return target.error();
        pending.label = target->label;
        pending.target_bits = bits;
        return target->offset;
    };

    switch (form.kind) {
        case Kind::Alu: {
            auto dst = parse_register(ops[0]);
            if (!dst) return dst.error();
            Alu alu{form.op, form.width == 64, *dst, Operand{},
                    static_cast<uint8_t>(form.op == Op::MovSx ? form.selector_value : 0)};
            if (form.op != Op::Neg) {
                auto src = parse_value(ops[1], form.source);
                if (!src) return src.error();
                alu.src = *src;
            }
            pending.insn = alu;
            return Ok{};
        }
        case Kind::Endian: {
            auto dst = parse_register(ops[0]);
            if (!dst) return dst.error();
            pending.insn = Endian{form.op, *dst, static_cast<uint8_t>(form.selector_value)};
            return Ok{};
        }
        case Kind::Jump: {
            const bool is32 = form.width == 32;
            if (form.op == Op::Ja) {
                // ja32 (gotol) keeps its offset in the 32-bit imm field.
                auto offset = take_target(ops[0], is32 ? 32 : 16);
                if (!offset) return offset.error();
                pending.insn = Jump{Op::Ja, is32, 0, Operand{}, *offset};
                return Ok{};
            }
            auto dst = parse_register(ops[0]);
            if (!dst) return dst.error();
            auto src = parse_value(ops[1], form.source);
            if (!src) return src.error();
            auto offset = take_target(ops[2], 16);
            if (!offset) return offset.error();
            pending.insn = Jump{form.op, is32, *dst, *src, *offset};
            return Ok{};
        }
        case Kind::Call: {
            Call call{form.op, 0};
            if (form.op == Op::CallReg) {
                auto reg = parse_register(ops[0]);
                if (!reg) return reg.error();
                call.reg = *reg;
            } else if (form.op == Op::CallLocal) {
                auto offset = take_target(ops[0], 32);
                if (!offset) return offset.error();
                call.imm = *offset;
            } else {
                auto imm = parse_imm32(ops[0]);
                if (!imm) return imm.error();
                call.imm = *imm;
                if (ops.size() > 1) {
                    auto module = parse_number(ops[1], 16, "BTF module index");
                    if (!module) return module.error();
                    call.offset = static_cast<int16_t>(sign_extend(*module, 16));
                }
            }
            pending.insn = call;
            return Ok{};
        }
        case Kind::Exit: pending.insn = Exit{}; return Ok{};
        case Kind::LoadImm64: {
            auto dst = parse_register(ops[0]);
            if (!dst) return dst.error();
            auto value = parse_number(ops[1], 64, "immediate");
            if (!value) return value.error();
            pending.insn = LoadImm64{*dst, static_cast<uint8_t>(form.selector_value),
                                     static_cast<int32_t>(static_cast<uint32_t>(*value)),
                                     static_cast<int32_t>(static_cast<uint32_t>(*value >> 32))};
            return Ok{};
        }
        case Kind::Load: {
            auto dst = parse_register(ops[0]);
            if (!dst) return dst.error();
            auto memory = parse_memory(ops[1]);
            if (!memory) return memory.error();
            pending.insn = Load{*dst, memory->base, memory->offset, form.width, form.op == Op::LoadSx};
            return Ok{};
        }
        case Kind::Store: {
            auto memory = parse_memory(ops[0]);
            if (!memory) return memory.error();
            auto value = parse_value(ops[1], form.source);
            if (!value) return value.error();
            pending.insn = Store{memory->base, memory->offset, form.width, *value};
            return Ok{};
        }
        case Kind::Atomic: {
            // Load-acquire reads memory into a register (`ldxacqw %r0, [%r1]`); every other atomic
            // form names the memory first (`lock add [%r1], %r2`, `stxrelw [%r1], %r2`).
            const bool memory_first = form.op != Op::LoadAcquire;
            auto memory = parse_memory(ops[memory_first ? 0 : 1]);
            if (!memory) return memory.error();
            auto reg = parse_register(ops[memory_first ? 1 : 0]);
            if (!reg) return reg.error();
            const bool fetch = (form.selector_value & kAtomicFetch) != 0;
            pending.insn = memory_first
                               ? Atomic{form.op, fetch, form.width, memory->base, *reg, memory->offset}
                               : Atomic{form.op, fetch, form.width, *reg, memory->base, memory->offset};
            return Ok{};
        }
        case Kind::PacketLoad: {
            const bool indirect = form.op == Op::PacketInd;
            uint8_t src = 0;
            if (indirect) {
                auto reg = parse_register(ops[0]);
                if (!reg) return reg.error();
                src = *reg;
            }
            auto imm = parse_imm32(ops[indirect ? 1 : 0]);
            if (!imm) return imm.error();
            pending.insn = PacketLoad{indirect, form.width, src, *imm};
            return Ok{};
        }
    }
    return Ok{};
}

Status check_operand_count(const Statement& statement, const OpcodeForm& form) {
    const auto [min, max] = operand_count(form);
    const size_t got = statement.operands.size();
    if (got >= min && got <= max) return Ok{};
    const std::string expected =
        min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max);
    return error_at(statement.mnemonic_token, "invalid number of operands for " + statement.mnemonic +
                                                  ": expected " + expected + ", got " + std::to_string(got));
}

struct LabelDefinition {
    uint32_t slot;
    uint32_t line;
};

Status resolve_label(PendingInstruction& pending,
                     const std::unordered_map<std::string_view, LabelDefinition>& labels,
                     std::optional<uint32_t> first_exit_slot) {
    const Token& label = *pending.label;
    uint32_t target = 0;
    if (auto it = labels.find(label.text); it != labels.end()) {
        target = it->second.slot;
    } else if (label.text == "exit" && first_exit_slot) {
        // The reference assembler lets `exit` name the first exit instruction.
        target = *first_exit_slot;
    } else {
        return error_at(label, "unknown label " + quoted(label.text));
    }
    const int64_t offset = static_cast<int64_t>(target) - pending.slot - 1;
    const int64_t limit = int64_t{1} << (pending.target_bits - 1);
    if (offset < -limit || offset >= limit) {
        return error_at(label, "label " + quoted(label.text) + " is " + std::to_string(offset) +
                                   " slots away, too far for a " + std::to_string(pending.target_bits) +
                                   "-bit jump offset");
    }
    if (auto* jump = std::get_if<Jump>(&pending.insn)) jump->offset = static_cast<int32_t>(offset);
    if (auto* call = std::get_if<Call>(&pending.insn)) call->imm = static_cast<int32_t>(offset);
    return Ok{};
}

}  // namespace

Result<std::vector<RawInstruction>> assemble(std::string_view text) {
    std::vector<PendingInstruction> program;
    std::unordered_map<std::string_view, LabelDefinition> labels;
    std::optional<uint32_t> first_exit_slot;
    uint32_t slot = 0;

    uint32_t line_number = 0;
    for (size_t start = 0; start <= text.size();) {
        const size_t end = std::min(text.find('\n', start), text.size());
        Token line{text.substr(start, end - start), ++line_number, 1};
        start = end + 1;

        line = trim(line.slice(0, line.text.find('#')));
        if (line.text.empty()) continue;

        // `name:` defines a label at the next instruction (which may follow on the same line).
        const Token first_word = split_words(line).front();
        if (first_word.text.ends_with(':')) {
            const Token name = first_word.slice(0, first_word.text.size() - 1);
            if (!is_identifier(name.text)) return error_at(name, "invalid label name " + quoted(name.text));
            auto [it, inserted] = labels.try_emplace(name.text, LabelDefinition{slot, line.line});
            if (!inserted) {
                return error_at(name, "duplicate label " + quoted(name.text) + " (first defined on line " +
                                          std::to_string(it->second.line) + ")");
            }
            line = trim(line.slice(first_word.text.size()));
            if (line.text.empty()) continue;
        }

        auto statement = split_statement(line);
        if (!statement) return statement.error();
        const OpcodeForm& form = choose_form(statement->mnemonic, statement->operands);
        if (auto count = check_operand_count(*statement, form); !count) return count.error();

        PendingInstruction pending{Exit{}, slot, std::nullopt, 0};
        if (auto built = build_instruction(form, statement->operands, pending); !built) return built.error();
        if (form.kind == Kind::Exit && !first_exit_slot) first_exit_slot = slot;
        slot += form.kind == Kind::LoadImm64 ? 2 : 1;
        program.push_back(std::move(pending));
    }

    std::vector<RawInstruction> slots;
    slots.reserve(slot);
    for (auto& pending : program) {
        if (pending.label) {
            if (auto resolved = resolve_label(pending, labels, first_exit_slot); !resolved)
                return resolved.error();
        }
        const Encoded encoded = encode(pending.insn);
        slots.insert(slots.end(), encoded.slots.begin(), encoded.slots.begin() + encoded.count);
    }
    return slots;
}

}  // namespace bpfvm::isa
