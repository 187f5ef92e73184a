/// A topic's permission bits (Java `PermName`, spec §6.1): a normal topic is `[.read, .write]` = 6.
public struct Permission: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The bits as they travel in `perm` fields.
    public var rawValue: Int32

    /// Permission from raw bits; unknown bits are kept so they survive a round trip.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 8: the broker prefers this topic (unused by clients).
    public static let priority = Permission(rawValue: 8)
    /// 4: consumers may read.
    public static let read = Permission(rawValue: 4)
    /// 2: producers may write.
    public static let write = Permission(rawValue: 2)
    /// 1: topics auto-created from this one (the `TBW102` template) inherit its settings.
    public static let inherit = Permission(rawValue: 1)
    /// 6: what every ordinary topic has.
    public static let readWrite: Permission = [.read, .write]

    /// True when consumers may read.
    public var isReadable: Bool { contains(.read) }
    /// True when producers may write.
    public var isWritable: Bool { contains(.write) }
    /// True for an auto-create template.
    public var isInherited: Bool { contains(.inherit) }

    /// Java's `PermName.perm2String`: `RWX`-style flags, e.g. `RW-` for 6.
    public var description: String {
        (isReadable ? "R" : "-") + (isWritable ? "W" : "-") + (isInherited ? "X" : "-")
    }
}

/// Topic system flags (Java `TopicSysFlag`, spec §6.1): unit-mode markers that only some deployments use.
public enum TopicSysFlag {
    /// Bit 0: the topic belongs to a unit.
    public static let unit: Int32 = 1 << 0
    /// Bit 1: the topic has unit subscriptions.
    public static let unitSubscription: Int32 = 1 << 1

    /// True when the unit bit is set.
    public static func hasUnit(_ flag: Int32) -> Bool { flag & unit != 0 }
    /// True when the unit-subscription bit is set.
    public static func hasUnitSubscription(_ flag: Int32) -> Bool { flag & unitSubscription != 0 }
}

/// How a topic's messages are tagged (Java `TopicFilterType`). Only `SINGLE_TAG` is used in practice.
public enum TopicFilterType: Int32, JSONEnumeration {
    /// One tag per message (the default).
    case singleTag = 0
    /// Several tags per message (never implemented by RocketMQ's filters).
    case multiTag = 1

    /// `SINGLE_TAG` / `MULTI_TAG`.
    public var javaName: String {
        switch self {
        case .singleTag: "SINGLE_TAG"
        case .multiTag: "MULTI_TAG"
        }
    }
}

/// One topic's configuration as a broker keeps it and reports it to the name server (spec §6.4).
///
/// JSON (Java `TopicConfig`, fastjson member names):
/// `{"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":8}`.
/// Missing members take Java's defaults (16 queues each way, perm 6, `SINGLE_TAG`, flag 0, not ordered).
public struct TopicConfig: Hashable, Sendable, JSONConvertible {
    /// Java's default queue count for a `TopicConfig` built without one.
    public static let defaultQueueNums: Int32 = 16

    /// The topic.
    public var topicName: String
    /// Queues consumers read (`0..<readQueueNums`).
    public var readQueueNums: Int32
    /// Queues producers write (`0..<writeQueueNums`).
    public var writeQueueNums: Int32
    /// Read/write/inherit bits.
    public var perm: Permission
    /// Tag filter type.
    public var topicFilterType: TopicFilterType
    /// Unit flags (`TopicSysFlag`).
    public var topicSysFlag: Int32
    /// True for an ordered (FIFO per queue) topic.
    public var order: Bool
    /// RocketMQ 5's topic attributes (`"attributes":{"message.type":"NORMAL"}`): free-form
    /// settings older peers ignore. Petrel keeps its per-topic store compression here
    /// (`TopicCompressionSettings.Key`).
    public var attributes: [String: String] = [:]

    /// A topic configuration; defaults are Java's.
    public init(
        topicName: String, readQueueNums: Int32 = TopicConfig.defaultQueueNums,
        writeQueueNums: Int32 = TopicConfig.defaultQueueNums, perm: Permission = .readWrite,
        topicFilterType: TopicFilterType = .singleTag, topicSysFlag: Int32 = 0, order: Bool = false,
        attributes: [String: String] = [:]
    ) {
        self.topicName = topicName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicFilterType = topicFilterType
        self.topicSysFlag = topicSysFlag
        self.order = order
        self.attributes = attributes
    }

    /// Decodes a `TopicConfig` object; `topicName` is required.
    public init(json: JSONValue) throws(CoreError) {
        try self.init(json: json, fallbackName: nil)
    }

    /// Decodes a `TopicConfig` object, taking the name from `fallbackName` (the key of the
    /// `topicConfigTable` entry) when the object has none.
    public init(json: JSONValue, fallbackName: String?) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "TopicConfig")
        guard let name = try reader.string("topicName") ?? fallbackName else {
            throw CoreError(.invalidJSONField, "TopicConfig.topicName: missing")
        }
        self.init(
            topicName: name,
            readQueueNums: try reader.int32("readQueueNums") ?? Self.defaultQueueNums,
            writeQueueNums: try reader.int32("writeQueueNums") ?? Self.defaultQueueNums,
            perm: Permission(rawValue: try reader.int32("perm") ?? Permission.readWrite.rawValue),
            topicFilterType: try reader.enumeration("topicFilterType", as: TopicFilterType.self) ?? .singleTag,
            topicSysFlag: try reader.int32("topicSysFlag") ?? 0,
            order: try reader.bool("order") ?? false,
            attributes: try reader.stringMap("attributes") ?? [:])
    }

    /// The JSON object, every member present but `attributes`, which appears only when set (older
    /// readers of the JSON then see exactly what they always saw).
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "topicName": .string(topicName),
            "readQueueNums": .integer(readQueueNums),
            "writeQueueNums": .integer(writeQueueNums),
            "perm": .integer(perm.rawValue),
            "topicFilterType": topicFilterType.json,
            "topicSysFlag": .integer(topicSysFlag),
            "order": .bool(order),
        ]
        if !attributes.isEmpty { members["attributes"] = .object(attributes.mapValues { .string($0) }) }
        return .object(members)
    }

    /// Java `TopicConfig.encode()`, used inside compressed registrations (spec §6.4):
    /// `"<name> <read> <write> <perm> <filterType>"`.
    public var compactText: String {
        "\(topicName) \(readQueueNums) \(writeQueueNums) \(perm.rawValue) \(topicFilterType.javaName)"
    }

    /// Java `TopicConfig.decode(String)`: the five space-separated fields of `compactText`.
    /// Later Java versions append a sixth (attributes JSON), which is ignored.
    public init(compactText: String) throws(CoreError) {
        let fields = compactText.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 5, !fields[0].isEmpty,
            let read = Int32(fields[1]), let write = Int32(fields[2]), let perm = Int32(fields[3]),
            let filterType = TopicFilterType(json: .string(fields[4]))
        else {
            throw CoreError(.invalidJSONField, "compact topic config '\(compactText)' is not '<name> <read> <write> <perm> <filterType>'")
        }
        self.init(
            topicName: fields[0], readQueueNums: read, writeQueueNums: write, perm: Permission(rawValue: perm),
            topicFilterType: filterType)
    }
}
