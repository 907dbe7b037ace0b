#!/usr/bin/env python3
"""Times unserialize + validate per message: idmefv2_rs against
python-idmefv2 0.8 and against `json.loads` alone, on the same files in the
same run.

    python python/bench/unserialize.py [FILE.json ...] [--seconds S]

Without files it takes tools/data/{minimal,typical,large}.json. Each
contender is timed in batches, the three taking turns batch after batch for
about S seconds per file (default 3), so that load on a shared machine hits
all of them alike; the figure is the median time per call over the batches.

  json.loads      json.loads(payload): parsing alone, no validation
  idmefv2_rs      Message.unserialize(SerializedMessage(...)): the crate
                  validates the bytes, then the dict is built from them
  python-idmefv2  the same call on python-idmefv2, which parses with
                  json.loads and validates with jsonschema

Both unserialize calls validate (python-idmefv2 validates inside
unserialize too), and every input is checked to be accepted by all three
before timing, so no figure times a refusal.

A second table times `validate()` alone on a message already in memory
(a dict built in code, say), for both libraries.
"""
import argparse
import json
import pathlib
import platform
import statistics
import sys
import time

import idmefv2 as reference
import idmefv2_rs

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = [ROOT / "tools" / "data" / f"{n}.json" for n in ("minimal", "typical", "large")]


def batch_size(call, target=0.02):
    """Calls per batch so that one batch takes about `target` seconds."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            call()
        took = time.perf_counter() - start
        if took >= target / 4 or n >= 1 << 20:
            return max(1, int(n * target / max(took, 1e-9)))
        n *= 4


def measure(contenders, seconds):
    sizes = {name: batch_size(call) for name, call in contenders}
    samples = {name: [] for name, _ in contenders}
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < 5 or time.perf_counter() < deadline:
        for name, call in contenders:
            n = sizes[name]
            start = time.perf_counter()
            for _ in range(n):
                call()
            samples[name].append((time.perf_counter() - start) / n)
        rounds += 1
    return {name: statistics.median(s) for name, s in samples.items()}, rounds


def fmt(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=pathlib.Path, default=DEFAULT)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    from importlib.metadata import version

    print(
        f"Python {platform.python_version()}, idmefv2_rs {idmefv2_rs.__version__}, "
        f"python-idmefv2 {version('idmefv2')}, jsonschema {version('jsonschema')}"
    )
    print()
    print("| input | bytes | `json.loads` | idmefv2_rs | python-idmefv2 | idmefv2_rs / `json.loads` | python-idmefv2 / idmefv2_rs |")
    print("|---|---|---|---|---|---|---|")
    for path in args.files:
        data = path.read_bytes()
        ours = lambda: idmefv2_rs.Message.unserialize(idmefv2_rs.SerializedMessage("application/json", data))
        theirs = lambda: reference.Message.unserialize(reference.SerializedMessage("application/json", data))
        plain = lambda: json.loads(data)
        # All three accept it, and agree on what it holds.
        assert ours() == theirs() == plain(), path
        times, rounds = measure([("json", plain), ("ours", ours), ("theirs", theirs)], args.seconds)
        print(
            f"| {path.stem} | {len(data):,} | {fmt(times['json'])} | {fmt(times['ours'])} | "
            f"{fmt(times['theirs'])} | {times['ours'] / times['json']:.2f}× | "
            f"{times['theirs'] / times['ours']:,.0f}× |",
            flush=True,
        )
        print(f"<!-- {path.stem}: {rounds} rounds -->", file=sys.stderr)

    print()
    print("| input | idmefv2_rs `validate()` | python-idmefv2 `validate()` | python-idmefv2 / idmefv2_rs |")
    print("|---|---|---|---|")
    for path in args.files:
        value = json.loads(path.read_bytes())
        ours_message, theirs_message = idmefv2_rs.Message(value), reference.Message()
        theirs_message.update(value)
        times, _ = measure(
            [("ours", ours_message.validate), ("theirs", theirs_message.validate)], args.seconds
        )
        print(
            f"| {path.stem} | {fmt(times['ours'])} | {fmt(times['theirs'])} | "
            f"{times['theirs'] / times['ours']:,.0f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
