"""Ordered messages: every step of an order goes to the queue a selector picks from the order id, and an
orderly push consumer sees each order's steps in the order they were sent.

    python ordered_selector.py [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
"""
import os
import sys
import threading

import petrel

name_servers = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PETREL_NAMESRV", "127.0.0.1:9876")
topic = f"ExampleOrders_{os.getpid()}"
orders, steps = [101, 102, 103], ["created", "paid", "shipped", "delivered"]


def by_order_id(queue_count: int, message: petrel.Message, order_id: int) -> int:
    """The same order id, the same queue: that keeps one order's steps in sequence."""
    return order_id % queue_count


with petrel.Producer(name_servers, group="example-ordered-producer") as producer:
    for step in steps:
        for order_id in orders:
            result = producer.send_selected(topic, f"{order_id}:{step}", by_order_id, argument=order_id,
                                            keys=str(order_id))
            print(f"sent order {order_id} {step} to queue {result.queue_id}")

seen: dict[str, list[str]] = {}
lock = threading.Lock()
finished = threading.Event()


def on_message(message: petrel.ReceivedMessage) -> bool:
    order_id, step = message.text.split(":")
    with lock:
        seen.setdefault(order_id, []).append(step)
        if sum(len(received) for received in seen.values()) == len(orders) * len(steps):
            finished.set()
    return True


consumer = petrel.PushConsumer(name_servers, f"example-ordered-consumer-{os.getpid()}", listener=on_message,
                               orderly=True, consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
consumer.subscribe(topic, "*")
with consumer:
    if not finished.wait(timeout=60):
        sys.exit(f"ordered_selector: timed out, saw {seen}")
for order_id in sorted(seen):
    print(f"order {order_id}: {' -> '.join(seen[order_id])}")
if any(seen[str(order_id)] != steps for order_id in orders):
    sys.exit("ordered_selector: steps out of order")
print("ordered_selector: OK")
