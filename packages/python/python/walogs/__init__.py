"""walogs: a crash-safe write-ahead log.

    import walogs

    with walogs.open("my-wal") as wal:
        lsn = wal.append(b"hello")           # durable (fdatasync'd) when it returns
        for lsn, data in wal:
            print(lsn, data)

By default the log runs in the native engine (the Rust crate ``walogs``, compiled into this
wheel). ``sandbox=True`` runs the same engine as a WebAssembly component under wasmtime, which
can reach only the log's directory. Both keep the same files, so either can open a log the
other wrote. A writer holds ``flock`` on ``<dir>/LOCK``: a second writer, in this process or
another (in any language walogs ships for), gets :class:`Locked`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple, Optional, Union

from ._errors import (
    Closed,
    Corrupt,
    EntryTooLarge,
    InvalidPath,
    Io,
    Locked,
    LsnOutOfRange,
    NotADirectory,
    Poisoned,
    ReadOnly,
    WalogsError,
)
from ._native import MAX_ENTRY_SIZE, NativeWal

if TYPE_CHECKING:
    from typing_extensions import Buffer
else:
    Buffer = Any

__all__ = [
    "DEFAULT_MAX_SEGMENT_SIZE",
    "MAX_ENTRY_SIZE",
    "Closed",
    "Corrupt",
    "EntryTooLarge",
    "Entry",
    "InvalidPath",
    "Io",
    "Locked",
    "LsnOutOfRange",
    "NotADirectory",
    "Poisoned",
    "ReadOnly",
    "Segment",
    "VerifyReport",
    "Wal",
    "WalogsError",
    "open",
]

#: The segment size a log rotates at unless told otherwise (64 MiB); 0 never rotates.
DEFAULT_MAX_SEGMENT_SIZE: int = NativeWal.default_max_segment_size()
_DURABILITIES = ("always", "explicit", "none")
_U64_MAX = (1 << 64) - 1
_BATCH_ENTRIES = 256
_BATCH_BYTES = 1 << 20


class Entry(NamedTuple):
    """One entry of the log: ``for lsn, data in wal``."""

    lsn: int
    data: bytes


class Segment(NamedTuple):
    """One segment file, ``wal-NNNNNN.log``."""

    seq: int
    first_lsn: Optional[int]
    size: int


class VerifyReport(NamedTuple):
    """What :meth:`Wal.verify` checked."""

    segments: int
    entries: int
    bytes: int
    first_lsn: Optional[int]
    last_lsn: Optional[int]


def _u64(value: object, name: str) -> int:
    """An LSN or size: an int in 0 ..= 2**64 - 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= _U64_MAX:
        raise ValueError(f"{name} must be between 0 and 2**64 - 1, not {value}")
    return value


def _bytes(data: object) -> bytes:
    """The entry's bytes from any bytes-like object (bytes, bytearray, memoryview, array…)."""
    if type(data) is bytes:
        return data
    if isinstance(data, str):
        raise TypeError("an entry must be bytes-like, not str: encode it, e.g. text.encode()")
    try:
        return memoryview(data).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"an entry must be bytes-like, not {type(data).__name__}") from None


class Wal:
    """An open log in directory ``path`` (created if missing, unless ``read_only``).

    LSNs are ints; iteration yields :class:`Entry` tuples ``(lsn, data)``. Use it in a ``with``
    block, or call :meth:`close`.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        *,
        max_segment_size: int = DEFAULT_MAX_SEGMENT_SIZE,
        durability: str = "always",
        read_only: bool = False,
        verify_on_open: bool = False,
        sandbox: bool = False,
        component: Union[str, "os.PathLike[str]", None] = None,
    ) -> None:
        path = os.fspath(path)
        if not isinstance(path, str) or not path:
            raise TypeError("path must be a non-empty str or os.PathLike[str]")
        _u64(max_segment_size, "max_segment_size")
        if durability not in _DURABILITIES:
            raise ValueError(f"durability must be one of {_DURABILITIES}, not {durability!r}")
        for name, flag in (("read_only", read_only), ("verify_on_open", verify_on_open), ("sandbox", sandbox)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {type(flag).__name__}")
        if component is not None and not sandbox:
            raise ValueError("component= is for sandbox=True")
        self.path = path
        args = (path, max_segment_size, durability, read_only, verify_on_open)
        if sandbox:
            from ._component import ComponentWal

            self._wal: Any = ComponentWal.open(*args, component=component)
        else:
            self._wal = NativeWal.open(*args)
        #: Whether the log runs in the WebAssembly sandbox.
        self.sandboxed = sandbox

    def append(self, data: Buffer) -> int:
        """Appends one entry (any bytes-like object) and returns its LSN."""
        return self._wal.append(data if type(data) is bytes else _bytes(data))

    def append_batch(self, entries: Iterable[Buffer]) -> range:
        """Appends entries with one write and one sync; returns the range of their LSNs."""
        start, end = self._wal.append_batch([_bytes(e) for e in entries])
        return range(start, end)

    def sync(self) -> int:
        """Makes everything appended so far durable and returns the durable LSN."""
        return self._wal.sync()

    @property
    def durable_lsn(self) -> int:
        """The highest LSN known durable (0 when none)."""
        return self._wal.durable_lsn()

    def entries(self, start: Optional[int] = None) -> Iterator[Entry]:
        """Yields the entries, from the first or from LSN ``start``."""
        cursor = self._wal.iter(None if start is None else _u64(start, "start"))
        try:
            while batch := cursor.next_batch(_BATCH_ENTRIES, _BATCH_BYTES):
                for lsn, data in batch:
                    yield Entry(lsn, data)
        finally:
            close = getattr(cursor, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[Entry]:
        return self.entries()

    def checkpoint(self, applied_up_to: int) -> int:
        """Deletes sealed segments whose entries are all at or below ``applied_up_to``."""
        return self._wal.checkpoint(_u64(applied_up_to, "applied_up_to"))

    def truncate_after(self, lsn: int) -> None:
        """Removes every entry after ``lsn``; the next append gets ``lsn + 1``."""
        self._wal.truncate_after(_u64(lsn, "lsn"))

    def rotate(self) -> None:
        """Seals the active segment and starts a new one (no-op when it is empty)."""
        self._wal.rotate()

    def verify(self) -> VerifyReport:
        """Reads and checks every frame of every segment; raises :class:`Corrupt` on damage."""
        return VerifyReport(*self._wal.verify())

    @property
    def truncated_at(self) -> Optional[int]:
        """Where the open cut off a torn tail (a byte offset in the last segment), or None."""
        return self._wal.truncated_at()

    @property
    def next_lsn(self) -> int:
        """The LSN the next append gets."""
        return self._wal.next_lsn()

    @property
    def first_lsn(self) -> Optional[int]:
        """The first LSN the log holds, or None."""
        return self._wal.first_lsn()

    @property
    def last_lsn(self) -> Optional[int]:
        """The last LSN the log holds, or None."""
        return self._wal.last_lsn()

    @property
    def segments(self) -> list[Segment]:
        """Every segment file, oldest first."""
        return [Segment(*s) for s in self._wal.segments()]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._wal.closed()

    def close(self) -> None:
        """Closes the log's files and releases the directory lock; closing twice is fine."""
        self._wal.close()

    def __enter__(self) -> "Wal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"next_lsn={self.next_lsn}"
        return f"<walogs.Wal {self.path!r} {state}{' sandboxed' if self.sandboxed else ''}>"


def open(
    path: Union[str, "os.PathLike[str]"],
    *,
    max_segment_size: int = DEFAULT_MAX_SEGMENT_SIZE,
    durability: str = "always",
    read_only: bool = False,
    verify_on_open: bool = False,
    sandbox: bool = False,
    component: Union[str, "os.PathLike[str]", None] = None,
) -> Wal:
    """Opens (creating it unless ``read_only``) the log in directory ``path``.

    ``durability``: ``'always'`` (each append fdatasync'd before it returns), ``'explicit'``
    (:meth:`Wal.sync` does it) or ``'none'``. ``max_segment_size``: bytes per segment, 0 never
    rotates. ``sandbox=True`` runs the engine as a WebAssembly component (``component``: another
    ``walogs.wasm`` than the one in this package).
    """
    return Wal(
        path,
        max_segment_size=max_segment_size,
        durability=durability,
        read_only=read_only,
        verify_on_open=verify_on_open,
        sandbox=sandbox,
        component=component,
    )
