import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// CONSUMER_SEND_MSG_BACK (36), spec §14, and UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), spec §4.3.
extension BrokerRequestHandler {
    /// Routes the codes this file serves (one dispatch line in the handler's switch).
    func sendBackOrGroupAdmin(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        switch request.requestCode {
        case .consumerSendMsgBack: return try await consumerSendBack(request)
        case .updateAndCreateSubscriptiongroup: return try updateAndCreateSubscriptionGroup(request)
        default: throw RequestFailure(.requestCodeNotSupported, " request type \(request.code) not supported")
        }
    }

    /// A consumer gives a message back: it is stored again in `%RETRY%<group>` with a delay (so it is
    /// redelivered later with reconsumeTimes + 1), or in `%DLQ%<group>` once redeliveries are used up
    /// or the consumer asks for it (`delayLevel` < 0).
    func consumerSendBack(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        try checkWritable()
        let fields = RequestFields(command: request)
        let offset = try fields.int64("offset")
        let group = try fields.nonEmptyString("group")
        let delayLevel = try fields.optionalInt32("delayLevel") ?? 0
        let askedMaximum = try fields.optionalInt32("maxReconsumeTimes")

        let (found, failure) = subscriptionGroups.findOrCreate(group)
        report(failure, while: "creating subscription group \(group)")
        guard let settings = found else {
            throw RequestFailure(.subscriptionGroupNotExist, "subscription group not exist, \(group)")
        }
        if settings.retryQueueNums <= 0 { return request.response() }

        let retryName = SystemNames.retryTopic(group: group)
        let retry = topics.ensure(retryName, queueNumbers: settings.retryQueueNums, perm: .readWrite)
        report(retry.persistFailure, while: "creating \(retryName)")
        if retry.created { topicsChanged() }
        guard retry.topic.perm.isWritable else {
            throw RequestFailure(.noPermission, "the topic[\(retryName)] sending message is forbidden")
        }

        let original: StoredMessage
        do { original = try store.message(at: CommitLogOffset(offset)) } catch {
            throw RequestFailure(.systemError, "look message by offset failed, \(offset): \(error)")
        }

        var properties = original.message.properties
        if properties[PropertyKey.retryTopic] == nil { properties[PropertyKey.retryTopic] = original.message.topic }
        if properties[PropertyKey.originMessageId]?.isEmpty ?? true {
            properties[PropertyKey.originMessageId] = original.offsetMessageId
        }
        properties[PropertyKey.waitStoreMessageOK] = "false"

        var maximum = settings.retryMaxTimes
        if request.version >= Self.maxReconsumeTimesVersion, let askedMaximum { maximum = askedMaximum }
        let (target, queueId) = try sendBackTarget(
            group: group, original: original, offset: offset, exhausted: original.reconsumeTimes >= maximum || delayLevel < 0,
            delayLevel: delayLevel, retry: retry.topic, retryQueueCount: settings.retryQueueNums, properties: &properties)

        let message = StoredMessage(
            message: Message(topic: target.topicName, flag: original.message.flag, properties: properties, body: original.message.body),
            queueId: queueId, sysFlag: original.sysFlag, bornTimestamp: original.bornTimestamp, bornHost: original.bornHost,
            reconsumeTimes: original.reconsumeTimes + 1)
        do { try compression.noteRestored([message]) } catch {
            throw RequestFailure(.systemError, "storing the sent-back message failed: \(error.message)")
        }
        let result = await store.put(ScheduleService.parked(message, levelCount: configuration.messageDelayLevels.count))
        switch result.status {
        case .ok, .flushDiskTimeout:
            return request.response()
        case .diskFull:
            throw RequestFailure(.serviceNotAvailable, "service not available now: the broker's disk is full")
        case .flushFailed(let reason):
            throw RequestFailure(.serviceNotAvailable, "service not available now: an earlier flush failed (\(reason))")
        case .serviceNotAvailable:
            throw RequestFailure(.serviceNotAvailable, "service not available now: the message store is shut down")
        case .messageIllegal(let reason):
            throw RequestFailure(.systemError, "storing the sent-back message failed: \(reason)")
        case .ioFailure(let reason):
            logger.error("storing a sent-back message failed", metadata: ["error": "\(reason)"])
            throw RequestFailure(.systemError, "storing the sent-back message failed: \(reason)")
        }
    }

    /// Where a sent-back message goes: the group's dead-letter topic (queue 0, no delay) once its
    /// redeliveries are exhausted or the client asks for it (negative delay level), else a random
    /// queue of the retry topic with the delay level set (0 means the broker's schedule: 3 + times).
    private func sendBackTarget(
        group: String, original: StoredMessage, offset: Int64, exhausted: Bool, delayLevel: Int32, retry: TopicConfig,
        retryQueueCount: Int32, properties: inout MessageProperties
    ) throws(RequestFailure) -> (TopicConfig, Int32) {
        guard exhausted else {
            let level = delayLevel == 0 ? 3 + original.reconsumeTimes : delayLevel
            properties[PropertyKey.delayLevel] = String(level)
            return (retry, Int32.random(in: 0..<max(retryQueueCount, 1)))
        }
        let deadName = SystemNames.deadLetterTopic(group: group)
        let dead = topics.ensure(deadName, queueNumbers: 1, perm: .readWrite)
        report(dead.persistFailure, while: "creating \(deadName)")
        if dead.created { topicsChanged() }
        guard dead.topic.perm.isWritable else {
            throw RequestFailure(.noPermission, "the topic[\(deadName)] sending message is forbidden")
        }
        properties[PropertyKey.delayLevel] = nil
        logger.info("redeliveries exhausted, storing in the dead-letter topic", metadata: [
            "group": "\(group)", "reconsumeTimes": "\(original.reconsumeTimes)", "offset": "\(offset)",
        ])
        return (dead.topic, 0)
    }

    /// Creates or replaces a consumer group's settings from a `SubscriptionGroupConfig` JSON body
    /// (mqadmin `updateSubGroup`), and persists the table.
    func updateAndCreateSubscriptionGroup(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        guard let body = request.body, body.readableBytes > 0 else {
            throw RequestFailure(.systemError, "the request body (SubscriptionGroupConfig JSON) is missing")
        }
        let group: SubscriptionGroupConfig
        do { group = try SubscriptionGroupConfig(json: try JSONValue.parse(body)) } catch {
            throw RequestFailure(.systemError, "the body is not a valid SubscriptionGroupConfig: \(error)")
        }
        guard !group.groupName.isEmpty else { throw RequestFailure(.systemError, "the groupName must not be empty") }
        do { try subscriptionGroups.update(group) } catch {
            logger.error("persisting a subscription group failed", metadata: ["group": "\(group.groupName)", "error": "\(error)"])
            throw RequestFailure(.systemError, "the group is updated in memory but could not be persisted: \(error.message)")
        }
        logger.info("subscription group created or updated", metadata: [
            "group": "\(group.groupName)", "retryMaxTimes": "\(group.retryMaxTimes)", "retryQueueNums": "\(group.retryQueueNums)",
        ])
        return request.response()
    }
}
