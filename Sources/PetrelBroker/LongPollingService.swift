import PetrelCore
import ServiceLifecycle
import Synchronization

/// Holds pull requests that found nothing new until a message arrives in their queue or their
/// suspend time ends (Java `PullRequestHoldService`, spec §9).
///
/// Waiters are kept per queue with a continuation each. The store's arrival listener calls
/// `messagesArrived`, which resumes the queue's waiters whose offset the queue has now passed; the
/// service's `run` loop sweeps out waiters whose deadline passed. While `run` is not running (before
/// start, after shutdown) nothing is held: `waitForMessages` returns at once, so a broker whose loop
/// stopped never leaves a client hanging.
public final class LongPollingService: Service, Sendable {
    /// One held pull.
    private struct Waiter: Sendable {
        /// Resumed exactly once, by whoever removes the waiter from the table.
        let continuation: CheckedContinuation<Void, Never>
        /// The offset the pull asked for: a queue maximum above it means there is something new.
        let offset: Int64
        /// When the hold ends regardless.
        let deadline: ContinuousClock.Instant
    }

    /// The held pulls and whether holding is possible.
    private struct State: Sendable {
        /// Queue → waiter id → waiter.
        var waiters: [QueueKey: [UInt64: Waiter]] = [:]
        /// Source of waiter ids.
        var nextId: UInt64 = 0
        /// True while `run` sweeps.
        var isRunning = false
    }

    /// How often deadlines are checked: the worst-case overshoot of a hold.
    public let sweepInterval: Duration
    /// Held pulls.
    private let state = Mutex(State())

    /// A service sweeping every `sweepInterval`.
    public init(sweepInterval: Duration = .milliseconds(200)) {
        self.sweepInterval = sweepInterval
    }

    /// True while `run` sweeps, that is while pulls can be held.
    public var isRunning: Bool { state.withLock { $0.isRunning } }

    /// Number of pulls held now.
    public var heldCount: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    /// Waits until `key`'s queue grows past `offset`, `deadline` passes, the service stops, or the
    /// task is cancelled. `hasArrived` is checked once the wait is registered, closing the window in
    /// which a message arriving just before registration would otherwise go unnoticed.
    public func waitForMessages(
        in key: QueueKey, beyond offset: Int64, until deadline: ContinuousClock.Instant, hasArrived: () -> Bool
    ) async {
        let id = state.withLock { state -> UInt64? in
            guard state.isRunning else { return nil }
            state.nextId &+= 1
            return state.nextId
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    guard state.isRunning else { return false }
                    state.waiters[key, default: [:]][id] = Waiter(continuation: continuation, offset: offset, deadline: deadline)
                    return true
                }
                if !registered {
                    continuation.resume()
                } else if hasArrived() || Task.isCancelled {
                    wake(key, id)
                }
            }
        } onCancel: {
            wake(key, id)
        }
    }

    /// Resumes the waiters of `key` that asked for an offset below `maximumOffset`. Called on the
    /// store's dispatch thread, so it only takes a lock and resumes continuations.
    public func messagesArrived(in key: QueueKey, maximumOffset: Int64) {
        let ready = state.withLock { state -> [Waiter] in
            guard let waiting = state.waiters[key] else { return [] }
            let due = waiting.filter { $0.value.offset < maximumOffset }
            guard !due.isEmpty else { return [] }
            for id in due.keys { state.waiters[key]?[id] = nil }
            if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
            return Array(due.values)
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Resumes one waiter if it is still held.
    private func wake(_ key: QueueKey, _ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            let removed = state.waiters[key]?.removeValue(forKey: id)
            if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
            return removed
        }
        waiter?.continuation.resume()
    }

    /// Resumes every waiter whose deadline is at or before `now`.
    func sweep(now: ContinuousClock.Instant) {
        let expired = state.withLock { state -> [Waiter] in
            var expired: [Waiter] = []
            for (key, waiting) in state.waiters {
                let due = waiting.filter { $0.value.deadline <= now }
                guard !due.isEmpty else { continue }
                for id in due.keys { state.waiters[key]?[id] = nil }
                if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
                expired.append(contentsOf: due.values)
            }
            return expired
        }
        for waiter in expired { waiter.continuation.resume() }
    }

    /// Sweeps until graceful shutdown or cancellation, then releases every held pull so each is
    /// answered before the server closes.
    public func run() async throws {
        state.withLock { $0.isRunning = true }
        defer { releaseAll() }
        let clock = ContinuousClock()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.sweepInterval) } catch { return }
                self.sweep(now: clock.now)
            }
        }
    }

    /// Stops holding and resumes every waiter.
    public func releaseAll() {
        let all = state.withLock { state -> [Waiter] in
            state.isRunning = false
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in all { waiter.continuation.resume() }
    }
}
