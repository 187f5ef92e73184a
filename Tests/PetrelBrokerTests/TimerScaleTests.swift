import Foundation
import NIOCore
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelBroker

/// `TimerService` holding 100,000 pending timers at once while 10,000 of them come due within 20 s:
/// those are delivered exactly once, none early, and the other 90,000 stay pending; the lateness
/// percentiles are printed (accuracy is reported here, not asserted: speed belongs to benchmarks).
@Suite(.serialized) struct TimerScaleTests {
    /// Timers parked.
    static let count = 100_000
    /// Timers due during the test (the first `due` indexes); the rest are due an hour or more later.
    static let due = 10_000

    /// Parks `count` messages, the first `due` of them due between `firstDue` and `firstDue + 20 s`, straight into the store
    /// (the send path is covered by `TimerTests`); returns each one's deliver time.
    static func park(_ store: MessageStore, firstDue: Int64) async -> [Int64] {
        var times: [Int64] = []
        times.reserveCapacity(count)
        for index in 0..<count {
            let deliverAt = firstDue + (index < due ? Int64.random(in: 0..<20_000) : Int64.random(in: 3_600_000..<7_200_000))
            let message = StoredMessage(
                message: Message(topic: "TopicTimerScale", properties: MessageProperties([(PropertyKey.uniqueKey, "U\(index)")]),
                                 body: ByteBuffer(string: String(index))),
                queueId: 0, bornHost: MessageHost(address: 0x7F00_0001, port: 1))
            let put = await store.put(TimerMessages.parked(message, deliverAt: deliverAt))
            #expect(put.status == .ok)
            times.append(deliverAt)
        }
        return times
    }

    @Test(.timeLimit(.minutes(5)))
    func tenThousandDueAmongHundredThousandPendingAreEachDeliveredOnceNeverEarly() async throws {
        let fixture = try await HandlerFixture {
            $0.store.commitLogSegmentSize = 64 << 20
            $0.store.consumeQueueUnitsPerFile = 65_536
        }
        defer { fixture.directory.remove() }
        let store = fixture.store
        let service = try TimerService(store: store, storeRoot: fixture.configuration.store.rootDirectory,
                                       entriesPerFile: 65_536, logger: HandlerFixture.logger)
        store.setMessageArrivalListener { key, _ in if key.topic == SystemNames.timerTopic { service.wake() } }
        let loop = Task { try? await service.run() }
        let parkStart = System.nowMilliseconds()
        let deliverTimes = await Self.park(store, firstDue: parkStart + 25_000)
        let parkedAt = System.nowMilliseconds()

        // Every timer is read into the heap; the earliest is due 25 s after parking began.
        var peakPending = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline,
              store.maximumOffset(topic: "TopicTimerScale", queueId: 0).rawValue < Int64(Self.due) {
            peakPending = max(peakPending, service.pendingCount)
            try await Task.sleep(for: .milliseconds(50))
        }
        loop.cancel()
        await loop.value
        let result = try Self.verify(store, deliverTimes: deliverTimes)
        #expect(service.deliveredCount == Self.due)
        #expect(service.pendingCount == Self.count - Self.due, "nothing due later was delivered")
        print("""
            timer scale: \(Self.count) parked in \(parkedAt - parkStart) ms, peak pending \(peakPending); lateness \
            p50 \(result.p50) ms, p99 \(result.p99) ms, max \(result.max) ms
            """)
        try await fixture.close()
    }

    /// Reads the real queue: every index once, none stored before its time. Returns the lateness percentiles.
    static func verify(_ store: MessageStore, deliverTimes: [Int64]) throws -> (p50: Int64, p99: Int64, max: Int64) {
        var seen = [Bool](repeating: false, count: due)
        var lateness: [Int64] = []
        var offset = QueueOffset.zero
        var duplicates = 0
        var early = 0
        while true {
            let result = store.getMessages(topic: "TopicTimerScale", queueId: 0, offset: offset, maximumCount: 1024)
            guard result.status == .found else { break }
            for slice in result.records {
                let message = try slice.decode()
                let index = try #require(Int(String(buffer: message.message.body)).flatMap { $0 < due ? $0 : nil })
                if seen[index] { duplicates += 1 }
                seen[index] = true
                let late = message.storeTimestamp - deliverTimes[index]
                if late < 0 { early += 1 }
                lateness.append(late)
            }
            offset = result.nextBeginOffset
        }
        #expect(seen.allSatisfy { $0 }, "every timer delivered")
        #expect(duplicates == 0)
        #expect(early == 0)
        let sorted = lateness.sorted()
        guard !sorted.isEmpty else { return (0, 0, 0) }
        return (sorted[sorted.count / 2], sorted[Int(Double(sorted.count) * 0.99)], sorted.last!)
    }
}
