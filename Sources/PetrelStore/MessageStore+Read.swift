import PetrelCore

extension MessageStore {
    /// Reads up to `maximumCount` messages of a queue from `offset`, at most `maximumBytes` in total
    /// (always at least one message), keeping those `filter` accepts. Records come back as slices
    /// of the stored bytes, ready to send.
    public func getMessages(
        topic: String, queueId: Int32, offset: QueueOffset, maximumCount: Int,
        maximumBytes: Int = 4 * 1024 * 1024, filter: TagFilter = .all
    ) -> GetResult {
        let key = QueueKey(topic: topic, queueId: queueId)
        guard let queue = queues.queue(key) else {
            return GetResult(status: .noMatchedLogicQueue, records: [], queueOffsets: [], nextBeginOffset: .zero,
                             minimumOffset: .zero, maximumOffset: .zero)
        }
        let minimum = queue.minimumOffset
        let maximum = queue.maximumOffset
        func result(_ status: GetStatus, next: Int64) -> GetResult {
            GetResult(status: status, records: [], queueOffsets: [], nextBeginOffset: QueueOffset(next),
                      minimumOffset: QueueOffset(minimum), maximumOffset: QueueOffset(maximum))
        }
        if maximum == minimum { return result(.noMessageInQueue, next: maximum) }
        if offset.rawValue < minimum { return result(.offsetTooSmall, next: minimum) }
        if offset.rawValue == maximum { return result(.offsetOverflowOne, next: offset.rawValue) }
        if offset.rawValue > maximum { return result(.offsetOverflowBadly, next: maximum) }
        return readUnits(queue, from: offset.rawValue, maximum: maximum, minimum: minimum, maximumCount: maximumCount,
                         maximumBytes: maximumBytes, filter: filter)
    }

    /// The read loop behind `getMessages`: units → tag-hash filter → record slice → exact tag check.
    private func readUnits(
        _ queue: ConsumeQueue, from start: Int64, maximum: Int64, minimum: Int64, maximumCount: Int,
        maximumBytes: Int, filter: TagFilter
    ) -> GetResult {
        let codes = filter.tagCodes
        // A filter that matches rarely must not scan a whole queue in one call.
        let scanLimit = max(maximumCount, 1) * (codes == nil ? 1 : 32)
        let logMinimum = commitLog.minimumOffset
        var records: [StoredRecordSlice] = []
        var offsets: [QueueOffset] = []
        var bytes = 0
        var cursor = start
        var removed = 0
        while cursor < maximum, records.count < maximumCount, cursor - start < scanLimit {
            guard let unit = queue.unit(at: cursor) else { cursor += 1; continue }
            if unit.commitLogOffset < logMinimum {
                removed += 1
                cursor += 1
                continue
            }
            if let codes, !codes.contains(unit.tagsCode) { cursor += 1; continue }
            if !records.isEmpty, bytes + Int(unit.size) > maximumBytes { break }
            guard let slice = commitLog.slice(at: unit.commitLogOffset, count: Int(unit.size)) else {
                removed += 1
                cursor += 1
                continue
            }
            cursor += 1
            if let tags = filter.tags {
                let tag = try? slice.withUnsafeBytes { try StoredMessageCodec.decodeProperties($0)[PropertyKey.tags] }
                guard let tag = tag ?? nil, tags.contains(tag) else { continue }
            }
            records.append(slice)
            offsets.append(QueueOffset(cursor - 1))
            bytes += slice.count
        }
        let status: GetStatus = !records.isEmpty ? .found : (removed > 0 && removed == Int(cursor - start) ? .offsetFoundNull : .noMatchedMessage)
        return GetResult(status: status, records: records, queueOffsets: offsets, nextBeginOffset: QueueOffset(cursor),
                         minimumOffset: QueueOffset(minimum), maximumOffset: QueueOffset(maximum))
    }

    /// The record starting at `offset` (an offset message id points here).
    public func record(at offset: CommitLogOffset) throws(StoreError) -> StoredRecordSlice {
        if offset.rawValue < commitLog.minimumOffset {
            throw StoreError(.offsetTooSmall, "offset \(offset) is below the oldest kept offset \(commitLog.minimumOffset)")
        }
        guard offset.rawValue < commitLog.committedOffset, let segment = commitLog.segment(containing: offset.rawValue) else {
            throw StoreError(.offsetOverflow, "offset \(offset) is past the end of the log \(commitLog.committedOffset)")
        }
        switch RecordScanner.scan(segment, position: Int(offset.rawValue - segment.startOffset), verifyChecksum: false) {
        case .message(let request):
            guard let slice = commitLog.slice(at: offset.rawValue, count: Int(request.size)) else {
                throw StoreError(.offsetOverflow, "record at \(offset) is not fully written")
            }
            return slice
        default:
            throw StoreError(.messageIllegal, "no message record starts at offset \(offset)")
        }
    }

    /// The decoded message starting at `offset`.
    public func message(at offset: CommitLogOffset) throws(StoreError) -> StoredMessage {
        let slice = try record(at: offset)
        do { return try slice.decode() } catch {
            throw StoreError(.corruptLog, "message at \(offset) does not decode: \(error)")
        }
    }

    /// The decoded message of `size` bytes starting at `offset`, when both are already known (a
    /// consume-queue unit or timer-log entry gave them): no record scan, just the decode, which
    /// verifies the body checksum and so rejects a position that holds something else.
    public func message(at offset: CommitLogOffset, size: Int32) throws(StoreError) -> StoredMessage {
        if offset.rawValue < commitLog.minimumOffset {
            throw StoreError(.offsetTooSmall, "offset \(offset) is below the oldest kept offset \(commitLog.minimumOffset)")
        }
        guard size > 0, offset.rawValue + Int64(size) <= commitLog.committedOffset,
              let slice = commitLog.slice(at: offset.rawValue, count: Int(size)) else {
            throw StoreError(.offsetOverflow, "no \(size)-byte record at \(offset) below the end of the log \(commitLog.committedOffset)")
        }
        let message: StoredMessage
        do { message = try slice.decode() } catch {
            throw StoreError(.corruptLog, "message at \(offset) does not decode: \(error)")
        }
        guard message.commitLogOffset == offset else {
            throw StoreError(.corruptLog, "the record at \(offset) says it is at \(message.commitLogOffset)")
        }
        return message
    }

    /// Messages of `topic` whose `KEYS` contain `key` or whose `UNIQ_KEY` equals it, stored within
    /// `[begin, end]` (milliseconds), newest first, at most `limit`. Index hash collisions are
    /// filtered out by checking each candidate message.
    public func queryMessages(topic: String, key: String, begin: Int64, end: Int64, limit: Int) -> [StoredMessage] {
        guard let index, limit > 0 else { return [] }
        var found: [StoredMessage] = []
        for offset in index.query(key: topic + "#" + key, begin: begin, end: end, limit: limit * 4) {
            guard let message = try? message(at: offset), message.message.topic == topic,
                  message.message.keys.contains(key) || message.message.uniqueKey == key else { continue }
            found.append(message)
            if found.count == limit { break }
        }
        return found
    }

    /// Oldest readable queue offset of a queue (0 when it does not exist).
    public func minimumOffset(topic: String, queueId: Int32) -> QueueOffset {
        QueueOffset(queues.queue(QueueKey(topic: topic, queueId: queueId))?.minimumOffset ?? 0)
    }

    /// Next queue offset to be written (the number of messages ever dispatched to the queue).
    public func maximumOffset(topic: String, queueId: Int32) -> QueueOffset {
        QueueOffset(queues.queue(QueueKey(topic: topic, queueId: queueId))?.maximumOffset ?? 0)
    }

    /// Queue ids of a topic that hold or held messages.
    public func queueIds(topic: String) -> [Int32] { queues.queueIds(topic: topic) }

    /// The store timestamp of the message at a queue offset, nil when it is gone or not there.
    public func storeTimestamp(topic: String, queueId: Int32, offset: QueueOffset) -> Int64? {
        guard let queue = queues.queue(QueueKey(topic: topic, queueId: queueId)),
              let unit = queue.unit(at: offset.rawValue),
              let slice = commitLog.slice(at: unit.commitLogOffset, count: Int(unit.size)) else { return nil }
        return slice.withUnsafeBytes { try? StoredMessageCodec.storeTimestamp(ofRecord: $0) }
    }

    /// Store time of the oldest kept message of a queue.
    public func earliestStoreTime(topic: String, queueId: Int32) -> Int64? {
        storeTimestamp(topic: topic, queueId: queueId, offset: minimumOffset(topic: topic, queueId: queueId))
    }

    /// The first queue offset whose message was stored at or after `timestamp` (binary search on
    /// store timestamps); the maximum offset when every message is older.
    public func offset(forTimestamp timestamp: Int64, topic: String, queueId: Int32) -> QueueOffset {
        var low = minimumOffset(topic: topic, queueId: queueId).rawValue
        var high = maximumOffset(topic: topic, queueId: queueId).rawValue
        while low < high {
            let middle = low + (high - low) / 2
            let stored = storeTimestamp(topic: topic, queueId: queueId, offset: QueueOffset(middle)) ?? Int64.min
            if stored < timestamp { low = middle + 1 } else { high = middle }
        }
        return QueueOffset(low)
    }
}
