"""Durability through restarts with the official client: SIGTERM between produce and consume, and
SIGKILL under SYNC_FLUSH while a producer sends synchronously."""
import signal

from clients import AcknowledgingProducer, Collector, await_every_acknowledged, make_message, start_producer, unique
from conftest import BrokerProcess, free_port, wait_until


def test_sigterm_restart_between_produce_and_consume_and_offsets_resume(store_dir):
    listen, namesrv = free_port(), free_port()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    topic, group = unique("TopicRestart"), unique("CG_restart")
    producer = start_producer(broker.namesrv_addr)
    for index in range(30):
        assert producer.send_sync(make_message(topic, f"before-{index}".encode())).status == 0
    producer.shutdown()
    assert broker.stop(signal.SIGTERM) == 0
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    try:
        collector = Collector(broker.namesrv_addr, topic, group).start()
        wait_until(lambda: len(collector.bodies()) >= 30, timeout=60, message="30 messages after restart")
        collector.stop()  # commits offsets at shutdown
        producer = start_producer(broker.namesrv_addr)
        for index in range(10):
            assert producer.send_sync(make_message(topic, f"after-{index}".encode())).status == 0
        producer.shutdown()
        resumed = Collector(broker.namesrv_addr, topic, group).start()
        wait_until(lambda: len(resumed.bodies()) >= 10, timeout=60, message="10 new messages")
        resumed.stop()
        assert not any(body.startswith(b"before-") for body in resumed.bodies()), "resumed from the committed offset"
    finally:
        broker.stop()


def test_sigkill_under_sync_flush_keeps_every_acknowledged_message(store_dir):
    listen, namesrv = free_port(), free_port()
    extra = ["--flushDiskType", "SYNC_FLUSH"]
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=extra).start()
    topic = unique("TopicKill")
    load = AcknowledgingProducer(broker.namesrv_addr, topic, lambda index: f"k-{index}".encode()).start()
    wait_until(lambda: len(load.acknowledged) >= 200, timeout=60, message="200 acknowledged sends")
    broker.kill()
    load.stop()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=extra).start()
    try:
        await_every_acknowledged(broker.namesrv_addr, topic, unique("CG_kill"), load.acknowledged)
    finally:
        broker.stop()
