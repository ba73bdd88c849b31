"""The walogs component from Python: open, append, append-batch, iterate, checkpoint,
reopen, and recovery of a torn tail this test makes itself."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from walogs import Entry, TailState, Wal, WalError

HERE = Path(__file__).parent


def newest_segment(path: Path) -> Path:
    """The newest segment file, ``wal-NNNNNN.log``."""
    return max(p for p in path.iterdir() if re.fullmatch(r"wal-\d{6}\.log", p.name))


def test_append_batch_iterate_reopen(tmp_path):
    with Wal(tmp_path) as wal:
        assert wal.tail_state == TailState("clean", None)
        assert wal.append(b"a") == 1
        assert wal.append_batch([b"b", b"c", b"d"]) == range(2, 5)
        assert wal.sync() == 4
        assert list(wal) == [Entry(1, b"a"), Entry(2, b"b"), Entry(3, b"c"), Entry(4, b"d")]
        assert [e.data for e in wal.entries(3)] == [b"c", b"d"]

    with Wal(tmp_path) as wal:
        assert wal.tail_state == ("clean", None)
        assert (wal.first_lsn, wal.last_lsn, wal.next_lsn) == (1, 4, 5)
        assert wal.append(b"e") == 5
        assert [e.lsn for e in wal] == [1, 2, 3, 4, 5]


def test_checkpoint_deletes_applied_segments_and_lsns_go_on(tmp_path):
    with Wal(tmp_path, max_segment_size=256) as wal:
        for i in range(1, 41):
            assert wal.append(f"entry {i}".encode()) == i
        before = len(wal.segments)
        assert before > 2
        deleted = wal.checkpoint(30)
        assert deleted > 0
        assert len(wal.segments) == before - deleted
        assert 1 < wal.first_lsn <= 31
        assert list(wal.entries(31))[-1] == Entry(40, b"entry 40")

    with Wal(tmp_path, max_segment_size=256) as wal:
        assert wal.append(b"after checkpoint") == 41


def test_torn_tail_is_cut_off_on_reopen(tmp_path):
    with Wal(tmp_path) as wal:
        wal.append_batch([b"one", b"two", b"three"])

    # A crash in the middle of a write leaves garbage after the last whole frame.
    segment = newest_segment(tmp_path)
    clean_size = segment.stat().st_size
    with segment.open("ab") as f:
        f.write(b"\x17\x00\x00\x00\xde\xad")

    with Wal(tmp_path) as wal:
        assert wal.tail_state == TailState("truncated-at", clean_size)
        assert segment.stat().st_size == clean_size
        assert list(wal) == [Entry(1, b"one"), Entry(2, b"two"), Entry(3, b"three")]
        assert wal.append(b"four") == 4


def test_frame_cut_short_loses_only_that_frame(tmp_path):
    with Wal(tmp_path) as wal:
        wal.append(b"kept")
        frame_start = newest_segment(tmp_path).stat().st_size
        wal.append(b"cut short by the crash")

    segment = newest_segment(tmp_path)
    with segment.open("r+b") as f:
        f.truncate(segment.stat().st_size - 5)

    with Wal(tmp_path) as wal:
        assert wal.tail_state == ("truncated-at", frame_start)
        assert list(wal) == [Entry(1, b"kept")]
        assert wal.append(b"again") == 2


def test_errors_are_wal_errors_with_the_wit_variant(tmp_path):
    # (No 16 MiB entry-too-large case here: wasmtime-py converts list<u8> byte by byte.)
    with Wal(tmp_path, max_segment_size=128) as wal:
        wal.append(b"first")
        with pytest.raises(WalError) as err:
            list(wal.entries(99))
        assert err.value.kind == "lsn-out-of-range"
        assert err.value.detail == {"lsn": 99, "first": 1, "next": 2}
        with pytest.raises(WalError) as err:
            Wal(tmp_path)
        assert err.value.kind == "locked"
        for i in range(20):
            wal.append(f"entry {i}".encode())

    with Wal(tmp_path, read_only=True) as reader:
        with pytest.raises(WalError) as err:
            reader.append(b"x")
        assert err.value.kind == "read-only"

    # Damage inside a sealed segment is corruption, never a silent end.
    sealed = min(tmp_path.glob("wal-*.log"))
    data = bytearray(sealed.read_bytes())
    data[-2] ^= 0xFF
    sealed.write_bytes(data)
    with Wal(tmp_path, read_only=True) as damaged:
        with pytest.raises(WalError) as err:
            damaged.verify()
        assert err.value.kind == "corrupt"


def test_closed_log_refuses_calls(tmp_path):
    wal = Wal(tmp_path)
    wal.close()
    with pytest.raises(ValueError):
        wal.append(b"x")
    wal.close()  # closing twice is fine


def doc_blocks(lang: str) -> list[str]:
    """The fenced blocks of ``lang`` in docs/EMBEDDING.md."""
    doc = (HERE.parents[1] / "docs" / "EMBEDDING.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", doc, flags=re.S)


def test_example_runs_and_prints_what_the_doc_shows(tmp_path):
    out = subprocess.run(
        [sys.executable, str(HERE / "example.py"), "my-wal"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = out.splitlines()
    assert lines[:4] == ["appended 1, then 2..4", "102: event 97", "103: event 98", "104: event 99"]
    assert "checkpoint deleted 2 segments; the log now starts at 86" in out
    assert out in doc_blocks("text")


def test_doc_shows_exactly_the_code_the_tests_run():
    example = (HERE / "example.py").read_text()
    wrapper = (HERE / "walogs.py").read_text()
    blocks = doc_blocks("python")
    assert example in blocks
    for block in blocks:
        assert block in example or block in wrapper
