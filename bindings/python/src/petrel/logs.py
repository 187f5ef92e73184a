"""The library's log records in Python's `logging`: petrel_set_log_handler with a callback that hands each
record to the logger named like the library's ("petrel.client", "petrel.remoting.client", ...), all
children of the "petrel" logger.

Importing petrel installs this routing with the library's threshold at WARNING (the library's own
default), so nothing reaches standard output and Python's logging configuration decides what is shown.
set_log_level lowers or raises the library's threshold: records below it are never produced at all."""
from __future__ import annotations

import atexit
import logging
from typing import Optional

from . import _native
from ._native import lib
from .errors import InvalidArgumentError, Status
from .message import check

#: The library's levels (petrel_log_level) and Python's; NOTICE and TRACE have no Python name.
_TO_PYTHON = {0: 5, 1: logging.DEBUG, 2: logging.INFO, 3: 25, 4: logging.WARNING, 5: logging.ERROR,
              6: logging.CRITICAL}
_OFF = 7


def _library_level(level: int) -> int:
    """The petrel_log_level passing Python records of `level` and above (OFF above CRITICAL)."""
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be a logging level (int), not {type(level).__name__}")
    if level < 0:
        raise InvalidArgumentError(Status.INVALID_ARGUMENT, f"log level {level} is negative")
    for library_level, python_level in sorted(_TO_PYTHON.items()):
        if level <= python_level:
            return library_level
    return _OFF


def _forward(_user_data: Optional[int], level: int, logger: Optional[bytes], message: Optional[bytes]) -> None:
    """The C callback: one record to its Python logger. Never raises into the library."""
    try:
        name = _native.text(logger) or "petrel"
        logging.getLogger(name if name.startswith("petrel") else f"petrel.{name}").log(
            _TO_PYTHON.get(level, logging.CRITICAL), "%s", _native.text(message) or "")
    except BaseException:  # noqa: BLE001 - a failing handler must not take the library's thread down
        pass


# Kept for the life of the process: the library may call it from any of its threads at any time.
_CALLBACK = _native.LOG_CALLBACK(_forward)


def route_logs_to_python(level: int = logging.WARNING) -> None:
    """Sends the library's records at `level` (a logging level) and above to Python's logging."""
    check(lib.petrel_set_log_handler(_library_level(level), _CALLBACK, None))


def use_standard_error(level: int = logging.WARNING) -> None:
    """Back to the library's default: records at `level` and above written to standard error."""
    check(lib.petrel_set_log_handler(_library_level(level), _native.LOG_CALLBACK(), None))


def set_log_level(level: int) -> None:
    """The library's threshold as a logging level (e.g. logging.INFO); wherever records go."""
    check(lib.petrel_set_log_level(_library_level(level)))


def get_log_level() -> int:
    """The library's threshold as a logging level (above CRITICAL when off)."""
    return _TO_PYTHON.get(int(lib.petrel_get_log_level()), logging.CRITICAL + 10)


def _detach() -> None:
    """At exit: no more calls into Python while the interpreter goes away."""
    if lib is not None:
        lib.petrel_set_log_handler(_library_level(logging.WARNING), _native.LOG_CALLBACK(), None)


atexit.register(_detach)
