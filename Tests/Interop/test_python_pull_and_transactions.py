"""The Python binding's PullConsumer and TransactionProducer against a real broker."""
import logging
import threading

import pytest

from clients import unique
from conftest import wait_until
from petrel_python import fast_broker, petrel  # noqa: F401  (fixture)


def test_pull_by_queue_and_offset_with_commit(fast_broker):
    topic, group = unique("PyPull"), unique("CG")
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer:
        sent = [producer.send_ordered(topic, f"p{index}", "key", tags="T" if index % 2 else "U",
                                      properties={"n": str(index)}) for index in range(6)]
    with petrel.PullConsumer(fast_broker.namesrv_addr, group, poll_timeout=0.2) as consumer:
        queues = wait_until(lambda: consumer_queues(consumer, topic), message="the topic's route")
        assert {queue.topic for queue in queues} == {topic} and len(queues) >= 1
        queue = next(queue for queue in queues if queue.queue_id == sent[0].queue_id)
        first = consumer.pull(queue, 0, "*", max_messages=4)
        assert [message.body for message in first.messages] == [b"p0", b"p1", b"p2", b"p3"]
        assert first.found and first.next_offset == 4
        rest = consumer.pull(queue, first.next_offset)
        assert [message.get_property("n") for message in rest.messages] == ["4", "5"]
        tagged = consumer.pull(queue, 0, "T")
        assert [message.body for message in tagged.messages] == [b"p1", b"p3", b"p5"]
        empty = consumer.pull(queue, 6)
        assert not empty.found and empty.messages == [] and empty.next_offset == 6
        consumer.commit(queue, 6)
        with pytest.raises(petrel.InvalidArgumentError):
            consumer.pull(queue, 0, max_messages=0)
        with pytest.raises(petrel.InvalidArgumentError):
            consumer.pull(petrel.Queue("", "broker-a", 0), 0)
        with pytest.raises(petrel.InvalidArgumentError):
            consumer.pull(petrel.Queue("x" * 300, "broker-a", 0), 0)
        with pytest.raises(petrel.NoRouteError):
            consumer.fetch_queues(unique("NoSuchTopic"))
        with pytest.raises(petrel.InvalidArgumentError):
            consumer.fetch_queues("")
    # A message outlives its pull result's Python object: the C result is freed with the last message.
    kept = first.messages[0]
    del first
    assert kept.get_property("n") == "0" and kept.body == b"p0"


def consumer_queues(consumer, topic):
    try:
        return consumer.fetch_queues(topic)
    except petrel.NoRouteError:
        return None


def test_subscribe_and_poll_iter(fast_broker):
    topic, group = unique("PyPoll"), unique("CG")
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer:
        producer.send(topic, "before")
    consumer = petrel.PullConsumer(fast_broker.namesrv_addr, group, consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
    consumer.subscribe(topic, "*")
    with consumer:
        with pytest.raises(petrel.InvalidStateError):
            consumer.subscribe(topic, "*")
        with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer:
            for index in range(5):
                producer.send(topic, f"m{index}", keys=f"k{index}")
        bodies = []
        for message in consumer.poll_iter(poll_timeout=0.5, idle_timeout=10):
            bodies.append(message.body)
            if len(bodies) == 6:
                break
        assert sorted(bodies) == sorted([b"before"] + [f"m{index}".encode() for index in range(5)])
        assert consumer.poll(timeout=0.2) == []
        stopper = threading.Timer(0.5, consumer.shutdown)
        stopper.start()
        assert list(consumer.poll_iter(poll_timeout=0.2)) == []  # ends at shutdown
        stopper.join()
    with pytest.raises(petrel.InvalidStateError):
        consumer.poll()


def test_transactions_commit_rollback_and_check_back(fast_broker, caplog):
    topic = unique("PyTx")
    checks = []

    def checker(message):
        checks.append((message.body, message.get_property("order")))
        if message.body == b"checker-raises":
            raise RuntimeError("checker failure on purpose")
        return petrel.TransactionState.COMMIT if message.body == b"unknown" else False

    def local(message, argument):
        assert message.message_id  # set before the local transaction runs
        if argument == "raise":
            raise RuntimeError("local transaction failure on purpose")
        return {"commit": True, "rollback": False, "unknown": None, "odd": "weird"}[argument]

    with pytest.raises(petrel.InvalidArgumentError):
        petrel.TransactionProducer(fast_broker.namesrv_addr, "", checker)
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.TransactionProducer(fast_broker.namesrv_addr, unique("TG"), None)
    with caplog.at_level(logging.ERROR, logger="petrel"):
        with petrel.TransactionProducer(fast_broker.namesrv_addr, unique("TG"), checker) as producer:
            states = {}
            for body, argument in [("committed", "commit"), ("rolled-back", "rollback"), ("unknown", "unknown"),
                                   ("checker-raises", "raise"), ("odd", "odd")]:
                result = producer.send_transaction(topic, body, local, argument, properties={"order": body})
                assert result.send_result.message_id
                states[body] = result.state
            assert states == {"committed": petrel.TransactionState.COMMIT,
                              "rolled-back": petrel.TransactionState.ROLLBACK,
                              "unknown": petrel.TransactionState.UNKNOWN,
                              "checker-raises": petrel.TransactionState.UNKNOWN,
                              "odd": petrel.TransactionState.UNKNOWN}
            with pytest.raises(petrel.InvalidArgumentError):
                producer.send_transaction(topic, "x", "not callable")
            visible = pull_bodies(fast_broker.namesrv_addr, topic, {b"committed", b"unknown"})
            wait_until(lambda: {b"unknown", b"odd", b"checker-raises"} <= {body for body, _ in checks},
                       message="check-backs for the three unknown transactions")
    assert visible == {b"committed", b"unknown"}
    assert ("unknown", "unknown") not in checks and (b"unknown", "unknown") in checks
    assert "local transaction failure on purpose" in caplog.text


def pull_bodies(namesrv_addr, topic, expected):
    """Waits until the topic's visible bodies are `expected`."""
    from petrel_python import pull_everything
    return wait_until(lambda: (lambda bodies: bodies if bodies == expected else None)(
        {message.body for message in pull_everything(namesrv_addr, topic)}), message=f"visible {expected}")
