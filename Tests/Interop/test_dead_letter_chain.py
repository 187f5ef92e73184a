"""The dead-letter round trip, end to end with the official C++ client and petrel-admin: a push
consumer that always fails drives a message through its retries into `%DLQ%<group>`; `queryMsgByKey`
finds it there; `resendDLQ` sends it back to its topic; a consumer of the group receives it again
with body and key intact.
"""
import json
import subprocess
import threading

import pytest
from rocketmq.client import PushConsumer

import remoting
from clients import Collector, make_message, start_producer, unique
from conftest import BIN_DIR, BrokerProcess, free_port, wait_until

# Every retry level 1 s, so the retries of the failing consumer come quickly.
DELAY_LEVELS = "1s 1s 1s 1s 1s 1s"


@pytest.fixture
def dlq_broker(store_dir):
    process = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(),
                            extra=["--messageDelayLevel", DELAY_LEVELS]).start()
    process.address = f"127.0.0.1:{process.listen_port}"
    yield process
    process.stop()


def admin(broker, *arguments):
    """Runs petrel-admin against the broker's name server; the exit code must be 0."""
    command = [str(BIN_DIR / "petrel-admin"), *arguments, "-n", broker.namesrv_addr]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result.stdout


def max_offset(address, topic, queue_id=0):
    header, _ = remoting.invoke(address, 30, {"topic": topic, "queueId": queue_id})
    return int(header.get("extFields", {}).get("offset", 0)) if header["code"] == 0 else 0


def found_by_key(broker, topic, key):
    """queryMsgByKey's messages once the key index holds exactly one, else None."""
    found = json.loads(admin(broker, "queryMsgByKey", "-t", topic, "-k", key, "--json"))
    return found["messages"] if found["count"] == 1 else None


def fail_until_dead_letter(broker, topic, group):
    """Consumes with a push consumer that always fails until the message is in `%DLQ%<group>`;
    returns the reconsume times of the deliveries."""
    deliveries, lock = [], threading.Lock()

    def always_fail(message):
        with lock:
            deliveries.append(message.reconsume_times)
        raise RuntimeError("consumer failure → RECONSUME_LATER")

    consumer = PushConsumer(group)
    consumer.set_namesrv_addr(broker.namesrv_addr)
    consumer.subscribe(topic, always_fail)
    consumer.start()
    try:
        wait_until(lambda: max_offset(broker.address, f"%DLQ%{group}") >= 1, timeout=40,
                   message="the message in the dead-letter topic")
    finally:
        consumer.shutdown()
    with lock:
        return list(deliveries)


# The wrapper answers RECONSUME_LATER for a raising callback and re-raises into ctypes, which reports
# the exception as unraisable: expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dead_letter_is_found_by_key_resent_and_consumed_again(dlq_broker):
    topic, group, key = unique("TopicDlqChain"), unique("CG_dlq_chain"), unique("order")
    dead_letter = f"%DLQ%{group}"
    admin(dlq_broker, "updateSubGroup", "-g", group, "-b", dlq_broker.address, "-r", "1")
    producer = start_producer(dlq_broker.namesrv_addr)
    try:
        assert producer.send_sync(make_message(topic, b"poison pill", tags="TagA", keys=key)).status == 0
    finally:
        producer.shutdown()

    # retryMaxTimes 1: the first delivery and one retry, then the second send-back goes to the DLQ.
    assert fail_until_dead_letter(dlq_broker, topic, group) == [0, 1]

    [dead] = wait_until(lambda: found_by_key(dlq_broker, dead_letter, key), timeout=10,
                        message="the dead letter in the key index")
    assert (dead["topic"], dead["body"], dead["keys"], dead["tags"]) == (dead_letter, "poison pill", [key], "TagA")
    assert dead["properties"]["RETRY_TOPIC"] == topic
    assert "poison pill" in admin(dlq_broker, "queryMsgByKey", "-t", dead_letter, "-k", key)

    resent = json.loads(admin(dlq_broker, "resendDLQ", "-g", group, "--json"))["resent"]
    assert [(entry["dlqMsgId"], entry["topic"], entry["send"]["sendStatus"]) for entry in resent] == [
        (dead["msgId"], topic, "SEND_OK")]

    collector = Collector(dlq_broker.namesrv_addr, topic, group).start()
    try:
        received = wait_until(lambda: collector.received[:], timeout=30, message="the resent message")
    finally:
        collector.stop()
    body, keys, tags = received[0][:3]
    assert (body, keys, tags) == (b"poison pill", key, "TagA")
    assert max_offset(dlq_broker.address, topic) == 2, "the original and the resent copy"
