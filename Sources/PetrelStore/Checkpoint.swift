import PetrelCore

/// How far each part of the store is known to be durable, written crash-safely after every
/// flush round.
///
/// ```
///  0         4         8                   16                  24
///  +---------+---------+-------------------+-------------------+
///  | magic   | version | commitLogFlushed  | dispatched        |
///  | "PCKP"  | int32=1 | int64             | int64             |
///  +---------+---------+-------------------+-------------------+
///  24                  32                  40        44        48
///  +-------------------+-------------------+---------+---------+
///  | indexed  int64    | writtenAt int64 ms| crc32   | reserved|
///  +-------------------+-------------------+---------+---------+
/// ```
/// crc32 covers bytes 0..<40. All integers big-endian.
public struct Checkpoint: Hashable, Sendable {
    /// Bytes in the file.
    public static let size = 48
    /// "PCKP".
    static let magic: Int32 = 0x5043_4B50
    /// Format version.
    static let version: Int32 = 1

    /// Every commit-log byte below this is durable.
    public var commitLogFlushed: Int64
    /// Consume-queue units of every record below this commit-log offset are durable.
    public var dispatched: Int64
    /// Index entries of every record below this commit-log offset are durable.
    public var indexed: Int64
    /// When the checkpoint was written.
    public var writtenAtMilliseconds: Int64

    /// Creates a checkpoint.
    public init(commitLogFlushed: Int64, dispatched: Int64, indexed: Int64, writtenAtMilliseconds: Int64) {
        self.commitLogFlushed = commitLogFlushed
        self.dispatched = dispatched
        self.indexed = indexed
        self.writtenAtMilliseconds = writtenAtMilliseconds
    }

    /// Where recovery must start scanning: below it, everything is durable and dispatched.
    public var recoveryStart: Int64 { min(commitLogFlushed, dispatched, indexed) }

    /// The 48-byte encoding.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress!)
            writer.put(Self.magic, at: 0)
            writer.put(Self.version, at: 4)
            writer.put(commitLogFlushed, at: 8)
            writer.put(dispatched, at: 16)
            writer.put(indexed, at: 24)
            writer.put(writtenAtMilliseconds, at: 32)
            writer.put(CRC32.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[0..<40])), at: 40)
        }
        return bytes
    }

    /// Decodes and validates a checkpoint file's bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> Checkpoint {
        guard bytes.count == size else {
            throw StoreError(.corruptMetadata, "checkpoint is \(bytes.count) bytes, expected \(size)", path: path)
        }
        func integer<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            bytes[offset..<(offset + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
        }
        let checksum = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<40])) }
        guard integer(0, Int32.self) == magic, integer(4, Int32.self) == version, integer(40, UInt32.self) == checksum else {
            throw StoreError(.corruptMetadata, "checkpoint has a bad magic, version or checksum", path: path)
        }
        return Checkpoint(
            commitLogFlushed: integer(8, Int64.self), dispatched: integer(16, Int64.self),
            indexed: integer(24, Int64.self), writtenAtMilliseconds: integer(32, Int64.self))
    }
}

/// Crash-safe replacement of small metadata files: write a temporary file, fsync it, rename it
/// over the old one, fsync the directory. A crash leaves either the old or the new content.
public enum AtomicFile {
    /// Replaces `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws(StoreError) {
        let temporary = path + ".tmp"
        let descriptor = try System.open(temporary, create: true)
        do throws(StoreError) {
            try System.truncate(descriptor, size: 0, path: temporary)
            let failure: StoreError? = bytes.withUnsafeBytes { raw in
                do throws(StoreError) { try System.writeAll(descriptor, raw, at: 0, path: temporary) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            try System.syncData(descriptor, path: temporary)
        } catch {
            _ = try? System.close(descriptor, path: temporary)
            throw error
        }
        try System.close(descriptor, path: temporary)
        try System.rename(temporary, to: path)
        try System.syncDirectory(directory(of: path))
    }

    /// Reads a whole small file; nil when it does not exist.
    public static func read(_ path: String) throws(StoreError) -> [UInt8]? {
        guard System.exists(path) else { return nil }
        let descriptor = try System.open(path, create: false)
        defer { _ = try? System.close(descriptor, path: path) }
        let size = try System.fileSize(descriptor, path: path)
        return try System.read(descriptor, count: Int(size), at: 0, path: path)
    }

    /// The directory part of a path.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
