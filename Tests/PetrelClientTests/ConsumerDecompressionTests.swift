import NIOConcurrencyHelpers
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelRemoting
import Testing

@testable import PetrelClient

/// Pulled zstd records (enveloped, compressed by the real `compress-zstd` plugin) become plain
/// messages; dictionaries are fetched once per (broker, id); bodies that cannot be decompressed are
/// marked, never handed over as compressed bytes.
@Suite(.serialized) struct ConsumerDecompressionTests {
    /// The pulled queue.
    static let queue = MessageQueue(topic: "Z", brokerName: "broker-a", queueId: 0)
    /// A raw-content zstd dictionary: JSON the bodies share.
    static let dictionary = Array(String(repeating: "{\"event\":\"order.paid\",\"customer\":\"c-1000\",\"amount\":", count: 8).utf8)

    /// The real zstd plugin.
    static func plugin() throws -> CompressorPlugin {
        try PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try ClientPluginBuild.directory.get()))
            .compressor(.named("compress-zstd"))
    }

    /// A stored record at `offset` whose body is `plain` compressed as the broker stores it.
    static func record(_ offset: Int64, _ plain: [UInt8], dictionaryId: UInt32, plugin: CompressorPlugin) throws -> StoredMessage {
        let frame = try plugin.compress(plain, level: 3, dictionary: dictionaryId == 0 ? nil : dictionary)
        let body = CompressedBodyEnvelope(originalLength: plain.count, dictionaryId: dictionaryId).bytes + frame
        var stored = ConsumerPullDecodingTests.stored(offset, tag: "A", topic: "Z", body: body)
        stored.sysFlag.compression = .zstd
        return stored
    }

    /// A decompressor whose dictionary fetches answer from `known` (by id) and are counted per address.
    static func decompressor(
        _ plugin: CompressorPlugin, known: [UInt32: [UInt8]], fetches: NIOLockedValueBox<[String]>, reachable: Bool = true
    ) -> BodyDecompressor {
        BodyDecompressor(plugin: plugin) { address, id throws(ClientError) in
            fetches.withLockedValue { $0.append(address) }
            guard reachable else { throw ClientError(.connectionFailed, "broker \(address) unreachable") }
            guard let bytes = known[id] else { return .failure(.init(reason: "QUERY_NOT_FOUND: no dictionary \(id)")) }
            return .success(bytes)
        }
    }

    /// Bodies with and without a dictionary come out byte-exact with compression cleared; the
    /// dictionary is fetched once per broker address.
    @Test func decompressesWithAndWithoutDictionaryAndCachesPerBroker() async throws {
        let plugin = try Self.plugin()
        let bodies = (0..<3).map { Array("{\"event\":\"order.paid\",\"customer\":\"c-1000\",\"amount\":\($0)\(String(repeating: "x", count: 300))}".utf8) }
        let records = [
            try Self.record(0, bodies[0], dictionaryId: 0, plugin: plugin), try Self.record(1, bodies[1], dictionaryId: 7, plugin: plugin),
            try Self.record(2, bodies[2], dictionaryId: 7, plugin: plugin),
        ]
        let fetches = NIOLockedValueBox<[String]>([])
        let decompressor = Self.decompressor(plugin, known: [7: Self.dictionary], fetches: fetches)
        let response = try ConsumerPullDecodingTests.response(.success, records)
        let result = try await PullResponseDecoder.decode(
            response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "127.0.0.1:10911")
        #expect(result.messages.map { Array($0.body.readableBytesView) } == bodies)
        #expect(result.messages.allSatisfy { $0.stored.sysFlag.compression == nil && $0.undecodableReason == nil })
        #expect(fetches.withLockedValue { $0 } == ["127.0.0.1:10911"])
        let again = try await PullResponseDecoder.decode(
            response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "127.0.0.1:10911")
        #expect(again.messages.map { Array($0.body.readableBytesView) } == bodies)
        _ = try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "127.0.0.2:10911")
        #expect(fetches.withLockedValue { $0 } == ["127.0.0.1:10911", "127.0.0.2:10911"])
        let statistics = decompressor.statistics
        #expect(statistics.decompressedMessages == 9 && statistics.dictionaryFetches == 2 && statistics.failures == 0)
        #expect(statistics.plainBytes == 3 * bodies.map(\.count).reduce(0, +) && statistics.compressedBytes < statistics.plainBytes)
    }

    /// An unknown dictionary, a damaged frame and a missing compressor mark the record undecodable
    /// (its neighbours still decode); an unreachable broker fails the whole pull.
    @Test func undecodableRecordsAreMarkedAndUnreachableBrokerThrows() async throws {
        let plugin = try Self.plugin()
        let good = try Self.record(0, Array("plain enough".utf8), dictionaryId: 0, plugin: plugin)
        let unknown = try Self.record(1, Array("needs dictionary 9".utf8), dictionaryId: 9, plugin: plugin)
        let intact = try Self.record(2, Array(String(repeating: "damaged ", count: 20).utf8), dictionaryId: 0, plugin: plugin)
        // The frame's last four bytes (its checksum) zeroed; the record's own CRC matches the damage.
        var damaged = ConsumerPullDecodingTests.stored(
            2, tag: "A", topic: "Z", body: Array(intact.message.body.readableBytesView.dropLast(4)) + [0, 0, 0, 0])
        damaged.sysFlag.compression = .zstd
        let response = try ConsumerPullDecodingTests.response(.success, [good, unknown, damaged])
        let fetches = NIOLockedValueBox<[String]>([])
        let decompressor = Self.decompressor(plugin, known: [:], fetches: fetches)
        let result = try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "a:1")
        #expect(String(buffer: result.messages[0].body) == "plain enough" && result.messages[0].undecodableReason == nil)
        #expect(result.messages[1].undecodableReason?.contains("no dictionary 9") == true)
        #expect(result.messages[2].undecodableReason?.contains("offset 2") == true)
        #expect(result.messages[1].stored.sysFlag.compression == .zstd && decompressor.statistics.failures == 2)

        let withoutCompressor = try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: nil, address: "a:1")
        #expect(withoutCompressor.messages.allSatisfy { $0.undecodableReason?.contains("no compressor plugin") == true })

        let unreachable = Self.decompressor(plugin, known: [9: Self.dictionary], fetches: fetches, reachable: false)
        await #expect(throws: ClientError.self) {
            try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: unreachable, address: "a:1")
        }
    }

    /// A failed dictionary load is not kept: after the broker was unreachable once, the next pull
    /// fetches the dictionary and decodes.
    @Test func aFailedDictionaryFetchIsRetriedByTheNextPull() async throws {
        let plugin = try Self.plugin()
        let body = Array("{\"event\":\"order.paid\",\"customer\":\"c-1000\",\"amount\":5}".utf8)
        let response = try ConsumerPullDecodingTests.response(.success, [try Self.record(0, body, dictionaryId: 3, plugin: plugin)])
        let attempts = NIOLockedValueBox(0)
        let decompressor = BodyDecompressor(plugin: plugin) { address, _ throws(ClientError) in
            let attempt = attempts.withLockedValue { value -> Int in
                value += 1
                return value
            }
            guard attempt > 1 else { throw ClientError(.connectionFailed, "broker \(address) unreachable") }
            return .success(Self.dictionary)
        }
        await #expect(throws: ClientError.self) {
            try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "a:1")
        }
        let result = try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "a:1")
        #expect(result.messages.map { Array($0.body.readableBytesView) } == [body])
        _ = try await PullResponseDecoder.decode(response, queue: Self.queue, subscription: nil, decompressor: decompressor, address: "a:1")
        #expect(attempts.withLockedValue { $0 } == 2 && decompressor.statistics.dictionaryFetches == 1)
    }

    /// Pulls carry `acceptCompression=zstd` only for consumers with a compressor plugin.
    @Test func pullsAcceptCompressionOnlyWithCompressor() {
        let subscription = SubscriptionData(topic: "Z", subString: "*")
        let accepting = ConsumerRequests.pull(
            group: "G", queue: Self.queue, offset: 0, maxMessages: 1, subscription: subscription, commitOffset: nil, suspend: nil,
            acceptsCompression: true)
        let plain = ConsumerRequests.pull(group: "G", queue: Self.queue, offset: 0, maxMessages: 1, subscription: subscription, commitOffset: nil, suspend: nil)
        #expect(accepting.extFields["acceptCompression"] == "zstd")
        #expect(plain.extFields["acceptCompression"] == nil)
    }

    /// A consumer whose compressor plugin cannot be loaded is refused with the plugin's reason.
    @Test func brokenCompressorPluginIsRefused() throws {
        var configuration = PullConsumerConfiguration(group: "G", client: ClientConfiguration(nameServers: "127.0.0.1:1"))
        configuration.compression = ConsumerCompression(.path(try ClientPluginBuild.directory.get() + "/broken-abi-major.so"))
        #expect { try PullConsumer(configuration: configuration) } throws: { error in
            (error as? ClientError)?.code == .pluginFailed && "\(error)".contains("broken-abi-major")
        }
    }
}
