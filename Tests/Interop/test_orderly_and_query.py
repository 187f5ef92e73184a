"""Orderly push consumption (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ) across a rebalance, and QUERY_MESSAGE by key."""
import struct
import time

import remoting
from clients import Collector, make_message, start_producer, unique
from conftest import wait_until

ORDER_IDS = 4
PER_ORDER = 25


def sequence_numbers(collector):
    """order id → sequence numbers in the order the consumer received them (duplicates kept)."""
    seen = {}
    for body, *_ in list(collector.received):
        order, sequence = body.decode().split(":")
        seen.setdefault(int(order), []).append(int(sequence))
    return seen


def first_deliveries(sequences):
    """The sequence with later repeats of a number dropped."""
    kept, seen = [], set()
    for number in sequences:
        if number not in seen:
            seen.add(number)
            kept.append(number)
    return kept


def test_orderly_consumers_keep_per_key_order_across_a_rebalance(broker):
    topic = unique("TopicOrderly")
    group = unique("CG_orderly")
    producer = start_producer(broker.namesrv_addr)

    def send(sequences):
        for sequence in sequences:
            for order in range(ORDER_IDS):
                message = make_message(topic, f"{order}:{sequence}".encode(), tags="TagA", keys=f"order-{order}")
                assert producer.send_orderly(message, order).status == 0

    first = Collector(broker.namesrv_addr, topic, group, orderly=True)
    first.consumer.set_instance_name("orderly-one")
    second = Collector(broker.namesrv_addr, topic, group, orderly=True)
    second.consumer.set_instance_name("orderly-two")
    try:
        send(range(0, 10))  # creates the topic, so the consumers find its route at once
        first.start()
        wait_until(lambda: len(first.received) >= 8, timeout=30, message="the first orderly consumer to receive")
        second.start()
        send(range(10, PER_ORDER))

        def everything_arrived():
            union = set(first.bodies()) | set(second.bodies())
            return len(union) == ORDER_IDS * PER_ORDER

        wait_until(everything_arrived, timeout=30, interval=0.1, message="every message across both consumers")
    finally:
        producer.shutdown()
        second.stop()
        first.stop()

    expected = {f"{order}:{sequence}".encode() for order in range(ORDER_IDS) for sequence in range(PER_ORDER)}
    assert set(first.bodies()) | set(second.bodies()) == expected
    for name, collector in (("first", first), ("second", second)):
        for order, sequences in sequence_numbers(collector).items():
            kept = first_deliveries(sequences)
            assert kept == sorted(kept), f"{name} consumer saw order {order} out of order: {sequences}"
            assert all(entry[1] == f"order-{order}" for entry in collector.received
                       if entry[0].decode().startswith(f"{order}:"))
    print("orderly split:", {name: {order: len(first_deliveries(sequences)) for order, sequences in sequence_numbers(c).items()}
                             for name, c in (("first", first), ("second", second))})


def test_query_message_by_key_finds_a_cpp_producers_message(broker):
    topic = unique("TopicQuery")
    key = unique("key")
    producer = start_producer(broker.namesrv_addr)
    try:
        sent_at = int(time.time() * 1000)
        assert producer.send_sync(make_message(topic, b"other", keys="unrelated")).status == 0
        result = producer.send_sync(make_message(topic, b"find me", tags="TagQ", keys=f"{key} second-key"))
        assert result.status == 0
    finally:
        producer.shutdown()
    address = f"127.0.0.1:{broker.listen_port}"
    request = {"topic": topic, "key": key, "maxNum": 32, "beginTimestamp": sent_at - 60_000,
               "endTimestamp": int(time.time() * 1000) + 60_000}

    def answered():
        header, body = remoting.invoke(address, 12, request)
        return (header, body) if header["code"] == 0 else None

    header, body = wait_until(answered, timeout=10, interval=0.05, message="QUERY_MESSAGE to find the key")
    ext = header["extFields"]
    assert int(ext["indexLastUpdatePhyoffset"]) > 0 and int(ext["indexLastUpdateTimestamp"]) >= sent_at - 1000
    total = struct.unpack(">i", body[0:4])[0]
    assert total == len(body), "exactly one message matches"
    body_length = struct.unpack(">i", body[84:88])[0]
    assert body[88:88 + body_length] == b"find me"
    topic_length = body[88 + body_length]
    assert body[89 + body_length:89 + body_length + topic_length].decode() == topic
    properties = body[91 + body_length + topic_length:total].decode()
    assert f"KEYS\x01{key} second-key\x02" in properties

    missing = remoting.invoke(address, 12, dict(request, key="no-such-key"))[0]
    assert missing["code"] == 22, missing
    # VIEW_MESSAGE_BY_ID of the record's own commit-log offset returns the same bytes.
    physical_offset = struct.unpack(">q", body[28:36])[0]
    view_header, view_body = remoting.invoke(address, 33, {"offset": physical_offset})
    assert view_header["code"] == 0 and view_body == body
