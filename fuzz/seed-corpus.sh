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
# The criteria target reads a criterion, a line break, then a message:
# each criterion of this list before a few fixtures.
mkdir -p corpus/criteria
n=0
while IFS= read -r criterion; do
    for fixture in ../fixtures/valid/ids-ssh-bruteforce-tcp.json \
        ../fixtures/valid/timestamp-leap-second.json ../fixtures/drafts/valid/v04-converter.json; do
        n=$((n + 1))
        { printf '%s\n' "$criterion"; cat "$fixture"; } > "corpus/criteria/seed-$n"
    done
done <<'CRITERIA'
Priority == High && Source(*).IP in 10.0.0.0/8
Description ~* "brute.?force" || Description <>* ssh
!(Analyzer.Name =* EDGE-IDS) && Confidence >= 0.5
CreateTime > 2016-12-31T23:59:59.5Z && CreateTime <= 2025-05-20T00:41:08+02:00
Target(-1).Port(*) == (22 || 80 || 443) && !Attachment(*).Name
Category(*) !~ "^Recon\." && Status(*) != Event && ID =* 7EC4ADC2-7B0E-5846-AFA6-F15CC0E6F2CB
Analyzer.Category(*) !=* net.nids || Description !<> scan || Priority = Medium
CRITERIA
echo "seeded corpus/unserialize, corpus/validate and corpus/criteria from ../fixtures"
