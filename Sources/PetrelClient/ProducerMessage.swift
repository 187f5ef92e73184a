import NIOCore
import PetrelCore

/// A message to send: topic, body, tag, keys, user properties, delay level and user flag.
///
/// The client adds the system properties (`UNIQ_KEY`, `WAIT`, `TAGS`, `KEYS`, `DELAY`) when sending;
/// user properties may not use their names (Java refuses them the same way).
public struct ProducerMessage: Sendable, Hashable {
    /// The target topic.
    public var topic: String
    /// The payload; never empty.
    public var body: ByteBuffer
    /// The tag consumers filter on (`TAGS`), nil for none.
    public var tags: String?
    /// Business keys (`KEYS`, space-joined), indexed by the broker for queries.
    public var keys: [String]
    /// The user flag, stored as-is.
    public var flag: Int32
    /// Delay level 1…18 (1 s … 2 h with the default levels), 0 for immediate delivery.
    public var delayLevel: Int32
    /// Whether the broker should answer only once the message is flushed as its flush mode says (`WAIT`).
    public var waitStoreMessageOK: Bool
    /// Application properties, sent sorted by name.
    public var userProperties: [String: String]

    /// A message; `body` must not be empty when sent.
    public init(
        topic: String, body: ByteBuffer, tags: String? = nil, keys: [String] = [], flag: Int32 = 0,
        delayLevel: Int32 = 0, waitStoreMessageOK: Bool = true, userProperties: [String: String] = [:]
    ) {
        self.topic = topic
        self.body = body
        self.tags = tags
        self.keys = keys
        self.flag = flag
        self.delayLevel = delayLevel
        self.waitStoreMessageOK = waitStoreMessageOK
        self.userProperties = userProperties
    }

    /// A message with a UTF-8 text body.
    public init(topic: String, body: String, tags: String? = nil, keys: [String] = [], userProperties: [String: String] = [:]) {
        self.init(topic: topic, body: ByteBuffer(string: body), tags: tags, keys: keys, userProperties: userProperties)
    }

    /// A message with a byte body.
    public init(topic: String, bytes: [UInt8], tags: String? = nil, keys: [String] = [], userProperties: [String: String] = [:]) {
        self.init(topic: topic, body: ByteBuffer(bytes: bytes), tags: tags, keys: keys, userProperties: userProperties)
    }

    /// The properties sent for this message with `uniqueKey` as its `UNIQ_KEY`: user properties
    /// first (sorted), then `TAGS`, `KEYS`, `DELAY`, `WAIT`, `UNIQ_KEY`.
    func wireProperties(uniqueKey: String) -> MessageProperties {
        var properties = MessageProperties()
        for name in userProperties.keys.sorted() { properties[name] = userProperties[name] }
        if let tags, !tags.isEmpty { properties[PropertyKey.tags] = tags }
        let joinedKeys = keys.filter { !$0.isEmpty }.joined(separator: " ")
        if !joinedKeys.isEmpty { properties[PropertyKey.keys] = joinedKeys }
        if delayLevel > 0 { properties[PropertyKey.delayLevel] = String(delayLevel) }
        properties[PropertyKey.waitStoreMessageOK] = waitStoreMessageOK ? "true" : "false"
        properties[PropertyKey.uniqueKey] = uniqueKey
        return properties
    }
}

/// The argument checks Java's `Validators` makes before a send, with messages that say what to fix.
enum MessageValidation {
    /// Longest topic name (Java `TOPIC_MAX_LENGTH`).
    static let maximumTopicLength = 127
    /// Longest group name (Java `CHARACTER_MAX_LENGTH`).
    static let maximumGroupLength = 255
    /// Property names the client or broker set; applications may not use them.
    static let reservedPropertyNames: Set<String> = [
        "TAGS", "KEYS", "UNIQ_KEY", "WAIT", "DELAY", "RETRY_TOPIC", "REAL_TOPIC", "REAL_QID", "TRAN_MSG", "PGROUP",
        "MIN_OFFSET", "MAX_OFFSET", "BUYER_ID", "ORIGIN_MESSAGE_ID", "TRANSFER_FLAG", "CORRECTION_FLAG", "MQ2_FLAG",
        "RECONSUME_TIME", "MSG_REGION", "TRACE_ON", "MAX_RECONSUME_TIMES", "CONSUME_START_TIME",
        "TRAN_PREPARED_QUEUE_OFFSET", "TRANSACTION_CHECK_TIMES", "INSTANCE_ID", "CORRELATION_ID",
        "REPLY_TO_CLIENT", "TTL", "ARRIVE_TIME", "PUSH_REPLY_TIME", "CLUSTER", "MSG_TYPE", "INNER_MULTI_DISPATCH",
        "INNER_MULTI_QUEUE_OFFSET",
    ]
    /// Topics applications may not send to (the broker's own).
    static let systemTopics: Set<String> = [
        "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC",
        "RMQ_SYS_TRACE_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT", "TBW102",
    ]

    /// True for names of `[%|a-zA-Z0-9_-]+` (Java `VALID_PATTERN_STR`).
    static func hasValidCharacters(_ name: String) -> Bool {
        name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "%"), UInt8(ascii: "|"), UInt8(ascii: "_"),
                UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    /// Checks a group name.
    static func checkGroup(_ group: String) throws(ClientError) {
        guard !group.isEmpty else { throw ClientError(.invalidConfiguration, "the producer group is empty") }
        guard group.utf8.count <= maximumGroupLength else {
            throw ClientError(.invalidConfiguration, "the group \(group) is longer than \(maximumGroupLength) characters")
        }
        guard hasValidCharacters(group) else {
            throw ClientError(.invalidConfiguration, "the group \(group) has characters other than letters, digits, %, |, _ and -")
        }
    }

    /// Checks a topic an application sends to.
    static func checkTopic(_ topic: String) throws(ClientError) {
        guard !topic.isEmpty else { throw ClientError(.invalidArgument, "the topic is empty") }
        guard topic.utf8.count <= maximumTopicLength else {
            throw ClientError(.invalidArgument, "the topic \(topic) is longer than \(maximumTopicLength) characters")
        }
        guard hasValidCharacters(topic) else {
            throw ClientError(.invalidArgument, "the topic \(topic) has characters other than letters, digits, %, |, _ and -")
        }
        guard !systemTopics.contains(topic), !topic.hasPrefix("rmq_sys_") else {
            throw ClientError(.invalidArgument, "the topic \(topic) is a system topic; applications cannot send to it")
        }
    }

    /// Checks a message before it is sent: topic, body size, properties.
    static func checkMessage(_ message: ProducerMessage, maximumSize: Int) throws(ClientError) {
        try checkTopic(message.topic)
        let size = message.body.readableBytes
        guard size > 0 else { throw ClientError(.invalidArgument, "the message body is empty") }
        guard size <= maximumSize else {
            throw ClientError(.invalidArgument, "the message body is \(size) bytes, more than the maximum of \(maximumSize)")
        }
        guard message.delayLevel >= 0 else {
            throw ClientError(.invalidArgument, "delayLevel \(message.delayLevel) is negative; use 0 for no delay")
        }
        for (name, value) in message.userProperties {
            guard !name.isEmpty, !value.isEmpty else {
                throw ClientError(.invalidArgument, "user property '\(name)' has an empty name or value")
            }
            guard !reservedPropertyNames.contains(name) else {
                throw ClientError(.invalidArgument, "the property name \(name) is used by the system; choose another")
            }
        }
        let texts = Array(message.userProperties.keys) + Array(message.userProperties.values) + message.keys + [message.tags ?? ""]
        for text in texts where text.utf8.contains(where: { $0 == 1 || $0 == 2 }) {
            throw ClientError(.invalidArgument, "a tag, key or property contains the control character 0x01 or 0x02, which separate properties on the wire")
        }
    }
}
