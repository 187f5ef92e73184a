"""Exceptions: one per petrel_status, all under PetrelError."""
from __future__ import annotations

import builtins
import enum


class Status(enum.IntEnum):
    """petrel_status: the outcome of a C API call."""

    OK = 0
    INVALID_ARGUMENT = 1
    INVALID_STATE = 2
    CONNECT_FAILED = 3
    TIMEOUT = 4
    NO_ROUTE = 5
    BROKER_ERROR = 6
    NO_MESSAGE = 7
    BUFFER_TOO_SMALL = 8
    PLUGIN_ERROR = 9
    SHUT_DOWN = 10
    INTERNAL_ERROR = 11


class PetrelError(Exception):
    """A failed call: `status` says which kind of failure, the message what went wrong."""

    def __init__(self, status: int, message: str = "") -> None:
        self.status = Status(status) if status in Status._value2member_map_ else status
        self.message = message
        name = self.status.name if isinstance(self.status, Status) else f"status {status}"
        super().__init__(f"{name}: {message}" if message else name)


class InvalidArgumentError(PetrelError, ValueError):
    """A missing, empty, over-long or out-of-range argument."""


class InvalidStateError(PetrelError):
    """The call is not allowed now (send before start, subscribe after start)."""


class ConnectError(PetrelError, ConnectionError):
    """No name server or broker could be reached."""


class PetrelTimeoutError(PetrelError, builtins.TimeoutError):
    """The request got no response in time."""


class NoRouteError(PetrelError):
    """The name servers know no route for the topic."""


class BrokerError(PetrelError):
    """The broker answered with an error (the message holds its code and remark)."""


class NoMessageError(PetrelError):
    """A pull found nothing new (the pull methods return an empty result instead of raising this)."""


class BufferTooSmallError(PetrelError):
    """A buffer was too small (handled inside the binding; seen only if the library misbehaves)."""


class PluginError(PetrelError):
    """A plugin could not be loaded or misbehaved."""


class ShutDownError(PetrelError):
    """The handle was shut down."""


class InternalError(PetrelError):
    """A failure inside the library."""


#: The exception class raised for each failing status.
ERROR_CLASSES: dict[Status, type[PetrelError]] = {
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.INVALID_STATE: InvalidStateError,
    Status.CONNECT_FAILED: ConnectError,
    Status.TIMEOUT: PetrelTimeoutError,
    Status.NO_ROUTE: NoRouteError,
    Status.BROKER_ERROR: BrokerError,
    Status.NO_MESSAGE: NoMessageError,
    Status.BUFFER_TOO_SMALL: BufferTooSmallError,
    Status.PLUGIN_ERROR: PluginError,
    Status.SHUT_DOWN: ShutDownError,
    Status.INTERNAL_ERROR: InternalError,
}


def error_for(status: int, message: str = "") -> PetrelError:
    """The exception for a failing status (PetrelError itself for codes this version does not know)."""
    known = Status(status) if status in Status._value2member_map_ else None
    return ERROR_CLASSES.get(known, PetrelError)(status, message) if known else PetrelError(status, message)
