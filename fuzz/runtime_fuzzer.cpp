// Arbitrary programs run through the runtime with a map of every kind and the kernel helpers:
// whatever a program does with its registers (wild pointers, bogus map handles, huge sizes,
// unreserved ring buffer records, callbacks into the middle of nowhere), the run must end in a
// result or an error that says why, touching only memory the program was given (ASan checks).
//
// Input: [program type selector] [packet length] [packet bytes] [program bytes...]
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bpfvm/isa/decoder.hpp"
#include "bpfvm/vm/interpreter.hpp"
#include "bpfvm/vm/runtime.hpp"

using namespace bpfvm;

namespace {

vm::MapSpec map(const char* name, isa::MapType type, uint32_t key, uint32_t value, uint32_t entries,
                uint32_t flags = 0) {
    vm::MapSpec spec;
    spec.name = name;
    spec.type = type;
    spec.key_size = key;
    spec.value_size = value;
    spec.max_entries = entries;
    spec.flags = flags;
    return spec;
}

constexpr isa::ProgramType kTypes[] = {
    isa::ProgramType::Xdp,    isa::ProgramType::SchedCls,      isa::ProgramType::SocketFilter,
    isa::ProgramType::Kprobe, isa::ProgramType::RawTracepoint, isa::ProgramType::Syscall,
    isa::ProgramType::Bytes,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const isa::ProgramType type = kTypes[data[0] % std::size(kTypes)];
    const size_t packet_size = std::min<size_t>(data[1], size - 2);
    std::vector<uint8_t> packet(data + 2, data + 2 + packet_size);
    auto program =
        isa::decode_program(std::span<const uint8_t>(data + 2 + packet_size, size - 2 - packet_size));
    if (!program) return 0;

    vm::ProgramSpec spec;
    spec.name = "fuzz";
    spec.type = type;
    spec.code = std::move(*program);
    std::vector<vm::MapSpec> maps = {
        map("array", isa::MapType::Array, 4, 8, 4),        map("hash", isa::MapType::Hash, 4, 8, 8),
        map("percpu", isa::MapType::PercpuArray, 4, 8, 2), map("lru", isa::MapType::LruHash, 4, 8, 2),
        map("queue", isa::MapType::Queue, 0, 8, 4),        map("ring", isa::MapType::Ringbuf, 0, 0, 4096),
        map("jump", isa::MapType::ProgArray, 4, 4, 2),     map("perf", isa::MapType::PerfEventArray, 4, 4, 2),
        map("lpm", isa::MapType::LpmTrie, 8, 4, 8, 1),     map("devices", isa::MapType::Devmap, 4, 4, 4),
    };
    vm::RuntimeOptions options;
    options.map_limits.cpus = 2;
    options.instruction_budget = 20000;
    auto runtime = vm::Runtime::create(std::move(maps), {std::move(spec)}, options);
    if (!runtime) std::abort();  // the maps above are valid
    const uint32_t slot = 0;
    if (!(*runtime)->set_reference(6, std::span(reinterpret_cast<const uint8_t*>(&slot), 4), 0)) std::abort();

    vm::RunRequest request;
    request.packet = std::move(packet);
    if (type != isa::ProgramType::Xdp && type != isa::ProgramType::SchedCls &&
        type != isa::ProgramType::SocketFilter && type != isa::ProgramType::Bytes) {
        request.context.assign(request.packet.begin(), request.packet.end());
        request.packet.clear();
    }
    vm::Interpreter engine;
    auto outcome = (*runtime)->run(0, request, engine);
    if (!outcome) {
        if (outcome.error().message.empty()) std::abort();
        return 0;
    }
    if (outcome->error && outcome->error->message.empty()) std::abort();
    return 0;
}
