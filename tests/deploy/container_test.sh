#!/usr/bin/env bash
# The container image and the Compose cluster: builds the image, starts a
# coordinator and 3 workers with podman-compose, runs both example jobs
# exactly, kills a worker, restarts the coordinator mid-job (its journal on
# the named volume) and gets exact results again.
#
#   container_test.sh BUILD_DIR SOURCE_DIR   exit 0 passed, 77 skipped, 1 failed
#
# Podman settings for this kind of host are in containers.conf beside this
# script; the base image comes from deploy/container/base-image.sh.
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfor=$build/sdk/pfor

skip() {
  echo "SKIP: container test $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (rootful podman)"
for tool in podman podman-compose debootstrap; do
  command -v "$tool" >/dev/null || skip "needs $tool (./setup.sh deploy-test installs it)"
done
export CONTAINERS_CONF=$here/containers.conf
base=localhost/debian:bookworm
"$source_dir/deploy/container/base-image.sh" "$base" ||
  skip "cannot make a Debian 12 base image here (debootstrap or podman import failed)"
podman run --rm "$base" true >/dev/null 2>&1 || skip "podman cannot run a container here"

project=pfortest$$
image=localhost/pfor
compose=(podman-compose -p "$project" -f "$source_dir/deploy/compose/compose.yaml")
cleanup() {
  # podman-compose 1.0's down leaves replicas past the first and the
  # containers' anonymous volumes: remove the containers with their volumes,
  # then the named volume and the network.
  podman ps -aq --filter "label=io.podman.compose.project=$project" |
    xargs -r podman rm -f -v >/dev/null 2>&1 || true
  "${compose[@]}" down -v >/dev/null 2>&1 || true
  podman volume rm -f "${project}_pfor-state" >/dev/null 2>&1 || true
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  podman logs "${project}_coordinator_1" 2>&1 | tail -n 20 || true
  exit 1
}

start=$SECONDS
podman build --isolation chroot --format docker --build-arg "BASE=$base" \
  --build-arg BUILD_JOBS=2 -f "$source_dir/deploy/container/Containerfile" \
  -t "$image" "$source_dir" >"$build/container-build.log" 2>&1 ||
  fail "podman build failed; see $build/container-build.log"
echo "image $image built in $((SECONDS - start)) s: $(podman image inspect "$image" --format '{{.Size}}' |
  awk '{printf "%.0f MB", $1 / 1e6}')"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PFOR_IMAGE=$image PFOR_PORT=$port PFOR_WORKERS=3 PFOR_THREADS=1 PFOR_HEARTBEAT_TIMEOUT=2s
"${compose[@]}" up -d >"$build/container-compose.log" 2>&1 ||
  fail "podman-compose up failed; see $build/container-compose.log"
target=127.0.0.1:$port

workers() {
  "$pfor" --coordinator "$target" --timeout 3s workers 2>/dev/null | wc -l
}
wait_for_workers() {
  local deadline=$((SECONDS + 60))
  while [[ $(workers) -ne $1 ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "$(workers) workers joined, expected $1"
    sleep 0.5
  done
  echo "ok: $1 workers joined"
}
expect() {
  local what=$1 want=$2 got
  shift 2
  got=$("$@") || fail "$what: exit $?"
  [[ $got == "$want" ]] || fail "$what: $got, expected $want"
  echo "ok: $what: $got"
}
integral=(integrate --param 'integrand=4/(1+x^2)' --param a=0 --param b=1 --points 1e8)
pi=$("$pfor" run "${integral[@]}" --no-progress)

wait_for_workers 3
podman healthcheck run "${project}_coordinator_1" ||
  fail "the coordinator's health check fails while it serves"
echo "ok: the coordinator's health check passes"
worker_check=$(podman healthcheck run "${project}_worker_1" 2>&1 || true)
[[ $worker_check == *"no defined healthcheck"* ]] ||
  fail "a worker has the coordinator's health check (it serves nothing): $worker_check"
expect "primes below 1e9, from the host" 50847534 \
  "$pfor" --coordinator "$target" submit count_primes --range 0:1e9 --wait
# (podman exec: podman-compose 1.0's exec adds its own lines to the output.)
expect "integral of 4/(1+x^2), inside the coordinator's container" "$pi" \
  podman exec "${project}_coordinator_1" pfor submit "${integral[@]}" --wait

podman kill "${project}_worker_2" >/dev/null
wait_for_workers 2
# 30 chunks of 200 ms on 2 workers, and the coordinator restarted in their middle.
job=$("$pfor" --coordinator "$target" submit sleep --param us=20000 --range 0:300 --chunks fixed:10)
sleep 1
podman restart "${project}_coordinator_1" >/dev/null
expect "a job across a coordinator restart, each chunk counted once" 300 \
  "$pfor" --coordinator "$target" wait "$job"
expect "primes below 1e9 again" 50847534 \
  "$pfor" --coordinator "$target" submit count_primes --range 0:1e9 --wait
expect "the integral again" "$pi" \
  "$pfor" --coordinator "$target" submit "${integral[@]}" --wait
echo "ok: image, compose cluster, a killed worker and a restarted coordinator"
