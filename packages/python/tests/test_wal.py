"""The installed walogs wheel, on both backends: the native engine and the sandboxed component."""

from __future__ import annotations

import array
import re
from pathlib import Path

import pytest

import walogs

BACKENDS = [pytest.param(False, id="native"), pytest.param(True, id="sandbox")]


def segment_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if re.fullmatch(r"wal-\d{6}\.log", p.name))


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest) -> bool:
    return request.param


def test_append_accepts_bytes_like_objects_and_iterates_as_pairs(tmp_path, sandbox):
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        assert wal.sandboxed is sandbox
        assert wal.append(b"bytes") == 1
        assert wal.append(bytearray(b"bytearray")) == 2
        assert wal.append(memoryview(b"xmemoryview")[1:]) == 3
        assert wal.append(array.array("B", [1, 2, 3])) == 4
        assert wal.append_batch([b"a", bytearray(b"b")]) == range(5, 7)
        assert wal.sync() == 6
        assert wal.durable_lsn == 6
        pairs = [(lsn, data) for lsn, data in wal]
        assert pairs[:4] == [(1, b"bytes"), (2, b"bytearray"), (3, b"memoryview"), (4, b"\x01\x02\x03")]
        assert [e.data for e in wal.entries(5)] == [b"a", b"b"]

    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        assert wal.truncated_at is None
        assert (wal.first_lsn, wal.last_lsn, wal.next_lsn) == (1, 6, 7)


def test_str_and_other_non_bytes_are_type_errors_and_append_nothing(tmp_path, sandbox):
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        for bad in ("text", 5, None, [1, 2], object()):
            with pytest.raises(TypeError):
                wal.append(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            wal.append_batch([b"ok", "not ok"])  # type: ignore[list-item]
        assert wal.next_lsn == 1


def test_options_are_checked(tmp_path):
    for kwargs, exc in [
        ({"durability": "sometimes"}, ValueError),
        ({"read_only": 1}, TypeError),
        ({"max_segment_size": -1}, ValueError),
        ({"max_segment_size": True}, TypeError),
        ({"component": "x.wasm"}, ValueError),
    ]:
        with pytest.raises(exc):
            walogs.open(tmp_path, **kwargs)


def test_default_rotates_at_64_mib_and_zero_never_rotates(tmp_path):
    entry = bytes(16 << 20)
    for name, kwargs, segments in [("default", {}, 2), ("never", {"max_segment_size": 0}, 1)]:
        with walogs.open(tmp_path / name, durability="none", **kwargs) as wal:
            for _ in range(5):
                wal.append(entry)
            assert len(wal.segments) == segments, name
    assert walogs.DEFAULT_MAX_SEGMENT_SIZE == 64 << 20


def test_a_16_mib_entry_round_trips_natively(tmp_path):
    entry = bytes(range(256)) * (walogs.MAX_ENTRY_SIZE // 256)
    with walogs.open(tmp_path) as wal:
        assert wal.append(entry) == 1
    with walogs.open(tmp_path) as wal:
        assert list(wal) == [(1, entry)]


def test_checkpoint_truncate_rotate(tmp_path, sandbox):
    with walogs.open(tmp_path, max_segment_size=256, sandbox=sandbox) as wal:
        for i in range(1, 41):
            assert wal.append(f"entry {i}".encode()) == i
        before = len(wal.segments)
        assert before > 2
        deleted = wal.checkpoint(30)
        assert deleted > 0 and len(wal.segments) == before - deleted
        wal.truncate_after(38)
        assert wal.append(b"after") == 39
        wal.rotate()
        assert wal.verify().last_lsn == 39


def test_torn_tail_is_cut_off_on_reopen(tmp_path, sandbox):
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        wal.append_batch([b"one", b"two", b"three"])
    segment = segment_files(tmp_path)[-1]
    clean = segment.stat().st_size
    with segment.open("ab") as f:
        f.write(b"\x17\x00\x00\x00\xde\xad")
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        assert wal.truncated_at == clean
        assert [d for _, d in wal] == [b"one", b"two", b"three"]
        assert wal.append(b"four") == 4


def test_frame_cut_short_loses_only_that_frame(tmp_path, sandbox):
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        wal.append(b"kept")
    # Measured on a closed log: an open one's active segment is pre-filled past its frames.
    frame_start = segment_files(tmp_path)[-1].stat().st_size
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        wal.append(b"cut short by the crash")
    segment = segment_files(tmp_path)[-1]
    with segment.open("r+b") as f:
        f.truncate(segment.stat().st_size - 5)
    with walogs.open(tmp_path, sandbox=sandbox) as wal:
        assert wal.truncated_at == frame_start
        assert list(wal) == [(1, b"kept")]
        assert wal.append(b"again") == 2


def test_errors_are_typed_and_readable(tmp_path, sandbox):
    with walogs.open(tmp_path, max_segment_size=128, sandbox=sandbox) as wal:
        if not sandbox:  # 16 MiB through the sandbox takes ~30 s (one call per byte)
            with pytest.raises(walogs.EntryTooLarge) as too_large:
                wal.append(bytes(walogs.MAX_ENTRY_SIZE + 1))
            assert too_large.value.detail == {"size": walogs.MAX_ENTRY_SIZE + 1, "max": walogs.MAX_ENTRY_SIZE}
            assert isinstance(too_large.value, ValueError)
        with pytest.raises(walogs.LsnOutOfRange) as out_of_range:
            list(wal.entries(99))
        assert out_of_range.value.code == "lsn-out-of-range"
        assert "99" in str(out_of_range.value)
        for i in range(20):
            wal.append(f"entry {i}".encode())
    with pytest.raises(walogs.Closed):
        wal.append(b"x")
    wal.close()  # twice is fine

    with pytest.raises(walogs.NotADirectory):
        walogs.open(segment_files(tmp_path)[0], sandbox=sandbox)
    with walogs.open(tmp_path, read_only=True, sandbox=sandbox) as reader:
        with pytest.raises(walogs.ReadOnly):
            reader.append(b"x")

    sealed = segment_files(tmp_path)[0]
    data = bytearray(sealed.read_bytes())
    data[-2] ^= 0xFF
    sealed.write_bytes(bytes(data))
    with walogs.open(tmp_path, read_only=True, sandbox=sandbox) as damaged:
        with pytest.raises(walogs.Corrupt) as corrupt:
            damaged.verify()
        assert isinstance(corrupt.value, walogs.WalogsError) and corrupt.value.code == "corrupt"


def test_both_backends_read_each_others_logs(tmp_path):
    with walogs.open(tmp_path) as wal:
        wal.append(b"native")
    with walogs.open(tmp_path, sandbox=True) as wal:
        assert wal.append(b"sandboxed") == 2
    with walogs.open(tmp_path) as wal:
        assert list(wal) == [(1, b"native"), (2, b"sandboxed")]
