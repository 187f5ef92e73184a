"""petrel-admin's consumer requests against running consumers. With the official C++ push consumer (rocketmq 0.4.4):
resetOffsetByTime goes through the broker's INVOKE_BROKER_TO_RESET_OFFSET (222), which sends the
live client RESET_CONSUMER_CLIENT_OFFSET (220) in the list form the C++ client reads; the client
consumes again from the reset offsets. getConsumerStatus (223 -> 221) reports no C++ client: the
C++ 1.2.3 client leaves GET_CONSUMER_STATUS_FROM_CLIENT unanswered (its handler is commented out).
With a Petrel push consumer (the Python binding): consumerStatus (307), getConsumerStatus (223),
queryMsgById -g -d (309) and resetOffsetByTime (222).
"""
import threading
import time

from clients import Collector, make_message, start_producer, unique
from conftest import wait_until
from petrel_python import fast_broker, petrel  # noqa: F401  (fixture)
from test_admin import admin, admin_json, create_topic


def send_bodies(broker, topic, bodies):
    producer = start_producer(broker.namesrv_addr)
    try:
        for body in bodies:
            assert producer.send_sync(make_message(topic, body.encode())).status == 0
    finally:
        producer.shutdown()


def two_queue_topic_and_group(broker, topic_prefix, group_prefix):
    """A new topic of two queues on `broker` and a new consumer group name, both unique to the test."""
    topic = unique(topic_prefix)
    create_topic(broker, topic, queues=2)
    return topic, unique(group_prefix)


def test_reset_offset_by_time_rewinds_a_running_cpp_consumer(broker):
    topic, group = two_queue_topic_and_group(broker, "AdminResetCpp", "CG_reset")
    send_bodies(broker, topic, [f"early{i}" for i in range(4)])
    collector = Collector(broker.namesrv_addr, topic, group).start()
    try:
        wait_until(lambda: len(collector.bodies()) >= 4, timeout=60, message="the 4 early messages")
        # Store times are milliseconds: a reset time strictly after the early ones and before the late ones.
        reset_time = int(time.time() * 1000) + 1
        wait_until(lambda: int(time.time() * 1000) > reset_time, timeout=5, message="the clock past the reset time")
        send_bodies(broker, topic, [f"late{i}" for i in range(4)])
        wait_until(lambda: len(collector.bodies()) >= 8, timeout=60, message="the 4 late messages")

        reset = admin_json(broker, "resetOffsetByTime", "-g", group, "-t", topic, "-s", str(reset_time))
        assert len(reset["queues"]) == 2
        assert sum(queue["offset"] for queue in reset["queues"]) == 4, reset
        late = [f"late{i}".encode() for i in range(4)]
        wait_until(lambda: all(collector.bodies().count(body) >= 2 for body in late), timeout=60,
                   message="the late messages consumed again after the reset")
        assert all(collector.bodies().count(f"early{i}".encode()) == 1 for i in range(4)), collector.bodies()

        status = admin_json(broker, "getConsumerStatus", "-g", group, "-t", topic)
        assert status["clients"] == [] and status["queues"] == []
        assert "#ClientId" in admin(broker, "consumerStatus", "-g", group).stdout
    finally:
        collector.stop()


def test_admin_reaches_a_running_petrel_consumer(fast_broker):
    topic, group = two_queue_topic_and_group(fast_broker, "AdminPetrel", "CG_petrel")
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer:
        sent = [producer.send(topic, f"m{i}".encode()) for i in range(4)]
    received, lock = [], threading.Lock()

    def listener(message):
        with lock:
            received.append(message.body)
        return petrel.ConsumeResult.SUCCESS

    def count(body):
        with lock:
            return received.count(body)

    consumer = petrel.PushConsumer(fast_broker.namesrv_addr, group, listener=listener,
                                   consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
    consumer.subscribe(topic)
    with consumer:
        wait_until(lambda: all(count(f"m{i}".encode()) == 1 for i in range(4)), message="the 4 messages")
        clients = admin_json(fast_broker, "consumerStatus", "-g", group)["clients"]
        assert len(clients) == 1
        client_id = clients[0]["clientId"]
        running = admin(fast_broker, "consumerStatus", "-g", group, "-i", client_id).stdout
        assert '"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"' in running and f'"topic":"{topic}"' in running

        status = wait_until(lambda: (lambda found: found if sum(q["offset"] for q in found["queues"]) == 4 else None)(
            admin_json(fast_broker, "getConsumerStatus", "-g", group, "-t", topic)), timeout=10, message="offsets 4")
        assert status["clients"] == [client_id] and len(status["queues"]) == 2
        assert "#ClientId" in admin(fast_broker, "getConsumerStatus", "-g", group, "-t", topic, "-i", client_id).stdout

        direct = admin_json(fast_broker, "queryMsgById", "-i", sent[0].offset_message_id, "-g", group, "-d", client_id)
        assert direct["consumeResult"] == "CR_SUCCESS"
        assert count(b"m0") == 2
        assert "no-such-client" in admin(fast_broker, "queryMsgById", "-i", sent[0].offset_message_id, "-g", group,
                                         "-d", "no-such-client", expect=1).stderr

        admin(fast_broker, "resetOffsetByTime", "-g", group, "-t", topic, "-s", "2020-01-01 00:00", expect=64)
        reset = admin_json(fast_broker, "resetOffsetByTime", "-g", group, "-t", topic, "-s", "2020-01-01#00:00:00:000")
        assert [queue["offset"] for queue in reset["queues"]] == [0, 0]
        wait_until(lambda: all(count(f"m{i}".encode()) >= 2 for i in range(1, 4)), message="the 4 messages again")
        assert count(b"m0") == 3
