import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Heartbeats, consumer lists, membership notices, admin requests and bad input.
@Suite struct ClientAndAdminTests {
    @Test func heartbeatCreatesRetryTopicAndConsumerList() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let first = FakeClientChannel(remoteAddress: "10.0.0.7:50001")
        let answer = await fixture.handle(Requests.heartbeat(clientId: "1-10.0.0.7@DEFAULT", group: "CG_push", topic: "TopicTest"), client: first)
        #expect(answer.responseCode == .success)
        let retry = try #require(fixture.handler.topics.topic("%RETRY%CG_push"))
        #expect(retry.readQueueNums == 1 && retry.perm == .readWrite)
        #expect(fixture.registrations == 1)
        #expect(first.sentCount(.notifyConsumerIdsChanged) == 1)

        let second = FakeClientChannel(remoteAddress: "10.0.0.8:50002")
        _ = await fixture.handle(Requests.heartbeat(clientId: "2-10.0.0.8@DEFAULT", group: "CG_push", topic: "TopicTest"), client: second)
        #expect(first.sentCount(.notifyConsumerIdsChanged) == 2, "every member hears of the newcomer")
        #expect(second.sentCount(.notifyConsumerIdsChanged) == 1)
        let notice = try #require(first.sent.withLock { $0.last })
        #expect(notice.extFields["consumerGroup"] == "CG_push")

        // A repeated heartbeat changes nothing.
        _ = await fixture.handle(Requests.heartbeat(clientId: "2-10.0.0.8@DEFAULT", group: "CG_push", topic: "TopicTest"), client: second)
        #expect(first.sentCount(.notifyConsumerIdsChanged) == 2)

        let list = await fixture.handle(RemotingCommand.request(code: .getConsumerListByGroup, extFields: ["consumerGroup": "CG_push"]))
        #expect(list.responseCode == .success)
        #expect(list.body.map { String(buffer: $0) } == #"{"consumerIdList":["1-10.0.0.7@DEFAULT","2-10.0.0.8@DEFAULT"]}"#)

        let unregister = RemotingCommand.request(code: .unregisterClient, extFields: ["clientID": "2-10.0.0.8@DEFAULT", "consumerGroup": "CG_push", "producerGroup": ""])
        #expect(await fixture.handle(unregister, client: second).responseCode == .success)
        #expect(first.sentCount(.notifyConsumerIdsChanged) == 3)
        #expect(fixture.handler.clients.consumerIds(group: "CG_push") == ["1-10.0.0.7@DEFAULT"])

        await fixture.handler.connectionClosed(first)
        let empty = await fixture.handle(RemotingCommand.request(code: .getConsumerListByGroup, extFields: ["consumerGroup": "CG_push"]))
        #expect(empty.responseCode == .systemError)
        try await fixture.close()
    }

    @Test func pullUsesTheHeartbeatSubscriptionWithoutTheSubscriptionFlag() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let client = FakeClientChannel()
        _ = await fixture.handle(Requests.heartbeat(clientId: "c1", group: "CG_tags", topic: "TopicHb", expression: "TagB"), client: client)
        for tag in ["TagA", "TagB"] { _ = await fixture.handle(Requests.send(topic: "TopicHb", body: tag, tags: tag)) }
        await fixture.waitForQueue("TopicHb", count: 2)
        let pulled = await fixture.handle(Requests.pull(group: "CG_tags", topic: "TopicHb", offset: 0, subscription: "*", sysFlag: 0), client: client)
        #expect(try Requests.messages(in: pulled).map { String(buffer: $0.message.body) } == ["TagB"])
        try await fixture.close()
    }

    @Test func consumerRunningInfoIsRelayedToTheClient() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let consumer = FakeClientChannel()
        _ = await fixture.handle(Requests.heartbeat(clientId: "c-info", group: "CG_info", topic: "T"), client: consumer)
        let ask = RemotingCommand.request(code: .getConsumerRunningInfo, extFields: ["consumerGroup": "CG_info", "clientId": "c-info", "jstackEnable": "false"])
        let answer = await fixture.handle(ask)
        #expect(answer.responseCode == .success)
        #expect(answer.body.map { String(buffer: $0) } == #"{"running":true}"#)
        #expect(consumer.sentCount(.getConsumerRunningInfo) == 1)
        var offline = ask
        offline.extFields["clientId"] = "nobody"
        let missing = await fixture.handle(offline)
        #expect(missing.responseCode == .systemError)
        #expect(missing.remark?.contains("nobody") == true)
        try await fixture.close()
    }

    @Test func silentClientsExpire() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let silent = FakeClientChannel()
        _ = await fixture.handle(Requests.heartbeat(clientId: "old", group: "CG_old", topic: "T"), client: silent)
        await fixture.handler.expireClients(expiry: 120_000)
        #expect(fixture.handler.clients.consumerIds(group: "CG_old") == ["old"])
        await fixture.handler.expireClients(expiry: -1)
        #expect(fixture.handler.clients.consumerIds(group: "CG_old").isEmpty)
        let closed = silent.closed.load(ordering: .relaxed)
        #expect(closed)
        try await fixture.close()
    }

    @Test func autoCreateFromTemplateRespectsTheSwitch() async throws {
        let fixture = try await HandlerFixture { $0.autoCreateTopicEnable = false }
        defer { fixture.directory.remove() }
        let refused = await fixture.handle(Requests.send(topic: "Unknown", body: "x"))
        #expect(refused.responseCode == .topicNotExist)
        #expect(refused.remark?.contains("Unknown") == true)
        let create = RemotingCommand.request(code: .updateAndCreateTopic, extFields: [
            "topic": "Created", "defaultTopic": "TBW102", "readQueueNums": "2", "writeQueueNums": "2", "perm": "6",
            "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
        ])
        #expect(await fixture.handle(create).responseCode == .success)
        #expect(fixture.registrations == 1)
        #expect(await fixture.handle(Requests.send(topic: "Created", body: "x", queueId: 1)).responseCode == .success)
        let all = await fixture.handle(RemotingCommand.request(code: .getAllTopicConfig))
        let wrapper = try JSONValue.parse(try #require(all.body))
        guard case .object(let members) = wrapper, case .object(let table)? = members["topicConfigTable"] else {
            Issue.record("GET_ALL_TOPIC_CONFIG body is not a TopicConfigSerializeWrapper")
            return
        }
        #expect(table["Created"] != nil)
        let delete = RemotingCommand.request(code: .deleteTopicInBroker, extFields: ["topic": "Created"])
        #expect(await fixture.handle(delete).responseCode == .success)
        #expect(fixture.handler.topics.topic("Created") == nil)
        try await fixture.close()
    }

    @Test func badInputIsAnsweredNeverThrown() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let unknown = await fixture.handle(RemotingCommand.request(code: RequestCode(rawValue: 200050)))
        #expect(unknown.responseCode == .requestCodeNotSupported)
        #expect(unknown.remark == " request type 200050 not supported")

        var missing = Requests.send(topic: "T", body: "x")
        missing.extFields["queueId"] = nil
        let noQueue = await fixture.handle(missing)
        #expect(noQueue.responseCode == .systemError)
        #expect(noQueue.remark?.contains("queueId") == true)

        var malformed = Requests.pull(topic: "T", offset: 0)
        malformed.extFields["queueOffset"] = "soon"
        let badOffset = await fixture.handle(malformed)
        #expect(badOffset.responseCode == .systemError)
        #expect(badOffset.remark?.contains("queueOffset") == true)

        let badHeartbeat = await fixture.handle(RemotingCommand.request(code: .heartBeat, body: ByteBuffer(string: "[1,2")))
        #expect(badHeartbeat.responseCode == .systemError)

        let forbidden = await fixture.handle(Requests.send(topic: "SCHEDULE_TOPIC_XXXX", body: "x"))
        #expect(forbidden.responseCode == .noPermission)
        let invalid = await fixture.handle(Requests.send(topic: "bad topic!", body: "x"))
        #expect(invalid.responseCode == .systemError)
        let tooBig = await fixture.handle(Requests.send(topic: "Big", body: String(repeating: "x", count: 64 * 1024 + 1)))
        #expect(tooBig.responseCode == .messageIllegal)
        let hugeQueue = await fixture.handle(Requests.send(topic: "TopicTest", body: "x", queueId: Int32.max))
        #expect(hugeQueue.responseCode == .systemError)
        try await fixture.close()
    }

    @Test func retryTopicSendsPastTheLimitGoToTheDeadLetterTopic() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let request = Requests.send(topic: "%RETRY%CG_dlq", body: "x", extra: ["reconsumeTimes": "16"])
        let response = await fixture.handle(request)
        #expect(response.responseCode == .success, "\(response.remark ?? "")")
        #expect(fixture.handler.topics.topic("%DLQ%CG_dlq") != nil)
        await fixture.waitForQueue("%DLQ%CG_dlq", count: 1)
        #expect(fixture.store.maximumOffset(topic: "%RETRY%CG_dlq", queueId: 0).rawValue == 0)
        try await fixture.close()
    }
}
