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
        MetadataRecord.encode(
            magic: Self.magic, version: Self.version,
            fields: [commitLogFlushed, dispatched, indexed, writtenAtMilliseconds])
    }

    /// Decodes and validates a checkpoint file's bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> Checkpoint {
        let fields = try MetadataRecord.decode(
            bytes, magic: magic, version: version, fieldCount: 4, what: "checkpoint", path: path)
        return Checkpoint(
            commitLogFlushed: fields[0], dispatched: fields[1], indexed: fields[2], writtenAtMilliseconds: fields[3])
    }
}

/// The frame of the store's small fixed-size metadata files (`Checkpoint`, `TimerCheckpoint`):
///
/// ```
///  0         4         8                         8+8n      12+8n     16+8n
///  +---------+---------+-------------------------+---------+---------+
///  | magic   | version | n fields, int64 each    | crc32   | reserved|
///  +---------+---------+-------------------------+---------+---------+
/// ```
/// crc32 covers everything before it. All integers big-endian.
enum MetadataRecord {
    /// Bytes in a record of `fieldCount` fields.
    static func size(fieldCount: Int) -> Int { 16 + 8 * fieldCount }

    /// The record's bytes.
    static func encode(magic: Int32, version: Int32, fields: [Int64]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size(fieldCount: fields.count))
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        append(magic)
        append(version)
        for field in fields { append(field) }
        append(CRC32.checksum(bytes))
        append(Int32(0))
        return bytes
    }

    /// The fields of a record, after checking its size, magic, version and checksum; `what` names
    /// the file in errors.
    static func decode(
        _ bytes: [UInt8], magic: Int32, version: Int32, fieldCount: Int, what: String, path: String
    ) throws(StoreError) -> [Int64] {
        let expectedSize = size(fieldCount: fieldCount)
        guard bytes.count == expectedSize else {
            throw StoreError(.corruptMetadata, "\(what) is \(bytes.count) bytes, expected \(expectedSize)", path: path)
        }
        func integer<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            bytes[offset..<(offset + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
        }
        let checksumOffset = 8 + 8 * fieldCount
        let checksum = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<checksumOffset])) }
        guard integer(0, Int32.self) == magic, integer(4, Int32.self) == version,
              integer(checksumOffset, UInt32.self) == checksum else {
            throw StoreError(.corruptMetadata, "\(what) has a bad magic, version or checksum", path: path)
        }
        return (0..<fieldCount).map { integer(8 + 8 * $0, Int64.self) }
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
