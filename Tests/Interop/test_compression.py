"""Store compression (zstd, per topic, with and without a trained dictionary) seen through the official
C++ client, which cannot decompress zstd: every body must come back byte for byte, also after a
restart, and every acknowledged message must survive a SIGKILL under load on a dictionary topic
(the dictionary is persisted before any message using it is appended)."""
import json
import os
import random
import signal
import subprocess

import remoting
from admin_helpers import admin, admin_json, route_of
from clients import AcknowledgingProducer, Collector, await_every_acknowledged, make_message, pull_all, start_producer, unique
from conftest import ROOT, BrokerProcess, free_port, wait_until

PLUGIN_DIR = os.environ.get("PETREL_PLUGIN_DIR") or str(ROOT / "build" / "plugins")


def compression_options(sample_count):
    """Broker options loading compress-zstd and training after `sample_count` samples."""
    assert os.path.exists(os.path.join(PLUGIN_DIR, "compress-zstd.so")), f"run `make plugins` ({PLUGIN_DIR})"
    return ["--compressorPlugin", "compress-zstd", "--pluginDirectory", PLUGIN_DIR,
            "--compressionDictionarySampleCount", str(sample_count)]


def event(index):
    """A JSON event of a few hundred bytes, different per index."""
    kinds = ["page_view", "click", "purchase", "signup", "logout"]
    return json.dumps({
        "event_id": f"evt-{index}", "kind": kinds[index % 5], "user": {"id": index * 7919 % 100003, "plan": ["free", "pro"][index % 2]},
        "timestamp": 1700000000000 + index * 137, "path": f"/products/{index % 50}", "note": "detail " * (index % 40),
    }).encode()


def varied_bodies(count, seed):
    """JSON events plus bodies that must stay as sent: tiny ones, random bytes, and one the C++ client
    zlib-compresses itself (over 4 KiB)."""
    generator = random.Random(seed)
    bodies = [event(index) for index in range(count)]
    bodies += [b"x", b"tiny", bytes(generator.getrandbits(8) for _ in range(700)).replace(b"\x00", b"\x01")]
    bodies.append(b"".join(event(index) for index in range(40)))
    return bodies


def create_zstd_topic(broker, topic, dictionary):
    attributes = f"+compression.type=zstd,+compression.dictionary={'true' if dictionary else 'false'},+compression.min.body.size=32"
    admin(broker, "updateTopic", "-t", topic, "-c", "DefaultCluster", "-r", "2", "-w", "2", "-a", attributes)
    wait_until(lambda: route_of(broker, topic) is not None, timeout=10, message=f"route of {topic}")


def dictionary_files(store_dir):
    directory = store_dir / "config" / "dictionaries"
    return sorted(directory.glob("*.dict")) if directory.exists() else []


def varint(data, cursor):
    """A LEB128 varint at `cursor`: (value, next cursor)."""
    value, shift = 0, 0
    while True:
        byte = data[cursor]
        cursor += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte & 0x80 == 0:
            return value, cursor


def raw_records(broker, topic, queues=2):
    """Every record of `topic` pulled raw with acceptCompression=zstd (as Petrel's own client reads):
    yields (queue, queue offset, dictionary id), the id None for a body that is not zstd."""
    address = f"127.0.0.1:{broker.listen_port}"
    for queue in range(queues):
        offset = 0
        while True:
            header, body = remoting.invoke(address, 11, {
                "consumerGroup": "CG_raw", "topic": topic, "queueId": queue, "queueOffset": offset, "maxMsgNums": 32,
                "sysFlag": 4, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*", "subVersion": 0,
                "acceptCompression": "zstd"})
            if header["code"] != 0:
                break
            cursor = 0
            while cursor < len(body):
                size = int.from_bytes(body[cursor:cursor + 4], "big")
                queue_offset = int.from_bytes(body[cursor + 20:cursor + 28], "big")
                sys_flag = int.from_bytes(body[cursor + 36:cursor + 40], "big")
                identifier = None
                if sys_flag & 0x701 == 0x201:  # compressed, type zstd
                    stored = body[cursor + 88:cursor + size]
                    assert stored[0] == 1, "envelope version"
                    _, next_field = varint(stored, 1)
                    identifier = varint(stored, next_field)[0]
                yield queue, queue_offset, identifier
                cursor += size
            offset = int(header["extFields"]["nextBeginOffset"])


def stored_dictionary_ids(broker, topic, queues=2):
    """The envelope dictionary ids of the topic's zstd bodies, with the number of records seen."""
    records = list(raw_records(broker, topic, queues))
    return [identifier for _, _, identifier in records if identifier is not None], len(records)


def body_bytes(broker, topic):
    rows = admin_json(broker, "topicStatus", "-t", topic)["bodyBytes"]
    return rows[0]["bodyBytesReceived"], rows[0]["bodyBytesStored"]


def test_zstd_topics_with_and_without_dictionary_round_trip_through_the_cpp_client(store_dir):
    listen, namesrv = free_port(), free_port()
    options = compression_options(sample_count=40)
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
    plain_topic, dictionary_topic = unique("TopicZstd"), unique("TopicZstdDict")
    try:
        create_zstd_topic(broker, plain_topic, dictionary=False)
        create_zstd_topic(broker, dictionary_topic, dictionary=True)
        producer = start_producer(broker.namesrv_addr)
        plain_bodies = varied_bodies(60, seed=1)
        for body in plain_bodies:
            assert producer.send_sync(make_message(plain_topic, body)).status == 0
        training = [event(1000 + index) for index in range(40)]
        for body in training:
            assert producer.send_sync(make_message(dictionary_topic, body)).status == 0
        wait_until(lambda: dictionary_files(store_dir), timeout=30, message="a trained dictionary file")
        dictionary_bodies = training + varied_bodies(80, seed=2)
        for body in dictionary_bodies[40:]:
            assert producer.send_sync(make_message(dictionary_topic, body)).status == 0
        producer.shutdown()

        for topic, bodies in [(plain_topic, plain_bodies), (dictionary_topic, dictionary_bodies)]:
            pulled = wait_until(lambda: (lambda got: got if len(got) >= len(bodies) else None)(pull_all(broker.namesrv_addr, topic)),
                                timeout=30, message=f"{len(bodies)} messages of {topic}")
            assert sorted(entry[0] for entry in pulled) == sorted(bodies)
            received, stored = body_bytes(broker, topic)
            # The C++ client zlib-compresses bodies over 4 KiB itself: those count (and stay) as it sent them.
            small = sum(len(body) for body in bodies if len(body) <= 4096)
            assert small < received <= sum(len(body) for body in bodies), (received, small)
            assert stored < 0.8 * received, (received, stored)
        assert "Body Bytes Stored" in admin(broker, "topicStatus", "-t", dictionary_topic).stdout
        counted = body_bytes(broker, dictionary_topic)
        plain_ids, _ = stored_dictionary_ids(broker, plain_topic)
        assert plain_ids and set(plain_ids) == {0}
        dictionary_ids, _ = stored_dictionary_ids(broker, dictionary_topic)
        assert len([identifier for identifier in dictionary_ids if identifier != 0]) >= 60, dictionary_ids
        for identifier in set(dictionary_ids) - {0}:
            header, dictionary = remoting.invoke(f"127.0.0.1:{broker.listen_port}", 9001, {"dictionaryId": identifier})
            assert header["code"] == 0 and header["extFields"]["topic"] == dictionary_topic and dictionary
        assert broker.stop(signal.SIGTERM) == 0

        broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
        for topic, bodies in [(plain_topic, plain_bodies), (dictionary_topic, dictionary_bodies)]:
            pulled = wait_until(lambda: (lambda got: got if len(got) >= len(bodies) else None)(pull_all(broker.namesrv_addr, topic)),
                                timeout=30, message=f"{len(bodies)} messages of {topic} after restart")
            assert sorted(entry[0] for entry in pulled) == sorted(bodies)
        assert body_bytes(broker, dictionary_topic) == counted, "the byte counters survive a restart"
    finally:
        broker.stop()


def test_a_store_with_zstd_bodies_refuses_to_start_without_the_compressor(store_dir):
    listen, namesrv = free_port(), free_port()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=compression_options(sample_count=1000)).start()
    topic = unique("TopicMarker")
    try:
        create_zstd_topic(broker, topic, dictionary=False)
        producer = start_producer(broker.namesrv_addr)
        assert producer.send_sync(make_message(topic, event(1))).status == 0
        producer.shutdown()
    finally:
        assert broker.stop(signal.SIGTERM) == 0
    without = BrokerProcess(store_dir, listen, namesrv_port=namesrv)
    result = subprocess.run(without.arguments, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "zstd" in result.stderr and "compressorPlugin" in result.stderr, result.stderr


def test_sigkill_under_load_on_a_zstd_dictionary_topic_keeps_every_acknowledged_message(store_dir):
    listen, namesrv = free_port(), free_port()
    options = compression_options(sample_count=50) + ["--flushDiskType", "SYNC_FLUSH"]
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
    topic = unique("TopicZstdKill")
    create_zstd_topic(broker, topic, dictionary=True)
    load = AcknowledgingProducer(broker.namesrv_addr, topic, event).start()
    wait_until(lambda: dictionary_files(store_dir), timeout=60, message="a trained dictionary file")
    with_dictionary = len(load.acknowledged)
    wait_until(lambda: len(load.acknowledged) >= with_dictionary + 200, timeout=60, message="200 sends after training")
    broker.kill()
    load.stop()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
    try:
        wanted = await_every_acknowledged(broker.namesrv_addr, topic, unique("CG_zstd_kill"), load.acknowledged)
        identifiers, records = stored_dictionary_ids(broker, topic)
        assert records >= len(wanted) and any(identifier != 0 for identifier in identifiers), "bodies used the dictionary"
    finally:
        broker.stop()
