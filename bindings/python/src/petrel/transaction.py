"""TransactionProducer: half message, local transaction, commit or rollback, and the broker's check-back."""
from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from . import _native
from ._handle import logger
from ._native import lib
from .message import Body, Message, NativeMessage, ReceivedMessage, SendResult, _LiveMessage, check, require
from .producer import Producer


class TransactionState(enum.IntEnum):
    """petrel_transaction_state: what a local transaction or a check-back decided."""

    COMMIT = 0
    ROLLBACK = 1
    UNKNOWN = 2


#: A local transaction or checker answer: a TransactionState, True (commit), False (rollback), None (unknown).
Answer = Union[TransactionState, bool, None]
LocalTransaction = Callable[[ReceivedMessage, Any], Answer]
TransactionChecker = Callable[[ReceivedMessage], Answer]


def state_of(answer: Answer) -> TransactionState:
    """A callable's answer as a state; anything unexpected is UNKNOWN (the broker asks again later)."""
    if answer is True:
        return TransactionState.COMMIT
    if answer is False:
        return TransactionState.ROLLBACK
    if isinstance(answer, int) and answer in TransactionState._value2member_map_:
        return TransactionState(answer)
    if answer is not None:
        logger.error("petrel: transaction callable returned %r; treated as UNKNOWN", answer)
    return TransactionState.UNKNOWN


def answer_for(callable_: Callable[..., Answer], handle: int, *arguments: Any) -> int:
    """Runs a transaction callable on a live C message; an exception counts as UNKNOWN (logged)."""
    owner = _LiveMessage()
    try:
        return int(state_of(callable_(ReceivedMessage(handle, owner), *arguments)))
    except BaseException:
        logger.exception("petrel: transaction callable raised; state UNKNOWN")
        return int(TransactionState.UNKNOWN)
    finally:
        owner.alive = False


@dataclass(frozen=True)
class TransactionResult:
    """The half message's send result and the state the local transaction ended in."""

    send_result: SendResult
    state: TransactionState


class TransactionProducer(Producer):
    """A producer of transactional messages. `checker(message)` answers the broker's check-back for
    transactions the local transaction left UNKNOWN; it runs on a library thread."""

    _kind = "transaction producer"

    def __init__(self, name_servers: str, group: str, checker: TransactionChecker, **options: Any) -> None:
        require(isinstance(group, str) and group != "", "a transaction producer needs a group")
        require(callable(checker), "checker must be callable")
        super().__init__(name_servers, group, **options)
        self._checker = checker
        self._c_checker = _native.TRANSACTION_CHECKER(self._on_check)
        check(lib.petrel_producer_set_transaction_checker(self.handle, self._c_checker, None))

    def _on_check(self, _user_data: Any, message: int) -> int:
        """The C checker: asks the Python checker, never lets an exception out."""
        return answer_for(self._checker, message)

    def send_transaction(self, topic: str, body: Body, local_transaction: LocalTransaction, argument: Any = None,
                         tags: Optional[str] = None, keys: Union[None, str, Iterable[str]] = None,
                         properties: Optional[Mapping[str, str]] = None) -> TransactionResult:
        """Stores a half message, runs `local_transaction(message, argument)` on this thread, then commits
        or rolls back as it answers. An exception it raises is logged and leaves the state UNKNOWN."""
        require(callable(local_transaction), "local_transaction must be callable")

        def run(_user_data: Any, message: int, _argument: Any) -> int:
            return answer_for(local_transaction, message, argument)

        c_local = _native.LOCAL_TRANSACTION(run)
        result = _native.SendResultStruct()
        state = ctypes.c_int(int(TransactionState.UNKNOWN))
        with NativeMessage(Message(topic, body, tags, keys, properties or {})) as native:
            check(lib.petrel_producer_send_transaction(self.handle, native.handle, c_local, None, None,
                                                       ctypes.byref(result), ctypes.byref(state)))
        known = state.value in TransactionState._value2member_map_
        return TransactionResult(SendResult.from_struct(result),
                                 TransactionState(state.value) if known else TransactionState.UNKNOWN)
