import NIOCore
import PetrelCore
import PetrelRemoting

/// Builds the broker requests consumers send (spec §4.2, §9, §13, §14, §17).
enum ConsumerRequests {
    /// PullSysFlag bit 0: the broker stores `commitOffset` for the group.
    static let commitOffsetFlag: Int32 = 1
    /// PullSysFlag bit 1: the broker may hold the request (long polling).
    static let suspendFlag: Int32 = 2
    /// PullSysFlag bit 2: filter with this request's `subscription`, not the heartbeat's.
    static let subscriptionFlag: Int32 = 4

    /// PULL_MESSAGE for `queue` from `offset`. The subscription always travels with the request
    /// (bit 2), so a pull that overtakes the first heartbeat is still filtered correctly.
    /// `commitOffset` > 0 piggy-backs the group's progress; `suspend` enables long polling.
    /// `acceptsCompression` (a compressor plugin is configured) adds `acceptCompression=zstd`, so the
    /// broker returns zstd records as stored instead of re-encoding them with plain bodies.
    static func pull(
        group: String, queue: MessageQueue, offset: Int64, maxMessages: Int, subscription: SubscriptionData,
        commitOffset: Int64?, suspend: Duration?, acceptsCompression: Bool = false
    ) -> RemotingCommand {
        var sysFlag = subscriptionFlag
        if let commitOffset, commitOffset > 0 { sysFlag |= commitOffsetFlag }
        if suspend != nil { sysFlag |= suspendFlag }
        let suspendMilliseconds = suspend.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 } ?? 0
        var request = RemotingCommand.request(
            code: .pullMessage,
            extFields: [
                "consumerGroup": group, "topic": queue.topic, "queueId": String(queue.queueId),
                "queueOffset": String(offset), "maxMsgNums": String(maxMessages), "sysFlag": String(sysFlag),
                "commitOffset": String(commitOffset ?? 0), "suspendTimeoutMillis": String(suspendMilliseconds),
                "subscription": subscription.subString, "subVersion": String(subscription.subVersion),
                "expressionType": subscription.expressionType,
            ])
        if acceptsCompression { request.extFields[acceptCompressionField] = acceptedCompression }
        return request
    }

    /// The pull request field naming the codecs a client decompresses itself (Petrel's extension).
    static let acceptCompressionField = "acceptCompression"
    /// Its value: the only codec Petrel's store writes.
    static let acceptedCompression = "zstd"

    /// GET_MAX_OFFSET (30) or GET_MIN_OFFSET (31) of `queue`.
    static func queueOffset(_ code: RequestCode, queue: MessageQueue) -> RemotingCommand {
        RemotingCommand.request(code: code, extFields: ["topic": queue.topic, "queueId": String(queue.queueId)])
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored at or after `timestamp` (ms).
    static func searchOffset(queue: MessageQueue, timestamp: Int64) -> RemotingCommand {
        RemotingCommand.request(
            code: .searchOffsetByTimestamp,
            extFields: ["topic": queue.topic, "queueId": String(queue.queueId), "timestamp": String(timestamp)])
    }

    /// GET_CONSUMER_LIST_BY_GROUP (38).
    static func consumerList(group: String) -> RemotingCommand {
        RemotingCommand.request(code: .getConsumerListByGroup, extFields: ["consumerGroup": group])
    }

    /// LOCK_BATCH_MQ (41) or UNLOCK_BATCH_MQ (42) with body `{"consumerGroup","clientId","mqSet"}`.
    static func lockBatch(_ code: RequestCode, group: String, clientId: String, queues: [MessageQueue]) -> RemotingCommand {
        let body = JSONValue.object([
            "consumerGroup": .string(group), "clientId": .string(clientId), "mqSet": .array(queues.map(\.json)),
        ])
        return RemotingCommand.request(code: code, body: ByteBuffer(bytes: body.serialized()))
    }

    /// CONSUMER_SEND_MSG_BACK (36) for a message that failed: the broker re-stores it in the retry
    /// topic with `delayLevel` (0: the broker's choice, 3 + reconsume times) or, past
    /// `maxReconsumeTimes`, in the dead-letter topic.
    static func sendBack(group: String, message: ReceivedMessage, delayLevel: Int32, maxReconsumeTimes: Int32) -> RemotingCommand {
        RemotingCommand.request(
            code: .consumerSendMsgBack,
            extFields: [
                "offset": String(message.commitLogOffset), "group": group, "delayLevel": String(delayLevel),
                "originMsgId": message.messageId, "originTopic": message.topic, "unitMode": "false",
                "maxReconsumeTimes": String(maxReconsumeTimes),
            ])
    }

    /// The queues in a LOCK_BATCH_MQ response body `{"lockOKMQSet":[MQ…]}`.
    static func lockedQueues(_ response: RemotingCommand) throws(CoreError) -> Set<MessageQueue> {
        guard let body = response.body else { return [] }
        let reader = try JSONObjectReader(try JSONValue.parse(body), context: "LockBatchResponseBody")
        return Set(try reader.decodeArray("lockOKMQSet", of: MessageQueue.self) ?? [])
    }

    /// The client ids in a GET_CONSUMER_LIST_BY_GROUP response body `{"consumerIdList":[…]}`, sorted.
    static func consumerIds(_ response: RemotingCommand) throws(CoreError) -> [String] {
        guard let body = response.body else { return [] }
        let reader = try JSONObjectReader(try JSONValue.parse(body), context: "GetConsumerListByGroupResponseBody")
        return (try reader.stringArray("consumerIdList") ?? []).sorted()
    }
}

/// What consumers add to the client instance: requests addressed by broker name.
extension ClientInstance {
    /// Sends `request` to the master of the broker named `brokerName`, as known from fetched routes.
    /// Throws `.brokerNotFound` when no route named that broker's master yet.
    func invoke(brokerName: String, request: RemotingCommand, timeout: Duration? = nil) async throws(ClientError) -> RemotingCommand {
        guard let address = masterAddress(brokerName: brokerName) else {
            throw ClientError(.brokerNotFound, "no master address known for broker \(brokerName); fetch a route that names it first")
        }
        return try await invoke(address: address, request: request, timeout: timeout)
    }
}

extension ClientInstance {
    /// Fetches the routes of a consumer's subscribed topics at start. A topic with no route yet is
    /// logged, not an error: topics may be created after their consumers start (as the official
    /// clients allow), and the rebalance and poll loops keep asking. Any error for a topic for which
    /// `isProvisional` is true is ignored as well; other errors are thrown.
    func fetchSubscribedRoutes(
        _ topics: some Sequence<String>, group: String, isProvisional: (String) -> Bool = { _ in false }
    ) async throws(ClientError) {
        for topic in topics.sorted() {
            do {
                _ = try await topicRoute(topic)
            } catch where isProvisional(topic) {
                continue
            } catch where error.code == .topicNotFound {
                logger.warning("no route for \(topic) yet; consumer \(group) waits for it")
            }
        }
    }
}
