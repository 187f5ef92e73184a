"""Messages: what the caller sends (Message), what consumers receive (ReceivedMessage), what sends return."""
from __future__ import annotations

import ctypes
import enum
import types
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union

from . import _native
from ._native import lib
from .errors import InvalidArgumentError, Status, error_for

Body = Union[bytes, bytearray, memoryview, str]


def check(status: int) -> None:
    """Raises the exception for a failing status, with the calling thread's last error message."""
    if status != Status.OK:
        raise error_for(status, _native.text(lib.petrel_last_error()) or "")


def last_error() -> str:
    """The calling thread's last error message from the library ("" when none)."""
    return _native.text(lib.petrel_last_error()) or ""


def body_bytes(body: Body) -> bytes:
    """A body as bytes: str is encoded as UTF-8."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"body must be bytes or str, not {type(body).__name__}")


def keys_text(keys: Union[None, str, Iterable[str]]) -> Optional[str]:
    """Keys as RocketMQ stores them: one string, separated by spaces."""
    if keys is None or isinstance(keys, str):
        return keys
    return " ".join(keys)


@dataclass
class Message:
    """A message to send. `keys` may be one string ("k1 k2") or a list of keys; `delay_level` 1 ... 18;
    `deliver_at` a time in seconds since the epoch (as time.time() gives) the broker holds it until."""

    topic: str
    body: Body = b""
    tags: Optional[str] = None
    keys: Union[None, str, Iterable[str]] = None
    properties: Mapping[str, str] = field(default_factory=dict)
    delay_level: int = 0
    deliver_at: Optional[float] = None


class NativeMessage:
    """A petrel_message built from a Message, destroyed when the `with` block ends."""

    def __init__(self, message: Message) -> None:
        handle = ctypes.c_void_p()
        check(lib.petrel_message_create(_native.encode(message.topic, "topic"), ctypes.byref(handle)))
        self.handle = handle
        try:
            if message.tags is not None:
                check(lib.petrel_message_set_tags(handle, _native.encode(message.tags, "tags")))
            keys = keys_text(message.keys)
            if keys is not None:
                check(lib.petrel_message_set_keys(handle, _native.encode(keys, "keys")))
            body = body_bytes(message.body)
            check(lib.petrel_message_set_body(handle, body, len(body)))
            for name, value in (message.properties or {}).items():
                check(lib.petrel_message_set_property(handle, _native.encode(name, "property name"),
                                                      _native.encode(value, f"property {name!r}")))
            if message.delay_level:
                if not isinstance(message.delay_level, int):
                    raise TypeError("delay_level must be int")
                check(lib.petrel_message_set_delay_level(handle, message.delay_level))
            if message.deliver_at is not None:
                if not isinstance(message.deliver_at, (int, float)):
                    raise TypeError("deliver_at must be seconds since the epoch")
                check(lib.petrel_message_set_deliver_time(handle, int(round(message.deliver_at * 1000))))
        except BaseException:
            self.close()
            raise

    def message_id(self) -> str:
        """The id the library gave the message when it was sent."""
        return _native.text(lib.petrel_message_id(self.handle)) or ""

    def property(self, name: str) -> Optional[str]:
        """The built message's property (None when it has none), as the library will send it."""
        return _native.text(lib.petrel_message_property(self.handle, _native.encode(name, "property name")))

    def close(self) -> None:
        """Destroys the C message (once)."""
        if self.handle:
            lib.petrel_message_destroy(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self) -> "NativeMessage":
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()


class _LiveMessage:
    """Keeps a C message readable: a pull result's messages live until the result is destroyed,
    which happens when no ReceivedMessage refers to it any more."""

    def __init__(self, pull_result: Optional[int] = None) -> None:
        self.pull_result = pull_result
        self.alive = True

    def __del__(self) -> None:
        if self.pull_result and lib is not None:
            lib.petrel_pull_result_destroy(self.pull_result)
            self.pull_result = None


def read_properties(handle: int) -> Mapping[str, str]:
    """Every property of a C message (petrel_message_property_count / _at), as a read-only mapping."""
    count = ctypes.c_size_t()
    check(lib.petrel_message_property_count(handle, ctypes.byref(count)))
    entries: dict[str, str] = {}
    for index in range(count.value):
        name, value = ctypes.c_char_p(), ctypes.c_char_p()
        check(lib.petrel_message_property_at(handle, index, ctypes.byref(name), ctypes.byref(value)))
        entries[_native.text(name.value) or ""] = _native.text(value.value) or ""
    return types.MappingProxyType(entries)


class ReceivedMessage:
    """A message a consumer received or a transaction check names. Every field and property is copied
    at once, so the object stays readable after the listener or checker call (or the pull result) that
    delivered it."""

    def __init__(self, handle: int, owner: _LiveMessage) -> None:
        self._owner = owner
        #: Every property the message arrived with, RocketMQ's own (TAGS, KEYS, UNIQ_KEY, ...) included.
        self.properties: Mapping[str, str] = read_properties(handle)
        self.topic: str = _native.text(lib.petrel_message_topic(handle)) or ""
        self.tags: str = _native.text(lib.petrel_message_tags(handle)) or ""
        self.keys: str = _native.text(lib.petrel_message_keys(handle)) or ""
        length = ctypes.c_size_t()
        pointer = lib.petrel_message_body(handle, ctypes.byref(length))
        self.body: bytes = ctypes.string_at(pointer, length.value) if pointer and length.value else b""
        self.message_id: str = _native.text(lib.petrel_message_id(handle)) or ""
        self.queue_id: int = lib.petrel_message_queue_id(handle)
        self.queue_offset: int = lib.petrel_message_queue_offset(handle)
        self.reconsume_times: int = lib.petrel_message_reconsume_times(handle)
        self.born_timestamp: int = lib.petrel_message_born_timestamp(handle)
        self.store_timestamp: int = lib.petrel_message_store_timestamp(handle)

    @property
    def key_list(self) -> list[str]:
        """The keys one by one."""
        return self.keys.split()

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def get_property(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The property's value, or `default` when the message has none."""
        return self.properties.get(name, default)

    def __repr__(self) -> str:
        return (f"ReceivedMessage(topic={self.topic!r}, tags={self.tags!r}, keys={self.keys!r}, "
                f"queue_id={self.queue_id}, queue_offset={self.queue_offset}, body={self.body[:32]!r})")


def received(handles: Iterable[int], owner: _LiveMessage) -> list[ReceivedMessage]:
    """ReceivedMessage objects for C messages kept alive by `owner`."""
    return [ReceivedMessage(handle, owner) for handle in handles]


class SendStatus(enum.IntEnum):
    """How the broker stored a message."""

    SEND_OK = 0
    FLUSH_DISK_TIMEOUT = 1
    FLUSH_SLAVE_TIMEOUT = 2
    SLAVE_NOT_AVAILABLE = 3


@dataclass(frozen=True)
class SendResult:
    """Where a message went. For a batch the ids and offset are the first message's; `message_ids`
    holds every message's id."""

    status: Union[SendStatus, int]
    queue_id: int
    queue_offset: int
    message_id: str
    offset_message_id: str
    broker_name: str
    message_ids: tuple[str, ...] = ()

    @classmethod
    def from_struct(cls, result: _native.SendResultStruct, message_ids: tuple[str, ...] = ()) -> "SendResult":
        """A copy of a petrel_send_result."""
        status = result.send_status
        return cls(
            status=SendStatus(status) if status in SendStatus._value2member_map_ else status,
            queue_id=result.queue_id, queue_offset=result.queue_offset,
            message_id=result.message_id.decode(), offset_message_id=result.offset_message_id.decode(),
            broker_name=result.broker_name.decode(),
            message_ids=message_ids or (result.message_id.decode(),))


def require(condition: bool, message: str) -> None:
    """Refuses a bad argument before the library sees it."""
    if not condition:
        raise InvalidArgumentError(Status.INVALID_ARGUMENT, message)
