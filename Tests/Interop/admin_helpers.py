"""petrel-admin run as a process, for tests other than test_admin.py."""
import json
import subprocess

from conftest import BIN_DIR


def admin(broker, *arguments, expect=0):
    """Runs petrel-admin with `-n` and returns the completed process; checks the exit code."""
    command = [str(BIN_DIR / "petrel-admin"), *arguments, "-n", broker.namesrv_addr]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == expect, (command, result.returncode, result.stdout, result.stderr)
    return result


def admin_json(broker, *arguments):
    """Runs petrel-admin with --json and parses its one JSON document."""
    return json.loads(admin(broker, *arguments, "--json").stdout)


def route_of(broker, topic):
    """The topic route as JSON, or None while the name server does not know the topic."""
    result = subprocess.run(
        [str(BIN_DIR / "petrel-admin"), "topicRoute", "-t", topic, "--json", "-n", broker.namesrv_addr],
        capture_output=True, text=True, timeout=30)
    return json.loads(result.stdout) if result.returncode == 0 else None
