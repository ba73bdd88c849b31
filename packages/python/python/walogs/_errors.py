"""The exceptions of walogs: one class per error of the engine, all :class:`WalogsError`."""

from __future__ import annotations

from typing import Any


class WalogsError(Exception):
    """A failed walogs call.

    ``code`` names the error as the WIT does (``'corrupt'``, ``'locked'``, …); ``detail`` holds
    its fields, if any (a dict for :class:`EntryTooLarge` and :class:`LsnOutOfRange`; for
    :class:`Io` the errno natively, the WIT ``io-code`` name in the sandbox). Bad arguments raise
    ``TypeError``/``ValueError`` instead.
    """

    code = "walogs"

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail


class Io(WalogsError):
    """The file system failed; nothing acknowledged was lost."""

    code = "io"


class EntryTooLarge(WalogsError, ValueError):
    """The entry was not written: it is larger than 16 MiB. ``detail``: ``{'size', 'max'}``."""

    code = "entry-too-large"


class Corrupt(WalogsError):
    """The log on disk is damaged in a way recovery must not guess about."""

    code = "corrupt"


class Locked(WalogsError):
    """Another writer (in this or another process) holds the log's directory."""

    code = "locked"


class Poisoned(WalogsError):
    """An earlier write or sync failed; reopen the log to recover."""

    code = "poisoned"


class LsnOutOfRange(WalogsError, IndexError):
    """The LSN is not in the log. ``detail``: ``{'lsn', 'first', 'next'}``."""

    code = "lsn-out-of-range"


class InvalidPath(WalogsError, ValueError):
    """The path is not usable."""

    code = "invalid-path"


class NotADirectory(WalogsError):
    """The path exists but is not a directory."""

    code = "not-a-directory"


class ReadOnly(WalogsError):
    """The log was opened read-only."""

    code = "read-only"


class Closed(WalogsError, ValueError):
    """The log was closed."""

    code = "closed"


_BY_CODE = {cls.code: cls for cls in WalogsError.__subclasses__()}


def error(code: str, message: str, detail: Any = None) -> WalogsError:
    """The exception for error ``code`` (the WIT variant's name; unknown codes: the base class)."""
    return _BY_CODE.get(code, WalogsError)(message, detail)
