#!/usr/bin/env bash
# Set up, build and check bpfvm on Debian 12.
#   ./setup.sh demo   install what is missing, build, verify and run a bundled example
#   ./setup.sh test   install what is missing, build (plain, ASan+UBSan, libFuzzer), run every test
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}
jobs=$(nproc)

install_missing_packages() {
    local missing=()
    while read -r pkg; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done < packages.txt
    if ((${#missing[@]})); then
        echo "setup: installing ${missing[*]}"
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
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
    ;;
*)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
