import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Offsets and the persisted tables.
@Suite struct OffsetAndTableTests {
    @Test func offsetsArePersistedAndReloaded() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let fixture = try await HandlerFixture(directory: directory)
        let update = RemotingCommand.request(code: .updateConsumerOffset, extFields: [
            "consumerGroup": "CG", "topic": "TopicOffsets", "queueId": "2", "commitOffset": "42",
        ])
        #expect(await fixture.handle(update).responseCode == .success)
        try await fixture.close()

        let file = try String(contentsOfFile: directory.path + "/config/consumerOffset.json", encoding: .utf8)
        #expect(file == #"{"offsetTable":{"TopicOffsets@CG":{"2":42}}}"#)

        let reopened = try await HandlerFixture(directory: directory)
        let query = RemotingCommand.request(code: .queryConsumerOffset, extFields: ["consumerGroup": "CG", "topic": "TopicOffsets", "queueId": "2"])
        let answer = await reopened.handle(query)
        #expect(answer.responseCode == .success)
        #expect(answer.extFields["offset"] == "42")
        try await reopened.close()
    }

    @Test func queryOffsetOfAFreshQueueIsZero() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let query = RemotingCommand.request(code: .queryConsumerOffset, extFields: ["consumerGroup": "New", "topic": "Fresh", "queueId": "0"])
        let answer = await fixture.handle(query)
        #expect(answer.responseCode == .success)
        #expect(answer.extFields["offset"] == "0")
        try await fixture.close()
    }

    @Test func queueBoundsAndTimestamps() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        for index in 0..<3 { _ = await fixture.handle(Requests.send(topic: "TopicBounds", body: "b\(index)")) }
        await fixture.waitForQueue("TopicBounds", count: 3)
        let queue = ["topic": "TopicBounds", "queueId": "0"]
        let maximum = await fixture.handle(RemotingCommand.request(code: .getMaxOffset, extFields: queue))
        #expect(maximum.extFields["offset"] == "3")
        let minimum = await fixture.handle(RemotingCommand.request(code: .getMinOffset, extFields: queue))
        #expect(minimum.extFields["offset"] == "0")
        let earliest = await fixture.handle(RemotingCommand.request(code: .getEarliestMsgStoretime, extFields: queue))
        let stored = try #require(earliest.extFields["timestamp"].flatMap { Int64($0) })
        #expect(stored > 1_700_000_000_000)
        var search = queue
        search["timestamp"] = "0"
        let found = await fixture.handle(RemotingCommand.request(code: .searchOffsetByTimestamp, extFields: search))
        #expect(found.extFields["offset"] == "0")
        search["timestamp"] = String(Int64.max)
        let none = await fixture.handle(RemotingCommand.request(code: .searchOffsetByTimestamp, extFields: search))
        #expect(none.extFields["offset"] == "3")
        try await fixture.close()
    }

    @Test func topicTableHasTemplateAndPersistsChanges() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let configuration = HandlerFixture.configuration(root: directory.path)
        let table = try TopicConfigTable(storeRoot: directory.path, configuration: configuration)
        let template = try #require(table.topic("TBW102"))
        #expect(template.perm.rawValue == 7)
        #expect(template.writeQueueNums == 8)
        #expect(table.topic("SCHEDULE_TOPIC_XXXX")?.readQueueNums == 18)
        let before = table.dataVersion
        try table.update(TopicConfig(topicName: "Orders", readQueueNums: 2, writeQueueNums: 2))
        #expect(table.dataVersion.counter == before.counter + 1)
        let reloaded = try TopicConfigTable(storeRoot: directory.path, configuration: configuration)
        #expect(reloaded.topic("Orders")?.writeQueueNums == 2)
        #expect(reloaded.dataVersion == table.dataVersion)
        #expect(try reloaded.delete("Orders"))
        #expect(try TopicConfigTable(storeRoot: directory.path, configuration: configuration).topic("Orders") == nil)

        var disabled = configuration
        disabled.autoCreateTopicEnable = false
        let other = BrokerTestDirectory()
        defer { other.remove() }
        let strict = try TopicConfigTable(storeRoot: other.path, configuration: disabled)
        #expect(strict.topic("TBW102") == nil)
        let refused = strict.createFromTemplate(topic: "New", template: "TBW102", requestedQueueNumbers: 4, topicSysFlag: 0)
        guard case .refused = refused.outcome else {
            Issue.record("auto-create must be refused without TBW102")
            return
        }
    }

    @Test func subscriptionGroupsAutoCreateWithRocketMQDefaults() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let table = try SubscriptionGroupTable(storeRoot: directory.path, autoCreate: true)
        let made = try #require(table.findOrCreate("CG_new").group)
        #expect(made.retryQueueNums == 1)
        #expect(made.retryMaxTimes == 16)
        #expect(made.consumeEnable && made.notifyConsumerIdsChangedEnable)
        let reloaded = try SubscriptionGroupTable(storeRoot: directory.path, autoCreate: false)
        #expect(reloaded.group("CG_new") == made)
        #expect(reloaded.findOrCreate("CG_other").group == nil)
    }

    @Test func corruptMetadataIsAnErrorNotAnEmptyTable() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/config", withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory.path + "/config/consumerOffset.json"))
        #expect(throws: BrokerError.self) { try ConsumerOffsetTable(storeRoot: directory.path) }
    }
}
