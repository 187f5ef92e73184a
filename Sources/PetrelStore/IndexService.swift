import PetrelCore
import Synchronization

/// The store's key index (QUERY_MESSAGE, §16): a directory of `IndexFile`s named by sequence
/// number, written in commit-log order. The newest file takes new entries; when it fills, a file
/// with the next sequence number takes over. Queries walk the files newest first.
///
/// The index returns candidate offsets only: different keys can share a hash, so the store reads
/// each candidate message and keeps those whose key really matches.
///
/// One thread indexes; queries, flushes and retention may run on others. The file list is guarded
/// by a mutex, while system calls (creating, flushing and removing files) happen outside it.
final class IndexService: @unchecked Sendable {
    /// The directory holding the index files.
    let directory: String
    /// Hash slots per file.
    let slotCount: Int
    /// Entries per file (entry 0 included).
    let entryCount: Int

    /// The mutable part: the files oldest first, and whether `close` ran.
    private struct State {
        var files: [IndexFile] = []
        var isClosed = false
    }

    /// Guards the file list.
    private let state: Mutex<State>

    /// Opens the index in `directory` (creating the directory), loading every index file in
    /// sequence order. Names that are not 20 digits are ignored.
    init(directory: String, slotCount: Int, entryCount: Int) throws(StoreError) {
        try System.makeDirectories(directory)
        let sequences = try System.listDirectory(directory)
            .compactMap { MappedFile.startOffset(fromName: $0) }
            .sorted()
        var files: [IndexFile] = []
        for sequence in sequences {
            files.append(try IndexFile(directory: directory, sequence: sequence, slotCount: slotCount, entryCount: entryCount))
        }
        self.directory = directory
        self.slotCount = slotCount
        self.entryCount = entryCount
        self.state = Mutex(State(files: files))
    }

    /// The files, oldest first; `.notAvailable` once closed.
    private func openFiles() throws(StoreError) -> [IndexFile] {
        let (files, isClosed) = state.withLock { ($0.files, $0.isClosed) }
        guard !isClosed else { throw StoreError(.notAvailable, "the index is closed", path: directory) }
        return files
    }

    /// Indexes `key` (already `topic#key`) for the record at `commitLogOffset`, stored at
    /// `storeTimestamp` (ms). Appends to the newest file, starting the next one when it is full.
    func index(key: String, commitLogOffset: CommitLogOffset, storeTimestamp: Int64) throws(StoreError) {
        let newest = try openFiles().last
        if let newest, newest.put(key: key, commitLogOffset: commitLogOffset, storeTimestamp: storeTimestamp) {
            return
        }
        let sequence = newest.map { $0.sequence + 1 } ?? 0
        let file = try IndexFile(directory: directory, sequence: sequence, slotCount: slotCount, entryCount: entryCount)
        guard file.put(key: key, commitLogOffset: commitLogOffset, storeTimestamp: storeTimestamp) else {
            throw StoreError(.corruptMetadata, "new index file is already full", path: file.path)
        }
        let appended = state.withLock { state in
            guard !state.isClosed else { return false }
            state.files.append(file)
            return true
        }
        guard appended else { throw StoreError(.notAvailable, "the index was closed while indexing", path: directory) }
    }

    /// Offsets indexed under `key` (already `topic#key`) with store times in `[begin, end]` (ms,
    /// inclusive, at one-second granularity), newest first, without duplicates, at most `limit`.
    /// Files whose time range does not meet `[begin, end]` are skipped. Empty once closed.
    func query(key: String, begin: Int64, end: Int64, limit: Int) -> [CommitLogOffset] {
        guard limit > 0, begin <= end else { return [] }
        let files = indexFiles
        var results: [CommitLogOffset] = []
        for file in files.reversed() {
            guard results.count < limit else { break }
            guard file.overlapsTimeRange(begin: begin, end: end) else { continue }
            file.lookup(key: key, begin: begin, end: end, limit: limit, into: &results)
        }
        return results
    }

    /// The largest commit-log offset indexed so far (0 when nothing is). Records below it are fully
    /// indexed; the record at it may be partly indexed (it can carry several keys), and indexing it
    /// again only adds duplicates, which `query` drops. Recovery re-indexes from here.
    var indexedUpTo: CommitLogOffset {
        indexFiles.map(\.endCommitLogOffset).max() ?? .zero
    }

    /// Store time (ms) of the newest indexed entry, 0 when nothing is indexed
    /// (the `indexLastUpdateTimestamp` of a QUERY_MESSAGE response).
    var lastUpdateTimestamp: Int64 {
        indexFiles.map(\.endTimestamp).max() ?? 0
    }

    /// Number of index files.
    var fileCount: Int { state.withLock { $0.files.count } }

    /// The index files, oldest first (a snapshot; empty once closed).
    var indexFiles: [IndexFile] { state.withLock { $0.files } }

    /// Makes every file written since its last flush durable.
    func flush() throws(StoreError) {
        for file in indexFiles where file.hasUnflushedChanges {
            try file.flush()
        }
    }

    /// Removes the files (never the newest) whose newest entry lies below `minimum`, the oldest
    /// commit-log offset still kept, and returns how many were removed. A query running meanwhile
    /// keeps reading a removed file's mapping safely.
    func deleteFiles(endingBelow minimum: CommitLogOffset) throws(StoreError) -> Int {
        let candidates = state.withLock { state in
            state.files.dropLast().filter { $0.endCommitLogOffset < minimum }
        }
        var removed = 0
        for file in candidates {
            try System.remove(file.path)
            state.withLock { state in state.files.removeAll { $0 === file } }
            removed += 1
        }
        return removed
    }

    /// Releases the files; later `index` calls fail with `.notAvailable` and queries find nothing.
    /// Call `flush` first for durability (the mapped pages still reach the disk through the page cache).
    func close() {
        state.withLock { state in
            state.isClosed = true
            state.files = []
        }
    }
}
