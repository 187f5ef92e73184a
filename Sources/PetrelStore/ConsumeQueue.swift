import PetrelCore
import Synchronization

/// One consume queue (topic + queue id): a dense array of 20-byte units, one per message, in
/// mapped files of `unitsPerFile` units named by their start byte offset.
///
/// ```
///  0                               8               12                              20
///  +-------------------------------+---------------+-------------------------------+
///  | commitLogOffset        int64  | size   int32  | tagsCode                int64 |
///  +-------------------------------+---------------+-------------------------------+
/// ```
/// Queue offset n is unit n. A unit with size 0 is unwritten (real records are ≥ 91 bytes).
/// The dispatcher is the only writer; readers see units below `maximumOffset` only.
final class ConsumeQueue: @unchecked Sendable {
    /// Bytes per unit.
    static let unitSize = 20

    /// One decoded unit.
    struct Unit: Hashable, Sendable {
        /// Where the record starts in the commit log.
        var commitLogOffset: Int64
        /// The record's size.
        var size: Int32
        /// Tag hash (0 = no tag).
        var tagsCode: Int64
    }

    /// Lock-protected state.
    private struct State {
        /// Files in order; contiguous.
        var files: [MappedFile] = []
        /// The oldest queue offset still readable.
        var minimumOffset: Int64 = 0
        /// Units below this are durable.
        var flushedOffset: Int64 = 0
    }

    /// The queue this is.
    let key: QueueKey
    /// The queue's directory.
    let directory: String
    /// Units per file.
    let unitsPerFile: Int
    /// Lock-protected state.
    private let state = Mutex(State())
    /// Number of units written (the next queue offset).
    private let maximum = Atomic<Int64>(0)

    /// Opens (or prepares) the queue under `root/consumequeue/<topic>/<queueId>`.
    init(root: String, key: QueueKey, unitsPerFile: Int) throws(StoreError) {
        self.key = key
        self.unitsPerFile = unitsPerFile
        directory = "\(root)/\(key.topic)/\(key.queueId)"
        var files: [MappedFile] = []
        for name in try System.listDirectory(directory) {
            guard let start = MappedFile.startOffset(fromName: name) else { continue }
            files.append(try MappedFile(directory: directory, startOffset: start, size: unitsPerFile * Self.unitSize))
        }
        let maximumOffset = Self.scanMaximum(files, unitsPerFile: unitsPerFile)
        let minimumOffset = (files.first?.startOffset ?? 0) / Int64(Self.unitSize)
        state.withLock {
            $0.files = files
            $0.minimumOffset = minimumOffset
            $0.flushedOffset = maximumOffset
        }
        maximum.store(maximumOffset, ordering: .releasing)
    }

    /// Finds the first unwritten unit of the last file.
    private static func scanMaximum(_ files: [MappedFile], unitsPerFile: Int) -> Int64 {
        guard let last = files.last else { return 0 }
        let firstUnit = last.startOffset / Int64(unitSize)
        var low = 0
        var high = unitsPerFile
        // Units are written densely from the start, so the written ones form a prefix: binary search.
        while low < high {
            let middle = (low + high) / 2
            let size = RawReaderUnit.size(last, index: middle)
            if size > 0 { low = middle + 1 } else { high = middle }
        }
        return firstUnit + Int64(low)
    }

    /// Next queue offset (number of units written).
    var maximumOffset: Int64 { maximum.load(ordering: .acquiring) }

    /// Oldest readable queue offset.
    var minimumOffset: Int64 { state.withLock { $0.minimumOffset } }

    /// The file holding unit `offset`, creating files up to it when `create` (dispatcher only).
    private func file(for offset: Int64, create: Bool) throws(StoreError) -> MappedFile? {
        let fileStart = offset / Int64(unitsPerFile) * Int64(unitsPerFile) * Int64(Self.unitSize)
        if let existing = state.withLock({ $0.files.first { $0.startOffset == fileStart } }) { return existing }
        guard create else { return nil }
        try System.makeDirectories(directory)
        let file = try MappedFile(directory: directory, startOffset: fileStart, size: unitsPerFile * Self.unitSize)
        try System.syncDirectory(directory)
        state.withLock { state in
            state.files.append(file)
            state.files.sort { $0.startOffset < $1.startOffset }
            if state.files.count == 1 { state.minimumOffset = fileStart / Int64(Self.unitSize) }
        }
        return file
    }

    /// Writes the unit for `queueOffset`. Returns false when the unit is already there (recovery
    /// re-dispatching a record the queue kept). A gap (units lost) is filled with empty units so
    /// the queue stays dense; readers skip them.
    @discardableResult
    func put(queueOffset: Int64, unit: Unit) throws(StoreError) -> Bool {
        let current = maximumOffset
        if queueOffset < current { return false }
        guard let file = try file(for: queueOffset, create: true) else { return false }
        let index = Int(queueOffset - file.startOffset / Int64(Self.unitSize))
        let writer = RawWriter(base: file.base + index * Self.unitSize)
        writer.put(unit.commitLogOffset, at: 0)
        writer.put(unit.size, at: 8)
        writer.put(unit.tagsCode, at: 12)
        maximum.store(queueOffset + 1, ordering: .releasing)
        return true
    }

    /// The unit at `queueOffset`, or nil when outside `[minimumOffset, maximumOffset)`.
    func unit(at queueOffset: Int64) -> Unit? {
        guard queueOffset >= minimumOffset, queueOffset < maximumOffset,
              let file = try? file(for: queueOffset, create: false) else { return nil }
        let index = Int(queueOffset - file.startOffset / Int64(Self.unitSize))
        return RawReaderUnit.unit(file, index: index)
    }

    /// Drops every unit whose record starts at or after `end` (recovery cut the log there).
    func truncate(atCommitLogOffset end: Int64) {
        var newMaximum = maximumOffset
        while newMaximum > minimumOffset, let unit = unit(at: newMaximum - 1), unit.commitLogOffset >= end {
            newMaximum -= 1
        }
        var offset = newMaximum
        while offset < maximumOffset, let file = try? file(for: offset, create: false) {
            let index = Int(offset - file.startOffset / Int64(Self.unitSize))
            (file.base + index * Self.unitSize).initializeMemory(as: UInt8.self, repeating: 0, count: Self.unitSize)
            offset += 1
        }
        maximum.store(newMaximum, ordering: .releasing)
        state.withLock { $0.flushedOffset = min($0.flushedOffset, newMaximum) }
    }

    /// Makes every written unit durable.
    func flush() throws(StoreError) {
        let target = maximumOffset
        let (from, files) = state.withLock { ($0.flushedOffset, $0.files) }
        guard target > from else { return }
        for file in files {
            let firstUnit = file.startOffset / Int64(Self.unitSize)
            let lastUnit = firstUnit + Int64(unitsPerFile)
            guard lastUnit > from, firstUnit < target else { continue }
            let start = Int(max(from, firstUnit) - firstUnit) * Self.unitSize
            let end = Int(min(target, lastUnit) - firstUnit) * Self.unitSize
            try file.flush(from: start, to: end)
        }
        state.withLock { $0.flushedOffset = max($0.flushedOffset, target) }
    }

    /// Deletes whole files whose every unit points below `minimumCommitLogOffset`, never the last
    /// file, and moves `minimumOffset` to the first unit still pointing into the log.
    func deleteFiles(below minimumCommitLogOffset: Int64) throws(StoreError) -> Int {
        var removed = 0
        while true {
            let victim: MappedFile? = state.withLock { state in
                guard state.files.count > 1, let first = state.files.first,
                      let lastUnit = RawReaderUnit.unit(first, index: unitsPerFile - 1),
                      lastUnit.size > 0, lastUnit.commitLogOffset < minimumCommitLogOffset else { return nil }
                state.files.removeFirst()
                return first
            }
            guard let victim else { break }
            try System.remove(victim.path)
            removed += 1
        }
        var newMinimum = state.withLock { ($0.files.first?.startOffset ?? 0) / Int64(Self.unitSize) }
        while newMinimum < maximumOffset, let unit = unitIgnoringMinimum(newMinimum), unit.commitLogOffset < minimumCommitLogOffset {
            newMinimum += 1
        }
        state.withLock { $0.minimumOffset = max($0.minimumOffset, newMinimum) }
        return removed
    }

    /// A unit read without the minimum check (used while moving the minimum).
    private func unitIgnoringMinimum(_ queueOffset: Int64) -> Unit? {
        guard let file = try? file(for: queueOffset, create: false) else { return nil }
        return RawReaderUnit.unit(file, index: Int(queueOffset - file.startOffset / Int64(Self.unitSize)))
    }
}

/// Reads units out of a mapped consume-queue file.
enum RawReaderUnit {
    /// The size field of unit `index` (0 when unwritten).
    static func size(_ file: MappedFile, index: Int) -> Int32 {
        Int32(bigEndian: file.base.loadUnaligned(fromByteOffset: index * ConsumeQueue.unitSize + 8, as: Int32.self))
    }

    /// Unit `index`, nil when unwritten or out of the file.
    static func unit(_ file: MappedFile, index: Int) -> ConsumeQueue.Unit? {
        guard index >= 0, (index + 1) * ConsumeQueue.unitSize <= file.size else { return nil }
        let base = index * ConsumeQueue.unitSize
        let size = Int32(bigEndian: file.base.loadUnaligned(fromByteOffset: base + 8, as: Int32.self))
        guard size > 0 else { return nil }
        return ConsumeQueue.Unit(
            commitLogOffset: Int64(bigEndian: file.base.loadUnaligned(fromByteOffset: base, as: Int64.self)),
            size: size,
            tagsCode: Int64(bigEndian: file.base.loadUnaligned(fromByteOffset: base + 12, as: Int64.self)))
    }
}
