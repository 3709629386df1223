#!/usr/bin/env bash
# Makes a throwaway certificate authority for the TLS tests of the Python module and the PHP
# extension (the Rust tests make theirs with rcgen, tests/testkit/src/pki.rs), with the openssl
# command: ca.pem; server.pem/.key for localhost, 127.0.0.1 and ::1; client.pem/.key. ECDSA
# P-256, valid for two days. Usage: scripts/test-pki.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${key[@]}" -days 2 -subj "/CN=gearman-rs test CA" -keyout ca.key -out ca.pem 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for name in server client; do
  openssl req "${key[@]}" -subj "/CN=gearman test $name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
done
rm -f ./*.csr ./*.ext ca.srl
