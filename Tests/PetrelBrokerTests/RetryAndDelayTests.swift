import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// CONSUMER_SEND_MSG_BACK, dead-letter topics, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP and delayed
/// delivery through `SCHEDULE_TOPIC_XXXX` (spec §14).
@Suite struct RetryAndDelayTests {
    /// Every message of a queue, decoded.
    static func messages(_ fixture: HandlerFixture, _ topic: String, _ queueId: Int32 = 0) throws -> [StoredMessage] {
        let result = fixture.store.getMessages(topic: topic, queueId: queueId, offset: .zero, maximumCount: 1000)
        return try result.records.map { try $0.decode() }
    }

    /// A send of one message with extra properties.
    static func send(topic: String, body: String, properties extra: [(String, String)]) -> RemotingCommand {
        var properties = MessageProperties([(PropertyKey.tags, "TagA"), (PropertyKey.uniqueKey, "UNIQ-\(body)")])
        for (key, value) in extra { properties[key] = value }
        return Requests.send(topic: topic, body: body, extra: ["properties": String(decoding: properties.encoded(), as: UTF8.self)])
    }

    /// A CONSUMER_SEND_MSG_BACK as the C++ client sends it.
    static func sendBack(offset: CommitLogOffset, group: String, delayLevel: Int32 = 0) -> RemotingCommand {
        RemotingCommand.request(code: .consumerSendMsgBack, extFields: [
            "offset": String(offset.rawValue), "group": group, "delayLevel": String(delayLevel),
        ])
    }

    /// A schedule service over the fixture's store.
    static func schedule(_ fixture: HandlerFixture) throws -> ScheduleService {
        try ScheduleService(store: fixture.store, levels: fixture.configuration.messageDelayLevels,
                            storeRoot: fixture.configuration.store.rootDirectory, tick: .milliseconds(20),
                            logger: HandlerFixture.logger)
    }

    /// Far enough in the future that every parked message is due.
    static let later = System.nowMilliseconds() + 365 * 24 * 3600 * 1000

    @Test func sendBackStoresARetryWithReconsumeTimesAndOriginProperties() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let sent = await fixture.handle(Self.send(topic: "TopicRetry", body: "one", properties: [("color", "red")]))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        await fixture.waitForQueue("TopicRetry", count: 1)
        let original = try #require(try Self.messages(fixture, "TopicRetry").first)

        let back = await fixture.handle(Self.sendBack(offset: original.commitLogOffset, group: "CG_retry"))
        #expect(back.responseCode == .success, "\(back.remark ?? "")")
        #expect(fixture.handler.subscriptionGroups.group("CG_retry") != nil, "the group is auto-created")
        #expect(fixture.handler.topics.topic("%RETRY%CG_retry")?.writeQueueNums == 1)

        // delayLevel 0 → level 3 + reconsumeTimes = 3 → schedule queue 2.
        await fixture.waitForQueue(SystemNames.scheduleTopic, 2, count: 1)
        let parked = try #require(try Self.messages(fixture, SystemNames.scheduleTopic, 2).first)
        #expect(parked.message.properties[PropertyKey.realTopic] == "%RETRY%CG_retry")
        #expect(parked.message.properties[PropertyKey.realQueueId] == "0")
        #expect(parked.message.properties[PropertyKey.delayLevel] == "3")
        #expect(parked.reconsumeTimes == 1)
        #expect(fixture.store.maximumOffset(topic: "%RETRY%CG_retry", queueId: 0).rawValue == 0, "not delivered before its delay")

        let schedule = try Self.schedule(fixture)
        #expect(await schedule.deliverDue(now: parked.storeTimestamp + 9_999) == 0, "level 3 is 10 s")
        #expect(await schedule.deliverDue(now: parked.storeTimestamp + 10_000) == 1)
        await fixture.waitForQueue("%RETRY%CG_retry", count: 1)
        let retried = try #require(try Self.messages(fixture, "%RETRY%CG_retry").first)
        #expect(retried.reconsumeTimes == 1)
        #expect(String(buffer: retried.message.body) == "one")
        #expect(retried.message.properties[PropertyKey.retryTopic] == "TopicRetry")
        #expect(retried.message.properties[PropertyKey.originMessageId] == original.offsetMessageId)
        #expect(retried.message.properties[PropertyKey.delayLevel] == nil)
        #expect(retried.message.properties["color"] == "red")
        #expect(retried.message.uniqueKey == "UNIQ-one")
        #expect(retried.bornTimestamp == original.bornTimestamp)
        #expect(retried.bornHost == original.bornHost)

        // A second failure: reconsumeTimes 2, level 4, RETRY_TOPIC and ORIGIN_MESSAGE_ID kept.
        let again = await fixture.handle(Self.sendBack(offset: retried.commitLogOffset, group: "CG_retry"))
        #expect(again.responseCode == .success, "\(again.remark ?? "")")
        await fixture.waitForQueue(SystemNames.scheduleTopic, 3, count: 1)
        let second = try #require(try Self.messages(fixture, SystemNames.scheduleTopic, 3).first)
        #expect(second.reconsumeTimes == 2)
        #expect(second.message.properties[PropertyKey.retryTopic] == "TopicRetry")
        #expect(second.message.properties[PropertyKey.originMessageId] == original.offsetMessageId)
        try await fixture.close()
    }

    @Test func exhaustedRetriesAndNegativeDelayGoToTheDeadLetterTopic() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        var config = SubscriptionGroupConfig(groupName: "CG_dlq")
        config.retryMaxTimes = 2
        let update = await fixture.handle(RemotingCommand.request(
            code: .updateAndCreateSubscriptiongroup, body: ByteBuffer(bytes: config.json.serialized())))
        #expect(update.responseCode == .success, "\(update.remark ?? "")")
        #expect(fixture.handler.subscriptionGroups.group("CG_dlq")?.retryMaxTimes == 2)

        _ = await fixture.handle(Self.send(topic: "TopicDlq", body: "poison", properties: []))
        await fixture.waitForQueue("TopicDlq", count: 1)
        let original = try #require(try Self.messages(fixture, "TopicDlq").first)
        let schedule = try Self.schedule(fixture)
        var current = original
        for expected in Int32(1)...2 {
            let back = await fixture.handle(Self.sendBack(offset: current.commitLogOffset, group: "CG_dlq"))
            #expect(back.responseCode == .success, "\(back.remark ?? "")")
            await fixture.waitForQueue(SystemNames.scheduleTopic, 2 + expected - 1, count: 1)
            #expect(await schedule.deliverDue(now: Self.later) == 1)
            await fixture.waitForQueue("%RETRY%CG_dlq", count: Int64(expected))
            current = try Self.messages(fixture, "%RETRY%CG_dlq")[Int(expected) - 1]
            #expect(current.reconsumeTimes == expected)
        }
        let last = await fixture.handle(Self.sendBack(offset: current.commitLogOffset, group: "CG_dlq"))
        #expect(last.responseCode == .success, "\(last.remark ?? "")")
        await fixture.waitForQueue("%DLQ%CG_dlq", count: 1)
        let dead = try #require(try Self.messages(fixture, "%DLQ%CG_dlq").first)
        #expect(dead.reconsumeTimes == 3)
        #expect(dead.message.properties[PropertyKey.retryTopic] == "TopicDlq")
        #expect(dead.message.properties[PropertyKey.originMessageId] == original.offsetMessageId)
        #expect(dead.message.properties[PropertyKey.delayLevel] == nil)
        let topic = try #require(fixture.handler.topics.topic("%DLQ%CG_dlq"))
        #expect(topic.readQueueNums == 1 && topic.writeQueueNums == 1)
        #expect(topic.perm == .readWrite)

        // delayLevel < 0: straight to the dead-letter topic, whatever the count.
        let direct = await fixture.handle(Self.sendBack(offset: original.commitLogOffset, group: "CG_dlq", delayLevel: -1))
        #expect(direct.responseCode == .success)
        await fixture.waitForQueue("%DLQ%CG_dlq", count: 2)
        #expect(try Self.messages(fixture, "%DLQ%CG_dlq")[1].reconsumeTimes == 1)
        try await fixture.close()
    }

    @Test func sendBackErrorsNameTheProblem() async throws {
        let fixture = try await HandlerFixture { $0.autoCreateSubscriptionGroup = false }
        defer { fixture.directory.remove() }
        let unknown = await fixture.handle(Self.sendBack(offset: CommitLogOffset(0), group: "CG_unknown"))
        #expect(unknown.responseCode == .subscriptionGroupNotExist)
        #expect(unknown.remark?.contains("CG_unknown") == true)

        try fixture.handler.subscriptionGroups.update(SubscriptionGroupConfig(groupName: "CG_known"))
        let bad = await fixture.handle(Self.sendBack(offset: CommitLogOffset(123_456), group: "CG_known"))
        #expect(bad.responseCode == .systemError)
        #expect(bad.remark?.contains("look message by offset failed") == true)

        let missing = await fixture.handle(RemotingCommand.request(code: .consumerSendMsgBack, extFields: ["group": "CG_known"]))
        #expect(missing.responseCode == .systemError)
        #expect(missing.remark?.contains("offset") == true)

        let badBody = await fixture.handle(RemotingCommand.request(code: .updateAndCreateSubscriptiongroup, body: ByteBuffer(string: "nope")))
        #expect(badBody.responseCode == .systemError)
        try await fixture.close()
    }

    @Test func delayedSendIsParkedAndDeliveredAfterItsDelay() async throws {
        let fixture = try await HandlerFixture { $0.messageDelayLevels = [.seconds(1), .seconds(1)] }
        defer { fixture.directory.remove() }
        let schedule = try Self.schedule(fixture)
        let loop = Task { try? await schedule.run() }
        defer { loop.cancel() }

        // Level 5 clamps to the highest configured level, 2 → queue 1.
        let sent = await fixture.handle(Self.send(topic: "TopicDelay", body: "later", properties: [(PropertyKey.delayLevel, "5")]))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        #expect(sent.extFields["queueId"] == "0")
        await fixture.waitForQueue(SystemNames.scheduleTopic, 1, count: 1)
        let parked = try #require(try Self.messages(fixture, SystemNames.scheduleTopic, 1).first)
        #expect(parked.message.properties[PropertyKey.realTopic] == "TopicDelay")
        #expect(parked.message.properties[PropertyKey.realQueueId] == "0")
        #expect(parked.message.properties[PropertyKey.delayLevel] == "2")

        // Bounded wait (5 s) for the delivery, woken by the store's arrival listener.
        await fixture.waitForQueue("TopicDelay", count: 1)
        let delivered = try #require(try Self.messages(fixture, "TopicDelay").first)
        #expect(delivered.storeTimestamp >= parked.storeTimestamp + 1000, "never delivered early")
        #expect(String(buffer: delivered.message.body) == "later")
        #expect(delivered.message.properties[PropertyKey.delayLevel] == nil)
        #expect(delivered.message.tags == "TagA")
        #expect(delivered.message.uniqueKey == "UNIQ-later")
        #expect(schedule.offset(level: 2) == 1)
        loop.cancel()
        await loop.value
        try await fixture.close()
    }

    @Test func progressSurvivesAReopen() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let fixture = try await HandlerFixture(directory: directory)
        for index in 0..<3 {
            let sent = await fixture.handle(Self.send(topic: "TopicReopen", body: "m\(index)", properties: [(PropertyKey.delayLevel, "1")]))
            #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        }
        await fixture.waitForQueue(SystemNames.scheduleTopic, 0, count: 3)
        let parked = try Self.messages(fixture, SystemNames.scheduleTopic, 0)
        let schedule = try Self.schedule(fixture)
        // Due only up to the second message's time: the third may share its millisecond, so deliver at least 2.
        let partial = await schedule.deliverDue(now: parked[1].storeTimestamp + 1000)
        #expect(partial >= 2)
        #expect(schedule.offset(level: 1) == Int64(partial))
        try await fixture.close()

        let reopened = try await HandlerFixture(directory: directory)
        let again = try Self.schedule(reopened)
        #expect(again.offset(level: 1) == Int64(partial), "progress read back from delayOffset.json")
        #expect(await again.deliverDue(now: Self.later) == 3 - partial)
        await reopened.waitForQueue("TopicReopen", count: 3)
        let bodies = try Self.messages(reopened, "TopicReopen").map { String(buffer: $0.message.body) }
        #expect(bodies == ["m0", "m1", "m2"], "each delivered once, in order")
        #expect(await again.deliverDue(now: Self.later) == 0)
        try await reopened.close()
    }
}
