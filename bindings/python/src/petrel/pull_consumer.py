"""PullConsumer: pull by queue and offset, or subscribe and poll (also as an iterator)."""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from typing import Iterator, Optional

from . import _native
from ._handle import Handle, milliseconds, set_options
from ._native import lib
from .errors import ShutDownError, Status
from .message import ReceivedMessage, _LiveMessage, check, received, require
from .push_consumer import ConsumeFrom


@dataclass(frozen=True)
class Queue:
    """One queue of a topic."""

    topic: str
    broker_name: str
    queue_id: int

    def to_struct(self) -> _native.QueueStruct:
        """The petrel_queue for this queue."""
        queue = _native.QueueStruct()
        topic = _native.encode(self.topic, "topic") or b""
        broker = _native.encode(self.broker_name, "broker_name") or b""
        require(len(topic) < 256 and len(broker) < 128, "topic or broker name too long for petrel_queue")
        queue.topic, queue.broker_name, queue.queue_id = topic, broker, self.queue_id
        return queue


@dataclass(frozen=True)
class PullResult:
    """Messages from one pull (maybe none) and the offset to pull from next (-1 for polls)."""

    messages: list[ReceivedMessage]
    next_offset: int

    @property
    def found(self) -> bool:
        """Whether the pull returned any message."""
        return bool(self.messages)


def _result(status: int, pointer: ctypes.c_void_p) -> PullResult:
    """A PullResult from a pull or poll; NO_MESSAGE gives an empty one."""
    if status not in (Status.OK, Status.NO_MESSAGE):
        check(status)
    owner = _LiveMessage(pointer.value)  # destroys the C result when its last message goes
    count = lib.petrel_pull_result_count(pointer)
    next_offset = lib.petrel_pull_result_next_offset(pointer)
    handles = [lib.petrel_pull_result_message(pointer, index) for index in range(count)]
    return PullResult(received(handles, owner), next_offset)


class PullConsumer(Handle):
    """A pull consumer. Durations are in seconds."""

    _kind = "pull consumer"

    def __init__(self, name_servers: str, group: str, *, instance_name: Optional[str] = None,
                 poll_timeout: Optional[float] = None, consume_from: ConsumeFrom = ConsumeFrom.LAST_OFFSET,
                 consume_timestamp: Optional[int] = None, plugin_directory: Optional[str] = None,
                 compressor_plugin: Optional[str] = None, compressor_plugin_config: Optional[str] = None) -> None:
        """`compressor_plugin` (a name in `plugin_directory`, or a path; e.g. "compress-zstd") lets the
        broker send zstd bodies, decompressed here; a plugin that cannot be loaded raises PluginError."""
        options = _native.PullConsumerOptions()
        lib.petrel_pull_consumer_options_init(ctypes.byref(options))
        keep = set_options(options, {
            "name_servers": name_servers, "group": group, "instance_name": instance_name,
            "poll_timeout_milliseconds": milliseconds(poll_timeout, "poll_timeout"),
            "consume_from": int(consume_from), "consume_timestamp": consume_timestamp,
            "plugin_directory": plugin_directory, "compressor_plugin": compressor_plugin,
            "compressor_plugin_config": compressor_plugin_config,
        })
        super().__init__(lib.petrel_pull_consumer_create, options, lib.petrel_pull_consumer_start,
                         lib.petrel_pull_consumer_shutdown, lib.petrel_pull_consumer_destroy)
        del keep

    def fetch_queues(self, topic: str) -> list[Queue]:
        """The topic's readable queues."""
        encoded = _native.encode(topic, "topic")
        count = ctypes.c_size_t(0)
        capacity = 16
        while True:
            queues = (_native.QueueStruct * capacity)()
            status = lib.petrel_pull_consumer_fetch_queues(self.handle, encoded, queues, capacity, ctypes.byref(count))
            if status == Status.BUFFER_TOO_SMALL and count.value > capacity:
                capacity = count.value
                continue
            check(status)
            return [Queue(queue.topic.decode(), queue.broker_name.decode(), queue.queue_id)
                    for queue in queues[:count.value]]

    def pull(self, queue: Queue, offset: int, expression: str = "*", max_messages: int = 32) -> PullResult:
        """Up to `max_messages` messages from `queue` at `offset`; an empty result when there is nothing new."""
        pointer = ctypes.c_void_p()
        status = lib.petrel_pull_consumer_pull(self.handle, ctypes.byref(queue.to_struct()),
                                               _native.encode(expression, "expression"), offset, max_messages,
                                               ctypes.byref(pointer))
        return _result(status, pointer)

    def commit(self, queue: Queue, offset: int) -> None:
        """Stores the group's offset for `queue` on the broker."""
        check(lib.petrel_pull_consumer_commit(self.handle, ctypes.byref(queue.to_struct()), offset))

    def subscribe(self, topic: str, expression: str = "*") -> None:
        """Subscribe-and-poll: before start. Queues are shared among the group's consumers."""
        check(lib.petrel_pull_consumer_subscribe(self.handle, _native.encode(topic, "topic"),
                                                 _native.encode(expression, "expression")))

    def poll(self, timeout: float = 1.0) -> list[ReceivedMessage]:
        """The next messages from the assigned queues, waiting up to `timeout` seconds ([] when none)."""
        pointer = ctypes.c_void_p()
        status = lib.petrel_pull_consumer_poll(self.handle, milliseconds(timeout, "timeout"), ctypes.byref(pointer))
        return _result(status, pointer).messages

    def poll_iter(self, poll_timeout: float = 1.0, idle_timeout: Optional[float] = None) -> Iterator[ReceivedMessage]:
        """Messages one at a time: `for message in consumer.poll_iter():`. Ends when the consumer is shut
        down or closed, or when nothing arrived for `idle_timeout` seconds (None: never)."""
        last_message = time.monotonic()
        while True:
            try:
                messages = self.poll(poll_timeout)
            except ShutDownError:
                return
            except Exception:
                if self._handle is None:  # closed while iterating
                    return
                raise
            if messages:
                last_message = time.monotonic()
                yield from messages
            elif idle_timeout is not None and time.monotonic() - last_message >= idle_timeout:
                return
