import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Store compression through the handler, against a real store and the real compress-zstd plugin.
@Suite struct CompressionTests {
    @Test func compressionKeysParseAndBadValuesNameTheKey() throws {
        var configuration = BrokerConfiguration(storeRoot: "/tmp/unused")
        try BrokerConfigurationKeys.apply([
            ("compressorPlugin", "compress-zstd"), ("pluginDirectory", "/opt/plugins"), ("compressionType", "ZSTD"),
            ("compressionLevel", "7"), ("compressionMinBodySize", "128"), ("compressionDictionaryEnable", "false"),
            ("compressionDictionarySampleCount", "500"), ("compressionDictionarySize", "8192"),
            ("compressionDictionaryRetrainMessages", "0"), ("compressorPluginConfig", ""),
        ], to: &configuration)
        let compression = configuration.compression
        #expect(compression.compressorPlugin == .named("compress-zstd"))
        #expect(compression.pluginDirectory == "/opt/plugins")
        #expect(compression.defaults == TopicCompressionSettings(codec: .zstd, level: 7, minimumBodySize: 128, usesDictionary: false))
        #expect(compression.dictionarySampleCount == 500 && compression.dictionarySize == 8192 && compression.dictionaryRetrainMessages == 0)
        try BrokerConfigurationKeys.apply([("compressorPlugin", "./lib/zstd.so")], to: &configuration)
        #expect(configuration.compression.compressorPlugin == .path("./lib/zstd.so"))
        for (key, value) in [("compressionType", "lz4"), ("compressionLevel", "23"), ("compressorPlugin", "Bad Name"),
                             ("compressionDictionarySize", "10"), ("compressionDictionaryEnable", "yes")] {
            let error = #expect(throws: BrokerError.self) { try BrokerConfigurationKeys.apply([(key, value)], to: &configuration) }
            #expect(error?.code == .invalidConfigurationValue)
            #expect(error?.message.contains(key) == true, "\(error?.message ?? "")")
        }
    }

    @Test func startUpRefusesADefaultZstdWithoutACompressorAndAPluginThatDoesNotLoad() throws {
        var configuration = CompressionConfiguration()
        configuration.defaults.codec = .zstd
        let missing = #expect(throws: BrokerError.self) {
            _ = try StoreBodyCompression.open(configuration, storeRoot: nil, logger: HandlerFixture.logger)
        }
        #expect(missing?.message.contains("compressionType") == true && missing?.message.contains("compressorPlugin") == true)
        configuration.compressorPlugin = .path("/nonexistent/compress-zstd.so")
        let unloadable = #expect(throws: BrokerError.self) {
            _ = try StoreBodyCompression.open(configuration, storeRoot: nil, logger: HandlerFixture.logger)
        }
        #expect(unloadable?.message.contains("compressorPlugin='/nonexistent/compress-zstd.so'") == true, "\(unloadable?.message ?? "")")
    }

    @Test func zstdBodiesAreStoredCompressedAndServedPlainUnlessTheClientAcceptsZstd() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        let created = await fixture.handle(CompressionFixtures.updateTopic(
            "Events", attributes: "+compression.type=zstd,+compression.dictionary=false,+compression.min.body.size=100"))
        #expect(created.responseCode == .success, "\(created.remark ?? "")")
        #expect(fixture.handler.topics.topic("Events")?.attributes["compression.type"] == "zstd")
        let bodies = (0..<20).map(CompressionFixtures.event) + ["tiny body under the minimum"]
        for body in bodies {
            let sent = await fixture.handle(Requests.send(topic: "Events", body: body))
            #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        }
        await fixture.waitForQueue("Events", count: Int64(bodies.count))

        let plain = try await CompressionFixtures.pullAll(fixture, "Events", acceptsZstd: false)
        #expect(plain.map { String(buffer: $0.message.body) } == bodies)
        #expect(plain.allSatisfy { $0.sysFlag.compression == nil })

        let verbatim = try await CompressionFixtures.pullAll(fixture, "Events", acceptsZstd: true)
        #expect(verbatim.count == bodies.count)
        for (message, body) in zip(verbatim.dropLast(), bodies) {
            #expect(message.sysFlag.compression == .zstd)
            let envelope = try CompressedBodyEnvelope(parsing: Array(message.message.body.readableBytesView))
            #expect(envelope.originalLength == body.utf8.count && envelope.dictionaryId == 0)
            #expect(message.message.body.readableBytes < body.utf8.count)
            #expect(try fixture.handler.compression.plainBody(message.message.body) == Array(body.utf8))
        }
        #expect(verbatim.last?.sysFlag.compression == nil, "a body under compression.min.body.size is stored as sent")

        let bytes = fixture.handler.compression.bodyBytes(topic: "Events")
        #expect(bytes.received == Int64(bodies.reduce(0) { $0 + $1.utf8.count }))
        #expect(bytes.stored < bytes.received)
        let maximum = await fixture.handle(RemotingCommand.request(code: .getMaxOffset, extFields: ["topic": "Events", "queueId": "0"]))
        #expect(maximum.extFields["bodyBytesStored"] == String(bytes.stored))
        #expect(maximum.extFields["bodyBytesReceived"] == String(bytes.received))

        // View by id serves the plain body too.
        let offset = verbatim[0].commitLogOffset.rawValue
        let viewed = await fixture.handle(RemotingCommand.request(code: .viewMessageById, extFields: ["offset": String(offset)]))
        #expect(try Requests.messages(in: viewed).first.map { String(buffer: $0.message.body) } == bodies[0])
        try await fixture.close()
    }

    @Test func clientCompressedAndIncompressibleBodiesAreStoredAsSent() async throws {
        let fixture = try await HandlerFixture { try? CompressionFixtures.useZstd(&$0) }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Mixed", attributes: "+compression.type=zstd,+compression.min.body.size=0"))
        let zlibFlagged = String(repeating: "z", count: 500)
        var flagged = Requests.send(topic: "Mixed", body: zlibFlagged)
        flagged.extFields["sysFlag"] = String(MessageSysFlag.compressed.rawValue)
        #expect(await fixture.handle(flagged).responseCode == .success)
        var generator = SystemRandomNumberGenerator()
        let random = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var noisy = Requests.send(topic: "Mixed", body: "")
        noisy.body = ByteBuffer(bytes: random)
        #expect(await fixture.handle(noisy).responseCode == .success)
        await fixture.waitForQueue("Mixed", count: 2)
        let stored = try await CompressionFixtures.pullAll(fixture, "Mixed", acceptsZstd: true)
        #expect(stored.count == 2)
        #expect(stored[0].sysFlag.compression == .zlib && String(buffer: stored[0].message.body) == zlibFlagged)
        #expect(Array(stored[1].message.body.readableBytesView) == random)
        var forged = Requests.send(topic: "Mixed", body: zlibFlagged)
        forged.extFields["sysFlag"] = String(MessageSysFlag.compressed.rawValue | CompressionType.zstd.rawValue)
        let refused = await fixture.handle(forged)
        #expect(refused.responseCode == .messageIllegal && refused.remark?.contains("zstd") == true)
        try await fixture.close()
    }

    @Test func updateTopicRefusesZstdWithoutACompressorAndBadValues() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        let refused = await fixture.handle(CompressionFixtures.updateTopic("NoCodec", attributes: "+compression.type=zstd"))
        #expect(refused.responseCode == .systemError)
        #expect(refused.remark?.contains("compression.type") == true && refused.remark?.contains("compressorPlugin") == true, "\(refused.remark ?? "")")
        #expect(fixture.handler.topics.topic("NoCodec") == nil)
        for bad in ["+compression.level=abc", "+compression.typo=1", "compression.type=zstd"] {
            let response = await fixture.handle(CompressionFixtures.updateTopic("NoCodec", attributes: bad))
            #expect(response.responseCode == .systemError, "\(bad)")
        }
        let level = await fixture.handle(CompressionFixtures.updateTopic("NoCodec", attributes: "+compression.level=abc"))
        #expect(level.remark?.contains("compression.level") == true)
        // Setting then removing an attribute; an update without the field keeps the attributes.
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Plain", attributes: "+message.type=NORMAL,+compression.level=5"))
            .responseCode == .success)
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Plain", attributes: "-compression.level")).responseCode == .success)
        #expect(await fixture.handle(CompressionFixtures.updateTopic("Plain", attributes: nil)).responseCode == .success)
        #expect(fixture.handler.topics.topic("Plain")?.attributes == ["message.type": "NORMAL"])
        try await fixture.close()
    }
}
