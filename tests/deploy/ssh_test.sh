#!/usr/bin/env bash
# deploy/ssh/pfor-cluster against an sshd this test starts on 127.0.0.1 with
# keys it generates: two "hosts" (ssh aliases of this machine), up, status,
# an exact job, a host that cannot be reached, down.
#
#   ssh_test.sh BUILD_DIR SOURCE_DIR      exit 0 passed, 77 skipped, 1 failed
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
cluster=$source_dir/deploy/ssh/pfor-cluster

skip() {
  echo "SKIP: ssh test $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (sshd logs in as root here)"
[[ -x /usr/sbin/sshd ]] || skip "needs openssh-server (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null || skip "needs openssh-client"

work=$(mktemp -d /tmp/pfor-ssh-test.XXXXXX)
sshd_pid=''
cleanup() {
  "$cluster" down "$work/hosts" >/dev/null 2>&1 || true
  # Whatever pid files are left: daemons of a failed run.
  for pid_file in "$work"/run/*.pid; do
    if [[ -f $pid_file ]]; then kill -KILL "$(cat "$pid_file")" 2>/dev/null || true; fi
  done
  if [[ -n $sshd_pid ]]; then kill "$sshd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  exit 1
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/user_key"
cp "$work/user_key.pub" "$work/authorized_keys"
chmod 600 "$work/authorized_keys"
mkdir -p /run/sshd
cat >"$work/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $work/sshd.pid
CONFIG
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!

cat >"$work/ssh_config" <<CONFIG
Host host1 host2
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $work/user_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
Host unreachable
  HostName 127.0.0.1
  Port 1
CONFIG
export PFOR_SSH="ssh -F $work/ssh_config -o BatchMode=yes -o ConnectTimeout=5"
export PFOR_PATH="$build/coordinator:$build/worker:$build/sdk"
export PFOR_RUN_DIR="$work/run"
export PFOR_JOIN_TIMEOUT=20
for _ in $(seq 100); do
  ssh -F "$work/ssh_config" -o BatchMode=yes host1 true 2>/dev/null && break
  sleep 0.1
done

cat >"$work/hosts" <<HOSTS
# The coordinator picks its port; workers on two hosts. The hosts are this
# machine (ssh to 127.0.0.1): --insecure, as a trusted network without tokens.
coordinator host1 address=127.0.0.1 port=0 --heartbeat-timeout 2s --insecure
worker host1 --threads 1 --processes -1
worker host2 --threads 1 --processes -1
HOSTS

up=$("$cluster" up "$work/hosts" 2>&1) || fail "up: $up"
echo "$up"
grep -q "all 2 workers joined" <<<"$up" || fail "up did not report both workers joined"
target=$(sed -n 's/^coordinator host1: serving on //p' <<<"$up")

state=$("$cluster" status "$work/hosts" 2>&1) || fail "status of a running cluster: $state"
echo "$state"
[[ $(grep -c "joined $target" <<<"$state") -eq 2 ]] || fail "status does not show both workers joined"

result=$("$build/sdk/pfor" --coordinator "$target" submit count_primes --range 0:1e8 --wait)
[[ $result == 5761455 ]] || fail "primes below 1e8 on the ssh cluster: $result"
echo "ok: primes below 1e8 on the ssh cluster: $result"

# Up is idempotent: a second up starts nothing twice.
again=$("$cluster" up "$work/hosts" 2>&1) || fail "second up: $again"
[[ $("$build/sdk/pfor" --coordinator "$target" workers | wc -l) -eq 2 ]] ||
  fail "a second up started more workers"

# A host that does not answer is named, with the reason.
{ cat "$work/hosts"; echo "worker unreachable"; } >"$work/hosts-bad"
if bad=$("$cluster" up "$work/hosts-bad" 2>&1); then
  fail "up with an unreachable host succeeded: $bad"
fi
grep -q "worker on unreachable did not start: .*[Cc]onnection refused" <<<"$bad" ||
  fail "the unreachable host is not named with its reason: $bad"
echo "ok: an unreachable host is reported: $(grep unreachable <<<"$bad" | head -n 1)"

down=$("$cluster" down "$work/hosts" 2>&1) || fail "down: $down"
echo "$down"
if after=$("$cluster" status "$work/hosts" 2>&1); then
  fail "status after down says healthy: $after"
fi
grep -q "coordinator host1: stopped" <<<"$after" || fail "coordinator still runs after down: $after"
echo "ok: up, status, an exact job and down over ssh"
