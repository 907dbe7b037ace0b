#!/usr/bin/env bash
# The test command: installs what the tests drive (scripts/provision.sh),
# then runs every test of the crate with every feature. Arguments go
# to cargo test (`scripts/test.sh --test nats`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/provision.sh
exec cargo test --all-features "$@"
