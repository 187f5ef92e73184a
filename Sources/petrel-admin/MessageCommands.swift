import ArgumentParser
import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting

/// What SEND_MESSAGE answered.
struct SendOutcome: Sendable {
    /// The broker group written to.
    var brokerName: String
    /// The queue.
    var queueId: Int32
    /// The message's queue offset.
    var queueOffset: Int64
    /// The offset message id.
    var msgId: String
    /// The producer-side unique key.
    var uniqKey: String

    /// The outcome as JSON.
    var json: JSONValue {
        .object([
            "sendStatus": .string("SEND_OK"), "brokerName": .string(brokerName), "queueId": .integer(queueId),
            "queueOffset": .integer(queueOffset), "msgId": .string(msgId), "uniqKey": .string(uniqKey),
        ])
    }
}

/// Sending messages.
extension AdminSession {
    /// The producer group the tool sends as.
    static let producerGroup = "PETREL_ADMIN_PRODUCER"
    /// Unique keys for the messages the tool sends.
    static let uniqueKeys = UniqueKeyGenerator(address: 0x7F00_0001)

    /// Sends one message to `queue` of `topic`.
    func send(topic: String, queue: QueueRef, body: [UInt8], properties: MessageProperties, reconsumeTimes: Int32 = 0) async throws(AdminError) -> SendOutcome {
        var properties = properties
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let uniqKey = properties[PropertyKey.uniqueKey] ?? Self.uniqueKeys.next(nowMilliseconds: now)
        properties[PropertyKey.uniqueKey] = uniqKey
        let fields = [
            "producerGroup": Self.producerGroup, "topic": topic, "defaultTopic": Self.defaultTopic, "defaultTopicQueueNums": "4",
            "queueId": String(queue.queueId), "sysFlag": "0", "bornTimestamp": String(now), "flag": "0",
            "properties": String(decoding: properties.encoded(), as: UTF8.self), "reconsumeTimes": String(reconsumeTimes),
            "unitMode": "false", "batch": "false",
        ]
        let response = try await call(queue.address, .sendMessage, fields, body: ByteBuffer(bytes: body))
        try expectSuccess(response, "sending to \(topic):\(queue.brokerName):\(queue.queueId)")
        return SendOutcome(
            brokerName: queue.brokerName, queueId: response.optionalString("queueId").flatMap { Int32($0) } ?? queue.queueId,
            queueOffset: response.optionalString("queueOffset").flatMap { Int64($0) } ?? -1,
            msgId: response.optionalString("msgId") ?? "", uniqKey: uniqKey)
    }

    /// A writable queue of `topic`: `queueId` of `brokerName` when given, else queue 0 of the first writable broker.
    func writableQueue(topic: String, brokerName: String?, queueId: Int32?) async throws(AdminError) -> QueueRef {
        let route = try await route(topic: topic)
        let candidates = route.queueDatas.filter { $0.perm.isWritable && $0.writeQueueNums > 0 && (brokerName == nil || $0.brokerName == brokerName) }
        guard let data = candidates.sorted(by: { $0.brokerName < $1.brokerName }).first else {
            throw AdminError("topic \(topic) has no writable queue\(brokerName.map { " on broker \($0)" } ?? "")")
        }
        return QueueRef(brokerName: data.brokerName, address: try masterAddress(route, brokerName: data.brokerName), queueId: queueId ?? 0)
    }
}

/// `sendMessage`: sends one message.
struct SendMessageCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "sendMessage", abstract: "Send one message.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The body.
    @Option(name: [.customShort("p"), .customLong("body")], help: "Message body (UTF-8).") var body: String
    /// Keys, space separated.
    @Option(name: [.customShort("k"), .customLong("keys")], help: "Message keys.") var keys: String?
    /// The tag.
    @Option(name: [.customShort("c"), .customLong("tags")], help: "Message tag.") var tags: String?
    /// The broker group.
    @Option(name: [.customShort("b"), .customLong("broker")], help: "Broker name.") var brokerName: String?
    /// The queue.
    @Option(name: [.customShort("i"), .customLong("qid")], help: "Queue id (default 0).") var queueId: Int32?

    /// Sends and prints where the message went.
    func run() async throws {
        try await runAdmin(common) { session in
            var properties = MessageProperties()
            if let keys, !keys.isEmpty { properties[PropertyKey.keys] = keys }
            if let tags, !tags.isEmpty { properties[PropertyKey.tags] = tags }
            properties[PropertyKey.waitStoreMessageOK] = "true"
            let queue = try await session.writableQueue(topic: topic, brokerName: brokerName, queueId: queueId)
            let outcome = try await session.send(topic: topic, queue: queue, body: Array(body.utf8), properties: properties)
            if common.json { return Output.json(outcome.json) }
            Output.table(["#Broker Name", "#QID", "#Send Result", "#MsgId"],
                         [[outcome.brokerName, String(outcome.queueId), "SEND_OK", outcome.msgId]])
        }
    }
}

/// `consumeMessage`: prints a topic's messages from an offset (0 unless given), without committing.
struct ConsumeMessageCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "consumeMessage", abstract: "Print a topic's messages.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The group pulled as.
    @Option(name: [.customShort("g"), .customLong("consumerGroup")], help: "Consumer group.") var group = AdminSession.toolsGroup
    /// The broker group.
    @Option(name: [.customShort("b"), .customLong("brokerName")], help: "Only this broker.") var brokerName: String?
    /// The queue.
    @Option(name: [.customShort("q"), .customShort("i"), .customLong("queueId")], help: "Only this queue id.") var queueId: Int32?
    /// The start offset.
    @Option(name: [.customShort("o"), .customLong("offset")], help: "Start offset (default 0).") var offset: Int64 = 0
    /// Most messages printed.
    @Option(name: [.customShort("c"), .customLong("MessageNumber")], help: "Most messages printed.") var count = 128

    /// Pulls each selected queue from the offset to its end.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            var messages: [StoredMessage] = []
            for queue in session.queues(route, brokerName: brokerName) where queueId == nil || queue.queueId == queueId {
                guard messages.count < count else { break }
                messages += try await session.readQueue(group: group, topic: topic, queue: queue, from: offset, limit: count - messages.count)
            }
            Output.messages(messages, json: common.json)
        }
    }
}
