import Foundation
import NIOCore
@testable import PetrelClient
import PetrelCore
import PetrelRemoting
import Synchronization
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

/// Shutdown lets the delivery in progress finish and commits its offset.
extension ConsumerRetryTests {
    /// A delivery blocked in the listener when shutdown starts completes before shutdown returns,
    /// and the broker then holds the offset after that message.
    @Test func shutdownWaitsForInFlightDeliveryAndCommits() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushShutdown", queues: 1)
        let order = Mutex<[String]>([])
        let (gate, opener) = AsyncStream<Void>.makeStream()
        let entered = Atomic<Bool>(false)
        let configuration = ConsumerPushTests.configuration(broker, group: "G-shutdown", topic: "PushShutdown")
        let consumer = try PushConsumer(configuration: configuration, listener: .concurrently { _, _ in
            entered.store(true, ordering: .releasing)
            for await _ in gate { break }
            order.withLock { $0.append("delivery finished") }
            return .success
        })
        try await consumer.start()
        try await broker.send(topic: "PushShutdown", queueId: 0, body: "slow")
        #expect(await poll(seconds: 30) { entered.load(ordering: .acquiring) })
        let stopping = Task {
            await consumer.shutdown()
            order.withLock { $0.append("shutdown returned") }
        }
        // Open the gate only once shutdown is under way (it has stopped the consumer).
        #expect(await poll(seconds: 30) { !consumer.isRunning })
        #expect(order.withLock { $0 }.isEmpty)
        opener.yield()
        await stopping.value
        #expect(order.withLock { $0 } == ["delivery finished", "shutdown returned"])
        let request = RemotingCommand.request(
            code: .queryConsumerOffset, extFields: ["consumerGroup": "G-shutdown", "topic": "PushShutdown", "queueId": "0"])
        let response = try await broker.raw.invoke(address: broker.broker.address, request: request, timeout: .seconds(5))
        #expect(response.extFields["offset"] == "1")
        await broker.raw.shutdown()
    }
}

/// The fallback when CONSUMER_SEND_MSG_BACK fails: a plain send to the retry topic.
extension ConsumerRetryTests {
    /// A message resent to `%RETRY%group` comes back to the group's consumer with reconsume times
    /// + 1 and its original topic; resent at the maximum it lands in the dead-letter topic.
    @Test func resendToRetryTopicRedeliversAndDeadLetters() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PushResend", queues: 1)
        try await broker.createGroup("G-resend", retryMaxTimes: 3)
        var configuration = ConsumerPushTests.configuration(broker, group: "G-resend", topic: "PushResend")
        configuration.maxReconsumeTimes = 3
        let recorder = ReceivedRecorder()
        let consumer = try await ConsumerPushTests.consumer(configuration, recorder: recorder)
        try await broker.send(topic: "PushResend", queueId: 0, body: "again", tags: "T")
        #expect(await poll(seconds: 30) { recorder.messages.count == 1 })
        let original = try #require(recorder.messages.first)
        #expect(await consumer.resendToRetryTopic(original, delayLevel: 1))
        #expect(await poll(seconds: 30) { recorder.messages.count == 2 })
        let redelivered = recorder.messages[1]
        #expect(redelivered.isRetry && redelivered.topic == "PushResend" && redelivered.reconsumeTimes == 1)
        #expect(redelivered.tags == "T" && redelivered.messageId == original.messageId)
        #expect(await consumer.resendToRetryTopic(redelivered, delayLevel: -1))
        #expect(await poll(seconds: 30) {
            ((try? await broker.messages(topic: "%DLQ%G-resend", queueId: 0)) ?? []).map { String(buffer: $0.message.body) } == ["again"]
        })
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
