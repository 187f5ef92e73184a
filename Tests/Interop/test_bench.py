"""petrel-bench produce and consume against a real broker: small runs, checked through --json.

These are smoke tests of the load generator (every mode completes without errors and reports the
fields compare.sh reads), not speed tests: no figure is compared with a threshold.
"""
import json
import subprocess

import pytest

from conftest import BIN_DIR

JSON_FIELDS = {"msgs", "secs", "msgs_per_s", "MBps", "p50_us", "p99_us", "p999_us", "errors"}


def bench(broker, *arguments):
    """Runs petrel-bench with --json and returns its one JSON object."""
    command = [str(BIN_DIR / "petrel-bench"), *arguments, "--namesrv", broker.namesrv_addr, "--json"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert JSON_FIELDS <= report.keys(), report
    return report


@pytest.mark.parametrize("mode,in_flight", [("sync", 1), ("async", 16), ("batch", 2)])
def test_produce_modes_then_consume_reads_every_message(broker, mode, in_flight):
    topic = f"BenchSmoke_{mode}"
    sent = bench(broker, "produce", "--topic", topic, "--messages", "300", "--message-size", "100",
                 "--mode", mode, "--in-flight", str(in_flight), "--producers", "2", "--batch", "7")
    assert sent["msgs"] == 300 and sent["errors"] == 0 and sent["mode"] == mode
    assert sent["producers"] == 2 and sent["in_flight"] == in_flight
    assert 0 < sent["p50_us"] <= sent["p99_us"] <= sent["p999_us"]

    # The warm-up message of each producer (1 byte) is stored too: 302 in all. consume waits for
    # the broker's asynchronous indexing itself (--wait-seconds).
    read = bench(broker, "consume", "--topic", topic, "--messages", "302", "--in-flight", "4", "--pull-size", "16")
    assert read["msgs"] == 302 and read["errors"] == 0
    assert read["MBps"] > 0 and 0 < read["p50_us"] <= read["p99_us"]


def test_consume_more_than_stored_fails_with_a_clear_message(broker):
    bench(broker, "produce", "--topic", "BenchShort", "--messages", "10", "--message-size", "10")
    command = [str(BIN_DIR / "petrel-bench"), "consume", "--topic", "BenchShort", "--messages", "1000",
               "--wait-seconds", "1", "--namesrv", broker.namesrv_addr]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert "fewer than --messages 1000" in completed.stderr


def payload_lines(*arguments):
    """The bodies `petrel-bench payload` prints, one per line."""
    command = [str(BIN_DIR / "petrel-bench"), "payload", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


def test_json_events_are_varied_json_of_200_to_1000_bytes():
    events = payload_lines("--payload", "json-events", "--count", "2000")
    assert len(events) == 2000
    sizes = [len(event.encode()) for event in events]
    assert all(200 <= size <= 1000 for size in sizes), (min(sizes), max(sizes))
    parsed = [json.loads(event) for event in events]
    kinds = {event["eventType"].split(".")[0] for event in parsed}
    assert kinds == {"user", "order", "device", "session"}
    assert len(set(sizes)) > 300 and min(sizes) < 300 and max(sizes) > 800, "sizes spread over the range"
    assert len(set(events)) == 2000 and len({event["eventId"] for event in parsed}) == 2000
    assert any("coupon" in event for event in parsed) and not all("coupon" in event for event in parsed)
    # Deterministic per seed, different across seeds.
    assert payload_lines("--payload", "json-events", "--count", "2000") == events
    assert payload_lines("--payload", "json-events", "--count", "50", "--payload-seed", "2") != events[:50]


def test_produce_sends_json_events(broker):
    sent = bench(broker, "produce", "--topic", "BenchJson", "--messages", "300", "--payload", "json-events",
                 "--mode", "async", "--in-flight", "8")
    assert sent["msgs"] == 300 and sent["errors"] == 0 and sent["payload"] == "json-events"
    expected = sum(len(event.encode()) for event in payload_lines("--payload", "json-events", "--count", "300"))
    assert sent["payload_bytes"] == expected
    assert 200 <= sent["size"] <= 1000
