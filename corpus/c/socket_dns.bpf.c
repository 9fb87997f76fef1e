// bpfvm-expect: program socket dns_filter socket_filter
// bpfvm-expect: map .rodata array 4 24 1
// bpfvm-expect: map .data array 4 12 1
// bpfvm-expect: map .bss array 4 312 1
// bpfvm-expect: verdict dns_filter accept
// bpfvm-expect: loadable yes
// bpfvm-expect: run query dns_filter --packet 02000000000202000000000108004500003d000100004011667a0a0000010a0000359c4000350029f26012340100000100000000000003777777076578616d706c6503636f6d0000010001
// bpfvm-expect: result query {"r0": 61, "error": null, "maps": {".bss": {"entries": [{"value": {"counters": {"packets": 1, "dns": 1, "queries": 1, "responses": 0, "kept": 1, "bad_names": 0, "name_bytes": 13}, "qtype_count": [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}}]}}}
// bpfvm-expect: run response dns_filter --packet 020000000002020000000001080045000059000100004011665e0a0000350a00000100359c400045f0e512348180000100010000000003777777076578616d706c6503636f6d00001c0001c00c001c00010000012c001000000000000000000000000000000000
// bpfvm-expect: result response {"r0": 89, "error": null, "maps": {".bss": {"entries": [{"value": {"counters": {"responses": 1, "kept": 1}, "qtype_count": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]}}]}}}
// bpfvm-expect: run long_name dns_filter --packet 0200000000020200000000010800450000450001000040118fa30a000009e00000fb14e914e90031faeb000000000001000000000000016101620163016401650166016701680169056c6f63616c00000c0001
// bpfvm-expect: result long_name {"r0": 69, "error": null, "maps": {".bss": {"entries": [{"value": {"counters": {"queries": 1, "bad_names": 1}}}]}}}
// bpfvm-expect: run not_dns dns_filter --packet 02000000000202000000000108004500004c000100004011669b0a0000010a0000059c40007b00382bbd230000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
// bpfvm-expect: result not_dns {"r0": 0, "error": null, "maps": {".bss": {"entries": [{"value": {"counters": {"packets": 1, "dns": 0}}}]}}}
// bpfvm-expect: run sampled dns_filter --repeat 2 --packet 02000000000202000000000108004500003d000100004011667a0a0000010a0000359c4000350029f26012340100000100000000000003777777076578616d706c6503636f6d0000010001 --map .data=inputs/dns_sample_every_2.json
// bpfvm-expect: result sampled {"r0": 61, "error": null, "maps": {".bss": {"entries": [{"value": {"counters": {"packets": 2, "dns": 1, "kept": 1}}}]}}}
//
// A DNS sniffer as a socket filter, bcc style: attached to a raw IPv4 socket
// (AF_INET, SOCK_RAW), where the packet starts at the IP header (as
// BPF_PROG_TEST_RUN also presents it). It keeps DNS queries and responses
// (truncated to a snap length) and drops everything else, counting query
// types on the way. Global variables of every kind:
//  - .rodata (`const volatile`, set by the loader): the list of DNS ports and
//    its length, used as a loop bound; the snap length; the maximum number of
//    QNAME labels, a loop bound too; feature flags (count only, keep
//    responses);
//  - .data: an initialised sampling divisor and a tag;
//  - .bss: counters, and a per-query-type array indexed by a masked value.
// Packet access the old way: the LD_ABS/LD_IND instructions (bcc's
// load_byte/load_half, clang's llvm.bpf.load.* intrinsics) for the IP and UDP
// headers, bpf_skb_load_bytes for the DNS header and the QNAME walk; skb->len
// and skb->protocol from the context.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// LD_ABS / LD_IND: the value comes back in host byte order.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define MAX_PORTS 4
#define QTYPES 32

struct config {
    __u16 ports[MAX_PORTS];
    __u32 nports;
    __u32 snap_len;
    __u32 max_labels;
    bool count_only;
    bool keep_responses;
};

const volatile struct config cfg = {
    .ports = {53, 5353, 5355},
    .nports = 3,
    .snap_len = 256,
    .max_labels = 8,
    .count_only = false,
    .keep_responses = true,
};

// .data
__u32 sample_every = 1;
char tag[8] = "dns";

// .bss
struct counters {
    __u64 packets;
    __u64 dns;
    __u64 queries;
    __u64 responses;
    __u64 kept;
    __u64 bad_names;
    __u64 name_bytes;
} counters;
__u64 qtype_count[QTYPES];

struct dnshdr {
    __be16 id;
    __be16 flags;
    __be16 qdcount;
    __be16 ancount;
    __be16 nscount;
    __be16 arcount;
};

static __always_inline bool dns_port(__u16 port) {
    for (__u32 i = 0; i < MAX_PORTS; i++) {
        if (i >= cfg.nports)
            break;
        if (cfg.ports[i] == port)
            return true;
    }
    return false;
}

// Walks the QNAME of the first question, from `off`; returns the offset of
// the QTYPE after it, or 0 for a name that is too long or runs off the packet.
static __always_inline __u32 skip_qname(struct __sk_buff *skb, __u32 off) {
    __u32 name_bytes = 0;
    for (__u32 i = 0; i < 16; i++) {
        if (i >= cfg.max_labels)
            return 0;
        __u8 len;
        if (bpf_skb_load_bytes(skb, off, &len, 1) < 0)
            return 0;
        if (len == 0) {
            counters.name_bytes += name_bytes;
            return off + 1;
        }
        if (len > 63) // a compression pointer or garbage: not in a question
            return 0;
        name_bytes += len;
        off += len + 1;
    }
    return 0;
}

SEC("socket")
int dns_filter(struct __sk_buff *skb) {
    __sync_fetch_and_add(&counters.packets, 1);
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return 0;
    if (sample_every > 1 && counters.packets % sample_every)
        return 0;

    __u8 vihl = load_byte(skb, 0);
    if ((vihl >> 4) != 4)
        return 0;
    __u32 ihl = (vihl & 0x0f) * 4;
    if (ihl < 20)
        return 0;
    if (load_byte(skb, 9) != IPPROTO_UDP)
        return 0;
    if (load_half(skb, 6) & 0x3fff) // fragments
        return 0;
    __u16 sport = load_half(skb, ihl);
    __u16 dport = load_half(skb, ihl + 2);
    bool response = dns_port(sport);
    if (!response && !dns_port(dport))
        return 0;
    __sync_fetch_and_add(&counters.dns, 1);

    struct dnshdr dns;
    __u32 dns_off = ihl + 8;
    if (bpf_skb_load_bytes(skb, dns_off, &dns, sizeof(dns)) < 0)
        return 0;
    bool is_response = bpf_ntohs(dns.flags) & 0x8000;
    if (is_response)
        __sync_fetch_and_add(&counters.responses, 1);
    else
        __sync_fetch_and_add(&counters.queries, 1);

    if (bpf_ntohs(dns.qdcount) > 0) {
        __u32 qtype_off = skip_qname(skb, dns_off + sizeof(dns));
        __be16 qtype;
        if (qtype_off == 0 || bpf_skb_load_bytes(skb, qtype_off, &qtype, sizeof(qtype)) < 0) {
            __sync_fetch_and_add(&counters.bad_names, 1);
        } else {
            __sync_fetch_and_add(&qtype_count[bpf_ntohs(qtype) & (QTYPES - 1)], 1);
        }
    }
    if (cfg.count_only || (is_response && !cfg.keep_responses))
        return 0;
    __sync_fetch_and_add(&counters.kept, 1);
    return skb->len < cfg.snap_len ? skb->len : cfg.snap_len;
}

char LICENSE[] SEC("license") = "GPL";
