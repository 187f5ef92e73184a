import Foundation
import PetrelCore

/// What one retention round saw and did.
public struct RetentionReport: Hashable, Sendable {
    /// Disk usage of the commit-log file system, 0…1.
    public var diskUsage: Double
    /// Whether appends are refused now.
    public var diskFull: Bool
    /// Commit-log segments deleted.
    public var deletedSegments: Int
    /// Consume-queue files deleted.
    public var deletedQueueFiles: Int
    /// Index files deleted.
    public var deletedIndexFiles: Int
}

extension MessageStore {
    /// One round of retention and disk checks (the `CleanService` calls it every `cleanInterval`).
    ///
    /// - Disk usage above `diskFullRatio` refuses appends until usage falls below it again.
    /// - At a `deleteWhen` hour, or whenever usage is above `diskCleanRatio`, whole segments older
    ///   than `fileReservedTime` are deleted, oldest first; above `forceCleanRatio`, the oldest
    ///   segment goes even if it has not expired. The segment being written, and any segment not yet
    ///   fully dispatched, are never deleted. Consume-queue and index files that only point at deleted
    ///   segments follow.
    public func runRetention(nowMilliseconds: Int64, hourOfDay: Int) throws(StoreError) -> RetentionReport {
        let usage = try System.diskUsageRatio(configuration.commitLogDirectory)
        updateDiskFull(usage: usage)
        let timeUp = configuration.deleteWhenHours.contains(hourOfDay)
        let tight = usage > configuration.diskCleanRatio
        let force = usage > configuration.forceCleanRatio
        var report = RetentionReport(diskUsage: usage, diskFull: diskFull.load(ordering: .relaxed), deletedSegments: 0,
                                     deletedQueueFiles: 0, deletedIndexFiles: 0)
        guard timeUp || tight else { return report }
        let reserved = Int64(configuration.fileReservedTime.components.seconds) * 1000
        let dispatched = dispatcher.dispatchedOffset
        let segmentSize = Int64(configuration.commitLogSegmentSize)
        let floor = retentionFloor()
        var forcedOne = false
        while let oldest = commitLog.segments.first, oldest.startOffset + segmentSize <= dispatched {
            let modified = (try? System.modificationTime(oldest.path)) ?? nowMilliseconds
            let expired = modified + reserved <= nowMilliseconds
            let needed = floor.map { oldest.startOffset + segmentSize > $0 } ?? false
            // Forced deletion takes one unexpired (or still needed) segment per round, then re-checks
            // usage next round: a full disk outranks a pending timer.
            guard (expired && !needed) || (force && !forcedOne) else { break }
            guard try commitLog.deleteOldestSegment(oldest) else { break }
            forcedOne = forcedOne || !expired || needed
            let deleted = oldest
            report.deletedSegments += 1
            logger.info("retention deleted commit-log segment \(deleted.path)")
        }
        if report.deletedSegments > 0 {
            let minimum = commitLog.minimumOffset
            for queue in queues.all { report.deletedQueueFiles += try queue.deleteFiles(below: minimum) }
            report.deletedIndexFiles = try index?.deleteFiles(endingBelow: CommitLogOffset(minimum)) ?? 0
            try System.syncDirectory(configuration.commitLogDirectory)
        }
        return report
    }

    /// Registers `floor`, which returns the lowest commit-log offset its owner still has to read
    /// (or nil when it needs nothing). Time-based retention keeps every segment that ends above the
    /// lowest floor: a timer message parked for three days outlives the default 72 h retention of
    /// the segment it was written to. Only forced cleaning (disk above `forceCleanRatio`) overrides it.
    public func addRetentionFloor(_ floor: @escaping @Sendable () -> Int64?) {
        retentionFloors.withLock { $0.append(floor) }
    }

    /// The lowest offset any registered floor needs, or nil.
    func retentionFloor() -> Int64? {
        let floors = retentionFloors.withLock { $0 }
        return floors.compactMap { $0() }.min()
    }

    /// Sets or clears the disk-full state, logging each change once.
    func updateDiskFull(usage: Double) {
        let full = usage > diskFullRatio
        let previous = diskFull.exchange(full, ordering: .relaxed)
        if full && !previous {
            logger.error("disk usage \(Int(usage * 100))% is above diskFullRatio \(Int(diskFullRatio * 100))%: refusing writes")
        } else if !full && previous {
            logger.warning("disk usage \(Int(usage * 100))% is below diskFullRatio again: accepting writes")
        }
    }

    /// Re-reads disk usage now and updates the disk-full state (also done by every retention round).
    public func checkDiskSpace() throws(StoreError) {
        updateDiskFull(usage: try System.diskUsageRatio(configuration.commitLogDirectory))
    }
}
