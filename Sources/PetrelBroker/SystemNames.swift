import PetrelCore

/// RocketMQ's reserved topic and group names and the naming rules for topics (Java's
/// `TopicValidator` and `MixAll`, spec §8.3, §14, §21).
public enum SystemNames {
    /// The auto-create template topic.
    public static let autoCreateTemplateTopic = "TBW102"
    /// Delayed messages wait here.
    public static let scheduleTopic = "SCHEDULE_TOPIC_XXXX"
    /// Timer messages (RocketMQ 5 arbitrary-time delivery) wait here, in queue 0.
    public static let timerTopic = "rmq_sys_wheel_timer"
    /// Transactional half messages.
    public static let transactionHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    /// Transaction op records.
    public static let transactionOperationTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
    /// Half messages checked too often.
    public static let transactionCheckMaximumTopic = "TRANS_CHECK_MAX_TIME_TOPIC"
    /// Message traces.
    public static let traceTopic = "RMQ_SYS_TRACE_TOPIC"
    /// The broker's self test.
    public static let selfTestTopic = "SELF_TEST_TOPIC"
    /// Offset-moved events.
    public static let offsetMovedEventTopic = "OFFSET_MOVED_EVENT"
    /// The benchmark tool's topic.
    public static let benchmarkTopic = "BenchmarkTest"
    /// Prefix of retry topics: `%RETRY%<group>`.
    public static let retryPrefix = "%RETRY%"
    /// Prefix of dead-letter topics: `%DLQ%<group>`.
    public static let deadLetterPrefix = "%DLQ%"
    /// Prefix Java reserves for system topics.
    public static let systemTopicPrefix = "rmq_sys_"
    /// Longest topic name: the stored layout has a one-byte topic length (spec §10.1).
    public static let maximumTopicLength = 127

    /// Topics producers may never send to directly (Java `NOT_ALLOWED_SEND_TOPIC_SET`).
    public static let sendForbiddenTopics: Set<String> = [
        scheduleTopic, timerTopic, transactionHalfTopic, transactionOperationTopic, transactionCheckMaximumTopic,
    ]

    /// Groups the broker creates at start, as Java's `SubscriptionGroupManager` does.
    public static let systemGroups = [
        "TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONS-HTTP-PROXY", "CID_ONSAPI_PULL",
        "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER", "CID_RMQ_SYS_TRANS",
    ]

    /// `%RETRY%<group>`.
    public static func retryTopic(group: String) -> String { retryPrefix + group }

    /// `%DLQ%<group>`.
    public static func deadLetterTopic(group: String) -> String { deadLetterPrefix + group }

    /// The group of a retry topic, nil for other topics.
    public static func group(ofRetryTopic topic: String) -> String? {
        guard topic.hasPrefix(retryPrefix) else { return nil }
        return String(topic.dropFirst(retryPrefix.count))
    }

    /// `<cluster>_REPLY_TOPIC`, the request-reply topic of a cluster.
    public static func replyTopic(cluster: String) -> String { cluster + "_REPLY_TOPIC" }

    /// Why `topic` is not a valid topic name, or nil when it is: non-empty, at most 127 bytes,
    /// only `A-Z a-z 0-9 % _ | -`, and not the auto-create template's name.
    public static func topicNameProblem(_ topic: String) -> String? {
        if topic.isEmpty { return "the topic name is empty" }
        if topic.utf8.count > maximumTopicLength {
            return "the topic name is longer than \(maximumTopicLength) bytes"
        }
        let allowed = topic.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "%"), UInt8(ascii: "_"), UInt8(ascii: "|"),
                UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if !allowed { return "the topic[\(topic)] contains characters other than A-Z a-z 0-9 % _ | -" }
        if topic == autoCreateTemplateTopic { return "the topic[\(topic)] is conflict with the auto-create template topic" }
        return nil
    }
}
