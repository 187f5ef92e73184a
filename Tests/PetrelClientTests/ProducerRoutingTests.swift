import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// Queue choice: selectors for ordered sends, and retries that skip a dead broker.
@Suite(.serialized) struct ProducerRoutingTests {
    /// The hash selector sends every message with one argument to queue `hash mod count`, as Java
    /// does; a closure selector's choice is honoured; the random selector stays within the queues.
    @Test func selectorsPickTheQueue() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("OrderTopic", on: broker, queues: 4, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        let queues = try await producer.publishQueues(of: "OrderTopic")
        #expect(queues.map(\.queueId) == [0, 1, 2, 3])
        var hashed: [SendResult] = []
        for index in 0..<5 {
            hashed.append(try await producer.send(
                ProducerMessage(topic: "OrderTopic", body: "order-\(index)"), selector: HashQueueSelector(), argument: 7))
        }
        #expect(hashed.allSatisfy { $0.queue.queueId == 3 }, "7 mod 4")
        let stored = Locked<[StoredMessage]>([])
        _ = await poll(seconds: 15) {
            stored.value = (try? await raw.pull(address: broker.address, topic: "OrderTopic", queueId: 3)) ?? []
            return stored.value.count >= 5
        }
        #expect(stored.value.map(\.text) == (0..<5).map { "order-\($0)" }, "in send order")
        // "order-42".hashCode() in Java is 1_207_056_380; mod 4 = 0.
        let byString = try await producer.send(
            ProducerMessage(topic: "OrderTopic", body: "s"), selector: HashQueueSelector(), argument: "order-42")
        #expect(byString.queue.queueId == Int32(abs(Int(TagHash.javaStringHashCode("order-42")) % 4)))
        let chosen = try await producer.send(
            ProducerMessage(topic: "OrderTopic", body: "c"),
            selector: ClosureQueueSelector { queues, _, _ in queues.first { $0.queueId == 2 } }, argument: 0)
        #expect(chosen.queue.queueId == 2)
        let random = try await producer.send(ProducerMessage(topic: "OrderTopic", body: "r"), selector: RandomQueueSelector(), argument: 0)
        #expect(queues.contains(random.queue))
        let explicit = try await producer.send(ProducerMessage(topic: "OrderTopic", body: "q"), to: queues[1])
        #expect(explicit.queue == queues[1])
        await #expect(throws: ClientError.self) {
            try await producer.send(
                ProducerMessage(topic: "OrderTopic", body: "x"),
                selector: ClosureQueueSelector { _, _, _ in MessageQueue(topic: "OrderTopic", brokerName: "nowhere", queueId: 0) },
                argument: 0)
        }
        await producer.shutdown()
        await raw.close()
    }

    /// With two brokers hosting the topic and one of them killed, every send still succeeds on the
    /// live broker: the failed attempt is retried elsewhere and the dead broker is then avoided.
    @Test(arguments: [true, false]) func retriesSkipADeadBroker(faultAvoidance: Bool) async throws {
        let brokerA = try await BrokerProcess(brokerName: "broker-a")
        defer { brokerA.stop() }
        let brokerB = try await BrokerProcess(brokerName: "broker-b", nameServer: brokerA.nameServer)
        defer { brokerB.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("TwoBrokers", on: brokerA, raw: raw)
        try await ProducerFixture.createTopic("TwoBrokers", on: brokerB, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: brokerA.nameServer) { configuration in
            configuration.faultAvoidanceEnabled = faultAvoidance
        }
        let queues = try await producer.publishQueues(of: "TwoBrokers")
        #expect(Set(queues.map(\.brokerName)) == ["broker-a", "broker-b"])
        var before: [SendResult] = []
        for index in 0..<8 { before.append(try await producer.send(ProducerMessage(topic: "TwoBrokers", body: "before-\(index)"))) }
        #expect(Set(before.map(\.queue.brokerName)) == ["broker-a", "broker-b"], "both brokers in use while alive")
        await brokerB.kill()
        var after: [SendResult] = []
        for index in 0..<12 { after.append(try await producer.send(ProducerMessage(topic: "TwoBrokers", body: "after-\(index)"))) }
        #expect(after.allSatisfy { $0.queue.brokerName == "broker-a" && $0.status == .sendOK })
        let stored = try await ProducerFixture.awaitMessages("TwoBrokers", on: brokerA, count: 12 + before.filter { $0.queue.brokerName == "broker-a" }.count, raw: raw)
        let texts = Set(stored.map(\.text))
        #expect((0..<12).allSatisfy { texts.contains("after-\($0)") })
        await producer.shutdown()
        await raw.close()
    }
}
