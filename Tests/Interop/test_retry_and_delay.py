"""Retry, dead-letter and delayed delivery with the official C++ client (spec §14, §20).

One broker for the module, with short delay levels: level 2 keeps RocketMQ's default 5 s (the
delayed-send test), every other level is 1 s so the retries of a failing consumer come quickly.
"""
import json
import struct
import threading
import time

import pytest
from rocketmq.client import PushConsumer

import remoting
from clients import make_message, start_producer, text, unique
from conftest import BrokerProcess, free_port, wait_until

DELAY_LEVELS = "1s 5s 1s 1s 1s 1s"


@pytest.fixture(scope="module")
def retry_broker(tmp_path_factory):
    store = tmp_path_factory.mktemp("petrel-retry")
    process = BrokerProcess(store, free_port(), namesrv_port=free_port(),
                            extra=["--messageDelayLevel", DELAY_LEVELS]).start()
    process.address = f"127.0.0.1:{process.listen_port}"
    yield process
    process.stop()


def set_group(address, group, retry_max_times):
    """UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) with a SubscriptionGroupConfig body."""
    body = json.dumps({"groupName": group, "retryMaxTimes": retry_max_times, "retryQueueNums": 1}).encode()
    header, _ = remoting.invoke(address, 200, body=body)
    assert header["code"] == 0, header


def max_offset(address, topic, queue_id=0):
    header, _ = remoting.invoke(address, 30, {"topic": topic, "queueId": queue_id})
    return int(header.get("extFields", {}).get("offset", 0)) if header["code"] == 0 else 0


def pull_raw(address, topic, queue_id=0):
    """PULL_MESSAGE (11) from offset 0 → [(body, reconsume_times, topic, properties)], spec §10.1 layout."""
    header, body = remoting.invoke(address, 11, {
        "consumerGroup": unique("CG_raw"), "topic": topic, "queueId": queue_id, "queueOffset": 0, "maxMsgNums": 32,
        "sysFlag": 0, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*", "subVersion": 0})
    assert header["code"] == 0, header
    messages, position = [], 0
    while position < len(body):
        size = struct.unpack_from(">i", body, position)[0]
        record = body[position:position + size]
        reconsume = struct.unpack_from(">i", record, 72)[0]
        body_length = struct.unpack_from(">i", record, 84)[0]
        cursor = 88 + body_length
        topic_length = record[cursor]
        stored_topic = record[cursor + 1:cursor + 1 + topic_length].decode()
        cursor += 1 + topic_length
        properties_length = struct.unpack_from(">h", record, cursor)[0]
        raw = record[cursor + 2:cursor + 2 + properties_length].decode()
        properties = dict(entry.split("\x01", 1) for entry in raw.split("\x02") if "\x01" in entry)
        messages.append((record[88:88 + body_length], reconsume, stored_topic, properties))
        position += size
    return messages


# The wrapper answers RECONSUME_LATER for a raising callback and re-raises into ctypes, which reports
# the exception as unraisable: expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_failing_consumer_gets_retries_then_the_message_lands_in_the_dead_letter_topic(retry_broker):
    topic, group = unique("TopicRetry"), unique("CG_retry")
    set_group(retry_broker.address, group, retry_max_times=2)
    producer = start_producer(retry_broker.namesrv_addr)
    try:
        assert producer.send_sync(make_message(topic, b"poison", tags="TagA", keys="k1")).status == 0
    finally:
        producer.shutdown()

    deliveries, lock = [], threading.Lock()

    def always_fail(message):
        with lock:
            deliveries.append((message.body, message.reconsume_times, text(message.topic), time.monotonic()))
        raise RuntimeError("consumer failure → RECONSUME_LATER")

    consumer = PushConsumer(group)
    consumer.set_namesrv_addr(retry_broker.namesrv_addr)
    consumer.subscribe(topic, always_fail)
    consumer.start()
    try:
        # retryMaxTimes 2: first delivery + 2 retries, then the third send-back goes to %DLQ%.
        dead_letter = f"%DLQ%{group}"
        wait_until(lambda: max_offset(retry_broker.address, dead_letter) >= 1, timeout=40,
                   message="the message in the dead-letter topic")
    finally:
        consumer.shutdown()
    with lock:
        seen = list(deliveries)
    assert [entry[1] for entry in seen] == [0, 1, 2], seen
    assert all(entry[0] == b"poison" and entry[2] == topic for entry in seen), "RETRY_TOPIC restores the topic"
    for earlier, later in zip(seen, seen[1:]):
        assert later[3] - earlier[3] >= 0.9, "each retry waits for its 1 s delay level"

    dead = pull_raw(retry_broker.address, dead_letter)
    assert len(dead) == 1
    body, reconsume, stored_topic, properties = dead[0]
    assert body == b"poison" and stored_topic == dead_letter and reconsume == 3
    assert properties.get("RETRY_TOPIC") == topic
    assert properties.get("ORIGIN_MESSAGE_ID")
    assert "DELAY" not in properties


def test_delay_level_two_arrives_no_earlier_than_five_seconds(retry_broker):
    topic, group = unique("TopicDelay"), unique("CG_delay")
    received, lock = [], threading.Lock()

    def record(message):
        with lock:
            received.append((message.body, time.time(), message.born_timestamp, message.store_timestamp))

    producer = start_producer(retry_broker.namesrv_addr)
    try:
        message = make_message(topic, b"delayed", tags="TagA")
        message.set_delay_time_level(2)
        sent_at = time.time()
        assert producer.send_sync(message).status == 0
    finally:
        producer.shutdown()
    # Parked in SCHEDULE_TOPIC_XXXX queue 1 (level 2). Consume queues are filled asynchronously, so
    # await the unit (the schedule queue keeps it after delivery, so this cannot race the delay).
    wait_until(lambda: max_offset(retry_broker.address, "SCHEDULE_TOPIC_XXXX", 1) >= 1, timeout=10,
               message="the message parked in the schedule queue")
    consumer = PushConsumer(group)
    consumer.set_namesrv_addr(retry_broker.namesrv_addr)
    consumer.subscribe(topic, record)
    consumer.start()
    try:
        wait_until(lambda: received, timeout=30, message="the delayed message")
    finally:
        consumer.shutdown()
    body, arrived_at, born, stored = received[0]
    assert body == b"delayed"
    assert arrived_at - sent_at >= 5.0, f"arrived {arrived_at - sent_at:.2f} s after sending"
    assert stored - born >= 5000, f"re-stored {stored - born} ms after it was born"
