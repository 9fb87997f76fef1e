#include <cmath>
#include <cstring>

#include "bpfvm/vm/helpers.hpp"

namespace bpfvm::vm {
namespace {

Result<HelperReturn> gather_bytes(const HelperCall& call) {
    const auto& a = call.args;
    uint64_t r0 =
        (a[0] & 0xff) << 32 | (a[1] & 0xff) << 24 | (a[2] & 0xff) << 16 | (a[3] & 0xff) << 8 | (a[4] & 0xff);
    return HelperReturn{r0};
}

Result<HelperReturn> memfrob(const HelperCall& call) {
    uint64_t addr = call.args[0], len = call.args[1];
    if (len == 0) return HelperReturn{0};
    if (auto s = call.check(addr, len, Access::Write); !s) return s.error();
    auto* bytes = reinterpret_cast<uint8_t*>(addr);
    for (uint64_t i = 0; i < len; ++i) bytes[i] ^= 42;
    return HelperReturn{0};
}

Result<HelperReturn> no_op(const HelperCall&) {
    return HelperReturn{0};
}

// Integer square root: the largest r with r * r <= x.
Result<HelperReturn> sqrti(const HelperCall& call) {
    uint64_t x = call.args[0];
    auto r = static_cast<uint64_t>(std::sqrt(static_cast<long double>(x)));
    // Correct the floating-point estimate by at most a step each way.
    while (r > 0 && (r > UINT32_MAX || r * r > x)) --r;
    while (r + 1 <= UINT32_MAX && (r + 1) * (r + 1) <= x) ++r;
    return HelperReturn{r};
}

Result<HelperReturn> strcmp_ext(const HelperCall& call) {
    auto a_len = call.memory.string_length(call.args[0], call.instruction);
    if (!a_len) return a_len.error();
    auto b_len = call.memory.string_length(call.args[1], call.instruction);
    if (!b_len) return b_len.error();
    int r =
        std::strcmp(reinterpret_cast<const char*>(call.args[0]), reinterpret_cast<const char*>(call.args[1]));
    return HelperReturn{static_cast<uint64_t>(static_cast<int64_t>(r))};
}

Result<HelperReturn> unwind(const HelperCall& call) {
    uint64_t a = call.args[0];
    return HelperReturn{a, a == 0};
}

}  // namespace

HelperTable conformance_helpers() {
    HelperTable table;
    table.add(0, "gather_bytes", gather_bytes);
    table.add(1, "memfrob", memfrob);
    table.add(2, "no_op", no_op);
    table.add(3, "sqrti", sqrti);
    table.add(4, "strcmp_ext", strcmp_ext);
    table.add(5, "unwind", unwind);
    return table;
}

}  // namespace bpfvm::vm
