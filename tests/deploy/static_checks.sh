#!/usr/bin/env bash
# Static checks of deploy/ and of every shell script: shellcheck, yamllint,
# the Kubernetes manifests' contracts (check_manifests.py, and `kubectl
# kustomize` where kubectl is installed) and `systemd-analyze verify` on the
# units, warnings included.
#
#   static_checks.sh SOURCE_DIR BUILD_DIR     exit 0 clean, 1 a finding
set -uo pipefail
source_dir=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
failed=0

finding() {
  echo "FAILED: $*"
  failed=1
}
need() {
  command -v "$1" >/dev/null && return 0
  finding "$1 is missing: ./setup.sh installs it"
  return 1
}

cd "$source_dir" || exit 1
mapfile -t scripts < <(git ls-files 2>/dev/null | xargs -r grep -lIE '^#!.*\b(bash|sh)\b' 2>/dev/null ||
  grep -rlIE --exclude-dir='build*' --exclude-dir=.git '^#!.*\b(bash|sh)\b' .)
if need shellcheck; then
  if shellcheck -x "${scripts[@]}"; then
    echo "ok: shellcheck on ${#scripts[@]} scripts"
  else
    finding "shellcheck"
  fi
fi

mapfile -t manifests < <(find deploy -name '*.yaml' | sort)
if need yamllint; then
  if yamllint -s -d '{extends: default, rules: {line-length: {max: 100}}}' "${manifests[@]}"; then
    echo "ok: yamllint on ${#manifests[@]} files"
  else
    finding "yamllint"
  fi
fi

kubectl=()
command -v kubectl >/dev/null && kubectl=(kubectl)
python3 "$here/check_manifests.py" "$source_dir" "${kubectl[@]}" || finding "Kubernetes manifests"

if command -v systemd-analyze >/dev/null; then
  # verify wants the programs the units start: point them at this build.
  units=$(mktemp -d)
  trap 'rm -rf "$units"' EXIT
  for unit in deploy/systemd/*.service; do
    sed -e "s|/usr/local/bin/pfor-coordinator|$build/coordinator/pfor-coordinator|" \
      -e "s|/usr/local/bin/pfor-worker|$build/worker/pfor-worker|" "$unit" >"$units/${unit##*/}"
  done
  # It reports unknown or misspelt settings as warnings and still exits 0.
  if output=$(systemd-analyze verify "$units"/*.service 2>&1) && [[ -z $output ]]; then
    echo "ok: systemd-analyze verify on $(find "$units" -name '*.service' | wc -l) units"
  else
    finding "systemd-analyze verify: ${output//$'\n'/; }"
  fi
else
  echo "note: no systemd-analyze here; the units were not verified"
fi
exit $failed
