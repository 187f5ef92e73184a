import ArgumentParser
import PetrelCore

/// `topicList`: every topic the name server knows, one per line. With `-c` (mqadmin's cluster
/// mode) a table of cluster, topic and the topic's attributes (RocketMQ 5's `attributes`, e.g. the
/// `compression.*` settings set with `updateTopic -a`), read from each master's topic configuration
/// (GET_ALL_TOPIC_CONFIG): one row per cluster holding the topic, `key=value` pairs sorted by key
/// and separated by ',', `-` when there are none. Masters of one cluster that disagree show each
/// distinct set, separated by ` | `. With `--json`, `-c` adds `topicDetails`: objects with
/// `cluster`, `topic` and `attributes` (an object per distinct set, as above).
struct TopicListCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "topicList", abstract: "List all topics.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// Show clusters and attributes.
    @Flag(name: [.customShort("c"), .customLong("clusterModel")], help: "Show each topic's cluster and attributes.")
    var clusterModel = false

    /// Prints the topics, sorted.
    func run() async throws {
        try await runAdmin(common) { session in
            let topics = try await session.topicList().topicList.sorted()
            guard clusterModel else {
                if common.json { return Output.json(.object(["topics": .strings(topics)])) }
                return topics.forEach { print($0) }
            }
            let details = try await Self.details(session, topics: topics)
            if common.json {
                return Output.json(.object(["topics": .strings(topics), "topicDetails": .array(details.map(\.json))]))
            }
            Output.table(["#Cluster Name", "#Topic", "#Attributes"], details.map { [$0.cluster, $0.topic, $0.attributesText] })
        }
    }

    /// One topic in one cluster.
    struct Detail {
        /// The cluster, `-` when no master holds the topic (e.g. a route only the name server has).
        var cluster: String
        /// The topic.
        var topic: String
        /// The distinct attribute sets the cluster's masters hold for it.
        var attributes: [[String: String]]

        /// `key=value,…` per set, sets separated by ` | `; `-` when empty.
        var attributesText: String {
            let sets = attributes.filter { !$0.isEmpty }
            if sets.isEmpty { return "-" }
            return sets.map { set in set.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
                .joined(separator: " | ")
        }

        /// The `--json` form.
        var json: JSONValue {
            let sets: [JSONValue] = attributes.map { .object($0.mapValues { .string($0) }) }
            return .object(["cluster": .string(cluster), "topic": .string(topic), "attributes": sets.count == 1 ? sets[0] : .array(sets)])
        }
    }

    /// The rows for `topics`: each cluster's masters are asked once for their topic configuration.
    static func details(_ session: AdminSession, topics: [String]) async throws(AdminError) -> [Detail] {
        let info = try await session.clusterInfo()
        var attributesByCluster: [String: [String: [[String: String]]]] = [:]
        for cluster in info.clusterAddrTable.keys.sorted() {
            for (_, address) in try await session.masters(cluster: cluster) {
                for (topic, config) in try await session.topicConfigs(address: address)
                where !(attributesByCluster[cluster]?[topic]?.contains(config.attributes) ?? false) {
                    attributesByCluster[cluster, default: [:]][topic, default: []].append(config.attributes)
                }
            }
        }
        return topics.flatMap { topic -> [Detail] in
            let clusters = attributesByCluster.keys.sorted().filter { attributesByCluster[$0]?[topic] != nil }
            if clusters.isEmpty { return [Detail(cluster: "-", topic: topic, attributes: [[:]])] }
            return clusters.map { Detail(cluster: $0, topic: topic, attributes: attributesByCluster[$0]![topic]!) }
        }
    }
}

extension AdminSession {
    /// The topic configurations of the broker at `address` (GET_ALL_TOPIC_CONFIG), by topic.
    func topicConfigs(address: String) async throws(AdminError) -> [String: TopicConfig] {
        let response = try expectSuccess(try await call(address, .getAllTopicConfig), "GET_ALL_TOPIC_CONFIG from \(address)")
        let wrapper = try decodeJSON(response, "topic configuration")
        guard case .object(let members) = wrapper, case .object(let table)? = members["topicConfigTable"] else {
            throw AdminError("the topic configuration of \(address) has no topicConfigTable")
        }
        var configs: [String: TopicConfig] = [:]
        for (name, value) in table where value != .null {
            do { configs[name] = try TopicConfig(json: value, fallbackName: name) } catch {
                throw AdminError("the topic configuration of \(address) is not valid for topic \(name): \(error)")
            }
        }
        return configs
    }
}
