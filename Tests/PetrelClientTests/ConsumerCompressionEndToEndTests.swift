import Foundation
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelRemoting
import Synchronization
import Testing

@testable import PetrelClient

/// A real broker compressing a zstd topic (with a dictionary trained after a few messages) and
/// Petrel consumers: with the zstd plugin they receive the stored compressed records and hand over
/// byte-exact bodies; without it the broker sends plain bodies, also byte-exact.
@Suite(.serialized) struct ConsumerCompressionEndToEndTests {
    /// The compressed topic.
    static let topic = "ZstdEvents"
    /// Its queues.
    static let queueCount: Int32 = 2

    /// A JSON event of 200–1,000 bytes, different for every `index`.
    static func event(_ index: Int) -> String {
        let padding = String(repeating: "lorem-\(index % 7) ", count: 20 + (index * 37) % 100)
        return "{\"event\":\"order.paid\",\"id\":\(index),\"customer\":\"c-\(index % 37)\",\"amount\":\(index * 13 % 1000),"
            + "\"currency\":\"EUR\",\"note\":\"\(padding)\"}"
    }

    /// The compressor setting consumers use.
    static func compression() throws -> ConsumerCompression {
        let directory = try ClientPluginBuild.directory.get()
        return ConsumerCompression(.named("compress-zstd"), host: PluginHost(configuration: PluginHostConfiguration(pluginDirectory: directory)))
    }

    /// Every record of the topic pulled raw with `acceptCompression=zstd` or without it.
    static func rawRecords(_ broker: ConsumerTestBroker, acceptsCompression: Bool) async throws -> [StoredMessage] {
        var records: [StoredMessage] = []
        for queueId in 0..<queueCount {
            var offset: Int64 = 0
            while true {
                let request = ConsumerRequests.pull(
                    group: "raw-reader", queue: MessageQueue(topic: topic, brokerName: broker.broker.brokerName, queueId: queueId),
                    offset: offset, maxMessages: 32, subscription: SubscriptionData(topic: topic, subString: "*"), commitOffset: nil,
                    suspend: nil, acceptsCompression: acceptsCompression)
                let response = try await broker.raw.invoke(address: broker.broker.address, request: request, timeout: .seconds(10))
                guard response.responseCode == .success, let body = response.body else { break }
                let stored = try body.withUnsafeReadableBytes { try StoredMessageCodec.decodeAll($0, verifyChecksum: true) }
                records += stored
                offset = Int64(response.extFields["nextBeginOffset"] ?? "") ?? offset + Int64(stored.count)
            }
        }
        return records
    }

    /// The dictionary id in a stored record's envelope (nil for a plain record).
    static func dictionaryId(_ record: StoredMessage) -> UInt32? {
        guard record.sysFlag.compression == .zstd else { return nil }
        return try? CompressedBodyEnvelope(parsing: Array(record.message.body.readableBytesView)).dictionaryId
    }

    /// Starts the broker and sends events until the stored records include bodies compressed without
    /// and with a dictionary; returns the broker and the bodies sent.
    static func brokerWithCompressedTopic() async throws -> (ConsumerTestBroker, [String]) {
        let directory = try ClientPluginBuild.directory.get()
        let broker = ConsumerTestBroker(broker: try await BrokerProcess(extraArguments: [
            "--pluginDirectory", directory, "--compressorPlugin", "compress-zstd", "--compressionType", "zstd",
            "--compressionMinBodySize", "64", "--compressionDictionarySampleCount", "8", "--compressionDictionarySize", "4096",
        ]))
        try await broker.createTopic(topic, queues: queueCount)
        var sent: [String] = []
        for _ in 0..<40 {
            for _ in 0..<8 {
                let body = event(sent.count)
                try await broker.send(topic: topic, queueId: Int32(sent.count) % queueCount, body: body)
                sent.append(body)
            }
            let ids = try await rawRecords(broker, acceptsCompression: true).map(dictionaryId)
            if ids.contains(0), ids.contains(where: { ($0 ?? 0) != 0 }) { return (broker, sent) }
        }
        throw HarnessError("no dictionary-compressed record after \(sent.count) messages")
    }

    /// Push and pull consumers with the zstd plugin get byte-exact bodies, decompressed here (the
    /// counters match the records that travelled compressed); a pull consumer without a compressor
    /// also gets byte-exact bodies, served plain by the broker.
    @Test func consumersReceiveByteExactBodiesFromAZstdTopic() async throws {
        let (broker, sent) = try await Self.brokerWithCompressedTopic()
        defer { broker.broker.stop() }
        let stored = try await Self.rawRecords(broker, acceptsCompression: true)
        #expect(stored.count == sent.count && stored.allSatisfy { $0.sysFlag.compression == .zstd })
        let withDictionary = stored.filter { (Self.dictionaryId($0) ?? 0) != 0 }.count
        #expect(withDictionary > 0 && withDictionary < sent.count, "\(withDictionary) of \(sent.count) records use a dictionary")
        let storedBytes = stored.map(\.message.body.readableBytes).reduce(0, +)
        #expect(storedBytes < sent.map(\.utf8.count).reduce(0, +))
        let plain = try await Self.rawRecords(broker, acceptsCompression: false)
        #expect(plain.allSatisfy { $0.sysFlag.compression == nil } && plain.map { String(buffer: $0.message.body) }.sorted() == sent.sorted())

        // Push consumer with the plugin.
        let recorder = ReceivedRecorder()
        var push = ConsumerPushTests.configuration(broker, group: "G-zstd-push", topic: Self.topic)
        push.compression = try Self.compression()
        let consumer = try await ConsumerPushTests.consumer(push, recorder: recorder)
        #expect(await poll(seconds: 60) { recorder.messages.count >= sent.count }, "push received \(recorder.messages.count) of \(sent.count)")
        #expect(recorder.bodies.sorted() == sent.sorted())
        #expect(recorder.messages.allSatisfy { $0.stored.sysFlag.compression == nil })
        let pushStatistics = consumer.decompressionStatistics
        #expect(pushStatistics.decompressedMessages == sent.count && pushStatistics.failures == 0)
        #expect(pushStatistics.dictionaryFetches >= 1 && pushStatistics.compressedBytes == storedBytes)
        await consumer.shutdown()

        // Pull consumers with and without the plugin.
        for compressed in [true, false] {
            var configuration = PullConsumerConfiguration(group: "G-zstd-pull-\(compressed)", client: broker.clientConfiguration())
            if compressed { configuration.compression = try Self.compression() }
            let puller = try PullConsumer(configuration: configuration)
            try await puller.start()
            var bodies: [String] = []
            for queue in try await puller.fetchQueues(topic: Self.topic) {
                var offset: Int64 = 0
                while true {
                    let result = try await puller.pull(queue: queue, offset: offset, maxMessages: 32)
                    guard result.status == .found else { break }
                    bodies += result.messages.map { String(buffer: $0.body) }
                    offset = result.nextBeginOffset
                }
            }
            #expect(bodies.sorted() == sent.sorted(), "compressor: \(compressed)")
            let statistics = puller.decompressionStatistics
            #expect(statistics.decompressedMessages == (compressed ? sent.count : 0) && statistics.failures == 0)
            #expect(statistics.dictionaryFetches == (compressed ? Set(stored.compactMap(Self.dictionaryId).filter { $0 != 0 }).count : 0))
            await puller.shutdown()
        }
        await broker.raw.shutdown()
    }

    /// A push consumer whose compressor cannot decompress (the `broken-decompress-size` fixture)
    /// never hands the bodies to its listener: each counts as a failed consumption, goes through the
    /// retry topic and ends in the dead-letter topic with its body intact (read plain from the broker).
    @Test func undecodableBodiesGoToTheDeadLetterTopicIntact() async throws {
        let directory = try ClientPluginBuild.directory.get()
        let broker = ConsumerTestBroker(broker: try await BrokerProcess(extraArguments: [
            "--pluginDirectory", directory, "--compressorPlugin", "compress-zstd", "--compressionType", "zstd",
            "--compressionDictionaryEnable", "false",
        ]))
        defer { broker.broker.stop() }
        try await broker.createTopic("ZstdBroken", queues: 1)
        try await broker.createGroup("G-zstd-broken", retryMaxTimes: 1)
        let bodies = [Self.event(1), Self.event(2)]
        for body in bodies { try await broker.send(topic: "ZstdBroken", queueId: 0, body: body) }
        var configuration = ConsumerPushTests.configuration(broker, group: "G-zstd-broken", topic: "ZstdBroken")
        configuration.maxReconsumeTimes = 1
        configuration.retryDelayLevel = 1
        configuration.compression = ConsumerCompression(.path(directory + "/broken-results.so", plugin: "broken-decompress-size"))
        let recorder = ReceivedRecorder()
        let consumer = try await ConsumerPushTests.consumer(configuration, recorder: recorder)
        let deadLetters = await poll(seconds: 60) {
            ((try? await broker.messages(topic: "%DLQ%G-zstd-broken", queueId: 0)) ?? []).count == bodies.count
        }
        #expect(deadLetters)
        let dead = try await broker.messages(topic: "%DLQ%G-zstd-broken", queueId: 0)
        #expect(dead.map { String(buffer: $0.message.body) }.sorted() == bodies.sorted())
        #expect(recorder.messages.isEmpty, "the listener got \(recorder.messages.count) undecodable messages")
        #expect(consumer.decompressionStatistics.failures >= bodies.count)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
