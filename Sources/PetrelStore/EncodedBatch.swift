import PetrelCore

/// One or more records of one queue, encoded back to back outside the commit-log lock.
/// Inside the lock only three fields per record are patched (queue offset, commit-log offset,
/// store timestamp) before the bytes are copied into the mapped segment.
struct EncodedBatch: Sendable {
    /// The queue every record of the batch belongs to.
    var queue: QueueKey
    /// Whether records take queue offsets: prepared and rollback transaction records do not
    /// (they are never dispatched to a consume queue), everything else does.
    var takesQueueOffsets: Bool
    /// The encoded records, back to back.
    var bytes: [UInt8]
    /// Start of each record within `bytes`.
    var recordStarts: [Int]
    /// Size of each record.
    var recordSizes: [Int]
    /// The records' layout: the commit log patches different positions for each.
    var format: StoredRecordFormat

    /// Encodes `messages`, which must all name the same topic and queue id, in `format`.
    init(_ messages: [StoredMessage], maximumMessageSize: Int, format: StoredRecordFormat = .standard) throws(StoreError) {
        guard let first = messages.first else {
            throw StoreError(.messageIllegal, "a batch needs at least one message")
        }
        queue = QueueKey(topic: first.message.topic, queueId: first.queueId)
        let state = first.sysFlag.transaction
        takesQueueOffsets = state != .prepared && state != .rollback
        self.format = format
        bytes = []
        recordStarts = []
        recordSizes = []
        recordStarts.reserveCapacity(messages.count)
        // One allocation for the batch: a compact record is appended field by field and would
        // otherwise regrow the array several times per message.
        bytes.reserveCapacity(messages.reduce(0) { $0 + $1.message.body.readableBytes + 256 })
        for message in messages {
            guard message.message.topic == queue.topic, message.queueId == queue.queueId else {
                throw StoreError(.messageIllegal, "every message of a batch must go to \(queue)")
            }
            guard message.message.body.readableBytes <= maximumMessageSize else {
                throw StoreError(
                    .messageIllegal,
                    "body of \(message.message.body.readableBytes) bytes exceeds maxMessageSize \(maximumMessageSize)")
            }
            let parts: StoredMessageCodec.EncodingParts
            do { parts = try StoredMessageCodec.EncodingParts(message) } catch {
                throw StoreError(.messageIllegal, error.message)
            }
            // Recovery treats a NUL byte in topic or properties as a torn record (BODYCRC covers only
            // the body), so none may be stored.
            guard !parts.topic.contains(0), !parts.properties.contains(0) else {
                throw StoreError(.messageIllegal, "topic and properties must not contain NUL bytes")
            }
            let start = bytes.count
            recordStarts.append(start)
            if format == .compact {
                // MAGICCODE stays 0 until the commit log writes it, last.
                recordSizes.append(CompactRecordCodec.append(message, to: &bytes))
                continue
            }
            bytes.append(contentsOf: repeatElement(0, count: parts.totalSize))
            bytes.withUnsafeMutableBytes {
                StoredMessageCodec.write(message, parts: parts, into: $0.baseAddress! + start)
                // A position no record has, until the commit log patches the real one in (last).
                RawWriter(base: $0.baseAddress! + start).put(Int64(-1), at: StoredMessageLayout.physicalOffsetOffset)
            }
            recordSizes.append(parts.totalSize)
        }
    }

    /// Number of records.
    var count: Int { recordStarts.count }
}

/// Where an appended batch landed.
public struct AppendedRecords: Hashable, Sendable {
    /// Commit-log offset of the first record.
    public var firstOffset: CommitLogOffset
    /// Total bytes appended.
    public var totalSize: Int
    /// Queue offset of the first record (0 for prepared/rollback records).
    public var firstQueueOffset: QueueOffset
    /// Commit-log offset of each record.
    public var recordOffsets: [CommitLogOffset]
    /// The store timestamp written into every record.
    public var storeTimestamp: Int64

    /// The end of the appended bytes: what must be flushed before the append is durable.
    public var endOffset: CommitLogOffset { firstOffset.advanced(by: Int64(totalSize)) }
}
