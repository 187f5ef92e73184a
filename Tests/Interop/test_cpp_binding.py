"""The C++ wrapper (bindings/cpp/petrel.hpp): compiles as strict C++17 and its test program
(bindings/cpp/tests) passes against a real petrel-broker."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, BrokerProcess, free_port
from test_c_api import check_compression_levels
from petrel_python import FAST_BROKER_OPTIONS, HEADER, LIBRARY

WRAPPER = ROOT / "bindings" / "cpp"
SOURCES = sorted((WRAPPER / "tests").glob("*.cpp"))
PLUGIN_DIR = Path(os.environ.get("PETREL_PLUGIN_DIR", ROOT / "build" / "plugins")).resolve()
FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(HEADER.parent), "-I", str(WRAPPER)]


def run(arguments, **options):
    """Runs a command, failing the test with its output when it fails."""
    completed = subprocess.run(arguments, capture_output=True, text=True, **options)
    if completed.returncode != 0:
        pytest.fail(f"{' '.join(map(str, arguments))} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}")
    return completed


def test_wrapper_header_alone_compiles_strictly(tmp_path):
    source = tmp_path / "only_header.cpp"
    source.write_text('#include "petrel.hpp"\nint main() { return petrel::version().empty(); }\n')
    run(["g++", *FLAGS, "-c", str(source), "-o", str(tmp_path / "only_header.o")])


def test_the_wrapper_calls_every_function():
    from test_python_binding import header_functions
    source = "\n".join(path.read_text() for path in (WRAPPER / "petrel").glob("*.hpp"))
    unused = sorted(name for name in header_functions() if f"{name}(" not in source.replace(f"{name}(void", ""))
    assert unused == []


def test_cpp_program_against_broker(store_dir, tmp_path):
    program = tmp_path / "petrel_cpp_test"
    run(["g++", *FLAGS, *map(str, SOURCES), "-L", str(LIBRARY.parent), "-lpetrel", "-lpthread",
         f"-Wl,-rpath,{LIBRARY.parent}", "-o", str(program)])
    if "PETREL_PLUGIN_DIR" not in os.environ:
        run(["make", "-C", str(ROOT), "plugins"])
    broker = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(), extra=FAST_BROKER_OPTIONS).start()
    try:
        environment = dict(os.environ, PETREL_NAMESRV=broker.namesrv_addr, PETREL_PLUGIN_DIR=str(PLUGIN_DIR))
        completed = subprocess.run([str(program)], capture_output=True, text=True, env=environment, timeout=600)
        report = completed.stdout + completed.stderr[-20000:]
        assert completed.returncode == 0, report
        assert "all checks passed" in completed.stdout, report
        check_compression_levels(broker, completed.stdout)
        # The throwing callbacks were reported, not propagated.
        assert "listener threw: listener failure on purpose" in completed.stderr
        assert "send_async callback threw: callback failure on purpose" in completed.stderr
        assert "log handler threw: log handler failure on purpose" in completed.stderr
        # The library's own records never go to standard output.
        assert "client instance started" not in completed.stdout
    finally:
        broker.stop()
