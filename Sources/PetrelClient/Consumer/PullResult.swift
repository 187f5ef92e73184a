import NIOCore
import PetrelCore
import PetrelRemoting

/// The outcome of one PULL_MESSAGE (spec §9), with the offsets the broker reported.
public struct PullResult: Sendable {
    /// What the broker answered.
    public enum Status: Hashable, Sendable {
        /// Messages were found (code 0); `messages` holds those matching the subscription.
        case found
        /// Nothing new at the requested offset, even after long polling (code 19).
        case noNewMessages
        /// Entries were scanned but none matched the subscription's tags (code 20).
        case noMatchedMessages
        /// The requested offset is outside the queue (code 21); continue at `nextBeginOffset`.
        case offsetIllegal
    }

    /// The outcome.
    public var status: Status
    /// Where the next pull of this queue starts.
    public var nextBeginOffset: Int64
    /// The oldest offset the broker still holds.
    public var minOffset: Int64
    /// The next offset the broker will write.
    public var maxOffset: Int64
    /// The messages, in queue order; empty unless `status` is `.found`.
    public var messages: [ReceivedMessage]

    /// A pull result.
    public init(status: Status, nextBeginOffset: Int64, minOffset: Int64, maxOffset: Int64, messages: [ReceivedMessage] = []) {
        self.status = status
        self.nextBeginOffset = nextBeginOffset
        self.minOffset = minOffset
        self.maxOffset = maxOffset
        self.messages = messages
    }
}

/// Turns PULL_MESSAGE responses into `PullResult`s, the way Java's `PullAPIWrapper.processPullResult` does:
/// decode the body, re-check tags on the client (tag hash codes may collide), inflate compressed bodies
/// and restore the original topic of retried messages.
enum PullResponseDecoder {
    /// Decodes `response` to a pull of `queue` filtered by `subscription` (nil: keep everything).
    static func decode(
        _ response: RemotingCommand, queue: MessageQueue, subscription: SubscriptionData?
    ) throws(ClientError) -> PullResult {
        let status: PullResult.Status
        switch response.responseCode {
        case .success: status = .found
        case .pullNotFound: status = .noNewMessages
        case .pullRetryImmediately: status = .noMatchedMessages
        case .pullOffsetMoved: status = .offsetIllegal
        default:
            throw ClientError.response(response, doing: "PULL_MESSAGE from \(queue)", address: nil)
        }
        let nextBeginOffset: Int64, minOffset: Int64, maxOffset: Int64
        do {
            nextBeginOffset = try response.int64("nextBeginOffset")
            minOffset = try response.int64("minOffset")
            maxOffset = try response.int64("maxOffset")
        } catch {
            throw ClientError(.malformedResponse, "pull response for \(queue): \(error)")
        }
        var result = PullResult(status: status, nextBeginOffset: nextBeginOffset, minOffset: minOffset, maxOffset: maxOffset)
        guard status == .found else { return result }
        guard let body = response.body else {
            throw ClientError(.malformedResponse, "pull response for \(queue) found messages but has no body")
        }
        do {
            let stored = try body.withUnsafeReadableBytes { bytes throws(CoreError) in
                try StoredMessageCodec.decodeAll(bytes, verifyChecksum: true)
            }
            result.messages = try stored.compactMap { record throws(CoreError) in
                guard matches(record.message.tags, subscription) else { return nil }
                return try received(record, queue: queue)
            }
        } catch {
            throw ClientError(.malformedResponse, "pull body from \(queue) is damaged: \(error)")
        }
        return result
    }

    /// True when a message with `tags` passes `subscription`'s tag filter.
    static func matches(_ tags: String?, _ subscription: SubscriptionData?) -> Bool {
        guard let subscription, !subscription.subscribesAll, SubscriptionData.isTagExpression(subscription.expressionType) else {
            return true
        }
        guard let tags else { return false }
        return subscription.tagsSet.contains(tags)
    }

    /// The received form of `record`: body inflated, original topic restored for retries.
    static func received(_ record: StoredMessage, queue: MessageQueue) throws(CoreError) -> ReceivedMessage {
        var stored = record
        if stored.sysFlag.contains(.compressed), stored.sysFlag.compression == .zlib {
            let inflated = try Inflate.decompress(Array(buffer: stored.message.body))
            stored.message.body = ByteBuffer(bytes: inflated)
            stored.sysFlag.compression = nil
        }
        if stored.message.topic.hasPrefix(RetryTopics.retryPrefix), let original = stored.message.properties[PropertyKey.retryTopic] {
            stored.message.topic = original
        }
        return ReceivedMessage(stored: stored, brokerName: queue.brokerName, pulledTopic: queue.topic)
    }
}
