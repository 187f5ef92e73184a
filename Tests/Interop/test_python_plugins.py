"""Plugins through the Python binding: ordered sends with the shipped selector-hash plugin land on
orderId % queues; two push consumers with allocate-consistent-hash give every queue to exactly one of
them; compressor plugins load into consumer options; broken fixtures raise PluginError with the
plugin's reason and the process keeps running. Plugins come from PETREL_PLUGIN_DIR (default
build/plugins, built with `make plugins`)."""
import os
import subprocess
import threading
from pathlib import Path

import pytest

from clients import unique
from conftest import ROOT, wait_until
from petrel_python import fast_broker, petrel  # noqa: F401  (fixture)

PLUGIN_DIR = Path(os.environ.get("PETREL_PLUGIN_DIR", ROOT / "build" / "plugins")).resolve()


@pytest.fixture(scope="module")
def plugin_dir():
    if "PETREL_PLUGIN_DIR" not in os.environ:
        subprocess.run(["make", "-C", str(ROOT), "plugins"], check=True, capture_output=True)
    return str(PLUGIN_DIR)


def queue_count(producer, topic):
    """The topic's queue count as the producer sees it (learned through a callback selector)."""
    seen = []
    producer.send_selected(topic, b"probe", lambda count, _message, _argument: seen.append(count) or 0)
    return seen[0]


def test_selector_hash_lands_on_order_id_modulo_queues(fast_broker, plugin_dir):
    topic = unique("PyPluginOrders")
    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer, \
            petrel.SelectorPlugin("selector-hash", plugin_directory=plugin_dir) as by_name, \
            petrel.SelectorPlugin(f"{plugin_dir}/selector-hash.so") as by_path:
        queues = queue_count(producer, topic)
        for order_id in [0, 1, 2, 3, 5, 6, 11, 1_000_003, 42]:
            result = producer.send_plugin_selected(topic, f"order-{order_id}", by_name, order_id)
            assert result.queue_id == order_id % queues
            assert producer.send_plugin_selected(topic, b"again", by_path, order_id).queue_id == order_id % queues
        first = producer.send_plugin_selected(topic, b"k", by_name, "customer-7")
        assert producer.send_plugin_selected(topic, b"k", by_path, "customer-7").queue_id == first.queue_id
        with pytest.raises(petrel.InvalidArgumentError):
            producer.send_plugin_selected(topic, b"x", by_name, 1.5)  # type: ignore[arg-type]


def test_broken_plugins_raise_with_their_reason(fast_broker, plugin_dir):
    with pytest.raises(petrel.PluginError, match="cannot start with config 'nope'"):
        petrel.SelectorPlugin("broken-init-failure", config="nope", plugin_directory=plugin_dir)
    with pytest.raises(petrel.PluginError, match="broken-abi-major"):
        petrel.SelectorPlugin("broken-abi-major", plugin_directory=plugin_dir)
    with pytest.raises(petrel.PluginError, match="virtual-nodes"):
        petrel.PushConsumer(fast_broker.namesrv_addr, unique("CG"), plugin_directory=plugin_dir,
                            allocation_plugin="allocate-consistent-hash", allocation_plugin_config="virtual-nodes=x")
    with pytest.raises(petrel.PluginError, match="broken-abi-major"):
        petrel.PullConsumer(fast_broker.namesrv_addr, unique("CG"), plugin_directory=plugin_dir,
                            compressor_plugin="broken-abi-major")
    # The process keeps running: good plugins still load.
    petrel.PullConsumer(fast_broker.namesrv_addr, unique("CG"), plugin_directory=plugin_dir,
                        compressor_plugin="compress-zstd").close()
    with petrel.SelectorPlugin("selector-hash", plugin_directory=plugin_dir):
        pass


def test_consistent_hash_consumers_own_each_queue_once(fast_broker, plugin_dir):
    topic, group = unique("PyPluginAllocation"), unique("CG")
    lock = threading.Lock()
    owners = {}  # (round, queue) -> set of consumer indexes

    def listener_for(index):
        def listener(message):
            round_text, queue_text = message.body.decode().split("/")
            with lock:
                owners.setdefault((int(round_text), int(queue_text)), set()).add(index)
                assert message.queue_id == int(queue_text)
        return listener

    with petrel.Producer(fast_broker.namesrv_addr, unique("PG")) as producer, \
            petrel.SelectorPlugin("selector-hash", plugin_directory=plugin_dir) as selector:
        queues = queue_count(producer, topic)
        consumers = []
        for index in range(2):
            consumer = petrel.PushConsumer(fast_broker.namesrv_addr, group, listener=listener_for(index),
                                           consume_from=petrel.ConsumeFrom.FIRST_OFFSET, plugin_directory=plugin_dir,
                                           allocation_plugin="allocate-consistent-hash")
            consumer.subscribe(topic, "*")
            consumer.start()
            consumers.append(consumer)
        try:
            previous = None
            for round_number in range(60):
                for queue in range(queues):
                    producer.send_plugin_selected(topic, f"{round_number}/{queue}", selector,
                                                  queue + round_number * queues)
                wait_until(lambda: all((round_number, queue) in owners for queue in range(queues)), timeout=20)
                with lock:
                    current = [frozenset(owners[(round_number, queue)]) for queue in range(queues)]
                if all(len(owner) == 1 for owner in current) and current == previous:
                    break
                previous = current
            else:
                pytest.fail(f"no two rounds in a row gave every queue to exactly one consumer: {owners}")
        finally:
            for consumer in consumers:
                consumer.close()
