import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// RocketMQ 5 timer messages through the handler and `TimerService`: validation, parking in
/// `rmq_sys_wheel_timer`, delivery at the deliver time, reload after a reopen, and the
/// `timerMaxDelaySec`/`timerWheelEnable` keys.
@Suite struct TimerTests {
    /// Every message of a queue, decoded.
    static func messages(_ fixture: HandlerFixture, _ topic: String, _ queueId: Int32 = 0) throws -> [StoredMessage] {
        try fixture.store.getMessages(topic: topic, queueId: queueId, offset: .zero, maximumCount: 1000).records.map { try $0.decode() }
    }

    /// A send of one message to queue 0 with the given timer properties.
    static func send(_ topic: String, _ body: String, _ extra: [(String, String)]) -> RemotingCommand {
        RetryAndDelayTests.send(topic: topic, body: body, properties: extra)
    }

    /// A timer service over the fixture's store.
    static func service(_ fixture: HandlerFixture) throws -> TimerService {
        try TimerService(store: fixture.store, storeRoot: fixture.configuration.store.rootDirectory, entriesPerFile: 4,
                         logger: HandlerFixture.logger)
    }

    @Test func badTimerPropertiesAreRefusedWithARemarkAndStoreNothing() async throws {
        let fixture = try await HandlerFixture { $0.timerMaxDelaySeconds = 10 }
        defer { fixture.directory.remove() }
        let cases: [([(String, String)], String)] = [
            ([(PropertyKey.timerDeliverMilliseconds, "tomorrow")], "TIMER_DELIVER_MS='tomorrow' is not a whole number"),
            ([(PropertyKey.timerDelaySeconds, "1.5")], "TIMER_DELAY_SEC='1.5' is not a whole number of seconds"),
            ([(PropertyKey.startDeliverTime, "soon")], "__STARTDELIVERTIME='soon' is not a whole number"),
            ([(PropertyKey.timerDelaySeconds, "11")], "beyond the maximum of 10000 ms (timerMaxDelaySec=10)"),
            ([(PropertyKey.timerDelayMilliseconds, "10500")], "timerMaxDelaySec=10"),
            ([(PropertyKey.timerDelaySeconds, String(Int64.max))], "timerMaxDelaySec=10"),
            ([(PropertyKey.timerDeliverMilliseconds, String(System.nowMilliseconds() + 3_600_000))], "timerMaxDelaySec=10"),
        ]
        for (properties, remark) in cases {
            let response = await fixture.handle(Self.send("TopicTimerBad", "bad", properties))
            #expect(response.responseCode == .messageIllegal, "\(properties)")
            #expect(response.remark?.contains(remark) == true, "\(response.remark ?? "")")
        }
        var batchProperties = MessageProperties()
        batchProperties[PropertyKey.timerDelaySeconds] = "5"
        var request = Requests.send(topic: "TopicTimerBad", body: "", code: .sendBatchMessage)
        request.body = BatchBody.encode([BatchEntry(flag: 0, body: ByteBuffer(string: "b"), properties: batchProperties)])
        let refused = await fixture.handle(request)
        #expect(refused.responseCode == .messageIllegal)
        #expect(refused.remark?.contains("batch") == true)
        #expect(fixture.store.maximumOffset(topic: SystemNames.timerTopic, queueId: 0).rawValue == 0)
        #expect(fixture.store.maximumOffset(topic: "TopicTimerBad", queueId: 0).rawValue == 0)
        // At the limit is fine; a time already past is stored at once in the real topic.
        let atLimit = await fixture.handle(Self.send("TopicTimerBad", "limit", [(PropertyKey.timerDelaySeconds, "10")]))
        #expect(atLimit.responseCode == .success, "\(atLimit.remark ?? "")")
        let past = await fixture.handle(Self.send("TopicTimerBad", "past", [(PropertyKey.timerDeliverMilliseconds, "1000")]))
        #expect(past.responseCode == .success, "\(past.remark ?? "")")
        await fixture.waitForQueue("TopicTimerBad", count: 1)
        await fixture.waitForQueue(SystemNames.timerTopic, count: 1)
        #expect(try Self.messages(fixture, "TopicTimerBad").map { String(buffer: $0.message.body) } == ["past"])
        try await fixture.close()
    }

    @Test func timerMessageIsParkedThenDeliveredAtItsTimeNeverBefore() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let deliverAt = System.nowMilliseconds() + 60_000
        let sent = await fixture.handle(Self.send("TopicTimer", "at", [
            (PropertyKey.timerDeliverMilliseconds, String(deliverAt)), (PropertyKey.delayLevel, "3"), ("color", "red"),
        ]))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        #expect(sent.extFields["queueId"] == "0")
        await fixture.waitForQueue(SystemNames.timerTopic, count: 1)
        let parked = try #require(try Self.messages(fixture, SystemNames.timerTopic).first)
        #expect(parked.message.properties[PropertyKey.realTopic] == "TopicTimer")
        #expect(parked.message.properties[PropertyKey.realQueueId] == "0")
        #expect(parked.message.properties[PropertyKey.timerOutMilliseconds] == String(deliverAt))
        #expect(parked.message.properties[PropertyKey.delayLevel] == nil, "the deliver time wins over DELAY")
        #expect(fixture.store.maximumOffset(topic: SystemNames.scheduleTopic, queueId: 2).rawValue == 0)

        let service = try Self.service(fixture)
        #expect(await service.round(now: deliverAt - 1).delivered == 0)
        #expect(service.pendingCount == 1)
        #expect(await service.round(now: deliverAt).delivered == 1)
        #expect(service.pendingCount == 0)
        #expect(service.watermark == 1)
        await fixture.waitForQueue("TopicTimer", count: 1)
        let delivered = try #require(try Self.messages(fixture, "TopicTimer").first)
        #expect(String(buffer: delivered.message.body) == "at")
        #expect(delivered.message.properties["color"] == "red")
        #expect(delivered.message.properties[PropertyKey.timerOutMilliseconds] == String(deliverAt))
        #expect(delivered.message.properties[PropertyKey.timerDeliverMilliseconds] == nil)
        #expect(delivered.message.properties[PropertyKey.realTopic] == nil)
        #expect(delivered.message.uniqueKey == "UNIQ-at")
        #expect(delivered.bornTimestamp == parked.bornTimestamp)
        #expect(await service.round(now: deliverAt + 10_000).delivered == 0, "delivered once")
        try await fixture.close()
    }

    @Test func pendingTimersSurviveAReopenAndLostEntriesAreDerivedAgain() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let base = System.nowMilliseconds()
        let fixture = try await HandlerFixture(directory: directory)
        // Far enough ahead that even a slow, loaded run parks all three.
        for (index, delay) in [20_000, 50_000, 60_000].enumerated() {
            let sent = await fixture.handle(Self.send("TopicTimerReopen", "m\(index)", [(PropertyKey.timerDeliverMilliseconds, String(base + Int64(delay)))]))
            #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        }
        await fixture.waitForQueue(SystemNames.timerTopic, count: 3)
        let first = try Self.service(fixture)
        #expect(await first.round(now: base + 20_000).delivered == 1)
        // The watermark is written once the delivered copy is flushed (20 ms flush interval here).
        let deadline = ContinuousClock.now + .seconds(30)
        while first.persistedWatermark < 1, ContinuousClock.now < deadline {
            first.persist(force: true)
            await Task.yield()
        }
        #expect(first.persistedWatermark == 1)
        try await fixture.close()

        // Lose every entry past the watermark, as if the page cache had not reached the disk.
        let log = try TimerLog(directory: directory.path + "/timerlog", entriesPerFile: 4)
        try log.truncate(from: 1)
        let reopened = try await HandlerFixture(directory: directory)
        let second = try Self.service(reopened)
        #expect(second.pendingCount == 2)
        #expect(second.watermark == 1)
        #expect(await second.round(now: base + 59_999).delivered == 1)
        #expect(await second.round(now: base + 60_000).delivered == 1)
        await reopened.waitForQueue("TopicTimerReopen", count: 3)
        #expect(try Self.messages(reopened, "TopicTimerReopen").map { String(buffer: $0.message.body) } == ["m0", "m1", "m2"])
        try await reopened.close()

        // A third start finds everything delivered: the delivered marks are trusted, nothing twice.
        let third = try await HandlerFixture(directory: directory)
        let service = try Self.service(third)
        #expect(service.pendingCount == 0)
        #expect(await service.round(now: base + 100_000).delivered == 0)
        try await third.close()
    }

    @Test func deliveredTimerLogFilesAreDeletedOnceTheWatermarkPassesThem() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let base = System.nowMilliseconds() + 30_000
        for index in 0..<10 {
            // Entry 9 is due much later: it holds the watermark, so its file stays.
            let deliverAt = base + (index == 9 ? 600_000 : Int64(index))
            let sent = await fixture.handle(Self.send("TopicTimerFiles", "f\(index)", [(PropertyKey.timerDeliverMilliseconds, String(deliverAt))]))
            #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        }
        await fixture.waitForQueue(SystemNames.timerTopic, count: 10)
        let service = try Self.service(fixture)
        let directory = fixture.configuration.store.rootDirectory + "/timerlog"
        #expect(try System.listDirectory(directory).filter { $0 != "checkpoint" }.count == 3, "4 entries per file")
        #expect(await service.round(now: base + 10).delivered == 9)
        #expect(service.watermark == 9)
        let deadline = ContinuousClock.now + .seconds(30)
        while service.persistedWatermark < 9, ContinuousClock.now < deadline {
            service.persist(force: true)
            await Task.yield()
        }
        #expect(service.persistedWatermark == 9)
        #expect(try System.listDirectory(directory) == ["00000000000000000256", "checkpoint"])
        #expect(service.log.startIndex == 8)
        try await fixture.close()
        let reopened = try await HandlerFixture(directory: fixture.directory)
        let again = try Self.service(reopened)
        #expect(again.watermark == 9)
        #expect(again.pendingCount == 1)
        try await reopened.close()
    }

    @Test func aDeliveredMarkWhoseCopyIsNotInTheLogIsDeliveredAgain() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let deliverAt = System.nowMilliseconds() + 30_000
        let sent = await fixture.handle(Self.send("TopicTimerLost", "lost", [(PropertyKey.timerDeliverMilliseconds, String(deliverAt))]))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        await fixture.waitForQueue(SystemNames.timerTopic, count: 1)
        do {
            let service = try Self.service(fixture)
            // As if a machine crash kept the delivered mark but lost the copy it points at.
            let entry = try #require(try service.log.entry(at: 0))
            try service.log.markDelivered(0, deliveredOffset: fixture.store.maximumCommitLogOffset.rawValue + 4096)
            #expect(try service.log.entry(at: 0)?.commitLogOffset == entry.commitLogOffset)
        }
        let reloaded = try Self.service(fixture)
        #expect(reloaded.pendingCount == 1, "the mark is not trusted")
        #expect(try reloaded.log.entry(at: 0)?.state == .pending)
        #expect(await reloaded.round(now: deliverAt).delivered == 1)
        await fixture.waitForQueue("TopicTimerLost", count: 1)
        let again = try Self.service(fixture)
        #expect(again.pendingCount == 0, "a real copy is trusted")
        try await fixture.close()
    }

    @Test func heapPopsInDeliverTimeOrderOnlyWhenDue() {
        var heap = TimerHeap()
        var generator = SystemRandomNumberGenerator()
        var items: [TimerHeap.Item] = []
        for index in Int64(0)..<2_000 {
            let item = TimerHeap.Item(deliverAt: Int64.random(in: 0..<500, using: &generator), index: index)
            items.append(item)
            heap.insert(item)
        }
        #expect(heap.count == 2_000)
        #expect(heap.popDue(now: -1) == nil)
        var popped: [TimerHeap.Item] = []
        while let item = heap.popDue(now: 249) { popped.append(item) }
        let expected = items.filter { $0.deliverAt <= 249 }.sorted(by: TimerHeap.Item.precedes)
        #expect(popped == expected, "earliest first, equal times in arrival order")
        #expect(heap.count == 2_000 - expected.count)
        #expect(heap.first.map { $0.deliverAt >= 250 } ?? true)
    }

    @Test func timerKeysParseAndAreCheckedLikeEveryKey() throws {
        var configuration = BrokerConfiguration(storeRoot: "/tmp/unused")
        #expect(configuration.timerMaxDelaySeconds == 259_200)
        #expect(configuration.timerWheelEnable)
        try BrokerConfigurationKeys.apply([("timerMaxDelaySec", "3600"), ("timerWheelEnable", "false")], to: &configuration)
        #expect(configuration.timerMaxDelaySeconds == 3600)
        #expect(!configuration.timerWheelEnable)
        #expect(throws: BrokerError.self) { try BrokerConfigurationKeys.apply([("timerMaxDelaySec", "0")], to: &configuration) }
        #expect(BrokerConfigurationKeys.closestKey(to: "timerMaxDelaySecs") == "timerMaxDelaySec")
        #expect(BrokerConfigurationKeys.knownKeys.contains("brokerName"), "the main table is still there")
    }

    @Test func timerPropertiesAreIgnoredWhenTheWheelIsOff() async throws {
        let fixture = try await HandlerFixture { $0.timerWheelEnable = false }
        defer { fixture.directory.remove() }
        let sent = await fixture.handle(Self.send("TopicTimerOff", "now", [(PropertyKey.timerDelaySeconds, "60")]))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        await fixture.waitForQueue("TopicTimerOff", count: 1)
        #expect(fixture.store.maximumOffset(topic: SystemNames.timerTopic, queueId: 0).rawValue == 0)
        try await fixture.close()
    }
}
