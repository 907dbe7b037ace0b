#!/usr/bin/env python3
"""Times the Python reference library (PyPI package `idmefv2`) on the three
benchmark inputs and prints our speed-up.

Run through scripts/python_baseline.sh, which makes the virtualenv. Python
figures, per input (median of repeated calls):

  unserialize    Message.unserialize(SerializedMessage(...)): JSON parse,
                 then the library's validate(), which loads the schema file
                 and compiles a validator on every call
  precompiled    json.loads + validate with a validator compiled once
                 (what a careful receiver would do; no format checks, as in
                 the library)
  +formats       the same with jsonschema's FormatChecker (closest to what
                 the Rust decoder checks)

The Rust figures come from `target/release/ratio --tsv` (decode
row: Message::from_slice, which checks everything including formats).
"""
import json
import os
import statistics
import subprocess
import sys
import time

import jsonschema
from idmefv2 import Message, SerializedMessage

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INPUTS = ["minimal", "typical", "large"]


def median_time(fn, budget=1.0, min_runs=5):
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def schema_for(message):
    # The same file the library loads for this message's Version.
    import importlib.resources

    version = message["Version"].split("V", 1)[1]
    package = "idmefv2.schemas.drafts.IDMEFv2." + version
    with importlib.resources.files(package).joinpath("IDMEFv2.schema").open("rb") as f:
        return json.load(f)


def rust_figures():
    exe = os.path.join(ROOT, "target", "release", "ratio")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "idmefv2-tools", "--bin", "ratio"],
        cwd=ROOT,
        check=True,
    )
    out = subprocess.run([exe, "15", "--tsv"], cwd=ROOT, check=True, capture_output=True, text=True)
    figures = {}
    for line in out.stdout.splitlines():
        name, op, ours, baseline, _ = line.split("\t")
        figures[(name, op)] = (float(ours) / 1e9, float(baseline) / 1e9)
    return figures


def main():
    import importlib.metadata

    print(f"python {sys.version.split()[0]}, idmefv2 {importlib.metadata.version('idmefv2')}, "
          f"jsonschema {importlib.metadata.version('jsonschema')}")
    rust = rust_figures()
    header = f"{'input':<8} {'bytes':>6} {'py unserialize':>15} {'py precompiled':>15} " \
             f"{'py +formats':>12} {'rust decode':>12} {'speed-up':>9} {'vs precomp.':>12}"
    print(header)
    for name in INPUTS:
        with open(os.path.join(ROOT, "tools", "data", name + ".json"), "rb") as f:
            payload = f.read()
        message = json.loads(payload)
        schema = schema_for(message)
        cls = jsonschema.validators.validator_for(schema)
        plain = cls(schema)
        formats = cls(schema, format_checker=cls.FORMAT_CHECKER)
        # Both must accept the input, or the timing would be of a failure.
        Message.unserialize(SerializedMessage("application/json", payload))
        plain.validate(message)
        formats.validate(message)

        t_unser = median_time(lambda: Message.unserialize(SerializedMessage("application/json", payload)))
        t_plain = median_time(lambda: plain.validate(json.loads(payload)))
        t_formats = median_time(lambda: formats.validate(json.loads(payload)))
        t_rust = rust[(name, "decode")][0]
        print(f"{name:<8} {len(payload):>6} {t_unser*1e3:>12.3f} ms {t_plain*1e3:>12.3f} ms "
              f"{t_formats*1e3:>9.3f} ms {t_rust*1e6:>9.2f} µs {t_unser/t_rust:>8.0f}x "
              f"{t_plain/t_rust:>11.0f}x")


if __name__ == "__main__":
    main()
