"""Append cost of the installed walogs package, µs per append: 1 B, 4 KiB, 16 MiB entries,
durable ('always') and not synced ('none'), native and sandboxed.

Usage: python bench/append.py [--quick]   (prints a table; asserts nothing)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import walogs

QUICK = "--quick" in sys.argv
SIZES = [(1, 2000), (4096, 2000), (16 << 20, 5)]


def cost(size: int, count: int, durability: str, sandbox: bool) -> float:
    if sandbox and size > 4096:
        count = 1  # one Python call per byte: tens of seconds
    if QUICK:
        count = max(1, count // 10)
    data = os.urandom(size)
    with tempfile.TemporaryDirectory() as path:
        with walogs.open(path, durability=durability, sandbox=sandbox) as wal:
            wal.append(data)  # warm up: files created
            start = time.perf_counter()
            for _ in range(count):
                wal.append(data)
            return (time.perf_counter() - start) / count * 1e6


print("| backend | durability | 1 B | 4 KiB | 16 MiB |")
print("|---|---|---|---|---|")
for sandbox in (False, True):
    for durability in ("always", "none"):
        cells = [f"{cost(size, n, durability, sandbox):,.1f}" for size, n in SIZES]
        print(f"| {'sandbox' if sandbox else 'native'} | {durability} | " + " | ".join(cells) + " |", flush=True)
