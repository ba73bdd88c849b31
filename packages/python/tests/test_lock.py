"""Two writers on one directory: the second gets Locked, whichever backends, in this process or
another; nothing the first acknowledged is lost, even when it is killed."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

import walogs

BACKENDS = [False, True]


@pytest.mark.parametrize("first", BACKENDS, ids=["native", "sandbox"])
@pytest.mark.parametrize("second", BACKENDS, ids=["native", "sandbox"])
def test_second_writer_in_the_same_process_is_locked_out(tmp_path, first, second):
    with walogs.open(tmp_path, sandbox=first) as wal:
        wal.append(b"one")
        with pytest.raises(walogs.Locked) as locked:
            walogs.open(tmp_path, sandbox=second)
        assert "already open for writing" in str(locked.value)
        with walogs.open(tmp_path, read_only=True, sandbox=second) as reader:
            assert reader.last_lsn == 1
        assert wal.append(b"two") == 2
    with walogs.open(tmp_path, sandbox=second) as wal:
        assert [d for _, d in wal] == [b"one", b"two"]


@pytest.mark.parametrize("sandbox", BACKENDS, ids=["native", "sandbox"])
def test_a_live_iterator_does_not_keep_the_lock_once_its_log_is_closed(tmp_path, sandbox):
    wal = walogs.open(tmp_path, sandbox=sandbox)
    for data in [b"one", b"two", b"three"]:
        wal.append(data)
    entries = iter(wal)
    assert next(entries).lsn == 1
    wal.close()
    # Not Locked: the lock went with close, not with the live cursor.
    with walogs.open(tmp_path, sandbox=sandbox) as again:
        assert again.next_lsn == 4
    entries.close()


WRITER = """
import sys, time, walogs
wal = walogs.open(sys.argv[1], sandbox=sys.argv[2] == "sandbox")
for i in range(1, 51):
    print(wal.append(f"child {i}".encode()), flush=True)
print("holding", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("child_backend", ["native", "sandbox"])
def test_writer_in_another_process_locks_out_and_survives_a_kill(tmp_path, child_backend):
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), child_backend], stdout=subprocess.PIPE, text=True
    )
    try:
        acknowledged = []
        for line in child.stdout:  # type: ignore[union-attr]
            if line.strip() == "holding":
                break
            acknowledged.append(int(line))
        assert acknowledged == list(range(1, 51))
        for sandbox in BACKENDS:
            with pytest.raises(walogs.Locked):
                walogs.open(tmp_path, sandbox=sandbox)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # The kernel drops a dead process's lock: the next writer gets in and finds every entry.
    with walogs.open(tmp_path) as wal:
        assert [lsn for lsn, _ in wal] == acknowledged
        assert wal.append(b"after the kill") == 51
