"""Petrel's Python client: ctypes bindings of libpetrel.so (include/petrel.h).

    import petrel
    with petrel.Producer(name_servers="127.0.0.1:9876", group="demo") as producer:
        result = producer.send("TopicTest", b"hello", tags="greeting", keys="order-1")
"""
from ._native import library_path
from ._native import lib as _lib
from .errors import (BrokerError, BufferTooSmallError, ConnectError, InternalError, InvalidArgumentError,
                     InvalidStateError, NoMessageError, NoRouteError, PetrelError, PetrelTimeoutError, PluginError,
                     ShutDownError, Status)
from .logs import get_log_level, route_logs_to_python, set_log_level, use_standard_error
from .message import Message, ReceivedMessage, SendResult, SendStatus, last_error
from .plugins import SelectorPlugin
from .producer import Producer
from .pull_consumer import PullConsumer, PullResult, Queue
from .push_consumer import ConsumeFrom, ConsumeResult, MessageModel, PushConsumer
from .transaction import TransactionProducer, TransactionResult, TransactionState


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return str(_lib.petrel_version().decode())


def status_name(status: int) -> str:
    """The C name of a status ("PETREL_OK", ...; "PETREL_UNKNOWN" for other values)."""
    return str(_lib.petrel_status_name(int(status)).decode())


__all__ = [
    "BrokerError", "BufferTooSmallError", "ConnectError", "ConsumeFrom", "ConsumeResult", "InternalError",
    "InvalidArgumentError", "InvalidStateError", "Message", "MessageModel", "NoMessageError", "NoRouteError",
    "PetrelError", "PetrelTimeoutError", "PluginError", "Producer", "PullConsumer", "PullResult", "PushConsumer",
    "Queue", "ReceivedMessage", "SelectorPlugin", "SendResult", "SendStatus", "ShutDownError", "Status", "TransactionProducer",
    "TransactionResult", "TransactionState", "get_log_level", "last_error", "library_path", "route_logs_to_python",
    "set_log_level", "status_name", "use_standard_error", "version",
]

# The library's records go to Python's logging ("petrel.*" loggers) from the start.
route_logs_to_python()
