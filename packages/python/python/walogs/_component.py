"""The sandboxed backend: the walogs WebAssembly component, run by the PyPI package ``wasmtime``.

Each open log gets its own store and instance whose only preopen is the log's directory, at
``/wal``. The component cannot lock (WASI 0.2 has no locks), so a writer takes ``flock`` on
``<dir>/LOCK`` here, as every walogs host does. It offers the same methods as
``walogs._native.NativeWal``.

wasmtime-py converts a ``list<u8>`` one Python call per byte (about 1 µs per byte each way) and
costs ~150 µs per call: this path is for sandboxing, not speed (docs/EMBEDDING.md measures it).
"""

from __future__ import annotations

import fcntl
import os
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Func, Linker, Record, Variant

from ._errors import error

GUEST_ROOT = "/wal"
LOG_INTERFACE = "walogs:wal/log@0.2.0"
LOCK_FILE = "LOCK"


def _component_path(component: Optional[os.PathLike[str] | str]) -> str:
    """The component to run: the argument, ``WALOGS_COMPONENT``, or the one in this package."""
    if component is not None:
        return os.fspath(component)
    if "WALOGS_COMPONENT" in os.environ:
        return os.environ["WALOGS_COMPONENT"]
    return str(resources.files("walogs") / "walogs.wasm")


def _message(code: str, payload: Any, host_dir: str) -> tuple[str, Any]:
    """A readable message and the detail for the WIT error variant ``code``."""
    if code == "io" and isinstance(payload, Record):
        detail: Any = payload.code  # the WIT io-code ('storage-full', …)
        payload = f"{payload.message.replace(GUEST_ROOT, host_dir)} ({payload.code})"
    elif isinstance(payload, Record):
        detail = {k.replace("-", "_"): v for k, v in vars(payload).items()}
    elif isinstance(payload, str):
        detail = None
        payload = payload.replace(GUEST_ROOT, host_dir)
    else:
        detail = payload
    texts = {
        "io": lambda: f"io error: {payload}",
        "entry-too-large": lambda: f"entry too large: {detail['size']} bytes, max is {detail['max']}",
        "corrupt": lambda: f"wal corrupt: {payload}",
        "locked": lambda: f"wal locked: {payload} is already open for writing",
        "poisoned": lambda: f"wal poisoned by an earlier failure ({payload}); reopen the log",
        "lsn-out-of-range": lambda: (
            f"lsn {detail['lsn']} out of range: the log holds {detail['first']}..{detail['next']}"
        ),
        "invalid-path": lambda: f"invalid path: {payload}",
        "not-a-directory": lambda: f"not a directory: {payload}",
        "read-only": lambda: "the wal was opened read-only",
    }
    return texts.get(code, lambda: f"{code}: {payload}")(), detail


class _Runtime:
    """The engine, linker and compiled component, shared by every log of the process."""

    _cache: dict[str, "_Runtime"] = {}

    def __init__(self, path: str) -> None:
        self.engine = Engine()
        self.component = Component.from_file(self.engine, path)
        self.linker = Linker(self.engine)
        self.linker.add_wasip2()

    @classmethod
    def get(cls, path: str) -> "_Runtime":
        if path not in cls._cache:
            cls._cache[path] = cls(path)
        return cls._cache[path]


def _lock(path: Path) -> int:
    """Takes ``flock(LOCK_EX | LOCK_NB)`` on ``path/LOCK``; returns the descriptor holding it."""
    lock = path / LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise error("locked", f"wal locked: {path} is already open for writing") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


class ComponentWal:
    """One log in its own component instance (the backend of ``walogs.open(..., sandbox=True)``)."""

    def __init__(self, path: str, component: Optional[str]) -> None:
        self._dir = str(Path(path).resolve())
        self._lock: Optional[int] = None
        self._wal: Any = None
        self._funcs: dict[str, Func] = {}
        runtime = _Runtime.get(_component_path(component))
        self._store = Store(runtime.engine)
        self._instance = runtime.linker.instantiate(self._store, runtime.component)
        self._log = self._instance.get_export_index(self._store, LOG_INTERFACE)

    @classmethod
    def open(
        cls,
        path: str,
        max_segment_size: int,
        durability: str,
        read_only: bool,
        verify_on_open: bool,
        *,
        component: Optional[str] = None,
    ) -> "ComponentWal":
        """Opens the log in ``path`` in a new instance; see ``walogs.open``."""
        host = Path(path)
        if host.exists() and not host.is_dir():
            raise error("not-a-directory", f"not a directory: {host}")
        if not read_only:
            host.mkdir(parents=True, exist_ok=True)
        wal = cls(path, None if component is None else os.fspath(component))
        try:
            if not read_only:
                wal._lock = _lock(host)
            wasi = WasiConfig()
            wasi.inherit_stderr()
            if host.is_dir():
                wasi.preopen_dir(str(host), GUEST_ROOT, fs_mutable=not read_only)
            wal._store.set_wasi(wasi)
            config = Record()
            setattr(config, "max-segment-size", max_segment_size)
            config.durability = durability
            setattr(config, "read-only", read_only)
            setattr(config, "verify-on-open", verify_on_open)
            wal._wal = wal._call("[static]wal.open", GUEST_ROOT, config)
        except BaseException:
            wal.close()
            raise
        return wal

    def _call(self, name: str, *args: object) -> Any:
        """Calls the export ``name``; raises the WIT error variant as the package's exception."""
        func = self._funcs.get(name)
        if func is None:
            index = self._instance.get_export_index(self._store, name, self._log)
            func = self._funcs[name] = self._instance.get_func(self._store, index)
        result = func(self._store, *args)
        func.post_return(self._store)
        if isinstance(result, Variant):
            message, detail = _message(result.tag, result.payload, self._dir)
            raise error(result.tag, message, detail)
        return result

    def _method(self, name: str, *args: object) -> Any:
        if self._wal is None:
            raise error("closed", "the log is closed")
        return self._call(f"[method]wal.{name}", self._wal, *args)

    def append(self, data: bytes) -> int:
        return self._method("append", data)

    def append_batch(self, entries: list[bytes]) -> tuple[int, int]:
        lsns = self._method("append-batch", entries)
        return lsns.start, lsns.end

    def sync(self) -> int:
        return self._method("sync")

    def durable_lsn(self) -> int:
        return self._method("durable-lsn")

    def iter(self, start: Optional[int]) -> "_Cursor":
        cursor = self._method("iter") if start is None else self._method("iter-from", start)
        return _Cursor(self, cursor)

    def checkpoint(self, applied_up_to: int) -> int:
        return self._method("checkpoint", applied_up_to)

    def truncate_after(self, lsn: int) -> None:
        self._method("truncate-after", lsn)

    def rotate(self) -> None:
        self._method("rotate")

    def truncated_at(self) -> Optional[int]:
        # wasmtime-py hands a variant with one payload case back as the payload, or None.
        return self._method("tail-state")

    def next_lsn(self) -> int:
        return self._method("next-lsn")

    def first_lsn(self) -> Optional[int]:
        return self._method("first-lsn")

    def last_lsn(self) -> Optional[int]:
        return self._method("last-lsn")

    def segments(self) -> list[tuple[int, Optional[int], int]]:
        return [(s.seq, getattr(s, "first-lsn"), s.size) for s in self._method("segments")]

    def verify(self) -> tuple[int, int, int, Optional[int], Optional[int]]:
        r = self._method("verify")
        return r.segments, r.entries, r.bytes, getattr(r, "first-lsn"), getattr(r, "last-lsn")

    def closed(self) -> bool:
        return self._wal is None

    def close(self) -> None:
        if self._wal is not None:
            self._wal.drop(self._store)
            self._wal = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


class _Cursor:
    """A ``cursor`` resource of one instance."""

    def __init__(self, wal: ComponentWal, cursor: Any) -> None:
        self._wal = wal
        self._cursor = cursor

    def next_batch(self, max_entries: int, max_bytes: int) -> list[tuple[int, bytes]]:
        batch = self._wal._call("[method]cursor.next-batch", self._cursor, max_entries, max_bytes)
        return [(e.lsn, bytes(e.data)) for e in batch]

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.drop(self._wal._store)
            self._cursor = None
