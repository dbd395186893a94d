#!/usr/bin/env bash
# Makes everything a secured pfor cluster needs, in one step, with openssl:
#
#   deploy/make-credentials.sh DIR [HOST...]
#
# DIR/ca.pem, ca.key            a certificate authority (keep ca.key safe)
# DIR/coordinator.pem, .key     the coordinator's certificate, valid for
#                               localhost, 127.0.0.1 and every HOST given
#                               (names or IP addresses)
# DIR/worker.pem, .key          a worker certificate (mutual TLS)
# DIR/client.pem, .key          a client certificate (optional mutual TLS)
# DIR/tokens                    the coordinator's token table: names, roles
#                               and SHA-256 hashes, no secrets
# DIR/submit.token              secrets, one per role: submit (with
# DIR/admin.token               commands: submit.token may run command
# DIR/worker.token              jobs), admin, worker
#
# Then:
#   pfor-coordinator --listen 0.0.0.0:7070 --tls-cert DIR/coordinator.pem \
#       --tls-key DIR/coordinator.key --tls-ca DIR/ca.pem --tls-verify-workers \
#       --tokens DIR/tokens
#   pfor-worker --coordinator HOST:7070 --tls-ca DIR/ca.pem \
#       --tls-cert DIR/worker.pem --tls-key DIR/worker.key \
#       --token-file DIR/worker.token
#   pfor --coordinator HOST:7070 --tls-ca DIR/ca.pem \
#       --token-file DIR/submit.token jobs
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
dir=$1
shift
command -v openssl >/dev/null || {
  echo "make-credentials: openssl is missing; apt-get install openssl" >&2
  exit 1
}
mkdir -p "$dir"
umask 077

san="DNS:localhost,IP:127.0.0.1"
for host in "$@"; do
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then
    san+=",IP:$host"
  else
    san+=",DNS:$host"
  fi
done

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
  -subj "/CN=pfor CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# leaf NAME USAGE [SAN]
leaf() {
  local name=$1 usage=$2 alt=${3:-}
  key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -out "$dir/$name.csr" \
    -subj "/CN=pfor-$name"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [[ -n $alt ]] && echo "subjectAltName=$alt"
  } >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 825 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}
leaf coordinator serverAuth "$san"
leaf worker clientAuth
leaf client clientAuth

# One token per role: the secret in NAME.token, its hash in the table.
{
  echo "# name  roles  sha256 of the secret (made by make-credentials.sh)"
  for entry in "submit submit,commands" "admin admin" "worker worker"; do
    read -r name roles <<<"$entry"
    secret=$(openssl rand -hex 32)
    printf '%s\n' "$secret" >"$dir/$name.token"
    printf '%s %s %s\n' "$name" "$roles" \
      "$(printf %s "$secret" | openssl dgst -sha256 -r | cut -d' ' -f1)"
  done
} >"$dir/tokens"
echo "make-credentials: wrote a CA, certificates and tokens to $dir" >&2
