#!/bin/sh
# Times the Python reference library against this crate on the benchmark
# inputs (see scripts/python_baseline.py). Makes a virtualenv in
# ${VENV:-target/python-baseline} with the PyPI packages idmefv2 and
# jsonschema, then runs the comparison. Needs python3 with venv, and cargo.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-target/python-baseline}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check idmefv2
fi
exec "$VENV/bin/python" scripts/python_baseline.py
