"""Producer send modes with keys, tags and properties; every message stored exactly once (read back
with the pull consumer from offset 0 of every queue)."""
import threading

from clients import make_message, pull_all, start_producer, unique
from conftest import wait_until


def test_every_send_mode_stores_each_message_exactly_once(broker):
    topic = unique("TopicSend")
    producer = start_producer(broker.namesrv_addr)
    expected = {}
    try:
        for index in range(20):
            body = f"sync-{index}".encode()
            result = producer.send_sync(make_message(topic, body, tags="TagA", keys=f"key-sync-{index}",
                                                     properties={"color": "red"}))
            assert result.status == 0, result
            expected[body] = (f"key-sync-{index}", "TagA", "red")
        for index in range(10):
            body = f"oneway-{index}".encode()
            producer.send_oneway(make_message(topic, body, tags="TagB", keys=f"key-oneway-{index}",
                                              properties={"color": "blue"}))
            expected[body] = (f"key-oneway-{index}", "TagB", "blue")
        done = threading.Semaphore(0)
        failures = []
        for index in range(10):
            body = f"async-{index}".encode()
            producer.send_async(make_message(topic, body, tags="TagC", keys=f"key-async-{index}", properties={"color": "green"}),
                                lambda result: done.release(), lambda error: (failures.append(error), done.release()))
            expected[body] = (f"key-async-{index}", "TagC", "green")
        for _ in range(10):
            assert done.acquire(timeout=30)
        assert not failures
        batch = [make_message(topic, f"batch-{index}".encode(), tags="TagD", keys=f"key-batch-{index}",
                              properties={"color": "black"}) for index in range(5)]
        assert producer.send_batch(batch).status == 0
        for index in range(5):
            expected[f"batch-{index}".encode()] = (f"key-batch-{index}", "TagD", "black")
        for index in range(8):
            body = f"orderly-{index}".encode()
            result = producer.send_orderly(make_message(topic, body, tags="TagE", keys=f"key-orderly-{index}",
                                                        properties={"color": "white"}), index % 2)
            assert result.status == 0
            expected[body] = (f"key-orderly-{index}", "TagE", "white")
    finally:
        producer.shutdown()

    def everything_arrived():
        stored = pull_all(broker.namesrv_addr, topic)
        return stored if len(stored) >= len(expected) else None

    stored = wait_until(everything_arrived, timeout=30, message="all sent messages to be readable")
    bodies = [entry[0] for entry in stored]
    assert sorted(bodies) == sorted(expected), "each message exactly once"
    for body, keys, tags, color, _, _ in stored:
        assert (keys, tags, color) == expected[body]
    orderly_queues = {entry[4] for entry in stored if entry[0].startswith(b"orderly-")}
    assert len(orderly_queues) <= 2, "send_orderly with two order ids uses at most two queues"


def test_pull_consumer_reads_every_queue_from_offset_zero(broker):
    topic = unique("TopicPull")
    producer = start_producer(broker.namesrv_addr)
    try:
        for index in range(40):
            assert producer.send_sync(make_message(topic, f"m{index}".encode())).status == 0
    finally:
        producer.shutdown()
    stored = wait_until(lambda: (lambda s: s if len(s) >= 40 else None)(pull_all(broker.namesrv_addr, topic)),
                        timeout=30, message="40 messages")
    assert sorted(entry[0] for entry in stored) == sorted(f"m{index}".encode() for index in range(40))
    queues = {}
    for entry in stored:
        queues.setdefault(entry[4], []).append(entry[5])
    assert len(queues) > 1, "round-robin spread the messages over several queues"
    for offsets in queues.values():
        assert sorted(offsets) == list(range(len(offsets))), "each queue read from offset 0 without gaps"
