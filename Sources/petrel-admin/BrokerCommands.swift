import ArgumentParser
import NIOCore
import PetrelCore
import PetrelRemoting

/// `brokerStatus`: a broker's runtime figures (GET_BROKER_RUNTIME_INFO), for one broker (`-b`) or
/// every master of a cluster (`-c`), printed as mqadmin does: `key : value` sorted by key, each
/// line prefixed with the broker address when a cluster was asked for.
struct BrokerStatusCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "brokerStatus", abstract: "Fetch a broker's runtime status.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// One broker address.
    @Option(name: [.customShort("b"), .customLong("brokerAddr")], help: "Broker address, host:port.") var broker: String?
    /// The cluster.
    @Option(name: [.customShort("c"), .customLong("clusterName")], help: "Every master of this cluster.") var cluster: String?

    /// Checks the flags.
    func validate() throws {
        if cluster == nil, broker == nil { throw ValidationError("give a broker address with -b or a cluster with -c") }
    }

    /// Asks each target for its runtime table and prints them.
    func run() async throws {
        try await runAdmin(common) { session in
            let addresses = try await session.targets(cluster: cluster, broker: broker)
            var tables: [(address: String, table: [String: String])] = []
            for address in addresses {
                let response = try await session.call(address, .getBrokerRuntimeInfo)
                try session.expectSuccess(response, "GET_BROKER_RUNTIME_INFO on \(address)")
                tables.append((address, try session.decode(KVTable.self, response, "broker runtime info").table))
            }
            if common.json {
                return Output.json(.object(["brokers": .array(tables.map { entry in
                    .object(["brokerAddr": .string(entry.address), "table": .object(entry.table.mapValues { .string($0) })])
                })]))
            }
            for (address, table) in tables {
                for key in table.keys.sorted() {
                    let name = key.padding(toLength: max(32, key.count), withPad: " ", startingAt: 0)
                    let prefix = cluster == nil ? "" : address.padding(toLength: max(24, address.count), withPad: " ", startingAt: 0) + " "
                    print("\(prefix)\(name): \(table[key] ?? "")")
                }
            }
        }
    }
}

/// `deleteSubGroup`: removes a subscription group from one broker (`-b`) or every master of a
/// cluster (`-c`); with `-c`, as mqadmin does, the group's `%RETRY%` and `%DLQ%` topics are deleted
/// from the cluster too. `-r true` also removes the group's committed offsets.
struct DeleteSubGroupCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "deleteSubGroup", abstract: "Delete a subscription group.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("groupName")], help: "Group name.") var group: String
    /// One broker address.
    @Option(name: [.customShort("b"), .customLong("brokerAddr")], help: "Delete on this broker (host:port).") var broker: String?
    /// The cluster.
    @Option(name: [.customShort("c"), .customLong("clusterName")], help: "Delete on every master of this cluster.") var cluster: String?
    /// Whether the group's committed offsets go too.
    @Option(name: [.customShort("r"), .customLong("removeOffset")], help: "Also remove the group's offsets (true/false).")
    var removeOffset = false

    /// Checks the flags.
    func validate() throws {
        if cluster == nil, broker == nil { throw ValidationError("give a cluster with -c or a broker address with -b") }
        if group.isEmpty { throw ValidationError("the group name must not be empty") }
    }

    /// Sends DELETE_SUBSCRIPTIONGROUP to each target, then (with `-c`) deletes the group's topics.
    func run() async throws {
        try await runAdmin(common) { session in
            let addresses = try await session.targets(cluster: cluster, broker: broker)
            for address in addresses {
                let fields = ["groupName": group, "removeOffset": String(removeOffset)]
                let response = try await session.call(address, .deleteSubscriptiongroup, fields)
                if response.responseCode == .subscriptionGroupNotExist {
                    throw AdminError("subscription group \(group) does not exist on broker \(address)")
                }
                try session.expectSuccess(response, "deleting group \(group) on \(address)")
                if !common.json {
                    print("delete subscription group [\(group)] from broker [\(address)] in cluster [\(cluster ?? "")] success.")
                }
            }
            let topics = cluster == nil ? [] : ["%RETRY%" + group, "%DLQ%" + group]
            if let cluster {
                for topic in topics { try await deleteTopic(topic, cluster: cluster, brokers: addresses, session: session) }
            }
            if common.json {
                Output.json(.object([
                    "group": .string(group), "brokers": .strings(addresses), "removeOffset": .bool(removeOffset),
                    "deletedTopics": .strings(topics),
                ]))
            }
        }
    }

    /// Deletes `topic` on every broker of the cluster and at the name server.
    func deleteTopic(_ topic: String, cluster: String, brokers: [String], session: AdminSession) async throws(AdminError) {
        for address in brokers {
            try session.expectSuccess(try await session.call(address, .deleteTopicInBroker, ["topic": topic]), "deleting \(topic) on \(address)")
        }
        let response = try await session.callNameServer(.deleteTopicInNamesrv, ["topic": topic, "clusterName": cluster])
        try session.expectSuccess(response, "deleting \(topic) in the name server")
        if !common.json { print("delete topic [\(topic)] from cluster [\(cluster)] success.") }
    }
}
