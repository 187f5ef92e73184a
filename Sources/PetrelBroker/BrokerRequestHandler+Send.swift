import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320), spec §8.
extension BrokerRequestHandler {
    /// The body CRC sends are built with: the store computes the real one at put (over the body as
    /// stored, after compression), so computing it here too cost ~4 % of the broker's CPU per send.
    static let checksumComputedByStore: Int32 = 0
    /// The largest body a send may be compressed with on its connection's event loop; a larger
    /// one, on a broker with a compressor, is handled off the loop (`sendOnEventLoop` declines it).
    static let largestBodyCompressedOnEventLoop = 16 * 1024

    /// Where a send goes once topic, retry rules and queue are settled.
    struct SendTarget {
        /// The topic stored into (the dead-letter topic when retries are exhausted).
        var topic: TopicConfig
        /// The queue stored into.
        var queueId: Int32
    }

    /// What a send stores: one message or a batch's, all for one queue.
    struct PreparedSend {
        /// The records to append.
        var messages: [StoredMessage]
        /// Their queue.
        var queueId: Int32
        /// How the commit log stores them (compact for a compressed topic, `compressing` decides).
        var format: StoredRecordFormat = .standard
    }

    /// Checks, auto-creates, picks the queue and stores one message or a batch.
    func send(_ request: RemotingCommand, client: any ClientChannel) async throws(RequestFailure) -> RemotingCommand {
        let prepared = try compressing(try prepareSend(request, client: client))
        let result = await store.put(batch: prepared.messages, format: prepared.format)
        return try sendResponse(request, result, queueId: prepared.queueId)
    }

    /// Handles a send on the connection's event loop, sparing it a task and its thread hops. Under
    /// `ASYNC_FLUSH` (or for `WAIT=false`) the put never waits and the send is answered at once.
    /// Under `SYNC_FLUSH` the put returns the offset to wait for; the send is taken on (`.later`)
    /// and answered from the store's flush completion, which hands the outcome to the connection's
    /// event loop (group commit: one flush round answers every send it covers). Declines codes
    /// other than sends, and large bodies to compress (they would stall the loop).
    func sendOnEventLoop(_ request: RemotingCommand, client: any ClientChannel) -> EventLoopAnswer {
        switch request.requestCode {
        case .sendMessage, .sendMessageV2, .sendBatchMessage: break
        default: return .declined
        }
        // Compressing a large body (milliseconds at high levels) would stall every connection of
        // the loop; such sends take the task path, off the loop.
        if compression.compressor != nil, (request.body?.readableBytes ?? 0) > Self.largestBodyCompressedOnEventLoop { return .declined }
        do throws(RequestFailure) {
            let prepared = try compressing(try prepareSend(request, client: client))
            let (result, flushTarget) = store.putWithoutFlushWait(batch: prepared.messages, format: prepared.format)
            guard let flushTarget else { return .answered(try sendResponse(request, result, queueId: prepared.queueId)) }
            let queueId = prepared.queueId
            let appended = result.appended
            // Runs on a store thread that must not block: it only queues the answer for the loop,
            // where the response is built.
            let settled = store.whenFlushed(upTo: flushTarget) { [self] status in
                client.answerLater(request) {
                    self.flushedSendResponse(request, PutResult(status: status, appended: appended), queueId: queueId, client: client)
                }
            }
            guard let settled else {
                sendsAnsweredAfterFlush.add(1, ordering: .relaxed)
                return .later
            }
            return .answered(try sendResponse(request, PutResult(status: settled, appended: appended), queueId: queueId))
        } catch {
            return .answered(refusal(request, error, client: client))
        }
    }

    /// The response to a send whose flush settled with `result`'s status: the same codes and
    /// remarks as the task path (FLUSH_DISK_TIMEOUT, or a refusal for a failed or stopped flush).
    private func flushedSendResponse(
        _ request: RemotingCommand, _ result: PutResult, queueId: Int32, client: any ClientChannel
    ) -> RemotingCommand {
        do throws(RequestFailure) {
            return try sendResponse(request, result, queueId: queueId)
        } catch {
            return refusal(request, error, client: client)
        }
    }

    /// The response refusing `request` for `failure`, logged like `handle` logs its refusals.
    func refusal(_ request: RemotingCommand, _ failure: RequestFailure, client: any ClientChannel) -> RemotingCommand {
        logger.debug("request refused", metadata: [
            "code": "\(request.requestCode)", "response": "\(failure.code)", "remark": "\(failure.remark)",
            "remote": "\(client.remoteAddress)",
        ])
        return request.response(code: failure.code, remark: failure.remark)
    }

    /// Validates a send, auto-creates its topic, picks the queue and builds the records to store.
    func prepareSend(_ request: RemotingCommand, client: any ClientChannel) throws(RequestFailure) -> PreparedSend {
        try checkWritable()
        let header = try SendRequestHeader(request)
        if let problem = SystemNames.topicNameProblem(header.topic) { throw RequestFailure(.systemError, problem) }
        if SystemNames.sendForbiddenTopics.contains(header.topic) {
            throw RequestFailure(.noPermission, "sending message to topic[\(header.topic)] is forbidden")
        }
        let isHalf = Self.isHalfMessage(header)
        if !isHalf && MessageSysFlag(rawValue: header.sysFlag).transaction != .notTransaction {
            throw RequestFailure(.noPermission, "commit/rollback sysFlag on a send is not allowed; use END_TRANSACTION")
        }
        guard let body = request.body, body.readableBytes > 0 else {
            throw RequestFailure(.messageIllegal, "the message body is empty")
        }
        let limit = store.configuration.maximumMessageSize
        guard body.readableBytes <= limit else {
            throw RequestFailure(.messageIllegal, "the message body size \(body.readableBytes) exceeds the maximum \(limit)")
        }
        let topic = try topicForSend(header)
        guard topic.perm.isWritable else {
            throw RequestFailure(.noPermission, "the topic[\(topic.topicName)] sending message is forbidden")
        }
        let bornHost = Self.bornHost(client.remoteAddress)
        if header.isBatch {
            if isHalf { throw RequestFailure(.messageIllegal, "batch messages do not support transactions") }
            let target = try pickQueue(header, topic)
            return try batchMessages(header: header, body: body, target: target, bornHost: bornHost)
        }
        let target = try retryOrDeadLetter(request, header: header, target: try pickQueue(header, topic))
        var properties = header.properties
        properties[PropertyKey.cluster] = configuration.brokerClusterName
        var sysFlag = MessageSysFlag(rawValue: header.sysFlag)
        if target.topic.topicFilterType == .multiTag { sysFlag.insert(.multiTags) }
        let message = StoredMessage(
            message: Message(topic: target.topic.topicName, flag: header.flag, properties: properties, body: body),
            queueId: target.queueId, sysFlag: sysFlag, bornTimestamp: header.bornTimestamp, bornHost: bornHost,
            reconsumeTimes: header.reconsumeTimes, bodyCRC: Self.checksumComputedByStore)
        // A future timer deliver time parks the message in rmq_sys_wheel_timer; DELAY > 0 parks it in
        // SCHEDULE_TOPIC_XXXX (spec §14); neither for the dead-letter topic.
        let deliverAt = try timerDeliverTime(header.properties, isHalf: isHalf)
        let stored = isHalf ? Self.halfMessage(message, producerGroup: header.producerGroup)
            : target.topic.topicName.hasPrefix(SystemNames.deadLetterPrefix) ? message
            : deliverAt.map { TimerMessages.parked(message, deliverAt: $0) }
            ?? ScheduleService.parked(message, levelCount: configuration.messageDelayLevels.count)
        return PreparedSend(messages: [stored], queueId: target.queueId)
    }

    /// The topic a send targets, auto-creating it from the request's template, or with one queue for
    /// a `%RETRY%` topic (spec §8.3 step 2). A new topic is registered with the name servers at once.
    func topicForSend(_ header: SendRequestHeader) throws(RequestFailure) -> TopicConfig {
        if let existing = topics.topic(header.topic) { return existing }
        if SystemNames.group(ofRetryTopic: header.topic) != nil {
            let made = topics.ensure(header.topic, queueNumbers: 1, perm: .readWrite)
            report(made.persistFailure, while: "creating \(header.topic)")
            if made.created { topicsChanged() }
            return made.topic
        }
        let (outcome, failure) = topics.createFromTemplate(
            topic: header.topic, template: header.defaultTopic, requestedQueueNumbers: header.defaultTopicQueueNumbers,
            topicSysFlag: 0)
        report(failure, while: "auto-creating \(header.topic)")
        switch outcome {
        case .existing(let topic):
            return topic
        case .created(let topic):
            logger.info("auto-created topic from \(header.defaultTopic)", metadata: ["topic": "\(topic.topicName)", "queues": "\(topic.writeQueueNums)"])
            topicsChanged()
            return topic
        case .refused(let reason):
            throw RequestFailure(.topicNotExist, "topic[\(header.topic)] not exist, apply first please! (\(reason))")
        }
    }

    /// The requested queue, or a random writable one when the request asks for none (queueId < 0).
    func pickQueue(_ header: SendRequestHeader, _ topic: TopicConfig) throws(RequestFailure) -> SendTarget {
        if header.queueId < 0 {
            guard topic.writeQueueNums > 0 else {
                throw RequestFailure(.systemError, "the topic[\(topic.topicName)] has no writable queue")
            }
            return SendTarget(topic: topic, queueId: Int32.random(in: 0..<topic.writeQueueNums))
        }
        let valid = max(topic.readQueueNums, topic.writeQueueNums)
        guard header.queueId < valid else {
            throw RequestFailure(.systemError, "request queueId[\(header.queueId)] is illegal, topic[\(topic.topicName)] has \(valid) queues")
        }
        return SendTarget(topic: topic, queueId: header.queueId)
    }

    /// A send to `%RETRY%<group>` whose redeliveries are used up goes to `%DLQ%<group>` queue 0
    /// instead (spec §14). Other sends are unchanged.
    func retryOrDeadLetter(_ request: RemotingCommand, header: SendRequestHeader, target: SendTarget) throws(RequestFailure) -> SendTarget {
        guard let group = SystemNames.group(ofRetryTopic: target.topic.topicName) else { return target }
        let (found, failure) = subscriptionGroups.findOrCreate(group)
        report(failure, while: "creating subscription group \(group)")
        guard let settings = found else {
            throw RequestFailure(.subscriptionGroupNotExist, "subscription group not exist, \(group)")
        }
        var limit = settings.retryMaxTimes
        if request.version >= Self.maxReconsumeTimesVersion, let asked = header.maxReconsumeTimes { limit = asked }
        guard header.reconsumeTimes >= limit else { return target }
        let made = topics.ensure(SystemNames.deadLetterTopic(group: group), queueNumbers: 1, perm: .readWrite)
        report(made.persistFailure, while: "creating the dead-letter topic of \(group)")
        if made.created { topicsChanged() }
        logger.info("redeliveries exhausted, storing in the dead-letter topic", metadata: ["group": "\(group)", "reconsumeTimes": "\(header.reconsumeTimes)"])
        return SendTarget(topic: made.topic, queueId: 0)
    }

    /// The records of a batch body, stored as consecutive messages of one queue (spec §8.4).
    private func batchMessages(
        header: SendRequestHeader, body: ByteBuffer, target: SendTarget, bornHost: MessageHost
    ) throws(RequestFailure) -> PreparedSend {
        if SystemNames.group(ofRetryTopic: target.topic.topicName) != nil {
            throw RequestFailure(.messageIllegal, "retry topics do not accept batches")
        }
        let entries = try BatchBody.decode(body)
        try refuseDelayedBatch(header, entries)
        if configuration.timerWheelEnable, entries.contains(where: { TimerMessages.isTimerRequest($0.properties) }) {
            throw RequestFailure(.messageIllegal, "timer message illegal: batch messages cannot carry a deliver time")
        }
        var sysFlag = MessageSysFlag(rawValue: header.sysFlag)
        if target.topic.topicFilterType == .multiTag { sysFlag.insert(.multiTags) }
        let wait = header.properties[PropertyKey.waitStoreMessageOK]
        let messages = entries.map { entry in
            var properties = entry.properties
            properties[PropertyKey.cluster] = configuration.brokerClusterName
            // The C++ client puts WAIT on the request header, not on the entries.
            if properties[PropertyKey.waitStoreMessageOK] == nil, let wait { properties[PropertyKey.waitStoreMessageOK] = wait }
            return StoredMessage(
                message: Message(topic: target.topic.topicName, flag: entry.flag, properties: properties, body: entry.body),
                queueId: target.queueId, sysFlag: sysFlag, bornTimestamp: header.bornTimestamp, bornHost: bornHost,
                reconsumeTimes: header.reconsumeTimes, bodyCRC: Self.checksumComputedByStore)
        }
        return PreparedSend(messages: messages, queueId: target.queueId)
    }

    /// Refuses a batch asking for delayed delivery, as RocketMQ does: its store answers MESSAGE_ILLEGAL
    /// for a batch whose `DELAY` (on the request) is above 0, and its clients refuse to batch a
    /// message with a delay level, so a `DELAY` on an entry is refused too rather than silently
    /// delivered at once.
    private func refuseDelayedBatch(_ header: SendRequestHeader, _ entries: [BatchEntry]) throws(RequestFailure) {
        let levels = configuration.messageDelayLevels.count
        var delayed = ScheduleService.level(of: header.properties, levelCount: levels) != nil ? "the request" : nil
        if delayed == nil, let index = entries.firstIndex(where: { ScheduleService.level(of: $0.properties, levelCount: levels) != nil }) {
            delayed = "batch entry \(index)"
        }
        guard let delayed else { return }
        throw RequestFailure(
            .messageIllegal, "batch messages do not support delayed delivery (\(PropertyKey.delayLevel) on \(delayed)); send delayed messages one at a time")
    }

    /// The send response for a store result (spec §8.3 step 8 and §5): ext `msgId` (offset ids,
    /// comma-joined for a batch), `queueId`, `queueOffset` (the first record's), `MSG_REGION`, `TRACE_ON`.
    func sendResponse(_ request: RemotingCommand, _ result: PutResult, queueId: Int32) throws(RequestFailure) -> RemotingCommand {
        let code: ResponseCode
        switch result.status {
        case .ok: code = .success
        case .flushDiskTimeout: code = .flushDiskTimeout
        case .diskFull:
            throw RequestFailure(.serviceNotAvailable, "service not available now: the broker's disk is full")
        case .flushFailed(let reason):
            throw RequestFailure(.serviceNotAvailable, "service not available now: an earlier flush failed (\(reason))")
        case .messageIllegal(let reason):
            throw RequestFailure(.messageIllegal, reason)
        case .serviceNotAvailable:
            throw RequestFailure(.serviceNotAvailable, "service not available now: the message store is shut down")
        case .ioFailure(let reason):
            logger.error("storing a message failed", metadata: ["error": "\(reason)"])
            throw RequestFailure(.systemError, "storing the message failed: \(reason)")
        }
        guard let appended = result.appended else {
            throw RequestFailure(.systemError, "the store reported success without a position")
        }
        let storeHost = store.configuration.storeHost
        let ids = appended.recordOffsets.map { MessageId.offsetId(storeHost: storeHost, commitLogOffset: $0) }
        statistics.recordPuts(ids.count)
        return request.response(code: code, extFields: [
            "msgId": ids.joined(separator: ","),
            "queueId": String(queueId),
            "queueOffset": String(appended.firstQueueOffset.rawValue),
            "MSG_REGION": Self.messageRegion,
            "TRACE_ON": "true",
        ])
    }

    /// BORNHOST for a peer address: the IPv4 address and port, or 127.0.0.1 with the peer's port for
    /// an IPv6 peer, because C++ decoders always read 8-byte hosts (spec §10.1).
    static func bornHost(_ remoteAddress: String) -> MessageHost {
        if let host = MessageHost(remoteAddress) { return host }
        var port: Int32 = 0
        if let colon = remoteAddress.lastIndex(of: ":"), let parsed = Int32(remoteAddress[remoteAddress.index(after: colon)...]),
           (0...65535).contains(parsed) {
            port = parsed
        }
        return MessageHost(address: 0x7F00_0001, port: port)
    }
}
