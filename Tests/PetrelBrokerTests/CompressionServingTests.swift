import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Serving compressed topics: plain-body pulls within the pull byte budget (which the store
/// measures in compressed bytes), faithful re-encoding, large bodies compressed off the event loop.
@Suite struct CompressionServingTests {
    @Test func plainBodiesOfHighlyCompressibleMessagesStayWithinThePullByteBudget() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        let created = await fixture.handle(CompressionFixtures.updateTopic(
            "Sparse", attributes: "+compression.type=zstd,+compression.dictionary=false"))
        #expect(created.responseCode == .success, "\(created.remark ?? "")")
        // 60 KiB of one letter (the fixture's limit is 64 KiB) compresses to a few dozen bytes: 32
        // fit one pull's stored budget, while their plain bodies take 1.9 MiB.
        let bodySize = 60 * 1024
        let bodies = (0..<32).map { index in String(repeating: Character(UnicodeScalar(UInt8(65 + index))), count: bodySize) }
        for body in bodies {
            #expect(await fixture.handle(Requests.send(topic: "Sparse", body: body)).responseCode == .success)
        }
        await fixture.waitForQueue("Sparse", count: Int64(bodies.count))

        let verbatim = await fixture.handle(CompressionFixtures.pull("Sparse", offset: 0, acceptsZstd: true))
        #expect(try Requests.messages(in: verbatim).count == bodies.count, "the stored bodies all fit one pull")

        let first = await fixture.handle(CompressionFixtures.pull("Sparse", offset: 0, acceptsZstd: false))
        #expect(first.responseCode == .success)
        let size = first.body?.readableBytes ?? 0
        #expect(size <= BrokerRequestHandler.maximumPullBytes + bodySize + 1024, "a plain pull answered \(size) bytes")
        let firstMessages = try Requests.messages(in: first)
        #expect(first.extFields["nextBeginOffset"] == String(firstMessages.count), "the next pull starts after the last record sent")

        let plain = try await CompressionFixtures.pullAll(fixture, "Sparse", acceptsZstd: false)
        #expect(plain.count == bodies.count)
        #expect(plain.map { String(buffer: $0.message.body) } == bodies, "every message arrives once, in order, across pulls")
        try await fixture.close()
    }

    @Test func aReEncodedRecordDiffersFromTheStoredOneOnlyInBodyChecksumAndCompressionBits() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Events", attributes: "+compression.type=zstd,+compression.dictionary=false"))
        let bodies = (0..<5).map(CompressionFixtures.event)
        for body in bodies {
            #expect(await fixture.handle(Requests.send(topic: "Events", body: body, tags: "TagA", keys: "K1 K2")).responseCode == .success)
        }
        await fixture.waitForQueue("Events", count: Int64(bodies.count))
        let stored = try await CompressionFixtures.pullAll(fixture, "Events", acceptsZstd: true)
        let plain = try await CompressionFixtures.pullAll(fixture, "Events", acceptsZstd: false)
        try #require(stored.count == bodies.count && plain.count == bodies.count)
        for (original, served) in zip(stored, plain) {
            #expect(original.sysFlag.compression == .zstd && served.sysFlag.compression == nil)
            var expected = original
            expected.message.body = served.message.body
            expected.sysFlag.compression = nil
            expected.bodyCRC = served.message.body.withUnsafeReadableBytes { CRC32.bodyChecksum($0) }
            #expect(served == expected, "every field but the body, its checksum and the compression bits is kept")
        }
        try await fixture.close()
    }

    @Test func compressedTopicsStoreCompactRecordsUnlessTheTopicAsksForStandardOnesAndBothServeAlike() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Compact", attributes: "+compression.type=zstd,+compression.dictionary=false"))
        _ = await fixture.handle(CompressionFixtures.updateTopic(
            "Standard", attributes: "+compression.type=zstd,+compression.dictionary=false,+compression.record.format=standard"))
        _ = await fixture.handle(CompressionFixtures.updateTopic("Plain", attributes: "+compression.type=none"))
        let bodies = (0..<4).map(CompressionFixtures.event)
        var served: [String: [StoredMessage]] = [:]
        for topic in ["Compact", "Standard", "Plain"] {
            for body in bodies {
                #expect(await fixture.handle(Requests.send(topic: topic, body: body, tags: "TagA", keys: "K1")).responseCode == .success)
            }
            await fixture.waitForQueue(topic, count: Int64(bodies.count))
            let units = fixture.store.getMessages(topic: topic, queueId: 0, offset: .zero, maximumCount: 32)
            let compact = units.records.map(\.isCompact)
            #expect(compact == Array(repeating: topic == "Compact", count: units.records.count), "\(topic): \(compact)")
            served[topic] = try await CompressionFixtures.pullAll(fixture, topic, acceptsZstd: false)
        }
        for topic in ["Compact", "Standard", "Plain"] {
            #expect(served[topic]?.map { Array($0.message.body.readableBytesView) } == bodies.map { Array($0.utf8) }, "\(topic)")
            #expect(served[topic]?.allSatisfy { $0.message.properties[PropertyKey.tags] == "TagA" } == true)
        }
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Bad", attributes: "+compression.record.format=tiny"))
            .remark?.contains("compression.record.format") == true)
        try await fixture.close()
    }

    @Test func largeBodiesAreNotCompressedOnTheEventLoop() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Large", attributes: "+compression.type=zstd,+compression.dictionary=false"))
        let limit = BrokerRequestHandler.largestBodyCompressedOnEventLoop
        let small = fixture.handler.sendOnEventLoop(Requests.send(topic: "Large", body: String(repeating: "s", count: limit)), client: FakeClientChannel())
        #expect(small.response?.responseCode == .success, "a body up to the limit is still stored on the loop")
        let large = Requests.send(topic: "Large", body: String(repeating: "l", count: limit + 1))
        #expect(fixture.handler.sendOnEventLoop(large, client: FakeClientChannel()).isDeclined, "a larger body goes to the task path")
        #expect(await fixture.handle(large).responseCode == .success)
        await fixture.waitForQueue("Large", count: 2)
        let stored = try await CompressionFixtures.pullAll(fixture, "Large", acceptsZstd: true)
        #expect(stored.map(\.sysFlag.compression) == [.zstd, .zstd])
        try await fixture.close()
    }
}
