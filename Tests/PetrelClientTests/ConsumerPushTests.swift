import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
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
}
