#!/usr/bin/env bash
# Makes a throw-away PKI for trying `idmefv2 serve` and `idmefv2 send` on one
# machine: a CA, a server certificate for `localhost` (and 127.0.0.1) and a
# client certificate for the DNS-ID `sensor.example`, ECDSA P-256, valid 30
# days. Never use these certificates for anything real.
#
# usage: scripts/make_test_pki.sh [DIR]   (default: ./test-pki)
set -euo pipefail
dir=${1:-test-pki}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=idmefv2 test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# leaf NAME SUBJECT_ALT_NAMES EXTENDED_KEY_USAGE
leaf() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/" -out "$1.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
        "$3" "$2" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
        -days 30 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm "$1.csr" "$1.ext"
}

leaf server "DNS:localhost,IP:127.0.0.1" serverAuth
leaf sensor "DNS:sensor.example" clientAuth
rm -f ca.srl
echo "made in $dir: ca.pem, server.pem + server.key, sensor.pem + sensor.key"
