import PetrelCore

/// What the dispatcher needs of one record to fill consume queues and the index.
struct DispatchRequest: Sendable {
    /// The record's queue.
    var queue: QueueKey
    /// Its index in that queue.
    var queueOffset: Int64
    /// Its position in the commit log.
    var commitLogOffset: Int64
    /// Its size.
    var size: Int32
    /// Tag hash for the consume-queue unit.
    var tagsCode: Int64
    /// When it was stored.
    var storeTimestamp: Int64
    /// Its `KEYS` words and `UNIQ_KEY`, to index.
    var indexKeys: [String]
    /// Transaction state: prepared and rollback records skip consume queues.
    var transaction: TransactionState
}

/// What lies at a commit-log position.
enum ScanResult {
    /// A whole, valid message record.
    case message(DispatchRequest)
    /// The blank record that ends a segment, with its size.
    case blank(Int)
    /// Zeros: nothing was ever written here.
    case empty
    /// Bytes that are not a valid record, and why.
    case invalid(String)
}

/// Reads records out of a segment's mapping, validating as much as asked.
enum RecordScanner {
    /// Examines the record at `position` of `segment` (whose data may end anywhere).
    /// With `verifyChecksum`, the body CRC is checked too (recovery does; live dispatch trusts the writer).
    static func scan(_ segment: MappedFile, position: Int, verifyChecksum: Bool) -> ScanResult {
        let remaining = segment.size - position
        guard remaining >= StoredMessageLayout.blankRecordSize else { return .invalid("fewer than 8 bytes left in segment") }
        let bytes = segment.bytes(from: position, to: segment.size)
        let reader = RawReader(bytes: bytes)
        guard let size = try? reader.int32(at: 0), let magic = try? reader.int32(at: 4) else { return .invalid("truncated header") }
        if size == 0 && magic == 0 { return .empty }
        if magic == StoredMessageLayout.blankMagic {
            return Int(size) == remaining ? .blank(Int(size)) : .invalid("blank record of \(size) bytes with \(remaining) left")
        }
        let expectedOffset = segment.startOffset + Int64(position)
        if magic == CompactRecordLayout.magic {
            guard size >= Int32(CompactRecordLayout.minimumSize), Int(size) <= remaining - StoredMessageLayout.blankRecordSize else {
                return .invalid("record size \(size) with \(remaining) bytes left in segment")
            }
            do {
                return .message(try compactDispatchRequest(UnsafeRawBufferPointer(rebasing: bytes[0..<Int(size)]), at: expectedOffset))
            } catch {
                return .invalid(error.description)
            }
        }
        guard magic == StoredMessageLayout.messageMagicV1 else {
            return .invalid("magic code \(String(UInt32(bitPattern: magic), radix: 16))")
        }
        guard size >= Int32(StoredMessageLayout.fixedSize), Int(size) <= remaining - StoredMessageLayout.blankRecordSize else {
            return .invalid("record size \(size) with \(remaining) bytes left in segment")
        }
        guard (try? reader.int64(at: StoredMessageLayout.physicalOffsetOffset)) == expectedOffset else {
            return .invalid("PHYSICALOFFSET field does not equal the record's position \(expectedOffset)")
        }
        let record = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(size)])
        do {
            return .message(try dispatchRequest(record, at: expectedOffset, verifyChecksum: verifyChecksum))
        } catch {
            return .invalid(error.description)
        }
    }

    /// Reads the fields dispatch needs straight from the record, without copying the body.
    private static func dispatchRequest(
        _ record: UnsafeRawBufferPointer, at offset: Int64, verifyChecksum: Bool
    ) throws(CoreError) -> DispatchRequest {
        typealias L = StoredMessageLayout
        let reader = RawReader(bytes: record)
        let bodyLength = Int(try reader.int32(at: L.bodyLengthOffset))
        guard bodyLength >= 0, L.bodyOffset + bodyLength + 3 <= record.count else {
            throw CoreError(.badSize, "body length \(bodyLength) does not fit record size \(record.count)")
        }
        let topicStart = L.bodyOffset + bodyLength
        let topicLength = Int(try reader.uint8(at: topicStart))
        let propertiesLengthAt = topicStart + 1 + topicLength
        let propertiesLength = Int(try reader.int16(at: propertiesLengthAt))
        guard propertiesLength >= 0, propertiesLengthAt + 2 + propertiesLength == record.count else {
            throw CoreError(.badSize, "topic \(topicLength) and properties \(propertiesLength) bytes do not add up to \(record.count)")
        }
        if verifyChecksum {
            let body = UnsafeRawBufferPointer(rebasing: record[L.bodyOffset..<topicStart])
            guard CRC32.bodyChecksum(body) == (try reader.int32(at: L.bodyCRCOffset)) else {
                throw CoreError(.badChecksum, "body CRC differs from the stored BODYCRC")
            }
            // BODYCRC covers only the body. A write torn inside the topic or properties (the record's
            // tail) leaves zeros there; the store never writes a NUL byte in either (see
            // `EncodedBatch`), so one means the record was never completely written.
            if record[(topicStart + 1)..<propertiesLengthAt].contains(0) || record[(propertiesLengthAt + 2)...].contains(0) {
                throw CoreError(.truncated, "NUL byte in the topic or properties: the record's tail was never written")
            }
        }
        let topic = String(decoding: UnsafeRawBufferPointer(rebasing: record[(topicStart + 1)..<propertiesLengthAt]), as: UTF8.self)
        let properties = MessageProperties.decode(
            UnsafeRawBufferPointer(rebasing: record[(propertiesLengthAt + 2)..<record.count]))
        let keys = indexKeys(properties)
        return DispatchRequest(
            queue: QueueKey(topic: topic, queueId: try reader.int32(at: L.queueIdOffset)),
            queueOffset: try reader.int64(at: L.queueOffsetOffset),
            commitLogOffset: offset,
            size: Int32(record.count),
            tagsCode: TagHash.tagsCode(properties[PropertyKey.tags]),
            storeTimestamp: try reader.int64(at: L.storeTimestampOffset),
            indexKeys: keys,
            transaction: MessageSysFlag(rawValue: try reader.int32(at: L.sysFlagOffset)).transaction)
    }

    /// The dispatch fields of a compact record. Its CHECK is always verified: it is what binds a
    /// compact record to its position (a v1 record has PHYSICALOFFSET), and it costs one CRC of a
    /// record that is small by construction.
    private static func compactDispatchRequest(_ record: UnsafeRawBufferPointer, at offset: Int64) throws(CoreError) -> DispatchRequest {
        let header = try CompactRecordCodec.parse(record, verifyingAt: offset)
        let properties = try CompactProperties.decode(UnsafeRawBufferPointer(rebasing: record[header.properties]))
        let topic = String(decoding: UnsafeRawBufferPointer(rebasing: record[header.topic]), as: UTF8.self)
        return DispatchRequest(
            queue: QueueKey(topic: topic, queueId: header.queueId), queueOffset: header.queueOffset, commitLogOffset: offset,
            size: Int32(record.count), tagsCode: TagHash.tagsCode(properties[PropertyKey.tags]),
            storeTimestamp: header.storeTimestamp, indexKeys: indexKeys(properties), transaction: header.sysFlag.transaction)
    }

    /// The `KEYS` words and the `UNIQ_KEY` of a record, for the index.
    private static func indexKeys(_ properties: MessageProperties) -> [String] {
        var keys = (properties[PropertyKey.keys] ?? "").split(separator: " ").map(String.init)
        if let unique = properties[PropertyKey.uniqueKey], !unique.isEmpty { keys.append(unique) }
        return keys
    }

    /// Whether any valid record (magic, self-consistent offset, checksum) starts anywhere in
    /// `[from, segment.size)`. Recovery uses it to tell a torn tail from mid-log corruption.
    static func findValidRecord(in segment: MappedFile, from: Int) -> Int? {
        // The magic code's first byte on disk (big-endian 0xDAA320A7, compact 0xDAA320C5).
        let marker: UInt8 = 0xDA
        var cursor = max(from, 0) + 4
        let bytes = segment.bytes(from: 0, to: segment.size)
        while cursor + 4 <= segment.size {
            guard let found = bytes[cursor...].firstIndex(of: marker) else { return nil }
            let candidate = found - 4
            // v1 ends 0xA7, compact 0xC5.
            if candidate >= from, bytes[found + 1] == 0xA3, bytes[found + 2] == 0x20, bytes[found + 3] == 0xA7 || bytes[found + 3] == 0xC5,
               case .message = scan(segment, position: candidate, verifyChecksum: true) {
                return candidate
            }
            cursor = found + 1
        }
        return nil
    }
}
