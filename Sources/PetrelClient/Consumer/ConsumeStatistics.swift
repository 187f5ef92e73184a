import Foundation
import NIOConcurrencyHelpers
import PetrelCore

/// A push consumer's pull and consume rates per topic, for the `statusTable` of its running info
/// (Java's `ConsumerStatsManager` → `ConsumeStatus`): pull and consume rates and latencies over the
/// last minute, and the messages whose consumption failed over the last hour.
///
/// Counts go into one bucket per second (the last 60 kept) and failures also into one bucket per
/// minute (the last 60 kept), so recording is O(1) and memory is bounded per topic.
final class ConsumeStatistics: Sendable {
    /// One topic's figures as the running info reports them.
    struct Snapshot: Equatable, Sendable {
        /// Mean milliseconds per pull request over the last minute.
        var pullRT: Double
        /// Messages pulled per second over the last minute.
        var pullTPS: Double
        /// Mean milliseconds per listener call over the last minute.
        var consumeRT: Double
        /// Messages consumed successfully per second over the last minute.
        var consumeOKTPS: Double
        /// Messages whose consumption failed per second over the last minute.
        var consumeFailedTPS: Double
        /// Messages whose consumption failed over the last hour.
        var consumeFailedMsgs: Int64

        /// Java's `ConsumeStatus` JSON object.
        var json: JSONValue {
            func number(_ value: Double) -> JSONValue { JSONNumber(value).map(JSONValue.number) ?? .number(JSONNumber(0)) }
            return .object([
                "pullRT": number(pullRT), "pullTPS": number(pullTPS), "consumeRT": number(consumeRT),
                "consumeOKTPS": number(consumeOKTPS), "consumeFailedTPS": number(consumeFailedTPS),
                "consumeFailedMsgs": .integer(consumeFailedMsgs),
            ])
        }
    }

    /// The counts of one second (or, for `failuresPerMinute`, one minute).
    struct Bucket {
        /// Which second (or minute) since the epoch the bucket holds; stale buckets are reset.
        var period: Int64 = -1
        /// Pull requests answered.
        var pulls: Int64 = 0
        /// Milliseconds those pulls took, summed.
        var pullMilliseconds: Int64 = 0
        /// Messages they returned.
        var pulledMessages: Int64 = 0
        /// Listener calls.
        var consumes: Int64 = 0
        /// Milliseconds those calls took, summed.
        var consumeMilliseconds: Int64 = 0
        /// Messages consumed successfully.
        var consumedOK: Int64 = 0
        /// Messages whose consumption failed.
        var consumeFailed: Int64 = 0
    }

    /// One topic's rings.
    struct TopicRings {
        /// Indexed by second modulo 60.
        var perSecond = [Bucket](repeating: Bucket(), count: 60)
        /// Indexed by minute modulo 60; only `consumeFailed` is used.
        var perMinute = [Bucket](repeating: Bucket(), count: 60)
    }

    /// The rings per topic.
    private let topics = NIOLockedValueBox<[String: TopicRings]>([:])
    /// Milliseconds since the epoch; a parameter so tests can move time.
    private let now: @Sendable () -> Int64

    /// Statistics read against `now` (wall-clock milliseconds by default).
    init(now: @escaping @Sendable () -> Int64 = { Date.millisecondsSince1970() }) {
        self.now = now
    }

    /// Records one answered pull of `topic` that returned `messages` messages after `milliseconds`.
    func recordPull(topic: String, messages: Int, milliseconds: Int64) {
        update(topic) { bucket, _ in
            bucket.pulls += 1
            bucket.pullMilliseconds += milliseconds
            bucket.pulledMessages += Int64(messages)
        }
    }

    /// Records one listener call on `topic`: how many messages succeeded, failed, and how long it took.
    func recordConsume(topic: String, succeeded: Int, failed: Int, milliseconds: Int64) {
        update(topic) { bucket, minute in
            bucket.consumes += 1
            bucket.consumeMilliseconds += milliseconds
            bucket.consumedOK += Int64(succeeded)
            bucket.consumeFailed += Int64(failed)
            minute.consumeFailed += Int64(failed)
        }
    }

    /// The figures of every topic recorded so far.
    func snapshots() -> [String: Snapshot] {
        let time = now()
        let second = time / 1000
        let minute = second / 60
        return topics.withLockedValue { topics in
            topics.mapValues { rings in
                var total = Bucket()
                for bucket in rings.perSecond where bucket.period > second - 60 && bucket.period <= second {
                    total.pulls += bucket.pulls
                    total.pullMilliseconds += bucket.pullMilliseconds
                    total.pulledMessages += bucket.pulledMessages
                    total.consumes += bucket.consumes
                    total.consumeMilliseconds += bucket.consumeMilliseconds
                    total.consumedOK += bucket.consumedOK
                    total.consumeFailed += bucket.consumeFailed
                }
                let hourFailures = rings.perMinute
                    .filter { $0.period > minute - 60 && $0.period <= minute }
                    .reduce(Int64(0)) { $0 + $1.consumeFailed }
                func mean(_ sum: Int64, _ count: Int64) -> Double { count == 0 ? 0 : Double(sum) / Double(count) }
                return Snapshot(
                    pullRT: mean(total.pullMilliseconds, total.pulls), pullTPS: Double(total.pulledMessages) / 60,
                    consumeRT: mean(total.consumeMilliseconds, total.consumes), consumeOKTPS: Double(total.consumedOK) / 60,
                    consumeFailedTPS: Double(total.consumeFailed) / 60, consumeFailedMsgs: hourFailures)
            }
        }
    }

    /// Applies `change` to the current second's and minute's buckets of `topic`, resetting stale ones.
    private func update(_ topic: String, _ change: (inout Bucket, inout Bucket) -> Void) {
        let second = now() / 1000
        let minute = second / 60
        topics.withLockedValue { topics in
            var rings = topics.removeValue(forKey: topic) ?? TopicRings()
            let secondIndex = Int(second % 60)
            let minuteIndex = Int(minute % 60)
            if rings.perSecond[secondIndex].period != second { rings.perSecond[secondIndex] = Bucket(period: second) }
            if rings.perMinute[minuteIndex].period != minute { rings.perMinute[minuteIndex] = Bucket(period: minute) }
            change(&rings.perSecond[secondIndex], &rings.perMinute[minuteIndex])
            topics[topic] = rings
        }
    }
}
