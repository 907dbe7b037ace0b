#!/bin/sh
# Builds the wheel in release mode, installs it with python-idmefv2 into a
# virtualenv (${VENV:-target/python-bench}) and runs the benchmark
# (python/bench/unserialize.py; arguments are passed on).
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-target/python-bench}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9.4,<2" "idmefv2==0.8.*"
rm -rf target/wheels-bench
"$VENV/bin/maturin" build --release --quiet -m python/Cargo.toml -o target/wheels-bench
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels-bench/idmefv2_rs-*.whl
exec "$VENV/bin/python" python/bench/unserialize.py "$@"
