import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Transactional messages: half messages, END_TRANSACTION and check-backs (spec §15).
@Suite struct TransactionTests {
    /// A half message as the send response describes it.
    struct Half {
        var msgId: String
        var queueOffset: Int64
        var commitLogOffset: Int64
    }

    /// Sends a transactional half message to `topic` queue 0.
    static func sendHalf(_ fixture: HandlerFixture, topic: String, body: String, group: String = "PG") async throws -> Half {
        var properties = MessageProperties()
        properties[PropertyKey.tags] = "T"
        properties[PropertyKey.uniqueKey] = "0A0000070000529B00006FF14E7F00\(body.count % 10)\(body.count % 7)"
        properties[PropertyKey.transactionPrepared] = "true"
        properties[PropertyKey.producerGroup] = group
        let request = Requests.send(topic: topic, body: body, extra: [
            "producerGroup": group, "sysFlag": String(TransactionState.prepared.rawValue),
            "properties": String(decoding: properties.encoded(), as: UTF8.self),
        ])
        let response = await fixture.handle(request)
        #expect(response.responseCode == .success, "\(response.remark ?? "")")
        let msgId = try #require(response.extFields["msgId"])
        let queueOffset = try #require(response.extFields["queueOffset"].flatMap(Int64.init))
        #expect(response.extFields["queueId"] == "0")
        let offset = try MessageId.decodeOffsetId(msgId).commitLogOffset.rawValue
        return Half(msgId: msgId, queueOffset: queueOffset, commitLogOffset: offset)
    }

    /// An END_TRANSACTION for `half`.
    static func end(_ half: Half, _ kind: Int32, group: String = "PG", fromCheck: Bool = false) -> RemotingCommand {
        var request = RemotingCommand.request(code: .endTransaction, extFields: [
            "producerGroup": group, "tranStateTableOffset": String(half.queueOffset),
            "commitLogOffset": String(half.commitLogOffset), "commitOrRollback": String(kind),
            "fromTransactionCheck": String(fromCheck), "msgId": "UNIQ", "transactionId": "UNIQ",
        ])
        request.flag |= RemotingCommand.onewayFlag
        return request
    }

    /// The messages of `topic` queue 0.
    static func messages(_ store: MessageStore, _ topic: String) throws -> [StoredMessage] {
        let result = store.getMessages(topic: topic, queueId: 0, offset: .zero, maximumCount: 100)
        return try result.records.map { try $0.decode() }
    }

    static func waitDispatched(_ store: MessageStore) async {
        for _ in 0..<200 where store.dispatchedCommitLogOffset.rawValue < store.maximumCommitLogOffset.rawValue {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func halfMessageIsInvisibleUntilCommittedOnce() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let half = try await Self.sendHalf(fixture, topic: "TxTopic", body: "hello")
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxTopic").isEmpty)
        let parked = try Self.messages(fixture.store, SystemNames.transactionHalfTopic)
        #expect(parked.count == 1)
        #expect(parked.first?.message.properties[PropertyKey.realTopic] == "TxTopic")
        #expect(parked.first?.message.properties[PropertyKey.realQueueId] == "0")
        #expect(parked.first?.sysFlag.transaction == .notTransaction)

        let commit = await fixture.handle(Self.end(half, 8))
        #expect(commit.responseCode == .success, "\(commit.remark ?? "")")
        await Self.waitDispatched(fixture.store)
        let visible = try Self.messages(fixture.store, "TxTopic")
        #expect(visible.count == 1)
        let message = try #require(visible.first)
        #expect(String(buffer: message.message.body) == "hello")
        #expect(message.sysFlag.transaction == .commit)
        #expect(message.preparedTransactionOffset == half.commitLogOffset)
        #expect(message.message.properties[PropertyKey.transactionPrepared] == nil)
        #expect(message.message.properties[PropertyKey.realTopic] == nil)

        // Duplicate commit: SUCCESS, nothing stored again; rollback after commit: refused.
        #expect(await fixture.handle(Self.end(half, 8, fromCheck: true)).responseCode == .success)
        #expect(await fixture.handle(Self.end(half, 12)).responseCode == .transactionFailed)
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxTopic").count == 1)
        let ops = try Self.messages(fixture.store, SystemNames.transactionOperationTopic)
        #expect(ops.count == 1)
        #expect(ops.first.map { String(buffer: $0.message.body) } == String(half.queueOffset))
        #expect(ops.first?.message.tags == "d")
        try await fixture.close()
    }

    @Test func rollbackIsNeverVisibleAndCommitAfterRollbackIsRefused() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let half = try await Self.sendHalf(fixture, topic: "TxRollback", body: "gone")
        #expect(await fixture.handle(Self.end(half, 12)).responseCode == .success)
        let late = await fixture.handle(Self.end(half, 8))
        #expect(late.responseCode == .transactionFailed)
        #expect(late.remark?.contains("rollback") == true)
        #expect(await fixture.handle(Self.end(half, 12)).responseCode == .success)
        // A wrong group or offset is refused without deciding anything.
        #expect(await fixture.handle(Self.end(half, 8, group: "OTHER")).responseCode == .systemError)
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxRollback").isEmpty)
        try await fixture.close()
    }

    @Test func unknownStaysPendingAndCheckBackReachesTheProducer() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let half = try await Self.sendHalf(fixture, topic: "TxCheck", body: "maybe")
        #expect(await fixture.handle(Self.end(half, 0)).responseCode == .success)
        #expect(fixture.handler.transactionOutcomes.outcome(halfOffset: half.queueOffset) == nil)
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxCheck").isEmpty)

        let producer = FakeClientChannel()
        fixture.handler.clients.registerProducer(group: "PG", client: RegisteredClient(
            clientId: "p1", channel: producer, language: .cpp, version: 409, lastHeartbeat: System.nowMilliseconds()))
        let service = TransactionCheckService(
            store: fixture.store, clients: fixture.handler.clients, table: fixture.handler.transactionOutcomes, interval: .milliseconds(50), timeout: 0,
            maximumChecks: 15, logger: HandlerFixture.logger)
        // Not yet old enough with the default timeout: checked as of the moment it was stored (the
        // wall clock could be past the timeout already on a loaded machine).
        let early = TransactionCheckService(store: fixture.store, clients: fixture.handler.clients, table: fixture.handler.transactionOutcomes, logger: HandlerFixture.logger)
        let stored = try fixture.store.message(at: CommitLogOffset(half.commitLogOffset)).storeTimestamp
        #expect(await early.checkRound(now: stored).sent == 0)

        let report = await service.checkRound(now: System.nowMilliseconds() + 1)
        #expect(report.sent == 1)
        let check = try #require(producer.sent.withLock { $0.first })
        #expect(check.requestCode == .checkTransactionState)
        #expect(check.isOneway)
        #expect(check.extFields["tranStateTableOffset"] == String(half.queueOffset))
        #expect(check.extFields["commitLogOffset"] == String(half.commitLogOffset))
        #expect(check.extFields["offsetMsgId"] == half.msgId)
        #expect(check.extFields["transactionId"] == check.extFields["msgId"])
        let body = try #require(check.body)
        let shown = try body.withUnsafeReadableBytes { try StoredMessageCodec.decode($0) }
        #expect(shown.message.topic == "TxCheck")
        #expect(String(buffer: shown.message.body) == "maybe")
        #expect(fixture.handler.transactionOutcomes.checkCount(halfOffset: half.queueOffset) == 1)

        // The producer answers with a commit from the check.
        #expect(await fixture.handle(Self.end(half, 8, fromCheck: true)).responseCode == .success)
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxCheck").count == 1)
        #expect(await service.checkRound(now: System.nowMilliseconds() + 1).sent == 0)
        #expect(producer.sentCount(.checkTransactionState) == 1)
        try await fixture.close()
    }

    @Test func halfMessageIsDiscardedAfterMaximumChecks() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let half = try await Self.sendHalf(fixture, topic: "TxDiscard", body: "silent")
        await Self.waitDispatched(fixture.store)
        let producer = FakeClientChannel()
        fixture.handler.clients.registerProducer(group: "PG", client: RegisteredClient(
            clientId: "p1", channel: producer, language: .cpp, version: 409, lastHeartbeat: System.nowMilliseconds()))
        let service = TransactionCheckService(
            store: fixture.store, clients: fixture.handler.clients, table: fixture.handler.transactionOutcomes, interval: .milliseconds(50), timeout: 0,
            maximumChecks: 2, logger: HandlerFixture.logger)
        let now = System.nowMilliseconds() + 1
        #expect(await service.checkRound(now: now).sent == 1)
        #expect(await service.checkRound(now: now).sent == 1)
        #expect(await service.checkRound(now: now).discarded == 1)
        #expect(await service.checkRound(now: now) == .init())
        #expect(producer.sentCount(.checkTransactionState) == 2)
        #expect(fixture.handler.transactionOutcomes.outcome(halfOffset: half.queueOffset) == .discard)
        #expect(await fixture.handle(Self.end(half, 8)).responseCode == .transactionFailed)
        await Self.waitDispatched(fixture.store)
        #expect(try Self.messages(fixture.store, "TxDiscard").isEmpty)
        try await fixture.close()
    }

    @Test func checkCountsSurviveReopeningSoTheMaximumStillHolds() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let first = try await HandlerFixture(directory: directory)
        let half = try await Self.sendHalf(first, topic: "TxCounts", body: "counted")
        let resolved = try await Self.sendHalf(first, topic: "TxCounts", body: "resolved!")
        await Self.waitDispatched(first.store)
        let now = System.nowMilliseconds() + 1
        #expect(await Self.checker(first, maximumChecks: 2).checkRound(now: now).sent == 2)
        #expect(await first.handle(Self.end(resolved, 12)).responseCode == .success)
        try first.handler.transactionOutcomes.persistCheckCounts()
        try await first.close()

        let second = try await HandlerFixture(directory: directory)
        let table = second.handler.transactionOutcomes
        #expect(table.checkCountsLoadFailure == nil)
        #expect(table.checkCount(halfOffset: half.queueOffset) == 1, "the count survived")
        #expect(table.checkCount(halfOffset: resolved.queueOffset) == 0, "a resolved half message's count is dropped")
        let service = Self.checker(second, maximumChecks: 2)
        #expect(await service.checkRound(now: now).sent == 1)
        #expect(await service.checkRound(now: now).discarded == 1, "the second check before the restart counted")
        try await second.close()
    }

    /// A check service over `fixture` with a connected producer of group PG and no timeout.
    static func checker(_ fixture: HandlerFixture, maximumChecks: Int) -> TransactionCheckService {
        fixture.handler.clients.registerProducer(group: "PG", client: RegisteredClient(
            clientId: "p1", channel: FakeClientChannel(), language: .cpp, version: 409, lastHeartbeat: System.nowMilliseconds()))
        return TransactionCheckService(
            store: fixture.store, clients: fixture.handler.clients, table: fixture.handler.transactionOutcomes,
            interval: .milliseconds(50), timeout: 0, maximumChecks: maximumChecks, logger: HandlerFixture.logger)
    }

    @Test func outcomesSurviveReopeningTheStore() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let first = try await HandlerFixture(directory: directory)
        let committed = try await Self.sendHalf(first, topic: "TxRestart", body: "one")
        let rolledBack = try await Self.sendHalf(first, topic: "TxRestart", body: "two!")
        let pending = try await Self.sendHalf(first, topic: "TxRestart", body: "three")
        #expect(await first.handle(Self.end(committed, 8)).responseCode == .success)
        #expect(await first.handle(Self.end(rolledBack, 12)).responseCode == .success)
        await Self.waitDispatched(first.store)
        try await first.close()

        let second = try await HandlerFixture(directory: directory)
        let table = second.handler.transactionOutcomes
        #expect(table.outcome(halfOffset: committed.queueOffset) == .commit)
        #expect(table.outcome(halfOffset: rolledBack.queueOffset) == .rollback)
        #expect(table.outcome(halfOffset: pending.queueOffset) == nil)
        #expect(await second.handle(Self.end(committed, 8)).responseCode == .success)
        #expect(await second.handle(Self.end(rolledBack, 8)).responseCode == .transactionFailed)
        #expect(await second.handle(Self.end(pending, 8)).responseCode == .success)
        await Self.waitDispatched(second.store)
        let bodies = try Self.messages(second.store, "TxRestart").map { String(buffer: $0.message.body) }
        #expect(bodies == ["one", "three"])
        try await second.close()
    }

    @Test func commitStoredBeforeACrashWithoutItsOpRecordIsNotRepeated() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let first = try await HandlerFixture(directory: directory)
        let byCheck = try await Self.sendHalf(first, topic: "TxCrash", body: "by-check")
        let byEnd = try await Self.sendHalf(first, topic: "TxCrash", body: "by-end!")
        // The committed copies were stored, then the broker stopped before the op records.
        for half in [byCheck, byEnd] {
            let parked = try first.store.message(at: CommitLogOffset(half.commitLogOffset))
            let real = try #require(BrokerRequestHandler.committedMessage(parked))
            #expect(await first.store.put(real).status == .ok)
        }
        await Self.waitDispatched(first.store)
        try await first.close()

        let second = try await HandlerFixture(directory: directory)
        await Self.waitDispatched(second.store)
        let producer = FakeClientChannel()
        second.handler.clients.registerProducer(group: "PG", client: RegisteredClient(
            clientId: "p1", channel: producer, language: .cpp, version: 409, lastHeartbeat: System.nowMilliseconds()))
        let service = TransactionCheckService(
            store: second.store, clients: second.handler.clients, table: second.handler.transactionOutcomes, interval: .milliseconds(50), timeout: 0,
            maximumChecks: 15, logger: HandlerFixture.logger)
        #expect(await second.handle(Self.end(byEnd, 8)).responseCode == .success)
        #expect(await service.checkRound(now: System.nowMilliseconds() + 1).sent == 0)
        #expect(second.handler.transactionOutcomes.outcome(halfOffset: byCheck.queueOffset) == .commit)
        #expect(await second.handle(Self.end(byCheck, 8)).responseCode == .success)
        await Self.waitDispatched(second.store)
        let bodies = try Self.messages(second.store, "TxCrash").map { String(buffer: $0.message.body) }
        #expect(bodies == ["by-check", "by-end!"])
        #expect(try Self.messages(second.store, SystemNames.transactionOperationTopic).count == 2)
        try await second.close()
    }
}
