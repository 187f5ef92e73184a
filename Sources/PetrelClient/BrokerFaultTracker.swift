import PetrelCore
import Synchronization

/// Latency-based broker avoidance (Java `MQFaultStrategy` with `LatencyFaultToleranceImpl`): a broker
/// that failed a send is avoided for the isolation time, one that answered slowly for a time that
/// grows with its latency; queues are picked round-robin among the brokers not being avoided.
final class BrokerFaultTracker: Sendable {
    /// Java's latency steps (ms) and how long a broker that answered that slowly is avoided (ms).
    static let latencySteps: [(latency: Int64, avoidFor: Int64)] = [
        (15_000, 600_000), (3_000, 180_000), (2_000, 120_000), (1_000, 60_000), (550, 30_000), (100, 0), (50, 0),
    ]

    /// Whether avoidance is on; off, only the broker that failed the previous attempt is skipped.
    let isEnabled: Bool
    /// How long a failed broker is avoided.
    let isolationTime: Duration
    /// Broker name → until when it is avoided.
    private let avoidedUntil = Mutex<[String: ContinuousClock.Instant]>([:])
    /// Round-robin position by topic.
    private let positions = Mutex<[String: Int]>([:])

    /// A tracker.
    init(isEnabled: Bool, isolationTime: Duration) {
        self.isEnabled = isEnabled
        self.isolationTime = isolationTime
    }

    /// Records how a send to `brokerName` went: `failed` isolates it, else its latency decides.
    func record(brokerName: String, latency: Duration, failed: Bool) {
        guard isEnabled else { return }
        let avoidance: Duration
        if failed {
            avoidance = isolationTime
        } else {
            let milliseconds = latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000
            let step = Self.latencySteps.first { milliseconds >= $0.latency }
            avoidance = .milliseconds(step?.avoidFor ?? 0)
        }
        let until = ContinuousClock.now + avoidance
        avoidedUntil.withLock { table in
            if avoidance > .zero { table[brokerName] = until } else { table[brokerName] = nil }
        }
    }

    /// Whether `brokerName` is not being avoided now.
    func isAvailable(_ brokerName: String) -> Bool {
        guard isEnabled else { return true }
        let now = ContinuousClock.now
        return avoidedUntil.withLock { table in
            guard let until = table[brokerName] else { return true }
            return until <= now
        }
    }

    /// The next queue of `queues` (non-empty) for `topic`, round-robin, preferring in this order:
    /// a broker neither avoided nor `lastBroker` (the one the previous attempt of this send failed
    /// on), a broker not avoided, a broker other than `lastBroker`, any queue.
    func pick(from queues: [MessageQueue], topic: String, lastBroker: String?) -> MessageQueue {
        let start = positions.withLock { table -> Int in
            let position = table[topic] ?? Int.random(in: 0..<1024)
            table[topic] = position &+ 1
            return position
        }
        let base = start & Int.max
        let ordered = (0..<queues.count).map { queues[(base &+ $0) % queues.count] }
        let preferences: [(MessageQueue) -> Bool] = [
            { self.isAvailable($0.brokerName) && $0.brokerName != lastBroker },
            { self.isAvailable($0.brokerName) },
            { $0.brokerName != lastBroker },
        ]
        for preference in preferences {
            if let queue = ordered.first(where: preference) { return queue }
        }
        return ordered[0]
    }
}
