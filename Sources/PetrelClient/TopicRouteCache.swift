import PetrelCore
import Synchronization

/// A topic's route as the name server gave it, with the queue lists producers and consumers use.
public struct TopicRoute: Hashable, Sendable {
    /// The topic.
    public let topic: String
    /// The name server's answer (spec §6.1).
    public let data: TopicRouteData
    /// Queues a producer may send to: `0..<writeQueueNums` of each writable broker group with a
    /// master, sorted by broker name; or, for an ordered topic, the groups and counts of
    /// `orderTopicConf` in its order (Java `topicRouteData2TopicPublishInfo`).
    public let publishQueues: [MessageQueue]
    /// Queues a consumer may pull from: `0..<readQueueNums` of each readable broker group
    /// (Java `topicRouteData2TopicSubscribeInfo`), sorted.
    public let subscribeQueues: [MessageQueue]
    /// Whether `publishQueues` came from `orderTopicConf`.
    public let isOrdered: Bool

    /// Derives the queue lists from `data`.
    public init(topic: String, data: TopicRouteData) {
        self.topic = topic
        self.data = data
        var publish: [MessageQueue] = []
        let orderConfiguration = data.orderTopicConf ?? ""
        if !orderConfiguration.isEmpty {
            for entry in orderConfiguration.split(separator: ";") {
                let parts = entry.split(separator: ":")
                guard parts.count == 2, let count = Int32(parts[1]), count > 0 else { continue }
                for queueId in 0..<count {
                    publish.append(MessageQueue(topic: topic, brokerName: String(parts[0]), queueId: queueId))
                }
            }
            isOrdered = true
        } else {
            let masters = Set(data.brokerDatas.filter { $0.masterAddress != nil }.map(\.brokerName))
            for queueData in data.queueDatas.sorted(by: { $0.brokerName < $1.brokerName })
            where queueData.perm.isWritable && masters.contains(queueData.brokerName) {
                for queueId in 0..<max(0, queueData.writeQueueNums) {
                    publish.append(MessageQueue(topic: topic, brokerName: queueData.brokerName, queueId: queueId))
                }
            }
            isOrdered = false
        }
        publishQueues = publish
        var subscribe: [MessageQueue] = []
        for queueData in data.queueDatas where queueData.perm.isReadable {
            for queueId in 0..<max(0, queueData.readQueueNums) {
                subscribe.append(MessageQueue(topic: topic, brokerName: queueData.brokerName, queueId: queueId))
            }
        }
        subscribeQueues = subscribe.sorted()
    }

    /// The master address of `brokerName` in this route, nil when the group has no master.
    public func masterAddress(brokerName: String) -> String? {
        data.brokerDatas.first { $0.brokerName == brokerName }?.masterAddress
    }

    /// Every broker address of the route (masters and slaves), by broker name.
    public var brokerAddresses: [String: [Int64: String]] {
        var table: [String: [Int64: String]] = [:]
        for broker in data.brokerDatas { table[broker.brokerName, default: [:]].merge(broker.brokerAddrs) { _, new in new } }
        return table
    }
}

extension Permission {
    /// Whether the write bit is set.
    var isWritable: Bool { contains(.write) }
}

/// The routes a client instance knows, by topic, and the broker addresses they name.
///
/// Broker addresses are kept per broker name from every route ever seen, as Java's
/// `brokerAddrTable`, so a broker stays reachable by name while any cached route still names it.
final class TopicRouteCache: Sendable {
    /// Routes and broker addresses under one lock.
    private struct State {
        /// Route by topic.
        var routes: [String: TopicRoute] = [:]
        /// Broker name → broker id → address.
        var brokers: [String: [Int64: String]] = [:]
    }

    /// The cache's contents.
    private let state = Mutex(State())

    /// The cached route of `topic`.
    func route(_ topic: String) -> TopicRoute? {
        state.withLock { $0.routes[topic] }
    }

    /// Stores `route`; returns the addresses it names that were not known before.
    @discardableResult
    func store(_ route: TopicRoute) -> [String] {
        state.withLock { state in
            let known = Set(state.brokers.values.flatMap(\.values))
            state.routes[route.topic] = route
            var added: [String] = []
            for (name, addresses) in route.brokerAddresses {
                state.brokers[name] = addresses
                added += addresses.values.filter { !known.contains($0) }
            }
            return added
        }
    }

    /// Forgets `topic`'s route (its brokers stay known).
    func remove(_ topic: String) {
        state.withLock { _ = $0.routes.removeValue(forKey: topic) }
    }

    /// The topics with a cached route.
    var topics: [String] {
        state.withLock { Array($0.routes.keys) }
    }

    /// The master address of `brokerName`.
    func masterAddress(brokerName: String) -> String? {
        state.withLock { $0.brokers[brokerName]?[BrokerData.masterBrokerId] }
    }

    /// Every known broker address, by broker name and id.
    var brokers: [String: [Int64: String]] {
        state.withLock { $0.brokers }
    }
}
