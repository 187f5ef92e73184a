"""Cross-client: messages from the official RocketMQ C++ client (rocketmq==0.4.4) are consumed by the
Petrel Python binding and the other way round, with keys, tags, properties and bodies intact."""
import threading

from rocketmq.client import PushConsumer as OfficialPushConsumer

from clients import make_message, pull_all, start_producer, text, unique
from conftest import wait_until
from petrel_python import petrel

PROPERTIES = {"color": "red", "size": "XL", "note": "with spaces and ünïcode"}


def test_official_producer_to_petrel_consumers(broker):
    topic = unique("ToPetrel")
    official = start_producer(broker.namesrv_addr)
    try:
        for index in range(10):
            result = official.send_sync(make_message(topic, f"official-{index}".encode(), tags=f"Tag{index % 2}",
                                                     keys=f"key-{index} alt-{index}", properties=PROPERTIES))
            assert result.status == 0
    finally:
        official.shutdown()
    received = []
    lock = threading.Lock()

    def listener(message):
        with lock:
            received.append((message.body, message.tags, message.key_list,
                             {name: message.get_property(name) for name in PROPERTIES}))

    consumer = petrel.PushConsumer(broker.namesrv_addr, unique("CG"), listener=listener,
                                   consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
    consumer.subscribe(topic, "*")
    with consumer:
        wait_until(lambda: len(received) >= 10, message="ten official messages at the Petrel push consumer")
    assert sorted(body for body, _, _, _ in received) == sorted(f"official-{index}".encode() for index in range(10))
    for body, tags, keys, properties in received:
        index = int(body.decode().split("-")[1])
        assert (tags, keys, properties) == (f"Tag{index % 2}", [f"key-{index}", f"alt-{index}"], PROPERTIES)

    pulled = []
    pull = petrel.PullConsumer(broker.namesrv_addr, unique("CG_pull"), consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
    pull.subscribe(topic, "Tag1")
    with pull:
        for message in pull.poll_iter(poll_timeout=0.5, idle_timeout=30):
            pulled.append((message.body, message.tags, message.get_property("size")))
            if len(pulled) == 5:
                break
    assert sorted(pulled) == sorted((f"official-{index}".encode(), "Tag1", "XL") for index in range(1, 10, 2))


def test_petrel_producer_to_official_consumers(broker):
    topic = unique("FromPetrel")
    with petrel.Producer(broker.namesrv_addr, unique("PG")) as producer:
        for index in range(8):
            producer.send(topic, f"petrel-{index}", tags=f"Tag{index % 2}", keys=[f"key-{index}", f"alt-{index}"],
                          properties=PROPERTIES)
        producer.send_batch([petrel.Message(topic, f"batch-{index}", tags="Batch", keys=f"b{index}",
                                            properties={"color": "blue"}) for index in range(3)])
        producer.send_ordered(topic, "ordered", sharding_key="o-1", tags="Ordered", keys="ord", properties=PROPERTIES)
    received = []
    lock = threading.Lock()

    def on_message(message):
        with lock:
            received.append((message.body, text(message.tags), text(message.keys),
                             {name: text(message.get_property(name)) for name in PROPERTIES}))

    consumer = OfficialPushConsumer(unique("CG_official"))
    consumer.set_namesrv_addr(broker.namesrv_addr)
    consumer.subscribe(topic, on_message, "*")
    consumer.start()
    try:
        wait_until(lambda: len(received) >= 12, message="twelve Petrel messages at the official push consumer")
    finally:
        consumer.shutdown()
    by_body = {body: rest for body, *rest in received}
    for index in range(8):
        assert by_body[f"petrel-{index}".encode()] == [f"Tag{index % 2}", f"key-{index} alt-{index}", PROPERTIES]
    for index in range(3):
        assert by_body[f"batch-{index}".encode()][:2] == ["Batch", f"b{index}"]
        assert by_body[f"batch-{index}".encode()][2]["color"] == "blue"
    assert by_body[b"ordered"] == ["Ordered", "ord", PROPERTIES]
    stored = pull_all(broker.namesrv_addr, topic, "Tag0")
    assert sorted(entry[0] for entry in stored) == sorted(f"petrel-{index}".encode() for index in range(0, 8, 2))
    assert all(entry[3] == "red" for entry in stored)
