import Foundation
import Logging
import NIOCore
import PetrelCore
import Synchronization

/// The broker's store: one commit log, consume queues per topic and queue, a key index, a
/// checkpoint, and the threads that flush and dispatch. Open it with `open`, close it with `close`.
public final class MessageStore: @unchecked Sendable {
    /// The configuration it was opened with.
    public let configuration: StoreConfiguration
    /// What recovery found at open.
    public let recoveryReport: RecoveryReport
    /// Where the store logs.
    let logger: Logger
    /// The log.
    let commitLog: CommitLog
    /// The queues.
    let queues: ConsumeQueueTable
    /// The index, when enabled.
    let index: IndexService?
    /// Flushing and group commit.
    let flushService: FlushService
    /// Fills queues and index.
    let dispatcher: Dispatcher
    /// Writes checkpoints.
    let checkpointer: Checkpointer
    /// Creates and pre-faults segments ahead of the writer.
    let warmer: SegmentWarmer
    /// The store lock's descriptor, held while open.
    private let lockDescriptor: Int32
    /// Set once `close` starts.
    private let closed = Atomic<Bool>(false)
    /// Set while disk usage is above `diskFullRatio`.
    let diskFull = Atomic<Bool>(false)
    /// The ratio at which writes are refused; adjustable while running.
    private let diskFullRatioBits: Atomic<UInt64>
    /// Offsets other parts of the broker still need (see `addRetentionFloor`).
    let retentionFloors = Mutex<[@Sendable () -> Int64?]>([])

    /// `<root>/abort`: present while open, so its presence at open means the last run crashed.
    var abortPath: String { configuration.rootDirectory + "/abort" }
    /// `<root>/checkpoint`.
    var checkpointPath: String { configuration.rootDirectory + "/checkpoint" }

    /// Opens (recovering as needed) the store described by `configuration`.
    public static func open(_ configuration: StoreConfiguration, logger: Logger) throws(StoreError) -> MessageStore {
        try configuration.validate()
        try System.makeDirectories(configuration.rootDirectory)
        let lock = try System.lockExclusively(configuration.rootDirectory + "/lock")
        do throws(StoreError) {
            return try MessageStore(configuration: configuration, logger: logger, lockDescriptor: lock)
        } catch {
            _ = try? System.close(lock, path: configuration.rootDirectory + "/lock")
            throw error
        }
    }

    /// Loads every part, recovers, and starts the threads.
    private init(configuration: StoreConfiguration, logger: Logger, lockDescriptor: Int32) throws(StoreError) {
        self.configuration = configuration
        self.logger = logger
        self.lockDescriptor = lockDescriptor
        diskFullRatioBits = Atomic(configuration.diskFullRatio.bitPattern)
        let root = configuration.rootDirectory
        var checkpoint: Checkpoint?
        var crashed = System.exists(root + "/abort")
        if let bytes = try AtomicFile.read(root + "/checkpoint") {
            do { checkpoint = try Checkpoint.decode(bytes, path: root + "/checkpoint") } catch {
                // The checkpoint only shortens recovery; without it every record is validated from the start.
                logger.error("\(error); validating the whole log instead")
                crashed = true
            }
        }
        commitLog = try CommitLog(directory: configuration.commitLogDirectory, segmentSize: configuration.commitLogSegmentSize,
                                  writesThroughMapping: configuration.flushMode == .async)
        queues = try ConsumeQueueTable(directory: root + "/consumequeue", unitsPerFile: configuration.consumeQueueUnitsPerFile)
        index = configuration.indexEnabled
            ? try IndexService(directory: root + "/index", slotCount: configuration.indexSlotCount,
                               entryCount: configuration.indexEntryCount)
            : nil
        let report = try Recovery.run(commitLog: commitLog, queues: queues, index: index, checkpoint: checkpoint,
                                      crashed: crashed, truncateCorruptLog: configuration.truncateCorruptLog, logger: logger)
        recoveryReport = report
        try AtomicFile.write([], to: root + "/abort")
        let commitLog = commitLog
        let dispatcherBox = Mutex<Dispatcher?>(nil)
        flushService = FlushService(
            commitLog: commitLog, mode: configuration.flushMode, interval: configuration.asyncFlushInterval,
            timeout: configuration.syncFlushTimeout, initialFlushed: report.end,
            onFlushed: { _ in dispatcherBox.withLock { $0 }?.wake() })
        let flushService = flushService
        let limit: @Sendable () -> Int64
        if configuration.flushMode == .sync {
            limit = { flushService.flushedOffset }
        } else {
            limit = { commitLog.committedOffset }
        }
        let dispatcher = Dispatcher(commitLog: commitLog, queues: queues, index: index, start: report.end,
                                    logger: logger, limit: limit)
        self.dispatcher = dispatcher
        dispatcherBox.withLock { $0 = dispatcher }
        checkpointer = Checkpointer(interval: configuration.checkpointInterval, logger: logger)
        // The first append must not wait for a segment to be created and faulted in.
        warmer = SegmentWarmer(commitLog: commitLog, lookahead: 64 << 20, logger: logger)
        try warmer.warmAhead()
        logger.info("store open at \(root): \(report.crashed ? "recovered after a crash" : "clean start"), log ends at \(report.end)")
        flushService.start()
        dispatcher.start()
        warmer.start()
        checkpointer.start { [weak self] () throws -> Void in
            try self?.writeCheckpoint()
        }
    }

    /// Flushes consume queues and index, then records how far everything is durable.
    func writeCheckpoint() throws(StoreError) {
        let dispatched = dispatcher.dispatchedOffset
        let flushed = flushService.flushedOffset
        for queue in queues.all { try queue.flush() }
        try index?.flush()
        let checkpoint = Checkpoint(commitLogFlushed: flushed, dispatched: dispatched, indexed: dispatched,
                                    writtenAtMilliseconds: System.nowMilliseconds())
        try AtomicFile.write(checkpoint.encoded(), to: checkpointPath)
    }

    /// Stops the threads, flushes everything, writes the checkpoint and removes the abort marker.
    public func close() throws(StoreError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        checkpointer.stop()
        warmer.stop()
        flushService.stop()
        dispatcher.stop()
        if let failure = flushService.stickyFailure {
            _ = try? System.close(lockDescriptor, path: configuration.rootDirectory + "/lock")
            throw failure
        }
        try writeCheckpoint()
        index?.close()
        try System.remove(abortPath)
        try System.syncDirectory(configuration.rootDirectory)
        try System.close(lockDescriptor, path: configuration.rootDirectory + "/lock")
        logger.info("store closed at \(configuration.rootDirectory), log ends at \(commitLog.committedOffset)")
    }

    /// Whether `close` has been called.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// The disk-usage ratio above which appends are refused.
    public var diskFullRatio: Double {
        get { Double(bitPattern: diskFullRatioBits.load(ordering: .relaxed)) }
        set { diskFullRatioBits.store(newValue.bitPattern, ordering: .relaxed) }
    }

    /// Registers the callback told about every queue that received messages (for long polling).
    public func setMessageArrivalListener(_ listener: (@Sendable (QueueKey, QueueOffset) -> Void)?) {
        guard let listener else {
            dispatcher.setArrivalListener(nil)
            return
        }
        dispatcher.setArrivalListener { key, maximum in listener(key, QueueOffset(maximum)) }
    }

    /// End of the written log.
    public var maximumCommitLogOffset: CommitLogOffset { CommitLogOffset(commitLog.committedOffset) }
    /// Start of the oldest kept segment.
    public var minimumCommitLogOffset: CommitLogOffset { CommitLogOffset(commitLog.minimumOffset) }
    /// Everything below is durable.
    public var flushedCommitLogOffset: CommitLogOffset { CommitLogOffset(flushService.flushedOffset) }
    /// Flush rounds that wrote something since open (group commit keeps it below the append count).
    public var flushCount: Int { flushService.flushCount }
    /// Everything below is in the consume queues and index.
    public var dispatchedCommitLogOffset: CommitLogOffset { CommitLogOffset(dispatcher.dispatchedOffset) }
}

/// Writes the checkpoint on an interval on its own thread, so group commit never waits for it.
final class Checkpointer: Sendable {
    /// The loop.
    private let thread: PeriodicThread
    /// Where failures go.
    private let logger: Logger

    /// Creates it; nothing runs until `start`.
    init(interval: Duration, logger: Logger) {
        thread = PeriodicThread(name: "petrel-checkpoint", interval: interval)
        self.logger = logger
    }

    /// Runs `work` every interval until stopped; a failure is logged and retried next time.
    func start(_ work: @escaping @Sendable () throws -> Void) {
        let logger = logger
        thread.start {
            do { try work() } catch { logger.error("checkpoint failed: \(error)") }
        }
    }

    /// Stops the thread (the caller writes the final checkpoint).
    func stop() { thread.stop() }
}
