import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting

/// The requests admin tools and consoles reach a running consumer with, through its broker:
/// GET_CONSUMER_RUNNING_INFO (307), GET_CONSUMER_STATUS_FROM_CLIENT (221), CONSUME_MESSAGE_DIRECTLY
/// (309) and RESET_CONSUMER_CLIENT_OFFSET (220). Each handler claims only requests naming this
/// consumer's group.
extension PushConsumer: ConsumerAdminReporting {
    /// Registers the handlers on the client instance; `shutdown` removes them.
    func registerAdminHandlers() {
        let group = configuration.group
        let reports = registerReportHandlers(group: group)
        let direct = client.registerInboundHandler(code: .consumeMessageDirectly) { [weak self] request, _ in
            guard let self, request.extFields["consumerGroup"] == group else { return .notMine }
            return .response(await self.consumeDirectly(request))
        }
        let reset = client.registerInboundHandler(code: .resetConsumerClientOffset) { [weak self] request, _ in
            guard let self, request.extFields["group"] == group else { return .notMine }
            return .response(await self.resetOffsets(request))
        }
        adminRegistrations.withLockedValue { $0 += reports + [direct, reset] }
    }

    /// Java's `ConsumerRunningInfo`: settings as properties, subscriptions, one `ProcessQueueInfo` per
    /// served queue, and the per-topic pull and consume rates (`ConsumeStatistics`).
    func runningInfoText() -> String {
        let processQueues = state.withLockedValue { $0.processQueues }
        let started = startTimestamp.withLockedValue { $0 }
        let properties: [String: String] = [
            "PROP_NAMESERVER_ADDR": configuration.client.nameServerAddresses.joined(separator: ";"),
            "PROP_CONSUME_TYPE": ConsumeType.consumePassively.javaName,
            "PROP_CONSUMEORDERLY": String(listener.isOrderly),
            "PROP_THREADPOOL_CORE_SIZE": String(configuration.consumeThreadCount),
            "PROP_CONSUMER_START_TIMESTAMP": String(started),
            "PROP_CLIENT_VERSION": "Petrel \(PetrelClientModule.version)",
            "consumerGroup": configuration.group,
            "messageModel": configuration.messageModel.javaName,
            "consumeFromWhere": configuration.consumeFromWhere.javaName,
        ]
        var table: [MessageQueue: JSONValue] = [:]
        for (queue, processQueue) in processQueues {
            table[queue] = ConsumerAdminBodies.processQueueInfo(processQueue, commitOffset: offsetStore.offset(of: queue))
        }
        return ConsumerAdminBodies.runningInfo(
            properties: properties, subscriptions: subscriptions, queues: table, statistics: statistics.snapshots())
    }

    /// Java's `GetConsumerStatusBody`: the consumer's offset of each served queue of `topic`.
    func statusText(topic: String) -> String {
        let queues = state.withLockedValue { Array($0.processQueues.keys) }.filter { $0.topic == topic }
        var offsets: [MessageQueue: JSONValue] = [:]
        for queue in queues { offsets[queue] = .integer(offsetStore.offset(of: queue) ?? -1) }
        return ConsumerAdminBodies.status(offsets: offsets)
    }

    /// Decodes the stored message in the request's body, hands it to the listener once (outside the
    /// normal flow: no offset moves, nothing is sent back) and answers a `ConsumeMessageDirectlyResult`.
    func consumeDirectly(_ request: RemotingCommand) async -> RemotingCommand {
        guard var body = request.body, body.readableBytes > 0 else {
            return request.response(code: .systemError, remark: "CONSUME_MESSAGE_DIRECTLY without a message")
        }
        let message: ReceivedMessage
        do {
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            let stored = try bytes.withUnsafeBytes { raw throws(CoreError) in try StoredMessageCodec.decode(raw, verifyChecksum: false) }
            let brokerName = request.extFields["brokerName"] ?? ""
            let queue = MessageQueue(topic: stored.message.topic, brokerName: brokerName, queueId: stored.queueId)
            message = try PullResponseDecoder.received(stored, queue: queue)
        } catch {
            return request.response(code: .systemError, remark: "CONSUME_MESSAGE_DIRECTLY: the message does not decode: \(error)")
        }
        let queue = MessageQueue(topic: message.topic, brokerName: message.brokerName, queueId: message.stored.queueId)
        let clock = ContinuousClock()
        let begin = clock.now
        let status = await listener.body([message], ConsumeContext(queue: queue))
        let spent = begin.duration(to: clock.now).components
        let milliseconds = spent.seconds * 1000 + spent.attoseconds / 1_000_000_000_000_000
        let result = ConsumerAdminBodies.directResult(isOrderly: listener.isOrderly, status: status, spentMilliseconds: milliseconds)
        return request.response(body: ByteBuffer(bytes: result.serialized()))
    }

    /// RESET_CONSUMER_CLIENT_OFFSET (header topic, group, timestamp, isForce; body Java's
    /// `ResetOffsetBody`). The broker has reset the group's stored offsets already; each served queue of
    /// `topic` named in the body stops (its old offset is not committed), takes the new offset (stored
    /// on the broker too, so the restart reads it) and starts pulling again from there.
    func resetOffsets(_ request: RemotingCommand) async -> RemotingCommand {
        guard let topic = request.extFields["topic"], !topic.isEmpty else {
            return request.response(code: .systemError, remark: "RESET_CONSUMER_CLIENT_OFFSET without a topic")
        }
        let table: [MessageQueue: Int64]
        do {
            table = try QueueKeyedOffsets.parse(Array(buffer: request.body ?? ByteBuffer()))
        } catch {
            return request.response(code: .systemError, remark: "RESET_CONSUMER_CLIENT_OFFSET: unreadable body: \(error)")
        }
        let served = state.withLockedValue { Set($0.processQueues.keys) }
        for (queue, offset) in table.sorted(by: { $0.key < $1.key }) where queue.topic == topic && served.contains(queue) {
            await stopLoops(of: queue)
            offsetStore.update(queue, offset: offset, increaseOnly: false)
            do {
                try await offsetStore.persist([queue])
            } catch {
                logger.warning("storing the reset offset of \(queue) failed", metadata: ["error": "\(error)"])
            }
            // From the reset offset itself: the broker's copy may meanwhile have been overwritten by an
            // offset persist that read the old offset before the reset.
            await startPulling(queue, from: offset)
        }
        logger.info("offsets reset", metadata: ["group": "\(configuration.group)", "topic": "\(topic)", "queues": "\(table.count)"])
        return request.response()
    }
}
