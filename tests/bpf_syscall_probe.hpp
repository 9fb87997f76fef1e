// The probe for a usable bpf() syscall, shared by every test that asks the running kernel
// (the corpus tests, the kernel-JIT differential): they skip with its message where it fails.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bpfvm::test_support {

// Loads a trivial program; returns an empty string when that works, else why it did not.
inline std::string probe_bpf_syscall() {
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfvm_probe", "GPL", insns, 2, nullptr);
    if (fd >= 0) {
        close(fd);
        return {};
    }
    return std::string("bpf(BPF_PROG_LOAD) of a trivial program failed: ") + std::strerror(errno) +
           " (needs root or CAP_BPF on Linux; skipping the tests that ask the running kernel)";
}

}  // namespace bpfvm::test_support
