import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// A stored record whose zstd body cannot be decompressed (here: its dictionary file is gone) does
/// not block its queue for clients that need plain bodies: pulls leave it out and move past it.
@Suite struct CompressionUndecodableTests {
    /// Stores 8 bodies without a dictionary, 2 with the trained dictionary `Broken`, then deletes the
    /// dictionary file, reopens the broker and stores 2 more (again without a dictionary). Returns the
    /// reopened fixture and the bodies in queue order.
    static func storeWithLostDictionary(_ directory: BrokerTestDirectory) async throws -> (HandlerFixture, [String]) {
        let fixture = try await HandlerFixture(directory: directory, configure: CompressionDictionaryTests.configure)
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Broken", attributes: "+compression.type=zstd")).responseCode == .success)
        let bodies = (0..<12).map(CompressionFixtures.event)
        for body in bodies.prefix(8) { #expect(await fixture.handle(Requests.send(topic: "Broken", body: body)).responseCode == .success) }
        let dictionary = try await CompressionDictionaryTests.awaitDictionary(fixture, "Broken")
        for body in bodies[8..<10] { #expect(await fixture.handle(Requests.send(topic: "Broken", body: body)).responseCode == .success) }
        await fixture.waitForQueue("Broken", count: 10)
        try await fixture.close()
        try FileManager.default.removeItem(atPath: CompressionDictionaryFile.path(storeRoot: directory.path, id: dictionary.id))

        let reopened = try await HandlerFixture(directory: directory, configure: CompressionDictionaryTests.configure)
        #expect(reopened.handler.compression.dictionary(dictionary.id) == nil)
        for body in bodies[10...] { #expect(await reopened.handle(Requests.send(topic: "Broken", body: body)).responseCode == .success) }
        await reopened.waitForQueue("Broken", count: 12)
        return (reopened, bodies)
    }

    @Test func aPlainPullSkipsARecordThatCannotBeDecompressedAndCountsIt() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let (fixture, bodies) = try await Self.storeWithLostDictionary(directory)

        let first = await fixture.handle(CompressionFixtures.pull("Broken", offset: 0, acceptsZstd: false))
        #expect(first.responseCode == .success, "\(first.remark ?? "")")
        let served = try Requests.messages(in: first)
        #expect(served.map { String(buffer: $0.message.body) } == Array(bodies[0..<8] + bodies[10...]))
        #expect(served.map(\.queueOffset.rawValue) == [0, 1, 2, 3, 4, 5, 6, 7, 10, 11])
        #expect(first.extFields["nextBeginOffset"] == "12")
        #expect(first.extFields[BrokerRequestHandler.undecodableOffsetsField] == "8,9")
        #expect(first.extFields[BrokerRequestHandler.undecodableReasonField]?.contains("dictionary") == true,
                "\(first.extFields[BrokerRequestHandler.undecodableReasonField] ?? "")")
        #expect(fixture.handler.compression.undecodableSkips(topic: "Broken") == 2)

        // A batch of nothing but undecodable records still moves the consumer past them.
        let stuck = await fixture.handle(Requests.pull(topic: "Broken", offset: 8, maxMessages: 2, sysFlag: 4, suspendMilliseconds: 0))
        #expect(stuck.responseCode == .pullRetryImmediately)
        #expect(stuck.extFields["nextBeginOffset"] == "10" && stuck.body == nil)
        let maximum = await fixture.handle(RemotingCommand.request(code: .getMaxOffset, extFields: ["topic": "Broken", "queueId": "0"]))
        #expect(maximum.extFields["undecodableBodies"] == "4")

        // The records stay: verbatim for a client that decompresses itself, a clear error by id.
        let verbatim = await fixture.handle(CompressionFixtures.pull("Broken", offset: 8, acceptsZstd: true))
        let kept = try Requests.messages(in: verbatim)
        #expect(kept.map(\.queueOffset.rawValue) == [8, 9, 10, 11] && kept[0].sysFlag.compression == .zstd)
        let viewed = await fixture.handle(RemotingCommand.request(
            code: .viewMessageById, extFields: ["offset": String(kept[0].commitLogOffset.rawValue)]))
        #expect(viewed.responseCode == .systemError && viewed.remark?.contains("dictionary") == true, "\(viewed.remark ?? "")")
        try await fixture.close()
    }

    @Test func aHalfMessageThatCannotBeDecompressedIsStillCheckedWithAnEmptyBody() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        var fixture = try await HandlerFixture(directory: directory, configure: CompressionDictionaryTests.configure)
        #expect(await fixture.handle(CompressionFixtures.updateTopic("TxLost", attributes: "+compression.type=zstd")).responseCode == .success)
        for body in (0..<8).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "TxLost", body: body)) }
        let dictionary = try await CompressionDictionaryTests.awaitDictionary(fixture, "TxLost")
        let half = try await TransactionTests.sendHalf(fixture, topic: "TxLost", body: CompressionFixtures.event(20))
        let stored = try fixture.store.message(at: CommitLogOffset(half.commitLogOffset))
        let envelope = try CompressedBodyEnvelope(parsing: Array(stored.message.body.readableBytesView))
        #expect(stored.sysFlag.compression == .zstd && envelope.dictionaryId == dictionary.id)
        try await fixture.close()
        try FileManager.default.removeItem(atPath: CompressionDictionaryFile.path(storeRoot: directory.path, id: dictionary.id))

        fixture = try await HandlerFixture(directory: directory, configure: CompressionDictionaryTests.configure)
        let producer = FakeClientChannel()
        fixture.handler.clients.registerProducer(group: "PG", client: RegisteredClient(
            clientId: "p1", channel: producer, language: .cpp, version: 409, lastHeartbeat: System.nowMilliseconds()))
        let service = TransactionCheckService(
            store: fixture.store, clients: fixture.handler.clients, table: fixture.handler.transactionOutcomes, timeout: 0,
            compression: fixture.handler.compression, logger: HandlerFixture.logger)
        #expect(await service.checkRound(now: System.nowMilliseconds() + 1).sent == 1)
        let check = try #require(producer.sent.withLock { $0.first })
        #expect(check.requestCode == .checkTransactionState && check.extFields["offsetMsgId"] == half.msgId)
        let body = try #require(check.body)
        let shown = try body.withUnsafeReadableBytes { try StoredMessageCodec.decode($0) }
        #expect(shown.message.body.readableBytes == 0 && shown.sysFlag.compression == nil)
        #expect(shown.message.topic == "TxLost" && check.extFields["transactionId"] == shown.message.uniqueKey)
        try await fixture.close()
    }

    @Test func skipsAreLoggedOncePerTopicAndMinuteWithTheCountKeptQuiet() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        let compression = fixture.handler.compression
        let minute: Int64 = 29_400_000 * 60_000
        #expect(compression.undecodableSkipToLog(topic: "A", nowMilliseconds: minute) == 0)
        #expect(compression.undecodableSkipToLog(topic: "A", nowMilliseconds: minute + 1_000) == nil)
        #expect(compression.undecodableSkipToLog(topic: "A", nowMilliseconds: minute + 59_999) == nil)
        #expect(compression.undecodableSkipToLog(topic: "B", nowMilliseconds: minute + 2_000) == 0)
        #expect(compression.undecodableSkipToLog(topic: "A", nowMilliseconds: minute + 60_000) == 2)
        #expect(compression.undecodableSkipToLog(topic: "A", nowMilliseconds: minute + 180_000) == 0)
        try await fixture.close()
    }
}
