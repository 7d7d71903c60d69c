"""A small, typed binding of YAZ's ZOOM C API (``libyaz.so.5``, Debian's ``libyaz5``) through ctypes.

ZOOM is the client library Pazpar2 and the field's tools speak Z39.50 with; binding it rather than
writing the protocol keeps BER encoding, Init negotiation, character set conversion and MARC rendering
in the code every library system is tested against.

Only what a live search needs is bound: a connection with its options, a PQF or CQL query, a search, a
range of records rendered as ISO 2709 or MARCXML. Every ZOOM object is owned by one Python object that
frees it exactly once (``with`` blocks); a record's bytes are copied out before its result set goes, so no
pointer outlives its owner. Calls block (ZOOM's synchronous mode), and a connection is not thread-safe:
one connection per search, used by one thread only (:mod:`federated.z3950_client` runs them in threads).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

LIBRARY = "libyaz.so.5"
DEBIAN_PACKAGE = "libyaz5"

# ZOOM's own error codes (yaz/zoom.h); Bib-1 diagnostics come with the diagnostic set "Bib-1".
ERROR_CONNECT = 10000
ERROR_DECODE = 10003
ERROR_CONNECTION_LOST = 10004
ERROR_INIT = 10005
ERROR_TIMEOUT = 10007
ERROR_INVALID_QUERY = 10010
ERROR_CQL_PARSE = 10011

_char_p = ctypes.c_char_p
_void_p = ctypes.c_void_p
_int = ctypes.c_int
_size_t = ctypes.c_size_t
_char_pp = ctypes.POINTER(ctypes.c_char_p)
_int_p = ctypes.POINTER(ctypes.c_int)

# Every function used, with its argument and result types: ZOOM's handles are opaque pointers
# (c_void_p, never ctypes' default int, which would cut them to 32 bits).
_SIGNATURES: dict[str, tuple[list[type], type | None]] = {
    "ZOOM_options_create": ([], _void_p),
    "ZOOM_options_set": ([_void_p, _char_p, _char_p], None),
    "ZOOM_options_destroy": ([_void_p], None),
    "ZOOM_connection_create": ([_void_p], _void_p),
    "ZOOM_connection_connect": ([_void_p, _char_p, _int], None),
    "ZOOM_connection_option_set": ([_void_p, _char_p, _char_p], None),
    "ZOOM_connection_error_x": ([_void_p, _char_pp, _char_pp, _char_pp], _int),
    "ZOOM_connection_destroy": ([_void_p], None),
    "ZOOM_query_create": ([], _void_p),
    "ZOOM_query_prefix": ([_void_p, _char_p], _int),
    "ZOOM_query_cql": ([_void_p, _char_p], _int),
    "ZOOM_query_destroy": ([_void_p], None),
    "ZOOM_connection_search": ([_void_p, _void_p], _void_p),
    "ZOOM_resultset_size": ([_void_p], _size_t),
    "ZOOM_resultset_records": ([_void_p, ctypes.POINTER(_void_p), _size_t, _size_t], None),
    "ZOOM_resultset_destroy": ([_void_p], None),
    "ZOOM_record_get": ([_void_p, _char_p, _int_p], _void_p),
    "ZOOM_record_error": ([_void_p, _char_pp, _char_pp, _char_pp], _int),
}


class ZoomUnavailable(RuntimeError):
    """YAZ's ZOOM library is not installed, so Z39.50 targets cannot be searched."""


class ZoomError(Exception):
    """ZOOM reported an error: ``code`` is ZOOM's (10000 and up) or a diagnostic's of ``diagset``
    (``Bib-1``), ``message`` ZOOM's words for it, ``addinfo`` the server's or ZOOM's detail."""

    def __init__(self, code: int, message: str, addinfo: str = "", diagset: str = "ZOOM") -> None:
        detail = f" ({addinfo})" if addinfo else ""
        super().__init__(f"{diagset} {code}: {message}{detail}")
        self.code = code
        self.message = message
        self.addinfo = addinfo
        self.diagset = diagset


@functools.cache
def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError as error:
        raise ZoomUnavailable(
            f"YAZ's ZOOM library ({LIBRARY}) could not be loaded ({error}); Z39.50 targets need it: "
            f"install the Debian package {DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE})"
        ) from error
    for name, (argtypes, restype) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = restype
    return lib


def _text(value: bytes | None) -> str:
    # ZOOM's messages are ASCII; addinfo is the server's and may be in any encoding.
    return value.decode("utf-8", "replace") if value else ""


@dataclass(frozen=True, slots=True)
class ZoomRecord:
    """One position of a result set, copied out of ZOOM: ``data`` the record rendered as asked,
    ``syntax`` the record syntax the server sent (``USmarc``, ``XML``…); ``error`` says why there is
    no data (the server sent a surrogate diagnostic, or ZOOM could not render the record)."""

    position: int
    data: bytes | None
    syntax: str
    error: ZoomError | None = None


class Connection:
    """A ZOOM connection, created with ``options`` (ZOOM's names: ``databaseName``,
    ``preferredRecordSyntax``, ``timeout``…); :meth:`connect` opens it (Init included)."""

    def __init__(self, options: Mapping[str, str]) -> None:
        lib = _library()
        self._lib = lib
        zoom_options = lib.ZOOM_options_create()
        if not zoom_options:
            raise MemoryError("ZOOM_options_create")
        try:
            for name, value in options.items():
                lib.ZOOM_options_set(zoom_options, name.encode(), value.encode())
            # The connection takes its own reference to the options (they are reference counted).
            self._handle: int | None = lib.ZOOM_connection_create(zoom_options)
        finally:
            lib.ZOOM_options_destroy(zoom_options)
        if not self._handle:
            raise MemoryError("ZOOM_connection_create")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and free it (and what ZOOM keeps for it); safe to call twice."""
        handle, self._handle = self._handle, None
        if handle:
            self._lib.ZOOM_connection_destroy(handle)

    @property
    def handle(self) -> int:
        if not self._handle:
            raise ValueError("the ZOOM connection is closed")
        return self._handle

    def set_option(self, name: str, value: str) -> None:
        self._lib.ZOOM_connection_option_set(self.handle, name.encode(), value.encode())

    def connect(self, host: str, port: int) -> None:
        """Connect and send the Init; blocks until the target accepts it, refuses it, or ``timeout``
        seconds pass without a word (each wait, not the whole exchange)."""
        self._lib.ZOOM_connection_connect(self.handle, host.encode(), port)
        self.check()

    def search(self, query: Query) -> ResultSet:
        """Search and wait for the answer (and the records ``start``/``count`` ask for)."""
        handle = self._lib.ZOOM_connection_search(self.handle, query.handle)
        result = ResultSet(self._lib, handle)
        try:
            self.check()
        except BaseException:
            result.close()
            raise
        return result

    def error(self) -> ZoomError | None:
        """The error of the last operation, or ``None``."""
        message, addinfo, diagset = _char_p(), _char_p(), _char_p()
        code = self._lib.ZOOM_connection_error_x(
            self.handle, ctypes.byref(message), ctypes.byref(addinfo), ctypes.byref(diagset)
        )
        if code == 0:
            return None
        return ZoomError(code, _text(message.value), _text(addinfo.value), _text(diagset.value) or "ZOOM")

    def check(self) -> None:
        error = self.error()
        if error is not None:
            raise error


class Query:
    """A ZOOM query: :meth:`pqf` (Z39.50's RPN in prefix notation) or :meth:`cql`."""

    def __init__(self) -> None:
        self._lib = _library()
        self._handle: int | None = self._lib.ZOOM_query_create()
        if not self._handle:
            raise MemoryError("ZOOM_query_create")

    @classmethod
    def pqf(cls, text: str) -> Query:
        query = cls()
        if query._lib.ZOOM_query_prefix(query.handle, text.encode()) != 0:
            query.close()
            raise ZoomError(ERROR_INVALID_QUERY, "Invalid query", f"PQF {text!r}")
        return query

    @classmethod
    def cql(cls, text: str) -> Query:
        query = cls()
        if query._lib.ZOOM_query_cql(query.handle, text.encode()) != 0:
            query.close()
            raise ZoomError(ERROR_CQL_PARSE, "CQL parsing error", f"CQL {text!r}")
        return query

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop this reference to the query (a search holds its own while it needs it)."""
        handle, self._handle = self._handle, None
        if handle:
            self._lib.ZOOM_query_destroy(handle)

    @property
    def handle(self) -> int:
        if not self._handle:
            raise ValueError("the ZOOM query is closed")
        return self._handle


class ResultSet:
    """A search's result set; its records belong to it and are copied out by :meth:`records`."""

    def __init__(self, lib: ctypes.CDLL, handle: int | None) -> None:
        if not handle:
            raise MemoryError("ZOOM_connection_search")
        self._lib = lib
        self._handle: int | None = handle

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            self._lib.ZOOM_resultset_destroy(handle)

    @property
    def handle(self) -> int:
        if not self._handle:
            raise ValueError("the ZOOM result set is closed")
        return self._handle

    @property
    def size(self) -> int:
        """How many records the target says match."""
        return int(self._lib.ZOOM_resultset_size(self.handle))

    def records(self, start: int, count: int, render: str = "raw") -> list[ZoomRecord]:
        """Records ``start`` (from 1) to ``start + count - 1``, fetched if the search did not bring
        them, each rendered by ZOOM as ``render`` (``raw``: ISO 2709, which YAZ writes anew from the
        fields it read, so the directory may be laid out otherwise than the server's; ``xml``: MARCXML;
        ``raw; charset=marc8,utf-8``: converted to UTF-8). The connection's error, if fetching failed,
        is the caller's to check."""
        count = max(0, min(count, self.size - start + 1))
        if count == 0:
            return []
        handles = (_void_p * count)()
        # ZOOM counts from 0, the protocol and our callers from 1.
        self._lib.ZOOM_resultset_records(self.handle, handles, start - 1, count)
        return [self._record(start + offset, handle, render) for offset, handle in enumerate(handles)]

    def _record(self, position: int, handle: int | None, render: str) -> ZoomRecord:
        if not handle:
            return ZoomRecord(position, None, "", ZoomError(0, "record not sent", f"position {position}"))
        message, addinfo, diagset = _char_p(), _char_p(), _char_p()
        code = self._lib.ZOOM_record_error(
            handle, ctypes.byref(message), ctypes.byref(addinfo), ctypes.byref(diagset)
        )
        if code != 0:
            error = ZoomError(code, _text(message.value), _text(addinfo.value), _text(diagset.value))
            return ZoomRecord(position, None, "", error)
        data = self._get(handle, render)
        syntax = (self._get(handle, "syntax") or b"").decode("ascii", "replace")
        if data is None:
            error = ZoomError(0, f"record could not be rendered as {render}", f"syntax {syntax}")
            return ZoomRecord(position, None, syntax, error)
        return ZoomRecord(position, data, syntax)

    def _get(self, handle: int, kind: str) -> bytes | None:
        length = _int(0)
        data = self._lib.ZOOM_record_get(handle, kind.encode(), ctypes.byref(length))
        if not data or length.value < 0:
            return None
        return ctypes.string_at(data, length.value)
