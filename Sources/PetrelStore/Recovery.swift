import Logging
import PetrelCore

/// What recovery found and did; logged at start and kept for tests and operators.
public struct RecoveryReport: Hashable, Sendable {
    /// True when the previous run did not close the store (the abort marker was present).
    public var crashed: Bool
    /// Where validation started.
    public var scanStart: Int64
    /// The recovered end of the log: the next append goes here.
    public var end: Int64
    /// Bytes of torn or garbage tail erased after `end` in its segment.
    public var erasedTailBytes: Int
    /// Why the scan stopped, when it stopped at something other than clean zeros.
    public var stopReason: String?
}

/// Finds the end of the commit log after a restart and makes consume queues and index agree with it.
///
/// Validation starts at the checkpoint (below it everything was durable and dispatched) and checks
/// every record: magic, size within the segment, the PHYSICALOFFSET field equal to the record's own
/// position, body CRC. The first record that fails ends the log, unless valid records follow it:
/// that is damage in the middle of the log, and start-up stops naming file and offset (or, with
/// `truncateCorruptLog`, cuts there deliberately).
enum Recovery {
    /// Runs recovery; on return the commit log's write position and queue offsets are restored and
    /// every record below the end is in the consume queues and index.
    static func run(commitLog: CommitLog, queues: ConsumeQueueTable, index: IndexService?, checkpoint: Checkpoint?,
                    crashed: Bool, truncateCorruptLog: Bool, logger: Logger) throws(StoreError) -> RecoveryReport {
        let segments = commitLog.segments
        guard let first = segments.first, let last = segments.last else {
            for queue in queues.all { queue.truncate(atCommitLogOffset: 0) }
            try commitLog.restore(writeOffset: 0, queueOffsets: [:])
            return RecoveryReport(crashed: crashed, scanStart: 0, end: 0, erasedTailBytes: 0, stopReason: nil)
        }
        let logEnd = last.startOffset + Int64(commitLog.segmentSize)
        var start = max(checkpoint?.recoveryStart ?? first.startOffset, first.startOffset)
        if start > logEnd {
            throw StoreError(.corruptLog, "checkpoint says \(start) bytes are durable but the log ends at \(logEnd)",
                             path: commitLog.directory)
        }
        // One past the last written record is checked below.
        start = backOntoBlank(min(start, logEnd), commitLog: commitLog)
        let (end, stop) = validate(commitLog: commitLog, from: start, logEnd: logEnd)
        var erased = 0
        if end < logEnd {
            try judgeStop(commitLog: commitLog, at: end, stop: stop, checkpoint: checkpoint, crashed: crashed,
                          truncate: truncateCorruptLog, logger: logger)
            erased = try eraseTail(commitLog: commitLog, from: end)
        }
        for queue in queues.all { queue.truncate(atCommitLogOffset: end) }
        let dispatcher = Dispatcher(commitLog: commitLog, queues: queues, index: index, start: start,
                                    logger: logger, limit: { end })
        try dispatcher.dispatchAvailable(upTo: end)
        try commitLog.restore(writeOffset: end, queueOffsets: queues.maximumOffsets)
        try commitLog.flush(from: start, to: end)
        return RecoveryReport(crashed: crashed, scanStart: start, end: end, erasedTailBytes: erased, stopReason: stop)
    }

    /// Moves a scan start that lies just past a blank record's 8 bytes back onto the blank. Stores
    /// written before the flush thread published a sealed segment's end as its written end (see
    /// `CommitLog.PendingWrite.end`) could record that offset as flushed; nothing starts there, only
    /// the blank's zero padding, so scanning from it would stop at once. Starting at the blank
    /// validates strictly more.
    private static func backOntoBlank(_ start: Int64, commitLog: CommitLog) -> Int64 {
        let blankSize = StoredMessageLayout.blankRecordSize
        guard let segment = commitLog.segment(containing: start) else { return start }
        let position = Int(start - segment.startOffset)
        guard position >= blankSize,
              case .blank = RecordScanner.scan(segment, position: position - blankSize, verifyChecksum: false) else {
            return start
        }
        return start - Int64(blankSize)
    }

    /// Walks valid records from `start`; returns where they end and why.
    private static func validate(commitLog: CommitLog, from start: Int64, logEnd: Int64) -> (Int64, String?) {
        var position = start
        while position < logEnd, let segment = commitLog.segment(containing: position) {
            switch RecordScanner.scan(segment, position: Int(position - segment.startOffset), verifyChecksum: true) {
            case .message(let request): position += Int64(request.size)
            case .blank(let size): position += Int64(size)
            case .empty: return (position, nil)
            case .invalid(let reason): return (position, reason)
            }
        }
        return (position, nil)
    }

    /// Decides whether stopping at `end` is a torn tail (fine) or mid-log corruption (not).
    private static func judgeStop(commitLog: CommitLog, at end: Int64, stop: String?, checkpoint: Checkpoint?,
                                  crashed: Bool, truncate: Bool, logger: Logger) throws(StoreError) {
        guard let segment = commitLog.segment(containing: end) else { return }
        let durable = checkpoint?.commitLogFlushed ?? 0
        var evidence: String?
        if end < durable {
            evidence = "the checkpoint recorded \(durable) bytes as durable"
        } else if crashed || stop != nil {
            if let found = laterValidRecord(commitLog: commitLog, after: end, in: segment) {
                evidence = "a valid record follows at offset \(found)"
            }
        }
        guard let evidence else {
            if let stop { logger.warning("commit log ends at \(end): torn or garbage tail cut (\(stop))") }
            return
        }
        let reason = stop ?? "no record where one is expected"
        let text = "commit log is damaged at offset \(end) (file \(segment.path), position \(end - segment.startOffset)): "
            + "\(reason); \(evidence)"
        guard truncate else {
            throw StoreError(.corruptLog, text + ". Refusing to start; set truncateCorruptLog=true to cut the log there "
                + "and lose every record after it", path: segment.path)
        }
        logger.error("\(text); truncateCorruptLog is set, cutting the log there")
    }

    /// The offset of a valid record after `end`, in its segment or any later one.
    private static func laterValidRecord(commitLog: CommitLog, after end: Int64, in segment: MappedFile) -> Int64? {
        let position = Int(end - segment.startOffset)
        if let found = RecordScanner.findValidRecord(in: segment, from: position + 1) {
            return segment.startOffset + Int64(found)
        }
        for later in commitLog.segments where later.startOffset > segment.startOffset {
            if case .message = RecordScanner.scan(later, position: 0, verifyChecksum: true) { return later.startOffset }
            if let found = RecordScanner.findValidRecord(in: later, from: 0) { return later.startOffset + Int64(found) }
        }
        return nil
    }

    /// Zeros whatever follows `end` in its segment, page by page where a page is not already zero,
    /// and makes the zeros durable, so a later scan stops at `end` again.
    private static func eraseTail(commitLog: CommitLog, from end: Int64) throws(StoreError) -> Int {
        guard let segment = commitLog.segment(containing: end) else { return 0 }
        let position = Int(end - segment.startOffset)
        let page = System.pageSize
        var cursor = position
        var erased = 0
        var lastDirty = position
        while cursor < segment.size {
            let chunkEnd = min(segment.size, (cursor / page + 1) * page)
            let chunk = segment.bytes(from: cursor, to: chunkEnd)
            if chunk.contains(where: { $0 != 0 }) {
                (segment.base + cursor).initializeMemory(as: UInt8.self, repeating: 0, count: chunkEnd - cursor)
                erased = chunkEnd - position
                lastDirty = chunkEnd
            }
            cursor = chunkEnd
        }
        if lastDirty > position { try segment.flush(from: position, to: lastDirty) }
        return erased
    }
}
