"""Small helpers around the official client's Python wrapper, shared by the interop tests."""
import itertools
import threading
import time

from rocketmq.client import Message, Producer, PullConsumer, PushConsumer
from rocketmq.ffi import MessageModel

from conftest import wait_until

_names = itertools.count()


def unique(prefix):
    """A topic or group name no other test uses in this run."""
    return f"{prefix}_{int(time.time() * 1000) % 100000}_{next(_names)}"


def text(value):
    """The wrapper returns some fields as bytes: compare them as text."""
    return value.decode() if isinstance(value, bytes) else value


def make_message(topic, body, tags=None, keys=None, properties=None):
    message = Message(topic)
    message.set_body(body)
    if tags:
        message.set_tags(tags)
    if keys:
        message.set_keys(keys)
    for key, value in (properties or {}).items():
        message.set_property(key, value)
    return message


def start_producer(namesrv_addr, group=None):
    producer = Producer(group or unique("PG"))
    producer.set_namesrv_addr(namesrv_addr)
    producer.start()
    return producer


def pull_all(namesrv_addr, topic, expression="*", group=None):
    """Every message of `topic`, read from offset 0 of every queue with the pull consumer."""
    consumer = PullConsumer(group or unique("CG_pull"))
    consumer.offset_table = {}
    consumer.set_namesrv_addr(namesrv_addr)
    consumer.start()
    try:
        return [(m.body, text(m.keys), text(m.tags), text(m.get_property("color")), m.queue_id, m.queue_offset)
                for m in consumer.pull(topic, expression)]
    finally:
        consumer.shutdown()


class Collector:
    """A push consumer that records what it receives (thread-safe)."""

    def __init__(self, namesrv_addr, topic, group, expression="*", model=MessageModel.CLUSTERING, orderly=False):
        self.received = []
        self.lock = threading.Lock()
        self.consumer = PushConsumer(group, orderly=orderly, message_model=model)
        self.consumer.set_namesrv_addr(namesrv_addr)
        self.consumer.subscribe(topic, self._on_message, expression)

    def _on_message(self, message):
        with self.lock:
            self.received.append((message.body, text(message.keys), text(message.tags),
                                  text(message.get_property("color")), message.queue_id, text(message.id)))

    def start(self):
        self.consumer.start()
        return self

    def stop(self):
        self.consumer.shutdown()

    def bodies(self):
        with self.lock:
            return [entry[0] for entry in self.received]

    def queues(self):
        with self.lock:
            return {entry[4] for entry in self.received}


class AcknowledgingProducer:
    """Sends `body(index)` to `topic` synchronously from a thread until stopped and keeps every
    acknowledged body: the load of the SIGKILL tests, where a send failing while the broker is gone
    may be lost but an acknowledged one may not."""

    def __init__(self, namesrv_addr, topic, body):
        self.topic = topic
        self.body = body
        self.acknowledged = []
        self._stop = threading.Event()
        self.producer = start_producer(namesrv_addr)
        self.producer.set_timeout(2000)
        self.worker = threading.Thread(target=self._produce)

    def _produce(self):
        index = 0
        while not self._stop.is_set():
            body = self.body(index)
            try:
                if self.producer.send_sync(make_message(self.topic, body)).status == 0:
                    self.acknowledged.append(body)
            except Exception:
                pass  # the broker is gone: unacknowledged sends are allowed to be lost
            index += 1

    def start(self):
        self.worker.start()
        return self

    def stop(self):
        self._stop.set()
        self.worker.join(30)
        self.producer.shutdown()


def await_every_acknowledged(namesrv_addr, topic, group, acknowledged):
    """Consumes `topic` with a fresh push consumer of `group` until every body in `acknowledged` has
    come back (90 s at most); returns them as a set."""
    collector = Collector(namesrv_addr, topic, group).start()
    wanted = set(acknowledged)
    wait_until(lambda: wanted <= set(collector.bodies()), timeout=90,
               message=f"all {len(wanted)} acknowledged messages after SIGKILL")
    collector.stop()
    return wanted
