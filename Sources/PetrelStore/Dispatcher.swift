import Foundation
import Logging
import PetrelCore
import Synchronization

/// Fills consume queues and the key index from the commit log (RocketMQ's reput service).
///
/// It reads records from its position up to a limit the store gives: the written end under
/// `ASYNC_FLUSH`, the durable end under `SYNC_FLUSH`, so a consumer never sees a message that
/// a crash could still take away.
final class Dispatcher: @unchecked Sendable {
    /// The log read from.
    private let commitLog: CommitLog
    /// Queues written to.
    private let queues: ConsumeQueueTable
    /// Index written to (nil when indexing is off).
    private let index: IndexService?
    /// How far it may read.
    private let limit: @Sendable () -> Int64
    /// Told about each queue that received messages, with its new maximum offset. The closure sits
    /// in a struct: a bare closure stored in `Mutex` is re-abstracted on every `withLock` (its inout
    /// access writes back a closure wrapped in one more thunk pair), so each dispatch made every
    /// later call one thunk deeper and a broker's dispatch CPU grew with the number of dispatches.
    private let onArrival = Mutex<ArrivalListener?>(nil)
    /// Where reading continues.
    private let position: Atomic<Int64>
    /// Wakes the thread.
    private let condition = NSCondition()
    /// Whether work may be waiting.
    private var pending = false
    /// True while the thread sleeps: appenders signal only then, so a busy dispatcher costs them nothing.
    private let sleeping = Atomic<Bool>(false)
    /// Set to stop.
    private var stopping = false
    /// Signals the loop ended.
    private let finished = DispatchSemaphore(value: 0)
    /// Where problems are reported.
    private let logger: Logger

    /// Creates a dispatcher starting at `start`.
    init(commitLog: CommitLog, queues: ConsumeQueueTable, index: IndexService?, start: Int64,
         logger: Logger, limit: @escaping @Sendable () -> Int64) {
        self.commitLog = commitLog
        self.queues = queues
        self.index = index
        self.limit = limit
        self.logger = logger
        position = Atomic(start)
    }

    /// Every record below this offset is in the consume queues and index.
    var dispatchedOffset: Int64 { position.load(ordering: .acquiring) }

    /// Sets the arrival callback (long polling uses it).
    func setArrivalListener(_ listener: (@Sendable (QueueKey, Int64) -> Void)?) {
        onArrival.withLock { $0 = listener.map(ArrivalListener.init) }
    }

    /// Starts the thread.
    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "petrel-dispatch"
        thread.start()
    }

    /// Asks the thread to look for new records. Cheap when the thread is busy: one atomic load.
    func wake() {
        guard sleeping.load(ordering: .sequentiallyConsistent) else { return }
        condition.lock()
        pending = true
        condition.unlock()
        condition.signal()
    }

    /// Dispatches what is left below the limit and stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    /// How long the thread naps after a pass that found records before it looks again. Java's reput
    /// service dispatches in passes 1 ms apart the same way.
    static let passInterval: TimeInterval = 0.001

    /// The thread's loop: wait for work, dispatch, repeat; a periodic wake covers missed signals.
    ///
    /// After a pass that found records the thread naps `passInterval` without announcing sleep, so
    /// appenders under load do not signal it (each signal cost a context switch per message on a
    /// busy core) and the next pass takes everything appended meanwhile. Only after a pass that found
    /// nothing does it announce sleep and wait for a signal: the first message after a quiet spell is
    /// dispatched at once, later ones of a burst within `passInterval`.
    private func loop() {
        var foundRecords = false
        while true {
            condition.lock()
            if foundRecords && !stopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Self.passInterval))
            } else {
                // Announce sleep before the last look at the limit: an appender that published after
                // this look sees `sleeping` and signals; one that published before is seen by the look.
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if !pending && !stopping && limit() <= dispatchedOffset {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
                }
                sleeping.store(false, ordering: .sequentiallyConsistent)
            }
            pending = false
            let stop = stopping
            condition.unlock()
            let before = dispatchedOffset
            do { try dispatchAvailable() } catch {
                logger.error("dispatch stopped at \(dispatchedOffset): \(error)")
            }
            foundRecords = dispatchedOffset > before
            if stop { break }
        }
        finished.signal()
    }

    /// Dispatches every record between the position and the limit. Recovery calls it directly.
    func dispatchAvailable(upTo explicitLimit: Int64? = nil) throws(StoreError) {
        let end = explicitLimit ?? limit()
        var cursor = dispatchedOffset
        var arrivals: [QueueKey: Int64] = [:]
        var current: MappedFile?
        while cursor < end {
            if current == nil || cursor >= current!.startOffset + Int64(current!.size) {
                current = commitLog.segment(containing: cursor)
            }
            guard let segment = current else {
                throw StoreError(.corruptLog, "no segment holds dispatch position \(cursor)")
            }
            switch RecordScanner.scan(segment, position: Int(cursor - segment.startOffset), verifyChecksum: false) {
            case .message(let request):
                if let newMaximum = try apply(request) { arrivals[request.queue] = newMaximum }
                cursor += Int64(request.size)
            case .blank(let size):
                cursor += Int64(size)
            case .empty:
                throw StoreError(.corruptLog, "no record at \(cursor) below the written end \(end)", path: segment.path)
            case .invalid(let reason):
                throw StoreError(.corruptLog, "record at \(cursor) is invalid: \(reason)", path: segment.path)
            }
            position.store(cursor, ordering: .releasing)
        }
        if !arrivals.isEmpty, let listener = onArrival.withLock({ $0 }) {
            for (queue, maximum) in arrivals { listener.notify(queue, maximum) }
        }
    }

    /// Writes one record's unit and index entries; returns the queue's new maximum when a unit was added.
    private func apply(_ request: DispatchRequest) throws(StoreError) -> Int64? {
        var added: Int64?
        if request.transaction != .prepared && request.transaction != .rollback {
            let queue = try queues.queueCreating(request.queue)
            let unit = ConsumeQueue.Unit(commitLogOffset: request.commitLogOffset, size: request.size, tagsCode: request.tagsCode)
            if try queue.put(queueOffset: request.queueOffset, unit: unit) { added = request.queueOffset + 1 }
        }
        if let index, request.transaction != .rollback, request.commitLogOffset >= index.indexedUpTo.rawValue {
            for key in request.indexKeys {
                try index.index(key: request.queue.topic + "#" + key,
                                commitLogOffset: CommitLogOffset(request.commitLogOffset),
                                storeTimestamp: request.storeTimestamp)
            }
        }
        return added
    }
}

/// The arrival callback, boxed in a struct so that storing and reading it through a generic
/// container (`Mutex`) keeps its natural abstraction instead of adding reabstraction thunks.
struct ArrivalListener: Sendable {
    /// Called with a queue and its new maximum offset.
    let notify: @Sendable (QueueKey, Int64) -> Void
}
