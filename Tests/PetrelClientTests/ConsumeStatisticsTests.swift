import Synchronization
import Testing

@testable import PetrelClient

/// The running info's per-topic rates: a minute of per-second buckets and an hour of failures.
struct ConsumeStatisticsTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        /// Milliseconds since the epoch.
        let milliseconds = Mutex<Int64>(1_764_000_000_000)
        /// Moves the clock on.
        func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
        /// The current time.
        var now: Int64 { milliseconds.withLock { $0 } }
    }

    @Test func ratesCoverTheLastMinuteAndFailuresTheLastHour() throws {
        let clock = ManualClock()
        let statistics = ConsumeStatistics(now: { clock.now })
        statistics.recordPull(topic: "T", messages: 30, milliseconds: 4)
        statistics.recordPull(topic: "T", messages: 0, milliseconds: 8)
        statistics.recordConsume(topic: "T", succeeded: 25, failed: 5, milliseconds: 10)
        clock.advance(seconds: 30)
        statistics.recordConsume(topic: "T", succeeded: 0, failed: 1, milliseconds: 20)
        statistics.recordPull(topic: "U", messages: 6, milliseconds: 2)
        var snapshot = try #require(statistics.snapshots()["T"])
        #expect(snapshot == ConsumeStatistics.Snapshot(
            pullRT: 6, pullTPS: 0.5, consumeRT: 15, consumeOKTPS: 25.0 / 60, consumeFailedTPS: 0.1, consumeFailedMsgs: 6))
        #expect(statistics.snapshots()["U"]?.pullTPS == 0.1)

        // 45 s later the first second has left the minute window; the failures stay for the hour.
        clock.advance(seconds: 45)
        snapshot = try #require(statistics.snapshots()["T"])
        #expect(snapshot.pullTPS == 0 && snapshot.pullRT == 0)
        #expect(snapshot.consumeRT == 20 && snapshot.consumeFailedTPS == 1.0 / 60 && snapshot.consumeOKTPS == 0)
        #expect(snapshot.consumeFailedMsgs == 6)

        // After an hour and more, nothing is left; a bucket reused by a later second starts empty.
        clock.advance(seconds: 3_700)
        statistics.recordConsume(topic: "T", succeeded: 2, failed: 0, milliseconds: 1)
        snapshot = try #require(statistics.snapshots()["T"])
        #expect(snapshot == ConsumeStatistics.Snapshot(
            pullRT: 0, pullTPS: 0, consumeRT: 1, consumeOKTPS: 2.0 / 60, consumeFailedTPS: 0, consumeFailedMsgs: 0))
        #expect(snapshot.json.serializedString.hasPrefix(#"{"consumeFailedMsgs":0,"consumeFailedTPS":0.0,"consumeOKTPS":0.0333"#))
    }
}
