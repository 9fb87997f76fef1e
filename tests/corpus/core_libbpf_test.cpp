// CO-RE relocation against libbpf, the reference loader: libbpf relocates core_fields.bpf.o
// against the running kernel's BTF and loads it (the kernel verifier accepts it, so libbpf's
// relocation is the one the kernel runs); bpfvm relocates the same section against
// /sys/kernel/btf/vmlinux. The instructions must be identical, relocated slots included
// (offsets, immediates, access sizes, the poisoned guarded read).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/loader/core.hpp"
#include "corpus/corpus_support.hpp"
#include "loader/core_test_support.hpp"

namespace bpfvm::loader {
namespace {

constexpr const char* kObject = "core_fields.bpf.o";
constexpr const char* kSection = "kprobe/do_nanosleep";
constexpr const char* kProgram = "core_fields";

std::string describe(const isa::RawInstruction& r) {
    char text[96];
    std::snprintf(text, sizeof text, "code=0x%02x dst=%u src=%u off=%d imm=%d", r.opcode, r.dst(), r.src(),
                  r.offset, r.imm);
    return text;
}

TEST(CoreLibbpf, RelocatedSectionMatchesWhatLibbpfLoads) {
    if (std::string why = corpus_test::probe_bpf_syscall(); !why.empty()) GTEST_SKIP() << why;
    std::string why;
    std::optional<Btf> vmlinux = core_test::read_vmlinux_btf(why);
    if (!vmlinux) GTEST_SKIP() << why;
    core_test::CoreObject object = core_test::read_core_object(kObject);
    if (!object.skip_reason.empty()) GTEST_SKIP() << object.skip_reason;
    auto records = object.core_relos.find(kSection);
    ASSERT_NE(records, object.core_relos.end());

    // bpfvm's relocation.
    std::vector<isa::RawInstruction> ours = object.slots(kSection);
    ASSERT_FALSE(ours.empty());
    std::vector<CorePoison> poisoned;
    Status status =
        apply_core_relocations(ours, kSection, records->second, *object.btf, *vmlinux, kObject, poisoned);
    ASSERT_TRUE(status.ok()) << status.error().to_string();

    // libbpf's, as passed to the kernel.
    corpus_test::libbpf_messages.clear();
    corpus_test::ObjectPtr obj = corpus_test::open_object(std::filesystem::path(BPFVM_CORPUS_DIR) / kObject);
    ASSERT_TRUE(obj) << corpus_test::libbpf_messages;
    bpf_program* prog = bpf_object__find_program_by_name(obj.get(), kProgram);
    ASSERT_NE(prog, nullptr);
    ASSERT_EQ(bpf_object__load(obj.get()), 0) << corpus_test::libbpf_messages;
    const bpf_insn* insns = bpf_program__insns(prog);
    const size_t count = bpf_program__insn_cnt(prog);
    ASSERT_NE(insns, nullptr);
    ASSERT_EQ(count, ours.size()) << "the program is the whole section, with no subprograms";

    std::vector<bool> relocated(ours.size(), false);
    for (const BtfCoreRelo& r : records->second) relocated.at(r.insn_off / 8) = true;
    size_t compared_relocated = 0;
    for (size_t i = 0; i < count; ++i) {
        isa::RawInstruction theirs;
        theirs.opcode = insns[i].code;
        theirs.regs = isa::RawInstruction::pack_regs(insns[i].dst_reg, insns[i].src_reg);
        theirs.offset = insns[i].off;
        theirs.imm = insns[i].imm;
        // libbpf puts map file descriptors into map references (ld_imm64 with a pseudo source,
        // and its second slot); bpfvm's ELF relocation of those is not under test here.
        const bool map_reference =
            (theirs.opcode == (BPF_LD | BPF_IMM | BPF_DW) && theirs.src() != 0) ||
            (i > 0 && insns[i - 1].code == (BPF_LD | BPF_IMM | BPF_DW) && insns[i - 1].src_reg != 0);
        if (map_reference) continue;
        EXPECT_EQ(ours[i], theirs) << "slot " << i << (relocated[i] ? " (CO-RE relocated)" : "") << ": bpfvm "
                                   << describe(ours[i]) << ", libbpf " << describe(theirs);
        if (relocated[i]) ++compared_relocated;
    }
    EXPECT_EQ(compared_relocated, static_cast<size_t>(std::count(relocated.begin(), relocated.end(), true)));
    EXPECT_GE(compared_relocated, 25u);
    // libbpf poisoned the same guarded read.
    ASSERT_EQ(poisoned.size(), 1u);
    EXPECT_EQ(insns[poisoned[0].slot].imm, kCorePoisonHelperId);
}

}  // namespace
}  // namespace bpfvm::loader
