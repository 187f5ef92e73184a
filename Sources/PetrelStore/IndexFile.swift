import PetrelCore
import Synchronization

/// One file of the key index: a hash table from `topic#key` to commit-log offsets, kept in a
/// memory-mapped file named by its 20-digit sequence number (RocketMQ's IndexFile layout, §10.4).
///
/// Layout, every integer big-endian:
/// ```
/// offset 0 ┌──────────────────────────── header, 40 bytes ────────────────────────────┐
///          │ beginTimestamp  int64  ms of the first entry                             │  0
///          │ endTimestamp    int64  ms of the newest entry                            │  8
///          │ beginPhyOffset  int64  commit-log offset of the first entry              │ 16
///          │ endPhyOffset    int64  commit-log offset of the newest entry             │ 24
///          │ hashSlotCount   int32  number of slots                                   │ 32
///          │ indexCount      int32  next entry number (starts at 1; entry 0 unused)   │ 36
///       40 ├───────────────────── slots, hashSlotCount × 4 bytes ─────────────────────┤
///          │ slot 0 int32 │ slot 1 int32 │ …  newest entry number in the slot, 0 = empty │
///          ├───────────────────── entries, entryCount × 20 bytes ─────────────────────┤
///          │ entry 0 (unused) │ entry 1 │ entry 2 │ …                                 │
///          └──────────────────────────────────────────────────────────────────────────┘
/// entry    ┌─────────────┬──────────────────────┬──────────────┬───────────────────┐
///          │ keyHash i32 │ commitLogOffset i64  │ timeDiff i32 │ previousEntry i32 │
///          │      0      │          4           │      12      │        16         │
///          └─────────────┴──────────────────────┴──────────────┴───────────────────┘
/// ```
/// `keyHash` is |Java `String.hashCode()`| of the key (Int32.min maps to 0), the slot is
/// `keyHash % hashSlotCount`, `timeDiff` is whole seconds since `beginTimestamp`, and
/// `previousEntry` links to the older entry of the same slot (0 ends the chain).
///
/// One writer appends; lookups may run concurrently on other threads. A mutex guards the header
/// state and the mapped bytes, and every entry is written before the slot and the header publish it,
/// so even a crash leaves no slot pointing at an unwritten entry.
final class IndexFile: @unchecked Sendable {
    /// Size of the header in bytes.
    static let headerSize = 40
    /// Size of one hash slot in bytes.
    static let slotSize = 4
    /// Size of one entry in bytes.
    static let entrySize = 20
    /// RocketMQ's default number of hash slots per file.
    static let defaultSlotCount = 5_000_000
    /// RocketMQ's default number of entries per file.
    static let defaultEntryCount = 20_000_000

    /// Byte positions of the header fields.
    private enum HeaderField {
        static let beginTimestamp = 0
        static let endTimestamp = 8
        static let beginPhyOffset = 16
        static let endPhyOffset = 24
        static let hashSlotCount = 32
        static let indexCount = 36
    }

    /// Byte positions of the fields inside one entry.
    private enum EntryField {
        static let keyHash = 0
        static let commitLogOffset = 4
        static let timeDiff = 12
        static let previousEntry = 16
    }

    /// The header as kept in memory; always equal to the mapped header once a put returns.
    struct Header {
        var beginTimestamp: Int64 = 0
        var endTimestamp: Int64 = 0
        var beginPhyOffset: Int64 = 0
        var endPhyOffset: Int64 = 0
        var indexCount: Int32 = 1
        /// `indexCount` as of the last successful flush; differs from it when there is unflushed data.
        var flushedIndexCount: Int32 = 0
    }

    /// The sequence number, which is also the file name.
    let sequence: Int64
    /// Number of hash slots.
    let slotCount: Int
    /// Number of entries the file has room for (entry 0 included, so `entryCount - 1` are usable).
    let entryCount: Int
    /// The mapping holding the bytes.
    let mappedFile: MappedFile
    /// Header state; its lock also serialises access to the mapped bytes.
    private let state: Mutex<Header>

    /// Full path of the file.
    var path: String { mappedFile.path }

    /// The size in bytes of an index file with the given geometry.
    static func fileSize(slotCount: Int, entryCount: Int) -> Int {
        headerSize + slotCount * slotSize + entryCount * entrySize
    }

    /// Creates `directory/<20-digit sequence>`, or opens it when it exists. An existing file whose
    /// header records a different slot count, or an impossible entry count, is `.corruptMetadata`.
    init(directory: String, sequence: Int64, slotCount: Int, entryCount: Int) throws(StoreError) {
        guard (1...Int(Int32.max)).contains(slotCount), (2...Int(Int32.max)).contains(entryCount) else {
            throw StoreError(.invalidConfiguration, "index needs 1… slots and 2… entries, got \(slotCount) and \(entryCount)")
        }
        let size = IndexFile.fileSize(slotCount: slotCount, entryCount: entryCount)
        let mappedFile = try MappedFile(directory: directory, startOffset: sequence, size: size)
        let header = try IndexFile.loadHeader(of: mappedFile, slotCount: slotCount, entryCount: entryCount)
        self.sequence = sequence
        self.slotCount = slotCount
        self.entryCount = entryCount
        self.mappedFile = mappedFile
        self.state = Mutex(header)
    }

    /// Reads and checks the header; an all-zero header (a new file) is initialised instead.
    private static func loadHeader(of file: MappedFile, slotCount: Int, entryCount: Int) throws(StoreError) -> Header {
        let base = UnsafeRawPointer(file.base)
        let storedSlotCount = readInt32(base, at: HeaderField.hashSlotCount)
        let storedIndexCount = readInt32(base, at: HeaderField.indexCount)
        var header = Header()
        if storedSlotCount == 0 && storedIndexCount == 0 {
            let writer = RawWriter(base: file.base)
            writer.put(Int32(slotCount), at: HeaderField.hashSlotCount)
            writer.put(header.indexCount, at: HeaderField.indexCount)
            return header
        }
        guard Int(storedSlotCount) == slotCount else {
            throw StoreError(
                .corruptMetadata, "index file \(file.path) has \(storedSlotCount) hash slots, configured \(slotCount)",
                path: file.path)
        }
        guard storedIndexCount >= 1, Int(storedIndexCount) <= entryCount else {
            throw StoreError(
                .corruptMetadata, "index file \(file.path) has index count \(storedIndexCount), room for \(entryCount)",
                path: file.path)
        }
        header.beginTimestamp = readInt64(base, at: HeaderField.beginTimestamp)
        header.endTimestamp = readInt64(base, at: HeaderField.endTimestamp)
        header.beginPhyOffset = readInt64(base, at: HeaderField.beginPhyOffset)
        header.endPhyOffset = readInt64(base, at: HeaderField.endPhyOffset)
        header.indexCount = storedIndexCount
        return header
    }

    /// The key's hash as stored: |Java `hashCode`|, with Int32.min (which has no absolute value) as 0.
    static func keyHash(of key: String) -> Int32 {
        let hash = TagHash.javaStringHashCode(key)
        return hash == Int32.min ? 0 : abs(hash)
    }

    /// Whole seconds from `begin` to `timestamp` (both ms), clamped to `0...Int32.max`.
    static func timeDifference(from begin: Int64, to timestamp: Int64) -> Int32 {
        guard timestamp > begin else { return 0 }
        let seconds = UInt64(bitPattern: timestamp &- begin) / 1000
        return Int32(clamping: seconds)
    }

    /// Byte position of a key's slot.
    private func slotPosition(of keyHash: Int32) -> Int {
        IndexFile.headerSize + Int(keyHash) % slotCount * IndexFile.slotSize
    }

    /// Byte position of entry `number`.
    private func entryPosition(_ number: Int32) -> Int {
        IndexFile.headerSize + slotCount * IndexFile.slotSize + Int(number) * IndexFile.entrySize
    }

    /// Appends an entry for `key`; false when the file is full. The first entry sets the begin
    /// timestamp and offset; every entry advances the end timestamp and offset.
    func put(key: String, commitLogOffset: CommitLogOffset, storeTimestamp: Int64) -> Bool {
        let keyHash = IndexFile.keyHash(of: key)
        let slot = slotPosition(of: keyHash)
        return state.withLock { header in
            let number = header.indexCount
            guard Int(number) < entryCount else { return false }
            if number == 1 {
                header.beginTimestamp = storeTimestamp
                header.endTimestamp = storeTimestamp
                header.beginPhyOffset = commitLogOffset.rawValue
                header.endPhyOffset = commitLogOffset.rawValue
            }
            let slotValue = IndexFile.readInt32(mappedFile.base, at: slot)
            // A slot value that is not an older entry can only be damage; do not link to it.
            let previous = slotValue > 0 && slotValue < number ? slotValue : 0
            let entry = entryPosition(number)
            let writer = RawWriter(base: mappedFile.base)
            writer.put(keyHash, at: entry + EntryField.keyHash)
            writer.put(commitLogOffset.rawValue, at: entry + EntryField.commitLogOffset)
            writer.put(IndexFile.timeDifference(from: header.beginTimestamp, to: storeTimestamp), at: entry + EntryField.timeDiff)
            writer.put(previous, at: entry + EntryField.previousEntry)
            // Publish only after the entry is complete: first the slot, then the header count.
            writer.put(number, at: slot)
            header.endTimestamp = max(header.endTimestamp, storeTimestamp)
            header.endPhyOffset = max(header.endPhyOffset, commitLogOffset.rawValue)
            header.indexCount = number + 1
            writer.put(header.beginTimestamp, at: HeaderField.beginTimestamp)
            writer.put(header.endTimestamp, at: HeaderField.endTimestamp)
            writer.put(header.beginPhyOffset, at: HeaderField.beginPhyOffset)
            writer.put(header.endPhyOffset, at: HeaderField.endPhyOffset)
            writer.put(header.indexCount, at: HeaderField.indexCount)
            return true
        }
    }

    /// Appends to `results` the offsets indexed under `key` whose store time lies in `[begin, end]`
    /// (ms, inclusive, compared at the one-second granularity of the stored time), newest first,
    /// until `results` holds `limit` offsets. Offsets already in `results` are not added again.
    /// A damaged chain (a link that does not point to an older published entry) ends the walk.
    func lookup(key: String, begin: Int64, end: Int64, limit: Int, into results: inout [CommitLogOffset]) {
        let wanted = limit - results.count
        guard wanted > 0, begin <= end else { return }
        let keyHash = IndexFile.keyHash(of: key)
        let slot = slotPosition(of: keyHash)
        var seen = Set(results)
        let found: [CommitLogOffset] = state.withLock { header in
            let base = UnsafeRawPointer(mappedFile.base)
            var found: [CommitLogOffset] = []
            var number = IndexFile.readInt32(base, at: slot)
            while number > 0, number < header.indexCount, found.count < wanted {
                let entry = entryPosition(number)
                if IndexFile.readInt32(base, at: entry + EntryField.keyHash) == keyHash {
                    let timeDiff = IndexFile.readInt32(base, at: entry + EntryField.timeDiff)
                    // The entry's second: [secondStart, secondStart + 999] ms; match when it meets [begin, end].
                    let secondStart = header.beginTimestamp &+ Int64(timeDiff) * 1000
                    if secondStart &+ 999 >= begin && secondStart <= end {
                        let offset = CommitLogOffset(IndexFile.readInt64(base, at: entry + EntryField.commitLogOffset))
                        if seen.insert(offset).inserted { found.append(offset) }
                    }
                }
                let previous = IndexFile.readInt32(base, at: entry + EntryField.previousEntry)
                guard previous < number else { break }
                number = previous
            }
            return found
        }
        results.append(contentsOf: found)
    }

    /// Makes the written part (header, slots and entries so far) durable.
    func flush() throws(StoreError) {
        let written = state.withLock { $0.indexCount }
        try mappedFile.flush(from: 0, to: entryPosition(written))
        state.withLock { $0.flushedIndexCount = max($0.flushedIndexCount, written) }
    }

    /// Whether entries (or a new header) were written since the last flush.
    var hasUnflushedChanges: Bool { state.withLock { $0.indexCount != $0.flushedIndexCount } }

    /// Commit-log offset of the newest entry (the largest indexed), 0 when empty.
    var endCommitLogOffset: CommitLogOffset { state.withLock { CommitLogOffset($0.endPhyOffset) } }

    /// Commit-log offset of the first entry, 0 when empty.
    var beginCommitLogOffset: CommitLogOffset { state.withLock { CommitLogOffset($0.beginPhyOffset) } }

    /// Store time (ms) of the first entry, 0 when empty.
    var beginTimestamp: Int64 { state.withLock { $0.beginTimestamp } }

    /// Latest store time (ms) indexed, 0 when empty.
    var endTimestamp: Int64 { state.withLock { $0.endTimestamp } }

    /// Number of entries written.
    var storedEntryCount: Int { state.withLock { Int($0.indexCount) - 1 } }

    /// Whether every usable entry is taken.
    var isFull: Bool { state.withLock { Int($0.indexCount) >= entryCount } }

    /// Whether the file holds entries and their store times meet `[begin, end]` (ms, inclusive).
    func overlapsTimeRange(begin: Int64, end: Int64) -> Bool {
        state.withLock { header in
            header.indexCount > 1 && begin <= header.endTimestamp && end >= header.beginTimestamp
        }
    }

    /// A big-endian int32 at `offset` of the mapping.
    private static func readInt32(_ base: UnsafeRawPointer, at offset: Int) -> Int32 {
        Int32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    /// A big-endian int64 at `offset` of the mapping.
    private static func readInt64(_ base: UnsafeRawPointer, at offset: Int) -> Int64 {
        Int64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }
}
