/// A message's user and system properties, and their wire form:
/// `name 0x01 value 0x02 name 0x01 value …` in UTF-8 (spec §11).
///
/// Order is kept (a linear list, not a dictionary) so encoding is deterministic and matches what
/// the producer sent; lookups are linear, which is faster than hashing for the handful of entries
/// a message carries.
public struct MessageProperties: Hashable, Sendable, Sequence {
    /// The entries in insertion order; keys are unique.
    public private(set) var entries: [(key: String, value: String)]

    /// An empty property set.
    public init() { entries = [] }

    /// Properties from key/value pairs; a later duplicate key replaces the earlier value.
    public init(_ pairs: [(String, String)]) {
        entries = []
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`, or nil. Setting nil removes the entry.
    public subscript(key: String) -> String? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            let index = entries.firstIndex(where: { $0.key == key })
            switch (index, newValue) {
            case let (index?, value?): entries[index].value = value
            case let (index?, nil): entries.remove(at: index)
            case let (nil, value?): entries.append((key, value))
            case (nil, nil): break
            }
        }
    }

    /// True when there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// Iterates entries in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { entries.makeIterator() }

    /// Equality by entries in order.
    public static func == (lhs: MessageProperties, rhs: MessageProperties) -> Bool {
        lhs.entries.elementsEqual(rhs.entries, by: { $0.key == $1.key && $0.value == $1.value })
    }

    /// Hashes the entries in order.
    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    /// The encoded form, without a trailing 0x02 (as Java writes it).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 2 })
        for (index, entry) in entries.enumerated() {
            if index > 0 { bytes.append(Self.entrySeparator) }
            bytes.append(contentsOf: entry.key.utf8)
            bytes.append(Self.nameValueSeparator)
            bytes.append(contentsOf: entry.value.utf8)
        }
        return bytes
    }

    /// Decodes the wire form. Tolerates a trailing 0x02 (the C++ client writes one), skips empty
    /// segments, and drops entries whose key or value is empty, as Java does.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> MessageProperties {
        var properties = MessageProperties()
        var segmentStart = 0
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == entrySeparator {
                addSegment(bytes, from: segmentStart, to: index, into: &properties)
                segmentStart = index + 1
            }
            index += 1
        }
        return properties
    }

    /// Decodes the wire form from a byte array.
    public static func decode(_ bytes: [UInt8]) -> MessageProperties {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Adds one `name 0x01 value` segment when it is well formed.
    private static func addSegment(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into properties: inout MessageProperties
    ) {
        guard end > start else { return }
        let segment = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        guard let split = segment.firstIndex(of: nameValueSeparator), split > 0, split < segment.count - 1 else {
            return
        }
        let key = String(decoding: UnsafeRawBufferPointer(rebasing: segment[0..<split]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: segment[(split + 1)...]), as: UTF8.self)
        properties[key] = value
    }

    /// Separates a name from its value.
    public static let nameValueSeparator: UInt8 = 0x01
    /// Separates one entry from the next.
    public static let entrySeparator: UInt8 = 0x02
}

/// Names of the properties Petrel reads or writes (spec §11).
public enum PropertyKey {
    /// Single tag, the unit of broker-side filtering.
    public static let tags = "TAGS"
    /// Space-separated business keys, each indexed.
    public static let keys = "KEYS"
    /// The producer's unique message id.
    public static let uniqueKey = "UNIQ_KEY"
    /// Whether the producer waits for the store flush; not persisted.
    public static let waitStoreMessageOK = "WAIT"
    /// Delay level 1…18.
    public static let delayLevel = "DELAY"
    /// Original topic of a retried message.
    public static let retryTopic = "RETRY_TOPIC"
    /// Original topic while parked in the schedule or half topic.
    public static let realTopic = "REAL_TOPIC"
    /// Original queue id while parked.
    public static let realQueueId = "REAL_QID"
    /// `true` on a transactional half message.
    public static let transactionPrepared = "TRAN_MSG"
    /// Producer group, for transaction check-back routing.
    public static let producerGroup = "PGROUP"
    /// Cluster name, added by the broker on store.
    public static let cluster = "CLUSTER"
    /// Id of the first delivery of a retried message.
    public static let originMessageId = "ORIGIN_MESSAGE_ID"
    /// Petrel: id of the compression dictionary a stored body was compressed with.
    public static let compressionDictionary = "PETREL_ZDICT"
    /// RocketMQ 5 timer message: deliver at this absolute time, ms since the epoch.
    public static let timerDeliverMilliseconds = "TIMER_DELIVER_MS"
    /// RocketMQ 5 timer message: deliver this many seconds after the broker receives it.
    public static let timerDelaySeconds = "TIMER_DELAY_SEC"
    /// RocketMQ 5 timer message: deliver this many milliseconds after the broker receives it.
    public static let timerDelayMilliseconds = "TIMER_DELAY_MS"
    /// Aliyun ONS spelling of an absolute deliver time, ms since the epoch.
    public static let startDeliverTime = "__STARTDELIVERTIME"
    /// The deliver time the broker settled on for a timer message, ms since the epoch.
    public static let timerOutMilliseconds = "TIMER_OUT_MS"
}
