"""A minimal RocketMQ remoting client over a raw socket: for admin requests the C++ wrapper does not
expose (create topic) and for feeding the broker malformed frames."""
import json
import socket
import struct
import threading


def frame(header, body=b"", serialize_type=0):
    """length | type<<24 | headerLength | header | body, as spec §1 lays it out."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack(">II", 4 + len(header_bytes) + len(body), (serialize_type << 24) | len(header_bytes)) + header_bytes + body


def read_frame(sock):
    """One whole response frame → (header dict, body bytes); raises ConnectionError when the peer closes."""
    length = struct.unpack(">I", read_exactly(sock, 4))[0]
    payload = read_exactly(sock, length)
    header_length = struct.unpack(">I", payload[:4])[0] & 0xFFFFFF
    return json.loads(payload[4:4 + header_length]), payload[4 + header_length:]


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        data += chunk
    return data


def invoke(address, code, ext=None, body=b"", opaque=1, timeout=10.0):
    """Sends one request and returns (header, body) of the response."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        header = {"code": code, "language": "PYTHON", "version": 409, "opaque": opaque, "flag": 0,
                  "extFields": {k: str(v) for k, v in (ext or {}).items()}}
        sock.sendall(frame(header, body))
        return read_frame(sock)


def create_topic(broker_address, topic, queues=4, perm=6):
    """UPDATE_AND_CREATE_TOPIC (17) on one broker."""
    header, _ = invoke(broker_address, 17, {"topic": topic, "defaultTopic": "TBW102", "readQueueNums": queues,
                                            "writeQueueNums": queues, "perm": perm, "topicFilterType": "SINGLE_TAG",
                                            "topicSysFlag": 0, "order": "false"})
    assert header["code"] == 0, header


class Connection:
    """A long-lived connection, as a producer keeps one: requests are matched to responses by opaque,
    and requests the broker sends (CHECK_TRANSACTION_STATE, 39) are collected in `received`."""

    def __init__(self, address, timeout=10.0):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.settimeout(None)
        self.timeout = timeout
        self.next_opaque = 1000
        self.responses = {}
        self.received = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            while True:
                header, body = read_frame(self.sock)
                with self.changed:
                    if header.get("flag", 0) & 1:
                        self.responses[header["opaque"]] = (header, body)
                    else:
                        self.received.append((header, body))
                    self.changed.notify_all()
        except (ConnectionError, OSError):
            with self.changed:
                self.changed.notify_all()

    def _send(self, code, ext, body, flag):
        with self.changed:
            self.next_opaque += 1
            opaque = self.next_opaque
        header = {"code": code, "language": "PYTHON", "version": 409, "opaque": opaque, "flag": flag,
                  "extFields": {k: str(v) for k, v in (ext or {}).items()}}
        self.sock.sendall(frame(header, body))
        return opaque

    def request(self, code, ext=None, body=b""):
        """Sends a request and waits (bounded) for its response: (header, body)."""
        opaque = self._send(code, ext, body, 0)
        with self.changed:
            if not self.changed.wait_for(lambda: opaque in self.responses, timeout=self.timeout):
                raise TimeoutError(f"no response to request code {code}")
            return self.responses.pop(opaque)

    def oneway(self, code, ext=None, body=b""):
        """Sends a request with the oneway flag: the broker answers nothing."""
        self._send(code, ext, body, 2)

    def requests_with_code(self, code):
        """The broker's requests with `code` received so far, as (header, body) pairs."""
        with self.changed:
            return [entry for entry in self.received if entry[0]["code"] == code]

    def heartbeat(self, client_id, producer_group):
        """HEART_BEAT registering this connection as a producer of `producer_group`."""
        body = json.dumps({"clientID": client_id, "producerDataSet": [{"groupName": producer_group}],
                           "consumerDataSet": []}).encode()
        header, _ = self.request(34, body=body)
        assert header["code"] == 0, header

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
