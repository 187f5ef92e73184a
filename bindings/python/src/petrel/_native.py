"""ctypes declarations of include/petrel.h and the loading of libpetrel.so.

Every function the header declares has an entry in FUNCTIONS (Tests/Interop/test_python_binding.py
compares the two lists), so a change to the header shows up as a failing test instead of a crash.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Optional

from .errors import InvalidArgumentError

# ---------------------------------------------------------------- structures


class ProducerOptions(ctypes.Structure):
    """petrel_producer_options."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("name_servers", ctypes.c_char_p),
        ("group", ctypes.c_char_p),
        ("instance_name", ctypes.c_char_p),
        ("send_timeout_milliseconds", ctypes.c_uint32),
        ("retry_times", ctypes.c_uint32),
        ("compress_over_bytes", ctypes.c_uint32),
        ("max_message_bytes", ctypes.c_uint32),
        ("compression_level", ctypes.c_int32),
    ]


class SendResultStruct(ctypes.Structure):
    """petrel_send_result."""

    _fields_ = [
        ("send_status", ctypes.c_int32),
        ("queue_id", ctypes.c_int32),
        ("queue_offset", ctypes.c_int64),
        ("message_id", ctypes.c_char * 64),
        ("offset_message_id", ctypes.c_char * 64),
        ("broker_name", ctypes.c_char * 128),
    ]


class PushConsumerOptions(ctypes.Structure):
    """petrel_push_consumer_options."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("name_servers", ctypes.c_char_p),
        ("group", ctypes.c_char_p),
        ("instance_name", ctypes.c_char_p),
        ("message_model", ctypes.c_int),
        ("consume_from", ctypes.c_int),
        ("consume_timestamp", ctypes.c_int64),
        ("orderly", ctypes.c_int32),
        ("thread_count", ctypes.c_uint32),
        ("batch_max_size", ctypes.c_uint32),
        ("max_reconsume_times", ctypes.c_int32),
        ("allocation", ctypes.c_char_p),
        # plugins (issue 6), appended
        ("plugin_directory", ctypes.c_char_p),
        ("allocation_plugin", ctypes.c_char_p),
        ("allocation_plugin_config", ctypes.c_char_p),
        ("compressor_plugin", ctypes.c_char_p),
        ("compressor_plugin_config", ctypes.c_char_p),
    ]


class QueueStruct(ctypes.Structure):
    """petrel_queue."""

    _fields_ = [
        ("topic", ctypes.c_char * 256),
        ("broker_name", ctypes.c_char * 128),
        ("queue_id", ctypes.c_int32),
    ]


class PullConsumerOptions(ctypes.Structure):
    """petrel_pull_consumer_options."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("name_servers", ctypes.c_char_p),
        ("group", ctypes.c_char_p),
        ("instance_name", ctypes.c_char_p),
        ("poll_timeout_milliseconds", ctypes.c_uint32),
        ("consume_from", ctypes.c_int),
        ("consume_timestamp", ctypes.c_int64),
        # plugins (issue 6), appended
        ("plugin_directory", ctypes.c_char_p),
        ("compressor_plugin", ctypes.c_char_p),
        ("compressor_plugin_config", ctypes.c_char_p),
    ]


# ------------------------------------------------------------ callback types

_void_p = ctypes.c_void_p
_status = ctypes.c_int
SEND_CALLBACK = ctypes.CFUNCTYPE(None, _void_p, _status, ctypes.POINTER(SendResultStruct), ctypes.c_char_p)
QUEUE_SELECTOR = ctypes.CFUNCTYPE(ctypes.c_int32, _void_p, ctypes.c_int32, _void_p, _void_p)
LOCAL_TRANSACTION = ctypes.CFUNCTYPE(ctypes.c_int, _void_p, _void_p, _void_p)
TRANSACTION_CHECKER = ctypes.CFUNCTYPE(ctypes.c_int, _void_p, _void_p)
LOG_CALLBACK = ctypes.CFUNCTYPE(None, _void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
MESSAGE_LISTENER = ctypes.CFUNCTYPE(ctypes.c_int, _void_p, ctypes.POINTER(_void_p), ctypes.c_size_t)

# ----------------------------------------------------------------- functions

_p = ctypes.POINTER
_char_p = ctypes.c_char_p
_size = ctypes.c_size_t
_i32 = ctypes.c_int32
_i64 = ctypes.c_int64
_u32 = ctypes.c_uint32

#: name -> (return type, argument types), in the header's order. Handles are plain void pointers.
FUNCTIONS = {
    "petrel_version": (_char_p, []),
    "petrel_status_name": (_char_p, [_status]),
    "petrel_last_error": (_char_p, []),
    # logging
    "petrel_set_log_handler": (_status, [ctypes.c_int, LOG_CALLBACK, _void_p]),
    "petrel_set_log_level": (_status, [ctypes.c_int]),
    "petrel_get_log_level": (ctypes.c_int, []),
    "petrel_message_create": (_status, [_char_p, _p(_void_p)]),
    "petrel_message_destroy": (None, [_void_p]),
    "petrel_message_set_tags": (_status, [_void_p, _char_p]),
    "petrel_message_set_keys": (_status, [_void_p, _char_p]),
    "petrel_message_set_body": (_status, [_void_p, _void_p, _size]),
    "petrel_message_set_property": (_status, [_void_p, _char_p, _char_p]),
    "petrel_message_set_delay_level": (_status, [_void_p, _i32]),
    "petrel_message_set_deliver_time": (_status, [_void_p, _i64]),
    "petrel_message_topic": (_char_p, [_void_p]),
    "petrel_message_tags": (_char_p, [_void_p]),
    "petrel_message_keys": (_char_p, [_void_p]),
    "petrel_message_body": (_void_p, [_void_p, _p(_size)]),
    "petrel_message_property": (_char_p, [_void_p, _char_p]),
    "petrel_message_id": (_char_p, [_void_p]),
    "petrel_message_queue_id": (_i32, [_void_p]),
    "petrel_message_queue_offset": (_i64, [_void_p]),
    "petrel_message_reconsume_times": (_i32, [_void_p]),
    "petrel_message_born_timestamp": (_i64, [_void_p]),
    "petrel_message_store_timestamp": (_i64, [_void_p]),
    # message properties: enumeration
    "petrel_message_property_count": (_status, [_void_p, _p(_size)]),
    "petrel_message_property_at": (_status, [_void_p, _size, _p(_char_p), _p(_char_p)]),
    "petrel_producer_options_init": (None, [_p(ProducerOptions)]),
    "petrel_producer_create": (_status, [_p(ProducerOptions), _p(_void_p)]),
    "petrel_producer_start": (_status, [_void_p]),
    "petrel_producer_shutdown": (_status, [_void_p]),
    "petrel_producer_destroy": (None, [_void_p]),
    "petrel_producer_send": (_status, [_void_p, _void_p, _p(SendResultStruct)]),
    "petrel_producer_send_async": (_status, [_void_p, _void_p, SEND_CALLBACK, _void_p]),
    "petrel_producer_send_oneway": (_status, [_void_p, _void_p]),
    "petrel_producer_send_batch": (_status, [_void_p, _p(_void_p), _size, _p(SendResultStruct)]),
    "petrel_producer_send_selected": (_status, [_void_p, _void_p, QUEUE_SELECTOR, _void_p, _void_p,
                                                _p(SendResultStruct)]),
    "petrel_producer_send_ordered": (_status, [_void_p, _void_p, _char_p, _p(SendResultStruct)]),
    "petrel_producer_set_transaction_checker": (_status, [_void_p, TRANSACTION_CHECKER, _void_p]),
    "petrel_producer_send_transaction": (_status, [_void_p, _void_p, LOCAL_TRANSACTION, _void_p, _void_p,
                                                   _p(SendResultStruct), _p(ctypes.c_int)]),
    "petrel_push_consumer_options_init": (None, [_p(PushConsumerOptions)]),
    "petrel_push_consumer_create": (_status, [_p(PushConsumerOptions), _p(_void_p)]),
    "petrel_push_consumer_subscribe": (_status, [_void_p, _char_p, _char_p]),
    "petrel_push_consumer_set_listener": (_status, [_void_p, MESSAGE_LISTENER, _void_p]),
    "petrel_push_consumer_start": (_status, [_void_p]),
    "petrel_push_consumer_shutdown": (_status, [_void_p]),
    "petrel_push_consumer_destroy": (None, [_void_p]),
    "petrel_pull_consumer_options_init": (None, [_p(PullConsumerOptions)]),
    "petrel_pull_consumer_create": (_status, [_p(PullConsumerOptions), _p(_void_p)]),
    "petrel_pull_consumer_start": (_status, [_void_p]),
    "petrel_pull_consumer_shutdown": (_status, [_void_p]),
    "petrel_pull_consumer_destroy": (None, [_void_p]),
    "petrel_pull_consumer_fetch_queues": (_status, [_void_p, _char_p, _p(QueueStruct), _size, _p(_size)]),
    "petrel_pull_consumer_pull": (_status, [_void_p, _p(QueueStruct), _char_p, _i64, _i32, _p(_void_p)]),
    "petrel_pull_consumer_subscribe": (_status, [_void_p, _char_p, _char_p]),
    "petrel_pull_consumer_poll": (_status, [_void_p, _u32, _p(_void_p)]),
    "petrel_pull_consumer_commit": (_status, [_void_p, _p(QueueStruct), _i64]),
    "petrel_pull_result_count": (_size, [_void_p]),
    "petrel_pull_result_message": (_void_p, [_void_p, _size]),
    "petrel_pull_result_next_offset": (_i64, [_void_p]),
    "petrel_pull_result_destroy": (None, [_void_p]),
    # plugins
    "petrel_selector_plugin_load": (_status, [_char_p, _char_p, _char_p, _p(_void_p)]),
    "petrel_selector_plugin_destroy": (None, [_void_p]),
    "petrel_producer_send_plugin_selected": (_status, [_void_p, _void_p, _void_p, _i64, _char_p,
                                                       _p(SendResultStruct)]),
}

LIBRARY_FILE = "libpetrel.so"


def candidate_paths() -> list[Path]:
    """Where libpetrel.so is looked for, in order: the copy `pip install` puts in the package, then
    $PETREL_LIBRARY, then the system's library path."""
    candidates = [Path(__file__).resolve().parent / LIBRARY_FILE]
    from_environment = os.environ.get("PETREL_LIBRARY")
    if from_environment:
        candidates.append(Path(from_environment))
    return candidates


def _load() -> tuple[ctypes.CDLL, str]:
    """Opens the first library found and declares every function on it."""
    for path in candidate_paths():
        if path.is_file():
            library, where = ctypes.CDLL(str(path)), str(path)
            break
    else:
        system = ctypes.util.find_library("petrel")
        if system is None:
            searched = ", ".join(str(path) for path in candidate_paths())
            raise ImportError(f"libpetrel.so not found (looked at {searched} and the system library path): "
                              "install the package with `pip install bindings/python` after `make lib`, "
                              "or set PETREL_LIBRARY to the library's path")
        library, where = ctypes.CDLL(system), system
    for name, (result, arguments) in FUNCTIONS.items():
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments
    return library, where


lib, library_path = _load()


def text(value: Optional[bytes]) -> Optional[str]:
    """A C string from the library as str (None stays None)."""
    return None if value is None else value.decode("utf-8", errors="replace")


def encode(value: Optional[str], what: str) -> Optional[bytes]:
    """A str argument as the NUL-terminated UTF-8 the library wants; NUL inside is refused here."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(1, f"{what} must not contain NUL characters")
    return value.encode("utf-8")
