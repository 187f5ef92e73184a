"""A stored zstd body the broker cannot decompress (its dictionary file was lost) must not block its
queue for the official C++ client, which needs plain bodies: the broker leaves the record out of pulls,
the consumer receives every record after it, topicStatus counts the skips, and queryMsgByOffset names
the reason. The record itself stays in the store."""
import signal

from admin_helpers import admin, admin_json
from clients import Collector, make_message, pull_all, start_producer, unique
from conftest import BrokerProcess, free_port, wait_until
from test_compression import compression_options, create_zstd_topic, dictionary_files, event, raw_records


def records_using(broker, topic, dictionary_id, queues=2):
    """(queue, queue offset) of every record of `topic` whose zstd envelope names `dictionary_id`."""
    return [(queue, offset) for queue, offset, identifier in raw_records(broker, topic, queues) if identifier == dictionary_id]


def test_the_cpp_client_consumes_past_records_whose_dictionary_is_lost(store_dir):
    listen, namesrv = free_port(), free_port()
    options = compression_options(sample_count=8)
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
    topic = unique("TopicZstdLost")
    try:
        create_zstd_topic(broker, topic, dictionary=True)
        producer = start_producer(broker.namesrv_addr)
        before = [event(index) for index in range(8)]
        for body in before:
            assert producer.send_sync(make_message(topic, body)).status == 0
        dictionary = wait_until(lambda: dictionary_files(store_dir), timeout=30, message="a trained dictionary file")[0]
        lost = [event(100 + index) for index in range(6)]
        for body in lost:
            assert producer.send_sync(make_message(topic, body)).status == 0
        producer.shutdown()
        assert broker.stop(signal.SIGTERM) == 0
        dictionary.unlink()

        broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=options).start()
        producer = start_producer(broker.namesrv_addr)
        after = [event(200 + index) for index in range(12)]
        for body in after:
            assert producer.send_sync(make_message(topic, body)).status == 0
        producer.shutdown()
        broken = records_using(broker, topic, int(dictionary.stem))
        assert len(broken) == len(lost), broken

        expected = sorted(before + after)
        collector = Collector(broker.namesrv_addr, topic, unique("CG_zstd_lost")).start()
        try:
            wait_until(lambda: len(collector.bodies()) >= len(expected), timeout=60,
                       message=f"{len(expected)} messages around the undecodable ones")
            assert sorted(collector.bodies()) == expected
        finally:
            collector.stop()
        assert sorted(entry[0] for entry in pull_all(broker.namesrv_addr, topic)) == expected

        skipped = admin_json(broker, "topicStatus", "-t", topic)["bodyBytes"][0]["undecodableBodies"]
        assert skipped >= 2 * len(lost), skipped
        queue, offset = broken[0]
        failed = admin(broker, "queryMsgByOffset", "-t", topic, "-b", "broker-a", "-i", str(queue), "-o", str(offset), expect=1)
        # The reason depends on timing: "needs dictionary N", or a corrupt frame once the restarted broker has
        # trained a new dictionary, which takes the lost one's id (ids follow the highest dictionary file kept).
        assert f"message at offset {offset}" in failed.stderr and "cannot decompress its body" in failed.stderr, failed.stderr
    finally:
        broker.stop()
