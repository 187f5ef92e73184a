import NIOCore

/// A message as a producer sends it: topic, user flag, properties and body.
public struct Message: Hashable, Sendable {
    /// Topic name, at most 127 UTF-8 bytes (the v1 stored layout has a one-byte topic length).
    public var topic: String
    /// User flag, stored verbatim.
    public var flag: Int32
    /// User and system properties (tags, keys, unique id …).
    public var properties: MessageProperties
    /// The payload.
    public var body: ByteBuffer

    /// Creates a message.
    public init(topic: String, flag: Int32 = 0, properties: MessageProperties = MessageProperties(), body: ByteBuffer) {
        self.topic = topic
        self.flag = flag
        self.properties = properties
        self.body = body
    }

    /// The single tag (`TAGS`), if any.
    public var tags: String? { properties[PropertyKey.tags] }

    /// The business keys: `KEYS` split on spaces, empty words dropped.
    public var keys: [String] {
        (properties[PropertyKey.keys] ?? "").split(separator: " ").map(String.init)
    }

    /// The producer's unique id (`UNIQ_KEY`), if any.
    public var uniqueKey: String? { properties[PropertyKey.uniqueKey] }
}

/// A message in its stored form: the producer's message plus everything the broker records
/// (spec §10.1). This is what the commit log holds and what pull responses carry.
public struct StoredMessage: Hashable, Sendable {
    /// Topic, flag, properties and body.
    public var message: Message
    /// Queue id within the topic.
    public var queueId: Int32
    /// Index of this message in its consume queue.
    public var queueOffset: QueueOffset
    /// Byte position of this record in the commit log.
    public var commitLogOffset: CommitLogOffset
    /// System flags (compression, transaction state …).
    public var sysFlag: MessageSysFlag
    /// When the producer created the message, milliseconds since the epoch.
    public var bornTimestamp: Int64
    /// The producer's address.
    public var bornHost: MessageHost
    /// When the broker stored the message, milliseconds since the epoch.
    public var storeTimestamp: Int64
    /// The broker's advertised address.
    public var storeHost: MessageHost
    /// How many times the message has been redelivered for retry.
    public var reconsumeTimes: Int32
    /// For a committed transactional message: the commit-log offset of its half message; else 0.
    public var preparedTransactionOffset: Int64
    /// BODYCRC as stored (CRC-32 of the body with the sign bit cleared).
    public var bodyCRC: Int32

    /// Creates a stored message; `bodyCRC` defaults to the checksum of the body.
    public init(
        message: Message,
        queueId: Int32 = 0,
        queueOffset: QueueOffset = .zero,
        commitLogOffset: CommitLogOffset = .zero,
        sysFlag: MessageSysFlag = [],
        bornTimestamp: Int64 = 0,
        bornHost: MessageHost = .unspecified,
        storeTimestamp: Int64 = 0,
        storeHost: MessageHost = .unspecified,
        reconsumeTimes: Int32 = 0,
        preparedTransactionOffset: Int64 = 0,
        bodyCRC: Int32? = nil
    ) {
        self.message = message
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.commitLogOffset = commitLogOffset
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.bornHost = bornHost
        self.storeTimestamp = storeTimestamp
        self.storeHost = storeHost
        self.reconsumeTimes = reconsumeTimes
        self.preparedTransactionOffset = preparedTransactionOffset
        self.bodyCRC = bodyCRC ?? message.body.withUnsafeReadableBytes { CRC32.bodyChecksum($0) }
    }

    /// The offset message id: store host + commit-log offset as 32 upper-case hex characters.
    public var offsetMessageId: String {
        MessageId.offsetId(storeHost: storeHost, commitLogOffset: commitLogOffset)
    }
}
