// Arbitrary bytes as BTF (and, after a split point, BTF.ext): parsing ends in a value or an
// error; every parsed type prints, resolves and sizes without crashing or running away.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bpfvm/loader/btf.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    // The first two bytes say where BTF ends and BTF.ext begins.
    size_t split = 2 + (static_cast<size_t>(data[0]) | static_cast<size_t>(data[1]) << 8) % (size - 1);
    std::span<const uint8_t> btf_bytes(data + 2, split - 2);
    std::span<const uint8_t> ext_bytes(data + split, size - split);
    auto btf = loader::Btf::parse(btf_bytes);
    if (!btf) return 0;
    for (uint32_t id = 0; id < btf->type_count(); ++id) {
        (void)btf->to_string(id);
        (void)btf->resolve(id);
        (void)btf->size_of(id);
    }
    auto ext = loader::BtfExt::parse(ext_bytes, *btf);
    if (ext) {
        for (const auto& section : ext->sections()) {
            for (const auto& line : section.line_infos) {
                if (line.file_name.data() == nullptr && !line.file_name.empty()) std::abort();
            }
        }
    }
    return 0;
}
