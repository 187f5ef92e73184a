import Foundation

/// A dedicated thread that runs `work` every `interval` until stopped. The store's background
/// loops do blocking file work (msync, fsync, fallocate), which must not occupy Swift's small
/// cooperative pool, so they get threads of their own.
final class PeriodicThread: @unchecked Sendable {
    /// The thread's name, for debuggers and `top -H`.
    private let name: String
    /// Seconds between runs.
    private let interval: Double
    /// Guards `stopping`; the thread sleeps on it between runs.
    private let condition = NSCondition()
    /// Set to stop.
    private var stopping = false
    /// Signals that the loop ended.
    private let finished = DispatchSemaphore(value: 0)
    /// Whether `start` ran (so `stop` does not wait for a thread that never began).
    private var started = false

    /// Creates the thread; nothing runs until `start`.
    init(name: String, interval: Duration) {
        self.name = name
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        // A zero interval would spin; a millisecond is the shortest wait that means anything here.
        self.interval = max(seconds, 0.001)
    }

    /// Starts calling `work` every interval; the first call comes one interval after the start.
    func start(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        started = true
        condition.unlock()
        let thread = Thread { [self] in
            while true {
                condition.lock()
                if !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: interval)) }
                let stop = stopping
                condition.unlock()
                if stop { break }
                work()
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the loop and waits until the thread has left it (a running `work` finishes first).
    func stop() {
        condition.lock()
        stopping = true
        let wasStarted = started
        condition.signal()
        condition.unlock()
        if wasStarted { finished.wait() }
    }
}
