"""A minimal RocketMQ remoting client over a raw socket: for admin requests the C++ wrapper does not
expose (create topic) and for feeding the broker malformed frames."""
import json
import socket
import struct


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
