import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Admin requests the broker serves by calling a group's live consumers (spec §3, §4.3):
/// INVOKE_BROKER_TO_RESET_OFFSET (222) → RESET_CONSUMER_CLIENT_OFFSET (220),
/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223) → GET_CONSUMER_STATUS_FROM_CLIENT (221), and
/// CONSUME_MESSAGE_DIRECTLY (309), which the broker completes with the stored message and forwards.
extension BrokerRequestHandler {
    /// How long a consumer may take over a message sent to it directly (Java's `callClient`: 10 s).
    static let directConsumeTimeout: Duration = .seconds(10)

    /// Resets `group`'s offsets on this broker's queues of `topic` to the first message stored at or
    /// after `timestamp` (-1: the end of each queue). Without `isForce` an offset only moves back.
    /// The new offsets are committed and persisted here, so a group with no live client starts
    /// from them too; each live client gets RESET_CONSUMER_CLIENT_OFFSET with the table (the C++
    /// client's list form for CPP clients). Answers Java's `ResetOffsetBody`.
    func resetOffsetByTime(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let topic = try fields.nonEmptyString("topic")
        let group = try fields.nonEmptyString("group")
        let timestamp = try fields.int64("timestamp")
        guard let isForce = try fields.optionalBool("isForce") else {
            throw RequestFailure(.systemError, "the field isForce is missing")
        }
        guard let topicConfig = topics.topic(topic) else {
            throw RequestFailure(.topicNotExist, "[reset-offset] reset offset failed, no topic in this broker. topic=\(topic)")
        }
        let members = clients.consumerGroup(group).map { Array($0.clients.values) } ?? []
        let table = try resetTable(group: group, topic: topicConfig, timestamp: timestamp, isForce: isForce, hasClients: !members.isEmpty)
        for (queue, offset) in table { offsets.commit(group: group, topic: topic, queueId: queue.queueId, offset: offset) }
        do { try offsets.persist() } catch { report(error, while: "persisting reset offsets") }
        logger.info("consumer offsets reset", metadata: [
            "group": "\(group)", "topic": "\(topic)", "timestamp": "\(timestamp)", "force": "\(isForce)", "clients": "\(members.count)",
        ])
        let header = ["topic": topic, "group": group, "timestamp": String(timestamp), "isForce": String(isForce)]
        for member in members {
            let body = Self.resetBody(table, listForm: member.language == .cpp)
            let notice = RemotingCommand.request(code: .resetConsumerClientOffset, extFields: header, body: body)
            do { try await member.channel.invokeOneway(notice) } catch {
                logger.warning("telling a consumer to reset its offsets failed", metadata: [
                    "group": "\(group)", "client": "\(member.clientId)", "remote": "\(member.channel.remoteAddress)", "error": "\(error)",
                ])
            }
        }
        return request.response(body: Self.resetBody(table, listForm: false))
    }

    /// The new offset of each of the topic's read queues. A queue the group never committed takes the
    /// timestamp's offset; a group the broker knows nothing of (no committed offset on the topic, no
    /// live client, no subscription group configuration) is refused, as Java refuses an unknown group.
    private func resetTable(
        group: String, topic: TopicConfig, timestamp: Int64, isForce: Bool, hasClients: Bool
    ) throws(RequestFailure) -> [MessageQueue: Int64] {
        let name = topic.topicName
        let queueIds = (0..<max(topic.readQueueNums, 0)).map { Int32($0) }
        let committed = queueIds.map { offsets.offset(group: group, topic: name, queueId: $0) }
        if !hasClients, committed.allSatisfy({ $0 == nil }), subscriptionGroups.group(group) == nil {
            throw RequestFailure(.systemError, "THe consumer group <\(group)> not exist")
        }
        var table: [MessageQueue: Int64] = [:]
        for (queueId, current) in zip(queueIds, committed) {
            let target = timestamp == -1
                ? store.maximumOffset(topic: name, queueId: queueId).rawValue
                : store.offset(forTimestamp: timestamp, topic: name, queueId: queueId).rawValue
            let queue = MessageQueue(topic: name, brokerName: configuration.brokerName, queueId: queueId)
            if let current, !isForce, current <= target {
                table[queue] = current
            } else {
                table[queue] = max(target, 0)
            }
        }
        return table
    }

    /// Java's `ResetOffsetBody` (`{"offsetTable":{MQ:offset}}`, fastjson's queue-object keys), or with
    /// `listForm` its `ResetOffsetBodyForC` (`{"offsetTable":[{brokerName,offset,queueId,topic}]}`),
    /// the only form the C++ client reads.
    static func resetBody(_ table: [MessageQueue: Int64], listForm: Bool) -> ByteBuffer {
        guard listForm else { return ByteBuffer(string: #"{"offsetTable":"# + QueueKeyedOffsets.text(table) + "}") }
        let entries: [JSONValue] = table.keys.sorted().map { queue in
            .object([
                "brokerName": .string(queue.brokerName), "offset": .integer(table[queue] ?? 0),
                "queueId": .integer(queue.queueId), "topic": .string(queue.topic),
            ])
        }
        return ByteBuffer(bytes: JSONValue.object(["offsetTable": .array(entries)]).serialized())
    }

    /// Asks the group's clients (or only `clientAddr`, a client id, when given) for their offsets of
    /// `topic` and answers Java's `GetConsumerStatusBody`, `consumerTable` keyed by client id.
    /// Clients that fail or do not answer (the C++ 1.2.3 client ignores 221) are left out.
    func consumerStatus(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let topic = try fields.nonEmptyString("topic")
        let group = try fields.nonEmptyString("group")
        let wanted = fields.optionalString("clientAddr").flatMap { $0.isEmpty ? nil : $0 }
        let members = clients.consumerGroup(group).map { Array($0.clients.values) } ?? []
        guard !members.isEmpty else {
            throw RequestFailure(.systemError, "No Any Consumer online in the consumer group: [\(group)]")
        }
        let asked = members.filter { wanted == nil || $0.clientId == wanted }
        guard !asked.isEmpty else {
            throw RequestFailure(.systemError, "The Consumer <\(wanted ?? "")> Not Online in the consumer group: [\(group)]")
        }
        let answers = await withTaskGroup(of: (String, [MessageQueue: Int64]?).self) { tasks in
            for member in asked {
                tasks.addTask { (member.clientId, await self.clientStatus(member, topic: topic, group: group)) }
            }
            var collected: [String: [MessageQueue: Int64]] = [:]
            for await (clientId, table) in tasks { if let table { collected[clientId] = table } }
            return collected
        }
        let entries = answers.keys.sorted().map { JSONValue.string($0).serializedString + ":" + QueueKeyedOffsets.text(answers[$0] ?? [:]) }
        let body = #"{"consumerTable":{"# + entries.joined(separator: ",") + #"},"messageQueueTable":{}}"#
        return request.response(body: ByteBuffer(string: body))
    }

    /// One client's answer to GET_CONSUMER_STATUS_FROM_CLIENT; nil (logged) when it fails.
    private func clientStatus(_ member: RegisteredClient, topic: String, group: String) async -> [MessageQueue: Int64]? {
        let ask = RemotingCommand.request(code: .getConsumerStatusFromClient, extFields: [
            "topic": topic, "group": group, "clientAddr": member.clientId,
        ])
        let problem: String
        do {
            let answer = try await member.channel.invoke(ask, timeout: Self.clientCallTimeout)
            if answer.responseCode == .success {
                return try QueueKeyedOffsets.parse(Array(buffer: answer.body ?? ByteBuffer()), member: "messageQueueTable")
            }
            problem = "code \(answer.code): \(answer.remark ?? "")"
        } catch {
            problem = "\(error)"
        }
        logger.warning("a consumer did not report its status", metadata: [
            "group": "\(group)", "client": "\(member.clientId)", "remote": "\(member.channel.remoteAddress)", "problem": "\(problem)",
        ])
        return nil
    }

    /// Looks up the message named by `msgId` (an offset message id of this broker), puts it in the
    /// body, names this broker in `brokerName` and forwards the request to the client `clientId` of
    /// `consumerGroup`; the client's answer (a `ConsumeMessageDirectlyResult`) is passed back.
    func consumeMessageDirectly(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let group = try fields.nonEmptyString("consumerGroup")
        let clientId = try fields.nonEmptyString("clientId")
        let messageId = try fields.nonEmptyString("msgId")
        let offset: CommitLogOffset
        do { offset = try MessageId.decodeOffsetId(messageId).commitLogOffset } catch {
            throw RequestFailure(.systemError, "the msgId must be an offset message id: \(error.message)")
        }
        let record: StoredRecordSlice
        do { record = try store.record(at: offset) } catch {
            throw RequestFailure(.systemError, "can not find message by the msgId \(messageId): \(error.message)")
        }
        var body = ByteBuffer()
        try writeForClient([record], request: request, into: &body)
        guard let channel = clients.consumerChannel(group: group, clientId: clientId) else {
            throw RequestFailure(.systemError, "The Consumer <\(group)> <\(clientId)> not online")
        }
        var extFields = request.extFields
        extFields["brokerName"] = configuration.brokerName
        let forwarded = RemotingCommand.request(code: .consumeMessageDirectly, extFields: extFields, body: body)
        let answer: RemotingCommand
        do { answer = try await channel.invoke(forwarded, timeout: Self.directConsumeTimeout) } catch {
            if error.code == .timeout {
                throw RequestFailure(.consumeMsgTimeout, "consumer <\(group)> <\(clientId)> Timeout: \(error.message)")
            }
            throw RequestFailure(.systemError, "invoke consumer <\(group)> <\(clientId)> Exception: \(error.message)")
        }
        return request.response(code: answer.responseCode, remark: answer.remark, body: answer.body)
    }
}
