import PetrelCore
import Synchronization

/// The persisted timer structure behind arbitrary-time delivery (RocketMQ 5 timer messages): one
/// fixed 32-byte entry per message of the timer topic's queue, entry n for queue offset n, in mapped
/// files of `entriesPerFile` entries named by their start byte offset (like a consume queue).
///
/// ```
///  0                               8                               16              20              24                              32
///  +-------------------------------+-------------------------------+---------------+---------------+-------------------------------+
///  | deliverAtMilliseconds  int64  | commitLogOffset        int64  | size   int32  | state  int32  | deliveredOffset        int64  |
///  +-------------------------------+-------------------------------+---------------+---------------+-------------------------------+
/// ```
/// `commitLogOffset`/`size` locate the parked message; `state` is written last (0 = never written);
/// `deliveredOffset` is the commit-log offset of the copy stored in the real topic, −1 until then.
/// Writes are plain stores into the mapping (no system call per entry); `flush` msyncs what changed.
/// The service that feeds it is the only writer.
public final class TimerLog: @unchecked Sendable {
    /// Bytes per entry.
    public static let entrySize = 32

    /// What became of a timer.
    public enum State: Int32, Sendable {
        /// Waiting for its time.
        case pending = 1
        /// Stored in its real topic (`deliveredOffset` says where).
        case delivered = 2
        /// Never to be delivered: the parked message was unreadable or named no real topic.
        case skipped = 3
    }

    /// One decoded entry.
    public struct Entry: Hashable, Sendable {
        /// When the message is due, ms since the epoch.
        public var deliverAtMilliseconds: Int64
        /// Where the parked message starts in the commit log.
        public var commitLogOffset: Int64
        /// The parked record's size.
        public var size: Int32
        /// Pending, delivered or skipped.
        public var state: State
        /// Commit-log offset of the delivered copy; −1 while not delivered.
        public var deliveredOffset: Int64

        /// Creates an entry.
        public init(deliverAtMilliseconds: Int64, commitLogOffset: Int64, size: Int32, state: State = .pending,
                    deliveredOffset: Int64 = -1) {
            self.deliverAtMilliseconds = deliverAtMilliseconds
            self.commitLogOffset = commitLogOffset
            self.size = size
            self.state = state
            self.deliveredOffset = deliveredOffset
        }
    }

    /// `<root>/timerlog`.
    public let directory: String
    /// Entries per file.
    public let entriesPerFile: Int
    /// Files in order, contiguous from the oldest kept one.
    private let files = Mutex<[MappedFile]>([])
    /// Highest entry index written + 1 (entries below may still be holes after an OS crash).
    private let end = Atomic<Int64>(0)
    /// The lowest entry changed since the last flush (`Int64.max`: none): `[lowestDirty, end)` is msynced next.
    private let lowestDirty = Atomic<Int64>(Int64.max)

    /// Opens (creating the directory when needed) the timer log under `directory`.
    public init(directory: String, entriesPerFile: Int) throws(StoreError) {
        guard entriesPerFile > 0 else { throw StoreError(.invalidConfiguration, "timer log entries per file must be positive") }
        self.directory = directory
        self.entriesPerFile = entriesPerFile
        try System.makeDirectories(directory)
        var opened: [MappedFile] = []
        for name in try System.listDirectory(directory) {
            guard let start = MappedFile.startOffset(fromName: name) else { continue }
            opened.append(try MappedFile(directory: directory, startOffset: start, size: fileSize))
        }
        files.withLock { $0 = opened }
        end.store(Self.scanEnd(opened, entriesPerFile: entriesPerFile), ordering: .releasing)
    }

    /// Bytes per file.
    var fileSize: Int { entriesPerFile * Self.entrySize }

    /// One past the last written entry of the last file (a linear scan backwards: holes may precede it).
    private static func scanEnd(_ files: [MappedFile], entriesPerFile: Int) -> Int64 {
        for file in files.reversed() {
            let first = file.startOffset / Int64(entrySize)
            var index = entriesPerFile - 1
            while index >= 0 {
                if rawState(file, index: index) != 0 { return first + Int64(index) + 1 }
                index -= 1
            }
        }
        return (files.first?.startOffset ?? 0) / Int64(entrySize)
    }

    /// One past the highest entry ever written.
    public var endIndex: Int64 { end.load(ordering: .acquiring) }

    /// The oldest entry index still kept in a file.
    public var startIndex: Int64 { files.withLock { ($0.first?.startOffset ?? 0) } / Int64(Self.entrySize) }

    /// The file holding entry `index`, created when `create`.
    private func file(for index: Int64, create: Bool) throws(StoreError) -> MappedFile? {
        let start = index / Int64(entriesPerFile) * Int64(entriesPerFile) * Int64(Self.entrySize)
        if let existing = files.withLock({ $0.first { $0.startOffset == start } }) { return existing }
        guard create else { return nil }
        let file = try MappedFile(directory: directory, startOffset: start, size: fileSize)
        try System.syncDirectory(directory)
        files.withLock { list in
            list.append(file)
            list.sort { $0.startOffset < $1.startOffset }
        }
        return file
    }

    /// Writes entry `index` (the timer topic's queue offset), state last.
    public func write(_ entry: Entry, at index: Int64) throws(StoreError) {
        guard index >= 0 else { throw StoreError(.offsetTooSmall, "timer log index \(index) is negative") }
        guard let file = try file(for: index, create: true) else { return }
        let position = Int(index - file.startOffset / Int64(Self.entrySize)) * Self.entrySize
        let writer = RawWriter(base: file.base + position)
        writer.put(entry.deliverAtMilliseconds, at: 0)
        writer.put(entry.commitLogOffset, at: 8)
        writer.put(entry.size, at: 16)
        writer.put(entry.deliveredOffset, at: 24)
        writer.put(entry.state.rawValue, at: 20)
        markDirty(index)
        var current = end.load(ordering: .relaxed)
        while current < index + 1 {
            let (exchanged, original) = end.compareExchange(expected: current, desired: index + 1, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
    }

    /// Marks entry `index` delivered, its copy at `deliveredOffset`.
    public func markDelivered(_ index: Int64, deliveredOffset: Int64) throws(StoreError) {
        guard var entry = try entry(at: index) else {
            throw StoreError(.offsetOverflow, "timer log entry \(index) was never written", path: directory)
        }
        entry.state = .delivered
        entry.deliveredOffset = deliveredOffset
        try write(entry, at: index)
    }

    /// Entry `index`, nil when never written (or in a deleted file).
    public func entry(at index: Int64) throws(StoreError) -> Entry? {
        guard index >= 0, let file = try file(for: index, create: false) else { return nil }
        let slot = Int(index - file.startOffset / Int64(Self.entrySize))
        guard let state = State(rawValue: Self.rawState(file, index: slot)) else { return nil }
        let base = slot * Self.entrySize
        func load(_ offset: Int) -> Int64 { Int64(bigEndian: file.base.loadUnaligned(fromByteOffset: base + offset, as: Int64.self)) }
        return Entry(
            deliverAtMilliseconds: load(0), commitLogOffset: load(8),
            size: Int32(bigEndian: file.base.loadUnaligned(fromByteOffset: base + 16, as: Int32.self)),
            state: state, deliveredOffset: load(24))
    }

    /// The state field of slot `index` of `file` (0 when unwritten).
    private static func rawState(_ file: MappedFile, index: Int) -> Int32 {
        Int32(bigEndian: file.base.loadUnaligned(fromByteOffset: index * entrySize + 20, as: Int32.self))
    }

    /// Remembers that entry `index` changed since the last flush.
    private func markDirty(_ index: Int64) {
        var current = lowestDirty.load(ordering: .relaxed)
        while index < current {
            let (exchanged, original) = lowestDirty.compareExchange(expected: current, desired: index, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
    }

    /// Makes every entry changed since the last flush durable (msync of the changed range only).
    public func flush() throws(StoreError) {
        let from = lowestDirty.exchange(Int64.max, ordering: .acquiringAndReleasing)
        let to = endIndex
        guard from < to else { return }
        for file in files.withLock({ $0 }) {
            let first = file.startOffset / Int64(Self.entrySize)
            let last = first + Int64(entriesPerFile)
            guard last > from, first < to else { continue }
            do throws(StoreError) {
                try file.flush(from: Int(max(from, first) - first) * Self.entrySize, to: Int(min(to, last) - first) * Self.entrySize)
            } catch {
                markDirty(from)
                throw error
            }
        }
    }

    /// Deletes whole files whose every entry lies below `watermark` (all delivered), never the file
    /// holding the watermark itself. Returns how many were removed.
    @discardableResult
    public func deleteFiles(below watermark: Int64) throws(StoreError) -> Int {
        var removed = 0
        while true {
            let victim: MappedFile? = files.withLock { list in
                guard list.count > 1, let first = list.first,
                      first.startOffset / Int64(Self.entrySize) + Int64(entriesPerFile) <= watermark else { return nil }
                list.removeFirst()
                return first
            }
            guard let victim else { break }
            try System.remove(victim.path)
            removed += 1
        }
        if removed > 0 { try System.syncDirectory(directory) }
        return removed
    }

    /// Erases entries at and after `index` (the timer topic's queue is shorter: its tail was lost)
    /// and makes the erasure durable, so a later start does not see them again.
    public func truncate(from index: Int64) throws(StoreError) {
        let start = max(index, 0)
        let stop = endIndex
        for file in files.withLock({ $0 }) {
            let first = file.startOffset / Int64(Self.entrySize)
            let last = first + Int64(entriesPerFile)
            guard last > start, first < stop else { continue }
            let from = Int(max(start, first) - first) * Self.entrySize
            let to = Int(min(stop, last) - first) * Self.entrySize
            (file.base + from).initializeMemory(as: UInt8.self, repeating: 0, count: to - from)
            try file.flush(from: from, to: to)
        }
        end.store(min(stop, start), ordering: .releasing)
    }
}
