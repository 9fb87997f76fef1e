#include "jit/random_program.hpp"

#include <cstring>
#include <iterator>
#include <string_view>

namespace bpfvm::jit::test {
namespace {

constexpr int64_t kEdges[] = {INT64_MIN, -1,        0,         1,          63,        64, 31,
                              32,        INT32_MIN, INT32_MAX, 0xffffffff, INT64_MAX, -2, 7};
constexpr std::string_view kAlu[] = {"add", "sub", "mul", "div", "sdiv", "mod", "smod",
                                     "or",  "and", "lsh", "rsh", "arsh", "xor", "mov"};
constexpr std::string_view kJmp[] = {"jeq",  "jne",  "jgt",  "jge",  "jlt", "jle",
                                     "jset", "jsgt", "jsge", "jslt", "jsle"};
constexpr std::string_view kUnary[] = {"neg",       "neg32",    "be16",      "be32",     "be64",   "le16",
                                       "le32",      "le64",     "swap16",    "swap32",   "swap64", "movsx832",
                                       "movsx1632", "movsx864", "movsx1664", "movsx3264"};
constexpr std::string_view kAtomic[] = {"add", "or", "and", "xor", "xchg", "cmpxchg"};

// The stack scratch slots are [r10 - kScratchTop, r10 - 8); [r10-8] holds the memory pointer
// (r1 on entry) and [r10-64] r0 while the registers are written out.
constexpr int kScratchTop = 8 + 8 * static_cast<int>(RandomProgram::kScratchSlots);

bool is_v4(std::string_view op) {
    return op.starts_with("sdiv") || op.starts_with("smod") || op.starts_with("movsx") ||
           op.starts_with("swap");
}
bool is_division(std::string_view op) {
    return op.starts_with("div") || op.starts_with("sdiv") || op.starts_with("mod") || op.starts_with("smod");
}
bool is_shift(std::string_view op) {
    return op.starts_with("lsh") || op.starts_with("rsh") || op.starts_with("arsh");
}

class Generator {
 public:
    Generator(std::mt19937_64& rng, const RandomProgramOptions& options) : rng_(rng), options_(options) {}

    RandomProgram run() {
        RandomProgram out;
        out.memory.assign(RandomProgram::kMemorySize, 0);
        prologue(out.memory);
        for (int i = 0; i < options_.length; ++i) body_instruction();
        epilogue();
        out.text = std::move(text_);
        return out;
    }

 private:
    size_t pick(size_t n) { return static_cast<size_t>(rng_() % n); }
    std::string reg() { return "%r" + std::to_string(pick(10)); }
    int64_t value() { return pick(4) == 0 ? static_cast<int64_t>(rng_()) : kEdges[pick(std::size(kEdges))]; }
    int32_t imm() {
        if (pick(3) == 0) return static_cast<int32_t>(rng_());
        return static_cast<int32_t>(kEdges[pick(std::size(kEdges))]);
    }
    void line(const std::string& s) { text_ += s + "\n"; }
    // A random offset of a `size`-byte access inside the scratch slots, aligned to its size (the
    // Linux verifier requires aligned stack accesses).
    std::string scratch(int size) {
        const int slots = static_cast<int>(pick(static_cast<size_t>((kScratchTop - 8) / size)));
        return "[%r10-" + std::to_string(kScratchTop - size * slots) + "]";
    }
    static std::string width_suffix(int size) {
        switch (size) {
            case 1: return "b";
            case 2: return "h";
            case 4: return "w";
            default: return "dw";
        }
    }

    void prologue(std::vector<uint8_t>& memory) {
        line("stxdw [%r10-8], %r1");
        // Registers loaded from memory first (r1 last: it is the pointer), then the constants.
        bool from_memory[10] = {};
        int64_t values[10];
        for (int r = 0; r <= 9; ++r) {
            values[r] = value();
            from_memory[r] = options_.inputs_from_memory && pick(3) == 0;
        }
        for (int r : {0, 2, 3, 4, 5, 6, 7, 8, 9, 1}) {
            if (!from_memory[r]) continue;
            const size_t offset = RandomProgram::kInputsOffset + 8 * static_cast<size_t>(r);
            std::memcpy(memory.data() + offset, &values[r], 8);
            line("ldxdw %r" + std::to_string(r) + ", [%r1+" + std::to_string(offset) + "]");
        }
        for (int r = 0; r <= 9; ++r) {
            if (!from_memory[r]) line("lddw %r" + std::to_string(r) + ", " + std::to_string(values[r]));
        }
        if (options_.memory || options_.atomics) {
            for (int slot = 16; slot <= kScratchTop; slot += 8)
                line("stxdw [%r10-" + std::to_string(slot) + "], " + reg());
        }
    }

    void body_instruction() {
        // Weights: ALU 12, unary 4, branches 4, and with memory: loads 2, sign-extending loads 1,
        // stores 2, atomics 2.
        const size_t memory_weight = options_.memory ? 4 : 0;
        const size_t sx_weight = options_.memory && options_.sign_extending_loads ? 1 : 0;
        const size_t atomic_weight = options_.atomics ? 2 : 0;
        size_t kind = pick(20 + memory_weight + sx_weight + atomic_weight);
        if (kind < 12) return alu();
        if (kind < 16) return unary();
        if (kind < 20) return branch();
        kind -= 20;
        if (kind < memory_weight) return kind < 2 ? load() : store();
        kind -= memory_weight;
        if (kind < sx_weight) return sign_extending_load();
        return atomic();
    }

    void alu() {
        std::string op;
        do {
            op = kAlu[pick(std::size(kAlu))];
        } while (!options_.v4_alu && is_v4(op));
        const bool is32 = pick(2) != 0;
        if (is32) op += "32";
        if (pick(2)) return line(op + " " + reg() + ", " + reg());
        int32_t k = imm();
        if (options_.kernel_verifiable) {
            if (is_division(op) && k == 0) k = -1;
            if (is_shift(op)) k &= is32 ? 31 : 63;
        }
        line(op + " " + reg() + ", " + std::to_string(k));
    }

    void unary() {
        std::string_view op;
        do {
            op = kUnary[pick(std::size(kUnary))];
        } while (!options_.v4_alu && is_v4(op));
        if (op.starts_with("movsx")) return line(std::string(op) + " " + reg() + ", " + reg());
        line(std::string(op) + " " + reg());
    }

    void branch() {
        std::string op(kJmp[pick(std::size(kJmp))]);
        if (pick(2)) op += "32";
        // A forward branch over the next one to three instructions (branches among them nest),
        // to a label placed below.
        const std::string label = "L" + std::to_string(labels_++);
        line(op + " " + reg() + ", " + (pick(2) ? reg() : std::to_string(imm())) + ", " + label);
        const size_t skipped = 1 + pick(3);
        ++depth_;
        for (size_t i = 0; i < skipped; ++i) {
            if (depth_ < 3) {
                body_instruction();
            } else {
                alu();  // at most three branches deep
            }
        }
        --depth_;
        line(label + ":");
    }

    void load() {
        const int size = 1 << pick(4);
        line("ldx" + width_suffix(size) + " " + reg() + ", " + scratch(size));
    }

    void sign_extending_load() {
        const int size = 1 << pick(3);
        line("ldxs" + width_suffix(size) + " " + reg() + ", " + scratch(size));
    }

    void store() {
        const int size = 1 << pick(4);
        if (pick(2)) return line("stx" + width_suffix(size) + " " + scratch(size) + ", " + reg());
        line("st" + width_suffix(size) + " " + scratch(size) + ", " + std::to_string(imm()));
    }

    void atomic() {
        const std::string_view op = kAtomic[pick(std::size(kAtomic))];
        const bool is32 = pick(2) != 0;
        const bool fetch =
            op.starts_with("add") || op.starts_with("or") || op.starts_with("and") || op.starts_with("xor")
                ? pick(2) != 0
                : false;  // xchg and cmpxchg always fetch
        line(std::string("lock ") + (fetch ? "fetch " : "") + std::string(op) + (is32 ? "32" : "") + " " +
             scratch(is32 ? 4 : 8) + ", " + reg());
    }

    void epilogue() {
        line("stxdw [%r10-64], %r0");
        line("ldxdw %r0, [%r10-8]");
        for (int r = 1; r <= 9; ++r) {
            line("stxdw [%r0+" + std::to_string(RandomProgram::kRegistersOffset + 8 * r) + "], %r" +
                 std::to_string(r));
        }
        line("ldxdw %r1, [%r10-64]");
        line("stxdw [%r0+" + std::to_string(RandomProgram::kRegistersOffset) + "], %r1");
        if (options_.memory || options_.atomics) {
            for (size_t slot = 0; slot < RandomProgram::kScratchSlots; ++slot) {
                line("ldxdw %r1, [%r10-" + std::to_string(kScratchTop - 8 * static_cast<int>(slot)) + "]");
                line("stxdw [%r0+" + std::to_string(RandomProgram::kScratchOffset + 8 * slot) + "], %r1");
            }
        }
        line("ldxdw %r0, [%r10-64]");
        line("exit");
    }

    std::mt19937_64& rng_;
    const RandomProgramOptions& options_;
    std::string text_;
    int labels_ = 0;
    int depth_ = 0;  // branches around the instruction being generated
};

}  // namespace

RandomProgram generate_random_program(std::mt19937_64& rng, const RandomProgramOptions& options) {
    return Generator(rng, options).run();
}

}  // namespace bpfvm::jit::test
