/// One preallocated, memory-mapped store file: a commit-log segment, a consume-queue file or an
/// index file. Writers copy bytes into the mapping (no system call); `flush` makes a range durable.
///
/// The mapping lives as long as the object: readers that hold a `MappedFile` (for example inside a
/// `StoredRecordSlice`) keep reading valid memory even after retention has unlinked the file.
public final class MappedFile: @unchecked Sendable {
    /// Full path of the file.
    public let path: String
    /// The offset this file starts at, which is also its name (20 digits, zero padded).
    public let startOffset: Int64
    /// Mapped size in bytes.
    public let size: Int
    /// Start of the mapping.
    public let base: UnsafeMutableRawPointer
    /// The open descriptor, kept for fdatasync and closed at deinit.
    private let descriptor: Int32

    /// Opens `directory/<20-digit startOffset>`, creating and preallocating it when absent.
    /// An existing file shorter than `size` (a crash during preallocation) is extended.
    public init(directory: String, startOffset: Int64, size: Int) throws(StoreError) {
        let path = directory + "/" + MappedFile.fileName(for: startOffset)
        let descriptor = try System.open(path, create: true)
        do throws(StoreError) {
            let existing = try System.fileSize(descriptor, path: path)
            if existing > Int64(size) {
                throw StoreError(.corruptMetadata, "file is \(existing) bytes, larger than the configured \(size)", path: path)
            }
            if existing < Int64(size) {
                try System.preallocate(descriptor, size: Int64(size), path: path)
            }
            base = try System.map(descriptor, size: size, path: path)
        } catch {
            _ = try? System.close(descriptor, path: path)
            throw error
        }
        self.path = path
        self.startOffset = startOffset
        self.size = size
        self.descriptor = descriptor
    }

    deinit {
        System.unmap(base, size: size)
        // A close failure cannot be reported from deinit; the descriptor is released either way.
        _ = try? System.close(descriptor, path: path)
    }

    /// The 20-digit, zero-padded name of a file starting at `offset`.
    public static func fileName(for offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The start offset encoded in a file name, or nil when the name is not 20 digits.
    public static func startOffset(fromName name: String) -> Int64? {
        guard name.utf8.count == 20, name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(name)
    }

    /// Makes bytes `[from, to)` of this file durable.
    public func flush(from: Int, to: Int) throws(StoreError) {
        guard to > from else { return }
        try System.syncMapping(base, offset: from, length: to - from, path: path)
    }

    /// The bytes `[from, to)` as a read-only view; valid while `self` is alive.
    public func bytes(from: Int, to: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + from, count: to - from)
    }

    /// Writes `bytes` at `position` with `pwrite`, bypassing the mapping (see `CommitLog`).
    public func write(_ bytes: [UInt8], at position: Int) throws(StoreError) {
        guard position + bytes.count <= size else {
            throw StoreError(.ioFailure, "write of \(bytes.count) bytes at \(position) passes the end", path: path)
        }
        let failure: StoreError? = bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try System.writeAll(descriptor, raw, at: Int64(position), path: path) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Fills `[from, size)` with zeros; recovery uses it to erase a torn tail so later scans stop there.
    public func zero(from: Int) {
        guard from < size else { return }
        (base + from).initializeMemory(as: UInt8.self, repeating: 0, count: size - from)
    }

    /// Touches every page once so first writes do not page-fault (RocketMQ's warm-up).
    public func warm() {
        System.adviseWillNeed(base, size: size)
    }
}
