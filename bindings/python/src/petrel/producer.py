"""Producer: sync, async, one-way, batch, ordered and selected sends."""
from __future__ import annotations

import ctypes
import itertools
import threading
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from . import _native
from ._handle import Handle, logger, milliseconds, set_options
from ._native import lib
from .errors import PetrelError, Status, error_for
from .message import Body, Message, NativeMessage, SendResult, check, require
from .plugins import SelectorPlugin

#: send_async's callback: (result, None) on success, (None, error) on failure.
SendCallback = Callable[[Optional[SendResult], Optional[PetrelError]], Any]
#: send_selected's selector: (queue_count, message, argument) -> queue index in [0, queue_count).
QueueSelector = Callable[[int, Message, Any], int]


class Producer(Handle):
    """A producer. `with Producer(name_servers="127.0.0.1:9876") as producer:` starts it and shuts it down.

    Durations are in seconds. Options left None keep the library's defaults."""

    _kind = "producer"

    def __init__(self, name_servers: str, group: Optional[str] = None, *, instance_name: Optional[str] = None,
                 send_timeout: Optional[float] = None, retry_times: Optional[int] = None,
                 compress_over_bytes: Optional[int] = None, max_message_bytes: Optional[int] = None,
                 compression_level: Optional[int] = None) -> None:
        options = _native.ProducerOptions()
        lib.petrel_producer_options_init(ctypes.byref(options))
        keep = set_options(options, {
            "name_servers": name_servers, "group": group, "instance_name": instance_name,
            "send_timeout_milliseconds": milliseconds(send_timeout, "send_timeout"), "retry_times": retry_times,
            "compress_over_bytes": compress_over_bytes, "max_message_bytes": max_message_bytes,
            "compression_level": compression_level,
        })
        self._pending: dict[int, SendCallback] = {}
        self._tokens = itertools.count(1)
        self._pending_lock = threading.Lock()
        # One C callback for every async send; user_data is the token of the Python callback.
        self._send_callback = _native.SEND_CALLBACK(self._on_send_complete)
        super().__init__(lib.petrel_producer_create, options, lib.petrel_producer_start,
                         lib.petrel_producer_shutdown, lib.petrel_producer_destroy)
        del keep

    # ------------------------------------------------------------ sends

    def send(self, topic: str, body: Body, tags: Optional[str] = None, keys: Union[None, str, Iterable[str]] = None,
             properties: Optional[Mapping[str, str]] = None, delay_level: int = 0,
             deliver_at: Optional[float] = None) -> SendResult:
        """Sends one message and waits for the broker's answer. `deliver_at` (seconds since the epoch)
        makes the broker hold it until then."""
        return self.send_message(Message(topic, body, tags, keys, properties or {}, delay_level, deliver_at))

    def send_message(self, message: Message) -> SendResult:
        """Sends a Message and waits for the broker's answer."""
        result = _native.SendResultStruct()
        with NativeMessage(message) as native:
            check(lib.petrel_producer_send(self.handle, native.handle, ctypes.byref(result)))
        return SendResult.from_struct(result)

    def send_async(self, topic: str, body: Body, callback: SendCallback, tags: Optional[str] = None,
                   keys: Union[None, str, Iterable[str]] = None, properties: Optional[Mapping[str, str]] = None,
                   delay_level: int = 0) -> None:
        """Sends without waiting; `callback(result, error)` runs once on a library thread. An exception
        the callback raises is logged and dropped."""
        require(callable(callback), "callback must be callable")
        token = next(self._tokens)
        with self._pending_lock:
            self._pending[token] = callback
        try:
            with NativeMessage(Message(topic, body, tags, keys, properties or {}, delay_level)) as native:
                check(lib.petrel_producer_send_async(self.handle, native.handle, self._send_callback, token))
        except BaseException:
            with self._pending_lock:
                self._pending.pop(token, None)
            raise

    def _on_send_complete(self, user_data: Optional[int], status: int, result: Any, error_message: Optional[bytes]) -> None:
        """The C send callback: hands the outcome to the Python callback; never lets an exception out."""
        try:
            with self._pending_lock:
                callback = self._pending.pop(user_data or 0, None)
            if callback is None:
                logger.error("petrel: completion for unknown async send %s", user_data)
                return
            if status == Status.OK and result:
                callback(SendResult.from_struct(result.contents), None)
            else:
                callback(None, error_for(status, _native.text(error_message) or ""))
        except BaseException:
            logger.exception("petrel: send_async callback raised; ignored")

    def send_oneway(self, topic: str, body: Body, tags: Optional[str] = None,
                    keys: Union[None, str, Iterable[str]] = None,
                    properties: Optional[Mapping[str, str]] = None) -> None:
        """Sends without any answer from the broker."""
        with NativeMessage(Message(topic, body, tags, keys, properties or {})) as native:
            check(lib.petrel_producer_send_oneway(self.handle, native.handle))

    def send_batch(self, messages: Iterable[Message]) -> SendResult:
        """Sends messages of one topic as one batch to one queue; `message_ids` has each one's id."""
        natives: list[NativeMessage] = []
        try:
            for message in messages:
                natives.append(NativeMessage(message))
            require(len(natives) > 0, "send_batch needs at least one message")
            array = (ctypes.c_void_p * len(natives))(*[native.handle.value for native in natives])
            result = _native.SendResultStruct()
            check(lib.petrel_producer_send_batch(self.handle, array, len(natives), ctypes.byref(result)))
            return SendResult.from_struct(result, tuple(native.message_id() for native in natives))
        finally:
            for native in natives:
                native.close()

    def send_ordered(self, topic: str, body: Body, sharding_key: str, tags: Optional[str] = None,
                     keys: Union[None, str, Iterable[str]] = None,
                     properties: Optional[Mapping[str, str]] = None) -> SendResult:
        """Sends to the queue the sharding key hashes to: one key, one queue, one order."""
        result = _native.SendResultStruct()
        with NativeMessage(Message(topic, body, tags, keys, properties or {})) as native:
            check(lib.petrel_producer_send_ordered(self.handle, native.handle,
                                                   _native.encode(sharding_key, "sharding_key"), ctypes.byref(result)))
        return SendResult.from_struct(result)

    def send_selected(self, topic: str, body: Body, selector: QueueSelector, argument: Any = None,
                      tags: Optional[str] = None, keys: Union[None, str, Iterable[str]] = None,
                      properties: Optional[Mapping[str, str]] = None) -> SendResult:
        """Sends to the queue `selector(queue_count, message, argument)` picks. An exception the selector
        raises fails the send and is re-raised here."""
        require(callable(selector), "selector must be callable")
        message = Message(topic, body, tags, keys, properties or {})
        raised: list[BaseException] = []

        def select(_user_data: Any, queue_count: int, _message: Any, _argument: Any) -> int:
            try:
                index = selector(queue_count, message, argument)
                if not isinstance(index, int) or isinstance(index, bool):
                    raise TypeError(f"selector returned {type(index).__name__}, not int")
                return index
            except BaseException as error:  # the send fails; the caller gets this exception
                raised.append(error)
                return -1

        c_selector = _native.QUEUE_SELECTOR(select)
        result = _native.SendResultStruct()
        with NativeMessage(message) as native:
            status = lib.petrel_producer_send_selected(self.handle, native.handle, c_selector, None, None,
                                                       ctypes.byref(result))
        if raised:
            raise raised[0]
        check(status)
        return SendResult.from_struct(result)

    def send_plugin_selected(self, topic: str, body: Body, selector: SelectorPlugin, argument: Union[int, str],
                             tags: Optional[str] = None, keys: Union[None, str, Iterable[str]] = None,
                             properties: Optional[Mapping[str, str]] = None) -> SendResult:
        """Sends to the queue the selector plugin picks for the message and `argument` (an order id or a
        string key); selector-hash picks `argument % queue_count` for integers. A plugin failure raises
        PluginError."""
        require(isinstance(selector, SelectorPlugin), "selector must be a SelectorPlugin")
        require(isinstance(argument, (int, str)) and not isinstance(argument, bool), "argument must be int or str")
        integer = argument if isinstance(argument, int) else 0
        string = _native.encode(argument, "argument") if isinstance(argument, str) else None
        result = _native.SendResultStruct()
        with NativeMessage(Message(topic, body, tags, keys, properties or {})) as native:
            check(lib.petrel_producer_send_plugin_selected(self.handle, native.handle, selector.handle, integer, string,
                                                           ctypes.byref(result)))
        return SendResult.from_struct(result)
