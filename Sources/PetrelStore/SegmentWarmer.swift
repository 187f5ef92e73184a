import Foundation
import Logging

/// Keeps the commit log ready ahead of the writer: it creates (open, fallocate, mmap) the next
/// segment before the current one fills, and pre-faults the pages just past the write position.
///
/// Without it the first copy into each fresh page stops in a page fault that zero-fills the page
/// while the commit-log lock is held, and every other writer waits behind it; and the first append
/// of each segment waits for the file to be created. Both now happen on this thread instead.
final class SegmentWarmer: @unchecked Sendable {
    /// The log kept ready.
    private let commitLog: CommitLog
    /// How far past the write position pages are faulted in.
    private let lookahead: Int64
    /// Pages are faulted in chunks of this size so the loop notices `stop` quickly.
    private let chunk: Int64 = 4 << 20
    /// The loop: every 5 ms, because at 1 GB/s the writer crosses 64 MiB in about 60 ms.
    private let thread = PeriodicThread(name: "petrel-warm", interval: .milliseconds(5))
    /// Where failures are reported (they only cost speed: appends create segments on demand).
    private let logger: Logger
    /// Everything below this offset has been faulted in.
    private var warmedUpTo: Int64

    /// Creates the warmer; nothing runs until `start`.
    init(commitLog: CommitLog, lookahead: Int, logger: Logger) {
        self.commitLog = commitLog
        self.lookahead = Int64(min(lookahead, commitLog.segmentSize))
        self.logger = logger
        warmedUpTo = commitLog.writtenOffset
    }

    /// Starts the thread.
    func start() {
        thread.start { [self] in
            do { try warmAhead() } catch {
                logger.warning("warming the commit log failed (appends create segments on demand): \(error)")
            }
        }
    }

    /// Stops the thread.
    func stop() { thread.stop() }

    /// Faults in pages up to `lookahead` past the write position, creating the next segment when
    /// the range reaches it.
    func warmAhead() throws(StoreError) {
        let written = commitLog.writtenOffset
        warmedUpTo = max(warmedUpTo, written)
        let target = written + lookahead
        let segmentSize = Int64(commitLog.segmentSize)
        while warmedUpTo < target {
            let segmentStart = warmedUpTo / segmentSize * segmentSize
            if commitLog.segment(containing: warmedUpTo) == nil { try commitLog.ensureSegment(at: segmentStart) }
            guard let segment = commitLog.segment(containing: warmedUpTo) else { return }
            let position = Int(warmedUpTo - segmentStart)
            let end = Int(min(segmentSize, Int64(position) + chunk, target - segmentStart))
            // pwrite needs no pre-faulting: the kernel fills page-cache pages itself.
            if commitLog.writesThroughMapping {
                System.populateForWrite(segment.base, offset: position, length: end - position)
            }
            warmedUpTo = segmentStart + Int64(end)
        }
    }
}
