import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Synchronization
import Testing

/// `PushConsumer` against a real `petrel-broker`: clustering, tags, broadcasting, retries, offsets.
@Suite(.serialized) struct ConsumerPushTests {
    /// A push-consumer configuration for `group` subscribing `topic` with `expression`.
    static func configuration(
        _ broker: ConsumerTestBroker, group: String, topic: String, expression: String = "*",
        model: MessageModel = .clustering, from: ConsumeFromWhere = .consumeFromFirstOffset
    ) -> PushConsumerConfiguration {
        var configuration = PushConsumerConfiguration(group: group, client: broker.clientConfiguration())
        configuration.subscriptions = [topic: expression]
        configuration.messageModel = model
        configuration.consumeFromWhere = from
        configuration.pullSuspendTimeout = .seconds(2)
        configuration.offsetPersistInterval = .milliseconds(500)
        return configuration
    }

    /// A started consumer recording into `recorder` under `label` and answering `status`.
    static func consumer(
        _ configuration: PushConsumerConfiguration, recorder: ReceivedRecorder, label: String = "",
        status: @escaping @Sendable (ReceivedMessage) -> ConsumeStatus = { _ in .success }
    ) async throws -> PushConsumer {
        let consumer = try PushConsumer(configuration: configuration, listener: .concurrently { messages, _ in
            recorder.record(messages, by: label)
            return messages.allSatisfy { status($0) == .success } ? .success : .reconsumeLater
        })
        try await consumer.start()
        return consumer
    }

    /// Every message of every queue reaches the one consumer of a clustering group.
    @Test func clusteringConsumesEverything() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushAll")
        let sent = Set((0..<40).map { "m\($0)" })
        for index in 0..<40 {
            try await broker.send(topic: "PushAll", queueId: Int32(index % 4), body: "m\(index)")
        }
        let recorder = ReceivedRecorder()
        let consumer = try await Self.consumer(Self.configuration(broker, group: "G-all", topic: "PushAll"), recorder: recorder)
        #expect(consumer.assignedQueues.filter { $0.topic == "PushAll" }.count == 4)
        #expect(await poll(seconds: 30) { recorder.distinctBodies == sent }, "received \(recorder.distinctBodies.count) of 40")
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// A consumer may start before its topic exists (as with the official clients): it waits for the
    /// route and consumes what is sent once the topic is created.
    @Test func consumerStartedBeforeItsTopicExistsConsumesOnceItIsCreated() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        let recorder = ReceivedRecorder()
        let consumer = try await Self.consumer(Self.configuration(broker, group: "G-late", topic: "PushLate"), recorder: recorder)
        #expect(consumer.assignedQueues.isEmpty)
        try await broker.createTopic("PushLate")
        for index in 0..<8 { try await broker.send(topic: "PushLate", queueId: Int32(index % 4), body: "late\(index)") }
        let sent = Set((0..<8).map { "late\($0)" })
        #expect(await poll(seconds: 60) { recorder.distinctBodies == sent }, "received \(recorder.distinctBodies.count) of 8")
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}

/// Filtering, broadcasting and resuming.
extension ConsumerPushTests {
    /// A tag expression delivers only the named tags.
    @Test func tagExpressionFilters() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushTags")
        let tags = ["A", "B", "C"]
        for index in 0..<30 {
            try await broker.send(topic: "PushTags", queueId: Int32(index % 4), body: "t\(index)", tags: tags[index % 3])
        }
        let wanted = Set((0..<30).filter { index in index % 3 != 1 }.map { "t\($0)" })
        let recorder = ReceivedRecorder()
        let consumer = try await Self.consumer(
            Self.configuration(broker, group: "G-tags", topic: "PushTags", expression: "A || C"), recorder: recorder)
        #expect(await poll(seconds: 30) { recorder.distinctBodies == wanted })
        // A marker sent last to every queue proves the B messages were passed over, not pending.
        for queueId in 0..<4 { try await broker.send(topic: "PushTags", queueId: Int32(queueId), body: "end\(queueId)", tags: "A") }
        #expect(await poll(seconds: 30) { recorder.distinctBodies.filter { $0.hasPrefix("end") }.count == 4 })
        #expect(recorder.messages.allSatisfy { $0.tags == "A" || $0.tags == "C" })
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// Broadcasting: two consumers of one group each receive every message.
    @Test func broadcastingDeliversEverythingToEveryConsumer() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushBroadcast")
        let recorder = ReceivedRecorder()
        let first = try await Self.consumer(
            Self.configuration(broker, group: "G-broadcast", topic: "PushBroadcast", model: .broadcasting), recorder: recorder, label: "first")
        let second = try await Self.consumer(
            Self.configuration(broker, group: "G-broadcast", topic: "PushBroadcast", model: .broadcasting), recorder: recorder, label: "second")
        let sent = Set((0..<20).map { "b\($0)" })
        for index in 0..<20 { try await broker.send(topic: "PushBroadcast", queueId: Int32(index % 4), body: "b\(index)") }
        #expect(await poll(seconds: 30) {
            Set(recorder.messages(by: "first").map { String(buffer: $0.body) }) == sent
                && Set(recorder.messages(by: "second").map { String(buffer: $0.body) }) == sent
        })
        await first.shutdown()
        await second.shutdown()
        await broker.raw.shutdown()
    }

    /// Offsets committed at shutdown are where a restarted consumer of the group resumes.
    @Test func restartResumesFromCommittedOffsets() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushResume")
        for index in 0..<20 { try await broker.send(topic: "PushResume", queueId: Int32(index % 4), body: "old\(index)") }
        let recorder = ReceivedRecorder()
        let configuration = Self.configuration(broker, group: "G-resume", topic: "PushResume")
        let first = try await Self.consumer(configuration, recorder: recorder, label: "first")
        #expect(await poll(seconds: 30) { recorder.distinctBodies.count == 20 })
        await first.shutdown()
        for index in 0..<20 { try await broker.send(topic: "PushResume", queueId: Int32(index % 4), body: "new\(index)") }
        var restartConfiguration = configuration
        restartConfiguration.client = broker.clientConfiguration()
        let second = try await Self.consumer(restartConfiguration, recorder: recorder, label: "second")
        let newBodies = Set((0..<20).map { "new\($0)" })
        #expect(await poll(seconds: 30) { Set(recorder.messages(by: "second").map { String(buffer: $0.body) }) == newBodies })
        await second.shutdown()
        // Nothing consumed before the restart came again.
        #expect(recorder.messages(by: "second").allSatisfy { String(buffer: $0.body).hasPrefix("new") })
        await broker.raw.shutdown()
    }
}

/// Where a group without committed offsets starts.
extension ConsumerPushTests {
    /// `.consumeFromFirstOffset` reads what was sent before the group existed; so do last-offset and
    /// timestamp consumers on a young queue, because the broker answers offset 0 for a new group
    /// while the queue's first message is still in memory (Java's rule, spec §13), and the stored
    /// answer wins over `consumeFromWhere`.
    @Test(arguments: [ConsumeFromWhere.consumeFromFirstOffset, .consumeFromLastOffset, .consumeFromTimestamp])
    func newGroupOnYoungQueueStartsAtZero(from: ConsumeFromWhere) async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushFrom")
        for index in 0..<8 { try await broker.send(topic: "PushFrom", queueId: Int32(index % 4), body: "early\(index)") }
        let recorder = ReceivedRecorder()
        var configuration = Self.configuration(broker, group: "G-from-\(from.rawValue)", topic: "PushFrom", from: from)
        configuration.consumeTimestamp = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let consumer = try await Self.consumer(configuration, recorder: recorder)
        #expect(await poll(seconds: 30) { recorder.distinctBodies == Set((0..<8).map { "early\($0)" }) })
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// A consumer without subscriptions is refused with `.invalidConfiguration`.
    @Test func consumerWithoutSubscriptionsIsRefused() throws {
        let configuration = PushConsumerConfiguration(group: "G", client: ClientConfiguration(nameServerAddresses: ["127.0.0.1:9876"]))
        #expect(throws: ClientError.self) {
            _ = try PushConsumer(configuration: configuration, listener: .concurrently { _, _ in .success })
        }
    }
}

/// Offsets reach the broker while the consumer runs.
extension ConsumerPushTests {
    /// With a short commit interval the broker's committed offsets reach the end of every queue
    /// while the consumer is still running (not only at shutdown).
    @Test func offsetsAreCommittedPeriodically() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushCommit")
        for index in 0..<12 { try await broker.send(topic: "PushCommit", queueId: Int32(index % 4), body: "c\(index)") }
        let recorder = ReceivedRecorder()
        let consumer = try await Self.consumer(Self.configuration(broker, group: "G-commit", topic: "PushCommit"), recorder: recorder)
        #expect(await poll(seconds: 30) { recorder.distinctBodies.count == 12 })
        let committed = await poll(seconds: 30) {
            var all = true
            for queueId in 0..<4 {
                let request = RemotingCommand.request(
                    code: .queryConsumerOffset, extFields: ["consumerGroup": "G-commit", "topic": "PushCommit", "queueId": String(queueId)])
                let response = try? await broker.raw.invoke(address: broker.broker.address, request: request, timeout: .seconds(5))
                all = all && response?.extFields["offset"] == "3"
            }
            return all
        }
        #expect(committed)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}

/// The producer and the push consumer end to end.
extension ConsumerPushTests {
    /// Messages sent by `Producer` arrive with their tag, keys and user properties, and a body
    /// above the compression threshold arrives inflated.
    @Test func producerToConsumerRoundTrip() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushProduced")
        let producer = Producer(configuration: ProducerConfiguration(group: "PG-consumer-test", client: broker.clientConfiguration()))
        try await producer.start()
        let large = String(repeating: "compressible text ", count: 1000)
        _ = try await producer.send(ProducerMessage(topic: "PushProduced", body: large, tags: "big", keys: ["k-big"], userProperties: ["color": "blue"]))
        _ = try await producer.send(ProducerMessage(topic: "PushProduced", body: "small", tags: "small", keys: ["k1", "k2"]))
        await producer.shutdown()
        let recorder = ReceivedRecorder()
        let consumer = try await Self.consumer(Self.configuration(broker, group: "G-produced", topic: "PushProduced"), recorder: recorder)
        #expect(await poll(seconds: 30) { recorder.distinctBodies == [large, "small"] })
        let big = try #require(recorder.messages.first { $0.tags == "big" })
        #expect(big.keys == ["k-big"] && big.properties["color"] == "blue")
        #expect(!big.stored.sysFlag.contains(.compressed))
        let small = try #require(recorder.messages.first { $0.tags == "small" })
        #expect(small.keys == ["k1", "k2"] && small.messageId == small.properties[PropertyKey.uniqueKey])
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}

/// Delivery bounds.
extension ConsumerPushTests {
    /// Batches hold at most `consumeMessageBatchMaxSize` messages and at most `consumeThreadCount`
    /// listener calls run at once.
    @Test func batchSizeAndConcurrencyAreBounded() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushBounds")
        for index in 0..<60 { try await broker.send(topic: "PushBounds", queueId: Int32(index % 4), body: "n\(index)") }
        var configuration = Self.configuration(broker, group: "G-bounds", topic: "PushBounds")
        configuration.consumeThreadCount = 2
        configuration.consumeMessageBatchMaxSize = 5
        let recorder = ReceivedRecorder()
        let running = Atomic<Int>(0)
        let mostRunning = Atomic<Int>(0)
        let largestBatch = Atomic<Int>(0)
        let consumer = try PushConsumer(configuration: configuration, listener: .concurrently { messages, _ in
            let now = running.add(1, ordering: .relaxed).newValue
            mostRunning.max(now, ordering: .relaxed)
            largestBatch.max(messages.count, ordering: .relaxed)
            await Task.yield()
            recorder.record(messages)
            running.subtract(1, ordering: .relaxed)
            return .success
        })
        try await consumer.start()
        #expect(await poll(seconds: 30) { recorder.distinctBodies.count == 60 })
        #expect(mostRunning.load(ordering: .relaxed) <= 2)
        #expect(largestBatch.load(ordering: .relaxed) <= 5)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}

/// The consumer as a service.
extension ConsumerPushTests {
    /// `run()` consumes until its task is cancelled, then shuts down: queues dropped, the broker no
    /// longer lists the consumer, the offset is committed.
    @Test func runAsServiceStopsCleanlyOnCancellation() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushService", queues: 1)
        let recorder = ReceivedRecorder()
        var configuration = Self.configuration(broker, group: "G-service", topic: "PushService")
        // No periodic commit: the offset reaches the broker through the next pull or the shutdown.
        configuration.offsetPersistInterval = .seconds(600)
        let consumer = try PushConsumer(
            configuration: configuration,
            listener: .concurrently { messages, _ in
                recorder.record(messages)
                return .success
            })
        let running = Task { try await consumer.run() }
        try await broker.send(topic: "PushService", queueId: 0, body: "served")
        #expect(await poll(seconds: 30) { recorder.bodies == ["served"] })
        #expect(try await broker.consumerIds(group: "G-service").count == 1)
        running.cancel()
        try await running.value
        #expect(consumer.assignedQueues.isEmpty)
        #expect(try await broker.consumerIds(group: "G-service").isEmpty)
        let request = RemotingCommand.request(
            code: .queryConsumerOffset, extFields: ["consumerGroup": "G-service", "topic": "PushService", "queueId": "0"])
        let response = try await broker.raw.invoke(address: broker.broker.address, request: request, timeout: .seconds(5))
        #expect(response.extFields["offset"] == "1")
        await broker.raw.shutdown()
    }
}
