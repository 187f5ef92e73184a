import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Admin requests (mqadmin, dashboard): UPDATE_AND_CREATE_TOPIC (17), GET_ALL_TOPIC_CONFIG (21),
/// DELETE_TOPIC_IN_BROKER (215), GET_CONSUMER_RUNNING_INFO (307), spec §4.3 and §18.
extension BrokerRequestHandler {
    /// How long the broker waits for a client's running info.
    static let clientCallTimeout: Duration = .seconds(5)
    /// Largest queue count accepted for a topic (the benchmark topic's).
    static let maximumQueueNumbers: Int32 = 1024

    /// Creates or replaces a topic, persists it and re-registers with the name servers.
    func updateAndCreateTopic(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let name = try fields.string("topic")
        if let problem = SystemNames.topicNameProblem(name) { throw RequestFailure(.systemError, problem) }
        if name == configuration.brokerClusterName {
            throw RequestFailure(.systemError, "the topic[\(name)] is conflict with system reserved words")
        }
        _ = try fields.string("defaultTopic")
        let read = try fields.int32("readQueueNums")
        let write = try fields.int32("writeQueueNums")
        let perm = try fields.int32("perm")
        for (field, value) in [("readQueueNums", read), ("writeQueueNums", write)] where !(0...Self.maximumQueueNumbers).contains(value) {
            throw RequestFailure(.systemError, "the field \(field) must be from 0 to \(Self.maximumQueueNumbers), got \(value)")
        }
        guard (0...15).contains(perm) else { throw RequestFailure(.systemError, "the field perm must be from 0 to 15, got \(perm)") }
        let filterText = try fields.string("topicFilterType")
        guard let filterType = TopicFilterType(json: .string(filterText)) else {
            throw RequestFailure(.systemError, "the field topicFilterType must be SINGLE_TAG or MULTI_TAG, got \"\(filterText)\"")
        }
        // RocketMQ 5's `attributes` alter the topic's current ones; without the field they are kept.
        let current = topics.topic(name)?.attributes ?? [:]
        let attributes = try fields.optionalString("attributes").map { text throws(RequestFailure) in
            try alteredAttributes(text, current)
        } ?? current
        let topic = TopicConfig(
            topicName: name, readQueueNums: read, writeQueueNums: write, perm: Permission(rawValue: perm),
            topicFilterType: filterType, topicSysFlag: try fields.optionalInt32("topicSysFlag") ?? 0,
            order: try fields.optionalBool("order") ?? false, attributes: attributes)
        do { try topics.update(topic) } catch {
            logger.error("persisting a topic failed", metadata: ["topic": "\(name)", "error": "\(error)"])
            topicsChanged()
            throw RequestFailure(.systemError, "the topic is updated in memory but could not be persisted: \(error.message)")
        }
        logger.info("topic created or updated", metadata: [
            "topic": "\(name)", "read": "\(read)", "write": "\(write)", "perm": "\(perm)", "attributes": "\(attributes)",
        ])
        topicsChanged()
        return request.response()
    }

    /// Removes a topic's configuration and committed offsets, then re-registers. System topics stay.
    func deleteTopic(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let name = try RequestFields(command: request).nonEmptyString("topic")
        if topics.systemTopics.contains(name) {
            throw RequestFailure(.systemError, "The specified topic[\(name)] is a system topic.")
        }
        let removed: Bool
        do { removed = try topics.delete(name) } catch {
            logger.error("persisting a topic deletion failed", metadata: ["topic": "\(name)", "error": "\(error)"])
            topicsChanged()
            throw RequestFailure(.systemError, "the topic is deleted in memory but the deletion could not be persisted: \(error.message)")
        }
        offsets.removeTopic(name)
        if removed {
            logger.info("topic deleted", metadata: ["topic": "\(name)"])
            topicsChanged()
        }
        return request.response()
    }

    /// Java's `TopicConfigSerializeWrapper`: `{"dataVersion":…,"topicConfigTable":{…}}`.
    func allTopicConfig(_ request: RemotingCommand) -> RemotingCommand {
        request.response(body: ByteBuffer(bytes: topics.serializedWrapper.serialized()))
    }

    /// Asks the named consumer for its running info and relays the answer (body passed through as
    /// opaque text, spec §3); SYSTEM_ERROR when the client is not connected or does not answer.
    func consumerRunningInfo(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let group = try fields.string("consumerGroup")
        let clientId = try fields.string("clientId")
        guard let channel = clients.consumerChannel(group: group, clientId: clientId) else {
            throw RequestFailure(.systemError, "The Consumer <\(clientId)> Not Online")
        }
        let forwarded = RemotingCommand.request(code: .getConsumerRunningInfo, extFields: request.extFields)
        let answer: RemotingCommand
        do { answer = try await channel.invoke(forwarded, timeout: Self.clientCallTimeout) } catch {
            throw RequestFailure(.systemError, "invoke the consumer <\(clientId)> <\(channel.remoteAddress)> failed: \(error)")
        }
        guard answer.responseCode == .success else {
            throw RequestFailure(.systemError, answer.remark ?? "the consumer answered code \(answer.code)")
        }
        return request.response(body: answer.body)
    }
}
