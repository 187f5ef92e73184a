import Logging
import PetrelCore
import PetrelStore
import ServiceLifecycle
import Synchronization

/// Arbitrary-time delivery (RocketMQ 5 timer messages). A send with a future deliver time is parked
/// in `rmq_sys_wheel_timer` queue 0 (so its acknowledgement means it is as durable as any message);
/// this service reads that queue, records one `TimerLog` entry per message, keeps the pending ones
/// in a min-heap, sleeps until the earliest is due (woken early when new timer messages arrive),
/// stores each due message again in its real topic and queue, marks its entry delivered, and
/// persists a delivered watermark.
///
/// Delivery is at least once and never early: a crash between the re-store and the entry's
/// delivered mark delivers that message again after restart. The watermark is written only once
/// the delivered copies below it are flushed, and at start every entry from the watermark on is
/// reloaded; entries a crash lost are derived again from the timer topic's consume queue.
public final class TimerService: Service, Sendable {
    /// The store parked and delivered messages live in.
    public let store: MessageStore
    /// The persisted timer entries.
    public let log: TimerLog
    /// Longest sleep when nothing is due sooner (covers a missed wake-up).
    public let idleTick: Duration
    /// Least time between two watermark writes, in milliseconds.
    public let persistIntervalMilliseconds: Int64
    /// `<timerlog>/checkpoint`.
    let checkpointPath: String
    /// Where problems are reported.
    let logger: Logger
    /// Told before a parked body is re-stored, so its compression dictionary stays (nil: no compression).
    let compression: StoreBodyCompression?
    /// Heap, cursors and watermark.
    let state = Mutex(State())
    /// Set while a round runs: a second concurrent round is skipped, so nothing is delivered twice.
    private let inRound = Atomic<Bool>(false)
    /// The sleeping loop's wake-up.
    private let wakeState = Mutex(WakeState())
    /// Messages stored in their real topic since start.
    let delivered = Atomic<Int>(0)

    /// The mutable part.
    struct State {
        /// Pending timers.
        var heap = TimerHeap()
        /// Next timer-topic queue offset to read.
        var nextIngest: Int64 = 0
        /// Every entry below is delivered or skipped.
        var watermark: Int64 = 0
        /// The watermark last written to the checkpoint.
        var persistedWatermark: Int64 = 0
        /// End of the newest delivered copy in the commit log.
        var highestDeliveredEnd: Int64 = 0
        /// A watermark waiting for the commit log to be flushed up to `requiredFlushed`.
        var candidate: (watermark: Int64, requiredFlushed: Int64)?
        /// When the checkpoint was last written.
        var lastPersistAt: Int64 = 0
    }

    /// The loop's sleep, which `wake` cuts short.
    struct WakeState {
        /// A wake-up arrived while no sleep was in progress.
        var signaled = false
        /// The sleep in progress.
        var sleeper: Task<Void, Never>?
    }

    /// Opens `<storeRoot>/timerlog` and reloads every timer not yet delivered (see `recover`).
    public init(store: MessageStore, storeRoot: String, entriesPerFile: Int, idleTick: Duration = .seconds(1),
                persistIntervalMilliseconds: Int64 = 500, compression: StoreBodyCompression? = nil, logger: Logger) throws(BrokerError) {
        self.store = store
        self.compression = compression
        self.idleTick = idleTick
        self.persistIntervalMilliseconds = persistIntervalMilliseconds
        self.logger = logger
        do {
            log = try TimerLog(directory: storeRoot + "/timerlog", entriesPerFile: entriesPerFile)
        } catch {
            throw BrokerError(.storeFailure, "cannot open the timer log: \(error)")
        }
        checkpointPath = log.directory + "/checkpoint"
        try recover()
    }

    /// Timers waiting for their time.
    public var pendingCount: Int { state.withLock { $0.heap.count } }
    /// Messages delivered since start.
    public var deliveredCount: Int { delivered.load(ordering: .relaxed) }
    /// Every timer-log entry below this is delivered (in memory).
    public var watermark: Int64 { state.withLock { $0.watermark } }
    /// The watermark the checkpoint holds.
    public var persistedWatermark: Int64 { state.withLock { $0.persistedWatermark } }

    /// The commit-log offset of the oldest timer not yet delivered, or nil when none is pending:
    /// the store's retention keeps that message's segment and every later one (timers may wait
    /// longer than `fileReservedTime`). Entries below the watermark are done, so the entry at the
    /// watermark is the oldest that may still be pending.
    public func retentionFloor() -> Int64? {
        let (watermark, pending) = state.withLock { ($0.watermark, $0.heap.count) }
        guard pending > 0, watermark < log.endIndex else { return nil }
        do {
            return try log.entry(at: watermark)?.commitLogOffset
        } catch {
            // Unknown: keep everything rather than risk deleting a pending timer's message.
            logger.error("timer log entry \(watermark) unreadable; retention keeps every segment: \(error)")
            return 0
        }
    }

    /// Asks the loop to look for new timer messages now (the store's arrival listener calls it).
    public func wake() {
        let sleeper = wakeState.withLock { wake -> Task<Void, Never>? in
            wake.signaled = true
            return wake.sleeper
        }
        sleeper?.cancel()
    }

    /// The loop: a round, then sleep until the earliest timer is due or a wake-up, until graceful
    /// shutdown or cancellation; then the watermark is written.
    public func run() async throws {
        logger.debug("timer service started", metadata: ["pending": "\(pendingCount)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled && !self.store.isClosed {
                let outcome = await self.round(now: System.nowMilliseconds())
                let pause = outcome.retryLater ? Duration.milliseconds(100)
                    : outcome.backlog ? .zero : self.nextWait(now: System.nowMilliseconds())
                if pause > .zero { await self.sleep(for: pause) } else { await Task.yield() }
            }
        }
        persist(force: true)
        logger.debug("timer service stopped", metadata: ["delivered": "\(deliveredCount)"])
    }

    /// One round: reads new timer messages, delivers every timer due at `now`, advances the
    /// watermark and writes it when due. Returns the count delivered, whether the store refused one,
    /// and whether unread timer messages are left for the next round.
    @discardableResult
    func round(now: Int64) async -> (delivered: Int, retryLater: Bool, backlog: Bool) {
        guard !inRound.exchange(true, ordering: .acquiringAndReleasing) else { return (0, false, false) }
        defer { inRound.store(false, ordering: .releasing) }
        // A bounded slice per round, so a flood of new timers never holds up the ones due now.
        let start = state.withLock { $0.nextIngest }
        let end = store.maximumOffset(topic: SystemNames.timerTopic, queueId: 0).rawValue
        let reached = ingest(from: start, to: min(end, start + Self.ingestPerRound))
        state.withLock { $0.nextIngest = max($0.nextIngest, reached) }
        var retryLater = false
        // A read that made no progress is not a backlog: the next wake-up or tick tries again.
        let backlog = reached < end && reached > start
        var count = 0
        while !store.isClosed {
            let current = max(now, System.nowMilliseconds())
            let due = state.withLock { state -> [TimerHeap.Item] in
                var items: [TimerHeap.Item] = []
                while items.count < Self.deliveryBatch, let item = state.heap.popDue(now: current) { items.append(item) }
                return items
            }
            if due.isEmpty { break }
            let (stored, failed) = await deliver(due)
            count += stored
            if !failed.isEmpty {
                state.withLock { state in for item in failed { state.heap.insert(item) } }
                retryLater = true
                break
            }
        }
        advanceWatermark()
        persist(force: false)
        return (count, retryLater, backlog)
    }

    /// How long to sleep: until the earliest timer is due, at most `idleTick`.
    func nextWait(now: Int64) -> Duration {
        guard let first = state.withLock({ $0.heap.first?.deliverAt }) else { return idleTick }
        let milliseconds = first - now
        if milliseconds <= 0 { return .zero }
        return min(.milliseconds(milliseconds), idleTick)
    }

    /// Sleeps for `duration` unless a wake-up arrives first (or arrived since the last sleep).
    private func sleep(for duration: Duration) async {
        let sleeper = Task<Void, Never> { _ = try? await Task.sleep(for: duration) }
        let skip = wakeState.withLock { wake -> Bool in
            if wake.signaled {
                wake.signaled = false
                return true
            }
            wake.sleeper = sleeper
            return false
        }
        if skip { sleeper.cancel() }
        await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
        wakeState.withLock { wake in
            wake.sleeper = nil
            wake.signaled = false
        }
    }

    /// Rewrites entry `index` with `state` (a failure only costs a redelivery after restart).
    func mark(_ index: Int64, _ entry: TimerLog.Entry, _ newState: TimerLog.State) {
        var changed = entry
        changed.state = newState
        do { try log.write(changed, at: index) } catch {
            logger.error("updating a timer-log entry failed", metadata: ["index": "\(index)", "error": "\(error)"])
        }
    }

    /// Moves the in-memory watermark past every delivered, skipped or never-written entry.
    private func advanceWatermark() {
        let (start, end) = state.withLock { ($0.watermark, $0.nextIngest) }
        var cursor = start
        while cursor < end {
            if let entry = try? log.entry(at: cursor), entry.state == .pending { break }
            cursor += 1
        }
        if cursor > start { state.withLock { $0.watermark = max($0.watermark, cursor) } }
    }

    /// Writes the watermark when it moved, at most every `persistIntervalMilliseconds` unless
    /// `force`, and only once every delivered copy below it is flushed; then deletes timer-log
    /// files wholly below it.
    public func persist(force: Bool) {
        let now = System.nowMilliseconds()
        let flushed = store.flushedCommitLogOffset.rawValue
        let chosen: Int64? = state.withLock { state in
            if state.watermark > state.persistedWatermark, (state.candidate?.watermark ?? -1) < state.watermark,
               state.candidate == nil || force {
                state.candidate = (state.watermark, state.highestDeliveredEnd)
            }
            guard let candidate = state.candidate, force || now - state.lastPersistAt >= persistIntervalMilliseconds,
                  flushed >= candidate.requiredFlushed else { return nil }
            state.lastPersistAt = now
            state.candidate = nil
            return candidate.watermark
        }
        guard let chosen else {
            if force {
                do { try log.flush() } catch { logger.error("flushing the timer log failed", metadata: ["error": "\(error)"]) }
            }
            return
        }
        do {
            try log.flush()
            try TimerCheckpoint(deliveredBelow: chosen).write(to: checkpointPath)
            state.withLock { $0.persistedWatermark = max($0.persistedWatermark, chosen) }
            try log.deleteFiles(below: chosen)
        } catch {
            logger.error("persisting the timer watermark failed", metadata: ["error": "\(error)"])
        }
    }
}
