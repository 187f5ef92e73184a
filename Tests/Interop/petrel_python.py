"""The Petrel Python binding (bindings/python/src) for the interop tests, loaded against the library built
in this tree: $PETREL_LIB_DIR/libpetrel.so (default: PETREL_BIN_DIR, where `swift build --product petrel`
puts it). Also the broker fixture these tests share."""
import os
import sys
from pathlib import Path

import pytest

from conftest import BIN_DIR, ROOT, BrokerProcess, free_port

# Absolute: builds (pip, the compilers' rpath) run from other directories.
LIB_DIR = Path(os.environ.get("PETREL_LIB_DIR", BIN_DIR)).resolve()
LIBRARY = LIB_DIR / "libpetrel.so"
PYTHON_SOURCE = ROOT / "bindings" / "python" / "src"
HEADER = ROOT / "include" / "petrel.h"
# Retries come back after 1 s instead of 10 s, transactions are checked after 1 s instead of 6 s.
FAST_BROKER_OPTIONS = [
    "--messageDelayLevel", " ".join(["1s"] * 18),
    "--transactionCheckInterval", "500", "--transactionTimeOut", "1000",
]

if not LIBRARY.exists():
    raise RuntimeError(f"{LIBRARY} is missing: build it with `swift build --product petrel` (or `make lib`)")
os.environ["PETREL_LIBRARY"] = str(LIBRARY)
sys.path.insert(0, str(PYTHON_SOURCE))

import petrel  # noqa: E402  (needs the path and library set above)


@pytest.fixture
def fast_broker(store_dir):
    """A broker with 1 s retry delays and 1 s transaction check-backs; `.namesrv_addr` for clients."""
    process = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(), extra=FAST_BROKER_OPTIONS).start()
    yield process
    process.stop()


def pull_everything(namesrv_addr, topic, expression="*"):
    """Every message of `topic`, read with the binding's pull consumer from offset 0 of each queue
    ([] while the name server has no route for the topic yet: the broker registers new topics a moment later)."""
    with petrel.PullConsumer(namesrv_addr, f"CG_read_{topic}") as consumer:
        messages = []
        try:
            queues = consumer.fetch_queues(topic)
        except petrel.NoRouteError:
            return []
        for queue in queues:
            offset = 0
            while True:
                result = consumer.pull(queue, offset, expression)
                if not result.found:
                    break
                messages.extend(result.messages)
                offset = result.next_offset
        return messages
