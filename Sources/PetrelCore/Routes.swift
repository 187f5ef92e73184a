/// One broker group's share of a topic: how many queues it hosts and with which permissions (spec §6.1).
///
/// JSON: `{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}`.
/// Java ≤ 4.8 spelt the flag `topicSynFlag`; both spellings are read, the new one is written.
public struct QueueData: Hashable, Sendable, JSONConvertible {
    /// The broker group hosting the queues.
    public var brokerName: String
    /// Readable queues, `0..<readQueueNums`.
    public var readQueueNums: Int32
    /// Writable queues, `0..<writeQueueNums`.
    public var writeQueueNums: Int32
    /// Permission bits of the topic on this broker.
    public var perm: Permission
    /// Unit flags (`TopicSysFlag`).
    public var topicSysFlag: Int32

    /// Queue data.
    public init(brokerName: String, readQueueNums: Int32, writeQueueNums: Int32, perm: Permission, topicSysFlag: Int32 = 0) {
        self.brokerName = brokerName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicSysFlag = topicSysFlag
    }

    /// The queue data a broker group's topic configuration implies.
    public init(brokerName: String, topicConfig: TopicConfig) {
        self.init(
            brokerName: brokerName, readQueueNums: topicConfig.readQueueNums, writeQueueNums: topicConfig.writeQueueNums,
            perm: topicConfig.perm, topicSysFlag: topicConfig.topicSysFlag)
    }

    /// Decodes a `QueueData` object; `brokerName` is required, counts default to 0.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "QueueData")
        let legacyFlag = try reader.int32("topicSynFlag")
        self.init(
            brokerName: try reader.requiredString("brokerName"),
            readQueueNums: try reader.int32("readQueueNums") ?? 0,
            writeQueueNums: try reader.int32("writeQueueNums") ?? 0,
            perm: Permission(rawValue: try reader.int32("perm") ?? 0),
            topicSysFlag: try reader.int32("topicSysFlag") ?? legacyFlag ?? 0)
    }

    /// The JSON object.
    public var json: JSONValue {
        .object([
            "brokerName": .string(brokerName),
            "readQueueNums": .integer(readQueueNums),
            "writeQueueNums": .integer(writeQueueNums),
            "perm": .integer(perm.rawValue),
            "topicSysFlag": .integer(topicSysFlag),
        ])
    }
}

/// One broker group (a master and its slaves) and where to reach each member (spec §6.1).
///
/// JSON: `{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}`.
/// `brokerAddrs` maps broker id (0 = master) to `ip:port`; the id keys are written quoted, and read
/// quoted or unquoted (fastjson's `{0:"…"}`).
public struct BrokerData: Hashable, Sendable, JSONConvertible {
    /// The broker id of a master; slaves have ids 1, 2, … (Java `MixAll.MASTER_ID`).
    public static let masterBrokerId: Int64 = 0

    /// The cluster the group belongs to.
    public var cluster: String
    /// The group's name, shared by master and slaves.
    public var brokerName: String
    /// Broker id → `ip:port`.
    public var brokerAddrs: [Int64: String]

    /// Broker data.
    public init(cluster: String, brokerName: String, brokerAddrs: [Int64: String] = [:]) {
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerAddrs = brokerAddrs
    }

    /// The master's address, nil when the group has no live master.
    public var masterAddress: String? { brokerAddrs[Self.masterBrokerId] }

    /// Decodes a `BrokerData` object; `brokerName` is required.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "BrokerData")
        var addresses: [Int64: String] = [:]
        for (key, address) in try reader.stringMap("brokerAddrs") ?? [:] {
            guard let brokerId = Int64(key.trimmingASCIIWhitespace()) else {
                throw CoreError(.invalidJSONField, "BrokerData.brokerAddrs: key '\(key)' is not a broker id")
            }
            addresses[brokerId] = address
        }
        self.init(
            cluster: try reader.string("cluster") ?? "",
            brokerName: try reader.requiredString("brokerName"),
            brokerAddrs: addresses)
    }

    /// The JSON object, with quoted id keys.
    public var json: JSONValue {
        .object([
            "cluster": .string(cluster),
            "brokerName": .string(brokerName),
            "brokerAddrs": .object(Dictionary(uniqueKeysWithValues: brokerAddrs.map { (String($0.key), .string($0.value)) })),
        ])
    }
}

/// A topic's route, the body of a GET_ROUTEINFO_BY_TOPIC (105) response (spec §6.1).
///
/// JSON, as the C++ client accepted it:
/// `{"brokerDatas":[BrokerData…],"filterServerTable":{},"queueDatas":[QueueData…]}`, plus
/// `"orderTopicConf":"brokerA:4;brokerB:4"` when set (omitted when nil, as fastjson omits nulls).
public struct TopicRouteData: Hashable, Sendable, JSONConvertible {
    /// For ordered topics, `brokerName:queueCount` pairs joined by `;`; clients build their
    /// publish queues from it when it is non-empty.
    public var orderTopicConf: String?
    /// One entry per broker group hosting the topic.
    public var queueDatas: [QueueData]
    /// The broker groups named by `queueDatas`.
    public var brokerDatas: [BrokerData]
    /// Broker address → filter-server addresses (class filters; always empty in Petrel).
    public var filterServerTable: [String: [String]]

    /// A route.
    public init(
        orderTopicConf: String? = nil, queueDatas: [QueueData], brokerDatas: [BrokerData],
        filterServerTable: [String: [String]] = [:]
    ) {
        self.orderTopicConf = orderTopicConf
        self.queueDatas = queueDatas
        self.brokerDatas = brokerDatas
        self.filterServerTable = filterServerTable
    }

    /// Decodes a `TopicRouteData` object; every member is optional.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "TopicRouteData")
        var filterServers: [String: [String]] = [:]
        let filterReader = JSONObjectReader(
            members: try reader.object("filterServerTable") ?? [:], context: "TopicRouteData.filterServerTable")
        for address in filterReader.members.keys {
            filterServers[address] = try filterReader.stringArray(address) ?? []
        }
        self.init(
            orderTopicConf: try reader.string("orderTopicConf"),
            queueDatas: try reader.decodeArray("queueDatas", of: QueueData.self) ?? [],
            brokerDatas: try reader.decodeArray("brokerDatas", of: BrokerData.self) ?? [],
            filterServerTable: filterServers)
    }

    /// The JSON object.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "queueDatas": .array(queueDatas.map(\.json)),
            "brokerDatas": .array(brokerDatas.map(\.json)),
            "filterServerTable": .object(filterServerTable.mapValues { .strings($0) }),
        ]
        if let orderTopicConf { members["orderTopicConf"] = .string(orderTopicConf) }
        return .object(members)
    }
}

/// Every broker group and cluster the name server knows, the body of GET_BROKER_CLUSTER_INFO (106)
/// (spec §6.2). Admin tools (`mqadmin clusterList`, `updateTopic -c`) read it to find a cluster's masters.
///
/// JSON: `{"brokerAddrTable":{"broker-a":BrokerData},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}`.
/// Java keeps the cluster members in a set; they are written sorted so the output is deterministic.
public struct ClusterInfo: Hashable, Sendable, JSONConvertible {
    /// Broker name → the group's data.
    public var brokerAddrTable: [String: BrokerData]
    /// Cluster name → names of its broker groups.
    public var clusterAddrTable: [String: Set<String>]

    /// Cluster information.
    public init(brokerAddrTable: [String: BrokerData] = [:], clusterAddrTable: [String: Set<String>] = [:]) {
        self.brokerAddrTable = brokerAddrTable
        self.clusterAddrTable = clusterAddrTable
    }

    /// Decodes a `ClusterInfo` object; both members are optional.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "ClusterInfo")
        var brokers: [String: BrokerData] = [:]
        for (name, value) in try reader.object("brokerAddrTable") ?? [:] where value != .null {
            brokers[name] = try BrokerData(json: value)
        }
        var clusters: [String: Set<String>] = [:]
        let clusterReader = JSONObjectReader(members: try reader.object("clusterAddrTable") ?? [:], context: "ClusterInfo.clusterAddrTable")
        for name in clusterReader.members.keys {
            clusters[name] = Set(try clusterReader.stringArray(name) ?? [])
        }
        self.init(brokerAddrTable: brokers, clusterAddrTable: clusters)
    }

    /// The JSON object.
    public var json: JSONValue {
        .object([
            "brokerAddrTable": .object(brokerAddrTable.mapValues(\.json)),
            "clusterAddrTable": .object(clusterAddrTable.mapValues { .strings($0.sorted()) }),
        ])
    }
}

/// A list of topic names, the body of GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
/// GET_TOPICS_BY_CLUSTER (224) and GET_SYSTEM_TOPIC_LIST_FROM_NS (304) (spec §6.3).
///
/// JSON: `{"topicList":["t1","t2"]}`, plus `"brokerAddr":"ip:port"` when set (304 only).
/// Java keeps the names in a set; they are written sorted.
public struct TopicList: Hashable, Sendable, JSONConvertible {
    /// The topics.
    public var topicList: Set<String>
    /// A broker address, set only in the system-topic list so tools know where to ask next.
    public var brokerAddr: String?

    /// A topic list.
    public init(topicList: Set<String> = [], brokerAddr: String? = nil) {
        self.topicList = topicList
        self.brokerAddr = brokerAddr
    }

    /// Decodes a `TopicList` object; both members are optional.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "TopicList")
        self.init(topicList: Set(try reader.stringArray("topicList") ?? []), brokerAddr: try reader.string("brokerAddr"))
    }

    /// The JSON object.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["topicList": .strings(topicList.sorted())]
        if let brokerAddr { members["brokerAddr"] = .string(brokerAddr) }
        return .object(members)
    }
}

/// A string-to-string table: the KV configuration of one namespace (GET_KVLIST_BY_NAMESPACE, 219),
/// and the body of a REGISTER_BROKER response (namespace `ORDER_TOPIC_CONFIG`) (spec §6.3).
///
/// JSON: `{"table":{"k":"v"}}`.
public struct KVTable: Hashable, Sendable, JSONConvertible {
    /// Key → value.
    public var table: [String: String]

    /// A table.
    public init(table: [String: String] = [:]) {
        self.table = table
    }

    /// Decodes a `KVTable` object; `table` is optional.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "KVTable")
        self.init(table: try reader.stringMap("table") ?? [:])
    }

    /// The JSON object.
    public var json: JSONValue {
        .object(["table": .object(table.mapValues { .string($0) })])
    }
}
