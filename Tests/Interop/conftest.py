"""Interop tests: the official RocketMQ C++ client (PyPI rocketmq==0.4.4) against real Petrel binaries.

Each test starts `petrel-broker` (with its embedded name server) on free 127.0.0.1 ports with a
temporary store, and stops it by pid. Binaries come from PETREL_BIN_DIR (default .build/debug).
"""
import os
import shutil
import signal
import random
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("PETREL_BIN_DIR", ROOT / ".build" / "debug"))


def free_port():
    """A free port on 127.0.0.1 below Linux's ephemeral range (32768-60999), so no outgoing
    connection can take it before the child process binds it."""
    for _ in range(100):
        port = random.randint(20000, 31999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-31999")


def wait_until(condition, timeout=60.0, interval=0.05, message="condition"):
    """Polls `condition` until it is truthy or `timeout` passes; fails the test with `message` then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


class BrokerProcess:
    """One `petrel-broker` process: started with `key value` options, stopped by pid."""

    def __init__(self, store_dir, listen_port, namesrv_port=None, namesrv_addr=None, broker_name="broker-a", extra=None):
        self.store_dir = store_dir
        self.listen_port = listen_port
        self.namesrv_port = namesrv_port
        self.namesrv_addr = namesrv_addr or f"127.0.0.1:{namesrv_port}"
        self.arguments = [
            str(BIN_DIR / "petrel-broker"),
            "--brokerName", broker_name,
            "--listenPort", str(listen_port),
            "--storePathRootDir", str(store_dir),
            "--brokerIP1", "127.0.0.1",
            "--mappedFileSizeCommitLog", str(64 * 1024 * 1024),
        ]
        if namesrv_addr:
            self.arguments += ["-n", namesrv_addr]
        else:
            self.arguments += ["--namesrvListenPort", str(namesrv_port)]
        self.arguments += extra or []
        self.process = None
        self.output = []

    def start(self, timeout=60.0):
        self.process = subprocess.Popen(self.arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def pump():
            for line in self.process.stdout:
                self.output.append(line)
                if "listening on" in line and "petrel-broker" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("petrel-broker did not start:\n" + "".join(self.output))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.kill(self.process.pid, sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("petrel-broker did not stop on signal %s:\n%s" % (sig, "".join(self.output)))

    def kill(self):
        return self.stop(signal.SIGKILL)


@pytest.fixture
def store_dir():
    directory = tempfile.mkdtemp(prefix="petrel-interop-")
    yield Path(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def broker(store_dir):
    """A running broker with its embedded name server; `broker.namesrv_addr` is what clients use."""
    process = BrokerProcess(store_dir, free_port(), namesrv_port=free_port()).start()
    yield process
    process.stop()
