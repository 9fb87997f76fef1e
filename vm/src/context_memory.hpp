// How the runtime lays out a program's context in memory: the uapi struct the program was
// compiled against (struct xdp_md, struct __sk_buff, ...), then the 64-bit packet pointers
// that rewritten loads of its 32-bit data / data_end / data_meta fields read, as the kernel's
// convert_ctx_access turns those loads into loads of xdp_buff / sk_buff pointers.
#pragma once

#include <cstdint>

#include "bpfvm/isa/contexts.hpp"

namespace bpfvm::vm {

struct ContextMemoryLayout {
    uint32_t struct_size = 0;      // the uapi struct: what the program addresses directly
    uint32_t pointers_offset = 0;  // struct_size rounded up to 8: data, data_end, data_meta
    uint32_t total_size = 0;

    // The offset of the 64-bit pointer a packet field's load is rewritten to read.
    uint32_t pointer_offset(isa::ContextFieldKind kind) const {
        switch (kind) {
            case isa::ContextFieldKind::PacketEnd: return pointers_offset + 8;
            case isa::ContextFieldKind::PacketMeta: return pointers_offset + 16;
            default: return pointers_offset;
        }
    }
};

inline ContextMemoryLayout context_memory_layout(uint32_t struct_size) {
    ContextMemoryLayout layout;
    layout.struct_size = struct_size;
    layout.pointers_offset = (struct_size + 7) & ~uint32_t{7};
    layout.total_size = layout.pointers_offset + 24;
    return layout;
}

}  // namespace bpfvm::vm
