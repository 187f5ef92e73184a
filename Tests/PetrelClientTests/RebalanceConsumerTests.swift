import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Synchronization
import Testing

/// Consumers joining and leaving a group while messages flow: queues move, nothing is lost.
@Suite(.serialized) struct RebalanceConsumerTests {
    /// A third consumer joins and then the first leaves, while 300 messages are sent: every message
    /// arrives, duplicates (redeliveries around a handover) stay few, and the queues end up split
    /// between the two remaining consumers.
    @Test func consumersJoinAndLeaveWithoutLosingMessages() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("Rebalance", queues: 8)
        let recorder = ReceivedRecorder()
        let group = "G-rebalance"
        func configuration() -> PushConsumerConfiguration {
            ConsumerPushTests.configuration(broker, group: group, topic: "Rebalance")
        }
        let first = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "first")
        let second = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "second")
        #expect(await poll(seconds: 30) { Self.splitsExactly([first, second], topic: "Rebalance", queues: 8) })
        let total = 300
        let sender = Task {
            for index in 0..<total { try await broker.send(topic: "Rebalance", queueId: Int32(index % 8), body: "r\(index)") }
        }
        #expect(await poll(seconds: 30) { recorder.distinctBodies.count >= 50 })
        let third = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "third")
        #expect(await poll(seconds: 60) { Self.splitsExactly([first, second, third], topic: "Rebalance", queues: 8) })
        #expect(await poll(seconds: 30) { recorder.distinctBodies.count >= 150 })
        await first.shutdown()
        #expect(await poll(seconds: 60) { Self.splitsExactly([second, third], topic: "Rebalance", queues: 8) })
        try await sender.value
        let everything = Set((0..<total).map { "r\($0)" })
        #expect(await poll(seconds: 60) { recorder.distinctBodies == everything }, "received \(recorder.distinctBodies.count) of \(total)")
        let duplicates = recorder.bodies.count - recorder.distinctBodies.count
        #expect(duplicates <= 100, "\(duplicates) duplicates")
        #expect(!recorder.messages(by: "third").isEmpty)
        await second.shutdown()
        await third.shutdown()
        await broker.raw.shutdown()
    }

    /// True when the consumers' assignments of `topic` are disjoint, non-empty and cover all `queues`.
    static func splitsExactly(_ consumers: [PushConsumer], topic: String, queues: Int) -> Bool {
        let shares = consumers.map { $0.assignedQueues.filter { $0.topic == topic } }
        let union = shares.reduce(into: Set<MessageQueue>()) { $0.formUnion($1) }
        return union.count == queues && shares.map(\.count).reduce(0, +) == queues && shares.allSatisfy { !$0.isEmpty }
    }
}

/// Orderly consumers lock their queues and deliver each queue's messages in order, one batch at a time.
@Suite(.serialized) struct ConsumerOrderlyTests {
    /// Two orderly consumers share four queues; eight keys × 40 messages each arrive in per-key order,
    /// and no queue is ever delivered by two deliveries at once.
    @Test func orderlyKeepsPerKeyOrderAcrossTwoConsumers() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("Orderly")
        let recorder = ReceivedRecorder()
        let inFlight = Mutex<[MessageQueue: Int]>([:])
        let overlaps = Atomic<Int>(0)
        func consumer(_ label: String) async throws -> PushConsumer {
            var configuration = ConsumerPushTests.configuration(broker, group: "G-orderly", topic: "Orderly")
            configuration.consumeMessageBatchMaxSize = 3
            let consumer = try PushConsumer(configuration: configuration, listener: .orderly { messages, context in
                let running = inFlight.withLock { table in
                    table[context.queue, default: 0] += 1
                    return table[context.queue]!
                }
                if running > 1 { overlaps.add(1, ordering: .relaxed) }
                await Task.yield()
                recorder.record(messages, by: label)
                inFlight.withLock { $0[context.queue, default: 1] -= 1 }
                return .success
            })
            try await consumer.start()
            return consumer
        }
        let first = try await consumer("first")
        let second = try await consumer("second")
        #expect(await poll(seconds: 60) { RebalanceConsumerTests.splitsExactly([first, second], topic: "Orderly", queues: 4) })
        let keys = 8, perKey = 40
        for sequence in 0..<perKey {
            for key in 0..<keys {
                try await broker.send(topic: "Orderly", queueId: Int32(key % 4), body: "k\(key):\(sequence)", keys: "k\(key)")
            }
        }
        #expect(await poll(seconds: 60) { recorder.distinctBodies.count == keys * perKey })
        for key in 0..<keys {
            let sequences = recorder.bodies.filter { $0.hasPrefix("k\(key):") }.map { Int($0.split(separator: ":")[1])! }
            #expect(sequences == Array(0..<perKey), "key k\(key) arrived as \(sequences)")
        }
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(!recorder.messages(by: "first").isEmpty && !recorder.messages(by: "second").isEmpty)
        await first.shutdown()
        await second.shutdown()
        await broker.raw.shutdown()
    }
}

/// Orderly failures are retried locally, in place, and dead-lettered after the maximum.
extension ConsumerOrderlyTests {
    /// A message that keeps failing is delivered again with reconsume times 1 and 2 (the queue
    /// waits meanwhile), then goes to the dead-letter topic, and the queue continues in order.
    @Test func failingMessageIsRetriedInPlaceThenDeadLettered() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("OrderlyFail", queues: 1)
        let recorder = ReceivedRecorder()
        var configuration = ConsumerPushTests.configuration(broker, group: "G-orderly-fail", topic: "OrderlyFail")
        configuration.maxReconsumeTimes = 2
        configuration.suspendCurrentQueueTime = .milliseconds(100)
        let consumer = try PushConsumer(configuration: configuration, listener: .orderly { messages, _ in
            recorder.record(messages)
            return messages.contains { String(buffer: $0.body) == "bad" } ? .reconsumeLater : .success
        })
        try await consumer.start()
        for body in ["a", "bad", "b", "c"] { try await broker.send(topic: "OrderlyFail", queueId: 0, body: body) }
        #expect(await poll(seconds: 30) { recorder.bodies.contains("c") })
        #expect(recorder.bodies == ["a", "bad", "bad", "bad", "b", "c"])
        #expect(recorder.messages.filter { String(buffer: $0.body) == "bad" }.map(\.reconsumeTimes) == [0, 1, 2])
        #expect(await poll(seconds: 30) {
            ((try? await broker.messages(topic: "%DLQ%G-orderly-fail", queueId: 0)) ?? []).map { String(buffer: $0.message.body) } == ["bad"]
        })
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
