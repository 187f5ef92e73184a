import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Send and pull through the handler, against a real store.
@Suite struct SendPullTests {
    @Test func sendThenPullReturnsTheMessageWithItsProperties() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let client = FakeClientChannel(remoteAddress: "10.0.0.7:50000")
        let sent = await fixture.handle(Requests.send(topic: "TopicTest", body: "hello", tags: "TagA", keys: "k1 k2"), client: client)
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        #expect(sent.extFields["queueId"] == "0")
        #expect(sent.extFields["queueOffset"] == "0")
        let messageId = try #require(sent.extFields["msgId"])
        let decoded = try MessageId.decodeOffsetId(messageId)
        #expect(decoded.storeHost.description == "10.0.0.1:10911")
        #expect(fixture.registrations == 1, "auto-create re-registers")

        await fixture.waitForQueue("TopicTest", count: 1)
        let pulled = await fixture.handle(Requests.pull(topic: "TopicTest", offset: 0))
        #expect(pulled.responseCode == .success)
        #expect(pulled.extFields["nextBeginOffset"] == "1")
        #expect(pulled.extFields["minOffset"] == "0")
        #expect(pulled.extFields["maxOffset"] == "1")
        #expect(pulled.extFields["suggestWhichBrokerId"] == "0")
        let messages = try Requests.messages(in: pulled)
        let message = try #require(messages.first)
        #expect(messages.count == 1)
        #expect(String(buffer: message.message.body) == "hello")
        #expect(message.message.tags == "TagA")
        #expect(message.message.keys == ["k1", "k2"])
        #expect(message.message.uniqueKey == "0A0000070000529B00006FF14E7F0001")
        #expect(message.message.properties[PropertyKey.cluster] == "DefaultCluster")
        #expect(message.message.properties[PropertyKey.waitStoreMessageOK] == nil)
        #expect(message.bornHost.description == "10.0.0.7:50000")
        #expect(message.offsetMessageId == messageId)
        try await fixture.close()
    }

    @Test func sendV2AndNegativeQueueIdPickAQueue() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let response = await fixture.handle(Requests.send(topic: "TopicV2", body: "x", queueId: -1, code: .sendMessageV2),
                                            client: FakeClientChannel(remoteAddress: "[::1]:4000"))
        #expect(response.responseCode == .success, "\(response.remark ?? "")")
        let queueId = try #require(response.extFields["queueId"].flatMap { Int32($0) })
        #expect((0..<4).contains(queueId), "min(requested 4, TBW102's 8) queues")
        #expect(fixture.handler.topics.topic("TopicV2")?.writeQueueNums == 4)
        await fixture.waitForQueue("TopicV2", queueId, count: 1)
        let pulled = await fixture.handle(Requests.pull(topic: "TopicV2", queueId: queueId, offset: 0))
        let message = try #require(try Requests.messages(in: pulled).first)
        #expect(message.bornHost.description == "127.0.0.1:4000", "IPv6 peers get the IPv4 placeholder")
        try await fixture.close()
    }

    @Test func batchSendsStoreConsecutiveMessages() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let entries = (0..<3).map { index in
            BatchEntry(flag: Int32(index), body: ByteBuffer(string: "m\(index)"),
                       properties: MessageProperties([(PropertyKey.uniqueKey, "U\(index)"), (PropertyKey.tags, "TagB")]))
        }
        // The C++ client's form: code 10 with batch "1" and WAIT on the header.
        var request = Requests.send(topic: "TopicBatch", body: "", extra: ["batch": "1", "properties": "WAIT\u{1}true\u{2}"])
        request.body = BatchBody.encode(entries)
        let response = await fixture.handle(request)
        #expect(response.responseCode == .success, "\(response.remark ?? "")")
        #expect(response.extFields["queueOffset"] == "0")
        #expect(response.extFields["msgId"]?.split(separator: ",").count == 3)
        // The Java form: code 320 with V2 keys.
        var java = Requests.send(topic: "TopicBatch", body: "", code: .sendBatchMessage)
        java.body = BatchBody.encode(entries)
        let second = await fixture.handle(java)
        #expect(second.extFields["queueOffset"] == "3")
        await fixture.waitForQueue("TopicBatch", count: 6)
        let pulled = await fixture.handle(Requests.pull(topic: "TopicBatch", offset: 0))
        let messages = try Requests.messages(in: pulled)
        #expect(messages.map { String(buffer: $0.message.body) } == ["m0", "m1", "m2", "m0", "m1", "m2"])
        #expect(messages.map(\.message.flag) == [0, 1, 2, 0, 1, 2])
        #expect(messages.map(\.queueOffset.rawValue) == [0, 1, 2, 3, 4, 5])
        #expect(messages[1].message.uniqueKey == "U1")
        try await fixture.close()
    }

    @Test func malformedBatchIsIllegal() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        var request = Requests.send(topic: "TopicBatch", body: "", extra: ["batch": "true"])
        request.body = ByteBuffer(bytes: [0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0, 0, 0])
        let response = await fixture.handle(request)
        #expect(response.responseCode == .messageIllegal)
        #expect(response.remark?.contains("batch entry 0") == true)
        try await fixture.close()
    }

    @Test func delayedBatchIsRefusedAndStoresNothing() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let plain = BatchEntry(flag: 0, body: ByteBuffer(string: "now"), properties: MessageProperties([(PropertyKey.tags, "T")]))
        let delayed = BatchEntry(flag: 0, body: ByteBuffer(string: "later"), properties: MessageProperties([(PropertyKey.delayLevel, "2")]))
        var onRequest = Requests.send(topic: "TopicBatchDelay", body: "", extra: ["batch": "1", "properties": "DELAY\u{1}3\u{2}"])
        onRequest.body = BatchBody.encode([plain, plain])
        let refused = await fixture.handle(onRequest)
        #expect(refused.responseCode == .messageIllegal)
        #expect(refused.remark?.contains("do not support delayed delivery (DELAY on the request)") == true)
        var onEntry = Requests.send(topic: "TopicBatchDelay", body: "", code: .sendBatchMessage)
        onEntry.body = BatchBody.encode([plain, delayed])
        let second = await fixture.handle(onEntry)
        #expect(second.responseCode == .messageIllegal && second.remark?.contains("batch entry 1") == true)
        var levelZero = Requests.send(topic: "TopicBatchDelay", body: "", extra: ["batch": "1", "properties": "DELAY\u{1}0\u{2}"])
        levelZero.body = BatchBody.encode([plain])
        #expect(await fixture.handle(levelZero).responseCode == .success, "DELAY 0 means no delay")
        #expect(fixture.store.maximumOffset(topic: SystemNames.scheduleTopic, queueId: 1).rawValue == 0)
        #expect(fixture.store.maximumOffset(topic: SystemNames.scheduleTopic, queueId: 2).rawValue == 0)
        try await fixture.close()
    }

    @Test func tagFilteringReturnsOnlyMatchingTags() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        for (index, tag) in ["TagA", "TagB", "TagC", "TagA"].enumerated() {
            let response = await fixture.handle(Requests.send(topic: "TopicTags", body: "b\(index)", tags: tag))
            #expect(response.responseCode == .success)
        }
        await fixture.waitForQueue("TopicTags", count: 4)
        let pulled = await fixture.handle(Requests.pull(topic: "TopicTags", offset: 0, subscription: "TagA || TagC"))
        let bodies = try Requests.messages(in: pulled).map { String(buffer: $0.message.body) }
        #expect(bodies == ["b0", "b2", "b3"])
        #expect(pulled.extFields["nextBeginOffset"] == "4")
        let none = await fixture.handle(Requests.pull(topic: "TopicTags", offset: 0, subscription: "TagZ"))
        #expect(none.responseCode == .pullRetryImmediately)
        #expect(none.extFields["nextBeginOffset"] == "4")
        try await fixture.close()
    }

    @Test func pullCodesFollowTheSpecTable() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = await fixture.handle(Requests.send(topic: "TopicCodes", body: "one"))
        await fixture.waitForQueue("TopicCodes", count: 1)
        let caughtUp = await fixture.handle(Requests.pull(topic: "TopicCodes", offset: 1))
        #expect(caughtUp.responseCode == .pullNotFound)
        #expect(caughtUp.extFields["nextBeginOffset"] == "1")
        let beyond = await fixture.handle(Requests.pull(topic: "TopicCodes", offset: 9))
        #expect(beyond.responseCode == .pullOffsetMoved)
        #expect(beyond.extFields["nextBeginOffset"] == "1")
        let emptyQueue = await fixture.handle(Requests.pull(topic: "TopicCodes", queueId: 1, offset: 0))
        #expect(emptyQueue.responseCode == .pullNotFound)
        #expect(emptyQueue.extFields["maxOffset"] == "0")
        let emptyMoved = await fixture.handle(Requests.pull(topic: "TopicCodes", queueId: 1, offset: 5))
        #expect(emptyMoved.responseCode == .pullOffsetMoved)
        #expect(emptyMoved.extFields["nextBeginOffset"] == "0")
        let unknown = await fixture.handle(Requests.pull(topic: "NoSuchTopic", offset: 0))
        #expect(unknown.responseCode == .topicNotExist)
        let badQueue = await fixture.handle(Requests.pull(topic: "TopicCodes", queueId: 99, offset: 0))
        #expect(badQueue.responseCode == .systemError)
        try await fixture.close()
    }

    @Test func pullCommitsAPiggyBackedOffset() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = await fixture.handle(Requests.send(topic: "TopicCommit", body: "one"))
        await fixture.waitForQueue("TopicCommit", count: 1)
        _ = await fixture.handle(Requests.pull(group: "CG1", topic: "TopicCommit", offset: 1, sysFlag: 5, commitOffset: 1))
        #expect(fixture.handler.offsets.offset(group: "CG1", topic: "TopicCommit", queueId: 0) == 1)
        try await fixture.close()
    }
}
