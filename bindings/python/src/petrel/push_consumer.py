"""PushConsumer: the library pulls and calls a Python listener on its threads."""
from __future__ import annotations

import ctypes
import enum
from typing import Any, Callable, Optional, Sequence, Union

from . import _native
from ._handle import Handle, logger, set_options
from ._native import lib
from .message import ReceivedMessage, _LiveMessage, check, received, require


class MessageModel(enum.IntEnum):
    """Clustering: each message to one consumer of the group; broadcasting: to every consumer."""

    CLUSTERING = 0
    BROADCASTING = 1


class ConsumeFrom(enum.IntEnum):
    """Where a group without a committed offset starts."""

    LAST_OFFSET = 0
    FIRST_OFFSET = 1
    TIMESTAMP = 2


class ConsumeResult(enum.IntEnum):
    """A listener's answer. RETRY_LATER redelivers the messages later."""

    SUCCESS = 0
    RETRY_LATER = 1


Outcome = Union[ConsumeResult, bool, None]
#: listener(message): None, True or SUCCESS consume it; False or RETRY_LATER (or an exception) retry it.
Listener = Callable[[ReceivedMessage], Outcome]
BatchListener = Callable[[Sequence[ReceivedMessage]], Outcome]


def result_of(outcome: Outcome) -> int:
    """A listener's return value as petrel_consume_result."""
    if outcome is None or outcome is True:
        return ConsumeResult.SUCCESS
    if outcome is False:
        return ConsumeResult.RETRY_LATER
    if isinstance(outcome, int) and outcome in ConsumeResult._value2member_map_:
        return int(outcome)
    logger.error("petrel: listener returned %r; treated as RETRY_LATER", outcome)
    return ConsumeResult.RETRY_LATER


class PushConsumer(Handle):
    """A push consumer: subscribe(), set a listener (or pass `listener=`), then start (or `with`).

    The listener runs on one of `thread_count` library threads. An exception it raises is logged and the
    messages are retried later; it never reaches the library.

    Plugins (a name looked up in `plugin_directory`, or a path): `allocation_plugin` (e.g.
    "allocate-consistent-hash") replaces `allocation`; `compressor_plugin` (e.g. "compress-zstd") lets
    the broker send zstd bodies, decompressed here. A plugin that cannot be loaded raises PluginError."""

    _kind = "push consumer"

    def __init__(self, name_servers: str, group: str, *, listener: Optional[Listener] = None,
                 instance_name: Optional[str] = None, message_model: MessageModel = MessageModel.CLUSTERING,
                 consume_from: ConsumeFrom = ConsumeFrom.LAST_OFFSET, consume_timestamp: Optional[int] = None,
                 orderly: bool = False, thread_count: Optional[int] = None, batch_max_size: Optional[int] = None,
                 max_reconsume_times: Optional[int] = None, allocation: Optional[str] = None,
                 plugin_directory: Optional[str] = None, allocation_plugin: Optional[str] = None,
                 allocation_plugin_config: Optional[str] = None, compressor_plugin: Optional[str] = None,
                 compressor_plugin_config: Optional[str] = None) -> None:
        options = _native.PushConsumerOptions()
        lib.petrel_push_consumer_options_init(ctypes.byref(options))
        keep = set_options(options, {
            "name_servers": name_servers, "group": group, "instance_name": instance_name,
            "message_model": int(message_model), "consume_from": int(consume_from),
            "consume_timestamp": consume_timestamp, "orderly": 1 if orderly else 0, "thread_count": thread_count,
            "batch_max_size": batch_max_size, "max_reconsume_times": max_reconsume_times, "allocation": allocation,
            "plugin_directory": plugin_directory, "allocation_plugin": allocation_plugin,
            "allocation_plugin_config": allocation_plugin_config, "compressor_plugin": compressor_plugin,
            "compressor_plugin_config": compressor_plugin_config,
        })
        self._listener: Optional[BatchListener] = None
        self._c_listener = _native.MESSAGE_LISTENER(self._on_messages)
        super().__init__(lib.petrel_push_consumer_create, options, lib.petrel_push_consumer_start,
                         lib.petrel_push_consumer_shutdown, lib.petrel_push_consumer_destroy)
        del keep
        if listener is not None:
            self.set_listener(listener)

    def subscribe(self, topic: str, expression: str = "*") -> None:
        """Subscribes to `topic` with a tag expression ("*" or "tagA || tagB"). Before start."""
        check(lib.petrel_push_consumer_subscribe(self.handle, _native.encode(topic, "topic"),
                                                 _native.encode(expression, "expression")))

    def set_listener(self, listener: Listener) -> None:
        """Calls `listener(message)` once per message; one failure retries the whole delivered batch."""
        require(callable(listener), "listener must be callable")

        def each(messages: Sequence[ReceivedMessage]) -> Outcome:
            for message in messages:
                if result_of(listener(message)) != ConsumeResult.SUCCESS:
                    return ConsumeResult.RETRY_LATER
            return ConsumeResult.SUCCESS

        self._install(each)

    def set_batch_listener(self, listener: BatchListener) -> None:
        """Calls `listener(messages)` with up to batch_max_size messages at a time."""
        require(callable(listener), "listener must be callable")
        self._install(listener)

    def _install(self, listener: BatchListener) -> None:
        check(lib.petrel_push_consumer_set_listener(self.handle, self._c_listener, None))
        self._listener = listener

    def _on_messages(self, _user_data: Any, messages: Any, count: int) -> int:
        """The C listener: never lets an exception out (one would count as success in ctypes)."""
        owner = _LiveMessage()
        try:
            listener = self._listener
            if listener is None:
                return ConsumeResult.RETRY_LATER
            return result_of(listener(received((messages[index] for index in range(count)), owner)))
        except BaseException:
            logger.exception("petrel: push consumer listener raised; messages will be retried")
            return ConsumeResult.RETRY_LATER
        finally:
            owner.alive = False
