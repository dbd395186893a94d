#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs the Debian packages
# pfor needs (only those missing), builds, and runs something.
#
#   ./setup.sh demo    build in Release, then count the primes below 10^10 on
#                      an embedded cluster (every local core, nothing to start)
#   ./setup.sh test    build, then run every test (unit, integration, examples,
#                      chaos, multihost) but the container and Slurm ones
#   ./setup.sh build   build only (into ./build)
#   ./setup.sh asan    build with ASan+UBSan into ./build-asan and run the tests
#   ./setup.sh tsan    build with TSan into ./build-tsan and run the unit
#                      tests (ctest -L unit: the code that runs no gRPC)
#   ./setup.sh bench   build, then run every benchmark (bench/run) and write
#                      docs/BENCHMARKS.md
#   ./setup.sh deploy-test  as root: install podman, Slurm, sshd..., build, then
#                      run the tests of deploy/ (multihost, ssh, container, slurm)
#   ./setup.sh fuzz    build the fuzz targets with clang and libFuzzer into
#                      ./build-fuzz and run each for FUZZ_SECONDS (60)
#   ./setup.sh browser build, then test the dashboard in headless Chromium
#                      (installs chromium, chromium-driver, python3-selenium)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(
  cmake g++ ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libprimesieve-dev libmuparser-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libsleef-dev libssl-dev openssl libcpp-httplib-dev
  python3
  shellcheck yamllint python3-yaml iproute2 iptables
)
# What the tests of deploy/ start: containers, a Slurm, an sshd.
DEPLOY_PACKAGES=(
  podman buildah podman-compose runc containernetworking-plugins
  golang-github-containernetworking-plugin-dnsname debootstrap
  slurm-wlm munge openssh-server openssh-client
)
BENCH_PACKAGES=(primesieve python3-joblib python3-distributed)
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)
BROWSER_PACKAGES=(chromium chromium-driver python3-selenium)

install_packages() {
  local missing=()
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir"
}

case "${1:-}" in
  demo)
    install_packages "${BUILD_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    ./build/sdk/pfor run count_primes --range 1:1e10
    ;;
  test)
    install_packages "${BUILD_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    # The container and Slurm tests take longer: ./setup.sh deploy-test.
    ctest --test-dir build --output-on-failure -j2 -LE 'container|slurm'
    ;;
  deploy-test)
    install_packages "${BUILD_PACKAGES[@]}" "${DEPLOY_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    ctest --test-dir build --output-on-failure -R '^deploy_'
    ;;
  build)
    install_packages "${BUILD_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    ;;
  asan)
    install_packages "${BUILD_PACKAGES[@]}"
    build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPFOR_SANITIZE=address
    ctest --test-dir build-asan --output-on-failure -j2 -LE 'container|slurm'
    ;;
  tsan)
    install_packages "${BUILD_PACKAGES[@]}"
    build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPFOR_SANITIZE=thread
    # Debian's gRPC is not instrumented: TSan runs the tests that use none.
    ctest --test-dir build-tsan --output-on-failure -j2 -L unit
    ;;
  bench)
    install_packages "${BUILD_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    bench/run --build build
    ;;
  fuzz)
    install_packages "${BUILD_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DPFOR_FUZZ=ON
    names=(job_spec parse expression helper_frames wire journal)
    cmake --build build-fuzz --target "${names[@]/#/fuzz_}"
    for name in "${names[@]}"; do
      target=build-fuzz/fuzz/fuzz_$name
      mkdir -p "build-fuzz/fuzz/found/$name"
      "$target" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 \
        "build-fuzz/fuzz/found/$name" "fuzz/corpus/$name"
    done
    ;;
  browser)
    install_packages "${BUILD_PACKAGES[@]}" "${BROWSER_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release
    ctest --test-dir build --output-on-failure -L browser
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
