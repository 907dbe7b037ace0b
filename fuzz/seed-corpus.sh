#!/usr/bin/env bash
# Copies every fixture (valid and invalid) into the corpus of each fuzz
# target, so that fuzzing starts from real messages.
set -euo pipefail
cd "$(dirname "$0")"
for target in unserialize validate; do
    mkdir -p "corpus/$target"
    cp ../fixtures/valid/*.json ../fixtures/invalid/*.json \
        ../fixtures/drafts/valid/*.json ../fixtures/drafts/invalid/*.json "corpus/$target/"
done
echo "seeded corpus/unserialize and corpus/validate from ../fixtures"
