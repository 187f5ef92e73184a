import Foundation
import PetrelCore

/// What a listener answers for a batch of messages.
public enum ConsumeStatus: Hashable, Sendable {
    /// Consumed; the messages' offsets may be committed.
    case success
    /// Failed: concurrent consumers send the messages back for a later redelivery through the retry
    /// topic; orderly consumers suspend the queue a moment and deliver the same messages again.
    case reconsumeLater
}

/// Where a delivered batch comes from.
public struct ConsumeContext: Sendable {
    /// The queue the messages were pulled from.
    public var queue: MessageQueue
}

/// How messages reach the application.
public enum MessageListener: Sendable {
    /// Batches are delivered in parallel on up to `consumeThreadCount` tasks, in no particular order.
    case concurrently(@Sendable ([ReceivedMessage], ConsumeContext) async -> ConsumeStatus)
    /// Each queue is locked on the broker and delivered by one task at a time, in queue order.
    case orderly(@Sendable ([ReceivedMessage], ConsumeContext) async -> ConsumeStatus)

    /// True for `.orderly`.
    var isOrderly: Bool {
        if case .orderly = self { return true }
        return false
    }

    /// The closure, whichever mode.
    var body: @Sendable ([ReceivedMessage], ConsumeContext) async -> ConsumeStatus {
        switch self {
        case .concurrently(let body), .orderly(let body): body
        }
    }
}

/// Settings of a `PushConsumer`; the defaults are Java's `DefaultMQPushConsumer`'s.
public struct PushConsumerConfiguration: Sendable {
    /// The consumer group.
    public var group: String
    /// The client instance's settings (name servers, instance name, request timeout).
    public var client: ClientConfiguration
    /// Clustering (the group shares the queues) or broadcasting (every client gets everything).
    public var messageModel: MessageModel = .clustering
    /// Where a queue starts when the group has no offset for it.
    public var consumeFromWhere: ConsumeFromWhere = .consumeFromLastOffset
    /// For `.consumeFromTimestamp`: ms since the epoch; default half an hour before creation, as Java.
    public var consumeTimestamp: Int64
    /// Topic → tag expression (`*`, `TagA || TagB`).
    public var subscriptions: [String: String] = [:]
    /// Most deliveries running at once.
    public var consumeThreadCount = 20
    /// Most messages per listener call.
    public var consumeMessageBatchMaxSize = 1
    /// Most messages per pull.
    public var pullBatchSize = 32
    /// Deliveries after which a failing message goes to the dead-letter topic.
    public var maxReconsumeTimes: Int32 = 16
    /// Delay level of a send-back; 0 lets the broker choose (3 + reconsume times).
    public var retryDelayLevel: Int32 = 0
    /// Which queues this client consumes in clustering mode.
    public var allocationStrategy: any QueueAllocationStrategy = AverageAllocationStrategy()
    /// Per-queue cache limits that pause pulling.
    public var processQueueLimits = ProcessQueue.Limits()
    /// How long the broker may hold a pull with nothing to return.
    public var pullSuspendTimeout: Duration = .seconds(15)
    /// Time between rebalances (besides those notifications trigger).
    public var rebalanceInterval: Duration = .seconds(20)
    /// Time between offset commits.
    public var offsetPersistInterval: Duration = .seconds(5)
    /// Orderly: time between lock renewals.
    public var lockRenewInterval: Duration = .seconds(20)
    /// Pause before rebalancing again when a topic had no route yet or (orderly) a lock was held
    /// by another client.
    public var rebalanceRetryDelay: Duration = .seconds(1)
    /// Orderly: pause before a failed batch is delivered again.
    public var suspendCurrentQueueTime: Duration = .seconds(1)
    /// Pause after a failed pull.
    public var pullRetryDelay: Duration = .seconds(1)
    /// Timeout of requests other than pulls.
    public var requestTimeout: Duration = .seconds(3)
    /// Broadcasting: a file keeping this client's offsets across restarts; nil keeps them in memory.
    public var localOffsetStorePath: String?
    /// A compressor plugin: pulls accept zstd bodies and the consumer decompresses them (nil: the
    /// broker serves plain bodies).
    public var compression: ConsumerCompression?

    /// A configuration for `group` over a client instance configured by `client`.
    public init(group: String, client: ClientConfiguration) {
        self.group = group
        self.client = client
        self.consumeTimestamp = Int64(Date.millisecondsSince1970()) - 30 * 60 * 1000
    }
}

/// Wall-clock milliseconds, the unit of RocketMQ timestamps (subVersion, consume timestamps).
extension Date {
    /// Now in milliseconds since 1970.
    static func millisecondsSince1970() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
