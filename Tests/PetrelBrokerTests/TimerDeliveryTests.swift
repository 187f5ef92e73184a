import Foundation
import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting
import PetrelStore
import ServiceLifecycle
import Synchronization
import Testing

@testable import PetrelBroker

/// Arbitrary-time delivery through a real broker over TCP: 10,000 timer messages, each due at a
/// random time 1–30 s after its send, each delivered exactly once to its real topic and queue, none before its time; the
/// lateness percentiles are printed.
@Suite(.serialized) struct TimerDeliveryTests {
    /// Messages sent.
    static let count = 10_000
    /// Queues of the real topic.
    static let queues: Int32 = 4

    /// Each message's earliest deliver time by the test's clock (never after the broker's), by index.
    final class DeliverTimes: Sendable {
        /// The times, filled in as sends are acknowledged.
        let values = Mutex([Int64](repeating: 0, count: TimerDeliveryTests.count))
    }

    /// The timer properties of message `index`: mostly absolute `TIMER_DELIVER_MS`, some relative
    /// `TIMER_DELAY_MS` / `TIMER_DELAY_SEC` (rounded up, so the broker's time is never earlier) and
    /// some ONS `__STARTDELIVERTIME`.
    static func timerProperty(index: Int, deliverAt: Int64, now: Int64) -> (String, String) {
        switch index % 20 {
        case 0, 1: return (PropertyKey.timerDelayMilliseconds, String(deliverAt - now))
        case 2: return (PropertyKey.timerDelaySeconds, String((deliverAt - now + 999) / 1000))
        case 3: return (PropertyKey.startDeliverTime, String(deliverAt))
        default: return (PropertyKey.timerDeliverMilliseconds, String(deliverAt))
        }
    }

    /// Sends every message (8 concurrent senders over one connection); returns each one's earliest
    /// deliver time, or records an issue for a refused send.
    static func sendAll(client: RemotingClient, address: String, topic: String) async throws -> [Int64] {
        let times = DeliverTimes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<8 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    for index in stride(from: sender, to: count, by: 8) {
                        // Random within 30 s of the send (at least 1 s ahead, so every one waits in the timer).
                        let now = System.nowMilliseconds()
                        var deliverAt = now + Int64.random(in: 1_000..<30_000, using: &generator)
                        let (key, value) = timerProperty(index: index, deliverAt: deliverAt, now: now)
                        if key == PropertyKey.timerDelaySeconds { deliverAt = now + Int64(value)! * 1000 }
                        var request = RetryAndDelayTests.send(topic: topic, body: String(index), properties: [(key, value)])
                        request.extFields["queueId"] = String(Int32(index) % queues)
                        let response = try await client.invoke(address: address, request: request, timeout: .seconds(10))
                        #expect(response.responseCode == .success, "\(response.remark ?? "")")
                        times.values.withLock { $0[index] = deliverAt }
                    }
                }
            }
            try await group.waitForAll()
        }
        return times.values.withLock { $0 }
    }

    /// Pulls one queue over TCP (long polling) until `expected` messages arrived or the deadline.
    static func pullQueue(client: RemotingClient, address: String, topic: String, queueId: Int32, until deadline: ContinuousClock.Instant,
                          tally: Counter) async throws -> [StoredMessage] {
        var offset: Int64 = 0
        var received: [StoredMessage] = []
        while ContinuousClock.now < deadline, tally.value < count {
            let request = Requests.pull(topic: topic, queueId: queueId, offset: offset, maxMessages: 32, sysFlag: 6,
                                        suspendMilliseconds: 1_000)
            let response = try await client.invoke(address: address, request: request, timeout: .seconds(10))
            if response.responseCode == .success {
                let messages = try Requests.messages(in: response)
                received += messages
                for _ in messages { tally.increment() }
            }
            if let next = response.extFields["nextBeginOffset"].flatMap(Int64.init) { offset = next }
        }
        return received
    }

    /// The value at `fraction` of sorted `values`.
    static func percentile(_ sorted: [Int64], _ fraction: Double) -> Int64 {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    @Test(.timeLimit(.minutes(3)))
    func tenThousandTimersAtRandomTimesAreEachDeliveredOnceNeverEarly() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let nameServer = RemotingServer(host: "127.0.0.1", port: 0, group: group, handler: RecordingNameServer(), logger: HandlerFixture.logger)
        let nameServerPort = try await nameServer.start()
        let directory = BrokerTestDirectory("petrel-timer")
        defer { directory.remove() }
        var configuration = HandlerFixture.configuration(root: directory.path)
        configuration.brokerIP1 = "127.0.0.1"
        configuration.listenPort = 0
        configuration.nameServerAddresses = ["127.0.0.1:\(nameServerPort)"]
        configuration.store.commitLogSegmentSize = 64 << 20
        configuration.store.consumeQueueUnitsPerFile = 16_384
        let broker = try await BrokerController.open(configuration: configuration, group: group, logger: HandlerFixture.logger)
        let services = ServiceGroup(services: [broker], gracefulShutdownSignals: [], cancellationSignals: [], logger: HandlerFixture.logger)
        let running = Task { try await services.run() }
        let client = RemotingClient(group: group, logger: HandlerFixture.logger)
        let address = "127.0.0.1:\(broker.listenPort)"
        let topic = "TopicTimer10k"

        let start = System.nowMilliseconds()
        let deliverTimes = try await Self.sendAll(client: client, address: address, topic: topic)
        let sentIn = System.nowMilliseconds() - start
        #expect(broker.timer.pendingCount + broker.timer.deliveredCount <= Self.count)

        let tally = Counter()
        let deadline = ContinuousClock.now + .seconds(60)
        let pulled = try await withThrowingTaskGroup(of: [StoredMessage].self) { tasks in
            for queueId in 0..<Self.queues {
                tasks.addTask {
                    try await Self.pullQueue(client: client, address: address, topic: topic, queueId: queueId, until: deadline, tally: tally)
                }
            }
            var all: [StoredMessage] = []
            for try await messages in tasks { all += messages }
            return all
        }
        Self.check(pulled, deliverTimes: deliverTimes, broker: broker, topic: topic, sentIn: sentIn)

        await services.triggerGracefulShutdown()
        try await running.value
        await client.shutdown()
        await nameServer.shutdown()
    }
}

extension TimerDeliveryTests {
    /// Every message exactly once, in the queue it was sent to, none stored before its deliver time
    /// (by the test's clock and by the broker's `TIMER_OUT_MS`); prints the lateness percentiles.
    static func check(_ pulled: [StoredMessage], deliverTimes: [Int64], broker: BrokerController, topic: String, sentIn: Int64) {
        var seen = [Bool](repeating: false, count: count)
        var lateness: [Int64] = []
        var brokerLateness: [Int64] = []
        var duplicates = 0
        var early = 0
        var misplaced = 0
        // A message whose absolute deliver time had passed when the broker read it (a send delayed
        // over a second on a loaded machine) is stored at once, without TIMER_OUT_MS.
        var storedAtOnce = 0
        for message in pulled {
            guard let index = Int(String(buffer: message.message.body)), (0..<count).contains(index) else {
                Issue.record("a delivered message without its index: \(message.message.properties)")
                continue
            }
            let parkedOut = message.message.properties[PropertyKey.timerOutMilliseconds].flatMap(Int64.init)
            if parkedOut == nil { storedAtOnce += 1 }
            let out = parkedOut ?? deliverTimes[index]
            if seen[index] { duplicates += 1 }
            seen[index] = true
            if message.storeTimestamp < deliverTimes[index] || message.storeTimestamp < out || out < deliverTimes[index] { early += 1 }
            if message.queueId != Int32(index) % queues || message.message.properties[PropertyKey.realTopic] != nil { misplaced += 1 }
            lateness.append(message.storeTimestamp - deliverTimes[index])
            brokerLateness.append(message.storeTimestamp - out)
        }
        let missing = seen.filter { !$0 }.count
        #expect(missing == 0, "every message delivered")
        #expect(duplicates == 0, "none delivered twice")
        #expect(early == 0, "none delivered before its time")
        #expect(misplaced == 0, "each in the queue it was sent to, without the parking properties")
        // Nothing more is on its way: the queues hold exactly one copy of each and no timer is pending.
        let stored = (0..<queues).reduce(Int64(0)) { $0 + broker.store.maximumOffset(topic: topic, queueId: $1).rawValue }
        #expect(stored == Int64(count))
        #expect(broker.timer.pendingCount == 0)
        #expect(broker.timer.deliveredCount == count - storedAtOnce)
        #expect(storedAtOnce < count / 100, "nearly every message waits in the timer log")
        guard !lateness.isEmpty else { return }
        let sorted = lateness.sorted()
        let brokerSorted = brokerLateness.sorted()
        print("""
            timer delivery: \(pulled.count) delivered of \(count), sent in \(sentIn) ms; lateness (store time − deliver time) \
            p50 \(percentile(sorted, 0.5)) ms, p99 \(percentile(sorted, 0.99)) ms, max \(sorted.last!) ms; \
            against the broker's TIMER_OUT_MS p50 \(percentile(brokerSorted, 0.5)) ms, p99 \(percentile(brokerSorted, 0.99)) ms, \
            max \(brokerSorted.last!) ms
            """)
    }
}
