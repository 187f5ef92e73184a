"""examples/ (C, C++, Python): each example is built and run against a real broker, and its output checked."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, BrokerProcess, free_port
from petrel_python import FAST_BROKER_OPTIONS, HEADER, LIBRARY, PYTHON_SOURCE

EXAMPLES = ROOT / "examples"
NAMES = ["send_and_consume", "ordered_selector", "transaction_checkback"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
# Lines every language's example prints (besides "<name>: OK").
EXPECTED = {
    "send_and_consume": [f"received hello {index} tags=greeting keys=order-{index} language=" for index in range(3)],
    "ordered_selector": [f"order {order}: created -> paid -> shipped -> delivered" for order in (101, 102, 103)],
    "transaction_checkback": ["pay-1: local transaction COMMIT", "pay-2: local transaction UNKNOWN",
                              "pay-3: local transaction ROLLBACK", "check-back for pay-2: commit",
                              "consumed: pay-1 pay-2"],
}


@pytest.fixture(scope="module")
def example_broker():
    """One broker for every example (each uses topics and groups named after its process id)."""
    store = Path(tempfile.mkdtemp(prefix="petrel-examples-"))
    broker = BrokerProcess(store, free_port(), namesrv_port=free_port(), extra=FAST_BROKER_OPTIONS).start()
    yield broker
    broker.stop()
    shutil.rmtree(store, ignore_errors=True)


def build(language, name, output):
    """Compiles a C or C++ example against the header(s) and libpetrel.so; returns the command to run it."""
    if language == "python":
        return [sys.executable, str(EXAMPLES / "python" / f"{name}.py")]
    compiler = ["gcc", "-std=c99", "-D_POSIX_C_SOURCE=200809L"] if language == "c" else ["g++", "-std=c++17"]
    source = EXAMPLES / language / f"{name}.{'c' if language == 'c' else 'cpp'}"
    command = [*compiler, *WARNINGS, "-I", str(HEADER.parent), "-I", str(ROOT / "bindings" / "cpp"), str(source),
               "-L", str(LIBRARY.parent), "-lpetrel", "-lpthread", f"-Wl,-rpath,{LIBRARY.parent}", "-o", str(output)]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return [str(output)]


@pytest.mark.parametrize("language", ["c", "cpp", "python"])
@pytest.mark.parametrize("name", NAMES)
def test_example_runs(example_broker, tmp_path, language, name):
    command = build(language, name, tmp_path / name)
    environment = dict(os.environ, PETREL_NAMESRV=example_broker.namesrv_addr, PETREL_LIBRARY=str(LIBRARY),
                       PYTHONPATH=str(PYTHON_SOURCE))
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    report = f"{completed.stdout}\n{completed.stderr[-5000:]}"
    assert completed.returncode == 0, report
    lines = completed.stdout.splitlines()
    assert lines[-1] == f"{name}: OK", report
    for expected in EXPECTED[name]:
        assert any(line.startswith(expected) for line in lines), f"missing {expected!r}:\n{report}"
