#!/usr/bin/env python3
"""Appends a block and fdatasyncs it, many times, with and without blocks
reserved ahead by fallocate(FALLOC_FL_KEEP_SIZE); prints syncs per second,
CPU per sync and latency for each side, in alternating pairs.

Linux only. Used for docs/benchmarks-history.md ("Tried and not kept"
under "The goal re-measured on a new machine"):

    python3 tools/scripts/sync_loop.py [DIRECTORY] [PAIRS] [SYNCS] [BYTES]

defaults: the current directory, 5 pairs, 2000 syncs, 36000 bytes (about
twenty typical alerts, what one sync of `idmefv2 serve` carries at 128 in
flight). The file it writes is removed at the end.
"""
import ctypes
import os
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
RESERVE = 8 << 20

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def run(path, reserve, syncs, size):
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    block = b"x" * (size - 1) + b"\n"
    reserved = length = 0
    latencies = []
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(syncs):
        if reserve and length + size > reserved:
            if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, reserved, RESERVE) != 0:
                raise OSError(ctypes.get_errno(), "fallocate")
            reserved += RESERVE
        start = time.perf_counter()
        os.write(fd, block)
        os.fdatasync(fd)
        latencies.append(time.perf_counter() - start)
        length += size
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    os.close(fd)
    os.unlink(path)
    latencies.sort()
    print(
        f"reserved ahead: {'yes' if reserve else 'no '}  "
        f"{syncs / wall:7.0f} syncs/s  {cpu / syncs * 1e6:5.0f} us CPU per sync  "
        f"p50 {latencies[syncs // 2] * 1e3:.3f} ms  p99 {latencies[int(syncs * 0.99)] * 1e3:.3f} ms"
    )


def main():
    args = sys.argv[1:]
    directory = args[0] if len(args) > 0 else "."
    pairs = int(args[1]) if len(args) > 1 else 5
    syncs = int(args[2]) if len(args) > 2 else 2000
    size = int(args[3]) if len(args) > 3 else 36000
    path = os.path.join(directory, f"sync_loop.{os.getpid()}.tmp")
    for _ in range(pairs):
        run(path, False, syncs, size)
        run(path, True, syncs, size)


if __name__ == "__main__":
    main()
