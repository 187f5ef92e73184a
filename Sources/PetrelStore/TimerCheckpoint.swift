import PetrelCore

/// The timer log's delivered watermark: every timer-log entry below `deliveredBelow` has been
/// delivered (or skipped) and its delivered copy is durable in the commit log. Rewritten
/// crash-safely (`AtomicFile`) as `<root>/timerlog/checkpoint`.
///
/// ```
///  0         4         8                   16        20        24
///  +---------+---------+-------------------+---------+---------+
///  | magic   | version | deliveredBelow    | crc32   | reserved|
///  | "PTMR"  | int32=1 | int64             | uint32  | int32=0 |
///  +---------+---------+-------------------+---------+---------+
/// ```
/// crc32 covers bytes 0..<16. All integers big-endian.
public struct TimerCheckpoint: Hashable, Sendable {
    /// Bytes in the file.
    public static let size = 24
    /// "PTMR".
    static let magic: Int32 = 0x5054_4D52
    /// Format version.
    static let version: Int32 = 1

    /// Every entry below this index is delivered or skipped.
    public var deliveredBelow: Int64

    /// Creates a checkpoint.
    public init(deliveredBelow: Int64) {
        self.deliveredBelow = deliveredBelow
    }

    /// The 24-byte encoding.
    public func encoded() -> [UInt8] {
        MetadataRecord.encode(magic: Self.magic, version: Self.version, fields: [deliveredBelow])
    }

    /// Decodes and validates a checkpoint file's bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> TimerCheckpoint {
        let fields = try MetadataRecord.decode(
            bytes, magic: magic, version: version, fieldCount: 1, what: "timer checkpoint", path: path)
        guard fields[0] >= 0 else {
            throw StoreError(.corruptMetadata, "timer checkpoint holds a negative watermark \(fields[0])", path: path)
        }
        return TimerCheckpoint(deliveredBelow: fields[0])
    }

    /// Reads the checkpoint at `path`; nil when there is none yet.
    public static func read(_ path: String) throws(StoreError) -> TimerCheckpoint? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        return try decode(bytes, path: path)
    }

    /// Replaces the checkpoint at `path` crash-safely.
    public func write(to path: String) throws(StoreError) {
        try AtomicFile.write(encoded(), to: path)
    }
}
