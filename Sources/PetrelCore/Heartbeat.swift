/// Pull (`CONSUME_ACTIVELY`) or push (`CONSUME_PASSIVELY`) consumption (spec §7).
public enum ConsumeType: Int32, JSONEnumeration {
    /// A pull consumer: the application asks for messages.
    case consumeActively = 0
    /// A push consumer: the client library long-polls and calls the application back.
    case consumePassively = 1

    /// The Java constant name.
    public var javaName: String {
        switch self {
        case .consumeActively: "CONSUME_ACTIVELY"
        case .consumePassively: "CONSUME_PASSIVELY"
        }
    }
}

/// Whether each message goes to every consumer of a group or to one of them (spec §7).
public enum MessageModel: Int32, JSONEnumeration {
    /// Every consumer of the group gets every message.
    case broadcasting = 0
    /// The group's consumers share the queues.
    case clustering = 1

    /// The Java constant name.
    public var javaName: String {
        switch self {
        case .broadcasting: "BROADCASTING"
        case .clustering: "CLUSTERING"
        }
    }
}

/// Where a consumer group with no stored offset starts (spec §7).
public enum ConsumeFromWhere: Int32, JSONEnumeration {
    /// From the end of each queue (Java's default).
    case consumeFromLastOffset = 0
    /// Deprecated in Java; treated as `consumeFromLastOffset`.
    case consumeFromLastOffsetAndFromMinWhenBootFirst = 1
    /// Deprecated in Java; from the start of each queue.
    case consumeFromMinOffset = 2
    /// Deprecated in Java; from the end of each queue.
    case consumeFromMaxOffset = 3
    /// From the oldest message kept.
    case consumeFromFirstOffset = 4
    /// From the first message stored at or after the consumer's timestamp.
    case consumeFromTimestamp = 5

    /// The Java constant name.
    public var javaName: String {
        switch self {
        case .consumeFromLastOffset: "CONSUME_FROM_LAST_OFFSET"
        case .consumeFromLastOffsetAndFromMinWhenBootFirst: "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST"
        case .consumeFromMinOffset: "CONSUME_FROM_MIN_OFFSET"
        case .consumeFromMaxOffset: "CONSUME_FROM_MAX_OFFSET"
        case .consumeFromFirstOffset: "CONSUME_FROM_FIRST_OFFSET"
        case .consumeFromTimestamp: "CONSUME_FROM_TIMESTAMP"
        }
    }
}

/// One producer group a client belongs to. JSON: `{"groupName":"PG"}`.
public struct ProducerData: Hashable, Sendable, JSONConvertible {
    /// The producer group.
    public var groupName: String

    /// Producer data.
    public init(groupName: String) {
        self.groupName = groupName
    }

    /// Decodes a `ProducerData` object; `groupName` is required.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "ProducerData")
        self.init(groupName: try reader.requiredString("groupName"))
    }

    /// The JSON object.
    public var json: JSONValue { .object(["groupName": .string(groupName)]) }
}

/// One consumer group a client belongs to, and what it subscribes to (spec §7).
///
/// JSON as Java writes it (enums by name):
/// `{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"CG",
/// "messageModel":"CLUSTERING","subscriptionDataSet":[SubscriptionData…],"unitMode":false}`.
/// C++ writes the enums as ordinals and omits `unitMode`; both are read. Missing enums take the
/// push-consumer defaults (passive, clustering, last offset).
public struct ConsumerData: Hashable, Sendable, JSONConvertible {
    /// The consumer group.
    public var groupName: String
    /// Pull or push.
    public var consumeType: ConsumeType
    /// Broadcasting or clustering.
    public var messageModel: MessageModel
    /// Where a new group starts.
    public var consumeFromWhere: ConsumeFromWhere
    /// One entry per subscribed topic (including the group's `%RETRY%` topic).
    public var subscriptionDataSet: [SubscriptionData]
    /// Unit mode (unit deployments only).
    public var unitMode: Bool

    /// Consumer data.
    public init(
        groupName: String, consumeType: ConsumeType = .consumePassively, messageModel: MessageModel = .clustering,
        consumeFromWhere: ConsumeFromWhere = .consumeFromLastOffset, subscriptionDataSet: [SubscriptionData] = [],
        unitMode: Bool = false
    ) {
        self.groupName = groupName
        self.consumeType = consumeType
        self.messageModel = messageModel
        self.consumeFromWhere = consumeFromWhere
        self.subscriptionDataSet = subscriptionDataSet
        self.unitMode = unitMode
    }

    /// Decodes a `ConsumerData` object; `groupName` is required.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "ConsumerData")
        self.init(
            groupName: try reader.requiredString("groupName"),
            consumeType: try reader.enumeration("consumeType", as: ConsumeType.self) ?? .consumePassively,
            messageModel: try reader.enumeration("messageModel", as: MessageModel.self) ?? .clustering,
            consumeFromWhere: try reader.enumeration("consumeFromWhere", as: ConsumeFromWhere.self) ?? .consumeFromLastOffset,
            subscriptionDataSet: try reader.decodeArray("subscriptionDataSet", of: SubscriptionData.self) ?? [],
            unitMode: try reader.bool("unitMode") ?? false)
    }

    /// The JSON object, enums by Java name.
    public var json: JSONValue {
        .object([
            "groupName": .string(groupName),
            "consumeType": consumeType.json,
            "messageModel": messageModel.json,
            "consumeFromWhere": consumeFromWhere.json,
            "subscriptionDataSet": .array(subscriptionDataSet.map(\.json)),
            "unitMode": .bool(unitMode),
        ])
    }
}

/// The body of a HEART_BEAT (34) request: who the client is and which groups it belongs to (spec §7).
///
/// JSON: `{"clientID":"…","consumerDataSet":[ConsumerData…],"producerDataSet":[ProducerData…]}`.
/// C++ omits an empty set's key entirely and ends the body with `\n`; both are tolerated.
public struct HeartbeatData: Hashable, Sendable, JSONConvertible {
    /// The client instance, e.g. `24723-127.0.0.1@DEFAULT` (C++) or `10.0.0.7@12345#…` (Java).
    public var clientID: String
    /// Producer groups.
    public var producerDataSet: [ProducerData]
    /// Consumer groups.
    public var consumerDataSet: [ConsumerData]

    /// Heartbeat data.
    public init(clientID: String, producerDataSet: [ProducerData] = [], consumerDataSet: [ConsumerData] = []) {
        self.clientID = clientID
        self.producerDataSet = producerDataSet
        self.consumerDataSet = consumerDataSet
    }

    /// Decodes a `HeartbeatData` object; `clientID` is required.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "HeartbeatData")
        self.init(
            clientID: try reader.requiredString("clientID"),
            producerDataSet: try reader.decodeArray("producerDataSet", of: ProducerData.self) ?? [],
            consumerDataSet: try reader.decodeArray("consumerDataSet", of: ConsumerData.self) ?? [])
    }

    /// The JSON object; both sets are always present, as Java writes them.
    public var json: JSONValue {
        .object([
            "clientID": .string(clientID),
            "producerDataSet": .array(producerDataSet.map(\.json)),
            "consumerDataSet": .array(consumerDataSet.map(\.json)),
        ])
    }
}
