// Differential test of verdicts: bpfvm's verifier against the running kernel's verifier on
// GENERATED programs. The corpus compares hand-written programs through its expectation lines;
// this test builds a few thousand small programs nobody wrote, from templates that each stress
// one family of verifier rules with random parameters (packet bounds checks, stack accesses,
// spills and fills, map lookups and value accesses, scalar bounds from masks, shifts and
// comparisons, pointer arithmetic, return values, division, loops, uninitialized registers,
// context fields, legacy packet loads, helper memory arguments), and loads each one into both.
//
// Privileges. bpfvm's default rules are the kernel's for an unprivileged loader, but the kernel
// here can only be asked as root: kernel.unprivileged_bpf_disabled is 2 on these machines (1 or
// 2 make unprivileged BPF_PROG_LOAD impossible whatever capabilities a child drops), so the
// kernel applies its PRIVILEGED rules (CAP_BPF + CAP_PERFMON: pointer leaks, uninitialized
// stack reads, bounded loops allowed). The comparison is therefore made against bpfvm's
// privileged mode (VerifyOptions::privileged). bpfvm's default (unprivileged) mode is checked
// one way only: its rules are stricter than the privileged ones, so a program it accepts while
// the kernel (as root) and bpfvm --privileged reject it is a soundness alarm too ("unpriv!").
// Each reported program shows all three verdicts, so an alarm says whether bpfvm's default
// rules accept the program as well.
//
// The kernel's verdicts are those of the kernel the machine runs (6.18 when this was written):
// its verifier changes between releases (array lookups with a constant key known non-null,
// BPF_ST into the context, ...), so another kernel may show other differences. The summary
// names the release.
//
// Programs are raw struct bpf_insn. Maps are created in the kernel (bpf_map_create) and named
// in the program by BPF_PSEUDO_MAP_IDX (an index into the fd_array given to BPF_PROG_LOAD), so
// the kernel and bpfvm (isa::decode_program of the same bytes, kPseudoMapIndex into the list of
// MapInfo) read byte-identical programs.
//
// Verdicts compared, per template:
//   kernel accepts, bpfvm rejects: a precision gap;
//   kernel rejects, bpfvm accepts: a SOUNDNESS ALARM.
// Both fail the test unless kernel_verdict_expectations.txt (beside this file) lists the
// difference, one line per accepted difference:
//   TEMPLATE  kernel=accept|reject  bpfvm=accept|reject  "SUBSTRING"  reason...
// (or bpfvm-unprivileged=accept: a program only bpfvm's default rules accept). SUBSTRING must
// occur in the rejecting side's message: the kernel's error line ("invalid shift 65") where the
// kernel rejects, bpfvm's "rule-id: message" where bpfvm does. A line that no generated program
// matches fails too (a stale line), when the run has at least the default number of programs
// from the default seed. Unlisted differences are reported grouped by that message (numbers
// made generic), each group with its shortest programs as assembly, the kernel's log and
// bpfvm's diagnostic.
//
// Scaling: BPFVM_KERNEL_DIFF_PROGRAMS=N (default 4000), BPFVM_KERNEL_DIFF_SEED=S (default fixed);
// program i is generated from (seed, i) alone, so a smaller N runs a prefix of a larger one.
// BPFVM_KERNEL_DIFF_DUMP=DIR writes every difference (program, kernel log, bpfvm diagnostic)
// to DIR/TEMPLATE-INDEX-MODE.txt.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/isa/disassembler.hpp"
#include "bpfvm/isa/program_types.hpp"
#include "bpfvm/verifier/verifier.hpp"
#include "corpus/corpus_support.hpp"

namespace bpfvm::corpus_test {
namespace {

using isa::MapType;
using isa::ProgramType;

constexpr uint64_t kDefaultSeed = 0x6b646966660a2024ULL;
constexpr size_t kDefaultPrograms = 4000;

// ---------------------------------------------------------------------------------------------
// Random numbers: splitmix64, so the sequence is the same with every standard library.
// ---------------------------------------------------------------------------------------------

class Rng {
 public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
    int64_t range(int64_t lo, int64_t hi) {
        return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
    }
    bool chance(unsigned percent) { return below(100) < percent; }
    template <class T>
    T pick(std::initializer_list<T> items) {
        return *(items.begin() + below(items.size()));
    }

 private:
    uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Building programs
// ---------------------------------------------------------------------------------------------

constexpr uint8_t kB = BPF_B, kH = BPF_H, kW = BPF_W, kDW = BPF_DW;

uint8_t size_code(int bytes) {
    switch (bytes) {
        case 1: return kB;
        case 2: return kH;
        case 4: return kW;
        default: return kDW;
    }
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

int16_t off16(int64_t v) {
    return static_cast<int16_t>(std::clamp<int64_t>(v, INT16_MIN, INT16_MAX));
}

// A program under construction, with forward labels.
class Asm {
 public:
    void emit(bpf_insn i) { code_.push_back(i); }
    void alu(uint8_t op, uint8_t dst, int32_t imm, bool is32 = false, int16_t off = 0) {
        emit(insn(static_cast<uint8_t>((is32 ? BPF_ALU : BPF_ALU64) | op | BPF_K), dst, 0, off, imm));
    }
    void alur(uint8_t op, uint8_t dst, uint8_t src, bool is32 = false, int16_t off = 0) {
        emit(insn(static_cast<uint8_t>((is32 ? BPF_ALU : BPF_ALU64) | op | BPF_X), dst, src, off, 0));
    }
    void mov(uint8_t dst, int32_t imm) { alu(BPF_MOV, dst, imm); }
    void movr(uint8_t dst, uint8_t src) { alur(BPF_MOV, dst, src); }
    void add(uint8_t dst, int32_t imm) { alu(BPF_ADD, dst, imm); }
    void addr(uint8_t dst, uint8_t src) { alur(BPF_ADD, dst, src); }
    void lddw(uint8_t dst, uint64_t value) {
        emit(insn(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, static_cast<int32_t>(value)));
        emit(insn(0, 0, 0, 0, static_cast<int32_t>(value >> 32)));
    }
    void ld_map(uint8_t dst, int index) {
        emit(insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_IDX, 0, index));
        emit(insn(0, 0, 0, 0, 0));
    }
    void ldx(int size, uint8_t dst, uint8_t src, int64_t off) {
        emit(insn(static_cast<uint8_t>(BPF_LDX | BPF_MEM | size_code(size)), dst, src, off16(off), 0));
    }
    void stx(int size, uint8_t dst, uint8_t src, int64_t off) {
        emit(insn(static_cast<uint8_t>(BPF_STX | BPF_MEM | size_code(size)), dst, src, off16(off), 0));
    }
    void st(int size, uint8_t dst, int64_t off, int32_t imm) {
        emit(insn(static_cast<uint8_t>(BPF_ST | BPF_MEM | size_code(size)), dst, 0, off16(off), imm));
    }
    void atomic_add(int size, uint8_t dst, uint8_t src, int64_t off) {
        emit(insn(static_cast<uint8_t>(BPF_STX | BPF_ATOMIC | size_code(size)), dst, src, off16(off),
                  BPF_ADD));
    }
    void call(int32_t helper) { emit(insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper)); }
    void exit() { emit(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)); }
    void ret(int32_t value) {
        mov(0, value);
        exit();
    }
    void jmp(uint8_t op, uint8_t dst, int32_t imm, const std::string& label, bool is32 = false) {
        fixups_.emplace_back(code_.size(), label);
        emit(insn(static_cast<uint8_t>((is32 ? BPF_JMP32 : BPF_JMP) | op | BPF_K), dst, 0, 0, imm));
    }
    void jmpr(uint8_t op, uint8_t dst, uint8_t src, const std::string& label, bool is32 = false) {
        fixups_.emplace_back(code_.size(), label);
        emit(insn(static_cast<uint8_t>((is32 ? BPF_JMP32 : BPF_JMP) | op | BPF_X), dst, src, 0, 0));
    }
    void ja(const std::string& label) {
        fixups_.emplace_back(code_.size(), label);
        emit(insn(BPF_JMP | BPF_JA, 0, 0, 0, 0));
    }
    void label(const std::string& name) { labels_[name] = code_.size(); }
    bool referenced(const std::string& name) const {
        return std::any_of(fixups_.begin(), fixups_.end(), [&](const auto& f) { return f.second == name; });
    }
    // `name: r0 = value; exit`, only if something jumps there (the kernel refuses dead code).
    void tail(const std::string& name, int32_t value) {
        if (!referenced(name)) return;
        label(name);
        ret(value);
    }
    std::vector<bpf_insn> finish() {
        for (const auto& [at, name] : fixups_) {
            auto it = labels_.find(name);
            if (it == labels_.end()) throw std::logic_error("undefined label " + name);
            code_[at].off = off16(static_cast<int64_t>(it->second) - static_cast<int64_t>(at) - 1);
        }
        return code_;
    }

 private:
    std::vector<bpf_insn> code_;
    std::vector<std::pair<size_t, std::string>> fixups_;
    std::map<std::string, size_t> labels_;
};

struct MapSpec {
    MapType type = MapType::Array;
    uint32_t key_size = 4;
    uint32_t value_size = 8;
    uint32_t max_entries = 4;
    auto operator<=>(const MapSpec&) const = default;
};

struct Generated {
    std::string name;  // the template
    ProgramType type = ProgramType::Xdp;
    std::vector<bpf_insn> code;
    std::vector<MapSpec> maps;
};

// What a template has at hand while it writes a program.
struct Gen {
    Rng& rng;
    Asm a;
    ProgramType type = ProgramType::Xdp;
    std::vector<MapSpec> maps;
    size_t ordinal = 0;  // how many programs of this template came before

    bool xdp() const { return type == ProgramType::Xdp; }
    int add_map(const MapSpec& spec) {
        maps.push_back(spec);
        return static_cast<int>(maps.size() - 1);
    }
    // A map with a random value size (and a random key size for a hash map).
    MapSpec random_map() {
        MapSpec m;
        m.type = rng.chance(60) ? MapType::Array : MapType::Hash;
        m.key_size = m.type == MapType::Array ? 4 : rng.pick<uint32_t>({4, 8, 16});
        m.value_size = rng.pick<uint32_t>({1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 48, 64, 100, 128, 256});
        m.max_entries = rng.pick<uint32_t>({1, 4, 16});
        return m;
    }
    // Writes a key of the map's key size below [r10 - 64], zero but for its first 4 bytes (`first`,
    // or the register `first_reg` when it is not 0), all of it or only the first 4 bytes, then
    // r0 = bpf_map_lookup_elem(map, key). Clobbers r1-r5.
    void lookup(int map, bool partial = false, int32_t first = 0, uint8_t first_reg = 0) {
        const MapSpec& m = maps[static_cast<size_t>(map)];
        const int key_off = -static_cast<int>((m.key_size + 7) / 8 * 8) - 64;
        for (uint32_t i = 0; i < m.key_size; i += 4) {
            if (partial && i > 0) break;
            if (i == 0 && first_reg != 0)
                a.stx(4, 10, first_reg, key_off);
            else
                a.st(4, 10, key_off + static_cast<int>(i), i == 0 ? first : 0);
        }
        a.ld_map(1, map);
        a.movr(2, 10);
        a.add(2, key_off);
        a.call(BPF_FUNC_map_lookup_elem);
    }
    // Ends the program with r7: as an index into a map value of one of `value_sizes` (after a
    // null check), or returned.
    void finish_with_r7(std::initializer_list<uint32_t> value_sizes) {
        if (rng.chance(60)) {
            MapSpec m = random_map();
            m.value_size = rng.pick<uint32_t>(value_sizes);
            checked_lookup(add_map(m), "out");
            a.addr(0, 7);
            a.ldx(1, 5, 0, 0);
            a.ret(0);
            a.tail("out", 0);
        } else {
            a.movr(0, 7);
            a.exit();
        }
    }
    // r0 = lookup(map) and `if r0 == 0 goto label`.
    void checked_lookup(int map, const std::string& label) {
        lookup(map);
        a.jmp(BPF_JEQ, 0, 0, label);
    }
    // dst = an unknown 32-bit number read from the context (needs the context in r6).
    void unknown_ctx32(uint8_t dst) {
        if (xdp())
            a.ldx(4, dst, 6, rng.pick<int>({12, 16}));  // ingress_ifindex, rx_queue_index
        else
            a.ldx(4, dst, 6, rng.pick<int>({0, 8, 16, 32}));  // len, mark, protocol, priority
    }
    // dst = an unknown number: from the context (u32) or bpf_get_prandom_u32 (a 64-bit unknown
    // to the verifier; clobbers r0-r5).
    void unknown(uint8_t dst) {
        if (rng.chance(70)) {
            unknown_ctx32(dst);
        } else {
            a.call(BPF_FUNC_get_prandom_u32);
            if (dst != 0) a.movr(dst, 0);
        }
    }
    int access_size() { return rng.pick<int>({1, 2, 4, 8}); }
};

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

// A byte offset near the end of `bytes` readable ones for an access of `size`, or anywhere.
int64_t border_offset(Rng& rng, int64_t bytes, int size) {
    if (rng.chance(65)) return bytes - size + rng.range(-2, 2);
    return rng.range(-2, std::max<int64_t>(bytes + 2, 0));
}

// One access of `size` at [base + off]: a load, a store of an immediate or a scalar, sometimes a
// pointer store or an atomic add.
void random_access(Gen& g, uint8_t base, int64_t off, int size, unsigned store_percent = 25) {
    Asm& a = g.a;
    if (!g.rng.chance(store_percent)) {
        a.ldx(size, 5, base, off);
        return;
    }
    switch (g.rng.below(10)) {
        case 0:
            a.stx(size, base, 10, off);  // a pointer (allowed with privileges, 8 bytes)
            break;
        case 1:
            a.mov(5, 1);
            a.atomic_add(size < 4 ? 4 : size, base, 5, off);
            break;
        case 2:
        case 3:
        case 4: a.st(size, base, off, static_cast<int32_t>(g.rng.range(-3, 300))); break;
        default: a.mov(5, static_cast<int32_t>(g.rng.range(0, 1000))); a.stx(size, base, 5, off);
    }
}

// data + K compared with data_end in every form, the access in the branch that proves it (or
// the other one), at offsets around the proven length.
void packet_bounds(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.ldx(4, 2, 1, 0);
    a.ldx(4, 3, 1, 4);
    const int64_t k = r.chance(4) ? r.range(0xfff0, 0x10010) : r.chance(15) ? r.range(0, 4) : r.range(1, 64);
    a.movr(4, 2);
    a.add(4, static_cast<int32_t>(k));
    // The relation the taken branch proves between pkt' = data + K and data_end.
    enum Rel { Gt, Ge, Lt, Le };
    const uint8_t ops[] = {BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE};
    const uint8_t signed_ops[] = {BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};
    const int which = static_cast<int>(r.below(4));
    const bool pkt_left = r.chance(50);
    static constexpr Rel mirror[] = {Lt, Le, Gt, Ge};
    const Rel rel = pkt_left ? static_cast<Rel>(which) : mirror[which];
    const bool taken_safe = rel == Lt || rel == Le;  // pkt' < end or pkt' <= end when taken
    const bool strict = rel == Ge || rel == Lt;      // the safe side is pkt' < end: K + 1 bytes
    const uint8_t op = r.chance(5) ? signed_ops[which] : ops[which];
    const bool is32 = r.chance(4);
    if (pkt_left)
        a.jmpr(op, 4, 3, "other", is32);
    else
        a.jmpr(op, 3, 4, "other", is32);
    const bool in_safe = !r.chance(8);
    const int size = g.access_size();
    const int64_t target = border_offset(r, k + (strict ? 1 : 0), size);
    const bool via_r4 = r.chance(25) || target > INT16_MAX;
    auto access = [&] { random_access(g, via_r4 ? 4 : 2, via_r4 ? target - k : target, size, 20); };
    if (taken_safe == in_safe) {
        a.ret(1);
        a.label("other");
        access();
        a.ret(2);
    } else {
        access();
        a.ret(2);
        a.label("other");
        a.ret(1);
    }
}

// A packet pointer moved by a bounded unknown number, then checked again (or not, or the wrong
// pointer), and read around the end of what the check proves.
void packet_var_offset(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    a.ldx(4, 2, 6, 0);
    a.ldx(4, 3, 6, 4);
    if (r.chance(50)) {
        a.movr(4, 2);
        a.add(4, 2);
        a.jmpr(BPF_JGT, 4, 3, "out");
        a.ldx(r.chance(50) ? 1 : 2, 5, 2, 0);
    } else {
        g.unknown_ctx32(5);
    }
    switch (r.below(4)) {
        case 0:
        case 1:
            a.alu(BPF_AND, 5,
                  r.pick<int32_t>({0x3, 0xf, 0x3f, 0xff, 0xfff, 0x7fff, 0xffff, 0x1ffff, 0x7fffffff}));
            break;
        case 2:
            a.jmp(r.pick<uint8_t>({BPF_JGT, BPF_JGE, BPF_JSGT}), 5,
                  r.pick<int32_t>({0, 7, 64, 255, 1500, 0xffff, 0x10000}), "out");
            break;
        default: break;  // unbounded
    }
    a.movr(7, 2);
    a.addr(7, 5);
    const int64_t k = r.range(1, 16);
    const int check = static_cast<int>(r.below(10));
    if (check != 0) {
        a.movr(4, check == 1 ? 2 : 7);  // 1: the pointer before the move
        a.add(4, static_cast<int32_t>(k));
        a.jmpr(BPF_JGT, 4, 3, "out");
    }
    const int size = g.access_size();
    random_access(g, 7, border_offset(r, k, size), size, 20);
    a.ret(2);
    a.tail("out", 1);
}

// Stores then loads at fixed stack offsets: inside and outside the 512-byte frame, aligned or
// not, over written bytes or not, spilled pointers read whole or in part.
void stack_fixed(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    auto offset = [&](int size) {
        int64_t off = r.chance(10) ? r.range(-530, 8) : r.range(-64, -1);
        if (r.chance(85)) off = off / size * size - (off % size != 0 ? size : 0);
        return off;
    };
    std::vector<std::pair<int64_t, int>> written;
    const int writes = static_cast<int>(r.range(0, 3));
    a.mov(7, static_cast<int32_t>(r.range(0, 100)));
    for (int i = 0; i < writes; ++i) {
        const int size = g.access_size();
        const int64_t off = offset(size);
        switch (r.below(5)) {
            case 0: a.stx(size, 10, 1, off); break;  // the context pointer, spilled
            case 1: a.stx(size, 10, 7, off); break;
            default: a.st(size, 10, off, static_cast<int32_t>(r.range(-2, 2)));
        }
        written.emplace_back(off, size);
    }
    const int reads = static_cast<int>(r.range(1, 2));
    for (int i = 0; i < reads; ++i) {
        const int size = g.access_size();
        int64_t off = offset(size);
        if (!written.empty() && r.chance(70)) {
            const auto& [woff, wsize] = written[r.below(written.size())];
            off = woff + r.pick<int64_t>({0, 0, 0, wsize - size, size, -size, wsize / 2});
        }
        if (r.chance(20)) {
            const int64_t base = r.range(-64, 0);
            a.movr(8, 10);
            a.add(8, static_cast<int32_t>(base));
            a.ldx(size, 5, 8, off - base);
        } else {
            a.ldx(size, 5, 10, off);
        }
    }
    if (r.chance(15)) {  // use the last value read as a number
        a.alu(BPF_AND, 5, 1);
        a.movr(0, 5);
        a.exit();
    } else {
        a.ret(0);
    }
}

// A stack pointer moved by a bounded unknown number, then a load or store through it.
void stack_var_offset(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    g.unknown_ctx32(7);
    if (r.chance(70))
        a.alu(BPF_AND, 7, r.pick<int32_t>({7, 8, 0x18, 0x38, 0x78, 0xf8, 0x1f8, 0x3f8, 0xff, 0x1ff}));
    else
        a.jmp(r.pick<uint8_t>({BPF_JGT, BPF_JSGT}), 7, r.pick<int32_t>({7, 63, 255, 504, 511, 512}), "out");
    const int init = r.chance(50) ? static_cast<int>(r.range(0, 64)) : 0;
    for (int i = 1; i <= init; ++i) a.st(8, 10, -8 * i, 0);
    const int64_t start = r.range(1, 66) * 8 + r.pick<int64_t>({0, 0, 0, -1, 1, 4});
    a.movr(8, 10);
    a.add(8, static_cast<int32_t>(-start));
    a.addr(8, 7);
    const int size = g.access_size();
    random_access(g, 8, r.pick<int64_t>({0, 0, -8, 8, -size, static_cast<int64_t>(-r.range(0, 16))}), size,
                  40);
    a.ret(0);
    a.tail("out", 0);
}

// A number spilled to the stack (whole register, 32-bit, immediate) and filled back at some size
// and offset, then used as an index into a map value: accepted only where the fill is known.
void stack_spill_fill(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    MapSpec m = g.random_map();
    const int map = g.add_map(m);
    const int64_t value = r.pick<int64_t>({0, 1, 7, static_cast<int64_t>(m.value_size) - 1, m.value_size, 255,
                                           256, 0xffff, 0x10000, -1, 0x100000000LL, 0x100000001LL});
    const int slot = -8 * static_cast<int>(r.range(1, 4));
    int spilled = 8;
    switch (r.below(5)) {
        case 0:
        case 1:
            if (value > INT32_MAX || value < INT32_MIN)
                a.lddw(7, static_cast<uint64_t>(value));
            else
                a.mov(7, static_cast<int32_t>(value));
            spilled = r.chance(70) ? 8 : r.pick<int>({4, 2, 1});
            a.stx(spilled, 10, 7, slot);
            break;
        case 2:
            if (r.chance(50))
                g.unknown_ctx32(7);
            else
                a.mov(7, static_cast<int32_t>(value));
            a.alu(BPF_AND, 7, r.pick<int32_t>({0x7, 0xff, 0xffff}));
            a.stx(8, 10, 7, slot);
            break;
        default: spilled = r.pick<int>({8, 8, 4, 2, 1}); a.st(spilled, 10, slot, static_cast<int32_t>(value));
    }
    // Another write over part of it, sometimes.
    if (r.chance(10)) a.st(1, 10, slot + static_cast<int>(r.range(0, 7)), 0);
    g.checked_lookup(map, "out");
    const int fill = g.access_size();
    int64_t fill_off = slot + r.pick<int64_t>({0, 0, 0, 4, spilled - fill, fill});
    a.ldx(fill, 7, 10, fill_off);
    if (r.chance(10)) a.alu(BPF_RSH, 7, r.pick<int32_t>({1, 8, 32}));
    a.addr(0, 7);
    a.ldx(1, 5, 0, 0);
    a.ret(0);
    a.tail("out", 0);
}

// A map lookup with or without its null check, and one access to the value around its end.
void map_access(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    MapSpec m = g.random_map();
    const int map = g.add_map(m);
    const bool partial_key = m.key_size > 4 && r.chance(10);
    const bool no_key = r.chance(4);
    if (no_key) {
        a.ld_map(1, map);
        a.movr(2, 10);
        a.add(2, -static_cast<int32_t>((m.key_size + 7) / 8 * 8) - 64);
        a.call(BPF_FUNC_map_lookup_elem);
    } else if (r.chance(25)) {  // a constant key in or out of an array's bounds
        const int32_t max = static_cast<int32_t>(m.max_entries);
        g.lookup(map, partial_key, r.pick<int32_t>({max - 1, max, max + 1, -1}));
    } else if (r.chance(15)) {  // an unknown key
        g.unknown_ctx32(7);
        if (r.chance(50)) a.alu(BPF_AND, 7, static_cast<int32_t>(m.max_entries - 1));
        g.lookup(map, partial_key, 0, 7);
    } else {
        g.lookup(map, partial_key);
    }
    const int size = g.access_size();
    const int64_t off = border_offset(r, m.value_size, size);
    switch (r.below(20)) {
        case 0:  // no check
            random_access(g, 0, off, size, 40);
            a.ret(0);
            break;
        case 1:  // the access in the null branch
            a.jmp(BPF_JNE, 0, 0, "out");
            random_access(g, 0, off, size, 40);
            a.ret(0);
            a.tail("out", 0);
            break;
        case 2:
        case 3:  // the check on a copy
            a.movr(6, 0);
            a.jmp(BPF_JEQ, 6, 0, "out");
            random_access(g, r.chance(50) ? 0 : 6, off, size, 40);
            a.ret(0);
            a.tail("out", 0);
            break;
        case 4:  // jne to the access
            a.jmp(BPF_JNE, 0, 0, "ok");
            a.ret(0);
            a.label("ok");
            random_access(g, 0, off, size, 40);
            a.ret(0);
            break;
        default:
            a.jmp(BPF_JEQ, 0, 0, "out");
            if (r.chance(20)) {  // through a moved pointer
                const int64_t move = r.range(-8, m.value_size);
                a.add(0, static_cast<int32_t>(move));
                random_access(g, 0, off - move, size, 40);
            } else {
                random_access(g, 0, off, size, 40);
            }
            a.ret(0);
            a.tail("out", 0);
    }
}

// An unknown number bounded by masks, shifts, comparisons (signed and unsigned, 32 and 64 bits)
// and used as an index into a map value, sized so that it fits or misses by a little.
void map_bounded_index(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    g.unknown(7);
    MapSpec m = g.random_map();
    const int ops = static_cast<int>(r.range(1, 2));
    for (int i = 0; i < ops; ++i) {
        switch (r.below(12)) {
            case 0:
            case 1:
                a.alu(BPF_AND, 7,
                      static_cast<int32_t>(r.chance(60) ? (1 << r.range(0, 9)) - 1 : r.range(0, 300)),
                      r.chance(20));
                break;
            case 2: a.alu(BPF_RSH, 7, static_cast<int32_t>(r.range(20, 63)), false); break;
            case 3: a.alu(BPF_RSH, 7, static_cast<int32_t>(r.range(20, 31)), true); break;
            case 4:
            case 5:
                a.jmp(r.pick<uint8_t>({BPF_JGT, BPF_JGE, BPF_JSGT, BPF_JSGE}), 7,
                      static_cast<int32_t>(r.range(0, 300)), "out", r.chance(25));
                break;
            case 6:  // the bound on the taken side
                a.jmp(r.pick<uint8_t>({BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE}), 7,
                      static_cast<int32_t>(r.range(0, 300)), "bounded" + std::to_string(i), r.chance(25));
                a.ret(0);
                a.label("bounded" + std::to_string(i));
                break;
            case 7:  // a lower bound for the signed cases
                a.jmp(r.pick<uint8_t>({BPF_JSLT, BPF_JLT}), 7, static_cast<int32_t>(r.range(-2, 2)), "out");
                break;
            case 8:
                a.alu(BPF_AND, 7, 0xff);
                a.alu(BPF_LSH, 7, static_cast<int32_t>(r.range(0, 3)));
                break;
            case 9:
                a.alu(BPF_AND, 7, 0xff);
                a.alu(BPF_MUL, 7, static_cast<int32_t>(r.range(0, 4)));
                break;
            case 10:
                a.alu(BPF_LSH, 7, 56);
                a.alu(r.chance(50) ? BPF_RSH : BPF_ARSH, 7, static_cast<int32_t>(r.range(56, 63)));
                break;
            default:  // a bound in a register
                a.mov(8, static_cast<int32_t>(r.range(0, 300)));
                a.jmpr(r.pick<uint8_t>({BPF_JGT, BPF_JGE, BPF_JSGT}), 7, 8, "out", r.chance(20));
        }
    }
    const int map = g.add_map(m);
    a.movr(8, 7);  // r7 survives the call, but keep the bounded copy in r8 for variety
    g.checked_lookup(map, "out");
    a.addr(0, r.chance(80) ? 8 : 7);
    const int size = g.access_size();
    const int64_t off = r.chance(50) ? 0 : r.range(-2, 8);
    random_access(g, 0, off, size, 30);
    a.ret(0);
    a.tail("out", 0);
}

// Arithmetic on each kind of pointer: moves by constants and bounded numbers, operators that
// make no pointer, 32-bit forms, then a one-byte access or none.
void pointer_arith(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    int64_t size = 0;  // bytes the pointer in r7 may reach from its start (0: not memory)
    switch (r.below(g.xdp() ? 6 : 4)) {
        case 0:
            a.movr(7, 6);
            size = 4;
            break;  // context (a field at 0 of every layout)
        case 1:
            a.movr(7, 10);
            a.add(7, -64);
            a.st(8, 7, 0, 0);
            size = 64;
            break;
        case 2:
        case 3: {
            MapSpec m = g.random_map();
            const int map = g.add_map(m);
            if (r.chance(80))
                g.checked_lookup(map, "out");
            else
                g.lookup(map);
            a.movr(7, 0);
            size = m.value_size;
            break;
        }
        case 4:
            a.ldx(4, 7, 6, 0);
            a.ldx(4, 3, 6, 4);
            a.movr(4, 7);
            a.add(4, 16);
            a.jmpr(BPF_JGT, 4, 3, "out");
            size = 16;
            break;
        default: a.ldx(4, 7, 6, 4); break;  // data_end
    }
    int64_t moved = 0;
    switch (r.below(14)) {
        case 0:
        case 1:
        case 2:
            moved = r.range(-8, size + 4);
            a.add(7, static_cast<int32_t>(moved));
            break;
        case 3:
            moved = r.range(-8, 8);
            a.alu(BPF_SUB, 7, static_cast<int32_t>(moved));
            moved = -moved;
            break;
        case 4:
            g.unknown_ctx32(8);
            a.alu(BPF_AND, 8, r.pick<int32_t>({1, 3, 7, 63}));
            a.addr(7, 8);
            break;
        case 5: a.alu(BPF_ADD, 7, static_cast<int32_t>(r.range(0, 8)), true); break;
        case 6:
            a.alu(r.pick<uint8_t>({BPF_AND, BPF_OR, BPF_XOR}), 7, static_cast<int32_t>(r.range(0, 8)));
            break;
        case 7: a.alu(r.pick<uint8_t>({BPF_MUL, BPF_LSH, BPF_RSH, BPF_DIV, BPF_MOD}), 7, 1); break;
        case 8: a.alu(BPF_NEG, 7, 0); break;
        case 9: a.alur(BPF_MOV, 7, 7, true); break;  // w7 = w7
        case 10:
            a.mov(8, 4);
            a.alur(BPF_SUB, 8, 7);  // scalar - pointer
            a.movr(7, 8);
            break;
        case 11:
            a.mov(8, static_cast<int32_t>(r.range(0, 8)));
            a.alur(BPF_ADD, 8, 7);  // scalar + pointer: a pointer
            a.movr(7, 8);
            break;
        default: break;
    }
    if (r.chance(70))
        a.ldx(1, 5, 7, r.chance(80) ? 0 : r.range(-4, 4));
    else if (r.chance(50))
        a.stx(8, 10, 7, -8);  // spill whatever r7 is now
    a.ret(0);
    a.tail("out", 0);
}

// r0 at exit: a number, or each kind of pointer, or nothing.
void return_value(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    switch (r.below(9)) {
        case 0: a.mov(0, static_cast<int32_t>(r.range(-3, 5))); break;
        case 1: a.movr(0, 1); break;
        case 2: a.movr(0, 10); break;
        case 3:
            a.movr(0, 10);
            a.add(0, -static_cast<int32_t>(r.range(0, 16)));
            break;
        case 4:
        case 5: {
            const int map = g.add_map(g.random_map());
            g.lookup(map);
            if (r.chance(50)) a.jmp(BPF_JEQ, 0, 0, "out");
            break;
        }
        case 6:
            if (g.xdp())
                a.ldx(4, 0, 1, r.pick<int>({0, 4, 8}));
            else
                a.ldx(4, 0, 1, 0);
            break;
        case 7: a.ld_map(0, g.add_map(g.random_map())); break;
        default: break;  // r0 never written
    }
    a.exit();
    a.tail("out", 0);
}

// Division and modulo by constants (zero included), by registers, signed and unsigned, 32 and
// 64 bits, the result sometimes used as an index.
void division(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    g.unknown_ctx32(7);
    if (r.chance(70)) a.alu(BPF_AND, 7, r.pick<int32_t>({0x3f, 0xff, 0xffff}));
    const uint8_t op = r.chance(60) ? BPF_DIV : BPF_MOD;
    const bool is32 = r.chance(30);
    const int16_t sign = r.chance(15) ? 1 : 0;  // sdiv, smod (cpu v4)
    if (r.chance(60)) {
        a.alu(op, 7, r.chance(10) ? 0 : r.pick<int32_t>({1, 2, 3, 7, 16, 100, 255, -1, -7}), is32, sign);
    } else {
        switch (r.below(3)) {
            case 0: a.mov(8, 0); break;
            case 1: a.mov(8, static_cast<int32_t>(r.range(1, 20))); break;
            default: g.unknown_ctx32(8);
        }
        a.alur(op, 7, 8, is32, sign);
    }
    g.finish_with_r7({8, 16, 64, 100, 256});
}

// Loops: counted with random bounds, steps and comparisons (some never end), bounded by an
// unknown number, writing the stack as they go, or with no exit at all.
void loop(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    // Loops that end only when the 1M-instruction budget runs out take both verifiers about a
    // second (bpfvm several): loop programs 40 and 165 of every 250 are one (with no exit, then
    // with a counter that counts too far), and kind 42 may be one (its counter can miss the bound).
    const bool budget = g.ordinal % 250 == 40 || g.ordinal % 250 == 165;
    const unsigned kind = budget ? (g.ordinal % 250 == 40 ? 0 : 41) : static_cast<unsigned>(r.range(1, 199));
    if (kind < 2) {  // no exit: a new state each time (kind 0) or the same state again (kind 1)
        a.mov(0, 0);
        a.mov(7, 0);
        a.label("loop");
        a.add(7, kind == 0 ? 1 : 0);
        a.ja("loop");
        return;
    }
    if (kind < 40) {  // bounded by an unknown number
        g.unknown_ctx32(2);
        a.alu(BPF_AND, 2, r.pick<int32_t>({0, 3, 15, 255, 1023}));
        a.mov(7, 0);
        a.mov(8, 0);
        a.label("loop");
        a.add(8, 3);
        a.add(7, 1);
        a.jmpr(r.pick<uint8_t>({BPF_JLT, BPF_JLE}), 7, 2, "loop");
        a.movr(0, 8);
        a.exit();
        return;
    }
    int64_t n = r.chance(90) ? r.range(0, 64) : r.range(65, 600);
    if (kind == 41) n = r.range(400000, 1200000);
    const int64_t step = r.chance(95) ? r.range(1, 4) : r.chance(40) ? 0 : r.range(5, 1000);
    // The counter meets the bound exactly (for jne and the unsigned count down), except in kind 42.
    if (step > 0 && kind != 42) n = std::max(step, n / step * step);
    const bool down = r.chance(20);
    const bool stack_writes = kind >= 170;
    a.mov(0, 0);
    a.mov(7, static_cast<int32_t>(down ? n : 0));
    if (stack_writes) {
        a.movr(8, 10);
        a.add(8, -static_cast<int32_t>(r.pick<int64_t>({8, 64, 256, 512})));
    }
    a.label("loop");
    // r0 changes on every pass unless the step is 0 (so a loop that does not move is the same
    // state again: an infinite loop both verifiers see at once).
    a.add(0, step == 0 ? 0 : static_cast<int32_t>(r.range(1, 3)));
    if (stack_writes) {
        a.st(8, 8, 0, 1);
        a.add(8, 8);
    }
    if (down) {
        a.alu(BPF_SUB, 7, static_cast<int32_t>(step));
        a.jmp(r.pick<uint8_t>({BPF_JGT, BPF_JSGT, BPF_JNE}), 7, 0, "loop", r.chance(15));
    } else {
        a.add(7, static_cast<int32_t>(step));
        a.jmp(r.pick<uint8_t>({BPF_JLT, BPF_JLE, BPF_JNE, BPF_JSLT}), 7, static_cast<int32_t>(n), "loop",
              r.chance(15));
    }
    a.exit();
}

// A register read before anything wrote it on some path: by an ALU operation, a comparison, a
// store, as an address, at exit, after a helper call clobbered it.
void uninit_register(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    const uint8_t reg = r.pick<uint8_t>({0, 2, 3, 4, 5, 7, 8, 9});
    a.movr(6, 1);
    switch (r.below(6)) {
        case 0:
        case 1: break;  // never written
        case 2:         // written on one path
            g.unknown_ctx32(1);
            a.jmp(BPF_JGT, 1, 10, "skip");
            a.mov(reg, 1);
            a.label("skip");
            break;
        case 3:  // written on both paths
            g.unknown_ctx32(1);
            a.jmp(BPF_JGT, 1, 10, "other");
            a.mov(reg, 1);
            a.ja("join");
            a.label("other");
            a.mov(reg, 2);
            a.label("join");
            break;
        default:  // written, then a helper call
            a.mov(reg, 1);
            a.call(BPF_FUNC_get_prandom_u32);
    }
    const uint8_t other = reg == 9 ? 8 : 9;
    bool r0_set = false;
    switch (r.below(6)) {
        case 0: a.movr(other, reg); break;
        case 1: a.add(reg, 1); break;
        case 2:
            a.jmp(BPF_JEQ, reg, 0, "next");
            a.label("next");
            break;
        case 3: a.stx(8, 10, reg, -8); break;
        case 4:
            a.mov(other, 3);
            a.alur(BPF_MUL, other, reg, r.chance(30));
            break;
        default:
            if (reg == 0) {
                a.exit();  // r0 itself at exit
                return;
            }
            a.movr(0, reg);
            a.alu(BPF_AND, 0, 1);
            r0_set = true;
    }
    if (!r0_set) a.mov(0, 0);
    a.exit();
}

// Context loads and stores of every size at the fields' offsets and around them.
void ctx_access(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    const int64_t ctx_size = g.xdp() ? 24 : 192;
    int size = g.access_size();
    int64_t off = r.range(-8, ctx_size + 8);
    if (r.chance(40)) {  // a whole 4-byte field: most are readable
        size = 4;
        off = r.range(0, ctx_size / 4 - 1) * 4;
    } else if (r.chance(60)) {  // aligned to the access, inside
        off = r.range(0, ctx_size / size - 1) * size;
    }
    const unsigned kind = static_cast<unsigned>(r.below(100));
    if (kind < 70) {
        a.ldx(size, 0, 1, off);
        if (r.chance(10)) a.ldx(1, 5, 0, 0);  // packet pointers read without a check
        a.ret(0);
    } else if (kind < 85) {
        a.mov(2, 7);
        a.stx(size, 1, 2, off);
        a.ret(0);
    } else if (kind < 93) {
        a.st(size, 1, off, 7);
        a.ret(0);
    } else {
        a.movr(2, 1);
        a.add(2, static_cast<int32_t>(r.range(-4, 8)));
        a.ldx(size, 0, 2, off);
        a.ret(0);
    }
}

// Legacy packet loads (socket filters): r6 must hold the context, r1-r5 are clobbered.
void ld_abs(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    switch (r.below(20)) {
        case 0: break;  // r6 never written
        case 1: a.movr(6, 10); break;
        default: a.movr(6, 1);
    }
    a.mov(7, static_cast<int32_t>(r.range(0, 40)));
    const int loads = static_cast<int>(r.range(1, 2));
    for (int i = 0; i < loads; ++i) {
        const uint8_t size = r.chance(4) ? kDW : r.pick<uint8_t>({kB, kH, kW});
        const int32_t imm = r.chance(85) ? static_cast<int32_t>(r.range(0, 80))
                                         : r.pick<int32_t>({-1, -0x200000, 0x7fffffff, 65535});
        if (r.chance(30)) {
            const uint8_t src = r.pick<uint8_t>({7, 7, 7, 10, 9, 1});
            a.emit(insn(static_cast<uint8_t>(BPF_LD | BPF_IND | size), 0, src, 0, imm));
        } else {
            a.emit(insn(static_cast<uint8_t>(BPF_LD | BPF_ABS | size), 0, 0, 0, imm));
        }
    }
    const uint8_t result = r.chance(80) ? 0 : r.pick<uint8_t>({1, 2, 5, 7});
    if (result != 0) a.movr(0, result);
    a.exit();
}

// Shifts by immediates in and out of range, byte swaps, sign-extending moves and signed
// division, the result sometimes bounding an index.
void alu_misc(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    g.unknown_ctx32(7);
    if (r.chance(70)) a.alu(BPF_AND, 7, r.pick<int32_t>({0xff, 0xffff, 0x7f}));
    const bool is32 = r.chance(40);
    switch (r.below(7)) {
        case 0:
        case 1:
            a.alu(
                r.pick<uint8_t>({BPF_LSH, BPF_RSH, BPF_ARSH}), 7,
                static_cast<int32_t>(r.chance(80) ? r.range(0, is32 ? 31 : 63) : r.range(is32 ? 32 : 64, 70)),
                is32);
            break;
        case 2:
            a.mov(8, static_cast<int32_t>(r.range(0, 70)));
            a.alur(r.pick<uint8_t>({BPF_LSH, BPF_RSH, BPF_ARSH}), 7, 8, is32);
            break;
        case 3:  // byte swaps: to_le / to_be (class ALU), bswap (ALU64, cpu v4)
            a.emit(insn(static_cast<uint8_t>((r.chance(30) ? BPF_ALU64 : BPF_ALU) | BPF_END |
                                             (r.chance(50) ? BPF_TO_BE : BPF_TO_LE)),
                        7, 0, 0, r.chance(90) ? r.pick<int32_t>({16, 32, 64}) : r.pick<int32_t>({8, 0, 24})));
            break;
        case 4:  // movsx (cpu v4); off 24 does not exist
            a.alur(BPF_MOV, 7, 7, is32, r.chance(90) ? r.pick<int16_t>({8, 16, 32}) : int16_t{24});
            break;
        case 5: a.alu(BPF_NEG, 7, 0, is32); break;
        default: a.alu(r.pick<uint8_t>({BPF_DIV, BPF_MOD}), 7, r.pick<int32_t>({-1, 2, -3, 0, 5}), is32, 1);
    }
    g.finish_with_r7({64, 128, 256});
}

// Helpers that read or write memory of a given size: bpf_skb_load_bytes (socket filters) into
// the stack with constant and bounded lengths, bpf_map_update_elem (xdp) with its key and value
// on the stack, in the packet or in a map value.
void helper_memory(Gen& g) {
    Rng& r = g.rng;
    Asm& a = g.a;
    a.movr(6, 1);
    if (!g.xdp()) {
        const int64_t depth = r.chance(80) ? r.range(1, 64) * 8 : r.range(1, 520);
        if (r.chance(60)) {
            a.mov(4, static_cast<int32_t>(r.chance(70) ? depth + r.range(-2, 1) : r.range(-1, depth + 8)));
        } else {
            g.unknown_ctx32(4);
            a.alu(BPF_AND, 4, r.pick<int32_t>({7, 15, 63, 255}));
            if (r.chance(60)) a.jmp(r.pick<uint8_t>({BPF_JEQ, BPF_JLT}), 4, r.pick<int32_t>({0, 1}), "out");
            if (r.chance(50)) a.jmp(BPF_JGT, 4, static_cast<int32_t>(depth + r.range(-1, 1)), "out");
        }
        a.movr(1, 6);
        a.mov(2, static_cast<int32_t>(r.range(0, 40)));
        a.movr(3, 10);
        a.add(3, static_cast<int32_t>(-depth));
        a.call(BPF_FUNC_skb_load_bytes);
        if (r.chance(40))
            a.ldx(8, 0, 10, -8 - 8 * static_cast<int64_t>(r.below(static_cast<uint64_t>(depth / 8 + 1))));
        a.ret(0);
        a.tail("out", 0);
        return;
    }
    MapSpec m = g.random_map();
    m.type = MapType::Hash;
    m.key_size = r.pick<uint32_t>({4, 8});
    const int map = g.add_map(m);
    const int64_t key_off = -8;
    if (r.chance(85))
        a.st(m.key_size == 8 ? 8 : 4, 10, key_off, 0);
    else
        a.st(4, 10, key_off, 0);  // only half of an 8-byte key
    uint8_t value_reg = 3;
    switch (r.below(3)) {
        case 0: {
            const int64_t depth = static_cast<int64_t>(m.value_size) + 8 + r.range(-4, 0) * 4;
            if (r.chance(80)) a.st(1, 10, -depth, 0);
            a.movr(3, 10);
            a.add(3, static_cast<int32_t>(-depth));
            break;
        }
        case 1: {
            a.ldx(4, 3, 6, 0);
            a.ldx(4, 4, 6, 4);
            a.movr(5, 3);
            const int64_t k = static_cast<int64_t>(m.value_size) + r.range(-2, 1);
            a.add(5, static_cast<int32_t>(k));
            a.jmpr(BPF_JGT, 5, 4, "out");
            break;
        }
        default: {
            MapSpec other = m;
            other.type = MapType::Array;
            other.key_size = 4;
            other.value_size = static_cast<uint32_t>(
                std::max<int64_t>(1, static_cast<int64_t>(m.value_size) + r.range(-2, 2)));
            const int source = g.add_map(other);
            g.checked_lookup(source, "out");
            a.movr(7, 0);
            value_reg = 7;
        }
    }
    a.movr(3, value_reg);
    a.ld_map(1, map);
    a.movr(2, 10);
    a.add(2, static_cast<int32_t>(key_off));
    a.mov(4, 0);
    a.call(BPF_FUNC_map_update_elem);
    a.ret(0);
    a.tail("out", 0);
}

struct Template {
    const char* name;
    void (*write)(Gen&);
    bool xdp;
    bool socket_filter;
};

constexpr Template kTemplates[] = {
    {"packet-bounds", packet_bounds, true, false},
    {"packet-var-offset", packet_var_offset, true, false},
    {"stack-fixed", stack_fixed, true, true},
    {"stack-var-offset", stack_var_offset, true, true},
    {"stack-spill-fill", stack_spill_fill, true, true},
    {"map-access", map_access, true, true},
    {"map-bounded-index", map_bounded_index, true, true},
    {"pointer-arith", pointer_arith, true, true},
    {"return-value", return_value, true, true},
    {"division", division, true, true},
    {"loop", loop, true, true},
    {"uninit-register", uninit_register, true, true},
    {"ctx-access", ctx_access, true, true},
    {"ld-abs", ld_abs, false, true},
    {"alu-misc", alu_misc, true, true},
    {"helper-memory", helper_memory, true, true},
};

Generated generate(uint64_t seed, size_t index) {
    Rng rng(seed ^ (0x9e3779b97f4a7c15ULL * (index + 1)));
    rng.next();
    const Template& t = kTemplates[index % std::size(kTemplates)];
    Gen g{rng, {}, ProgramType::Xdp, {}, index / std::size(kTemplates)};
    if (t.xdp && t.socket_filter)
        g.type = rng.chance(50) ? ProgramType::Xdp : ProgramType::SocketFilter;
    else if (t.xdp)
        g.type = ProgramType::Xdp;
    else
        g.type = rng.chance(5) ? ProgramType::Xdp : ProgramType::SocketFilter;  // ld_abs in xdp: refused
    t.write(g);
    return {t.name, g.type, g.a.finish(), g.maps};
}

// ---------------------------------------------------------------------------------------------
// The two verifiers
// ---------------------------------------------------------------------------------------------

struct Verdict {
    bool accepted = false;
    // Why not: the kernel's error line (the last of its log before "processed N insns"), or
    // bpfvm's rule id and message. Expectations match a substring of it.
    std::string summary;
    std::string detail;  // kernel: errno and the end of its log; bpfvm: the registers involved
    bool too_complex = false;
};

std::vector<std::string> nonempty_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// Kernel maps, created once per shape and shared by the programs.
class KernelMaps {
 public:
    ~KernelMaps() {
        for (const auto& [spec, fd] : fds_) close(fd);
    }
    int fd(const MapSpec& spec) {
        auto it = fds_.find(spec);
        if (it != fds_.end()) return it->second;
        const int fd = bpf_map_create(static_cast<bpf_map_type>(spec.type), "kdiff", spec.key_size,
                                      spec.value_size, spec.max_entries, nullptr);
        if (fd < 0) return -errno;
        fds_.emplace(spec, fd);
        return fd;
    }

 private:
    std::map<MapSpec, int> fds_;
};

Verdict kernel_verify(const Generated& p, const std::vector<int>& fds) {
    bpf_prog_load_opts quiet{};
    quiet.sz = sizeof quiet;
    quiet.fd_array = fds.empty() ? nullptr : fds.data();
    const auto type = static_cast<bpf_prog_type>(p.type);
    int fd = bpf_prog_load(type, "kdiff", "GPL", p.code.data(), p.code.size(), &quiet);
    if (fd >= 0) {
        close(fd);
        return {true, "", "", false};
    }
    const int error = errno;
    Verdict v{false, "", std::string("    errno ") + std::strerror(error) + "\n", error == E2BIG};
    // Again with a log, for the reason (the log rolls: its end, which has the error, is kept).
    std::vector<char> log(1 << 20, '\0');
    bpf_prog_load_opts verbose{};
    verbose.sz = sizeof verbose;
    verbose.fd_array = quiet.fd_array;
    verbose.log_level = 1;
    verbose.log_size = static_cast<uint32_t>(log.size());
    verbose.log_buf = log.data();
    fd = bpf_prog_load(type, "kdiff", "GPL", p.code.data(), p.code.size(), &verbose);
    if (fd >= 0) {
        close(fd);
        v.summary = "accepted when loaded again with a log";
        return v;
    }
    log.back() = '\0';
    std::vector<std::string> lines = nonempty_lines(log.data());
    if (!lines.empty() && lines.back().rfind("processed ", 0) == 0) lines.pop_back();
    v.summary = lines.empty() ? std::string("(empty log)") : lines.back();
    for (size_t i = lines.size() > 6 ? lines.size() - 6 : 0; i < lines.size(); ++i)
        v.detail += "    | " + lines[i] + "\n";
    return v;
}

verifier::MapInfo map_info(const MapSpec& spec) {
    verifier::MapInfo info;
    info.name = "map";
    info.type = spec.type;
    info.key_size = spec.key_size;
    info.value_size = spec.value_size;
    info.max_entries = spec.max_entries;
    return info;
}

std::span<const uint8_t> bytes_of(const Generated& p) {
    return {reinterpret_cast<const uint8_t*>(p.code.data()), p.code.size() * sizeof(bpf_insn)};
}

Verdict bpfvm_verify(const Generated& p, const std::optional<isa::Program>& program,
                     const std::string& decode_error, bool privileged) {
    if (!program) return {false, "decode: " + decode_error, "", false};
    std::vector<verifier::MapInfo> maps;
    for (const MapSpec& spec : p.maps) maps.push_back(map_info(spec));
    verifier::VerifyOptions options;
    options.privileged = privileged;
    const verifier::VerifyResult result = verifier::verify(*program, p.type, maps, options);
    if (result.accepted) return {true, "", "", false};
    if (result.diagnostics.empty()) return {false, "rejected without a diagnostic", "", false};
    const verifier::Diagnostic& d = result.diagnostics.front();
    Verdict v{false, std::string(verifier::rule_id(d.rule)) + ": " + d.message, "",
              d.rule == verifier::Rule::TooComplex};
    v.detail = "    at instruction " + std::to_string(d.instruction) + "\n";
    for (const auto& reg : d.registers)
        v.detail += "    r" + std::to_string(reg.reg) + " = " + reg.value + "\n";
    return v;
}

std::string listing(const Generated& p, const std::optional<isa::Program>& program) {
    std::string out;
    if (!program) {
        char buffer[64];
        for (const bpf_insn& i : p.code) {
            std::snprintf(buffer, sizeof buffer, "    %02x %x %x %d %d\n", i.code, i.dst_reg, i.src_reg,
                          i.off, i.imm);
            out += buffer;
        }
        return out;
    }
    for (const isa::Instruction& i : program->instructions)
        out += "    " + isa::disassemble(i, isa::DisasmOptions(isa::Syntax::Conformance)) + "\n";
    return out;
}

std::string describe_maps(const Generated& p) {
    std::string out;
    for (size_t i = 0; i < p.maps.size(); ++i) {
        const MapSpec& m = p.maps[i];
        out += "    map " + std::to_string(i) + ": " + std::string(isa::map_type_name(m.type)) + " key " +
               std::to_string(m.key_size) + " value " + std::to_string(m.value_size) + " max " +
               std::to_string(m.max_entries) + "\n";
    }
    return out;
}

// A reason with its numbers and register names made generic ("R7 offset" -> "R# offset", "off=13"
// -> "off=#"), cut before the registers' states: differences with the same cause group together.
std::string signature(const std::string& reason) {
    std::string out;
    for (size_t i = 0; i < reason.size() && out.size() < 90; ++i) {
        const char c = reason[i];
        if (c == '(' && i > 0 && reason[i - 1] != ' ') break;  // map_value(...), scalar(...)
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (out.empty() || out.back() != '#') out += '#';
            continue;
        }
        out += c;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

// The two sides of a difference. mode "bpfvm" is the comparison with bpfvm --privileged;
// "bpfvm-unprivileged" is a program bpfvm's default rules accept while its privileged rules
// and the kernel reject it.
struct DifferenceKey {
    std::string template_name;
    bool kernel_accepts = false;
    std::string mode;
    bool bpfvm_accepts = false;
    auto operator<=>(const DifferenceKey&) const = default;
};

std::string to_string(const DifferenceKey& k) {
    return k.template_name + "  kernel=" + (k.kernel_accepts ? "accept" : "reject") + "  " + k.mode + "=" +
           (k.bpfvm_accepts ? "accept" : "reject");
}

// TEMPLATE kernel=V bpfvm=V "SUBSTRING" reason...: SUBSTRING must occur in the rejecting side's
// summary (the kernel's error line for kernel=reject, bpfvm's "rule-id: message" otherwise).
struct ExpectationLine {
    DifferenceKey key;
    std::string match;
    std::string reason;
    int line = 0;
    size_t matched = 0;
};

std::vector<ExpectationLine> read_expectations(const std::filesystem::path& path, std::string& error) {
    std::vector<ExpectationLine> out;
    std::ifstream in(path);
    if (!in) return out;  // no file: no accepted differences
    std::string line;
    int lineno = 0;
    auto verdict = [](const std::string& word, const std::string& prefix, bool& accepts) {
        if (word.rfind(prefix + "=", 0) != 0) return false;
        const std::string v = word.substr(prefix.size() + 1);
        if (v != "accept" && v != "reject") return false;
        accepts = v == "accept";
        return true;
    };
    const std::string usage =
        "expected: TEMPLATE kernel=accept|reject bpfvm=accept|reject|bpfvm-unprivileged=accept \"SUBSTRING\" "
        "reason...\n";
    while (std::getline(in, line)) {
        ++lineno;
        const std::string where = path.filename().string() + ":" + std::to_string(lineno) + ": ";
        if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#')
            continue;
        std::istringstream words(line);
        ExpectationLine e;
        e.line = lineno;
        std::string kernel_word, bpfvm_word;
        words >> e.key.template_name >> kernel_word >> bpfvm_word >> std::ws;
        const bool known = std::any_of(std::begin(kTemplates), std::end(kTemplates),
                                       [&](const Template& t) { return e.key.template_name == t.name; });
        if (!known) {
            error += where + "unknown template '" + e.key.template_name + "'\n";
            continue;
        }
        if (!verdict(kernel_word, "kernel", e.key.kernel_accepts)) {
            error += where + usage;
            continue;
        }
        if (verdict(bpfvm_word, "bpfvm", e.key.bpfvm_accepts)) {
            e.key.mode = "bpfvm";
        } else if (verdict(bpfvm_word, "bpfvm-unprivileged", e.key.bpfvm_accepts) && e.key.bpfvm_accepts) {
            e.key.mode = "bpfvm-unprivileged";
        } else {
            error += where + usage;
            continue;
        }
        if (e.key.kernel_accepts == e.key.bpfvm_accepts) {
            error += where + "the kernel's and bpfvm's verdicts are the same: not a difference\n";
            continue;
        }
        if (words.peek() != '"') {
            error += where + "the substring to match must follow the verdicts, in double quotes\n";
            continue;
        }
        words.get();
        if (!std::getline(words, e.match, '"')) {
            error += where + "unterminated quoted substring\n";
            continue;
        }
        std::getline(words >> std::ws, e.reason);
        if (e.reason.empty()) {
            error += where + "a reason is required\n";
            continue;
        }
        out.push_back(std::move(e));
    }
    return out;
}

size_t env_number(const char* name, size_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    return static_cast<size_t>(std::strtoull(text, nullptr, 0));
}

struct Tally {
    size_t programs = 0, both_accept = 0, both_reject = 0, precision_gaps = 0, alarms = 0,
           unprivileged_alarms = 0, expected = 0;
    double kernel_seconds = 0, bpfvm_seconds = 0;
};

struct Example {
    size_t index = 0;
    size_t length = 0;
    std::string text;
};

struct Group {
    size_t count = 0;
    std::vector<Example> examples;  // the shortest programs, at most kExamples
};
constexpr size_t kExamples = 2;

TEST(KernelVerdictDifferential, GeneratedProgramsGetTheKernelsVerdict) {
    if (std::string why = probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    const size_t count = env_number("BPFVM_KERNEL_DIFF_PROGRAMS", kDefaultPrograms);
    const uint64_t seed = env_number("BPFVM_KERNEL_DIFF_SEED", kDefaultSeed);
    const char* dump_env = std::getenv("BPFVM_KERNEL_DIFF_DUMP");
    const std::string dump = dump_env == nullptr ? "" : dump_env;
    if (!dump.empty()) std::filesystem::create_directories(dump);

    std::string parse_error;
    const std::filesystem::path expectations_path =
        std::filesystem::path(BPFVM_SOURCE_DIR) / "tests" / "corpus" / "kernel_verdict_expectations.txt";
    std::vector<ExpectationLine> expectations = read_expectations(expectations_path, parse_error);
    EXPECT_EQ(parse_error, "");

    KernelMaps kernel_maps;
    std::map<std::string, Tally> tallies;
    // Differences no expectation covers, by their sides and the rejecting side's signature.
    std::map<std::pair<DifferenceKey, std::string>, Group> unexpected;
    using Clock = std::chrono::steady_clock;

    for (size_t i = 0; i < count; ++i) {
        const Generated p = generate(seed, i);
        Tally& tally = tallies[p.name];
        ++tally.programs;
        std::vector<int> fds;
        for (const MapSpec& spec : p.maps) {
            const int fd = kernel_maps.fd(spec);
            ASSERT_GE(fd, 0) << "bpf_map_create(" << isa::map_type_name(spec.type) << ", key "
                             << spec.key_size << ", value " << spec.value_size << "): " << std::strerror(-fd);
            fds.push_back(fd);
        }
        const auto t0 = Clock::now();
        const Verdict kernel = kernel_verify(p, fds);
        const auto t1 = Clock::now();
        auto decoded = isa::decode_program(bytes_of(p));
        std::optional<isa::Program> program;
        std::string decode_error;
        if (decoded)
            program = std::move(*decoded);
        else
            decode_error = decoded.error().to_string();
        const Verdict privileged = bpfvm_verify(p, program, decode_error, true);
        // The unprivileged rules are stricter: where the privileged ones ran out of budget, so
        // would they (and that takes a while).
        const Verdict unprivileged =
            privileged.too_complex ? privileged : bpfvm_verify(p, program, decode_error, false);
        const auto t2 = Clock::now();
        tally.kernel_seconds += std::chrono::duration<double>(t1 - t0).count();
        tally.bpfvm_seconds += std::chrono::duration<double>(t2 - t1).count();

        auto record = [&](const std::string& mode) {
            const DifferenceKey key{p.name, kernel.accepted, mode,
                                    mode == "bpfvm" ? privileged.accepted : unprivileged.accepted};
            const std::string& reason = kernel.accepted ? privileged.summary : kernel.summary;
            auto verdict_text = [](const Verdict& v) {
                return v.accepted ? std::string("accepted\n") : "rejected: " + v.summary + "\n" + v.detail;
            };
            const std::string text = "  program " + std::to_string(i) + " (" +
                                     std::string(isa::program_type_name(p.type)) + ", " +
                                     std::to_string(p.code.size()) + " slots):\n" + describe_maps(p) +
                                     listing(p, program) + "  kernel (root): " + verdict_text(kernel) +
                                     "  bpfvm --privileged: " + verdict_text(privileged) +
                                     "  bpfvm (default, unprivileged): " + verdict_text(unprivileged);
            if (!dump.empty()) {
                std::ofstream out(std::filesystem::path(dump) /
                                  (p.name + "-" + std::to_string(i) + "-" + mode + ".txt"));
                out << to_string(key) << "\n" << text;
            }
            auto expected =
                std::find_if(expectations.begin(), expectations.end(), [&](const ExpectationLine& e) {
                    return e.key == key && reason.find(e.match) != std::string::npos;
                });
            if (expected != expectations.end()) {
                ++expected->matched;
                ++tally.expected;
                return;
            }
            Group& group = unexpected[{key, signature(reason)}];
            ++group.count;
            group.examples.push_back({i, p.code.size(), text});
            std::sort(group.examples.begin(), group.examples.end(), [](const Example& a, const Example& b) {
                return std::tie(a.length, a.index) < std::tie(b.length, b.index);
            });
            if (group.examples.size() > kExamples) group.examples.pop_back();
        };
        if (kernel.accepted == privileged.accepted) {
            ++(kernel.accepted ? tally.both_accept : tally.both_reject);
        } else {
            ++(kernel.accepted ? tally.precision_gaps : tally.alarms);
            record("bpfvm");
        }
        // Accepted by the default rules but by neither the kernel nor bpfvm's privileged rules.
        if (unprivileged.accepted && !kernel.accepted && !privileged.accepted) {
            ++tally.unprivileged_alarms;
            record("bpfvm-unprivileged");
        }
    }

    utsname host{};
    uname(&host);
    std::printf("kernel verdict differential: %zu programs, seed 0x%llx, kernel %s\n", count,
                static_cast<unsigned long long>(seed), host.release);
    std::printf("  %-18s %8s %7s %7s %9s %6s %7s %8s %8s %8s\n", "template", "programs", "accept", "reject",
                "precision", "ALARM", "unpriv!", "expected", "kernel s", "bpfvm s");
    Tally total;
    auto print_row = [](const std::string& name, const Tally& t) {
        std::printf("  %-18s %8zu %7zu %7zu %9zu %6zu %7zu %8zu %8.2f %8.2f\n", name.c_str(), t.programs,
                    t.both_accept, t.both_reject, t.precision_gaps, t.alarms, t.unprivileged_alarms,
                    t.expected, t.kernel_seconds, t.bpfvm_seconds);
    };
    for (const auto& [name, t] : tallies) {
        print_row(name, t);
        total.programs += t.programs;
        total.both_accept += t.both_accept;
        total.both_reject += t.both_reject;
        total.precision_gaps += t.precision_gaps;
        total.alarms += t.alarms;
        total.unprivileged_alarms += t.unprivileged_alarms;
        total.expected += t.expected;
        total.kernel_seconds += t.kernel_seconds;
        total.bpfvm_seconds += t.bpfvm_seconds;
    }
    print_row("total", total);
    std::printf(
        "  accept, reject: the kernel (as root) and bpfvm --privileged agree; precision: the kernel "
        "accepts,\n"
        "  bpfvm rejects; ALARM: the kernel rejects, bpfvm accepts; unpriv!: only bpfvm's default\n"
        "  (unprivileged) rules accept; expected: differences kernel_verdict_expectations.txt lists.\n");
    for (const ExpectationLine& e : expectations)
        std::printf("  expectation line %d (%s \"%s\"): %zu programs\n", e.line, to_string(e.key).c_str(),
                    e.match.c_str(), e.matched);

    for (const auto& [what, group] : unexpected) {
        const auto& [key, sig] = what;
        std::string text;
        for (const Example& e : group.examples) text += e.text;
        ADD_FAILURE() << (key.kernel_accepts ? "precision gap" : "SOUNDNESS ALARM") << ": " << to_string(key)
                      << " \"" << sig << "\" in " << group.count << " programs; the shortest:\n"
                      << text;
    }
    if (count >= kDefaultPrograms && seed == kDefaultSeed) {
        for (const ExpectationLine& e : expectations)
            if (e.matched == 0)
                ADD_FAILURE() << expectations_path.filename().string() << ":" << e.line
                              << ": no generated program differs this way any more: " << to_string(e.key)
                              << " \"" << e.match << "\"";
    }
}

}  // namespace
}  // namespace bpfvm::corpus_test
