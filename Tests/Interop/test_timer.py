"""Arbitrary-time delivery (RocketMQ 5 timer messages) against the real petrel-broker binary over the
raw protocol: bad timer properties are refused with MESSAGE_ILLEGAL, and timer messages acknowledged
before a SIGKILL are all delivered after the restart, none before its time."""
import math
import random
import socket
import struct
import time

import remoting
from clients import unique
from conftest import BrokerProcess, free_port, wait_until

SEND_MESSAGE, PULL_MESSAGE, GET_MAX_OFFSET = 10, 11, 30
MESSAGE_ILLEGAL = 13
QUEUES = 4


class Connection:
    """One persistent remoting connection: requests one after another, each answered before the next."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.opaque = 0

    def invoke(self, code, ext, body=b""):
        self.opaque += 1
        header = {"code": code, "language": "PYTHON", "version": 409, "opaque": self.opaque, "flag": 0,
                  "extFields": {k: str(v) for k, v in ext.items()}}
        self.sock.sendall(remoting.frame(header, body))
        return remoting.read_frame(self.sock)

    def close(self):
        self.sock.close()


def send_timer(connection, topic, body, queue_id, properties):
    """SEND_MESSAGE with the given properties (plus a unique key) to one queue → response header."""
    properties = dict(properties, UNIQ_KEY=unique("U"))
    encoded = "\x02".join(f"{key}\x01{value}" for key, value in properties.items())
    header, _ = connection.invoke(SEND_MESSAGE, {
        "producerGroup": "PG_timer", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": QUEUES,
        "queueId": queue_id, "sysFlag": 0, "bornTimestamp": int(time.time() * 1000), "flag": 0,
        "properties": encoded, "reconsumeTimes": 0, "unitMode": "false", "batch": "false"}, body)
    return header


def stored_count(address, topic):
    """Messages in the topic's queues (sum of GET_MAX_OFFSET)."""
    total = 0
    for queue_id in range(QUEUES):
        header, _ = remoting.invoke(address, GET_MAX_OFFSET, {"topic": topic, "queueId": queue_id})
        if header["code"] == 0:
            total += int(header["extFields"]["offset"])
    return total


def pull_all(address, topic, queue_id):
    """Every message of a queue → [(body, store_timestamp, properties)], spec §10.1 layout."""
    records, offset = [], 0
    while True:
        header, body = remoting.invoke(address, PULL_MESSAGE, {
            "consumerGroup": "CG_timer_check", "topic": topic, "queueId": queue_id, "queueOffset": offset,
            "maxMsgNums": 32, "sysFlag": 0, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*",
            "subVersion": 0})
        if header["code"] != 0:
            return records
        position = 0
        while position < len(body):
            size = struct.unpack_from(">i", body, position)[0]
            record = body[position:position + size]
            store_timestamp = struct.unpack_from(">q", record, 56)[0]
            body_length = struct.unpack_from(">i", record, 84)[0]
            cursor = 88 + body_length
            cursor += 1 + record[cursor]
            properties_length = struct.unpack_from(">h", record, cursor)[0]
            raw = record[cursor + 2:cursor + 2 + properties_length].decode()
            properties = dict(entry.split("\x01", 1) for entry in raw.split("\x02") if "\x01" in entry)
            records.append((record[88:88 + body_length].decode(), store_timestamp, properties))
            position += size
        offset = int(header["extFields"]["nextBeginOffset"])


def test_bad_timer_properties_are_refused_with_message_illegal(store_dir):
    broker = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(), extra=["--timerMaxDelaySec", "60"]).start()
    address = f"127.0.0.1:{broker.listen_port}"
    try:
        connection = Connection(address)
        topic = unique("TopicTimerBad")
        header = send_timer(connection, topic, b"x", 0, {"TIMER_DELIVER_MS": "next-week"})
        assert header["code"] == MESSAGE_ILLEGAL, header
        assert "TIMER_DELIVER_MS='next-week'" in header["remark"]
        header = send_timer(connection, topic, b"x", 0, {"TIMER_DELAY_SEC": "61"})
        assert header["code"] == MESSAGE_ILLEGAL, header
        assert "timerMaxDelaySec=60" in header["remark"]
        header = send_timer(connection, topic, b"ok", 0, {"TIMER_DELAY_SEC": "1"})
        assert header["code"] == 0, header
        wait_until(lambda: stored_count(address, topic) == 1, timeout=30, message="the valid timer message")
        connection.close()
    finally:
        broker.stop()


def test_sigkill_with_pending_timers_delivers_every_acknowledged_one_after_restart(store_dir):
    listen, namesrv = free_port(), free_port()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    address = f"127.0.0.1:{listen}"
    topic, count = unique("TopicTimerKill"), 2000
    remoting.create_topic(address, topic, queues=QUEUES)
    connection = Connection(address)
    due = {}
    for index in range(count):
        deliver_at = int(time.time() * 1000) + random.randint(1500, 12000)
        header = send_timer(connection, topic, str(index).encode(), index % QUEUES, {"TIMER_DELIVER_MS": deliver_at})
        assert header["code"] == 0, header
        due[str(index)] = deliver_at
    connection.close()
    # Kill while some timers are delivered and most are still pending.
    wait_until(lambda: stored_count(address, topic) >= 100, timeout=60, message="the first deliveries")
    broker.kill()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    try:
        wait_until(lambda: stored_count(address, topic) >= count, timeout=60, message=f"{count} deliveries after restart")
        messages = [m for queue_id in range(QUEUES) for m in pull_all(address, topic, queue_id)]
        bodies = [body for body, _, _ in messages]
        missing = set(due) - set(bodies)
        early = [(body, stamp, due[body]) for body, stamp, _ in messages if stamp < due[body]]
        duplicates = len(bodies) - len(set(bodies))
        print(f"timer SIGKILL: {len(set(bodies))} of {count} delivered, {duplicates} delivered twice, {len(early)} early")
        assert not missing, f"{len(missing)} acknowledged timer messages never delivered"
        assert not early, early[:5]
        # At least once: only the one delivery batch in flight at the kill may repeat (at most 512 messages).
        assert duplicates <= 512, duplicates
        # A send slowed past its deliver time (a loaded machine) is stored at once, without
        # TIMER_OUT_MS; the early check above covers it. Nearly all must have waited in the timer log.
        parked = sum(1 for _, _, properties in messages if properties.get("TIMER_OUT_MS"))
        assert parked >= len(messages) * 0.99, parked
    finally:
        broker.stop()


def percentile(sorted_values, fraction):
    """The nearest-rank percentile of an ascending list."""
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(len(sorted_values) * fraction) - 1))]


def test_ten_thousand_timers_at_random_times_are_each_delivered_once_never_early(store_dir):
    listen = free_port()
    broker = BrokerProcess(store_dir, listen, namesrv_port=free_port()).start()
    address = f"127.0.0.1:{listen}"
    topic, count = unique("TopicTimer10k"), 10_000
    remoting.create_topic(address, topic, queues=QUEUES)
    try:
        connection = Connection(address)
        due = {}
        for index in range(count):
            deliver_at = int(time.time() * 1000) + random.randint(1000, 30000)
            header = send_timer(connection, topic, str(index).encode(), index % QUEUES, {"TIMER_DELIVER_MS": deliver_at})
            assert header["code"] == 0, header
            due[str(index)] = deliver_at
        connection.close()
        wait_until(lambda: stored_count(address, topic) >= count, timeout=90, interval=0.5, message=f"{count} deliveries")
        messages = [m for queue_id in range(QUEUES) for m in pull_all(address, topic, queue_id)]
        bodies = [body for body, _, _ in messages]
        assert len(bodies) == count and set(bodies) == set(due), "each delivered exactly once"
        lateness = sorted(stamp - due[body] for body, stamp, _ in messages)
        assert lateness[0] >= 0, "none delivered before its time"
        print(f"timer 10k over the wire: lateness p50 {percentile(lateness, 0.5)} ms, "
              f"p99 {percentile(lateness, 0.99)} ms, max {lateness[-1]} ms")
    finally:
        broker.stop()
