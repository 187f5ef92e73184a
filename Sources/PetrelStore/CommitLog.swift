import PetrelCore
import Synchronization

/// The broker's single commit log: every topic's messages, appended in arrival order to
/// preallocated, memory-mapped segments named by their start offset.
///
/// The lock guards only the write position, the segment list and the per-queue offset table; inside
/// it an append copies bytes and patches three fields. Creating a segment (open, fallocate, mmap)
/// happens outside the lock: an append that finds its segment full seals it with a blank record and
/// asks the caller to provide the next one.
final class CommitLog: @unchecked Sendable {
    /// Mutable state behind the lock.
    struct State {
        /// Segments in offset order; contiguous.
        var segments: [MappedFile] = []
        /// Where the next record goes.
        var writeOffset: Int64 = 0
        /// Next queue offset of each queue.
        var queueOffsets: [QueueKey: Int64] = [:]
    }

    /// What an append attempt did.
    enum AppendOutcome {
        /// The batch is in the log.
        case appended(AppendedRecords)
        /// The current segment was sealed or is missing; create the segment at this offset and retry.
        case needsSegment(Int64)
    }

    /// Directory holding the segments.
    let directory: String
    /// Size of every segment.
    let segmentSize: Int
    /// The lock-protected state.
    private let state = Mutex(State())
    /// End of the bytes written so far; readers never read past it.
    private let written = Atomic<Int64>(0)

    /// Opens the directory and maps every existing segment (recovery decides where data ends).
    init(directory: String, segmentSize: Int) throws(StoreError) {
        self.directory = directory
        self.segmentSize = segmentSize
        try System.makeDirectories(directory)
        var segments: [MappedFile] = []
        for name in try System.listDirectory(directory) {
            guard let start = MappedFile.startOffset(fromName: name) else { continue }
            if let last = segments.last, start != last.startOffset + Int64(segmentSize) {
                throw StoreError(
                    .corruptLog, "segment \(name) does not follow \(MappedFile.fileName(for: last.startOffset)) "
                        + "with segment size \(segmentSize); a segment is missing or the size changed",
                    path: directory + "/" + name)
            }
            guard start % Int64(segmentSize) == 0 else {
                throw StoreError(.corruptLog, "segment start \(start) is not a multiple of segment size \(segmentSize)",
                                 path: directory + "/" + name)
            }
            segments.append(try MappedFile(directory: directory, startOffset: start, size: segmentSize))
        }
        let first = segments.first?.startOffset ?? 0
        state.withLock {
            $0.segments = segments
            $0.writeOffset = first
        }
        written.store(first, ordering: .releasing)
    }

    /// End of the written bytes.
    var writtenOffset: Int64 { written.load(ordering: .acquiring) }

    /// Start of the oldest segment kept (0 when empty).
    var minimumOffset: Int64 { state.withLock { $0.segments.first?.startOffset ?? $0.writeOffset } }

    /// A snapshot of the segment list.
    var segments: [MappedFile] { state.withLock { $0.segments } }

    /// The segment containing `offset`, if kept.
    func segment(containing offset: Int64) -> MappedFile? {
        state.withLock { state in
            guard let first = state.segments.first, offset >= first.startOffset else { return nil }
            let index = Int((offset - first.startOffset) / Int64(segmentSize))
            return index < state.segments.count ? state.segments[index] : nil
        }
    }

    /// Appends a batch, or reports that a segment must be created first.
    func append(_ batch: EncodedBatch) -> AppendOutcome {
        state.withLock { state -> AppendOutcome in
            // The segment holding the write position; a preallocated next segment may follow it.
            guard let first = state.segments.first, state.writeOffset >= first.startOffset,
                  case let index = Int((state.writeOffset - first.startOffset) / Int64(segmentSize)),
                  index < state.segments.count else {
                return .needsSegment(state.writeOffset)
            }
            let segment = state.segments[index]
            let position = Int(state.writeOffset - segment.startOffset)
            let total = batch.bytes.count
            if position + total + StoredMessageLayout.blankRecordSize > segmentSize {
                sealSegment(segment, at: position)
                state.writeOffset = segment.startOffset + Int64(segmentSize)
                written.store(state.writeOffset, ordering: .releasing)
                return .needsSegment(state.writeOffset)
            }
            let firstQueueOffset = batch.takesQueueOffsets ? state.queueOffsets[batch.queue, default: 0] : 0
            let now = System.nowMilliseconds()
            let destination = segment.base + position
            batch.bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: total) }
            var offsets: [CommitLogOffset] = []
            offsets.reserveCapacity(batch.count)
            let writer = RawWriter(base: destination)
            for index in 0..<batch.count {
                let start = batch.recordStarts[index]
                let recordOffset = state.writeOffset + Int64(start)
                let queueOffset = batch.takesQueueOffsets ? firstQueueOffset + Int64(index) : 0
                writer.put(queueOffset, at: start + StoredMessageLayout.queueOffsetOffset)
                writer.put(now, at: start + StoredMessageLayout.storeTimestampOffset)
                // Last: recovery accepts a record only once PHYSICALOFFSET (-1 in the batch) matches its
                // position, so a crash between these writes never leaves a "valid" record with unpatched fields.
                writer.put(recordOffset, at: start + StoredMessageLayout.physicalOffsetOffset)
                offsets.append(CommitLogOffset(recordOffset))
            }
            if batch.takesQueueOffsets { state.queueOffsets[batch.queue] = firstQueueOffset + Int64(batch.count) }
            let appendedAt = state.writeOffset
            state.writeOffset += Int64(total)
            written.store(state.writeOffset, ordering: .releasing)
            return .appended(AppendedRecords(
                firstOffset: CommitLogOffset(appendedAt), totalSize: total, firstQueueOffset: QueueOffset(firstQueueOffset),
                recordOffsets: offsets, storeTimestamp: now))
        }
    }

    /// Fills the rest of a segment with a blank record so readers and recovery skip to the next one.
    private func sealSegment(_ segment: MappedFile, at position: Int) {
        let writer = RawWriter(base: segment.base + position)
        writer.put(Int32(segmentSize - position), at: 0)
        writer.put(StoredMessageLayout.blankMagic, at: 4)
    }

    /// Makes sure the segment starting at `offset` exists; the file work happens outside the lock.
    func ensureSegment(at offset: Int64) throws(StoreError) {
        let exists = state.withLock { state in state.segments.contains { $0.startOffset == offset } }
        if exists { return }
        let file = try MappedFile(directory: directory, startOffset: offset, size: segmentSize)
        try System.syncDirectory(directory)
        state.withLock { state in
            guard !state.segments.contains(where: { $0.startOffset == offset }) else { return }
            if let last = state.segments.last, last.startOffset + Int64(segmentSize) != offset { return }
            state.segments.append(file)
        }
    }

    /// Makes `[from, to)` durable across however many segments it spans.
    func flush(from: Int64, to: Int64) throws(StoreError) {
        guard to > from else { return }
        for segment in segments {
            let segmentEnd = segment.startOffset + Int64(segmentSize)
            guard segmentEnd > from, segment.startOffset < to else { continue }
            let start = Int(max(from, segment.startOffset) - segment.startOffset)
            let end = Int(min(to, segmentEnd) - segment.startOffset)
            try segment.flush(from: start, to: end)
        }
    }

    /// Bytes `[offset, offset + count)` as a slice that keeps its segment mapped; nil when not
    /// (or no longer) in the log, or when the range is not fully written.
    func slice(at offset: Int64, count: Int) -> StoredRecordSlice? {
        guard count > 0, offset + Int64(count) <= writtenOffset, let segment = segment(containing: offset) else {
            return nil
        }
        let position = Int(offset - segment.startOffset)
        guard position + count <= segmentSize else { return nil }
        return StoredRecordSlice(file: segment, position: position, count: count, commitLogOffset: CommitLogOffset(offset))
    }

    /// Sets the recovered end of the log and the queue offset table; drops segments past the end.
    func restore(writeOffset: Int64, queueOffsets: [QueueKey: Int64]) throws(StoreError) {
        let dropped: [MappedFile] = state.withLock { state in
            let keep = state.segments.filter { $0.startOffset <= writeOffset || $0.startOffset == state.segments.first?.startOffset }
            let drop = state.segments.filter { s in !keep.contains { $0 === s } }
            state.segments = keep
            state.writeOffset = writeOffset
            state.queueOffsets = queueOffsets
            return drop
        }
        written.store(writeOffset, ordering: .releasing)
        for file in dropped { try System.remove(file.path) }
        if !dropped.isEmpty { try System.syncDirectory(directory) }
    }

    /// The next queue offset of a queue, as the writer sees it.
    func nextQueueOffset(_ queue: QueueKey) -> Int64 { state.withLock { $0.queueOffsets[queue, default: 0] } }

    /// Removes `candidate` if it is still the oldest segment and not the only one. The caller decides
    /// outside the lock (file ages need a system call); the lock is held only to drop it from the list.
    func deleteOldestSegment(_ candidate: MappedFile) throws(StoreError) -> Bool {
        let removed = state.withLock { state -> Bool in
            guard state.segments.count > 1, state.segments.first === candidate,
                  candidate.startOffset + Int64(segmentSize) <= state.writeOffset else { return false }
            state.segments.removeFirst()
            return true
        }
        if removed { try System.remove(candidate.path) }
        return removed
    }
}
