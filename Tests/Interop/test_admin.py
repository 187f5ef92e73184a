"""petrel-admin, the mqadmin-style tool, run as a process against a broker with its embedded name server.

Every implemented subcommand is run with and without --json; the JSON is parsed and its values checked.
"""
import json
import subprocess
import uuid

import remoting
from conftest import BIN_DIR, wait_until

CLUSTER = "DefaultCluster"


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def admin(broker, *arguments, namesrv=None, expect=0):
    """Runs petrel-admin with `-n` and returns the completed process; checks the exit code."""
    command = [str(BIN_DIR / "petrel-admin"), *arguments, "-n", namesrv or broker.namesrv_addr]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == expect, (command, result.returncode, result.stdout, result.stderr)
    return result


def admin_json(broker, *arguments):
    """Runs petrel-admin with --json and parses its one JSON document."""
    return json.loads(admin(broker, *arguments, "--json").stdout)


def broker_address(broker):
    return f"127.0.0.1:{broker.listen_port}"


def route_of(broker, topic):
    """The topic route as JSON, or None while the name server does not know the topic."""
    result = subprocess.run(
        [str(BIN_DIR / "petrel-admin"), "topicRoute", "-t", topic, "--json", "-n", broker.namesrv_addr],
        capture_output=True, text=True, timeout=30)
    return json.loads(result.stdout) if result.returncode == 0 else None


def create_topic(broker, topic, queues=2):
    admin(broker, "updateTopic", "-t", topic, "-c", CLUSTER, "-r", str(queues), "-w", str(queues))
    wait_until(lambda: route_of(broker, topic) is not None, timeout=10, message=f"route of {topic}")


def test_cluster_list_topic_list_update_route_status_and_delete(broker):
    clusters = admin_json(broker, "clusterList")["clusters"]
    assert clusters[0]["cluster"] == CLUSTER
    assert clusters[0]["brokers"][0] == {"brokerName": "broker-a", "brokerId": 0, "address": broker_address(broker)}
    assert broker_address(broker) in admin(broker, "clusterList").stdout

    topic = unique("AdminTopic")
    created = admin_json(broker, "updateTopic", "-t", topic, "-c", CLUSTER, "-r", "3", "-w", "5", "-p", "6")
    assert created["brokers"] == [broker_address(broker)]
    assert created["topicConfig"]["readQueueNums"] == 3
    wait_until(lambda: route_of(broker, topic) is not None, timeout=10, message="route after updateTopic")
    queue_data = route_of(broker, topic)["queueDatas"][0]
    assert (queue_data["brokerName"], queue_data["readQueueNums"], queue_data["writeQueueNums"], queue_data["perm"]) == (
        "broker-a", 3, 5, 6)
    assert "broker-a" in admin(broker, "topicRoute", "-t", topic).stdout

    text = admin(broker, "updateTopic", "-t", topic, "-b", broker_address(broker), "-r", "4", "-w", "4").stdout
    assert "success" in text
    wait_until(lambda: route_of(broker, topic)["queueDatas"][0]["readQueueNums"] == 4, timeout=10, message="updated route")

    assert topic in admin_json(broker, "topicList")["topics"]
    assert topic in admin(broker, "topicList").stdout.split()

    admin(broker, "sendMessage", "-t", topic, "-p", "status", "-i", "2")
    # Consume queues are filled asynchronously after the append: await the unit.
    queues = wait_until(lambda: (lambda result: result if result[2]["maxOffset"] == 1 else None)(
        admin_json(broker, "topicStatus", "-t", topic)["queues"]), timeout=10, message="queue 2 to hold the message")
    assert [(q["queueId"], q["minOffset"], q["maxOffset"]) for q in queues] == [(0, 0, 0), (1, 0, 0), (2, 0, 1), (3, 0, 0)]
    assert queues[2]["lastUpdateTimestamp"] > 0 and queues[0]["lastUpdateTimestamp"] == 0
    assert "#Max Offset" in admin(broker, "topicStatus", "-t", topic).stdout

    deleted = admin_json(broker, "deleteTopic", "-t", topic, "-c", CLUSTER)
    assert deleted["brokers"] == [broker_address(broker)]
    assert route_of(broker, topic) is None
    other = unique("AdminTopic")
    create_topic(broker, other)
    assert "success" in admin(broker, "deleteTopic", "-t", other, "-c", CLUSTER).stdout
    assert route_of(broker, other) is None


def test_send_query_and_consume_messages(broker):
    topic = unique("AdminMsg")
    key = unique("key")
    create_topic(broker, topic, queues=2)
    sent = admin_json(broker, "sendMessage", "-t", topic, "-p", "hello admin", "-k", key, "-c", "TagA")
    assert (sent["sendStatus"], sent["queueId"], sent["queueOffset"]) == ("SEND_OK", 0, 0)
    assert "SEND_OK" in admin(broker, "sendMessage", "-t", topic, "-p", "second body", "-k", f"{key} other", "-i", "1").stdout

    # The key index is filled asynchronously after the append: await it.
    found = wait_until(lambda: (lambda result: result if result["count"] == 2 else None)(
        admin_json(broker, "queryMsgByKey", "-t", topic, "-k", key)), timeout=10, message="both messages in the key index")
    assert found["count"] == 2
    assert sorted(m["body"] for m in found["messages"]) == ["hello admin", "second body"]
    assert sent["msgId"] in {m["msgId"] for m in found["messages"]}
    assert "hello admin" in admin(broker, "queryMsgByKey", "-t", topic, "-k", key).stdout
    assert admin_json(broker, "queryMsgByKey", "-t", topic, "-k", "no-such-key")["count"] == 0
    by_unique_key = admin_json(broker, "queryMsgByKey", "-t", topic, "-k", sent["uniqKey"])["messages"]
    assert [m["body"] for m in by_unique_key] == ["hello admin"]

    by_id = admin_json(broker, "queryMsgById", "-i", sent["msgId"])
    assert (by_id["body"], by_id["tags"], by_id["keys"], by_id["topic"]) == ("hello admin", "TagA", [key], topic)
    assert "hello admin" in admin(broker, "queryMsgById", "-i", sent["msgId"]).stdout

    by_offset = admin_json(broker, "queryMsgByOffset", "-t", topic, "-b", "broker-a", "-i", "1", "-o", "0")
    assert (by_offset["body"], by_offset["queueId"], by_offset["queueOffset"]) == ("second body", 1, 0)
    assert "second body" in admin(broker, "queryMsgByOffset", "-t", topic, "-b", "broker-a", "-i", "1", "-o", "0").stdout
    missing = admin(broker, "queryMsgByOffset", "-t", topic, "-b", "broker-a", "-i", "1", "-o", "7", expect=1)
    assert "no message at offset 7" in missing.stderr

    consumed = admin(broker, "consumeMessage", "-t", topic).stdout
    assert "hello admin" in consumed and "second body" in consumed
    only_queue_1 = admin_json(broker, "consumeMessage", "-t", topic, "-q", "1")
    assert [m["body"] for m in only_queue_1["messages"]] == ["second body"]
    assert admin_json(broker, "consumeMessage", "-t", topic, "-i", "0", "-o", "1")["count"] == 0
    assert admin_json(broker, "consumeMessage", "-t", topic, "-c", "1")["count"] == 1


def test_groups_progress_reset_and_resend_dlq(broker):
    topic = unique("AdminGroup")
    group = unique("CG_admin")
    create_topic(broker, topic, queues=1)
    updated = admin_json(broker, "updateSubGroup", "-g", group, "-b", broker_address(broker), "-r", "3", "-q", "1")
    assert updated["subscriptionGroupConfig"]["retryMaxTimes"] == 3
    assert "success" in admin(broker, "updateSubGroup", "-g", group, "-c", CLUSTER, "-r", "5").stdout
    header, body = remoting.invoke(broker_address(broker), 201)
    assert header["code"] == 0
    assert json.loads(body)["subscriptionGroupTable"][group]["retryMaxTimes"] == 5

    sent = [admin_json(broker, "sendMessage", "-t", topic, "-p", f"m{i}") for i in range(3)]
    # Consume queues are filled asynchronously after the append: await the broker offset.
    progress = wait_until(lambda: (lambda result: result if result["queues"][0]["brokerOffset"] == 3 else None)(
        admin_json(broker, "consumerProgress", "-g", group, "-t", topic)), timeout=10, message="broker offset 3")
    assert progress["queues"][0]["brokerOffset"] == 3
    assert "#Consumer Offset" in admin(broker, "consumerProgress", "-g", group, "-t", topic).stdout

    reset = admin_json(broker, "resetOffsetByTime", "-g", group, "-t", topic, "-s", "now")
    assert reset["queues"] == [{"brokerName": "broker-a", "queueId": 0, "offset": 3}]
    progress = admin_json(broker, "consumerProgress", "-g", group)
    assert [(q["topic"], q["consumerOffset"], q["lag"]) for q in progress["queues"]] == [(topic, 3, 0)]
    assert progress["diffTotal"] == 0
    assert "#New Offset" in admin(broker, "resetOffsetByTime", "-g", group, "-t", topic, "-s", "0").stdout
    assert admin_json(broker, "consumerProgress", "-g", group)["diffTotal"] == 3

    offset = admin_json(broker, "queryMsgById", "-i", sent[1]["msgId"])["commitLogOffset"]
    header, _ = remoting.invoke(broker_address(broker), 36, {
        "offset": offset, "group": group, "delayLevel": -1, "originMsgId": sent[1]["msgId"], "originTopic": topic,
        "maxReconsumeTimes": 3})
    assert header["code"] == 0, header
    wait_until(lambda: route_of(broker, f"%DLQ%{group}") is not None, timeout=10, message="DLQ route")
    wait_until(lambda: remoting.invoke(broker_address(broker), 30, {"topic": f"%DLQ%{group}", "queueId": 0})[0]
               .get("extFields", {}).get("offset") == "1", timeout=10, message="the dead letter in its queue")
    resent = admin_json(broker, "resendDLQ", "-g", group)["resent"]
    assert [(r["topic"], r["send"]["sendStatus"]) for r in resent] == [(topic, "SEND_OK")]
    bodies = wait_until(lambda: (lambda found: found if len(found) == 4 else None)(
        [m["body"] for m in admin_json(broker, "consumeMessage", "-t", topic)["messages"]]),
        timeout=10, message="the resent message in its topic")
    assert bodies == ["m0", "m1", "m2", "m1"]
    assert "#New MsgId" in admin(broker, "resendDLQ", "-g", group).stdout


def test_errors_are_clear_and_exit_nonzero(broker):
    missing = admin(broker, "topicRoute", "-t", "NoSuchTopicX", expect=1)
    assert "topic NoSuchTopicX does not exist" in missing.stderr
    assert "does not exist" in admin(broker, "queryMsgByKey", "-t", "NoSuchTopicX", "-k", "k", "--json", expect=1).stderr
    assert "does not exist" in admin(broker, "sendMessage", "-t", "NoSuchTopicX", "-p", "x", expect=1).stderr
    group = admin(broker, "consumerProgress", "-g", "NoSuchGroupX", expect=1)
    assert "consumer group NoSuchGroupX does not exist" in group.stderr
    assert "no dead-letter queue" in admin(broker, "resendDLQ", "-g", "NoSuchGroupX", expect=1).stderr
    assert "cluster NoCluster does not exist" in admin(broker, "updateTopic", "-t", "T", "-c", "NoCluster", expect=1).stderr

    unreachable = admin(broker, "topicList", "--json", namesrv="127.0.0.1:1", expect=1)
    assert "cannot reach name server 127.0.0.1:1" in unreachable.stderr
    assert unreachable.stdout == ""

    admin(broker, "updateTopic", "-t", "T", expect=64)
    admin(broker, "noSuchCommand", expect=64)
    admin(broker, "queryMsgById", "-i", "not-an-id", expect=64)



def test_topic_list_with_c_shows_each_topic_s_cluster_and_attributes(broker):
    topic, plain = unique("AttrTopic"), unique("PlainTopic")
    admin(broker, "updateTopic", "-t", topic, "-c", CLUSTER, "-a", "+message.type=NORMAL,+team=payments")
    create_topic(broker, plain)
    wait_until(lambda: route_of(broker, topic) is not None, timeout=10, message=f"route of {topic}")

    details = {entry["topic"]: entry for entry in admin_json(broker, "topicList", "-c")["topicDetails"]}
    assert details[topic] == {"cluster": CLUSTER, "topic": topic, "attributes": {"message.type": "NORMAL", "team": "payments"}}
    assert details[plain]["attributes"] == {}
    assert topic in admin_json(broker, "topicList", "-c")["topics"]

    rows = {line.split()[1]: line.split() for line in admin(broker, "topicList", "-c").stdout.splitlines()[1:]}
    assert rows[topic] == [CLUSTER, topic, "message.type=NORMAL,team=payments"]
    assert rows[plain] == [CLUSTER, plain, "-"]

    admin(broker, "updateTopic", "-t", topic, "-c", CLUSTER, "--attributes=-team")
    assert {entry["topic"]: entry for entry in admin_json(broker, "topicList", "-c")["topicDetails"]}[topic]["attributes"] == {
        "message.type": "NORMAL"}
    assert admin(broker, "topicList").stdout.split().count(topic) == 1, "without -c: one topic per line"

def consumer_offset(broker, group, topic):
    header, _ = remoting.invoke(broker_address(broker), 14, {"consumerGroup": group, "topic": topic, "queueId": 0})
    return header["extFields"].get("offset") if header["code"] == 0 else None


def test_broker_status(broker):
    address = broker_address(broker)
    topic = unique("AdminStatus")
    create_topic(broker, topic, queues=1)
    admin(broker, "sendMessage", "-t", topic, "-p", "counted")

    [entry] = admin_json(broker, "brokerStatus", "-b", address)["brokers"]
    assert entry["brokerAddr"] == address
    table = entry["table"]
    assert table["msgPutTotalTodayNow"] == "1"
    assert table["brokerVersionDesc"] == "V4_9_8"
    assert int(table["commitLogMaxOffset"]) > int(table["commitLogMinOffset"]) == 0
    assert 0 < float(table["commitLogDiskRatio"]) < 1
    assert len(table["putTps"].split()) == 3

    lines = admin(broker, "brokerStatus", "-b", address).stdout.splitlines()
    assert any(line.split(":", 1)[0].strip() == "brokerVersionDesc" and line.endswith(": V4_9_8") for line in lines)
    assert [line.split(":")[0].strip() for line in lines] == sorted(table), "one sorted line per key"

    by_cluster = admin_json(broker, "brokerStatus", "-c", CLUSTER)["brokers"]
    assert [b["brokerAddr"] for b in by_cluster] == [address]
    cluster_lines = admin(broker, "brokerStatus", "-c", CLUSTER).stdout.splitlines()
    assert cluster_lines and all(line.startswith(address + " ") for line in cluster_lines)

    assert "-b" in admin(broker, "brokerStatus", expect=64).stderr
    assert "cannot reach broker 127.0.0.1:1" in admin(broker, "brokerStatus", "-b", "127.0.0.1:1", "--json", expect=1).stderr


def test_delete_sub_group(broker):
    address = broker_address(broker)
    topic = unique("AdminDelGroup")
    group = unique("CG_del")
    create_topic(broker, topic, queues=1)
    admin(broker, "sendMessage", "-t", topic, "-p", "x")
    admin(broker, "updateSubGroup", "-g", group, "-b", address)
    header, _ = remoting.invoke(address, 15, {"consumerGroup": group, "topic": topic, "queueId": 0, "commitOffset": 1})
    assert header["code"] == 0, header
    assert consumer_offset(broker, group, topic) == "1"

    kept = admin_json(broker, "deleteSubGroup", "-g", group, "-b", address)
    assert (kept["brokers"], kept["removeOffset"], kept["deletedTopics"]) == ([address], False, [])
    _, body = remoting.invoke(address, 201)
    assert group not in json.loads(body)["subscriptionGroupTable"]
    assert consumer_offset(broker, group, topic) == "1", "offsets stay without -r true"

    missing = admin(broker, "deleteSubGroup", "-g", group, "-b", address, expect=1)
    assert f"subscription group {group} does not exist on broker {address}" in missing.stderr

    admin(broker, "updateSubGroup", "-g", group, "-b", address)
    create_topic(broker, f"%DLQ%{group}", queues=1)
    text = admin(broker, "deleteSubGroup", "-g", group, "-c", CLUSTER, "-r", "true").stdout
    assert f"delete subscription group [{group}] from broker [{address}] in cluster [{CLUSTER}] success." in text
    assert f"delete topic [%DLQ%{group}] from cluster [{CLUSTER}] success." in text
    assert route_of(broker, f"%DLQ%{group}") is None
    assert consumer_offset(broker, group, topic) == "0", "-r true removed the committed offset"
    _, body = remoting.invoke(address, 201)
    assert group not in json.loads(body)["subscriptionGroupTable"]

    assert "system group" in admin(broker, "deleteSubGroup", "-g", "TOOLS_CONSUMER", "-b", address, expect=1).stderr
    admin(broker, "deleteSubGroup", "-g", group, expect=64)
