import PetrelCore

extension RouteRegistry {
    /// A topic's route (GET_ROUTEINFO_BY_TOPIC, 105), or nil when no live broker group hosts it, which
    /// the transport answers with TOPIC_NOT_EXIST (17).
    ///
    /// Queue data and broker data are sorted by broker name so answers are deterministic. Queue data of
    /// a group the name server no longer knows is left out: a client could not reach it anyway.
    ///
    /// - Parameter includeOrderTopicConfig: add `orderTopicConf` from the `ORDER_TOPIC_CONFIG` KV
    ///   namespace (Java's `orderMessageEnable`, off by default).
    public func route(topic: String, includeOrderTopicConfig: Bool = false) -> TopicRouteData? {
        tables.withLock { tables in
            guard let queues = tables.topicQueueTable[topic] else { return nil }
            var queueDatas: [QueueData] = []
            var brokerDatas: [BrokerData] = []
            var filterServers: [String: [String]] = [:]
            for brokerName in queues.keys.sorted() {
                guard let group = tables.brokerAddrTable[brokerName], let queueData = queues[brokerName] else { continue }
                queueDatas.append(queueData)
                brokerDatas.append(group)
                for address in group.brokerAddrs.values {
                    if let servers = tables.filterServerTable[address] { filterServers[address] = servers }
                }
            }
            guard !queueDatas.isEmpty else { return nil }
            let orderConfig = includeOrderTopicConfig ? tables.kvConfig[Self.orderTopicConfigNamespace]?[topic] : nil
            return TopicRouteData(
                orderTopicConf: orderConfig, queueDatas: queueDatas, brokerDatas: brokerDatas, filterServerTable: filterServers)
        }
    }

    /// Every broker group and cluster (GET_BROKER_CLUSTER_INFO, 106).
    public func clusterInfo() -> ClusterInfo {
        tables.withLock { tables in
            ClusterInfo(brokerAddrTable: tables.brokerAddrTable, clusterAddrTable: tables.clusterAddrTable)
        }
    }

    /// Every topic with at least one queue (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, 206).
    public func allTopics() -> TopicList {
        tables.withLock { tables in TopicList(topicList: Set(tables.topicQueueTable.keys)) }
    }

    /// The topics hosted by any broker group of `cluster` (GET_TOPICS_BY_CLUSTER, 224); empty for an
    /// unknown cluster.
    public func topics(cluster: String) -> TopicList {
        tables.withLock { tables in
            let brokerNames = tables.clusterAddrTable[cluster] ?? []
            let topics = tables.topicQueueTable.filter { !brokerNames.isDisjoint(with: $0.value.keys) }.keys
            return TopicList(topicList: Set(topics))
        }
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS (304), as Java answers it: every cluster name and broker name
    /// (brokers create a topic named after each), plus one broker address for tools to query next —
    /// the lowest-id member of the first broker group by name.
    public func systemTopics() -> TopicList {
        tables.withLock { tables in
            var names = Set<String>()
            for (cluster, brokerNames) in tables.clusterAddrTable {
                names.insert(cluster)
                names.formUnion(brokerNames)
            }
            let groups = tables.brokerAddrTable
            let firstGroup = groups.keys.sorted().compactMap { groups[$0] }.first { !$0.brokerAddrs.isEmpty }
            let address = firstGroup.flatMap { group in group.brokerAddrs.min { $0.key < $1.key }?.value }
            return TopicList(topicList: names, brokerAddr: address)
        }
    }

    /// Topics whose first broker group's queues carry the unit flag (GET_UNIT_TOPIC_LIST, 311).
    public func unitTopics() -> TopicList {
        topicsWhose { TopicSysFlag.hasUnit($0) }
    }

    /// Topics with unit subscriptions (GET_HAS_UNIT_SUB_TOPIC_LIST, 312).
    public func unitSubscriptionTopics() -> TopicList {
        topicsWhose { TopicSysFlag.hasUnitSubscription($0) }
    }

    /// Topics with unit subscriptions that are not unit topics themselves (GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, 313).
    public func unitSubscriptionNonUnitTopics() -> TopicList {
        topicsWhose { !TopicSysFlag.hasUnit($0) && TopicSysFlag.hasUnitSubscription($0) }
    }

    /// Topics whose system flag, read from the first broker group by name, satisfies `predicate`.
    /// (Java reads "the first" queue data of an unordered map; sorting makes the choice stable.)
    private func topicsWhose(_ predicate: (Int32) -> Bool) -> TopicList {
        tables.withLock { tables in
            let topics = tables.topicQueueTable.compactMap { topic, queues -> String? in
                guard let first = queues.keys.min(), let flag = queues[first]?.topicSysFlag, predicate(flag) else { return nil }
                return topic
            }
            return TopicList(topicList: Set(topics))
        }
    }

    /// Removes a topic's queues (DELETE_TOPIC_IN_NAMESRV, 216): only those of `cluster`'s broker groups
    /// when a cluster is given, else all of them. Returns false when nothing was removed.
    @discardableResult
    public func deleteTopic(_ topic: String, cluster: String? = nil) -> Bool {
        tables.withLock { tables in
            guard var queues = tables.topicQueueTable[topic] else { return false }
            guard let cluster, !cluster.isEmpty else {
                tables.topicQueueTable.removeValue(forKey: topic)
                return true
            }
            let before = queues.count
            for brokerName in tables.clusterAddrTable[cluster] ?? [] { queues.removeValue(forKey: brokerName) }
            tables.topicQueueTable[topic] = queues.isEmpty ? nil : queues
            return queues.count != before
        }
    }

    /// Takes write permission away from every topic of a broker group, so producers stop sending to it
    /// before it is shut down (WIPE_WRITE_PERM_OF_BROKER, 205). Returns the number of topics changed.
    ///
    /// The change lasts until the master registers a new data version: an unchanged re-registration
    /// does not restore it.
    @discardableResult
    public func wipeWritePermission(brokerName: String) -> Int {
        tables.withLock { $0.changeWritePermission(brokerName: brokerName, grant: false) }
    }

    /// Gives every topic of a broker group read and write permission again (ADD_WRITE_PERM_OF_BROKER, 327).
    /// Returns the number of topics changed.
    @discardableResult
    public func addWritePermission(brokerName: String) -> Int {
        tables.withLock { $0.changeWritePermission(brokerName: brokerName, grant: true) }
    }
}

/// The name server's KV configuration (Java `KVConfigManager`): string values grouped by namespace.
/// Its one built-in use is `ORDER_TOPIC_CONFIG`, which maps an ordered topic to its queue layout.
extension RouteRegistry {
    /// Sets a value (PUT_KV_CONFIG, 100); the namespace is created on first use.
    public func putKV(namespace: String, key: String, value: String) {
        tables.withLock { $0.kvConfig[namespace, default: [:]][key] = value }
    }

    /// A value (GET_KV_CONFIG, 101); nil, answered with QUERY_NOT_FOUND (22), when absent.
    public func getKV(namespace: String, key: String) -> String? {
        tables.withLock { $0.kvConfig[namespace]?[key] }
    }

    /// Removes a value (DELETE_KV_CONFIG, 102); an emptied namespace disappears. Returns false when
    /// there was nothing to remove.
    @discardableResult
    public func deleteKV(namespace: String, key: String) -> Bool {
        tables.withLock { tables in
            guard var entries = tables.kvConfig[namespace], entries.removeValue(forKey: key) != nil else { return false }
            tables.kvConfig[namespace] = entries.isEmpty ? nil : entries
            return true
        }
    }

    /// A whole namespace (GET_KVLIST_BY_NAMESPACE, 219, and the body of a REGISTER_BROKER answer for
    /// `ORDER_TOPIC_CONFIG`); nil when the namespace does not exist, which Java answers with
    /// QUERY_NOT_FOUND (219) or an empty body (103).
    public func listKV(namespace: String) -> KVTable? {
        tables.withLock { tables in tables.kvConfig[namespace].map { KVTable(table: $0) } }
    }

    /// Every namespace's entries, for persisting (restore by passing them to `init(kvConfig:)`).
    public func allKVConfig() -> [String: [String: String]] {
        tables.withLock { $0.kvConfig }
    }
}
