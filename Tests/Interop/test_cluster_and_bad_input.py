"""Two brokers under one name server; and malformed input over raw sockets."""
import socket
import struct
import subprocess
import threading

from clients import make_message, pull_all, start_producer, unique
from conftest import BIN_DIR, BrokerProcess, free_port, wait_until
import remoting


def start_name_server(port):
    process = subprocess.Popen([str(BIN_DIR / "petrel-namesrv"), "--listen-port", str(port), "--host", "127.0.0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    threading.Thread(target=lambda: [ready.set() for line in process.stdout if "listening" in line], daemon=True).start()
    assert ready.wait(30), "petrel-namesrv did not start"
    return process


def test_topic_on_two_brokers_spreads_and_survives_one_broker_dying(tmp_path):
    namesrv_port = free_port()
    namesrv = start_name_server(namesrv_port)
    address = f"127.0.0.1:{namesrv_port}"
    first = BrokerProcess(tmp_path / "a", free_port(), namesrv_addr=address, broker_name="broker-a").start()
    second = BrokerProcess(tmp_path / "b", free_port(), namesrv_addr=address, broker_name="broker-b").start()
    topic = unique("TopicTwo")
    try:
        remoting.create_topic(f"127.0.0.1:{first.listen_port}", topic)
        remoting.create_topic(f"127.0.0.1:{second.listen_port}", topic)
        producer = start_producer(address)
        for index in range(40):
            assert producer.send_sync(make_message(topic, f"m{index}".encode())).status == 0
        first.kill()
        successes = sum(1 for index in range(20)
                        if producer.send_sync(make_message(topic, f"after-{index}".encode())).status == 0)
        producer.shutdown()
        assert successes == 20, "producers keep succeeding on the surviving broker"
        survivors = wait_until(lambda: (lambda s: s if len(s) >= 20 else None)(pull_all(address, topic)), timeout=60,
                               message="messages readable from broker-b")
        bodies = {entry[0] for entry in survivors}
        assert {f"after-{index}".encode() for index in range(20)} <= bodies
        assert any(body.startswith(b"m") for body in bodies), "the first 40 were spread over both brokers"
    finally:
        second.stop()
        first.stop()
        namesrv.terminate()
        namesrv.wait(30)


def test_malformed_frames_close_only_their_connection(broker):
    address = f"127.0.0.1:{broker.listen_port}"
    bad_inputs = [
        b"GET / HTTP/1.1\r\n\r\n",
        struct.pack(">I", 64 * 1024 * 1024) + b"\x00" * 8,
        struct.pack(">I", 100) + b"\x00\x00\x00\x05abc",
        remoting.frame(b"{broken json"),
    ]
    for payload in bad_inputs:
        with socket.create_connection(("127.0.0.1", broker.listen_port), timeout=10) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        header, _ = remoting.invoke(address, 30, {"topic": "TBW102", "queueId": 0})  # GET_MAX_OFFSET still served
        assert header["flag"] == 1
    header, _ = remoting.invoke(address, 9999)
    assert header["code"] == 3 and "9999" in header.get("remark", "")
    header, _ = remoting.invoke(address, 30, {"queueId": 0})
    assert header["code"] != 0 and "topic" in header.get("remark", "")


def test_bad_configuration_stops_start_up_naming_the_key(store_dir):
    result = subprocess.run([str(BIN_DIR / "petrel-broker"), "--storePathRootDir", str(store_dir), "--flushDiskTyp", "SYNC_FLUSH"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'flushDiskTyp'" in result.stderr and "did you mean 'flushDiskType'" in result.stderr
    conf = store_dir / "broker.conf"
    conf.write_text("brokerName=broker-x\nlistenPort=notaport\n")
    result = subprocess.run([str(BIN_DIR / "petrel-broker"), "-c", str(conf)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "listenPort" in result.stderr
