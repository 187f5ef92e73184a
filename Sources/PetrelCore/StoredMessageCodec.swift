import NIOCore

/// Byte layout of a stored message, version 1 with IPv4 hosts (spec §10.1). All integers big-endian.
///
/// ```
///  0                   4                   8                   12                  16
///  +-------------------+-------------------+-------------------+-------------------+
///  | TOTALSIZE  int32  | MAGICCODE  int32  | BODYCRC    int32  | QUEUEID    int32  |
///  +-------------------+-------------------+-------------------+-------------------+
///  | FLAG       int32  | QUEUEOFFSET int64                     | PHYSICALOFFSET …  |
///  +-------------------+---------------------------------------+-------------------+
///  | … int64 (28..35)  | SYSFLAG    int32  | BORNTIMESTAMP int64                   |
///  +-------------------+-------------------+---------------------------------------+
///  | BORNHOST ipv4(4) + port int32 (48)    | STORETIMESTAMP int64 (56)             |
///  +---------------------------------------+---------------------------------------+
///  | STOREHOST ipv4(4) + port int32 (64)   | RECONSUMETIMES int32 (72)             |
///  +---------------------------------------+-------------------+-------------------+
///  | PREPARED TRANSACTION OFFSET int64 (76)                    | BODYLEN int32 (84)|
///  +-----------------------------------------------------------+-------------------+
///  | BODY (88 .. 88+n)  | TOPICLEN int8 | TOPIC (t) | PROPERTIESLEN int16 | PROPS (p) |
///  +-----------------------------------------------------------------------------+
///  total = 91 + n + t + p
/// ```
public enum StoredMessageLayout {
    /// TOTALSIZE, int32.
    public static let totalSizeOffset = 0
    /// MAGICCODE, int32.
    public static let magicOffset = 4
    /// BODYCRC, int32.
    public static let bodyCRCOffset = 8
    /// QUEUEID, int32.
    public static let queueIdOffset = 12
    /// FLAG, int32.
    public static let flagOffset = 16
    /// QUEUEOFFSET, int64.
    public static let queueOffsetOffset = 20
    /// PHYSICALOFFSET, int64.
    public static let physicalOffsetOffset = 28
    /// SYSFLAG, int32.
    public static let sysFlagOffset = 36
    /// BORNTIMESTAMP, int64.
    public static let bornTimestampOffset = 40
    /// BORNHOST, 4-byte IPv4 + int32 port.
    public static let bornHostOffset = 48
    /// STORETIMESTAMP, int64.
    public static let storeTimestampOffset = 56
    /// STOREHOST, 4-byte IPv4 + int32 port.
    public static let storeHostOffset = 64
    /// RECONSUMETIMES, int32.
    public static let reconsumeTimesOffset = 72
    /// PREPARED TRANSACTION OFFSET, int64.
    public static let preparedTransactionOffsetOffset = 76
    /// BODYLEN, int32.
    public static let bodyLengthOffset = 84
    /// First body byte.
    public static let bodyOffset = 88
    /// Bytes of a record besides body, topic and properties.
    public static let fixedSize = 91
    /// Largest topic the one-byte TOPICLEN can describe.
    public static let maximumTopicLength = 127
    /// Largest properties string the int16 PROPERTIESLEN can describe.
    public static let maximumPropertiesLength = 32767

    /// MAGICCODE of a v1 message record.
    public static let messageMagicV1: Int32 = -626_843_481  // 0xDAA320A7
    /// MAGICCODE of a v2 record (int16 topic length); read-only support is not needed by 4.x clients.
    public static let messageMagicV2: Int32 = -626_843_477  // 0xDAA320AB
    /// MAGICCODE of the blank record that fills the end of a commit-log segment.
    public static let blankMagic: Int32 = -875_286_124  // 0xCBD43194
    /// A blank record is TOTALSIZE + MAGICCODE; a segment keeps at least this many bytes spare.
    public static let blankRecordSize = 8

    /// The size of a record with the given variable parts.
    public static func recordSize(bodyLength: Int, topicLength: Int, propertiesLength: Int) -> Int {
        fixedSize + bodyLength + topicLength + propertiesLength
    }
}

/// Encodes and decodes stored-message records (see `StoredMessageLayout`).
public enum StoredMessageCodec {
    /// Encodes `stored` as a v1 record into a new byte array.
    public static func encode(_ stored: StoredMessage) throws(CoreError) -> [UInt8] {
        let parts = try EncodingParts(stored)
        var bytes = [UInt8](repeating: 0, count: parts.totalSize)
        bytes.withUnsafeMutableBytes { write(stored, parts: parts, into: $0.baseAddress!) }
        return bytes
    }

    /// Appends `stored` as a v1 record to a ByteBuffer (for network bodies).
    public static func encode(_ stored: StoredMessage, into buffer: inout ByteBuffer) throws(CoreError) {
        let parts = try EncodingParts(stored)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: parts.totalSize) { destination in
            write(stored, parts: parts, into: destination.baseAddress!)
            return parts.totalSize
        }
    }

    /// Validated variable parts of a record and its total size.
    public struct EncodingParts: Sendable {
        /// Topic as UTF-8.
        public var topic: [UInt8]
        /// Encoded properties.
        public var properties: [UInt8]
        /// Whole record size.
        public var totalSize: Int

        /// Validates lengths against the v1 layout's limits.
        public init(_ stored: StoredMessage) throws(CoreError) {
            topic = Array(stored.message.topic.utf8)
            properties = stored.message.properties.encoded()
            guard topic.count <= StoredMessageLayout.maximumTopicLength else {
                throw CoreError(.topicTooLong, "topic '\(stored.message.topic)' is \(topic.count) bytes; at most 127")
            }
            guard properties.count <= StoredMessageLayout.maximumPropertiesLength else {
                throw CoreError(.propertiesTooLong, "properties are \(properties.count) bytes; at most 32767")
            }
            totalSize = StoredMessageLayout.recordSize(
                bodyLength: stored.message.body.readableBytes, topicLength: topic.count, propertiesLength: properties.count)
        }
    }

    /// Writes the record; `destination` must have `parts.totalSize` writable bytes.
    public static func write(_ stored: StoredMessage, parts: EncodingParts, into destination: UnsafeMutableRawPointer) {
        typealias L = StoredMessageLayout
        let writer = RawWriter(base: destination)
        writer.put(Int32(parts.totalSize), at: L.totalSizeOffset)
        writer.put(L.messageMagicV1, at: L.magicOffset)
        writer.put(stored.bodyCRC, at: L.bodyCRCOffset)
        writer.put(stored.queueId, at: L.queueIdOffset)
        writer.put(stored.message.flag, at: L.flagOffset)
        writer.put(stored.queueOffset.rawValue, at: L.queueOffsetOffset)
        writer.put(stored.commitLogOffset.rawValue, at: L.physicalOffsetOffset)
        writer.put(stored.sysFlag.rawValue, at: L.sysFlagOffset)
        writer.put(stored.bornTimestamp, at: L.bornTimestampOffset)
        writer.put(stored.bornHost, at: L.bornHostOffset)
        writer.put(stored.storeTimestamp, at: L.storeTimestampOffset)
        writer.put(stored.storeHost, at: L.storeHostOffset)
        writer.put(stored.reconsumeTimes, at: L.reconsumeTimesOffset)
        writer.put(stored.preparedTransactionOffset, at: L.preparedTransactionOffsetOffset)
        let body = stored.message.body
        writer.put(Int32(body.readableBytes), at: L.bodyLengthOffset)
        body.withUnsafeReadableBytes { writer.copy($0, at: L.bodyOffset) }
        var cursor = L.bodyOffset + body.readableBytes
        writer.put(UInt8(parts.topic.count), at: cursor)
        parts.topic.withUnsafeBytes { writer.copy($0, at: cursor + 1) }
        cursor += 1 + parts.topic.count
        writer.put(Int16(parts.properties.count), at: cursor)
        parts.properties.withUnsafeBytes { writer.copy($0, at: cursor + 2) }
    }

    /// Decodes one record from the start of `bytes`: v1, or compact when `commitLogOffset` says
    /// where it was stored (compact records exist only in the commit log). With `verifyChecksum`, a
    /// body whose CRC (v1) or a record whose CHECK (compact) does not match fails with `.badChecksum`.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, at commitLogOffset: Int64? = nil, verifyChecksum: Bool = true
    ) throws(CoreError) -> StoredMessage {
        typealias L = StoredMessageLayout
        let reader = RawReader(bytes: bytes)
        let totalSize = Int(try reader.int32(at: L.totalSizeOffset))
        if try reader.int32(at: L.magicOffset) == CompactRecordLayout.magic {
            guard let commitLogOffset else { throw CoreError(.badMagic, "a compact record decodes only with its commit-log offset") }
            guard totalSize >= CompactRecordLayout.minimumSize, totalSize <= bytes.count else {
                throw CoreError(.badSize, "record size \(totalSize) with \(bytes.count) bytes available")
            }
            return try CompactRecordCodec.decode(
                UnsafeRawBufferPointer(rebasing: bytes[0..<totalSize]), at: commitLogOffset, verifyChecksum: verifyChecksum)
        }
        guard totalSize >= L.fixedSize, totalSize <= bytes.count else {
            throw CoreError(.badSize, "record size \(totalSize) with \(bytes.count) bytes available")
        }
        let magic = try reader.int32(at: L.magicOffset)
        guard magic == L.messageMagicV1 else {
            throw CoreError(.badMagic, "magic code \(String(UInt32(bitPattern: magic), radix: 16)) is not a v1 message")
        }
        let bodyLength = Int(try reader.int32(at: L.bodyLengthOffset))
        guard bodyLength >= 0, L.bodyOffset + bodyLength + 1 <= totalSize else {
            throw CoreError(.badSize, "body length \(bodyLength) does not fit record size \(totalSize)")
        }
        let topicStart = L.bodyOffset + bodyLength
        let topicLength = Int(try reader.uint8(at: topicStart))
        let propertiesLengthAt = topicStart + 1 + topicLength
        let propertiesLength = Int(try reader.int16(at: propertiesLengthAt))
        guard propertiesLength >= 0, propertiesLengthAt + 2 + propertiesLength == totalSize else {
            throw CoreError(.badSize, "topic \(topicLength) and properties \(propertiesLength) bytes do not add up to \(totalSize)")
        }
        let bodyBytes = UnsafeRawBufferPointer(rebasing: bytes[L.bodyOffset..<topicStart])
        let storedCRC = try reader.int32(at: L.bodyCRCOffset)
        if verifyChecksum, CRC32.bodyChecksum(bodyBytes) != storedCRC {
            throw CoreError(.badChecksum, "body CRC \(CRC32.bodyChecksum(bodyBytes)) differs from stored \(storedCRC)")
        }
        let topic = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(topicStart + 1)..<propertiesLengthAt]), as: UTF8.self)
        let properties = MessageProperties.decode(
            UnsafeRawBufferPointer(rebasing: bytes[(propertiesLengthAt + 2)..<totalSize]))
        let message = Message(
            topic: topic, flag: try reader.int32(at: L.flagOffset), properties: properties, body: ByteBuffer(bytes: bodyBytes))
        return StoredMessage(
            message: message,
            queueId: try reader.int32(at: L.queueIdOffset),
            queueOffset: QueueOffset(try reader.int64(at: L.queueOffsetOffset)),
            commitLogOffset: CommitLogOffset(try reader.int64(at: L.physicalOffsetOffset)),
            sysFlag: MessageSysFlag(rawValue: try reader.int32(at: L.sysFlagOffset)),
            bornTimestamp: try reader.int64(at: L.bornTimestampOffset),
            bornHost: try reader.host(at: L.bornHostOffset),
            storeTimestamp: try reader.int64(at: L.storeTimestampOffset),
            storeHost: try reader.host(at: L.storeHostOffset),
            reconsumeTimes: try reader.int32(at: L.reconsumeTimesOffset),
            preparedTransactionOffset: try reader.int64(at: L.preparedTransactionOffsetOffset),
            bodyCRC: storedCRC)
    }

    /// Decodes only the properties of the record at the start of `bytes`: cheaper than `decode`
    /// when a reader needs just the tag or keys (no body copy).
    public static func decodeProperties(_ bytes: UnsafeRawBufferPointer) throws(CoreError) -> MessageProperties {
        typealias L = StoredMessageLayout
        let reader = RawReader(bytes: bytes)
        let totalSize = Int(try reader.int32(at: L.totalSizeOffset))
        if try reader.int32(at: L.magicOffset) == CompactRecordLayout.magic {
            guard totalSize <= bytes.count else { throw CoreError(.badSize, "record size \(totalSize) with \(bytes.count) bytes available") }
            let record = UnsafeRawBufferPointer(rebasing: bytes[0..<totalSize])
            let header = try CompactRecordCodec.parse(record, verifyingAt: nil)
            return try CompactProperties.decode(UnsafeRawBufferPointer(rebasing: record[header.properties]))
        }
        let bodyLength = Int(try reader.int32(at: L.bodyLengthOffset))
        guard totalSize <= bytes.count, bodyLength >= 0 else {
            throw CoreError(.badSize, "record size \(totalSize) or body length \(bodyLength) out of range")
        }
        let topicStart = L.bodyOffset + bodyLength
        let propertiesLengthAt = topicStart + 1 + Int(try reader.uint8(at: topicStart))
        let propertiesLength = Int(try reader.int16(at: propertiesLengthAt))
        guard propertiesLength >= 0, propertiesLengthAt + 2 + propertiesLength <= totalSize else {
            throw CoreError(.badSize, "properties of \(propertiesLength) bytes do not fit record size \(totalSize)")
        }
        let start = propertiesLengthAt + 2
        return MessageProperties.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + propertiesLength)]))
    }

    /// STORETIMESTAMP of the record (either format) at the start of `bytes`.
    public static func storeTimestamp(ofRecord bytes: UnsafeRawBufferPointer) throws(CoreError) -> Int64 {
        let reader = RawReader(bytes: bytes)
        let compact = try reader.int32(at: StoredMessageLayout.magicOffset) == CompactRecordLayout.magic
        return try reader.int64(at: compact ? CompactRecordLayout.storeTimestampOffset : StoredMessageLayout.storeTimestampOffset)
    }

    /// SYSFLAG of the record (either format) at the start of `bytes`.
    public static func sysFlag(ofRecord bytes: UnsafeRawBufferPointer) throws(CoreError) -> MessageSysFlag {
        let reader = RawReader(bytes: bytes)
        guard try reader.int32(at: StoredMessageLayout.magicOffset) == CompactRecordLayout.magic else {
            return MessageSysFlag(rawValue: try reader.int32(at: StoredMessageLayout.sysFlagOffset))
        }
        var cursor = CompactRecordLayout.fieldsOffset
        _ = try LEB128.read32(bytes, &cursor, "QUEUEID")
        _ = try LEB128.read32(bytes, &cursor, "FLAG")
        return MessageSysFlag(rawValue: Int32(bitPattern: try LEB128.read32(bytes, &cursor, "SYSFLAG")))
    }

    /// True when the record at the start of `bytes` is compact (`CompactRecordLayout`).
    public static func isCompact(_ bytes: UnsafeRawBufferPointer) -> Bool {
        (try? RawReader(bytes: bytes).int32(at: StoredMessageLayout.magicOffset)) == CompactRecordLayout.magic
    }

    /// Decodes every record of a concatenation (a pull-response body).
    public static func decodeAll(_ bytes: UnsafeRawBufferPointer, verifyChecksum: Bool = true) throws(CoreError) -> [StoredMessage] {
        var messages: [StoredMessage] = []
        var cursor = 0
        while cursor < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[cursor...])
            let message = try decode(rest, verifyChecksum: verifyChecksum)
            messages.append(message)
            cursor += Int(try RawReader(bytes: rest).int32(at: 0))
        }
        return messages
    }
}

/// How the commit log stores a record. Clients always receive v1 records.
public enum StoredRecordFormat: String, Hashable, Sendable, CaseIterable {
    /// RocketMQ's v1 layout (`StoredMessageLayout`).
    case standard
    /// Petrel's compact layout (`CompactRecordLayout`), for topics whose bodies are compressed.
    case compact
}
