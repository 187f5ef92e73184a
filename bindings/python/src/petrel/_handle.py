"""What the producer and consumer classes share: option conversion and the handle's lifecycle."""
from __future__ import annotations

import atexit
import ctypes
import logging
import threading
import weakref
from typing import Any, Callable, Optional

from ._native import encode
from .errors import InvalidStateError, Status
from .message import check, require

logger = logging.getLogger("petrel")


def milliseconds(seconds: Optional[float], what: str) -> Optional[int]:
    """A Python duration in seconds as the library's whole milliseconds (None stays None)."""
    if seconds is None:
        return None
    require(isinstance(seconds, (int, float)) and seconds >= 0, f"{what} must be a non-negative number of seconds")
    return int(round(seconds * 1000))


def set_options(options: ctypes.Structure, values: dict[str, Any]) -> list[bytes]:
    """Copies the values that are not None into a C options struct; returns the encoded strings,
    which the caller keeps alive until the create call returns."""
    keep: list[bytes] = []
    field_types = dict((field[0], field[1]) for field in options._fields_)
    for name, value in values.items():
        if value is None:
            continue
        if field_types[name] is ctypes.c_char_p:
            # ctypes would take an int as an address: only str reaches a string field.
            encoded = encode(value, name) or b""
            keep.append(encoded)
            setattr(options, name, encoded)
        else:
            if not isinstance(value, int):
                raise TypeError(f"{name} must be int, not {type(value).__name__}")
            # Unsigned fields would wrap a negative number silently.
            require(value >= 0 or field_types[name] is not ctypes.c_uint32, f"{name} must not be negative")
            setattr(options, name, value)
    return keep


#: Handles not closed yet. At exit they are closed before the interpreter goes away, so no library
#: thread calls a Python callback into a finalizing interpreter.
_open_handles: "weakref.WeakSet[Handle]" = weakref.WeakSet()


@atexit.register
def _close_open_handles() -> None:
    for handle in list(_open_handles):
        handle.close()


class Handle:
    """One C handle: started on `with` entry (or start()), shut down and destroyed on exit (or close())."""

    _kind = "handle"

    def __init__(self, create: Callable[..., int], options: ctypes.Structure,
                 start: Callable[[Any], int], shutdown: Callable[[Any], int], destroy: Callable[[Any], None]) -> None:
        self._lock = threading.Lock()
        self._handle: Optional[ctypes.c_void_p] = None
        self._started = False
        self._start_function, self._shutdown_function, self._destroy_function = start, shutdown, destroy
        handle = ctypes.c_void_p()
        check(create(ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle
        _open_handles.add(self)

    @property
    def handle(self) -> ctypes.c_void_p:
        """The live C handle; InvalidStateError after close()."""
        handle = self._handle
        if handle is None:
            raise InvalidStateError(Status.INVALID_STATE, f"the {self._kind} is closed")
        return handle

    @property
    def started(self) -> bool:
        """Whether start() succeeded."""
        return self._started

    def start(self) -> None:
        """Starts the handle's background work (route refresh, heartbeats, delivery)."""
        check(self._start_function(self.handle))
        self._started = True

    def shutdown(self) -> None:
        """Stops the handle (idempotent); the handle stays until close()."""
        check(self._shutdown_function(self.handle))

    def close(self) -> None:
        """Shuts down if needed and releases the handle. Safe to call more than once."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._destroy_function(handle)

    def __enter__(self) -> Any:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass
