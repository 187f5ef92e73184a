import PetrelCore

/// The name server's tables (Java `RouteInfoManager`'s maps plus `KVConfigManager`'s), mutated only
/// under `RouteRegistry`'s lock.
struct RouteTables: Sendable {
    /// Topic → broker name → that broker group's queues of the topic.
    var topicQueueTable: [String: [String: QueueData]] = [:]
    /// Broker name → the group's members (broker id → address).
    var brokerAddrTable: [String: BrokerData] = [:]
    /// Cluster name → broker names.
    var clusterAddrTable: [String: Set<String>] = [:]
    /// Broker address → registration record.
    var brokerLiveTable: [String: LiveBroker] = [:]
    /// Broker address → filter-server addresses.
    var filterServerTable: [String: [String]] = [:]
    /// KV namespace → key → value.
    var kvConfig: [String: [String: String]] = [:]

    /// Applies one registration (Java `RouteInfoManager.registerBroker`).
    mutating func register(_ broker: LiveBroker, body: RegisterBrokerBody) -> RegisterResult {
        clusterAddrTable[broker.cluster, default: []].insert(broker.brokerName)

        var isFirstRegistration = false
        var group: BrokerData
        if let existing = brokerAddrTable[broker.brokerName] {
            group = existing
        } else {
            isFirstRegistration = true
            group = BrokerData(cluster: broker.cluster, brokerName: broker.brokerName)
        }
        // One address holds one id: a slave promoted to master re-registers its address under id 0,
        // and its old slave entry must go.
        group.brokerAddrs = group.brokerAddrs.filter { $0.value != broker.address || $0.key == broker.brokerId }
        let previousAddress = group.brokerAddrs.updateValue(broker.address, forKey: broker.brokerId)
        isFirstRegistration = isFirstRegistration || previousAddress == nil
        brokerAddrTable[broker.brokerName] = group

        // Only masters define topic queues, and re-reading an unchanged table every 30 s would be waste.
        if broker.brokerId == BrokerData.masterBrokerId {
            let versionChanged = brokerLiveTable[broker.address]?.dataVersion != body.dataVersion
            if versionChanged || isFirstRegistration {
                for config in body.topicConfigTable.values {
                    topicQueueTable[config.topicName, default: [:]][broker.brokerName] =
                        QueueData(brokerName: broker.brokerName, topicConfig: config)
                }
            }
        }

        brokerLiveTable[broker.address] = broker
        if body.filterServerList.isEmpty {
            filterServerTable.removeValue(forKey: broker.address)
        } else {
            filterServerTable[broker.address] = body.filterServerList
        }

        guard broker.brokerId != BrokerData.masterBrokerId, let masterAddress = group.masterAddress,
            let master = brokerLiveTable[masterAddress]
        else { return RegisterResult() }
        return RegisterResult(masterAddress: masterAddress, haServerAddress: master.haServerAddress)
    }

    /// Drops a broker entirely: its live record, filter servers and group membership
    /// (Java `onChannelDestroy`, used for expiry and closed connections).
    mutating func remove(_ broker: LiveBroker) {
        brokerLiveTable.removeValue(forKey: broker.address)
        filterServerTable.removeValue(forKey: broker.address)
        removeAddress(of: broker)
    }

    /// Removes the broker's address from its group. When the group becomes empty, the group leaves
    /// its clusters and every topic loses that group's queues; topics left with no queues disappear.
    /// Returns false when the group did not list the address.
    ///
    /// The entry is matched by address, not just by id, so an old registration can never remove a
    /// newer broker that has since taken the same id.
    @discardableResult
    mutating func removeAddress(of broker: LiveBroker) -> Bool {
        guard var group = brokerAddrTable[broker.brokerName] else { return false }
        let before = group.brokerAddrs.count
        group.brokerAddrs = group.brokerAddrs.filter { $0.value != broker.address }
        guard group.brokerAddrs.count != before else { return false }
        guard group.brokerAddrs.isEmpty else {
            brokerAddrTable[broker.brokerName] = group
            return true
        }
        brokerAddrTable.removeValue(forKey: broker.brokerName)
        for (cluster, var names) in clusterAddrTable where names.contains(broker.brokerName) {
            names.remove(broker.brokerName)
            clusterAddrTable[cluster] = names.isEmpty ? nil : names
        }
        removeQueues(ofBrokerName: broker.brokerName)
        return true
    }

    /// Removes a broker group's queues from every topic, and topics left without queues.
    mutating func removeQueues(ofBrokerName brokerName: String) {
        for (topic, var queues) in topicQueueTable where queues[brokerName] != nil {
            queues.removeValue(forKey: brokerName)
            topicQueueTable[topic] = queues.isEmpty ? nil : queues
        }
    }

    /// Changes the write permission of every topic a broker group hosts; returns how many topics it
    /// hosts (Java `operateWritePermOfBroker`). Adding sets exactly read+write, as Java does.
    mutating func changeWritePermission(brokerName: String, grant: Bool) -> Int {
        var count = 0
        for topic in topicQueueTable.keys {
            guard var queueData = topicQueueTable[topic]?[brokerName] else { continue }
            queueData.perm = grant ? .readWrite : queueData.perm.subtracting(.write)
            topicQueueTable[topic]?[brokerName] = queueData
            count += 1
        }
        return count
    }
}
