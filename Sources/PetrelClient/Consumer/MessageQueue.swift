import PetrelCore

/// One queue of a topic on one broker: what consumers are assigned, pull from and commit offsets for.
///
/// JSON (the MQ object of LOCK_BATCH_MQ bodies, spec §4.2): `{"brokerName":S,"queueId":I,"topic":S}`.
/// Ordering is by topic, then broker name, then queue id, as Java's `MessageQueue.compareTo`, so every
/// client of a group sorts the queue list the same way before allocating.
public struct MessageQueue: Hashable, Sendable, Comparable, CustomStringConvertible, JSONConvertible {
    /// The topic.
    public var topic: String
    /// The broker holding the queue.
    public var brokerName: String
    /// The queue id within the topic on that broker.
    public var queueId: Int32

    /// A queue.
    public init(topic: String, brokerName: String, queueId: Int32) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }

    /// Decodes an MQ object; every field is required.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "MessageQueue")
        self.init(
            topic: try reader.requiredString("topic"), brokerName: try reader.requiredString("brokerName"),
            queueId: Int32(truncatingIfNeeded: try reader.int64("queueId") ?? 0))
    }

    /// The MQ object.
    public var json: JSONValue {
        .object(["topic": .string(topic), "brokerName": .string(brokerName), "queueId": .integer(queueId)])
    }

    /// Topic, then broker name, then queue id.
    public static func < (lhs: MessageQueue, rhs: MessageQueue) -> Bool {
        if lhs.topic != rhs.topic { return lhs.topic < rhs.topic }
        if lhs.brokerName != rhs.brokerName { return lhs.brokerName < rhs.brokerName }
        return lhs.queueId < rhs.queueId
    }

    /// `topic@brokerName#queueId`, for logs.
    public var description: String { "\(topic)@\(brokerName)#\(queueId)" }

    /// The readable queues of `topic` in `route`, sorted: what consumers allocate among themselves.
    /// Brokers without a master address are skipped, since nothing can be pulled from them.
    public static func readableQueues(of topic: String, in route: TopicRouteData) -> [MessageQueue] {
        let brokersWithMaster = Set(route.brokerDatas.filter { $0.masterAddress != nil }.map(\.brokerName))
        var queues: [MessageQueue] = []
        for queueData in route.queueDatas where brokersWithMaster.contains(queueData.brokerName) && queueData.perm.contains(.read) {
            for queueId in 0..<max(queueData.readQueueNums, 0) {
                queues.append(MessageQueue(topic: topic, brokerName: queueData.brokerName, queueId: queueId))
            }
        }
        return queues.sorted()
    }
}
