import ArgumentParser
import Foundation
import PetrelCore
import PetrelRemoting

/// `topicStatus`: per queue minimum and maximum offset and the last message's store time; per broker
/// the topic's body bytes received from producers and stored (after compression), kept across restarts,
/// and how often pulls skipped a stored body the broker cannot decompress (since it started).
struct TopicStatusCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "topicStatus", abstract: "Show a topic's queue offsets.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String

    /// Prints one row per queue.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            var rows: [[String]] = []
            var items: [JSONValue] = []
            var bodyBytes: [String: BodyCounters] = [:]
            for queue in session.queues(route) {
                let minimum = try await session.queueOffset(.getMinOffset, topic: topic, queue: queue)
                let maximum = try await session.queueOffset(.getMaxOffset, topic: topic, queue: queue)
                if bodyBytes[queue.brokerName] == nil { bodyBytes[queue.brokerName] = try await session.bodyBytes(topic: topic, queue: queue) }
                var lastUpdate: Int64 = 0
                if maximum > 0 {
                    let last = try await session.pull(group: AdminSession.toolsGroup, topic: topic, queue: queue, offset: maximum - 1, count: 1)
                    lastUpdate = last.messages.first?.storeTimestamp ?? 0
                }
                rows.append([queue.brokerName, String(queue.queueId), String(minimum), String(maximum), Output.time(lastUpdate)])
                items.append(.object([
                    "brokerName": .string(queue.brokerName), "queueId": .integer(queue.queueId), "minOffset": .integer(minimum),
                    "maxOffset": .integer(maximum), "lastUpdateTimestamp": .integer(lastUpdate),
                ]))
            }
            let brokers = bodyBytes.keys.sorted()
            if common.json {
                let bytes: [JSONValue] = brokers.map { name in
                    .object(["brokerName": .string(name), "bodyBytesReceived": .integer(bodyBytes[name]!.received),
                             "bodyBytesStored": .integer(bodyBytes[name]!.stored), "undecodableBodies": .integer(bodyBytes[name]!.undecodable)])
                }
                return Output.json(.object(["topic": .string(topic), "queues": .array(items), "bodyBytes": .array(bytes)]))
            }
            Output.table(["#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"], rows)
            print("")
            let columns = ["#Broker Name", "#Body Bytes Received", "#Body Bytes Stored", "#Stored/Received", "#Undecodable Skipped"]
            Output.table(columns, brokers.map { name in
                let bytes = bodyBytes[name]!
                let ratio = bytes.received > 0 ? String(format: "%.3f", Double(bytes.stored) / Double(bytes.received)) : "-"
                return [name, String(bytes.received), String(bytes.stored), ratio, String(bytes.undecodable)]
            })
        }
    }
}

/// `consumerProgress`: per queue broker offset, consumer offset and lag of a group.
struct ConsumerProgressCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "consumerProgress", abstract: "Show a consumer group's progress.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("groupName")], help: "Consumer group.") var group: String
    /// Only this topic.
    @Option(name: [.customShort("t"), .customLong("topicName")], help: "Only this topic.") var topic: String?

    /// Prints one row per queue and the total lag.
    func run() async throws {
        try await runAdmin(common) { session in
            let topics = try await topicsToShow(session)
            var rows: [[String]] = []
            var items: [JSONValue] = []
            var totalLag: Int64 = 0
            for name in topics {
                let route = try await session.route(topic: name)
                for queue in session.queues(route) {
                    let brokerOffset = try await session.queueOffset(.getMaxOffset, topic: name, queue: queue)
                    let consumerOffset = try await session.consumerOffset(group: group, topic: name, queue: queue) ?? -1
                    let lag = max(0, brokerOffset - max(consumerOffset, 0))
                    totalLag += lag
                    rows.append([name, queue.brokerName, String(queue.queueId), String(brokerOffset), String(consumerOffset), String(lag)])
                    items.append(.object([
                        "topic": .string(name), "brokerName": .string(queue.brokerName), "queueId": .integer(queue.queueId),
                        "brokerOffset": .integer(brokerOffset), "consumerOffset": .integer(consumerOffset), "lag": .integer(lag),
                    ]))
                }
            }
            if common.json {
                return Output.json(.object(["group": .string(group), "queues": .array(items), "diffTotal": .integer(totalLag)]))
            }
            Output.table(["#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff"], rows)
            print("\nDiff Total: \(totalLag)")
        }
    }

    /// `-t`, or the topics in which the group committed offsets on any master (GET_ALL_CONSUMER_OFFSET).
    func topicsToShow(_ session: AdminSession) async throws -> [String] {
        if let topic { return [topic] }
        var topics = Set<String>()
        let suffix = "@" + group
        for master in try await session.allMasters() {
            let response = try session.expectSuccess(try await session.call(master.address, .getAllConsumerOffset), "GET_ALL_CONSUMER_OFFSET")
            guard let body = response.body, case .object(let root) = try JSONValue.parse(body),
                  case .object(let table)? = root["offsetTable"] else { continue }
            for key in table.keys where key.hasSuffix(suffix) { topics.insert(String(key.dropLast(suffix.count))) }
        }
        guard !topics.isEmpty else { throw AdminError("consumer group \(group) does not exist (no committed offsets)") }
        return topics.sorted()
    }
}
