import ArgumentParser
import NIOCore
import PetrelCore
import PetrelRemoting

/// `updateSubGroup`: creates or updates a subscription group on one broker or a cluster's masters.
struct UpdateSubGroupCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "updateSubGroup", abstract: "Create or update a subscription group.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("groupName")], help: "Group name.") var group: String
    /// The cluster.
    @Option(name: [.customShort("c"), .customLong("clusterName")], help: "Update on every master of this cluster.") var cluster: String?
    /// One broker address.
    @Option(name: [.customShort("b"), .customLong("brokerAddr")], help: "Update on this broker (host:port).") var broker: String?
    /// Whether the group may consume.
    @Option(name: [.customShort("s"), .customLong("consumeEnable")], help: "Consume enabled.") var consumeEnable = true
    /// Whether a new group starts from the minimum offset.
    @Option(name: [.customShort("m"), .customLong("consumeFromMinEnable")], help: "Consume from min offset.") var consumeFromMin = false
    /// Broadcast consumption.
    @Option(name: [.customShort("d"), .customLong("consumeBroadcastEnable")], help: "Broadcast consumption.") var broadcast = false
    /// Retry queues.
    @Option(name: [.customShort("q"), .customLong("retryQueueNums")], help: "Retry queue count.") var retryQueueNums: Int32 = 1
    /// Redeliveries before the dead-letter queue.
    @Option(name: [.customShort("r"), .customLong("retryMaxTimes")], help: "Retries before the DLQ.") var retryMaxTimes: Int32 = 16
    /// The broker id consumers read from.
    @Option(name: [.customShort("i"), .customLong("brokerId")], help: "Broker id to consume from.") var brokerId: Int64 = 0
    /// The broker id used when consumption is slow.
    @Option(name: [.customShort("w"), .customLong("whichBrokerWhenConsumeSlowly")], help: "Broker id when slow.") var slowBrokerId: Int64 = 1

    /// Checks the flags.
    func validate() throws {
        if cluster == nil, broker == nil { throw ValidationError("give a cluster with -c or a broker address with -b") }
    }

    /// The SubscriptionGroupConfig body.
    var config: JSONValue {
        .object([
            "groupName": .string(group), "consumeEnable": .bool(consumeEnable), "consumeFromMinEnable": .bool(consumeFromMin),
            "consumeBroadcastEnable": .bool(broadcast), "retryQueueNums": .integer(retryQueueNums),
            "retryMaxTimes": .integer(retryMaxTimes), "brokerId": .integer(brokerId),
            "whichBrokerWhenConsumeSlowly": .integer(slowBrokerId), "notifyConsumerIdsChangedEnable": .bool(true),
        ])
    }

    /// Sends UPDATE_AND_CREATE_SUBSCRIPTIONGROUP to each target.
    func run() async throws {
        try await runAdmin(common) { session in
            let addresses = try await session.targets(cluster: cluster, broker: broker)
            for address in addresses {
                let response = try await session.call(
                    address, .updateAndCreateSubscriptiongroup, body: ByteBuffer(bytes: config.serialized()))
                try session.expectSuccess(response, "updating group \(group) on \(address)")
                if !common.json { print("create subscription group to \(address) success.") }
            }
            if common.json { Output.json(.object(["brokers": .strings(addresses), "subscriptionGroupConfig": config])) } else {
                print(config.serializedString)
            }
        }
    }
}

/// `resendDLQ`: sends every message of `%DLQ%<group>` back to the topic it came from (its
/// `RETRY_TOPIC` property) or, with `-t`, to the given topic.
struct ResendDLQCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "resendDLQ", abstract: "Resend a group's dead-letter messages.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("consumerGroup")], help: "Consumer group.") var group: String
    /// Where to send instead of the original topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Send to this topic instead.") var topic: String?
    /// Most messages resent.
    @Option(name: [.customShort("c"), .customLong("count")], help: "Most messages resent.") var count = 1024

    /// Reads the DLQ from offset 0 and resends each message.
    func run() async throws {
        try await runAdmin(common) { session in
            let deadTopic = "%DLQ%" + group
            let route: TopicRouteData
            do { route = try await session.route(topic: deadTopic) } catch {
                throw AdminError("consumer group \(group) has no dead-letter queue (topic \(deadTopic) does not exist)")
            }
            var items: [JSONValue] = []
            var rows: [[String]] = []
            for queue in session.queues(route) where items.count < count {
                let messages = try await session.readQueue(
                    group: AdminSession.toolsGroup, topic: deadTopic, queue: queue, from: 0, limit: count - items.count)
                for stored in messages {
                    let target = try destination(stored)
                    var properties = stored.message.properties
                    properties[PropertyKey.retryTopic] = nil
                    let outcome = try await session.send(
                        topic: target, queue: try await session.writableQueue(topic: target, brokerName: nil, queueId: nil),
                        body: Array(buffer: stored.message.body), properties: properties)
                    rows.append([Output.messageId(stored), target, outcome.msgId])
                    items.append(.object(["dlqMsgId": .string(Output.messageId(stored)), "topic": .string(target), "send": outcome.json]))
                }
            }
            if common.json { return Output.json(.object(["group": .string(group), "resent": .array(items)])) }
            Output.table(["#DLQ MsgId", "#Topic", "#New MsgId"], rows)
        }
    }

    /// The topic a dead-letter message goes back to.
    func destination(_ stored: StoredMessage) throws(AdminError) -> String {
        if let topic { return topic }
        guard let original = stored.message.properties[PropertyKey.retryTopic] else {
            throw AdminError("dead-letter message \(Output.messageId(stored)) has no RETRY_TOPIC property; give -t")
        }
        return original
    }
}
