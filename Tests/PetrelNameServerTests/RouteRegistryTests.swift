import PetrelCore
import PetrelNameServer
import Testing

/// A registration body with the given topics (name → queue count, perm 6) at data version `counter`.
func registrationBody(_ topics: [String: Int32], counter: Int64 = 1) -> RegisterBrokerBody {
    var table: [String: TopicConfig] = [:]
    for (name, queues) in topics {
        table[name] = TopicConfig(topicName: name, readQueueNums: queues, writeQueueNums: queues)
    }
    return RegisterBrokerBody(topicConfigTable: table, dataVersion: DataVersion(counter: counter, timestamp: counter * 1000))
}

/// Registers a broker with the usual defaults, failing the test on error.
@discardableResult
func register(
    _ registry: RouteRegistry, name: String = "broker-a", address: String = "10.0.0.1:10911", id: Int64 = 0,
    cluster: String = "DefaultCluster", topics: [String: Int32] = [:], counter: Int64 = 1, connection: UInt64 = 1, now: Int64 = 0
) throws -> RegisterResult {
    try registry.registerBroker(
        cluster: cluster, brokerName: name, brokerAddress: address, brokerId: id,
        haServerAddress: address.replacingPort(with: "10912"), body: registrationBody(topics, counter: counter),
        connectionId: connection, now: now)
}

extension String {
    /// The address with its port replaced (for HA addresses in tests).
    func replacingPort(with port: String) -> String {
        guard let colon = lastIndex(of: ":") else { return self }
        return String(self[..<colon]) + ":" + port
    }
}

@Suite("Route registry: registration, routes, expiry")
struct RouteRegistryTests {
    @Test("a registered master's topics get routes; unknown topics have none")
    func registrationGivesRoutes() throws {
        let registry = RouteRegistry()
        let result = try register(registry, topics: ["TopicTest": 4, "TBW102": 8])
        #expect(result == RegisterResult())
        let route = try #require(registry.route(topic: "TopicTest"))
        #expect(route.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: .readWrite)])
        #expect(route.brokerDatas == [BrokerData(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: [0: "10.0.0.1:10911"])])
        #expect(route.filterServerTable.isEmpty && route.orderTopicConf == nil)
        #expect(route.jsonText.contains(#""brokerAddrs":{"0":"10.0.0.1:10911"}"#))
        #expect(registry.route(topic: "NoSuchTopic") == nil)
        #expect(registry.allTopics().topicList == ["TopicTest", "TBW102"])
        let live = try #require(registry.liveBrokers()["10.0.0.1:10911"])
        #expect(live.brokerName == "broker-a" && live.brokerId == 0 && live.connectionId == 1 && live.dataVersion.counter == 1)
    }

    @Test("a topic on two broker groups routes to both, sorted by name")
    func topicOnTwoBrokers() throws {
        let registry = RouteRegistry()
        try register(registry, name: "broker-b", address: "10.0.0.2:10911", topics: ["Shared": 8, "OnlyB": 2])
        try register(registry, name: "broker-a", address: "10.0.0.1:10911", topics: ["Shared": 4])
        let route = try #require(registry.route(topic: "Shared"))
        #expect(route.queueDatas.map(\.brokerName) == ["broker-a", "broker-b"])
        #expect(route.queueDatas.map(\.writeQueueNums) == [4, 8])
        #expect(route.brokerDatas.map(\.masterAddress) == ["10.0.0.1:10911", "10.0.0.2:10911"])
        #expect(try #require(registry.route(topic: "OnlyB")).brokerDatas.map(\.brokerName) == ["broker-b"])
        let info = registry.clusterInfo()
        #expect(info.clusterAddrTable == ["DefaultCluster": ["broker-a", "broker-b"]])
        #expect(Set(info.brokerAddrTable.keys) == ["broker-a", "broker-b"])
    }

    @Test("brokers silent for more than 120 s expire with their queues; topics left empty disappear")
    func expiry() throws {
        let registry = RouteRegistry()
        try register(registry, name: "broker-a", address: "10.0.0.1:10911", topics: ["Shared": 4, "OnlyA": 4], connection: 1, now: 0)
        try register(registry, name: "broker-b", address: "10.0.0.2:10911", topics: ["Shared": 4], connection: 2, now: 0)
        // broker-b keeps registering; broker-a falls silent.
        try register(registry, name: "broker-b", address: "10.0.0.2:10911", topics: ["Shared": 4], connection: 2, now: 90_000)
        #expect(registry.expireBrokers(now: 120_000).isEmpty)
        let expired = registry.expireBrokers(now: 120_001)
        #expect(expired.map(\.address) == ["10.0.0.1:10911"])
        #expect(expired.first?.connectionId == 1)
        #expect(registry.route(topic: "OnlyA") == nil)
        #expect(try #require(registry.route(topic: "Shared")).queueDatas.map(\.brokerName) == ["broker-b"])
        #expect(registry.clusterInfo().clusterAddrTable == ["DefaultCluster": ["broker-b"]])
        #expect(registry.liveBrokers().keys.sorted() == ["10.0.0.2:10911"])
        // A custom timeout, and the last broker going takes the cluster with it.
        #expect(registry.expireBrokers(now: 100_000, timeout: 5_000).map(\.brokerName) == ["broker-b"])
        #expect(registry.clusterInfo() == ClusterInfo())
        #expect(registry.allTopics().topicList.isEmpty)
    }

    @Test("re-registration with an unchanged data version keeps routes and ignores the table")
    func unchangedDataVersion() throws {
        let registry = RouteRegistry()
        try register(registry, topics: ["T": 4], counter: 5, now: 0)
        // Same version, different table: not re-read (Java skips unchanged versions), but it is a sign of life.
        try register(registry, topics: ["T": 16, "New": 1], counter: 5, now: 100_000)
        #expect(try #require(registry.route(topic: "T")).queueDatas[0].readQueueNums == 4)
        #expect(registry.route(topic: "New") == nil)
        #expect(registry.expireBrokers(now: 200_000).isEmpty)
        // A new version is applied.
        try register(registry, topics: ["T": 16, "New": 1], counter: 6, now: 210_000)
        #expect(try #require(registry.route(topic: "T")).queueDatas[0].readQueueNums == 16)
        #expect(registry.route(topic: "New") != nil)
    }

    @Test("a slave learns its master's address and HA address; slaves never define queues")
    func slaveRegistration() throws {
        let registry = RouteRegistry()
        // A slave before its master: no master to report, and its topics are not taken.
        let early = try register(registry, address: "10.0.0.9:10911", id: 1, topics: ["T": 4])
        #expect(early == RegisterResult())
        #expect(registry.route(topic: "T") == nil)
        try register(registry, address: "10.0.0.1:10911", id: 0, topics: ["T": 4])
        let result = try register(registry, address: "10.0.0.9:10911", id: 1, topics: ["T": 4])
        #expect(result == RegisterResult(masterAddress: "10.0.0.1:10911", haServerAddress: "10.0.0.1:10912"))
        let route = try #require(registry.route(topic: "T"))
        #expect(route.brokerDatas[0].brokerAddrs == [0: "10.0.0.1:10911", 1: "10.0.0.9:10911"])
    }

    @Test("when the master goes the slave keeps the group's queues readable; when both go the topic goes")
    func masterLossKeepsSlave() throws {
        let registry = RouteRegistry()
        try register(registry, address: "10.0.0.1:10911", id: 0, topics: ["T": 4], connection: 1, now: 0)
        try register(registry, address: "10.0.0.9:10911", id: 1, topics: ["T": 4], connection: 2, now: 60_000)
        #expect(registry.expireBrokers(now: 150_000).map(\.brokerId) == [0])
        let route = try #require(registry.route(topic: "T"))
        #expect(route.brokerDatas[0].brokerAddrs == [1: "10.0.0.9:10911"])
        #expect(route.brokerDatas[0].masterAddress == nil)
        #expect(registry.connectionClosed(2).map(\.brokerId) == [1])
        #expect(registry.route(topic: "T") == nil)
    }

    @Test("a slave promoted to master re-registers its address under id 0 only")
    func slavePromotion() throws {
        let registry = RouteRegistry()
        try register(registry, address: "10.0.0.9:10911", id: 1, topics: ["T": 4])
        try register(registry, address: "10.0.0.9:10911", id: 0, topics: ["T": 4])
        let route = try #require(registry.route(topic: "T"))
        #expect(route.brokerDatas[0].brokerAddrs == [0: "10.0.0.9:10911"])
        #expect(registry.liveBrokers()["10.0.0.9:10911"]?.brokerId == 0)
    }

    @Test("a closed connection drops exactly the brokers registered over it")
    func connectionClosed() throws {
        let registry = RouteRegistry()
        try register(registry, name: "broker-a", address: "10.0.0.1:10911", topics: ["A": 4], connection: 7)
        try register(registry, name: "broker-b", address: "10.0.0.2:10911", topics: ["B": 4], connection: 8)
        #expect(registry.connectionClosed(99).isEmpty)
        #expect(registry.connectionClosed(7).map(\.brokerName) == ["broker-a"])
        #expect(registry.route(topic: "A") == nil)
        #expect(registry.route(topic: "B") != nil)
        #expect(registry.connectionClosed(7).isEmpty)
    }

    @Test("unregistering removes the broker; an unknown broker is reported as such")
    func unregister() throws {
        let registry = RouteRegistry()
        try register(registry, topics: ["T": 4])
        #expect(registry.unregisterBroker(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddress: "10.0.0.1:10911", brokerId: 0))
        #expect(registry.route(topic: "T") == nil)
        #expect(registry.liveBrokers().isEmpty)
        #expect(registry.clusterInfo() == ClusterInfo())
        #expect(!registry.unregisterBroker(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddress: "10.0.0.1:10911", brokerId: 0))
    }

    @Test("registrations without a name, address or cluster, or with a negative id, are refused")
    func invalidRegistrations() {
        let registry = RouteRegistry()
        let attempts: [(String, String, String, Int64)] = [
            ("", "broker-a", "10.0.0.1:10911", 0), ("C", "", "10.0.0.1:10911", 0), ("C", "broker-a", "", 0), ("C", "broker-a", "a:1", -1),
        ]
        for (cluster, name, address, id) in attempts {
            do {
                try registry.registerBroker(
                    cluster: cluster, brokerName: name, brokerAddress: address, brokerId: id, haServerAddress: "",
                    body: RegisterBrokerBody(), connectionId: 1, now: 0)
                Issue.record("accepted \(cluster)/\(name)/\(address)/\(id)")
            } catch {
                #expect(error.code == .invalidRequest)
            }
        }
        #expect(registry.liveBrokers().isEmpty)
    }

    @Test("data-version queries report changes and count an unchanged version as a sign of life")
    func dataVersionQuery() throws {
        let registry = RouteRegistry()
        try register(registry, counter: 3, now: 0)
        let same = DataVersion(counter: 3, timestamp: 3000)
        #expect(registry.queryDataVersion(brokerAddress: "10.0.0.1:10911", dataVersion: same, now: 100_000)
            == DataVersionQueryResult(changed: false, current: same))
        #expect(registry.expireBrokers(now: 200_000).isEmpty)
        let newer = DataVersion(counter: 4, timestamp: 4000)
        #expect(registry.queryDataVersion(brokerAddress: "10.0.0.1:10911", dataVersion: newer, now: 210_000).changed)
        #expect(registry.queryDataVersion(brokerAddress: "nowhere:1", dataVersion: same, now: 0) == DataVersionQueryResult(changed: true, current: nil))
    }

    @Test("concurrent registrations and queries are serialised by the lock")
    func concurrentUse() async throws {
        let registry = RouteRegistry()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<200 {
                        let name = "broker-\(worker)"
                        _ = try? register(registry, name: name, address: "10.0.0.\(worker):10911", topics: ["T": 4, name: 1],
                                          counter: Int64(round % 3), connection: UInt64(worker), now: Int64(round))
                        _ = registry.route(topic: "T")
                        _ = registry.clusterInfo()
                    }
                }
            }
        }
        #expect(try #require(registry.route(topic: "T")).queueDatas.count == 8)
        #expect(registry.allTopics().topicList.count == 9)
    }
}
