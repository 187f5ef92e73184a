"""Push consumers: clustering, tag expressions, broadcasting, and two consumers sharing a group."""
from rocketmq.ffi import MessageModel

from clients import Collector, make_message, start_producer, unique
from conftest import wait_until


def send(broker, topic, count, tags_cycle=("TagA",)):
    producer = start_producer(broker.namesrv_addr)
    try:
        for index in range(count):
            tag = tags_cycle[index % len(tags_cycle)]
            result = producer.send_sync(make_message(topic, f"{tag}-{index}".encode(), tags=tag, keys=f"k{index}",
                                                     properties={"color": "red"}))
            assert result.status == 0
    finally:
        producer.shutdown()


def test_clustering_consumer_receives_every_message_once_with_fields_intact(broker):
    topic = unique("TopicPush")
    send(broker, topic, 30)
    collector = Collector(broker.namesrv_addr, topic, unique("CG")).start()
    try:
        wait_until(lambda: len(collector.bodies()) >= 30, timeout=60, message="30 messages pushed")
    finally:
        collector.stop()
    assert sorted(collector.bodies()) == sorted(f"TagA-{index}".encode() for index in range(30))
    for body, keys, tags, color, _, _ in collector.received:
        assert keys == "k" + body.decode().split("-")[1] and tags == "TagA" and color == "red"


def test_tag_expression_receives_only_those_tags(broker):
    topic = unique("TopicTags")
    send(broker, topic, 30, tags_cycle=("TagA", "TagB", "TagC"))
    collector = Collector(broker.namesrv_addr, topic, unique("CG_tags"), expression="TagA || TagB").start()
    try:
        wait_until(lambda: len(collector.bodies()) >= 20, timeout=60, message="20 TagA/TagB messages")
    finally:
        collector.stop()
    assert {entry[2] for entry in collector.received} == {"TagA", "TagB"}
    assert len(collector.bodies()) == 20


def test_broadcasting_consumers_each_receive_everything(broker):
    topic = unique("TopicBroadcast")
    send(broker, topic, 1)  # creates the topic
    group = unique("CG_broadcast")
    first = Collector(broker.namesrv_addr, topic, group, model=MessageModel.BROADCASTING)
    first.consumer.set_instance_name("first")
    second = Collector(broker.namesrv_addr, topic, group, model=MessageModel.BROADCASTING)
    second.consumer.set_instance_name("second")
    first.start()
    second.start()
    producer = start_producer(broker.namesrv_addr)
    try:
        # Fresh broadcasting consumers start at the end of each queue (CONSUME_FROM_LAST_OFFSET with
        # no local offset), as RocketMQ's do: probe until both are live, then send the real messages.
        def both_live():
            producer.send_sync(make_message(topic, b"probe", tags="Probe"))
            return any(body == b"probe" for body in first.bodies()) and any(body == b"probe" for body in second.bodies())

        wait_until(both_live, timeout=60, interval=0.2, message="both broadcasting consumers to be live")
        finals = [f"final-{index}".encode() for index in range(20)]
        for body in finals:
            assert producer.send_sync(make_message(topic, body, tags="TagA")).status == 0
        wait_until(lambda: set(finals) <= set(first.bodies()) and set(finals) <= set(second.bodies()), timeout=60,
                   message="both broadcasting consumers to get all 20")
    finally:
        producer.shutdown()
        first.stop()
        second.stop()
    assert sorted(b for b in first.bodies() if b.startswith(b"final-")) == sorted(finals)
    assert sorted(b for b in second.bodies() if b.startswith(b"final-")) == sorted(finals)


def test_two_consumers_in_a_group_split_the_queues(broker):
    topic = unique("TopicSplit")
    send(broker, topic, 1, tags_cycle=("Init",))  # creates the topic (auto-create from TBW102)
    group = unique("CG_split")
    first = Collector(broker.namesrv_addr, topic, group)
    first.consumer.set_instance_name("one")
    second = Collector(broker.namesrv_addr, topic, group)
    second.consumer.set_instance_name("two")
    first.start()
    second.start()
    producer = start_producer(broker.namesrv_addr)
    try:
        # Until the second consumer has joined and the group has rebalanced, one consumer may hold every
        # queue: probe until both receive, then check how the real messages are shared.
        def both_receiving():
            producer.send_sync(make_message(topic, b"probe", tags="Probe"))
            return b"probe" in first.bodies() and b"probe" in second.bodies()

        wait_until(both_receiving, timeout=60, interval=0.2, message="both consumers of the group to receive")
        finals = [f"final-{index}".encode() for index in range(60)]
        for body in finals:
            assert producer.send_sync(make_message(topic, body, tags="TagA")).status == 0
        wait_until(lambda: set(finals) <= set(first.bodies()) | set(second.bodies()), timeout=60,
                   message="all 60 messages across both consumers")
    finally:
        producer.shutdown()
        first.stop()
        second.stop()
    received = [body for body in first.bodies() + second.bodies() if body.startswith(b"final-")]
    assert sorted(received) == sorted(finals), "together they receive every message exactly once"
    first_queues = {entry[4] for entry in first.received if entry[0].startswith(b"final-")}
    second_queues = {entry[4] for entry in second.received if entry[0].startswith(b"final-")}
    assert first_queues and second_queues, "both consumers got a share"
    assert first_queues.isdisjoint(second_queues), "a queue is served by one consumer of the group"
