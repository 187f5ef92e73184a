/// Distinct offset types, so a commit-log byte position can never be passed where a
/// consume-queue index is expected (the two are both `Int64` on the wire and on disk).

/// A byte position in the broker's commit log (RocketMQ's "physical offset").
public struct CommitLogOffset: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The byte position, counted from the start of the first segment ever written.
    public var rawValue: Int64

    /// Wraps a raw byte position.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Wraps a raw byte position.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// The very first byte of the log.
    public static let zero = CommitLogOffset(0)

    /// Orders offsets by position.
    public static func < (lhs: CommitLogOffset, rhs: CommitLogOffset) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The offset `bytes` further along the log.
    public func advanced(by bytes: Int64) -> CommitLogOffset { CommitLogOffset(rawValue + bytes) }

    /// The number of bytes from `other` to `self`.
    public func distance(from other: CommitLogOffset) -> Int64 { rawValue - other.rawValue }

    /// The decimal position.
    public var description: String { String(rawValue) }
}

/// An index into one consume queue (topic + queue id): the n-th message of that queue.
public struct QueueOffset: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The message index within its queue.
    public var rawValue: Int64

    /// Wraps a raw queue index.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Wraps a raw queue index.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// The first message of a queue.
    public static let zero = QueueOffset(0)

    /// Orders offsets by index.
    public static func < (lhs: QueueOffset, rhs: QueueOffset) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The offset `count` messages further along the queue.
    public func advanced(by count: Int64) -> QueueOffset { QueueOffset(rawValue + count) }

    /// The decimal index.
    public var description: String { String(rawValue) }
}

/// Identifies one consume queue: a topic and a queue id within it.
public struct QueueKey: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The queue id within the topic.
    public var queueId: Int32

    /// Creates a queue key.
    public init(topic: String, queueId: Int32) {
        self.topic = topic
        self.queueId = queueId
    }

    /// `topic-queueId`, the form RocketMQ uses in logs and offset tables.
    public var description: String { "\(topic)-\(queueId)" }
}
