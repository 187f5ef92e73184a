/// One queue of a topic on one broker group: what producers send to and consumers pull from, what
/// lock bodies name, and what allocator plugins are given.
///
/// JSON (lock bodies, consumer running info): `{"brokerName":"broker-a","queueId":0,"topic":"T"}`.
/// Ordering is by topic, broker name, then queue id, as Java's `MessageQueue.compareTo`.
public struct MessageQueue: Hashable, Sendable, Comparable, CustomStringConvertible, JSONConvertible {
    /// The topic.
    public var topic: String
    /// The broker group hosting the queue.
    public var brokerName: String
    /// The queue's number within the topic on that broker group.
    public var queueId: Int32

    /// A queue.
    public init(topic: String, brokerName: String, queueId: Int32) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }

    /// Decodes `{"brokerName","queueId","topic"}`; all three are required.
    public init(json: JSONValue) throws(CoreError) {
        try self.init(json: json, defaultBrokerName: nil)
    }

    /// Decodes `{"brokerName","queueId","topic"}`. `topic` and `queueId` are required; so is
    /// `brokerName` unless `defaultBrokerName` is given (the broker reads lock bodies leniently).
    public init(json: JSONValue, defaultBrokerName: String?) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "MessageQueue")
        guard let queueId = try reader.int32("queueId") else {
            throw CoreError(.invalidJSONField, "MessageQueue.queueId is required")
        }
        let topic = try reader.requiredString("topic")
        let brokerName: String
        if let defaultBrokerName {
            brokerName = try reader.string("brokerName") ?? defaultBrokerName
        } else {
            brokerName = try reader.requiredString("brokerName")
        }
        self.init(topic: topic, brokerName: brokerName, queueId: queueId)
    }

    /// The JSON object.
    public var json: JSONValue {
        .object(["topic": .string(topic), "brokerName": .string(brokerName), "queueId": .integer(queueId)])
    }

    /// Topic, then broker name, then queue id.
    public static func < (lhs: MessageQueue, rhs: MessageQueue) -> Bool {
        if lhs.topic != rhs.topic { return lhs.topic < rhs.topic }
        if lhs.brokerName != rhs.brokerName { return lhs.brokerName < rhs.brokerName }
        return lhs.queueId < rhs.queueId
    }

    /// `topic@brokerName#queueId`.
    public var description: String { "\(topic)@\(brokerName)#\(queueId)" }
}
