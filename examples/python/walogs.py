"""A small Pythonic face for the walogs WASI component, run by the PyPI package `wasmtime`.

Each open log gets its own store and component instance that sees only the log's
directory, preopened at ``/wal`` as the Rust host does. WIT ``result`` errors are raised
as :class:`WalError`; a :class:`Wal` is a context manager that closes the log.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Optional

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Func, Linker, Record, ResourceAny, Variant

#: The component that ``just component`` builds (``WALOGS_COMPONENT`` overrides it).
DEFAULT_COMPONENT = Path(
    os.environ.get(
        "WALOGS_COMPONENT",
        Path(__file__).resolve().parents[2] / "target/wasm32-wasip2/component/walogs.wasm",
    )
)
GUEST_ROOT = "/wal"
LOG_INTERFACE = "walogs:wal/log@0.2.0"


class WalError(Exception):
    """A failed walogs call.

    ``kind`` is the WIT error variant ('corrupt', 'entry-too-large', …), ``detail`` its payload.
    """

    def __init__(self, kind: str, detail: object = None) -> None:
        super().__init__(kind if detail is None else f"{kind}: {_plain(detail)}")
        self.kind = kind
        self.detail = _plain(detail)


class Entry(NamedTuple):
    """One entry of the log."""

    lsn: int
    data: bytes


class TailState(NamedTuple):
    """What the open found at the tail: ``("clean", None)`` or ``("truncated-at", offset)``."""

    kind: str
    offset: Optional[int]


class Segment(NamedTuple):
    """One segment file, ``wal-NNNNNN.log``."""

    seq: int
    first_lsn: Optional[int]
    size: int


def _plain(value: object) -> object:
    """A WIT record as a dict with snake_case keys; anything else unchanged."""
    if isinstance(value, Record):
        return {k.replace("-", "_"): _plain(v) for k, v in vars(value).items()}
    return value


class _Runtime:
    """The engine, linker and compiled component, shared by every log of the process."""

    _cache: dict[Path, "_Runtime"] = {}

    def __init__(self, path: Path) -> None:
        self.engine = Engine()
        self.component = Component.from_file(self.engine, str(path))
        self.linker = Linker(self.engine)
        self.linker.add_wasip2()

    @classmethod
    def get(cls, path: Path) -> "_Runtime":
        if path not in cls._cache:
            cls._cache[path] = cls(path)
        return cls._cache[path]


class Wal:
    """An open log in directory ``path`` (created if missing, unless ``read_only``).

    LSNs are ints; entries are :class:`Entry` tuples. Use it in a ``with`` block, or call
    :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_segment_size: Optional[int] = None,
        durability: str = "always",
        read_only: bool = False,
        verify_on_open: bool = False,
        component: str | os.PathLike[str] = DEFAULT_COMPONENT,
    ) -> None:
        path = Path(path)
        self._lock = None
        if not read_only:
            path.mkdir(parents=True, exist_ok=True)
            self._lock = _lock(path)
        try:
            runtime = _Runtime.get(Path(component))
            wasi = WasiConfig()
            wasi.inherit_stderr()
            wasi.preopen_dir(str(path), GUEST_ROOT, fs_mutable=not read_only)
            self._store = Store(runtime.engine)
            self._store.set_wasi(wasi)
            self._instance = runtime.linker.instantiate(self._store, runtime.component)
            self._log = self._instance.get_export_index(self._store, LOG_INTERFACE)
            self._funcs: dict[str, Func] = {}
            config = Record()
            setattr(config, "max-segment-size", max_segment_size)
            config.durability = durability
            setattr(config, "read-only", read_only)
            setattr(config, "verify-on-open", verify_on_open)
            self._wal: Optional[ResourceAny] = self._call("[static]wal.open", GUEST_ROOT, config)
        except BaseException:
            self._release()
            raise

    def _call(self, name: str, *args: object) -> Any:
        """Calls the export ``name`` and raises the WIT error variant as a :class:`WalError`."""
        func = self._funcs.get(name)
        if func is None:
            index = self._instance.get_export_index(self._store, name, self._log)
            func = self._funcs[name] = self._instance.get_func(self._store, index)
        result = func(self._store, *args)
        func.post_return(self._store)
        if isinstance(result, Variant):
            raise WalError(result.tag, result.payload)
        return result

    def _method(self, name: str, *args: object) -> Any:
        if self._wal is None:
            raise ValueError("the log is closed")
        return self._call(f"[method]wal.{name}", self._wal, *args)

    def append(self, data: bytes) -> int:
        """Appends one entry and returns its LSN."""
        return self._method("append", bytes(data))

    def append_batch(self, entries: Iterable[bytes]) -> range:
        """Appends entries with one write and one sync; returns the range of their LSNs."""
        lsns = self._method("append-batch", [bytes(e) for e in entries])
        return range(lsns.start, lsns.end)

    def sync(self) -> int:
        """Makes everything appended so far durable and returns the durable LSN."""
        return self._method("sync")

    def entries(self, start: Optional[int] = None) -> Iterator[Entry]:
        """Yields the entries, from the first or from LSN ``start``."""
        cursor = self._method("iter") if start is None else self._method("iter-from", start)
        try:
            while batch := self._call("[method]cursor.next-batch", cursor, 256, 1 << 20):
                yield from (Entry(e.lsn, bytes(e.data)) for e in batch)
        finally:
            cursor.drop(self._store)

    __iter__ = entries

    def checkpoint(self, applied_up_to: int) -> int:
        """Deletes sealed segments whose entries are all at or below ``applied_up_to``."""
        return self._method("checkpoint", applied_up_to)

    def truncate_after(self, lsn: int) -> None:
        """Removes every entry after ``lsn``."""
        self._method("truncate-after", lsn)

    def rotate(self) -> None:
        """Seals the active segment and starts a new one."""
        self._method("rotate")

    def verify(self) -> dict:
        """Reads and checks every frame of every segment; raises WalError('corrupt') on damage."""
        return _plain(self._method("verify"))

    @property
    def tail_state(self) -> TailState:
        """What the open found at the tail."""
        offset = self._method("tail-state")
        return TailState("clean", None) if offset is None else TailState("truncated-at", offset)

    @property
    def next_lsn(self) -> int:
        """The LSN the next append gets."""
        return self._method("next-lsn")

    @property
    def first_lsn(self) -> Optional[int]:
        """The first LSN the log holds."""
        return self._method("first-lsn")

    @property
    def last_lsn(self) -> Optional[int]:
        """The last LSN the log holds."""
        return self._method("last-lsn")

    @property
    def segments(self) -> list[Segment]:
        """Every segment file, oldest first."""
        return [Segment(s.seq, getattr(s, "first-lsn"), s.size) for s in self._method("segments")]

    def close(self) -> None:
        """Closes the log's files and releases the directory."""
        if self._wal is not None:
            self._wal.drop(self._store)
            self._wal = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> "Wal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock(path: Path) -> int:
    """Takes the exclusive lock on ``path/LOCK`` that every walogs writer takes (WASI has none)."""
    fd = os.open(path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WalError("locked", str(path)) from None
    return fd
