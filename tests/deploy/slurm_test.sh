#!/usr/bin/env bash
# deploy/slurm/pfor.sbatch on a one-node Slurm this test starts (munged,
# slurmctld and slurmd with a configuration for this machine, all under a
# temporary directory, on free ports): the job's result is exact; a second
# job cancelled with scancel leaves no pfor process behind.
#
#   slurm_test.sh BUILD_DIR SOURCE_DIR     exit 0 passed, 77 skipped, 1 failed
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)

skip() {
  echo "SKIP: slurm test $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (slurmd runs jobs as their users)"
for tool in slurmctld slurmd munged sbatch; do
  command -v "$tool" >/dev/null || skip "needs $tool (./setup.sh deploy-test installs slurm-wlm and munge)"
done

work=$(mktemp -d /tmp/pfor-slurm-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  scancel --quiet --full "--name=pfor" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
fail() {
  echo "FAILED: $*"
  tail -n 5 "$work"/*.log 2>/dev/null
  exit 1
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# munge, on a socket of its own.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge.key"
mkdir -m 700 "$work/munge"
munged --force --key-file="$work/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munge/pid" --log-file="$work/munge.log" --seed-file="$work/munge/seed" ||
  skip "munged does not start here: $(tail -n 1 "$work/munge.log" 2>/dev/null)"
pids+=("$(cat "$work/munge/pid")")

node=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=pfortest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=10 State=UP
CONF
slurmctld -i -D -f "$SLURM_CONF" >/dev/null 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.2
done
sinfo -h -o %T 2>/dev/null | grep -qx idle ||
  skip "Slurm did not start here: $(tail -n 1 "$work/slurmctld.log" "$work/slurmd.log" 2>/dev/null | tr '\n' ' ')"

export PFOR_BIN=$build/coordinator:$build/worker:$build/sdk
sbatch=(sbatch --parsable --nodes=1 --time=5 --chdir="$work" --export=ALL)

# A job to its end: the result is exact.
id=$(timeout 240 "${sbatch[@]}" --wait "$source_dir/deploy/slurm/pfor.sbatch" count_primes --range 0:1e9) ||
  fail "sbatch --wait: the Slurm job failed: $(cat "$work"/pfor-*.out)"
result=$(grep -x '[0-9]*' "$work/pfor-$id.out" | tail -n 1)
[[ $result == 50847534 ]] || fail "primes below 1e9 under Slurm: $result; $(cat "$work/pfor-$id.out")"
echo "ok: pfor.sbatch count_primes --range 0:1e9 printed $result; its output:"
sed 's/^/  | /' "$work/pfor-$id.out"

# A job cancelled while it runs: nothing of pfor stays behind. (The
# patterns match this job's daemons only: its state directory, the node's
# name in the workers' address.)
id=$("${sbatch[@]}" "$source_dir/deploy/slurm/pfor.sbatch" sleep --param us=100000 --range 0:1000)
daemons="pfor-coordinator .*/pfor-$id\\.|pfor-worker --coordinator $node:"
for _ in $(seq 150); do
  pgrep -f "pfor-worker --coordinator $node:" >/dev/null && break
  sleep 0.2
done
pgrep -f "pfor-worker --coordinator $node:" >/dev/null || fail "the second job's worker never started"
scancel "$id"
for _ in $(seq 150); do
  pgrep -f "$daemons" >/dev/null || break
  sleep 0.2
done
if pgrep -af "$daemons"; then
  fail "pfor processes left after scancel"
fi
echo "ok: scancel stops the coordinator and the workers: $(grep -h 'stopping' "$work/pfor-$id.out" || true)"
