#!/usr/bin/env bash
# Set up, build and check bpfvm on Debian 12.
#   ./setup.sh demo   install what is missing, build, verify and run a bundled example
#   ./setup.sh test   install what is missing, build (plain, ASan+UBSan, libFuzzer, arm64 cross
#                     build), run every test (the arm64 set under qemu-aarch64)
#   ./setup.sh arm64  only the arm64 step of `test`
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}
jobs=$(nproc)

# install_missing_packages [LIST]: the packages of LIST (packages.txt) that are not installed.
install_missing_packages() {
    local list=${1:-packages.txt}
    local missing=()
    while read -r pkg; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done < "$list"
    if ((${#missing[@]})); then
        echo "setup: installing ${missing[*]}"
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# The arm64 cross toolchain, qemu-user and the arm64 libraries (packages-arm64.txt): Debian's
# multiarch needs the arm64 architecture first.
install_arm64_packages() {
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "setup: adding the arm64 architecture to dpkg"
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo=sudo
        $sudo dpkg --add-architecture arm64
    fi
    install_missing_packages packages-arm64.txt
}

# The arm64 test set (ctest label arm64), cross-built into build-arm64 and run under qemu-aarch64:
# only the targets it needs (the CLI, the JIT and corpus test binaries, the BPF corpus).
arm64_tests() {
    echo "== arm64: cross build, the arm64 test set under qemu-aarch64"
    install_arm64_packages
    cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake >/dev/null
    cmake --build build-arm64 -j "$jobs" --target bpfvm bpfvm_jit_tests bpfvm_corpus_tests
    (cd build-arm64 && ctest --output-on-failure -j "$jobs" -L arm64)
}

# build DIR [cmake options...]
build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

install_missing_packages
case "$mode" in
demo)
    build build
    object=build/corpus/xdp_firewall.bpf.o
    capture=corpus/packets/firewall.pcap
    echo "== bpfvm info $object"
    build/tools/bpfvm info "$object"
    echo "== bpfvm verify $object --stats"
    build/tools/bpfvm verify "$object" --stats
    echo "== bpfvm run $object --pcap $capture --dump-maps"
    build/tools/bpfvm run "$object" --pcap "$capture" --dump-maps
    ;;
test)
    build build
    build build-asan -DBPFVM_SANITIZE=ON
    echo "== tests"
    (cd build && ctest --output-on-failure -j "$jobs")
    echo "== tests under AddressSanitizer and UndefinedBehaviorSanitizer"
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs")
    echo "== fuzz smoke runs (libFuzzer, clang-19)"
    CC=clang-19 CXX=clang++-19 build build-fuzz -DBPFVM_FUZZ=ON -DBPFVM_TESTS=OFF
    (cd build-fuzz && ctest --output-on-failure -L fuzz-smoke)
    arm64_tests
    ;;
arm64)
    arm64_tests
    ;;
*)
    echo "usage: $0 demo|test|arm64" >&2
    exit 2
    ;;
esac
