"""walogs from Python: open a log, append, iterate, checkpoint.

Usage: python example.py [DIR]   (default: a new temporary directory)
"""

import sys
import tempfile

import walogs

path = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="walogs-")
with walogs.open(path, max_segment_size=1024) as wal:
    lsn = wal.append(b"hello")
    batch = wal.append_batch([b"one", b"two", b"three"])
    print(f"appended {lsn}, then {batch.start}..{batch.stop - 1}")

    for i in range(100):
        wal.append(f"event {i}".encode())
    for lsn, data in wal.entries(wal.last_lsn - 2):
        print(f"{lsn}: {data.decode()}")

    # Everything up to here is applied elsewhere: drop the sealed segments that only hold it.
    deleted = wal.checkpoint(wal.last_lsn)
    print(f"checkpoint deleted {deleted} segments; the log now starts at {wal.first_lsn}")
print(f"log in {path}")
