import ArgumentParser
import PetrelCore
import PetrelRemoting

/// `topicRoute`: the topic's queues and brokers.
struct TopicRouteCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "topicRoute", abstract: "Show a topic's route.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String

    /// Prints the route.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            if common.json { return Output.json(route.json) }
            Output.table(
                ["#BrokerName", "#ReadQueueNums", "#WriteQueueNums", "#Perm"],
                route.queueDatas.sorted { $0.brokerName < $1.brokerName }.map {
                    [$0.brokerName, String($0.readQueueNums), String($0.writeQueueNums), String($0.perm.rawValue)]
                })
            print("")
            Output.table(
                ["#Cluster", "#BrokerName", "#BID", "#Addr"],
                route.brokerDatas.sorted { $0.brokerName < $1.brokerName }.flatMap { broker in
                    broker.brokerAddrs.sorted { $0.key < $1.key }.map { [broker.cluster, broker.brokerName, String($0.key), $0.value] }
                })
        }
    }
}

/// `clusterList`: clusters, their broker groups and addresses.
struct ClusterListCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "clusterList", abstract: "List clusters and brokers.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions

    /// Prints one row per broker.
    func run() async throws {
        try await runAdmin(common) { session in
            let info = try await session.clusterInfo()
            var rows: [[String]] = []
            var clusters: [JSONValue] = []
            for cluster in info.clusterAddrTable.keys.sorted() {
                var brokers: [JSONValue] = []
                for name in (info.clusterAddrTable[cluster] ?? []).sorted() {
                    for (id, address) in (info.brokerAddrTable[name]?.brokerAddrs ?? [:]).sorted(by: { $0.key < $1.key }) {
                        rows.append([cluster, name, String(id), address])
                        brokers.append(.object(["brokerName": .string(name), "brokerId": .integer(id), "address": .string(address)]))
                    }
                }
                clusters.append(.object(["cluster": .string(cluster), "brokers": .array(brokers)]))
            }
            if common.json { return Output.json(.object(["clusters": .array(clusters)])) }
            Output.table(["#Cluster Name", "#Broker Name", "#BID", "#Addr"], rows)
        }
    }
}

/// `updateTopic`: creates or updates a topic on one broker or every master of a cluster.
struct UpdateTopicCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "updateTopic", abstract: "Create or update a topic.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The cluster whose masters get the topic.
    @Option(name: [.customShort("c"), .customLong("clusterName")], help: "Create on every master of this cluster.")
    var cluster: String?
    /// One broker address.
    @Option(name: [.customShort("b"), .customLong("brokerAddr")], help: "Create on this broker (host:port).")
    var broker: String?
    /// Read queues.
    @Option(name: [.customShort("r"), .customLong("readQueueNums")], help: "Read queue count.") var readQueueNums: Int32 = 8
    /// Write queues.
    @Option(name: [.customShort("w"), .customLong("writeQueueNums")], help: "Write queue count.") var writeQueueNums: Int32 = 8
    /// Permission bits.
    @Option(name: [.customShort("p"), .customLong("perm")], help: "Permission: 2 write, 4 read, 6 both.") var perm: Int32 = 6
    /// Ordered topic.
    @Option(name: [.customShort("o"), .customLong("order")], help: "Ordered topic (true/false).") var order = false
    /// RocketMQ 5's attribute changes, e.g. `+compression.type=zstd,+compression.level=3,-compression.dictionary`.
    @Option(name: [.customShort("a"), .customLong("attributes")],
            help: "Attribute changes: +key=value sets, -key removes, separated by ',' (e.g. +compression.type=zstd).")
    var attributes: String?

    /// Checks the flags.
    func validate() throws {
        if cluster == nil, broker == nil { throw ValidationError("give a cluster with -c or a broker address with -b") }
        if readQueueNums <= 0 || writeQueueNums <= 0 { throw ValidationError("queue counts must be positive") }
    }

    /// Sends UPDATE_AND_CREATE_TOPIC to each target.
    func run() async throws {
        try await runAdmin(common) { session in
            let addresses = try await session.targets(cluster: cluster, broker: broker)
            let fields = [
                "topic": topic, "defaultTopic": AdminSession.defaultTopic, "readQueueNums": String(readQueueNums),
                "writeQueueNums": String(writeQueueNums), "perm": String(perm), "topicFilterType": "SINGLE_TAG",
                "topicSysFlag": "0", "order": String(order),
            ].merging(attributes.map { ["attributes": $0] } ?? [:]) { $1 }
            for address in addresses {
                try session.expectSuccess(try await session.call(address, .updateAndCreateTopic, fields), "creating \(topic) on \(address)")
                if !common.json { print("create topic to \(address) success.") }
            }
            let config = TopicConfig(topicName: topic, readQueueNums: readQueueNums, writeQueueNums: writeQueueNums,
                                     perm: Permission(rawValue: perm), order: order)
            if common.json { Output.json(.object(["brokers": .strings(addresses), "topicConfig": config.json])) } else { print(config.compactText) }
        }
    }
}

/// `deleteTopic`: removes a topic from a cluster's masters, then from the name server.
struct DeleteTopicCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "deleteTopic", abstract: "Delete a topic from a cluster.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The cluster.
    @Option(name: [.customShort("c"), .customLong("clusterName")], help: "Cluster name.") var cluster: String

    /// Sends DELETE_TOPIC_IN_BROKER to each master, then DELETE_TOPIC_IN_NAMESRV.
    func run() async throws {
        try await runAdmin(common) { session in
            let addresses = try await session.targets(cluster: cluster, broker: nil)
            for address in addresses {
                try session.expectSuccess(try await session.call(address, .deleteTopicInBroker, ["topic": topic]), "deleting \(topic) on \(address)")
            }
            let response = try await session.callNameServer(.deleteTopicInNamesrv, ["topic": topic, "clusterName": cluster])
            try session.expectSuccess(response, "deleting \(topic) in the name server")
            if common.json {
                Output.json(.object(["topic": .string(topic), "cluster": .string(cluster), "brokers": .strings(addresses)]))
            } else {
                print("delete topic [\(topic)] from cluster [\(cluster)] success.")
                print("delete topic [\(topic)] from NameServer success.")
            }
        }
    }
}
