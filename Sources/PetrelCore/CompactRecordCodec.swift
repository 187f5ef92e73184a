import NIOCore

/// Byte layout of a compact stored-message record: Petrel's commit-log format for topics whose
/// bodies the broker compresses. It holds exactly what a v1 record holds (`StoredMessageLayout`),
/// but a compressed JSON event of ~110 bytes would otherwise carry ~160 bytes of fixed fields and
/// properties. Clients never see it: every read converts it to a v1 record.
///
/// ```
///  0                   4                   8                   12
///  +-------------------+-------------------+-------------------+
///  | TOTALSIZE  int32  | MAGICCODE  int32  | CHECK     uint32  |
///  +-------------------+-------------------+-------------------+---------------------------+
///  | QUEUEOFFSET int64 (12)                | STORETIMESTAMP int64 (20)                     |
///  +---------------------------------------+-----------------------------------------------+
///  | 28: LEB128 varints (32/64-bit bit patterns): QUEUEID, FLAG, SYSFLAG, BORNTIMESTAMP     |
///  |     BORNHOST ipv4 (4 bytes) + port varint, STOREHOST ipv4 (4 bytes) + port varint       |
///  |     RECONSUMETIMES, PREPARED TRANSACTION OFFSET                                         |
///  | TOPICLEN int8 | TOPIC | PROPERTIESLEN varint | PROPERTIES (`CompactProperties`) | BODY  |
///  +---------------------------------------------------------------------------------------+
///  BODY runs to TOTALSIZE. Fixed part 46 bytes at least; a v1 record's is 91.
/// ```
///
/// CHECK = CRC-32 of bytes [28, TOTALSIZE) XOR the record's commit-log offset folded to 32 bits,
/// so a record is valid only at the position it was written for (v1 stores that position in
/// PHYSICALOFFSET instead). The three fixed fields after TOTALSIZE are set under the commit-log
/// lock; MAGICCODE is written last there, so a record cut before it reads as a torn tail.
public enum CompactRecordLayout {
    /// MAGICCODE of a compact record (same first byte as v1's 0xDAA320A7).
    public static let magic: Int32 = -626_843_451  // 0xDAA320C5
    /// CHECK, uint32.
    public static let checkOffset = 8
    /// QUEUEOFFSET, int64.
    public static let queueOffsetOffset = 12
    /// STORETIMESTAMP, int64.
    public static let storeTimestampOffset = 20
    /// First varint field; CHECK's CRC covers from here to the end.
    public static let fieldsOffset = 28
    /// Smallest possible record: every varint one byte, empty topic, properties and body.
    public static let minimumSize = 46

    /// CHECK's position binding: the offset's two halves XORed.
    @inlinable public static func fold(_ commitLogOffset: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: commitLogOffset) ^ UInt32(truncatingIfNeeded: commitLogOffset >> 32)
    }
}

/// A compact record's fields, parsed without copying topic, properties or body.
public struct CompactRecordHeader: Sendable {
    /// Index in the consume queue.
    public var queueOffset: Int64
    /// Store time, milliseconds.
    public var storeTimestamp: Int64
    /// Queue id.
    public var queueId: Int32
    /// User flag.
    public var flag: Int32
    /// System flags.
    public var sysFlag: MessageSysFlag
    /// Producer time, milliseconds.
    public var bornTimestamp: Int64
    /// Producer address.
    public var bornHost: MessageHost
    /// Broker address.
    public var storeHost: MessageHost
    /// Redeliveries so far.
    public var reconsumeTimes: Int32
    /// Half-message offset of a committed transactional message.
    public var preparedTransactionOffset: Int64
    /// Topic bytes within the record.
    public var topic: Range<Int>
    /// Compact properties section within the record.
    public var properties: Range<Int>
    /// Body bytes within the record.
    public var body: Range<Int>
}

/// Encodes and parses compact records (see `CompactRecordLayout`).
public enum CompactRecordCodec {
    /// Appends `stored` as a compact record with MAGICCODE 0, QUEUEOFFSET and STORETIMESTAMP as
    /// given, and CHECK without its offset binding: the commit log completes all four. Returns the
    /// record's size. The caller has checked the v1 limits (`StoredMessageCodec.EncodingParts`), so
    /// every compact record converts back to v1.
    public static func append(_ stored: StoredMessage, to output: inout [UInt8]) -> Int {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: CompactRecordLayout.fieldsOffset))
        LEB128.append(UInt64(UInt32(bitPattern: stored.queueId)), to: &output)
        LEB128.append(UInt64(UInt32(bitPattern: stored.message.flag)), to: &output)
        LEB128.append(UInt64(UInt32(bitPattern: stored.sysFlag.rawValue)), to: &output)
        LEB128.append(UInt64(bitPattern: stored.bornTimestamp), to: &output)
        appendHost(stored.bornHost, to: &output)
        appendHost(stored.storeHost, to: &output)
        LEB128.append(UInt64(UInt32(bitPattern: stored.reconsumeTimes)), to: &output)
        LEB128.append(UInt64(bitPattern: stored.preparedTransactionOffset), to: &output)
        let topic = stored.message.topic.utf8
        output.append(UInt8(topic.count))
        output.append(contentsOf: topic)
        var properties: [UInt8] = []
        CompactProperties.append(stored.message.properties, to: &properties)
        LEB128.append(UInt64(properties.count), to: &output)
        output.append(contentsOf: properties)
        stored.message.body.withUnsafeReadableBytes { output.append(contentsOf: $0) }
        let size = output.count - start
        output.withUnsafeMutableBytes { raw in
            let writer = RawWriter(base: raw.baseAddress! + start)
            writer.put(Int32(size), at: 0)
            writer.put(stored.queueOffset.rawValue, at: CompactRecordLayout.queueOffsetOffset)
            writer.put(stored.storeTimestamp, at: CompactRecordLayout.storeTimestampOffset)
            let covered = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[(start + CompactRecordLayout.fieldsOffset)...])
            writer.put(CRC32.checksum(covered), at: CompactRecordLayout.checkOffset)
        }
        return size
    }

    /// Parses the compact record filling `record` exactly. With `commitLogOffset`, CHECK is verified
    /// against the content and that position.
    public static func parse(_ record: UnsafeRawBufferPointer, verifyingAt commitLogOffset: Int64?) throws(CoreError) -> CompactRecordHeader {
        typealias L = CompactRecordLayout
        let reader = RawReader(bytes: record)
        guard record.count >= L.minimumSize, Int(try reader.int32(at: 0)) == record.count else {
            throw CoreError(.badSize, "compact record of \(record.count) bytes is too short or disagrees with its TOTALSIZE")
        }
        guard try reader.int32(at: 4) == L.magic else { throw CoreError(.badMagic, "not a compact record") }
        if let commitLogOffset {
            let stored = UInt32(bitPattern: try reader.int32(at: L.checkOffset)) ^ L.fold(commitLogOffset)
            guard stored == CRC32.checksum(UnsafeRawBufferPointer(rebasing: record[L.fieldsOffset...])) else {
                throw CoreError(.badChecksum, "compact record CHECK does not match its content at offset \(commitLogOffset)")
            }
        }
        var cursor = L.fieldsOffset
        let queueId = Int32(bitPattern: try LEB128.read32(record, &cursor, "QUEUEID"))
        let flag = Int32(bitPattern: try LEB128.read32(record, &cursor, "FLAG"))
        let sysFlag = MessageSysFlag(rawValue: Int32(bitPattern: try LEB128.read32(record, &cursor, "SYSFLAG")))
        let born = Int64(bitPattern: try LEB128.read(record, &cursor, "BORNTIMESTAMP"))
        let bornHost = try readHost(record, &cursor)
        let storeHost = try readHost(record, &cursor)
        let reconsumeTimes = Int32(bitPattern: try LEB128.read32(record, &cursor, "RECONSUMETIMES"))
        let prepared = Int64(bitPattern: try LEB128.read(record, &cursor, "PREPARED TRANSACTION OFFSET"))
        guard cursor < record.count else { throw CoreError(.truncated, "TOPICLEN runs past the end of the record") }
        let topicEnd = cursor + 1 + Int(record[cursor])
        guard topicEnd < record.count else { throw CoreError(.badSize, "topic runs past the end of the record") }
        let topic = (cursor + 1)..<topicEnd
        cursor = topicEnd
        let propertiesLength = try LEB128.read(record, &cursor, "PROPERTIESLEN")
        guard propertiesLength <= UInt64(record.count - cursor) else {
            throw CoreError(.badSize, "properties of \(propertiesLength) bytes run past the end of the record")
        }
        let propertiesEnd = cursor + Int(propertiesLength)
        return CompactRecordHeader(
            queueOffset: try reader.int64(at: L.queueOffsetOffset), storeTimestamp: try reader.int64(at: L.storeTimestampOffset),
            queueId: queueId, flag: flag, sysFlag: sysFlag, bornTimestamp: born, bornHost: bornHost, storeHost: storeHost,
            reconsumeTimes: reconsumeTimes, preparedTransactionOffset: prepared, topic: topic,
            properties: cursor..<propertiesEnd, body: propertiesEnd..<record.count)
    }

    /// Decodes the compact record filling `record`, written at `commitLogOffset`.
    public static func decode(
        _ record: UnsafeRawBufferPointer, at commitLogOffset: Int64, verifyChecksum: Bool
    ) throws(CoreError) -> StoredMessage {
        let header = try parse(record, verifyingAt: verifyChecksum ? commitLogOffset : nil)
        let body = UnsafeRawBufferPointer(rebasing: record[header.body])
        let message = Message(
            topic: String(decoding: UnsafeRawBufferPointer(rebasing: record[header.topic]), as: UTF8.self),
            flag: header.flag,
            properties: try CompactProperties.decode(UnsafeRawBufferPointer(rebasing: record[header.properties])),
            body: ByteBuffer(bytes: body))
        return StoredMessage(
            message: message, queueId: header.queueId, queueOffset: QueueOffset(header.queueOffset),
            commitLogOffset: CommitLogOffset(commitLogOffset), sysFlag: header.sysFlag, bornTimestamp: header.bornTimestamp,
            bornHost: header.bornHost, storeTimestamp: header.storeTimestamp, storeHost: header.storeHost,
            reconsumeTimes: header.reconsumeTimes, preparedTransactionOffset: header.preparedTransactionOffset,
            bodyCRC: CRC32.bodyChecksum(body))
    }

    /// Appends a host: IPv4 address (4 bytes, network order) + port varint.
    private static func appendHost(_ host: MessageHost, to output: inout [UInt8]) {
        output.append(UInt8(truncatingIfNeeded: host.address >> 24))
        output.append(UInt8(truncatingIfNeeded: host.address >> 16))
        output.append(UInt8(truncatingIfNeeded: host.address >> 8))
        output.append(UInt8(truncatingIfNeeded: host.address))
        LEB128.append(UInt64(UInt32(bitPattern: host.port)), to: &output)
    }

    /// Reads a host written by `appendHost`.
    private static func readHost(_ bytes: UnsafeRawBufferPointer, _ cursor: inout Int) throws(CoreError) -> MessageHost {
        guard bytes.count - cursor >= 4 else { throw CoreError(.truncated, "host address runs past the end of the record") }
        let address = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[cursor + $1]) }
        cursor += 4
        let port = Int32(bitPattern: try LEB128.read32(bytes, &cursor, "host port"))
        return MessageHost(address: address, port: port)
    }
}
