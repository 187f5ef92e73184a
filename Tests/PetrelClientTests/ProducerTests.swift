import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// `Producer` sends against a real `petrel-broker`, checked by pulling what the broker stored.
@Suite(.serialized) struct ProducerTests {
    /// Synchronous sends land with body, tag, keys and user properties intact, each under its own
    /// `UNIQ_KEY` (the result's message id) at the queue and offset the result names.
    @Test func syncSendsLandIntact() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        var results: [SendResult] = []
        for index in 0..<6 {
            let message = ProducerMessage(
                topic: "SyncTopic", body: "body-\(index)", tags: "Tag\(index % 2)", keys: ["order-\(index)", "customer-7"],
                userProperties: ["color": "blue", "index": String(index)])
            results.append(try await producer.send(message))
        }
        #expect(results.allSatisfy { $0.status == .sendOK })
        #expect(Set(results.map(\.messageId)).count == 6, "unique ids")
        #expect(results.allSatisfy { $0.messageId.count == 32 && $0.offsetMessageId.count == 32 })
        let stored = try await ProducerFixture.awaitMessages("SyncTopic", on: broker, count: 6, raw: raw)
        #expect(stored.count == 6)
        for (index, result) in results.enumerated() {
            let match = stored.first { $0.message.uniqueKey == result.messageId }
            #expect(match?.text == "body-\(index)")
            #expect(match?.message.tags == "Tag\(index % 2)")
            #expect(match?.message.keys == ["order-\(index)", "customer-7"])
            #expect(match?.message.properties["color"] == "blue")
            #expect(match?.message.properties["index"] == String(index))
            #expect(match?.queueId == result.queue.queueId)
            #expect(match?.queueOffset.rawValue == result.queueOffset)
            #expect(match?.offsetMessageId == result.offsetMessageId)
        }
        #expect(Set(results.map(\.queue.queueId)).count > 1, "round-robin spreads over queues")
        await producer.shutdown()
        await raw.close()
    }

    /// Asynchronous (callback) and oneway sends land too.
    @Test func asyncAndOnewaySendsLand() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        let outcome = await withCheckedContinuation { continuation in
            producer.sendAsync(ProducerMessage(topic: "AsyncTopic", body: "async-body", tags: "A")) { result in
                continuation.resume(returning: result)
            }
        }
        let asyncResult = try outcome.get()
        #expect(asyncResult.status == .sendOK)
        try await producer.sendOneway(ProducerMessage(topic: "AsyncTopic", body: "oneway-body", tags: "O"))
        let stored = try await ProducerFixture.awaitMessages("AsyncTopic", on: broker, count: 2, raw: raw)
        #expect(Set(stored.map(\.text)) == ["async-body", "oneway-body"])
        #expect(stored.first { $0.text == "async-body" }?.message.uniqueKey == asyncResult.messageId)
        let failed = await withCheckedContinuation { continuation in
            producer.sendAsync(ProducerMessage(topic: "", body: "x")) { continuation.resume(returning: $0) }
        }
        #expect(throws: ClientError.self) { try failed.get() }
        await producer.shutdown()
        await raw.close()
    }

    /// A batch is stored as consecutive messages of one queue, each with its own unique id.
    @Test func batchLandsInOneQueue() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        let messages = (0..<5).map { ProducerMessage(topic: "BatchTopic", body: "batch-\($0)", tags: "B", keys: ["k\($0)"]) }
        let result = try await producer.send(batch: messages)
        let ids = result.messageId.split(separator: ",").map(String.init)
        #expect(ids.count == 5)
        #expect(Set(ids).count == 5)
        #expect(result.offsetMessageId.split(separator: ",").count == 5)
        let stored = try await ProducerFixture.awaitMessages("BatchTopic", on: broker, count: 5, raw: raw)
        #expect(stored.map(\.text) == (0..<5).map { "batch-\($0)" })
        #expect(stored.allSatisfy { $0.queueId == result.queue.queueId })
        #expect(stored.map(\.queueOffset.rawValue) == (0..<5).map { result.queueOffset + Int64($0) })
        #expect(stored.map { $0.message.uniqueKey ?? "" } == ids)
        #expect(stored.map(\.message.keys) == (0..<5).map { ["k\($0)"] })
        await #expect(throws: ClientError.self) {
            try await producer.send(batch: [ProducerMessage(topic: "BatchTopic", body: "a"), ProducerMessage(topic: "Other", body: "b")])
        }
        await producer.shutdown()
        await raw.close()
    }

    /// A body over the threshold is stored zlib-compressed with the compressed flag and inflates to
    /// the original; a small one is stored as sent.
    @Test func largeBodiesAreCompressed() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        let large = String(repeating: "compressible text that repeats ", count: 400)
        let bigResult = try await producer.send(ProducerMessage(topic: "ZipTopic", body: large))
        let smallResult = try await producer.send(ProducerMessage(topic: "ZipTopic", body: "small"))
        let stored = try await ProducerFixture.awaitMessages("ZipTopic", on: broker, count: 2, raw: raw)
        let big = try #require(stored.first { $0.message.uniqueKey == bigResult.messageId })
        #expect(big.sysFlag.compression == .zlib)
        #expect(big.message.body.readableBytes < large.utf8.count / 5)
        #expect(String(decoding: try Inflate.zlib(Array(big.message.body.readableBytesView)), as: UTF8.self) == large)
        let small = try #require(stored.first { $0.message.uniqueKey == smallResult.messageId })
        #expect(small.sysFlag.compression == nil)
        #expect(String(buffer: small.message.body) == "small")
        await producer.shutdown()
        await raw.close()
    }
}
