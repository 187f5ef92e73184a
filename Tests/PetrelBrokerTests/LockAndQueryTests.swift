import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Orderly consumption locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ) and message look-ups
/// (QUERY_MESSAGE / VIEW_MESSAGE_BY_ID).
@Suite struct LockAndQueryTests {
    static let queue0 = MessageQueue(topic: "TopicOrder", brokerName: "broker-a", queueId: 0)
    static let queue1 = MessageQueue(topic: "TopicOrder", brokerName: "broker-a", queueId: 1)

    /// A lock or unlock request as the C++ client sends it (JSON ending in a newline).
    static func lockRequest(_ code: RequestCode, group: String = "CG_order", clientId: String, queues: [MessageQueue]) -> RemotingCommand {
        let body = LockBatchRequestBody(consumerGroup: group, clientId: clientId, queues: queues)
        return RemotingCommand.request(code: code, body: ByteBuffer(string: body.json.serializedString + "\n"))
    }

    /// The queues of a LOCK_BATCH_MQ response.
    static func granted(_ response: RemotingCommand) throws -> [MessageQueue] {
        let body = try #require(response.body)
        let reader = try JSONObjectReader(JSONValue.parse(body), context: "LockBatchResponseBody")
        return try (reader.array("lockOKMQSet") ?? []).map { element throws(CoreError) in try MessageQueue(json: element) }.sorted()
    }

    @Test func tableGrantsRefusesRenewsAndTakesOverExpiredLocks() {
        let table = QueueLockTable(expiry: 60_000)
        let both = [Self.queue0, Self.queue1]
        #expect(table.lock(group: "G", clientId: "a", queues: [Self.queue0], now: 1_000) == [Self.queue0])
        #expect(table.lock(group: "G", clientId: "b", queues: both, now: 2_000) == [Self.queue1], "a's fresh lock is kept")
        #expect(table.lock(group: "OTHER", clientId: "b", queues: both, now: 2_000) == both, "groups are independent")
        // a renews at 50 s: still a's at 100 s (50 s after the renewal), b is refused.
        #expect(table.lock(group: "G", clientId: "a", queues: [Self.queue0], now: 50_000) == [Self.queue0])
        #expect(table.lock(group: "G", clientId: "b", queues: [Self.queue0], now: 100_000).isEmpty)
        #expect(table.holder(group: "G", queue: Self.queue0, now: 100_000) == "a")
        // 60 s after the renewal the lock has expired and b takes it over.
        #expect(table.lock(group: "G", clientId: "b", queues: [Self.queue0], now: 110_001) == [Self.queue0])
        #expect(table.holder(group: "G", queue: Self.queue0, now: 110_001) == "b")
        #expect(table.lock(group: "G", clientId: "a", queues: [Self.queue0], now: 110_002).isEmpty)
        // A holder that is no longer alive loses its lock at once.
        #expect(table.lock(group: "G", clientId: "a", queues: [Self.queue0], now: 110_003, isAlive: { $0 != "b" }) == [Self.queue0])
        // Unlock releases only what the client holds.
        #expect(table.unlock(group: "G", clientId: "b", queues: both) == [Self.queue1])
        #expect(table.holder(group: "G", queue: Self.queue0, now: 110_004) == "a")
        #expect(table.unlockAll(group: "G", clientId: "a") == 1)
        #expect(table.holder(group: "G", queue: Self.queue0, now: 110_005) == nil)
        #expect(table.removeExpired(now: 1_000_000) == 2, "OTHER's two locks")
    }

    @Test func lockAndUnlockThroughTheHandler() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let one = FakeClientChannel(remoteAddress: "10.0.0.7:50001")
        let two = FakeClientChannel(remoteAddress: "10.0.0.8:50002")
        _ = await fixture.handle(Requests.heartbeat(clientId: "one", group: "CG_order", topic: "TopicOrder"), client: one)
        _ = await fixture.handle(Requests.heartbeat(clientId: "two", group: "CG_order", topic: "TopicOrder"), client: two)

        let first = await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "one", queues: [Self.queue0]), client: one)
        #expect(first.responseCode == .success)
        #expect(first.body.map { String(buffer: $0) } == #"{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicOrder"}]}"#)
        let refused = await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "two", queues: [Self.queue0, Self.queue1]), client: two)
        #expect(try Self.granted(refused) == [Self.queue1], "queue 0 stays with one")
        let renewed = await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "one", queues: [Self.queue0]), client: one)
        #expect(try Self.granted(renewed) == [Self.queue0])

        // Unlocking someone else's queue does nothing; the holder's unlock frees it.
        let foreign = await fixture.handle(Self.lockRequest(.unlockBatchMq, clientId: "two", queues: [Self.queue0]), client: two)
        #expect(foreign.responseCode == .success && foreign.body == nil)
        #expect(try Self.granted(await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "two", queues: [Self.queue0]), client: two)).isEmpty)
        #expect(await fixture.handle(Self.lockRequest(.unlockBatchMq, clientId: "one", queues: [Self.queue0]), client: one).responseCode == .success)
        #expect(try Self.granted(await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "two", queues: [Self.queue0]), client: two)) == [Self.queue0])

        // When two's connection closes it is no longer a consumer of the group: one takes its queues.
        await fixture.handler.connectionClosed(two)
        let takeover = await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "one", queues: [Self.queue0, Self.queue1]), client: one)
        #expect(try Self.granted(takeover) == [Self.queue0, Self.queue1])
        #expect(fixture.handler.queueLocks.holder(group: "CG_order", queue: Self.queue1, now: fixture.handler.now) == "one")
        try await fixture.close()
    }

    @Test func clientExpiryLoopSweepsExpiredQueueLocks() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let one = FakeClientChannel(remoteAddress: "10.0.0.7:50011")
        _ = await fixture.handle(Requests.heartbeat(clientId: "one", group: "CG_order", topic: "TopicOrder"), client: one)
        _ = await fixture.handle(Self.lockRequest(.lockBatchMq, clientId: "one", queues: [Self.queue0, Self.queue1]), client: one)
        #expect(fixture.handler.queueLocks.count == 2)
        await fixture.handler.expireClients(now: fixture.handler.now + 1000)
        #expect(fixture.handler.queueLocks.count == 2, "live locks stay")
        await fixture.handler.expireClients(expiry: .max, now: fixture.handler.now + QueueLockTable.defaultExpiry + 1000)
        #expect(fixture.handler.queueLocks.count == 0, "locks past their lifetime are swept")
        #expect(fixture.handler.clients.consumerIds(group: "CG_order") == ["one"], "the client itself was not expired")
        try await fixture.close()
    }

    @Test func badLockBodiesAreAnsweredWithRemarks() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let missing = await fixture.handle(RemotingCommand.request(code: .lockBatchMq))
        #expect(missing.responseCode == .systemError && missing.remark == "the LOCK_BATCH_MQ body is missing")
        let garbage = await fixture.handle(RemotingCommand.request(code: .unlockBatchMq, body: ByteBuffer(string: "{not json")))
        #expect(garbage.responseCode == .systemError)
        #expect(garbage.remark?.hasPrefix("the UNLOCK_BATCH_MQ body is not LockBatchRequestBody JSON") == true)
        let noClient = await fixture.handle(RemotingCommand.request(code: .lockBatchMq, body: ByteBuffer(string: #"{"consumerGroup":"G","mqSet":[]}"#)))
        #expect(noClient.responseCode == .systemError && noClient.remark?.contains("clientId") == true)
        let badQueue = await fixture.handle(RemotingCommand.request(
            code: .lockBatchMq, body: ByteBuffer(string: #"{"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","queueId":"x"}]}"#)))
        #expect(badQueue.responseCode == .systemError && badQueue.remark?.contains("queueId") == true)
        try await fixture.close()
    }

    /// Stores messages with keys and waits until they are dispatched (queue and index).
    static func sendKeyed(_ fixture: HandlerFixture, topic: String, keys: [String]) async throws -> [String] {
        var ids: [String] = []
        for (index, key) in keys.enumerated() {
            let response = await fixture.handle(Requests.send(topic: topic, body: "body-\(index)", keys: key))
            #expect(response.responseCode == .success)
            ids.append(try #require(response.extFields["msgId"]))
        }
        await fixture.waitForQueue(topic, count: Int64(keys.count))
        return ids
    }

    static func query(topic: String, key: String, maxNum: Int = 32, begin: Int64 = 0, end: Int64 = Int64.max) -> RemotingCommand {
        RemotingCommand.request(code: .queryMessage, extFields: [
            "topic": topic, "key": key, "maxNum": String(maxNum), "beginTimestamp": String(begin), "endTimestamp": String(end),
        ])
    }

    @Test func queryByKeyReturnsOnlyThatKeysMessages() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = try await Self.sendKeyed(fixture, topic: "TopicQuery", keys: ["alpha", "beta", "alpha beta", "gamma", "alpha"])
        let response = await fixture.handle(Self.query(topic: "TopicQuery", key: "alpha"))
        #expect(response.responseCode == .success)
        let messages = try Requests.messages(in: response)
        #expect(Set(messages.map { String(buffer: $0.message.body) }) == ["body-0", "body-2", "body-4"])
        #expect(messages.allSatisfy { $0.message.keys.contains("alpha") })
        #expect(response.extFields["indexLastUpdatePhyoffset"] == String(fixture.store.dispatchedCommitLogOffset.rawValue))
        #expect(response.extFields["indexLastUpdateTimestamp"] == String(messages.map(\.storeTimestamp).max() ?? -1))

        let limited = await fixture.handle(Self.query(topic: "TopicQuery", key: "alpha", maxNum: 2))
        #expect(try Requests.messages(in: limited).count == 2)
        let otherTopic = await fixture.handle(Self.query(topic: "TopicElsewhere", key: "alpha"))
        #expect(otherTopic.responseCode == .queryNotFound)
        #expect(otherTopic.remark == "can not find message, maybe time range not correct")
        #expect(otherTopic.extFields["indexLastUpdatePhyoffset"] != nil)
        let outOfRange = await fixture.handle(Self.query(topic: "TopicQuery", key: "alpha", begin: 0, end: 1))
        #expect(outOfRange.responseCode == .queryNotFound)
        try await fixture.close()
    }

    @Test func viewByIdReturnsTheExactStoredBytes() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let ids = try await Self.sendKeyed(fixture, topic: "TopicView", keys: ["k0", "k1"])
        for id in ids {
            let offset = try MessageId.decodeOffsetId(id).commitLogOffset
            let response = await fixture.handle(RemotingCommand.request(code: .viewMessageById, extFields: ["offset": String(offset.rawValue)]))
            #expect(response.responseCode == .success)
            let body = try #require(response.body)
            #expect(Array(body.readableBytesView) == (try fixture.store.record(at: offset).bytes))
            let message = try #require(try Requests.messages(in: response).first)
            #expect(message.commitLogOffset == offset && message.message.topic == "TopicView")
        }
        try await fixture.close()
    }

    @Test func badQueryInputIsAnsweredWithRemarks() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = try await Self.sendKeyed(fixture, topic: "TopicBad", keys: ["k"])
        let past = fixture.store.maximumCommitLogOffset.rawValue + 1000
        let unknown = await fixture.handle(RemotingCommand.request(code: .viewMessageById, extFields: ["offset": String(past)]))
        #expect(unknown.responseCode == .systemError)
        #expect(unknown.remark?.hasPrefix("can not find message by the offset, \(past)") == true)
        let middle = await fixture.handle(RemotingCommand.request(code: .viewMessageById, extFields: ["offset": "3"]))
        #expect(middle.responseCode == .systemError && middle.remark?.contains("offset, 3") == true)
        let noOffset = await fixture.handle(RemotingCommand.request(code: .viewMessageById))
        #expect(noOffset.responseCode == .systemError && noOffset.remark?.contains("offset") == true)
        let notNumber = await fixture.handle(RemotingCommand.request(code: .viewMessageById, extFields: ["offset": "abc"]))
        #expect(notNumber.responseCode == .systemError && notNumber.remark?.contains("offset") == true)

        var noKey = Self.query(topic: "TopicBad", key: "k")
        noKey.extFields["key"] = nil
        let missingKey = await fixture.handle(noKey)
        #expect(missingKey.responseCode == .systemError && missingKey.remark?.contains("key") == true)
        let zero = await fixture.handle(Self.query(topic: "TopicBad", key: "k", maxNum: 0))
        #expect(zero.responseCode == .systemError && zero.remark?.contains("maxNum") == true)
        var unique = Self.query(topic: "TopicBad", key: "k", maxNum: 0)
        unique.extFields["_UNIQUE_KEY_QUERY"] = "true"
        #expect(await fixture.handle(unique).responseCode == .success, "a unique-key query uses its own count")
        try await fixture.close()
    }
}
