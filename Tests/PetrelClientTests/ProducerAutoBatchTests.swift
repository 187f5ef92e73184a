import Foundation
import NIOCore
@testable import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// `ProducerConfiguration.autoBatch` against a real `petrel-broker`: batched async sends keep their
/// per-queue order and each gets its own result; delayed messages bypass batching; a dead broker
/// fails every callback exactly once.
@Suite(.serialized) struct ProducerAutoBatchTests {
    /// What each callback reported, by message index.
    typealias Outcomes = [Int: [Result<SendResult, ClientError>]]

    /// Sends `count` messages `body-<first + index>` with `sendAsync` without waiting between them,
    /// recording each callback under its index.
    static func sendAll(
        _ producer: Producer, topic: String, range: Range<Int>, delayLevel: Int32 = 0, into outcomes: Locked<Outcomes>
    ) {
        for index in range {
            var message = ProducerMessage(topic: topic, body: "body-\(index)", tags: "T")
            message.delayLevel = delayLevel
            producer.sendAsync(message) { result in outcomes.update { $0[index, default: []].append(result) } }
        }
    }

    /// Waits until `count` callbacks arrived.
    static func awaitCallbacks(_ outcomes: Locked<Outcomes>, count: Int) async -> Bool {
        await poll(seconds: 30) { outcomes.value.values.reduce(0) { $0 + $1.count } >= count }
    }

    /// 400 sends issued at once travel partly in batches; every callback is called once with the
    /// message's own id, queue and offset, as stored, and each queue holds its messages in call order.
    @Test func batchedSendsKeepOrderAndOwnResults() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("AutoBatchTopic", on: broker, queues: 4, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer) {
            $0.autoBatch = true
            $0.autoBatchMaximumMessages = 16
        }
        let outcomes = Locked<Outcomes>([:])
        let count = 400
        Self.sendAll(producer, topic: "AutoBatchTopic", range: 0..<count, into: outcomes)
        #expect(await Self.awaitCallbacks(outcomes, count: count))
        let reported = outcomes.value
        #expect(reported.count == count && reported.values.allSatisfy { $0.count == 1 }, "one callback per message")
        let results = try (0..<count).map { index in try #require(reported[index]?.first).get() }
        #expect(producer.autoBatchedMessages.load(ordering: .relaxed) > 0, "some sends went in batches")
        #expect(Set(results.map(\.messageId)).count == count)
        let stored = try await ProducerFixture.awaitMessages("AutoBatchTopic", on: broker, count: count, raw: raw)
        #expect(stored.count == count)
        let byKey = Dictionary(stored.map { ($0.message.uniqueKey ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        for (index, result) in results.enumerated() {
            let match = byKey[result.messageId]
            #expect(match?.text == "body-\(index)")
            #expect(match?.queueId == result.queue.queueId)
            #expect(match?.queueOffset.rawValue == result.queueOffset)
            #expect(match?.offsetMessageId == result.offsetMessageId)
        }
        for queueId in Set(results.map(\.queue.queueId)) {
            let indices = results.enumerated().filter { $0.element.queue.queueId == queueId }
                .sorted { $0.element.queueOffset < $1.element.queueOffset }.map(\.offset)
            #expect(indices == indices.sorted(), "queue \(queueId) holds its messages in call order")
        }
        await producer.shutdown()
        await raw.close()
    }

    /// Messages with a delay level are never put in a batch (SEND_BATCH_MESSAGE cannot carry one):
    /// all succeed and the batch counter stays at zero.
    @Test func delayedMessagesBypassBatching() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("AutoBatchDelay", on: broker, queues: 2, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer) { $0.autoBatch = true }
        var delayed = ProducerMessage(topic: "AutoBatchDelay", body: "d")
        delayed.delayLevel = 1
        #expect(!producer.joinsAutoBatch(delayed))
        #expect(producer.joinsAutoBatch(ProducerMessage(topic: "AutoBatchDelay", body: "d")))
        let outcomes = Locked<Outcomes>([:])
        Self.sendAll(producer, topic: "AutoBatchDelay", range: 0..<60, delayLevel: 1, into: outcomes)
        #expect(await Self.awaitCallbacks(outcomes, count: 60))
        let results = outcomes.value.values.flatMap { $0 }
        #expect(results.count == 60)
        #expect(results.allSatisfy { (try? $0.get())?.status == .sendOK })
        #expect(producer.autoBatchedMessages.load(ordering: .relaxed) == 0)
        await producer.shutdown()
        await raw.close()
    }

    /// With the broker killed while sends are queued, every callback is still called exactly once, and
    /// the sends issued after the kill fail.
    @Test func deadBrokerFailsEveryCallbackOnce() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("AutoBatchKill", on: broker, queues: 4, raw: raw)
        await raw.close()
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer) {
            $0.autoBatch = true
            $0.sendMessageTimeout = .seconds(2)
        }
        _ = try await producer.send(ProducerMessage(topic: "AutoBatchKill", body: "warm"))
        let outcomes = Locked<Outcomes>([:])
        Self.sendAll(producer, topic: "AutoBatchKill", range: 0..<300, into: outcomes)
        await broker.kill()
        Self.sendAll(producer, topic: "AutoBatchKill", range: 300..<400, into: outcomes)
        #expect(await Self.awaitCallbacks(outcomes, count: 400))
        let reported = outcomes.value
        #expect(reported.count == 400 && reported.values.allSatisfy { $0.count == 1 }, "one callback per message")
        let lateFailures = (300..<400).filter { index in
            guard case .failure = reported[index]?.first else { return false }
            return true
        }
        #expect(lateFailures.count == 100, "every send after the kill fails")
        await producer.shutdown()
    }
}
