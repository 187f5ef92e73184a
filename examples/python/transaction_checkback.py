"""Transactional messages: a committed one, a rolled-back one, and one whose local transaction answered
UNKNOWN (as if the process had crashed); the broker checks that one back and the checker commits it.
Only the committed messages reach the consumer.

    python transaction_checkback.py [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
"""
import os
import sys
import threading

import petrel

name_servers = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PETREL_NAMESRV", "127.0.0.1:9876")
topic = f"ExamplePayments_{os.getpid()}"
# The "database" the local transaction writes: payment id -> whether it went through.
payments = {"pay-1": True, "pay-2": True, "pay-3": False}
checked = threading.Event()


def local_transaction(message: petrel.ReceivedMessage, payment: str) -> petrel.TransactionState:
    if payment == "pay-2":
        return petrel.TransactionState.UNKNOWN  # no answer now: the broker will ask the checker
    return petrel.TransactionState.COMMIT if payments[payment] else petrel.TransactionState.ROLLBACK


def checker(message: petrel.ReceivedMessage) -> petrel.TransactionState:
    print(f"check-back for {message.keys}: {'commit' if payments[message.keys] else 'rollback'}", flush=True)
    checked.set()
    return petrel.TransactionState.COMMIT if payments[message.keys] else petrel.TransactionState.ROLLBACK


received = []
lock = threading.Lock()
both_received = threading.Event()


def on_message(message: petrel.ReceivedMessage) -> None:
    with lock:
        received.append(message.keys)
        if {"pay-1", "pay-2"} <= set(received):
            both_received.set()


with petrel.TransactionProducer(name_servers, f"example-tx-{os.getpid()}", checker) as producer:
    for payment in payments:
        outcome = producer.send_transaction(topic, f"payment {payment}", local_transaction, argument=payment,
                                            keys=payment)
        print(f"{payment}: local transaction {outcome.state.name}")
    # The producer stays up: the broker's check-back for pay-2 comes to it.
    consumer = petrel.PushConsumer(name_servers, f"example-payments-{os.getpid()}", listener=on_message,
                                   consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
    consumer.subscribe(topic, "*")
    with consumer:
        if not both_received.wait(timeout=120) or not checked.is_set():
            sys.exit(f"transaction_checkback: timed out, received {received}")
print(f"consumed: {' '.join(sorted(received))}")
if "pay-3" in received:
    sys.exit("transaction_checkback: a rolled-back message was delivered")
print("transaction_checkback: OK")
