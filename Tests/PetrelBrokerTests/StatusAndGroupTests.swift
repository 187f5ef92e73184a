import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// GET_BROKER_RUNTIME_INFO (28), DELETE_SUBSCRIPTIONGROUP (207), the statistics behind the runtime
/// table, and the transaction check keys of `broker.conf`.
@Suite struct StatusAndGroupTests {
    @Test func runtimeInfoCountsSendsAndPullsAndDescribesTheStore() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        for index in 0..<3 { _ = await fixture.handle(Requests.send(topic: "TopicStatus", body: "m\(index)")) }
        await fixture.waitForQueue("TopicStatus", count: 3)
        let pulled = await fixture.handle(Requests.pull(topic: "TopicStatus", offset: 1, suspendMilliseconds: 0))
        #expect(try Requests.messages(in: pulled).count == 2)

        let response = await fixture.handle(RemotingCommand.request(code: .getBrokerRuntimeInfo))
        #expect(response.responseCode == .success)
        let table = try KVTable(jsonBuffer: try #require(response.body)).table
        #expect(table["msgPutTotalTodayNow"] == "3")
        #expect(table["msgGetTotalTodayNow"] == "2")
        #expect(table["brokerVersionDesc"] == "V4_9_8")
        #expect(table["brokerVersion"] == String(RemotingCommand.currentVersion))
        #expect(table["commitLogMaxOffset"] == String(fixture.store.maximumCommitLogOffset.rawValue))
        #expect(table["commitLogMinOffset"] == "0")
        #expect(table["bootTimestamp"] == String(fixture.handler.statistics.bootTimestamp))
        let ratio = try #require(table["commitLogDiskRatio"].flatMap(Double.init))
        #expect(ratio > 0 && ratio < 1)
        #expect(table["runtime"]?.hasPrefix("[ 0 days, 0 hours, ") == true)
        #expect(table["putTps"]?.split(separator: " ").count == 3)
        #expect(table["sendThreadPoolQueueSize"] == nil, "figures Petrel does not measure are left out")
        try await fixture.close()
    }

    @Test func ratesUseTheNewestSampleOutsideEachWindow() {
        let statistics = BrokerStatistics(bootTimestamp: 1_000_000)
        statistics.recordPuts(100)
        statistics.sample(now: 1_010_000)
        #expect(statistics.rate(window: 10, now: 1_010_000, puts: true) == 10)
        statistics.recordPuts(50)
        statistics.recordGets(30)
        // 10 s: from the sample at 1 010 000; 1 min and 10 min: from boot (no older sample).
        #expect(statistics.rates(now: 1_020_000, puts: true) == "5.00 7.50 7.50")
        #expect(statistics.rates(now: 1_020_000, puts: false) == "3.00 1.50 1.50")
        #expect(BrokerStatistics(bootTimestamp: 5).rates(now: 5, puts: true) == "0.00 0.00 0.00")
        #expect(BrokerStatistics.twoDecimals(1.0 / 3) == "0.33" && BrokerStatistics.twoDecimals(2.5) == "2.50")
    }

    @Test func midnightTotalsRollOverOnTheFirstSampleOfANewDay() {
        let day = BrokerStatistics.dayMilliseconds
        let statistics = BrokerStatistics(bootTimestamp: 10 * day + 1000)
        statistics.recordPuts(4)
        statistics.sample(now: 10 * day + 2000)
        #expect(statistics.midnightTotals.today.puts == 0, "no midnight seen yet")
        statistics.recordPuts(3)
        statistics.recordGets(2)
        statistics.sample(now: 11 * day + 500)
        #expect(statistics.midnightTotals.today.puts == 7 && statistics.midnightTotals.today.gets == 2)
        #expect(statistics.midnightTotals.yesterday.puts == 0)
        statistics.recordPuts(1)
        statistics.sample(now: 12 * day + 500)
        #expect(statistics.midnightTotals.today.puts == 8 && statistics.midnightTotals.yesterday.puts == 7)
        statistics.sample(now: 15 * day)
        #expect(statistics.midnightTotals.yesterday.puts == 8, "after days without samples both mornings are the latest reading")
    }

    @Test func textFormatsMatchJava() {
        #expect(BrokerRequestHandler.uptimeText(milliseconds: 90_061_000) == "[ 1 days, 1 hours, 1 minutes, 1 seconds ]")
        #expect(BrokerRequestHandler.humanReadableBytes(512) == "512 B")
        #expect(BrokerRequestHandler.humanReadableBytes(1536) == "1.5 KiB")
        #expect(BrokerRequestHandler.humanReadableBytes(3 * 1024 * 1024) == "3.0 MiB")
    }

    @Test func deleteSubscriptionGroupRemovesItAndOptionallyItsOffsets() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        for group in ["CG_gone", "CG_kept"] {
            let update = await fixture.handle(RemotingCommand.request(
                code: .updateAndCreateSubscriptiongroup, body: SubscriptionGroupConfig(groupName: group).jsonBuffer()))
            #expect(update.responseCode == .success)
        }
        let offsets = fixture.handler.offsets
        offsets.commit(group: "CG_gone", topic: "TopicA", queueId: 0, offset: 5)
        offsets.commit(group: "CG_gone", topic: "TopicB", queueId: 1, offset: 7)
        offsets.commit(group: "CG_kept", topic: "TopicA", queueId: 0, offset: 9)
        offsets.commit(group: "CG_gone_too", topic: "TopicA", queueId: 0, offset: 3)

        let deleted = await fixture.handle(Self.delete("CG_gone", removeOffset: "true"))
        #expect(deleted.responseCode == .success, "\(deleted.remark ?? "")")
        #expect(fixture.handler.subscriptionGroups.group("CG_gone") == nil)
        #expect(offsets.offset(group: "CG_gone", topic: "TopicA", queueId: 0) == nil)
        #expect(offsets.offset(group: "CG_gone", topic: "TopicB", queueId: 1) == nil)
        #expect(offsets.offset(group: "CG_kept", topic: "TopicA", queueId: 0) == 9)
        #expect(offsets.offset(group: "CG_gone_too", topic: "TopicA", queueId: 0) == 3, "a longer group name is not a match")
        let reloaded = try SubscriptionGroupTable(storeRoot: fixture.configuration.store.rootDirectory, autoCreate: false)
        #expect(reloaded.group("CG_gone") == nil && reloaded.group("CG_kept") != nil, "the deletion is persisted")

        let again = await fixture.handle(Self.delete("CG_gone"))
        #expect(again.responseCode == .subscriptionGroupNotExist)
        #expect(again.remark?.contains("CG_gone") == true)

        let keepOffsets = await fixture.handle(Self.delete("CG_kept", removeOffset: "false"))
        #expect(keepOffsets.responseCode == .success)
        #expect(offsets.offset(group: "CG_kept", topic: "TopicA", queueId: 0) == 9, "offsets stay without removeOffset")
        try await fixture.close()
    }

    @Test func deleteSubscriptionGroupRefusesBadRequests() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let missing = await fixture.handle(RemotingCommand.request(code: .deleteSubscriptiongroup))
        #expect(missing.responseCode == .systemError && missing.remark?.contains("groupName") == true)
        let system = await fixture.handle(Self.delete("TOOLS_CONSUMER"))
        #expect(system.responseCode == .systemError && system.remark?.contains("system group") == true)
        #expect(fixture.handler.subscriptionGroups.group("TOOLS_CONSUMER") != nil)
        let badFlag = await fixture.handle(Self.delete("CG_x", removeOffset: "maybe"))
        #expect(badFlag.responseCode == .systemError && badFlag.remark?.contains("removeOffset") == true)
        try await fixture.close()
    }

    @Test func transactionCheckKeysReachTheConfiguration() throws {
        var configuration = BrokerConfiguration(storeRoot: "/nowhere")
        #expect(configuration.transactionCheckInterval == 60_000 && configuration.transactionTimeOut == 6_000)
        #expect(configuration.transactionCheckMax == 15)
        let text = "transactionCheckInterval=500\ntransactionTimeOut=1000\ntransactionCheckMax=3\n"
        try BrokerConfigurationKeys.apply(BrokerConfigurationKeys.parseProperties(text), to: &configuration)
        #expect(configuration.transactionCheckInterval == 500 && configuration.transactionTimeOut == 1000)
        #expect(configuration.transactionCheckMax == 3)
        #expect(throws: BrokerError.self) {
            try BrokerConfigurationKeys.apply([("transactionCheckMax", "0")], to: &configuration)
        }
        #expect(BrokerConfigurationKeys.closestKey(to: "transactionTimeout") == "transactionTimeOut")
    }

    /// A DELETE_SUBSCRIPTIONGROUP request.
    static func delete(_ group: String, removeOffset: String? = nil) -> RemotingCommand {
        var fields = ["groupName": group]
        if let removeOffset { fields["removeOffset"] = removeOffset }
        return RemotingCommand.request(code: .deleteSubscriptiongroup, extFields: fields)
    }
}
