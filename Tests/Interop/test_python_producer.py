"""The Python binding's Producer against a real broker: every send kind, results, bad arguments."""
import logging
import threading

import pytest

from clients import unique
from conftest import wait_until
from petrel_python import fast_broker, petrel, pull_everything  # noqa: F401  (fixture)


@pytest.fixture
def producer(fast_broker):
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as started:
        yield started


def test_send_keeps_tags_keys_properties_and_body(producer, fast_broker):
    topic = unique("PySend")
    result = producer.send(topic, b"\x00binary\xff", tags="TagA", keys=["k1", "k2"], properties={"color": "red"})
    assert result.status == petrel.SendStatus.SEND_OK
    assert result.message_id and result.offset_message_id and result.broker_name == "broker-a"
    assert result.message_ids == (result.message_id,)
    text_result = producer.send(topic, "text body", keys="k3")
    messages = wait_until(lambda: pull_everything(fast_broker.namesrv_addr, topic) if len(
        pull_everything(fast_broker.namesrv_addr, topic)) == 2 else None, message="both messages")
    by_body = {message.body: message for message in messages}
    first = by_body[b"\x00binary\xff"]
    assert (first.topic, first.tags, first.keys, first.key_list) == (topic, "TagA", "k1 k2", ["k1", "k2"])
    assert first.get_property("color") == "red" and first.get_property("absent") is None
    assert first.get_property("absent", "fallback") == "fallback"
    assert first.message_id == result.message_id and first.queue_id == result.queue_id
    assert first.queue_offset == result.queue_offset and first.reconsume_times == 0
    assert first.born_timestamp > 0 and first.store_timestamp >= first.born_timestamp
    assert by_body[b"text body"].text == "text body" and by_body[b"text body"].message_id == text_result.message_id


def test_send_async_reports_results_and_survives_a_raising_callback(producer, fast_broker, caplog):
    topic = unique("PyAsync")
    outcomes = []
    done = threading.Event()

    def record(result, error):
        outcomes.append((result, error))
        if len(outcomes) == 3:
            done.set()

    def explode(result, error):
        raise RuntimeError("callback failure on purpose")

    with caplog.at_level(logging.ERROR, logger="petrel"):
        for index in range(3):
            producer.send_async(topic, f"async-{index}", record, tags="A")
        producer.send_async(topic, "async-raising", explode)
        assert done.wait(30), outcomes
        wait_until(lambda: "callback failure on purpose" in caplog.text, message="the logged callback exception")
    assert all(error is None and result.status == petrel.SendStatus.SEND_OK for result, error in outcomes)
    wait_until(lambda: len(pull_everything(fast_broker.namesrv_addr, topic)) == 4, message="four async messages")
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_async(topic, "x", callback=None)
    # Argument errors of the message come back at once, and the callback is never called for them.
    refused = []
    for bad_topic, body in (("bad topic!", "x"), (topic, b""), ("TBW102", "x")):
        with pytest.raises(petrel.InvalidArgumentError):
            producer.send_async(bad_topic, body, lambda result, error: refused.append((result, error)))
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_async(topic, "x", lambda result, error: refused.append((result, error)),
                            properties={"UNIQ_KEY": "mine"})
    assert refused == [] and producer._pending == {}


def test_send_oneway_and_delay_level(producer, fast_broker):
    topic = unique("PyOneway")
    producer.send_oneway(topic, "oneway", tags="O", keys="ko", properties={"color": "blue"})
    delayed = producer.send(topic, "delayed", delay_level=1)
    assert delayed.status == petrel.SendStatus.SEND_OK
    messages = wait_until(lambda: (lambda found: found if len(found) == 2 else None)(
        pull_everything(fast_broker.namesrv_addr, topic)), message="oneway and delayed messages")
    oneway = next(message for message in messages if message.body == b"oneway")
    assert (oneway.tags, oneway.keys, oneway.get_property("color")) == ("O", "ko", "blue")


def test_send_batch_gives_every_message_an_id(producer, fast_broker):
    topic = unique("PyBatch")
    batch = [petrel.Message(topic, f"batch-{index}", tags="B", keys=f"key-{index}") for index in range(5)]
    result = producer.send_batch(batch)
    assert len(result.message_ids) == 5 and len(set(result.message_ids)) == 5
    assert result.message_id == result.message_ids[0]
    messages = wait_until(lambda: (lambda found: found if len(found) == 5 else None)(
        pull_everything(fast_broker.namesrv_addr, topic)), message="the batch")
    assert sorted(message.keys for message in messages) == [f"key-{index}" for index in range(5)]
    assert {message.queue_id for message in messages} == {result.queue_id}
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_batch([])
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_batch([petrel.Message(topic, "delayed", delay_level=2)])


def test_send_ordered_and_selected_choose_queues(producer):
    topic = unique("PyOrdered")
    first = producer.send_ordered(topic, "o1", sharding_key="order-7")
    again = producer.send_ordered(topic, "o2", sharding_key="order-7")
    assert first.queue_id == again.queue_id and again.queue_offset == first.queue_offset + 1
    seen = []

    def selector(queue_count, message, argument):
        seen.append((queue_count, message.body, argument))
        return queue_count - 1

    result = producer.send_selected(topic, b"selected", selector, argument={"order": 9})
    assert seen[0][1:] == (b"selected", {"order": 9}) and result.queue_id == seen[0][0] - 1
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_selected(topic, b"x", lambda count, message, argument: count)
    with pytest.raises(ZeroDivisionError):
        producer.send_selected(topic, b"x", lambda count, message, argument: 1 // 0)
    with pytest.raises(TypeError):
        producer.send_selected(topic, b"x", lambda count, message, argument: "zero")
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send_ordered(topic, b"x", sharding_key="")


def test_bad_arguments_raise_invalid_argument(producer):
    topic = unique("PyBad")
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send("", b"x")
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send(topic, b"x", properties={"UNIQ_KEY": "mine"})
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send(topic, b"x", tags="bad\0tag")
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send(topic, b"x", delay_level=99)
    with pytest.raises(TypeError):
        producer.send(topic, 42)
    with pytest.raises(petrel.InvalidArgumentError) as raised:
        producer.send(topic, b"x", delay_level=-1)
    assert raised.value.status == petrel.Status.INVALID_ARGUMENT and raised.value.message


def test_lifecycle_states():
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.Producer("")
    producer = petrel.Producer("127.0.0.1:1", unique("PG"), send_timeout=0.5)
    with pytest.raises(petrel.InvalidStateError):
        producer.send("Topic", b"before start")
    producer.start()
    with pytest.raises((petrel.ConnectError, petrel.PetrelTimeoutError, petrel.NoRouteError)):
        producer.send("Topic", b"no broker there")
    producer.shutdown()
    producer.shutdown()
    with pytest.raises((petrel.ShutDownError, petrel.InvalidStateError)):
        producer.send("Topic", b"after shutdown")
    producer.close()
    producer.close()
    with pytest.raises(petrel.InvalidStateError):
        producer.send("Topic", b"after close")
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.Producer("127.0.0.1:1", send_timeout=-1)


def test_deliver_at_holds_the_message_until_its_time(producer, fast_broker):
    import time
    topic = unique("PyTimed")
    producer.send(topic, "now")  # creates the topic; once it is readable, reads are quick
    wait_until(lambda: pull_everything(fast_broker.namesrv_addr, topic), message="the immediate message")
    deliver_at = time.time() + 2.0
    timed = producer.send(topic, "later", deliver_at=deliver_at)
    assert timed.status == petrel.SendStatus.SEND_OK
    assert [message.body for message in pull_everything(fast_broker.namesrv_addr, topic)] == [b"now"]
    wait_until(lambda: b"later" in [message.body for message in pull_everything(fast_broker.namesrv_addr, topic)],
               message="the timed message")
    assert time.time() >= deliver_at - 0.2  # not delivered early (0.2 s for clock granularity)
    with pytest.raises(petrel.InvalidArgumentError):
        producer.send(topic, "x", deliver_at=-1)
    with pytest.raises(TypeError):
        producer.send(topic, "x", deliver_at="tomorrow")


def word_soup():
    """Text with many near-repeats (the same generator as Tests/CAPI/capi_producer.c)."""
    words = ["broker", "queue", "offset", "message", "topic", "consumer", "producer", "commit", "log", "index", "tag",
             "key", "retry", "delay", "order", "batch", "flush", "store", "route", "group"]
    state, parts = 0x2545F4914F6CDD1D, []
    for _ in range(40000):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        parts.append(words[(state >> 33) % 20] + (" " if state & 0x100 == 0 else ", "))
    return "".join(parts).encode()


def test_compression_level_changes_the_stored_size(fast_broker):
    from test_c_api import stored_body
    topic = unique("PyLevel")
    body = word_soup()
    stored = {}
    for level in (1, 9):
        with petrel.Producer(fast_broker.namesrv_addr, unique("PG"), compression_level=level) as producer:
            stored[level] = stored_body(fast_broker, producer.send(topic, body).offset_message_id)
    assert stored[1][0] & 1 and stored[9][0] & 1, stored
    assert stored[9][1] < stored[1][1] * 0.95, stored
    messages = wait_until(lambda: pull_everything(fast_broker.namesrv_addr, topic) or None, message="the two messages")
    assert [message.body for message in messages] == [body, body]
    for level in (0, 10):
        with pytest.raises(petrel.InvalidArgumentError):
            petrel.Producer(fast_broker.namesrv_addr, compression_level=level)
