import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// `PullConsumer` against a real broker: pulls by queue and offset, offset lookups, subscribe-and-poll.
@Suite(.serialized) struct PullConsumerTests {
    /// A started pull consumer of `group`.
    static func consumer(_ broker: ConsumerTestBroker, group: String, subscriptions: [String: String] = [:],
                         from: ConsumeFromWhere = .consumeFromFirstOffset) async throws -> PullConsumer {
        var configuration = PullConsumerConfiguration(group: group, client: broker.clientConfiguration())
        configuration.subscriptions = subscriptions
        configuration.consumeFromWhere = from
        configuration.offsetPersistInterval = .milliseconds(500)
        let consumer = try PullConsumer(configuration: configuration)
        try await consumer.start()
        return consumer
    }

    /// Pull by queue and offset: found with the next offset, no new messages at the end, an
    /// illegal offset with where to continue; tag filtering; min/max offsets.
    @Test func pullsByQueueAndOffset() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PullQueue", queues: 2)
        for index in 0..<10 { try await broker.send(topic: "PullQueue", queueId: 1, body: "p\(index)", tags: index % 2 == 0 ? "even" : "odd") }
        let consumer = try await Self.consumer(broker, group: "G-pull")
        let queues = try await consumer.fetchQueues(topic: "PullQueue")
        #expect(queues.map(\.queueId) == [0, 1])
        let queue = queues[1]
        // The broker dispatches to consume queues asynchronously after acknowledging a send.
        #expect(await poll(seconds: 10) { (try? await consumer.maxOffset(of: queue)) == 10 })
        let first = try await consumer.pull(queue: queue, offset: 0, maxMessages: 4)
        #expect(first.status == .found)
        #expect(first.messages.map { String(buffer: $0.body) } == ["p0", "p1", "p2", "p3"])
        #expect(first.nextBeginOffset == 4 && first.maxOffset == 10 && first.minOffset == 0)
        let rest = try await consumer.pull(queue: queue, offset: first.nextBeginOffset, maxMessages: 32, expression: "even")
        #expect(rest.messages.map { String(buffer: $0.body) } == ["p4", "p6", "p8"])
        #expect(rest.nextBeginOffset == 10)
        let end = try await consumer.pull(queue: queue, offset: 10, maxMessages: 32)
        #expect(end.status == .noNewMessages && end.messages.isEmpty)
        let beyond = try await consumer.pull(queue: queue, offset: 50, maxMessages: 32)
        #expect(beyond.status == .offsetIllegal && beyond.nextBeginOffset == 10)
        #expect(try await consumer.maxOffset(of: queue) == 10)
        #expect(try await consumer.minOffset(of: queue) == 0)
        try await consumer.commitOffset(7, of: queue)
        #expect(try await consumer.committedOffset(of: queue) == 7)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// A long-polling pull is answered as soon as a message arrives.
    @Test func longPollingPullReturnsWhenAMessageArrives() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PullLong", queues: 1)
        let consumer = try await Self.consumer(broker, group: "G-long")
        let queue = try await consumer.fetchQueues(topic: "PullLong")[0]
        let pending = Task { try await consumer.pull(queue: queue, offset: 0, maxMessages: 8, suspend: .seconds(20)) }
        try await broker.send(topic: "PullLong", queueId: 0, body: "late")
        let result = try await pending.value
        #expect(result.status == .found && result.messages.map { String(buffer: $0.body) } == ["late"])
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// The timestamp search finds the first message stored at or after a time, which is where a
    /// consumer with `.consumeFromTimestamp` and no committed offset starts.
    @Test func searchOffsetByTimestamp() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PullTime", queues: 1)
        for index in 0..<5 { try await broker.send(topic: "PullTime", queueId: 0, body: "before\(index)") }
        let consumer = try await Self.consumer(broker, group: "G-time")
        let queue = try await consumer.fetchQueues(topic: "PullTime")[0]
        #expect(await poll(seconds: 10) { (try? await consumer.maxOffset(of: queue)) == 5 })
        let stored = try await consumer.pull(queue: queue, offset: 0, maxMessages: 32).messages
        // Wait (bounded) until the clock moved past the last store time, so the next message is later.
        let lastStore = stored.last!.storeTimestamp
        #expect(await poll(seconds: 5) { Int64(Date().timeIntervalSince1970 * 1000) > lastStore })
        let boundary = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(await poll(seconds: 5) { Int64(Date().timeIntervalSince1970 * 1000) > boundary })
        try await broker.send(topic: "PullTime", queueId: 0, body: "after")
        #expect(await poll(seconds: 10) { (try? await consumer.maxOffset(of: queue)) == 6 })
        #expect(try await consumer.searchOffset(of: queue, timestamp: boundary) == 5)
        #expect(try await consumer.searchOffset(of: queue, timestamp: 0) == 0)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// Subscribe-and-poll: two consumers split the queues, poll everything between them, and commit
    /// offsets so a later consumer of the group starts after them.
    @Test func subscribeAndPollSplitsQueuesAndCommits() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PullPoll", queues: 4)
        let first = try await Self.consumer(broker, group: "G-poll", subscriptions: ["PullPoll": "*"])
        let second = try await Self.consumer(broker, group: "G-poll", subscriptions: ["PullPoll": "*"])
        #expect(await poll(seconds: 60) {
            first.assignedQueues.count == 2 && second.assignedQueues.count == 2 && first.assignedQueues.isDisjoint(with: second.assignedQueues)
        })
        for index in 0..<40 { try await broker.send(topic: "PullPoll", queueId: Int32(index % 4), body: "q\(index)") }
        let recorder = ReceivedRecorder()
        let deadline = ContinuousClock.now + .seconds(60)
        while recorder.distinctBodies.count < 40, ContinuousClock.now < deadline {
            recorder.record(try await first.poll(timeout: .milliseconds(500)), by: "first")
            recorder.record(try await second.poll(timeout: .milliseconds(500)), by: "second")
        }
        #expect(recorder.distinctBodies == Set((0..<40).map { "q\($0)" }))
        #expect(recorder.bodies.count == 40)
        #expect(!recorder.messages(by: "first").isEmpty && !recorder.messages(by: "second").isEmpty)
        await first.shutdown()
        await second.shutdown()
        for index in 40..<44 { try await broker.send(topic: "PullPoll", queueId: Int32(index % 4), body: "q\(index)") }
        let later = try await Self.consumer(broker, group: "G-poll", subscriptions: ["PullPoll": "*"])
        var laterBodies = Set<String>()
        let laterDeadline = ContinuousClock.now + .seconds(30)
        while laterBodies.count < 4, ContinuousClock.now < laterDeadline {
            laterBodies.formUnion(try await later.poll(timeout: .milliseconds(500)).map { String(buffer: $0.body) })
        }
        #expect(laterBodies == Set((40..<44).map { "q\($0)" }))
        await later.shutdown()
        await broker.raw.shutdown()
    }
}
