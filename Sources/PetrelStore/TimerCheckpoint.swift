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
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress!)
            writer.put(Self.magic, at: 0)
            writer.put(Self.version, at: 4)
            writer.put(deliveredBelow, at: 8)
            writer.put(CRC32.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[0..<16])), at: 16)
        }
        return bytes
    }

    /// Decodes and validates a checkpoint file's bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> TimerCheckpoint {
        guard bytes.count == size else {
            throw StoreError(.corruptMetadata, "timer checkpoint is \(bytes.count) bytes, expected \(size)", path: path)
        }
        let (magicRead, versionRead, watermark, checksum): (Int32, Int32, Int64, UInt32) = bytes.withUnsafeBytes { raw in
            let reader = RawReader(bytes: raw)
            return ((try? reader.int32(at: 0)) ?? 0, (try? reader.int32(at: 4)) ?? 0, (try? reader.int64(at: 8)) ?? -1,
                    (try? reader.integer(at: 16, as: UInt32.self)) ?? 0)
        }
        let expected = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<16])) }
        guard magicRead == magic, versionRead == version, checksum == expected, watermark >= 0 else {
            throw StoreError(.corruptMetadata, "timer checkpoint has a bad magic, version or checksum", path: path)
        }
        return TimerCheckpoint(deliveredBelow: watermark)
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
