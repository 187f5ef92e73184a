import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Dictionaries: sampling, training, persistence, request 9001, the compressed-store marker.
@Suite struct CompressionDictionaryTests {
    /// A zstd broker configuration training after 8 samples.
    static func configure(_ configuration: inout BrokerConfiguration) {
        try? CompressionFixtures.useZstd(&configuration)
        configuration.compression.dictionarySampleCount = 8
        configuration.compression.dictionarySize = 4096
    }

    /// Waits (at most 10 s) until `topic` has a dictionary.
    static func awaitDictionary(_ fixture: HandlerFixture, _ topic: String) async throws -> CompressionDictionary {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let dictionary = fixture.handler.compression.currentDictionary(topic: topic) { return dictionary }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw PluginDirectoryError(description: "no dictionary was trained for \(topic)")
    }

    @Test func aTrainedDictionaryIsPersistedUsedServedAndSurvivesRestart() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let fixture = try await HandlerFixture(directory: directory, configure: Self.configure)
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Dict", attributes: "+compression.type=zstd")).responseCode == .success)
        let bodies = (0..<40).map(CompressionFixtures.event)
        for body in bodies.prefix(8) { _ = await fixture.handle(Requests.send(topic: "Dict", body: body)) }
        let dictionary = try await Self.awaitDictionary(fixture, "Dict")
        #expect(dictionary.topic == "Dict" && !dictionary.bytes.isEmpty && dictionary.bytes.count <= 4096)
        let file = CompressionDictionaryFile.path(storeRoot: directory.path, id: dictionary.id)
        #expect(try CompressionDictionaryFile.decode(try #require(try AtomicFile.read(file)), path: file) == dictionary)
        for body in bodies.dropFirst(8) { _ = await fixture.handle(Requests.send(topic: "Dict", body: body)) }
        await fixture.waitForQueue("Dict", count: Int64(bodies.count))
        let verbatim = try await CompressionFixtures.pullAll(fixture, "Dict", acceptsZstd: true)
        let ids = try verbatim.map { try CompressedBodyEnvelope(parsing: Array($0.message.body.readableBytesView)).dictionaryId }
        #expect(ids.prefix(8).allSatisfy { $0 == 0 }, "bodies before training use no dictionary")
        #expect(ids.dropFirst(8).allSatisfy { $0 == dictionary.id })

        let served = await fixture.handle(RemotingCommand.request(code: .petrelGetCompressionDictionary, extFields: ["dictionaryId": String(dictionary.id)]))
        #expect(served.responseCode == .success && served.extFields["topic"] == "Dict")
        #expect(served.body.map { Array($0.readableBytesView) } == dictionary.bytes)
        let unknown = await fixture.handle(RemotingCommand.request(code: .petrelGetCompressionDictionary, extFields: ["dictionaryId": "999"]))
        #expect(unknown.responseCode == .queryNotFound && unknown.remark?.contains("999") == true)
        try await fixture.close()

        let counted = fixture.handler.compression.bodyBytes(topic: "Dict")
        try fixture.handler.compression.persistCounters()
        let reopened = try await HandlerFixture(directory: directory, configure: Self.configure)
        #expect(reopened.handler.compression.currentDictionary(topic: "Dict") == dictionary)
        #expect(reopened.handler.compression.bodyBytes(topic: "Dict") == counted && counted.stored < counted.received)
        let plain = try await CompressionFixtures.pullAll(reopened, "Dict", acceptsZstd: false)
        #expect(plain.map { String(buffer: $0.message.body) } == bodies)
        try await reopened.close()
    }

    @Test func retrainingGivesANewLargerIdAndKeepsTheOldDictionary() async throws {
        let fixture = try await HandlerFixture { configuration in
            Self.configure(&configuration)
            configuration.compression.dictionaryRetrainMessages = 4
        }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Retrain", attributes: "+compression.type=zstd"))
        for body in (0..<8).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Retrain", body: body)) }
        let first = try await Self.awaitDictionary(fixture, "Retrain")
        // 4 uses with the first dictionary start sampling again; 8 samples train the second.
        for body in (8..<24).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Retrain", body: body)) }
        let deadline = ContinuousClock.now + .seconds(10)
        while fixture.handler.compression.currentDictionary(topic: "Retrain")?.id == first.id, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let second = try #require(fixture.handler.compression.currentDictionary(topic: "Retrain"))
        #expect(second.id > first.id)
        #expect(fixture.handler.compression.dictionary(first.id) == first, "the old dictionary stays for the messages using it")
        await fixture.waitForQueue("Retrain", count: 24)
        let plain = try await CompressionFixtures.pullAll(fixture, "Retrain", acceptsZstd: false)
        #expect(plain.map { String(buffer: $0.message.body) } == (0..<24).map(CompressionFixtures.event))
        try await fixture.close()
    }

    @Test func supersededDictionariesSettleRetireAndGoOnlyBelowTheMinimumOffset() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let fixture = try await HandlerFixture(directory: directory) { configuration in
            Self.configure(&configuration)
            configuration.compression.dictionaryRetrainMessages = 4
        }
        let compression = fixture.handler.compression
        _ = await fixture.handle(CompressionFixtures.updateTopic("Old", attributes: "+compression.type=zstd"))
        for body in (0..<8).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Old", body: body)) }
        let first = try await Self.awaitDictionary(fixture, "Old")
        #expect(compression.retireDictionaries(minimumOffset: Int64.max, maximumOffset: 0).isEmpty, "the current one never goes")
        for body in (8..<24).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Old", body: body)) }
        let deadline = ContinuousClock.now + .seconds(10)
        while compression.currentDictionary(topic: "Old")?.id == first.id, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(compression.currentDictionary(topic: "Old")?.id != first.id)
        let retiredFile = StoreBodyCompression.retiredPath(storeRoot: directory.path)

        #expect(compression.retireDictionaries(minimumOffset: 5000, maximumOffset: 1000).isEmpty, "settling first")
        #expect(compression.retireDictionaries(minimumOffset: 500, maximumOffset: 1000).isEmpty, "retired after 1000")
        #expect(try StoreBodyCompression.readRetired(storeRoot: directory.path) == [first.id: 1000])
        // A body compressed with it re-stored unchanged (retry, schedule …) puts it back in use, durably.
        let envelope = CompressedBodyEnvelope(originalLength: 300, dictionaryId: first.id)
        var restored = StoredMessage(
            message: Message(topic: "%RETRY%G", body: ByteBuffer(bytes: envelope.bytes + [0x28, 0xB5])), queueId: 0,
            bornTimestamp: 0, bornHost: .unspecified)
        restored.sysFlag.compression = .zstd
        try compression.noteRestored([restored])
        #expect(try StoreBodyCompression.readRetired(storeRoot: directory.path).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 5000, maximumOffset: 2000).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 1500, maximumOffset: 2000).isEmpty, "retired after 2000")
        #expect(compression.retireDictionaries(minimumOffset: 2001, maximumOffset: 3000) == [first.id])
        #expect(compression.dictionary(first.id) == nil)
        #expect(!System.exists(CompressionDictionaryFile.path(storeRoot: directory.path, id: first.id)))
        #expect(System.exists(retiredFile))
        #expect(compression.currentDictionary(topic: "Old") != nil)
        try await fixture.close()
    }

    @Test func aStoreWithCompressedBodiesRefusesToOpenWithoutACompressor() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let fixture = try await HandlerFixture(directory: directory) { try? CompressionFixtures.useZstd(&$0) }
        #expect(!System.exists(CompressedStoreMarker.path(storeRoot: directory.path)), "no marker before a compressed body")
        _ = await fixture.handle(CompressionFixtures.updateTopic("Marked", attributes: "+compression.type=zstd"))
        #expect(await fixture.handle(Requests.send(topic: "Marked", body: CompressionFixtures.event(1))).responseCode == .success)
        #expect(try CompressedStoreMarker.read(storeRoot: directory.path) == ["zstd"])
        try await fixture.close()
        let configuration = HandlerFixture.configuration(root: directory.path)
        let error = #expect(throws: BrokerError.self) {
            _ = try StoreBodyCompression.open(configuration.compression, storeRoot: directory.path, logger: HandlerFixture.logger)
        }
        #expect(error?.message.contains("zstd") == true && error?.message.contains("compressorPlugin") == true, "\(error?.message ?? "")")
    }

    @Test func aLostDictionaryFileDoesNotGiveItsIdToTheNextDictionary() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        var fixture = try await HandlerFixture(directory: directory, configure: Self.configure)
        _ = await fixture.handle(CompressionFixtures.updateTopic("Lost", attributes: "+compression.type=zstd"))
        for body in (0..<8).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Lost", body: body)) }
        let first = try await Self.awaitDictionary(fixture, "Lost")
        #expect(try CompressionDictionaryFile.readHighestId(storeRoot: directory.path) == first.id)
        try await fixture.close()
        // The file is lost outside the broker; the next dictionary must still get a new id.
        try System.remove(CompressionDictionaryFile.path(storeRoot: directory.path, id: first.id))
        fixture = try await HandlerFixture(directory: directory, configure: Self.configure)
        #expect(fixture.handler.compression.currentDictionary(topic: "Lost") == nil)
        for body in (8..<16).map(CompressionFixtures.event) { _ = await fixture.handle(Requests.send(topic: "Lost", body: body)) }
        let second = try await Self.awaitDictionary(fixture, "Lost")
        #expect(second.id == first.id + 1)
        try await fixture.close()
        try AtomicFile.write(Array("seven".utf8), to: CompressionDictionaryFile.highestIdPath(storeRoot: directory.path))
        #expect(throws: BrokerError.self) { try CompressionDictionaryFile.readHighestId(storeRoot: directory.path) }
    }

    @Test func dictionaryFilesRoundTripAndDamageIsRefused() throws {
        let dictionary = CompressionDictionary(id: 300, topic: "Tópico", bytes: Array(0..<200).map { UInt8($0) })
        var bytes = CompressionDictionaryFile.encode(dictionary)
        #expect(bytes.count == CompressionDictionaryFile.fixedSize + "Tópico".utf8.count + 200)
        #expect(try CompressionDictionaryFile.decode(bytes, path: "x") == dictionary)
        bytes[20] ^= 0x01
        #expect(throws: BrokerError.self) { try CompressionDictionaryFile.decode(bytes, path: "x") }
    }
}
