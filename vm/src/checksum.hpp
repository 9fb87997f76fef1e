// Internet checksums as the kernel computes them for BPF programs: bpf_csum_diff,
// bpf_l3_csum_replace and bpf_l4_csum_replace (net/core/filter.c) over the arithmetic of
// include/net/checksum.h and x86-64's csum_partial. Pure functions on host bytes: callers check
// that the memory is the program's. Internal to the vm library.
//
// Byte order: like the kernel on x86-64 and arm64, a 16-bit checksum field and the from/to values
// are the little-endian loads of network-order bytes (what a program gets from *(u16 *)ptr).
#pragma once

#include <cstdint>
#include <span>

namespace bpfvm::vm {

// uapi flag bits of the csum_replace helpers.
inline constexpr uint64_t kBpfHdrFieldMask = 0xf;        // BPF_F_HDR_FIELD_MASK: size 0, 2 or 4
inline constexpr uint64_t kBpfPseudoHdr = 1ull << 4;     // BPF_F_PSEUDO_HDR
inline constexpr uint64_t kBpfMarkMangled0 = 1ull << 5;  // BPF_F_MARK_MANGLED_0
inline constexpr uint64_t kBpfMarkEnforce = 1ull << 6;   // BPF_F_MARK_ENFORCE
inline constexpr uint64_t kBpfIpv6 = 1ull << 7;          // BPF_F_IPV6
inline constexpr uint16_t kCsumMangled0 = 0xffff;        // CSUM_MANGLED_0

// The kernel's one's-complement primitives (__wsum is a 32-bit partial sum).
uint32_t csum_add(uint32_t csum, uint32_t addend);
uint32_t csum_sub(uint32_t csum, uint32_t addend);
uint16_t csum_fold(uint32_t csum);        // folded to 16 bits and complemented
uint16_t csum_from32to16(uint32_t csum);  // folded to 16 bits, not complemented

// x86-64's csum_partial: `bytes` added to `seed` as 64-bit little-endian words with end-around
// carry, in the order arch/x86/lib/csum-partial_64.c adds them, folded to 32 bits. The generic C
// version can return a different (equivalent) 32-bit value; this one matches the machines the
// differential tests run on.
uint32_t csum_partial(std::span<const uint8_t> bytes, uint32_t seed);

// bpf_csum_diff as of Linux 6.13 (and the 6.18 the differential tests run on): any sizes, no
// scratch buffer, and the result folded to 16 bits (csum_from32to16) whichever sizes are zero.
// Older kernels required sizes that are multiples of 4 with from_size + to_size <= 512 and returned
// the unfolded 32-bit csum_partial of a diff buffer.
uint64_t csum_diff(std::span<const uint8_t> from, std::span<const uint8_t> to, uint32_t seed);

// The checks bpf_l3_csum_replace / bpf_l4_csum_replace make before touching the packet, in the
// kernel's order: -EINVAL for flags the helper does not know, then -EFAULT for an offset above
// 0xffff or odd. 0 when the caller should go on: -EFAULT when offset + 2 is past the packet, else
// call l3_csum_replace / l4_csum_replace on the two bytes.
int64_t csum_replace_check(bool layer4, uint64_t offset, uint64_t flags);

// bpf_l3_csum_replace on the 2-byte checksum `field`: flags & BPF_F_HDR_FIELD_MASK gives the size
// of the changed data, 2 (csum_replace2) or 4 (csum_replace4), or 0 where `to` is a checksum
// difference (as bpf_csum_diff returns) and `from` must be 0. Returns 0 or -EINVAL.
int64_t l3_csum_replace(uint8_t* field, uint64_t from, uint64_t to, uint64_t flags);

// bpf_l4_csum_replace: as l3 and, with BPF_F_MARK_MANGLED_0, a zero checksum (a UDP packet without
// one) is left alone unless BPF_F_MARK_ENFORCE is set too, and a result of 0 is stored as
// CSUM_MANGLED_0. BPF_F_PSEUDO_HDR and BPF_F_IPV6 change only skb->csum, which bpfvm does not
// model (the packet is treated as ip_summed != CHECKSUM_PARTIAL). Returns 0 or -EINVAL.
int64_t l4_csum_replace(uint8_t* field, uint64_t from, uint64_t to, uint64_t flags);

// RFC 1071 internet checksum of `bytes`: the value to store, big-endian, in a header's checksum
// field (0 for an all-zero buffer of even length; checking a buffer with its checksum in place
// gives 0).
uint16_t internet_checksum(std::span<const uint8_t> bytes);

}  // namespace bpfvm::vm
