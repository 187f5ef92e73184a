"""The Python binding's PushConsumer against a real broker: delivery, filters, retries, batches, broadcasting."""
import logging
import threading

import pytest

from clients import unique
from conftest import wait_until
from petrel_python import fast_broker, petrel  # noqa: F401  (fixture)


class Received:
    """What a listener saw, thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []

    def add(self, *entry):
        with self.lock:
            self.entries.append(entry)

    def snapshot(self):
        with self.lock:
            return list(self.entries)


def send_all(namesrv_addr, topic, bodies, **fields):
    with petrel.Producer(namesrv_addr, unique("PG")) as producer:
        return [producer.send(topic, body, **fields) for body in bodies]


def consumer_for(namesrv_addr, topic, expression="*", **options):
    """A push consumer of a fresh group reading `topic` from its first offset (not started)."""
    consumer = petrel.PushConsumer(namesrv_addr, options.pop("group", None) or unique("CG"),
                                   consume_from=petrel.ConsumeFrom.FIRST_OFFSET, **options)
    consumer.subscribe(topic, expression)
    return consumer


def test_push_consumer_delivers_with_fields_and_tag_filter(fast_broker):
    topic = unique("PyPush")
    received = Received()
    stashed = []

    def listener(message):
        received.add(message.body, message.tags, message.keys, message.get_property("color"), message.topic)
        stashed.append(message)
        return petrel.ConsumeResult.SUCCESS

    send_all(fast_broker.namesrv_addr, topic, [b"a1", b"a2"], tags="TagA", keys="ka", properties={"color": "red"})
    send_all(fast_broker.namesrv_addr, topic, [b"c1"], tags="TagC")
    consumer = consumer_for(fast_broker.namesrv_addr, topic, "TagA || TagB", listener=listener, thread_count=2)
    with consumer:
        with pytest.raises(petrel.InvalidStateError):
            consumer.subscribe(topic, "*")
        with pytest.raises(petrel.InvalidStateError):
            consumer.set_listener(listener)
        wait_until(lambda: len(received.snapshot()) >= 2, message="two TagA messages")
    assert sorted(received.snapshot()) == [(b"a1", "TagA", "ka", "red", topic), (b"a2", "TagA", "ka", "red", topic)]
    # After the listener returned: every field and property was copied and stays readable.
    assert stashed[0].get_property("color") == "red" and stashed[0].body in (b"a1", b"a2")
    assert stashed[0].get_property("never-set") is None
    properties = stashed[0].properties
    assert properties["color"] == "red" and properties["TAGS"] == "TagA" and properties["KEYS"] == "ka"
    assert properties["UNIQ_KEY"] == stashed[0].message_id


def test_start_without_listener_and_bad_options(fast_broker):
    consumer = consumer_for(fast_broker.namesrv_addr, unique("PyPush"))
    with pytest.raises(petrel.InvalidStateError):
        consumer.start()
    consumer.close()
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.PushConsumer(fast_broker.namesrv_addr, "")
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.PushConsumer(fast_broker.namesrv_addr, unique("CG"), allocation="no-such-strategy")
    consumer = petrel.PushConsumer(fast_broker.namesrv_addr, unique("CG"))
    with pytest.raises(petrel.InvalidArgumentError):
        consumer.subscribe("", "*")
    with pytest.raises(petrel.InvalidArgumentError):
        consumer.set_listener("not callable")
    consumer.close()
    with pytest.raises(petrel.InvalidStateError):
        consumer.subscribe("Topic", "*")


def test_raising_refusing_and_retrying_listeners_get_redelivery(fast_broker, caplog):
    topic = unique("PyRetry")
    attempts = Received()

    def listener(message):
        attempts.add(message.body, message.reconsume_times)
        if message.reconsume_times == 0:
            if message.body == b"raise":
                raise RuntimeError("listener failure on purpose")
            if message.body == b"refuse":
                return False
            if message.body == b"retry":
                return petrel.ConsumeResult.RETRY_LATER
            if message.body == b"odd":
                return "not a consume result"
        return None

    send_all(fast_broker.namesrv_addr, topic, [b"raise", b"refuse", b"retry", b"odd", b"fine"])
    with caplog.at_level(logging.ERROR, logger="petrel"):
        with consumer_for(fast_broker.namesrv_addr, topic, listener=listener):
            wait_until(lambda: {body for body, times in attempts.snapshot() if times == 1}
                       == {b"raise", b"refuse", b"retry", b"odd"}, message="four redeliveries")
    delivered = attempts.snapshot()
    assert (b"fine", 0) in delivered and (b"fine", 1) not in delivered
    assert "listener failure on purpose" in caplog.text and "not a consume result" in caplog.text


def test_batch_listener_orderly_and_broadcasting(fast_broker):
    topic = unique("PyBatchPush")
    bodies = [f"m{index}".encode() for index in range(12)]
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer:
        for body in bodies:
            producer.send_ordered(topic, body, sharding_key="one-key")
    batches = Received()
    batch = consumer_for(fast_broker.namesrv_addr, topic, batch_max_size=4, orderly=True)
    batch.set_batch_listener(lambda messages: batches.add([message.body for message in messages]))
    everyone = [Received(), Received()]
    broadcast_group = unique("CG_broadcast")
    broadcasters = []
    for index, seen in enumerate(everyone):
        consumer = consumer_for(fast_broker.namesrv_addr, topic, group=broadcast_group,
                                message_model=petrel.MessageModel.BROADCASTING, instance_name=f"b{index}",
                                listener=lambda message, seen=seen: seen.add(message.body))
        broadcasters.append(consumer)
    with batch, broadcasters[0], broadcasters[1]:
        wait_until(lambda: sum(len(entry[0]) for entry in batches.snapshot()) >= 12, message="twelve in batches")
        for seen in everyone:
            wait_until(lambda seen=seen: len(seen.snapshot()) >= 12, message="broadcast to every consumer")
    in_order = [body for (entry,) in batches.snapshot() for body in entry]
    assert in_order == bodies  # one queue, orderly: the send order
    assert all(len(entry) <= 4 for (entry,) in batches.snapshot())
    for seen in everyone:
        assert sorted(body for (body,) in seen.snapshot()) == sorted(bodies)


def test_exit_without_close_shuts_handles_down(fast_broker, tmp_path):
    import os
    import subprocess
    import sys
    from petrel_python import LIBRARY, PYTHON_SOURCE
    script = tmp_path / "leaves_a_consumer_running.py"
    script.write_text(
        "import sys, threading, petrel\n"
        "with petrel.Producer(sys.argv[1]) as producer:\n"
        "    producer.send('ExitTopic', 'one')\n"
        "got = threading.Event()\n"
        "consumer = petrel.PushConsumer(sys.argv[1], 'exit-group', listener=lambda message: got.set(),\n"
        "                               consume_from=petrel.ConsumeFrom.FIRST_OFFSET)\n"
        "consumer.subscribe('ExitTopic', '*')\n"
        "consumer.start()\n"
        "print('received' if got.wait(60) else 'nothing')\n")
    environment = dict(os.environ, PYTHONPATH=str(PYTHON_SOURCE), PETREL_LIBRARY=str(LIBRARY))
    completed = subprocess.run([sys.executable, str(script), fast_broker.namesrv_addr], capture_output=True,
                               text=True, env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr[-5000:]
    assert completed.stdout.strip() == "received"
