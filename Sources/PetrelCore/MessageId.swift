import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The two message-id forms (spec §12): the broker's offset id, and the producer's unique id (`UNIQ_KEY`).
public enum MessageId {
    /// The offset id: store host IPv4 (4) + port int32 + commit-log offset int64, as 32 upper-case hex chars.
    public static func offsetId(storeHost: MessageHost, commitLogOffset: CommitLogOffset) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress!)
            writer.put(storeHost, at: 0)
            writer.put(commitLogOffset.rawValue, at: 8)
        }
        return hex(bytes)
    }

    /// Decodes a 32-character offset id into the store host and commit-log offset.
    public static func decodeOffsetId(_ id: String) throws(CoreError) -> (storeHost: MessageHost, commitLogOffset: CommitLogOffset) {
        guard id.utf8.count == 32, let bytes = unhex(id) else {
            throw CoreError(.badMessageId, "'\(id)' is not a 32-character hex offset message id")
        }
        let host = MessageHost(
            address: UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]),
            port: Int32(bitPattern: UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])))
        let offset = bytes[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        return (host, CommitLogOffset(offset))
    }

    /// Upper-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var characters = [UInt8]()
        characters.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Bytes of a hex string (either case); nil on an odd length or a non-hex character.
    public static func unhex(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Value of one hex digit.
    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// Makes producer unique ids (`UNIQ_KEY`) in Java's layout: client IPv4 (4) + pid int16 +
/// random int32 (Java: class-loader hash) + milliseconds since the start of the month int32 +
/// counter int16, as 32 hex chars. Ids from one generator never repeat within a month unless
/// more than 65,536 are made in one millisecond.
public final class UniqueKeyGenerator: Sendable {
    /// The fixed first 10 bytes: address, pid, random.
    private let prefix: [UInt8]
    /// Counter for the last two bytes.
    private let counter = Atomic<UInt16>(0)

    /// Creates a generator for a client at `address`.
    public init(address: UInt32) {
        var bytes = [UInt8](repeating: 0, count: 10)
        bytes.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress!)
            writer.put(address, at: 0)
            writer.put(UInt16(truncatingIfNeeded: getpid()), at: 4)
            writer.put(UInt32.random(in: 0...UInt32.max), at: 6)
        }
        prefix = bytes
    }

    /// A fresh unique id for `now` (milliseconds since the epoch).
    public func next(nowMilliseconds: Int64) -> String {
        var bytes = prefix
        bytes.append(contentsOf: [UInt8](repeating: 0, count: 6))
        let sequence = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let sinceMonth = UInt32(truncatingIfNeeded: nowMilliseconds - Self.startOfMonthMilliseconds(nowMilliseconds))
        bytes.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress!)
            writer.put(sinceMonth, at: 10)
            writer.put(sequence, at: 14)
        }
        return MessageId.hex(bytes)
    }

    /// Start of the UTC month containing `milliseconds`.
    static func startOfMonthMilliseconds(_ milliseconds: Int64) -> Int64 {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        parts.tm_mday = 1
        parts.tm_hour = 0
        parts.tm_min = 0
        parts.tm_sec = 0
        return Int64(timegm(&parts)) * 1000
    }
}
