// bpfvm-conformance-plugin: the same as `bpfvm conformance-plugin`, as its own executable because
// the bpf_conformance runner calls a plugin with the memory hex as the first argument.
#include <iostream>

#include "bpfvm/tools/commands.hpp"

int main(int argc, char** argv) {
    bpfvm::tools::PluginOptions options;
    if (argc > 1) options.memory_hex = argv[1];
    for (int i = 2; i < argc; ++i) options.plugin_options.emplace_back(argv[i]);
    return bpfvm::tools::conformance_plugin_command(options, std::cin, std::cout);
}
