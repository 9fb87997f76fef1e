// Programs in a section libbpf does not know ("test", as bpf_conformance-style objects use),
// and nothing in any section it knows: each global function is a program.
#include <linux/types.h>

__attribute__((section("test"))) __u64 entry(const __u8 *data, __u64 length) {
    return length > 2 ? data[0] + data[1] : length;
}
