import PetrelCore

/// The outcome of an append (RocketMQ's `PutMessageStatus`, less the replication cases).
public enum PutStatus: Hashable, Sendable {
    /// Stored (and, under `SYNC_FLUSH`, durable).
    case ok
    /// Stored, but not durable within `syncFlushTimeout`; the producer should treat it as unsure.
    case flushDiskTimeout
    /// Refused: disk usage is above `diskFullRatio`.
    case diskFull
    /// Refused: a flush failed earlier, the store accepts no more writes. The text says why.
    case flushFailed(String)
    /// Refused: the message is malformed or too large. The text says why.
    case messageIllegal(String)
    /// Refused: the store is closing or closed.
    case serviceNotAvailable
    /// Refused: a file could not be created or written. The text says why.
    case ioFailure(String)
}

/// What `put` returns.
public struct PutResult: Sendable {
    /// The outcome.
    public var status: PutStatus
    /// Where the records went; nil when nothing was written.
    public var appended: AppendedRecords?

    /// Creates a result.
    public init(status: PutStatus, appended: AppendedRecords? = nil) {
        self.status = status
        self.appended = appended
    }
}

/// The outcome of a queue read (RocketMQ's `GetMessageStatus`).
public enum GetStatus: String, Hashable, Sendable {
    /// At least one message matched.
    case found
    /// Messages were read but none matched the filter.
    case noMatchedMessage
    /// The queue has no messages at all.
    case noMessageInQueue
    /// The offset is below the oldest message kept.
    case offsetTooSmall
    /// The offset equals the next offset to be written: nothing new yet.
    case offsetOverflowOne
    /// The offset is beyond the next offset to be written.
    case offsetOverflowBadly
    /// No such queue.
    case noMatchedLogicQueue
    /// Units exist but their records are gone (removed by retention meanwhile).
    case offsetFoundNull
}

/// What a queue read returns: record slices ready to send plus the offsets a pull response needs.
public struct GetResult: Sendable {
    /// The outcome.
    public var status: GetStatus
    /// Matching records, in queue order.
    public var records: [StoredRecordSlice]
    /// Queue offset of each record.
    public var queueOffsets: [QueueOffset]
    /// Where the next read should start.
    public var nextBeginOffset: QueueOffset
    /// Oldest queue offset kept.
    public var minimumOffset: QueueOffset
    /// Next queue offset to be written.
    public var maximumOffset: QueueOffset

    /// Total bytes of the records.
    public var totalBytes: Int { records.reduce(0) { $0 + $1.count } }
}

/// Which messages a read returns: all, or those whose tag is one of a set. The consume queue's
/// tag hash filters first; the exact tag is then checked against the record, so two tags with the
/// same hash are told apart.
public struct TagFilter: Hashable, Sendable {
    /// Accepted tags; nil accepts everything (`*`).
    public var tags: Set<String>?

    /// Accepts every message.
    public static let all = TagFilter(tags: nil)

    /// Accepts messages with one of `tags`.
    public init(tags: Set<String>?) { self.tags = tags }

    /// Parses a subscription expression: `*`, empty, or `TagA || TagB`.
    public init(expression: String) {
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "*" {
            tags = nil
            return
        }
        tags = Set(trimmed.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// Hashes of the accepted tags.
    var tagCodes: Set<Int64>? { tags.map { Set($0.map { Int64(TagHash.javaStringHashCode($0)) }) } }
}

extension String {
    /// The string without leading and trailing characters in `set`.
    fileprivate func trimmingCharacters(in set: CharacterSetLite) -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}

extension Substring {
    /// The substring without leading and trailing characters in `set`.
    fileprivate func trimmingCharacters(in set: CharacterSetLite) -> String { String(self).trimmingCharacters(in: set) }
}

/// A tiny character set, so this file needs no Foundation.
private struct CharacterSetLite {
    /// Spaces and tabs.
    static let whitespaces = CharacterSetLite()
    /// Whether `character` is white space.
    func contains(_ character: Character) -> Bool { character == " " || character == "\t" }
}
