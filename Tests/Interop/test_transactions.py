"""Transactional messages over the raw remoting protocol (spec §15). The rocketmq 0.4.4 wrapper has no
TransactionMQProducer, so half messages are sent as SEND_MESSAGE (10) with TRAN_MSG=true and ended with
END_TRANSACTION (37), across a broker restart. Check-backs run with short broker.conf intervals
(transactionCheckInterval, transactionTimeOut): the broker sends CHECK_TRANSACTION_STATE (39) on the
producer's own connection and the test answers it, also after a SIGTERM or SIGKILL restart."""
import signal
import socket
import time

import pytest

import remoting
from clients import unique
from conftest import BrokerProcess, free_port, wait_until

GROUP = "PG_tx"


def send_half(address, topic, body, queue_id=0, connection=None):
    properties = f"TRAN_MSG\x01true\x02PGROUP\x01{GROUP}\x02UNIQ_KEY\x01{unique('U')}\x02TAGS\x01T"
    invoke = connection.request if connection else (lambda *request, body: remoting.invoke(address, *request, body=body))
    header, _ = invoke(10, {
        "producerGroup": GROUP, "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": 4,
        "queueId": queue_id, "sysFlag": 4, "bornTimestamp": int(time.time() * 1000), "flag": 0,
        "properties": properties, "reconsumeTimes": 0, "unitMode": "false", "batch": "false",
    }, body=body)
    assert header["code"] == 0, header
    ext = header["extFields"]
    return {"msgId": ext["msgId"], "queueOffset": int(ext["queueOffset"]), "commitLogOffset": int(ext["msgId"][16:], 16)}


def end_fields(half, kind, from_check=False):
    return {"producerGroup": GROUP, "tranStateTableOffset": half["queueOffset"],
            "commitLogOffset": half["commitLogOffset"], "commitOrRollback": kind,
            "fromTransactionCheck": str(from_check).lower(), "msgId": half["msgId"], "transactionId": half["msgId"]}


def end(address, half, kind):
    """END_TRANSACTION with flag 0 (answered, as C++ clients send 'oneway' requests)."""
    header, _ = remoting.invoke(address, 37, end_fields(half, kind))
    return header


def end_oneway(address, half, kind):
    """END_TRANSACTION with the oneway flag, as a Java producer sends it: no answer comes."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        header = {"code": 37, "language": "JAVA", "version": 409, "opaque": 7, "flag": 2,
                  "extFields": {k: str(v) for k, v in end_fields(half, kind).items()}}
        sock.sendall(remoting.frame(header))
        time.sleep(0.2)


def max_offset(address, topic, queue_id=0):
    header, _ = remoting.invoke(address, 30, {"topic": topic, "queueId": queue_id})
    return int(header["extFields"]["offset"]) if header["code"] == 0 else 0


def test_commit_rollback_unknown_and_restart(store_dir):
    listen, namesrv = free_port(), free_port()
    address = f"127.0.0.1:{listen}"
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    topic = unique("TopicTx")
    try:
        committed = send_half(address, topic, b"commit-me")
        rolled_back = send_half(address, topic, b"roll-me-back")
        pending = send_half(address, topic, b"decide-later")
        time.sleep(0.3)
        assert max_offset(address, topic) == 0, "half messages are invisible"

        end_oneway(address, committed, 8)
        wait_until(lambda: max_offset(address, topic) == 1, timeout=10, message="the commit to become visible")
        assert end(address, rolled_back, 12)["code"] == 0
        assert end(address, pending, 0)["code"] == 0  # unknown: stays pending
        assert end(address, committed, 8)["code"] == 0  # duplicate: answered, not stored again
        refused = end(address, committed, 12)
        assert refused["code"] != 0 and "commit" in refused.get("remark", ""), refused
        time.sleep(0.3)
        assert max_offset(address, topic) == 1
    finally:
        assert broker.stop(signal.SIGTERM) == 0

    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv).start()
    try:
        assert max_offset(address, topic) == 1
        assert end(address, committed, 8)["code"] == 0
        assert end(address, rolled_back, 8)["code"] != 0, "commit after rollback is refused after restart"
        assert end(address, pending, 8)["code"] == 0
        wait_until(lambda: max_offset(address, topic) == 2, timeout=10, message="the pending half to commit")
        time.sleep(0.3)
        assert max_offset(address, topic) == 2
        header, body = remoting.invoke(address, 11, {
            "consumerGroup": unique("CG_tx"), "topic": topic, "queueId": 0, "queueOffset": 0, "maxMsgNums": 32,
            "sysFlag": 0, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*", "subVersion": 0})
        assert header["code"] == 0, header
        assert b"commit-me" in body and b"decide-later" in body and b"roll-me-back" not in body
    finally:
        broker.stop()


# Short check-back settings: a round every 500 ms, half messages due after 1 s.
CHECK_OPTIONS = ["--transactionCheckInterval", "500", "--transactionTimeOut", "1000", "--transactionCheckMax", "50"]


def pull_bodies(address, topic):
    header, body = remoting.invoke(address, 11, {
        "consumerGroup": unique("CG_tx"), "topic": topic, "queueId": 0, "queueOffset": 0, "maxMsgNums": 32,
        "sysFlag": 0, "commitOffset": 0, "suspendTimeoutMillis": 0, "subscription": "*", "subVersion": 0})
    assert header["code"] == 0, header
    return body


def registered_producer(address):
    """A raw connection registered by heartbeat as a producer of GROUP."""
    producer = remoting.Connection(address)
    producer.heartbeat(unique("tx-client"), GROUP)
    return producer


def answer_check_with_commit(producer, half, body_text):
    """Awaits the broker's CHECK_TRANSACTION_STATE for `half` on the producer's connection and answers
    it there with a commit marked fromTransactionCheck, as a transaction listener would."""
    try:
        wanted = str(half["commitLogOffset"])
        checks = wait_until(
            lambda: [c for c in producer.requests_with_code(39) if c[0]["extFields"]["commitLogOffset"] == wanted],
            timeout=30, message="CHECK_TRANSACTION_STATE for the half message")
        check, check_body = checks[0]
        ext = check["extFields"]
        assert ext["tranStateTableOffset"] == str(half["queueOffset"])
        assert body_text in check_body, "the check carries the half message"
        producer.oneway(37, {"producerGroup": GROUP, "tranStateTableOffset": ext["tranStateTableOffset"],
                             "commitLogOffset": ext["commitLogOffset"], "commitOrRollback": 8,
                             "fromTransactionCheck": "true", "msgId": ext["msgId"],
                             "transactionId": ext.get("transactionId", ext["msgId"])})
    finally:
        producer.close()


def test_check_back_reaches_the_producer_connection_and_its_commit_is_delivered(store_dir):
    listen = free_port()
    address = f"127.0.0.1:{listen}"
    broker = BrokerProcess(store_dir, listen, namesrv_port=free_port(), extra=CHECK_OPTIONS).start()
    topic = unique("TopicTxCheck")
    try:
        producer = registered_producer(address)
        half = send_half(address, topic, b"checked-and-committed", connection=producer)
        assert end(address, half, 0)["code"] == 0  # UNKNOWN: the broker has to ask
        answer_check_with_commit(producer, half, b"checked-and-committed")
        wait_until(lambda: max_offset(address, topic) == 1, timeout=10, message="the checked commit to become visible")
        assert b"checked-and-committed" in pull_bodies(address, topic)
    finally:
        assert broker.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_check_back_comes_after_a_restart(store_dir, stop):
    listen, namesrv = free_port(), free_port()
    address = f"127.0.0.1:{listen}"
    topic = unique("TopicTxRestart")
    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=CHECK_OPTIONS).start()
    try:
        half = send_half(address, topic, b"survives-restart")
    finally:
        if stop == "SIGKILL":
            broker.kill()
        else:
            assert broker.stop(signal.SIGTERM) == 0

    broker = BrokerProcess(store_dir, listen, namesrv_port=namesrv, extra=CHECK_OPTIONS).start()
    try:
        assert max_offset(address, topic) == 0, "still a half message after the restart"
        answer_check_with_commit(registered_producer(address), half, b"survives-restart")
        wait_until(lambda: max_offset(address, topic) == 1, timeout=10, message="the commit after the restart")
        assert b"survives-restart" in pull_bodies(address, topic)
    finally:
        assert broker.stop(signal.SIGTERM) == 0
