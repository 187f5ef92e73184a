"""The C API (include/petrel.h, libpetrel.so): header compiles as C99 and C++17, exports match the
header, the library needs no Swift runtime, and the C test program (Tests/CAPI) exercises every
function against a real petrel-broker.

libpetrel.so comes from PETREL_LIB_DIR (default: PETREL_BIN_DIR, where `swift build --product petrel` puts it).
"""
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import remoting
from conftest import BIN_DIR, ROOT, BrokerProcess, free_port

LIB_DIR = Path(os.environ.get("PETREL_LIB_DIR", BIN_DIR))
LIBRARY = LIB_DIR / "libpetrel.so"
HEADER = ROOT / "include" / "petrel.h"
PLUGIN_DIR = Path(os.environ.get("PETREL_PLUGIN_DIR", ROOT / "build" / "plugins")).resolve()
SOURCES = sorted((ROOT / "Tests" / "CAPI").glob("*.c"))
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
# Retries come back after 1 s instead of 10 s, transactions are checked after 1 s instead of 6 s.
BROKER_OPTIONS = [
    "--messageDelayLevel", " ".join(["1s"] * 18),
    "--transactionCheckInterval", "500", "--transactionTimeOut", "1000",
]


def run(arguments, **options):
    """Runs a command, failing the test with its output when it fails."""
    completed = subprocess.run(arguments, capture_output=True, text=True, **options)
    if completed.returncode != 0:
        pytest.fail(f"{' '.join(map(str, arguments))} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}")
    return completed


@pytest.fixture(scope="module")
def library():
    if not LIBRARY.exists():
        pytest.fail(f"{LIBRARY} is missing: build it with `swift build --product petrel` (or `make lib`)")
    return LIBRARY


@pytest.mark.parametrize("compiler,standard,suffix", [("gcc", "-std=c99", "c"), ("g++", "-std=c++17", "cpp")])
def test_header_compiles_strictly(tmp_path, compiler, standard, suffix):
    source = tmp_path / f"header.{suffix}"
    source.write_text('#include "petrel.h"\nint main(void) { return petrel_version() == 0; }\n')
    run([compiler, standard, "-pedantic", *WARNINGS, "-I", str(HEADER.parent), "-c", str(source), "-o", str(tmp_path / "header.o")])


def test_exports_equal_header(library):
    completed = subprocess.run(
        [sys.executable, str(ROOT / "Tests" / "CAPI" / "check_exports.py"), str(HEADER), str(library)],
        capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_library_needs_no_swift_runtime(library):
    needed = run(["ldd", str(library)]).stdout
    for runtime in ("libswiftCore", "libFoundation", "libdispatch", "libswift_Concurrency"):
        assert runtime not in needed, needed


def test_c_program_against_broker(library, store_dir, tmp_path):
    program = tmp_path / "capi_test"
    run(["gcc", "-std=c99", *WARNINGS, "-D_POSIX_C_SOURCE=200809L", "-I", str(HEADER.parent), *map(str, SOURCES),
         "-L", str(library.parent), "-lpetrel", "-lpthread", f"-Wl,-rpath,{library.parent}", "-o", str(program)])
    if "PETREL_PLUGIN_DIR" not in os.environ:
        run(["make", "-C", str(ROOT), "plugins"])
    broker = BrokerProcess(store_dir, free_port(), namesrv_port=free_port(), extra=BROKER_OPTIONS).start()
    try:
        environment = dict(os.environ, PETREL_NAMESRV=broker.namesrv_addr, PETREL_PLUGIN_DIR=str(PLUGIN_DIR))
        completed = subprocess.run([str(program)], capture_output=True, text=True, env=environment, timeout=600)
        report = completed.stdout + completed.stderr
        assert completed.returncode == 0, report
        assert "all checks passed" in completed.stdout, report
        # Library logs never reach standard output: by default warnings and up go to standard error, and
        # the info records of the logging test (threshold INFO, default handler) went there too.
        assert "client instance started" not in completed.stdout, report
        assert "petrel INFO petrel.client: client instance started" in completed.stderr, report
        check_compression_levels(broker, completed.stdout)
    finally:
        broker.stop()


def stored_body(broker, offset_message_id):
    """The sysFlag and stored body length of the record an offset message id names (VIEW_MESSAGE_BY_ID)."""
    commit_log_offset = struct.unpack(">q", bytes.fromhex(offset_message_id)[8:16])[0]
    header, record = remoting.invoke(f"127.0.0.1:{broker.listen_port}", 33, {"offset": commit_log_offset})
    assert header["code"] == 0, header
    # IPv4 record: sysFlag at 36; the body length follows the 84 bytes of fixed fields before it.
    return struct.unpack_from(">i", record, 36)[0], struct.unpack_from(">i", record, 84)[0]


def check_compression_levels(broker, stdout):
    """petrel_producer_options.compression_level reaches the wire: the same word soup sent at level 1 and
    level 9 (Tests/CAPI/capi_producer.c) is stored compressed (sysFlag bit 0) and smaller at 9."""
    line = next(line for line in stdout.splitlines() if line.startswith("compression-level-ids "))
    fastest, best = (stored_body(broker, message_id) for message_id in line.split()[1:3])
    assert fastest[0] & 1 and best[0] & 1, (fastest, best)
    assert best[1] < fastest[1] * 0.95, (fastest, best)
