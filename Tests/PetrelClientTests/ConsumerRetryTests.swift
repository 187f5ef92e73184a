import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// Failed deliveries go back to the broker and return with growing reconsume times, then to the DLQ.
@Suite(.serialized) struct ConsumerRetryTests {
    /// reconsumeLater → redelivery with reconsume times 1 and 2, then the dead-letter topic
    /// (the group's retryMaxTimes and the consumer's maxReconsumeTimes are 2).
    @Test func reconsumeLaterRedeliversThenDeadLetters() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushRetry")
        try await broker.createGroup("G-retry", retryMaxTimes: 2)
        var configuration = ConsumerPushTests.configuration(broker, group: "G-retry", topic: "PushRetry")
        configuration.maxReconsumeTimes = 2
        configuration.retryDelayLevel = 1  // 1 s per retry instead of the broker's 10 s, 30 s …
        let recorder = ReceivedRecorder()
        let consumer = try await ConsumerPushTests.consumer(configuration, recorder: recorder) { message in
            String(buffer: message.body) == "fail" ? .reconsumeLater : .success
        }
        try await broker.send(topic: "PushRetry", queueId: 0, body: "fail", tags: "T", keys: "K1")
        try await broker.send(topic: "PushRetry", queueId: 1, body: "fine")
        let deadLetters = await poll(seconds: 60) {
            ((try? await broker.messages(topic: "%DLQ%G-retry", queueId: 0)) ?? []).count == 1
        }
        #expect(deadLetters)
        let failing = recorder.messages.filter { String(buffer: $0.body) == "fail" }
        #expect(failing.map(\.reconsumeTimes) == [0, 1, 2])
        // Redeliveries look like the original: same topic, tag, keys and message id.
        #expect(failing.allSatisfy { $0.topic == "PushRetry" && $0.tags == "T" && $0.keys == ["K1"] })
        #expect(Set(failing.map(\.messageId)).count == 1)
        #expect(failing.dropFirst().allSatisfy { $0.isRetry })
        #expect(recorder.messages.filter { String(buffer: $0.body) == "fine" }.count == 1)
        let dead = try await broker.messages(topic: "%DLQ%G-retry", queueId: 0)
        #expect(dead.first.map { String(buffer: $0.message.body) } == "fail")
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
