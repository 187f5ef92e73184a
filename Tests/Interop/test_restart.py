"""Durability through restarts with the official client: SIGTERM between produce and consume, and
SIGKILL under SYNC_FLUSH while a producer sends synchronously."""
import signal
import threading

from clients import Collector, make_message, start_producer, unique
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
    acknowledged = []
    stop = threading.Event()
    producer = start_producer(broker.namesrv_addr)
    producer.set_timeout(2000)

    def produce():
        index = 0
        while not stop.is_set():
            body = f"k-{index}".encode()
            try:
                if producer.send_sync(make_message(topic, body)).status == 0:
                    acknowledged.append(body)
            except Exception:
                pass  # the broker is gone: unacknowledged sends are allowed to be lost
            index += 1

    worker = threading.Thread(target=produce)
    worker.start()
    wait_until(lambda: len(acknowledged) >= 200, timeout=60, message="200 acknowledged sends")
    broker.kill()
    stop.set()
    worker.join(30)
    producer.shutdown()
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=extra).start()
    try:
        collector = Collector(broker.namesrv_addr, topic, unique("CG_kill")).start()
        wanted = set(acknowledged)
        wait_until(lambda: wanted <= set(collector.bodies()), timeout=90,
                   message=f"all {len(wanted)} acknowledged messages after SIGKILL")
        collector.stop()
    finally:
        broker.stop()
