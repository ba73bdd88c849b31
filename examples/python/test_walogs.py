"""The Python examples run, print what docs/EMBEDDING.md shows, and the page shows their code.

The package's own behaviour is tested in packages/python/tests, against the installed wheel.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def doc_blocks(lang: str) -> list[str]:
    """The fenced blocks of ``lang`` in docs/EMBEDDING.md."""
    doc = (HERE.parents[1] / "docs" / "EMBEDDING.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", doc, flags=re.S)


def run(*args: str, cwd: Path) -> str:
    return subprocess.run([sys.executable, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_example_runs_and_prints_what_the_doc_shows(tmp_path):
    out = run(str(HERE / "example.py"), "my-wal", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[:4] == ["appended 1, then 2..4", "102: event 97", "103: event 98", "104: event 99"]
    assert "checkpoint deleted 2 segments; the log now starts at 86" in out
    assert out in doc_blocks("text")


def test_raw_bindings_append_and_lsns_go_on(tmp_path):
    wasm = os.environ["WALOGS_COMPONENT"]
    first = run(str(HERE / "raw.py"), "my-wal", wasm, cwd=tmp_path)
    assert first == "appended 1\n1: raw bytes\n"
    second = run(str(HERE / "raw.py"), "my-wal", wasm, cwd=tmp_path)
    assert second == "appended 2\n1: raw bytes\n2: raw bytes\n"


def test_doc_shows_exactly_the_code_the_tests_run():
    blocks = doc_blocks("python")
    for name in ("example.py", "raw.py"):
        assert (HERE / name).read_text() in blocks, f"docs/EMBEDDING.md shows {name} in full"
