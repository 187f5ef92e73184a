import Foundation
import PetrelCore
import Synchronization

/// Flushes the commit log: group commit for `SYNC_FLUSH`, an interval for `ASYNC_FLUSH`.
///
/// Appenders in sync mode register a waiter for their end offset. The flush thread takes every
/// waiter present, msyncs up to the current write position once, and resumes all of them: one
/// msync serves every waiter that arrived while the previous one ran. A failed flush is sticky:
/// every waiter and every later append fails, because the page cache may have dropped data the
/// kernel could not write (reporting success after that would be a lie).
final class FlushService: @unchecked Sendable {
    /// An append waiting for durability.
    private struct Waiter {
        /// The offset that must be durable.
        var target: Int64
        /// When the waiter gives up (monotonic ns).
        var deadline: UInt64
        /// Told the outcome.
        var resumption: Resumption
    }

    /// How a waiter is told the outcome of its flush.
    private enum Resumption {
        /// An `async` `waitForFlush`, resumed where it awaits.
        case continuation(CheckedContinuation<PutStatus, Never>)
        /// A `whenFlushed` callback, called on the thread that settles the waiter (flush, timeout
        /// sweeper or stop): it only schedules work elsewhere, so that thread never blocks.
        case callback(@Sendable (PutStatus) -> Void)

        /// Delivers `status`; called exactly once.
        func resume(returning status: PutStatus) {
            switch self {
            case .continuation(let continuation): continuation.resume(returning: status)
            case .callback(let callback): callback(status)
            }
        }
    }

    /// The log being flushed.
    private let commitLog: CommitLog
    /// Flush mode and intervals.
    private let mode: FlushMode
    /// Async flush interval.
    private let interval: Duration
    /// Sync waiter timeout in nanoseconds.
    private let timeoutNanoseconds: UInt64
    /// Guards `waiters`, `stopping`, `failure` and `flusherSleeping`; the flush thread sleeps on it.
    private let condition = NSCondition()
    /// The timeout sweeper sleeps on its own condition, so appenders never wake it.
    private let sweeperCondition = NSCondition()
    /// True while the flush thread waits for work: appenders signal only then.
    private var flusherSleeping = false
    /// Set by appends on the `pwrite` path: queued bytes wait to be written.
    private var hasWork = false
    /// The flush thread's reused buffer for gathering queued batches into one `pwrite`.
    private var staging: [UInt8] = []
    /// Waiting appenders.
    private var waiters: [Waiter] = []
    /// Set to stop the thread.
    private var stopping = false
    /// The sticky flush failure.
    private var failure: StoreError?
    /// Everything below is durable.
    private let flushed = Atomic<Int64>(0)
    /// Number of flushes that wrote something (observability: under group commit it stays far below the append count).
    private let flushes = Atomic<Int>(0)
    /// Called after each successful flush with the new flushed offset.
    private let onFlushed: @Sendable (Int64) -> Void
    /// The running threads.
    private var threads: [Thread] = []
    /// Signals that the flush loop ended.
    private let finished = DispatchSemaphore(value: 0)
    /// Passed by the flush thread before each round. Always open in service; a test holds it to
    /// stand for an msync that does not return, which the timeout sweeper must see through.
    let roundGate = FlushRoundGate()

    /// Creates the service; nothing runs until `start`.
    init(commitLog: CommitLog, mode: FlushMode, interval: Duration, timeout: Duration,
         initialFlushed: Int64, onFlushed: @escaping @Sendable (Int64) -> Void) {
        self.commitLog = commitLog
        self.mode = mode
        self.interval = interval
        timeoutNanoseconds = UInt64(timeout.components.seconds) * 1_000_000_000 + UInt64(timeout.components.attoseconds / 1_000_000_000)
        self.onFlushed = onFlushed
        flushed.store(initialFlushed, ordering: .releasing)
    }

    /// Everything below this offset is durable.
    var flushedOffset: Int64 { flushed.load(ordering: .acquiring) }

    /// Number of flush rounds that wrote something.
    var flushCount: Int { flushes.load(ordering: .relaxed) }

    /// The sticky failure, if a flush ever failed.
    var stickyFailure: StoreError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Starts the flush thread and the timeout sweeper.
    func start() {
        let flusher = Thread { [self] in flushLoop() }
        flusher.name = "petrel-flush"
        let sweeper = Thread { [self] in sweepLoop() }
        sweeper.name = "petrel-flush-timeouts"
        threads = [flusher, sweeper]
        flusher.start()
        sweeper.start()
    }

    /// Flushes what is written, stops the threads and fails any remaining waiter.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        sweeperCondition.lock()
        sweeperCondition.signal()
        sweeperCondition.unlock()
        finished.wait()
        finished.wait()
    }

    /// Waits until `target` is durable, the timeout passes, or a flush fails.
    func waitForFlush(upTo target: Int64) async -> PutStatus {
        if flushedOffset >= target { return .ok }
        return await withCheckedContinuation { continuation in
            if let settled = register(target, .continuation(continuation)) {
                continuation.resume(returning: settled)
            }
        }
    }

    /// Like `waitForFlush` without a task: returns the outcome when it is known at once (`target`
    /// already durable, a sticky failure, stopping), without calling `callback`; otherwise returns
    /// nil and calls `callback` exactly once with the outcome, from the flush thread (group commit:
    /// one round settles every waiter it covers), the timeout sweeper or `stop`. `callback` must
    /// only hand the outcome on (schedule work elsewhere): it runs on a thread that must not block.
    func whenFlushed(upTo target: Int64, then callback: @escaping @Sendable (PutStatus) -> Void) -> PutStatus? {
        if flushedOffset >= target { return .ok }
        return register(target, .callback(callback))
    }

    /// Registers a waiter for `target` and wakes a sleeping flush thread; returns the outcome
    /// instead when it is known without flushing (then `resumption` is not registered).
    private func register(_ target: Int64, _ resumption: Resumption) -> PutStatus? {
        condition.lock()
        if let failure {
            condition.unlock()
            return .flushFailed(failure.description)
        }
        if stopping {
            condition.unlock()
            return .serviceNotAvailable
        }
        // Flushed meanwhile (the flush thread publishes under the lock): no waiter, no round.
        if flushedOffset >= target {
            condition.unlock()
            return .ok
        }
        waiters.append(Waiter(target: target, deadline: System.monotonicNanoseconds() + timeoutNanoseconds, resumption: resumption))
        // A busy flush thread looks at the waiters again before it sleeps: no signal needed then.
        let wake = flusherSleeping
        condition.unlock()
        if wake { condition.signal() }
        return nil
    }

    /// Number of waiters registered and not yet settled (tests await a waiter with it).
    var waiterCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiters.count
    }

    /// Tells a sleeping flush thread that queued writes exist (the `pwrite` path needs the flush
    /// thread to write them even when nobody waits, e.g. a `WAIT=false` message).
    func noteAppend() {
        guard !commitLog.writesThroughMapping else { return }
        condition.lock()
        let wake = flusherSleeping && !hasWork
        hasWork = true
        condition.unlock()
        if wake { condition.signal() }
    }

    /// The flush thread's loop.
    private func flushLoop() {
        let intervalSeconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while true {
            condition.lock()
            if mode == .sync {
                while waiters.isEmpty && !hasWork && !stopping {
                    flusherSleeping = true
                    condition.wait()
                    flusherSleeping = false
                }
            } else if !stopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: intervalSeconds))
            }
            let stop = stopping
            let broken = failure != nil
            hasWork = false
            condition.unlock()
            if !broken {
                roundGate.pass()
                flushOnce()
            }
            if stop { break }
        }
        failRemaining(with: .serviceNotAvailable)
        finished.signal()
    }

    /// One flush round: msync up to the current write position, then resume waiters.
    private func flushOnce() {
        let from = flushedOffset
        var outcome: StoreError?
        var target = commitLog.committedOffset
        do { target = try commitLog.writePending(staging: &staging) } catch { outcome = error }
        if target > from, outcome == nil {
            do { try commitLog.flush(from: from, to: target) } catch { outcome = error }
            flushes.add(1, ordering: .relaxed)
        }
        condition.lock()
        if let outcome {
            failure = outcome
            let failed = waiters
            waiters.removeAll()
            condition.unlock()
            for waiter in failed { waiter.resumption.resume(returning: .flushFailed(outcome.description)) }
            return
        }
        flushed.store(max(from, target), ordering: .sequentiallyConsistent)
        var ready: [Waiter] = []
        waiters.removeAll { waiter in
            guard waiter.target <= target else { return false }
            ready.append(waiter)
            return true
        }
        condition.unlock()
        if target > from { onFlushed(target) }
        for waiter in ready { waiter.resumption.resume(returning: .ok) }
    }

    /// Times out waiters whose deadline passed, even while an msync is stuck.
    private func sweepLoop() {
        while true {
            condition.lock()
            let stop = stopping
            let now = System.monotonicNanoseconds()
            var expired: [Waiter] = []
            waiters.removeAll { waiter in
                guard waiter.deadline <= now else { return false }
                expired.append(waiter)
                return true
            }
            condition.unlock()
            for waiter in expired { waiter.resumption.resume(returning: .flushDiskTimeout) }
            if stop { break }
            sweeperCondition.lock()
            _ = sweeperCondition.wait(until: Date(timeIntervalSinceNow: 0.05))
            sweeperCondition.unlock()
        }
        finished.signal()
    }

    /// Fails every waiter still registered (at shutdown).
    private func failRemaining(with status: PutStatus) {
        condition.lock()
        let remaining = waiters
        waiters.removeAll()
        condition.unlock()
        for waiter in remaining { waiter.resumption.resume(returning: status) }
    }
}

/// A gate the flush thread passes before each round: open unless held. Holding it from any thread
/// (or task) keeps the next round from starting, like an msync that does not return.
final class FlushRoundGate: @unchecked Sendable {
    /// Guards `held`; the flush thread waits on it.
    private let condition = NSCondition()
    /// Whether rounds wait.
    private var held = false

    /// Keeps rounds from starting until `release`.
    func hold() {
        condition.lock()
        held = true
        condition.unlock()
    }

    /// Lets rounds start again.
    func release() {
        condition.lock()
        held = false
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once the gate is open (at once in service). Called by the flush thread.
    func pass() {
        condition.lock()
        while held { condition.wait() }
        condition.unlock()
    }
}
