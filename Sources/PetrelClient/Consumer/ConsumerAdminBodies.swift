import PetrelCore

/// Bodies a consumer answers the admin requests brokers forward to it with (GET_CONSUMER_RUNNING_INFO,
/// GET_CONSUMER_STATUS_FROM_CLIENT, CONSUME_MESSAGE_DIRECTLY), in the JSON Java's admin tools read.
///
/// Java serializes maps keyed by `MessageQueue` with fastjson, which writes the key object itself as
/// the member name: `{"mqTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}}` (spec §3). That is
/// not standard JSON, so such members are assembled as text here; every other part is a `JSONValue`.
enum ConsumerAdminBodies {
    /// `{MQ:value,…}` with MessageQueue objects as keys, in queue order.
    static func queueKeyedObject(_ entries: [MessageQueue: JSONValue]) -> String {
        let members = entries.keys.sorted().map { queue in queue.jsonText + ":" + (entries[queue] ?? .null).serializedString }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// An object whose listed members are pre-assembled text (queue-keyed maps) and the rest values.
    static func object(values: [String: JSONValue], rawMembers: [String: String]) -> String {
        var members: [(String, String)] = values.map { ($0.key, $0.value.serializedString) }
        members += rawMembers.map { ($0.key, $0.value) }
        let text = members.sorted { $0.0 < $1.0 }.map { JSONValue.string($0.0).serializedString + ":" + $0.1 }
        return "{" + text.joined(separator: ",") + "}"
    }

    /// Java's `ProcessQueueInfo` of one served queue.
    static func processQueueInfo(_ processQueue: ProcessQueue, commitOffset: Int64?) -> JSONValue {
        let offsets = processQueue.waitingMessages().map(\.queueOffset)
        return .object([
            "commitOffset": .integer(commitOffset ?? -1),
            "cachedMsgMinOffset": .integer(offsets.min() ?? 0),
            "cachedMsgMaxOffset": .integer(offsets.max() ?? 0),
            "cachedMsgCount": .integer(processQueue.messageCount),
            "cachedMsgSizeInMiB": .integer(processQueue.cachedBytes / (1024 * 1024)),
            "transactionMsgMinOffset": .integer(0), "transactionMsgMaxOffset": .integer(0), "transactionMsgCount": .integer(0),
            "locked": .bool(processQueue.isLockValid()),
            "tryUnlockTimes": .integer(0), "lastLockTimestamp": .integer(0),
            "droped": .bool(processQueue.isDropped),
            "lastPullTimestamp": .integer(0), "lastConsumeTimestamp": .integer(0),
        ])
    }

    /// Java's `ConsumeMessageDirectlyResult`: how the listener answered one message sent to it directly.
    static func directResult(isOrderly: Bool, status: ConsumeStatus, spentMilliseconds: Int64) -> JSONValue {
        .object([
            "order": .bool(isOrderly),
            "autoCommit": .bool(true),
            "consumeResult": .string(status == .success ? "CR_SUCCESS" : "CR_LATER"),
            "remark": .string(status == .success ? "" : "the listener asked to consume the message later"),
            "spentTimeMills": .integer(spentMilliseconds),
        ])
    }

    /// Java's `ConsumerRunningInfo`: `properties`, the subscriptions sorted by topic, one entry per
    /// queue in `mqTable`, and the per-topic `ConsumeStatus` table of `statistics`.
    static func runningInfo(
        properties: [String: String], subscriptions: [String: SubscriptionData], queues: [MessageQueue: JSONValue],
        statistics: [String: ConsumeStatistics.Snapshot] = [:]
    ) -> String {
        object(
            values: [
                "properties": .object(properties.mapValues { .string($0) }),
                "subscriptionSet": .array(subscriptions.keys.sorted().compactMap { subscriptions[$0]?.json }),
                "statusTable": .object(statistics.mapValues(\.json)),
            ],
            rawMembers: ["mqTable": queueKeyedObject(queues)])
    }

    /// Java's `GetConsumerStatusBody`: `offsets` as its `messageQueueTable`.
    static func status(offsets: [MessageQueue: JSONValue]) -> String {
        object(values: ["consumerTable": .object([:])], rawMembers: ["messageQueueTable": queueKeyedObject(offsets)])
    }
}
