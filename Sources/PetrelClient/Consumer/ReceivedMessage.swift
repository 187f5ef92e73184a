import NIOCore
import PetrelCore

/// A message as a consumer receives it (Java's `MessageExt`): the producer's message plus where and
/// when the broker stored it.
///
/// For a redelivered message the topic is the original one (restored from `RETRY_TOPIC`), as Java
/// and C++ consumers present it; `isRetry` tells it came through the group's retry topic.
public struct ReceivedMessage: Hashable, Sendable {
    /// The stored record, with the topic restored for retries and the body inflated if it was compressed.
    public var stored: StoredMessage
    /// The broker the message was pulled from.
    public var brokerName: String
    /// The topic the message was pulled from (`%RETRY%group` for a redelivery).
    public var pulledTopic: String
    /// Set when the body arrived compressed and could not be decompressed (see `BodyDecompressor`):
    /// such a message is never handed to the application; the body is still the compressed one.
    var undecodableReason: String?

    /// A received message.
    public init(stored: StoredMessage, brokerName: String, pulledTopic: String) {
        self.stored = stored
        self.brokerName = brokerName
        self.pulledTopic = pulledTopic
    }

    /// The topic as the producer sent it.
    public var topic: String { stored.message.topic }
    /// The single tag, if any.
    public var tags: String? { stored.message.tags }
    /// The business keys.
    public var keys: [String] { stored.message.keys }
    /// The payload (inflated).
    public var body: ByteBuffer { stored.message.body }
    /// Every property, user and system.
    public var properties: MessageProperties { stored.message.properties }
    /// The user flag.
    public var flag: Int32 { stored.message.flag }
    /// The queue id the message was pulled from.
    public var queueId: Int32 { stored.queueId }
    /// The message's index in the queue it was pulled from.
    public var queueOffset: Int64 { stored.queueOffset.rawValue }
    /// Byte position of the record in the broker's commit log (what CONSUMER_SEND_MSG_BACK names).
    public var commitLogOffset: Int64 { stored.commitLogOffset.rawValue }
    /// When the producer created it, ms since the epoch.
    public var bornTimestamp: Int64 { stored.bornTimestamp }
    /// The producer's address.
    public var bornHost: MessageHost { stored.bornHost }
    /// When the broker stored it, ms since the epoch.
    public var storeTimestamp: Int64 { stored.storeTimestamp }
    /// The storing broker's address: where a send-back goes.
    public var storeHost: MessageHost { stored.storeHost }
    /// How many times it was redelivered after a failed consumption.
    public var reconsumeTimes: Int32 { stored.reconsumeTimes }
    /// The broker's offset message id (store host + commit-log offset).
    public var offsetMessageId: String { stored.offsetMessageId }

    /// The message id applications see: the producer's `UNIQ_KEY` when present, else the offset id
    /// (spec §12), as Java's `MessageClientExt.getMsgId` and C++'s `GetMessageId`.
    public var messageId: String { stored.message.uniqueKey ?? offsetMessageId }

    /// True when the message was delivered through the group's retry topic.
    public var isRetry: Bool { pulledTopic.hasPrefix(RetryTopics.retryPrefix) }

    /// The queue the message was pulled from.
    public var messageQueue: MessageQueue {
        MessageQueue(topic: pulledTopic, brokerName: brokerName, queueId: stored.queueId)
    }
}

/// Names of the per-group retry and dead-letter topics (spec §14).
public enum RetryTopics {
    /// Prefix of a group's retry topic.
    public static let retryPrefix = "%RETRY%"
    /// Prefix of a group's dead-letter topic.
    public static let deadLetterPrefix = "%DLQ%"

    /// `%RETRY%<group>`.
    public static func retryTopic(group: String) -> String { retryPrefix + group }

    /// `%DLQ%<group>`.
    public static func deadLetterTopic(group: String) -> String { deadLetterPrefix + group }
}
