"""A broker compressing a zstd topic and the Python binding's consumers: with the compress-zstd plugin
(compressor_plugin) the broker sends the stored compressed records and the library decompresses them;
without it the broker sends plain bodies. Either way the application gets byte-exact bodies."""
import os
import struct
import subprocess
import threading
from pathlib import Path

import pytest

import remoting
from clients import unique
from conftest import ROOT, BrokerProcess, free_port, wait_until
from petrel_python import petrel

PLUGIN_DIR = Path(os.environ.get("PETREL_PLUGIN_DIR", ROOT / "build" / "plugins")).resolve()
QUEUES = 2
ZSTD = 0x200


@pytest.fixture
def zstd_broker(store_dir):
    if "PETREL_PLUGIN_DIR" not in os.environ:
        subprocess.run(["make", "-C", str(ROOT), "plugins"], check=True, capture_output=True)
    process = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(), extra=[
        "--pluginDirectory", str(PLUGIN_DIR), "--compressorPlugin", "compress-zstd", "--compressionType", "zstd",
        "--compressionDictionarySampleCount", "8", "--compressionDictionarySize", "4096"]).start()
    yield process
    process.stop()


def event(index):
    """A JSON event of 200-1,000 bytes."""
    note = f"lorem-{index % 7} " * (20 + index * 37 % 100)
    return f'{{"event":"order.paid","id":{index},"customer":"c-{index % 37}","note":"{note}"}}'.encode()


def raw_sys_flags(address, topic, accept_compression):
    """The sysFlag of every record of the topic, pulled raw with or without acceptCompression=zstd."""
    flags = []
    for queue_id in range(QUEUES):
        ext = {"consumerGroup": unique("CG_raw"), "topic": topic, "queueId": queue_id, "queueOffset": 0,
               "maxMsgNums": 64, "sysFlag": 0, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*",
               "subVersion": 0}
        if accept_compression:
            ext["acceptCompression"] = "zstd"
        header, body = remoting.invoke(address, 11, ext)
        position = 0
        while header["code"] == 0 and position < len(body):
            size = struct.unpack_from(">i", body, position)[0]
            flags.append(struct.unpack_from(">i", body, position + 36)[0])
            position += size
    return flags


def pull_bodies(consumer, topic):
    bodies = []
    for queue in consumer.fetch_queues(topic):
        offset = 0
        while True:
            result = consumer.pull(queue, offset, max_messages=32)
            if not result.found:
                break
            bodies += [message.body for message in result.messages]
            offset = result.next_offset
    return bodies


def test_consumers_with_and_without_the_plugin_get_byte_exact_bodies(zstd_broker):
    address = f"127.0.0.1:{zstd_broker.listen_port}"
    topic = unique("PyZstd")
    remoting.create_topic(address, topic, queues=QUEUES)
    sent = [event(index) for index in range(48)]
    with petrel.Producer(zstd_broker.namesrv_addr, unique("PG"), compress_over_bytes=0) as producer:
        for index, body in enumerate(sent):
            producer.send_selected(topic, body, lambda count, _message, _argument, index=index: index % count)
    # Stored and sent compressed to a client that accepts zstd; plain to one that does not.
    wait_until(lambda: len(raw_sys_flags(address, topic, True)) == len(sent), message="every record stored")
    assert all(flag & 0x700 == ZSTD and flag & 1 for flag in raw_sys_flags(address, topic, True))
    assert not any(flag & 0x701 for flag in raw_sys_flags(address, topic, False))

    for compressor in ("compress-zstd", None):
        with petrel.PullConsumer(zstd_broker.namesrv_addr, unique("CG"), plugin_directory=str(PLUGIN_DIR),
                                 compressor_plugin=compressor) as consumer:
            assert sorted(pull_bodies(consumer, topic)) == sorted(sent), compressor

    lock, received = threading.Lock(), []

    def on_message(message):
        with lock:
            received.append(message.body)

    consumer = petrel.PushConsumer(zstd_broker.namesrv_addr, unique("CG"), listener=on_message,
                                   consume_from=petrel.ConsumeFrom.FIRST_OFFSET, plugin_directory=str(PLUGIN_DIR),
                                   compressor_plugin="compress-zstd")
    consumer.subscribe(topic, "*")
    with consumer:
        wait_until(lambda: len(received) >= len(sent), message="push deliveries")
    assert sorted(received) == sorted(sent)
