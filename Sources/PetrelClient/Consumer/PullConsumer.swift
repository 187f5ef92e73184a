import Foundation
import Logging
import NIOConcurrencyHelpers
import PetrelCore
import PetrelRemoting

/// Settings of a `PullConsumer`.
public struct PullConsumerConfiguration: Sendable {
    /// The consumer group.
    public var group: String
    /// The client instance's settings.
    public var client: ClientConfiguration
    /// Subscribe-and-poll: topic → tag expression; empty for a consumer that only pulls by queue.
    public var subscriptions: [String: String] = [:]
    /// Subscribe-and-poll: where a queue without a committed offset starts.
    public var consumeFromWhere: ConsumeFromWhere = .consumeFromLastOffset
    /// Subscribe-and-poll: for `.consumeFromTimestamp`, ms since the epoch.
    public var consumeTimestamp: Int64 = 0
    /// Subscribe-and-poll: which queues this client polls.
    public var allocationStrategy: any QueueAllocationStrategy = AverageAllocationStrategy()
    /// Subscribe-and-poll: most messages one queue contributes to a poll.
    public var pullBatchSize = 32
    /// Subscribe-and-poll: time between rebalances.
    public var rebalanceInterval: Duration = .seconds(20)
    /// Subscribe-and-poll: time between offset commits.
    public var offsetPersistInterval: Duration = .seconds(5)
    /// Timeout of requests other than long polls.
    public var requestTimeout: Duration = .seconds(3)
    /// A compressor plugin: pulls accept zstd bodies and the consumer decompresses them (nil: the
    /// broker serves plain bodies).
    public var compression: ConsumerCompression?

    /// A configuration for `group` over a client instance configured by `client`.
    public init(group: String, client: ClientConfiguration) {
        self.group = group
        self.client = client
    }
}

/// A consumer the application drives (Java's `DefaultMQPullConsumer` and, with subscriptions,
/// `DefaultLitePullConsumer`): pull any queue at any offset, or subscribe and `poll` with automatic
/// queue assignment and offset commits.
public final class PullConsumer: Sendable {
    /// Mutable state, guarded by `state`'s lock.
    struct State {
        /// Subscribe-and-poll: the assigned queues and the next offset of each.
        var assigned: [MessageQueue: Int64] = [:]
        /// Where the next poll starts its round, so every queue gets its turn.
        var pollCursor = 0
        /// Background loops.
        var backgroundTasks: [Task<Void, Never>] = []
        /// Requests a rebalance.
        var rebalanceTrigger: AsyncStream<Void>.Continuation?
        /// Whether `start` succeeded and `shutdown` has not run.
        var isStarted = false
    }

    /// The settings.
    public let configuration: PullConsumerConfiguration
    /// Routes and requests.
    let client: ClientInstance
    /// Committed progress (broker side).
    let offsetStore: RemoteOffsetStore
    /// Subscriptions by topic.
    let subscriptions: [String: SubscriptionData]
    /// Assignment and loops.
    let state = NIOLockedValueBox(State())
    /// The NOTIFY_CONSUMER_IDS_CHANGED handler while started.
    let notifyRegistration = NIOLockedValueBox<InboundHandlerRegistration?>(nil)
    /// The admin-request handlers (running info, status) while started with subscriptions.
    let adminRegistrations = NIOLockedValueBox<[InboundHandlerRegistration]>([])
    /// Where the consumer reports.
    let logger: Logger
    /// Decompresses zstd bodies; nil without `configuration.compression`.
    let decompressor: BodyDecompressor?

    /// A pull consumer; throws `.invalidConfiguration` for an empty group, `.pluginFailed` for a
    /// compressor plugin that cannot be loaded.
    public init(configuration: PullConsumerConfiguration, logger: Logger = Logger(label: "petrel.consumer.pull")) throws(ClientError) {
        guard !configuration.group.isEmpty else { throw ClientError(.invalidConfiguration, "the consumer group name is empty") }
        self.configuration = configuration
        let client = ClientInstance.shared(configuration: configuration.client)
        self.client = client
        self.logger = logger
        decompressor = try BodyDecompressor.load(configuration.compression, client: client, timeout: configuration.requestTimeout)
        offsetStore = RemoteOffsetStore(group: configuration.group) { [client, timeout = configuration.requestTimeout] brokerName, request in
            try await client.invoke(brokerName: brokerName, request: request, timeout: timeout)
        }
        let version = Date.millisecondsSince1970()
        subscriptions = configuration.subscriptions.reduce(into: [:]) { table, entry in
            table[entry.key] = SubscriptionData(topic: entry.key, subString: entry.value, subVersion: version)
        }
    }

    /// This consumer's client id.
    public var clientId: String { client.clientId }

    /// Starts the client instance; with subscriptions also registers the group (CONSUME_ACTIVELY),
    /// heartbeats, assigns queues and starts the rebalance and commit loops. Throws `.invalidArgument`
    /// when already started.
    public func start() async throws(ClientError) {
        guard state.withLockedValue({ !$0.isStarted }) else {
            throw ClientError(.invalidArgument, "pull consumer \(configuration.group) is already started")
        }
        try await client.start()
        guard !subscriptions.isEmpty else {
            state.withLockedValue { $0.isStarted = true }
            return
        }
        let group = configuration.group
        do {
            try client.registerConsumer(group: group) { [weak self] in self?.consumerData ?? ConsumerData(groupName: group) }
            try await client.fetchSubscribedRoutes(subscriptions.keys, group: group)
        } catch {
            await client.unregisterConsumer(group: group)
            await client.shutdown()
            throw error
        }
        let registration = client.registerInboundHandler(code: .notifyConsumerIdsChanged) { [weak self] request, _ in
            guard let self, request.extFields["consumerGroup"] == group else { return .notMine }
            _ = self.state.withLockedValue { $0.rebalanceTrigger }?.yield()
            return .handled
        }
        notifyRegistration.withLockedValue { $0 = registration }
        registerAdminHandlers()
        _ = await client.sendHeartbeatToAllBrokers()
        state.withLockedValue { $0.isStarted = true }
        await rebalance()
        startBackgroundLoops()
    }

    /// The group's heartbeat entry.
    var consumerData: ConsumerData {
        ConsumerData(
            groupName: configuration.group, consumeType: .consumeActively, messageModel: .clustering,
            consumeFromWhere: configuration.consumeFromWhere, subscriptionDataSet: subscriptions.keys.sorted().compactMap { subscriptions[$0] })
    }

    /// Commits offsets, unregisters, stops the loops and releases the client instance; does nothing
    /// unless started, and only once.
    public func shutdown() async {
        let stopping: [Task<Void, Never>]? = state.withLockedValue { state in
            // Only a started consumer stops, once: the client instance counts its users.
            guard state.isStarted else { return nil }
            state.isStarted = false
            state.rebalanceTrigger?.finish()
            defer { state.backgroundTasks.removeAll() }
            return state.backgroundTasks
        }
        guard let tasks = stopping else { return }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        if !subscriptions.isEmpty {
            await commit()
            if let registration = notifyRegistration.withLockedValue({ $0.take() }) { client.removeInboundHandler(registration) }
            removeAdminHandlers()
            await client.unregisterConsumer(group: configuration.group)
        }
        await client.shutdown()
    }

    // MARK: - Pulling by queue

    /// The readable queues of `topic`, sorted.
    public func fetchQueues(topic: String) async throws(ClientError) -> [MessageQueue] {
        try await client.subscribeQueues(topic)
    }

    /// One pull of up to `maxMessages` from `queue` at `offset`, filtered by `expression` (`*`,
    /// `TagA || TagB`); without long polling unless `suspend` is given.
    public func pull(
        queue: MessageQueue, offset: Int64, maxMessages: Int, expression: String = SubscriptionData.subscribeAll, suspend: Duration? = nil
    ) async throws(ClientError) -> PullResult {
        let subscription = SubscriptionData(topic: queue.topic, subString: expression)
        return try await pull(queue: queue, offset: offset, maxMessages: maxMessages, subscription: subscription, suspend: suspend)
    }

    /// One pull with a prepared subscription.
    func pull(queue: MessageQueue, offset: Int64, maxMessages: Int, subscription: SubscriptionData, suspend: Duration?) async throws(ClientError) -> PullResult {
        if client.masterAddress(brokerName: queue.brokerName) == nil { _ = try await client.topicRoute(queue.topic) }
        guard let address = client.masterAddress(brokerName: queue.brokerName) else {
            throw ClientError(.brokerNotFound, "no master address known for broker \(queue.brokerName)")
        }
        let request = ConsumerRequests.pull(
            group: configuration.group, queue: queue, offset: offset, maxMessages: maxMessages, subscription: subscription,
            commitOffset: nil, suspend: suspend, acceptsCompression: decompressor != nil)
        let response = try await client.invoke(
            address: address, request: request, timeout: (suspend ?? .zero) + configuration.requestTimeout + .seconds(2))
        let result = try await PullResponseDecoder.decode(
            response, queue: queue, subscription: subscription, decompressor: decompressor, address: address)
        // A body that cannot be decompressed is never returned as compressed bytes: the pull fails
        // with its queue and offset, and the caller decides (pull again later, or skip past it).
        if let bad = result.messages.first(where: { $0.undecodableReason != nil }) {
            throw ClientError(.pluginFailed, "\(bad.undecodableReason ?? ""); pull from offset \(bad.queueOffset + 1) to skip it")
        }
        return result
    }

    /// Decompression counters; all zero without a compressor plugin.
    public var decompressionStatistics: DecompressionStatistics { decompressor?.statistics ?? DecompressionStatistics() }

    /// The next offset the broker will write in `queue` (GET_MAX_OFFSET).
    public func maxOffset(of queue: MessageQueue) async throws(ClientError) -> Int64 {
        try await offsetRequest(ConsumerRequests.queueOffset(.getMaxOffset, queue: queue), queue: queue)
    }

    /// The oldest offset the broker keeps in `queue` (GET_MIN_OFFSET).
    public func minOffset(of queue: MessageQueue) async throws(ClientError) -> Int64 {
        try await offsetRequest(ConsumerRequests.queueOffset(.getMinOffset, queue: queue), queue: queue)
    }

    /// The first offset of `queue` stored at or after `timestamp` (ms; SEARCH_OFFSET_BY_TIMESTAMP).
    public func searchOffset(of queue: MessageQueue, timestamp: Int64) async throws(ClientError) -> Int64 {
        try await offsetRequest(ConsumerRequests.searchOffset(queue: queue, timestamp: timestamp), queue: queue)
    }

    /// The group's committed offset of `queue`, nil when none (QUERY_CONSUMER_OFFSET).
    public func committedOffset(of queue: MessageQueue) async throws(ClientError) -> Int64? {
        do {
            return try await offsetStore.fetchStoredOffset(of: queue)
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.malformedResponse, "QUERY_CONSUMER_OFFSET for \(queue): \(error)")
        }
    }

    /// Commits `offset` (the next offset to consume) for `queue` now (UPDATE_CONSUMER_OFFSET).
    public func commitOffset(_ offset: Int64, of queue: MessageQueue) async throws(ClientError) {
        offsetStore.update(queue, offset: offset, increaseOnly: false)
        do {
            try await offsetStore.persist([queue])
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.brokerError, "UPDATE_CONSUMER_OFFSET for \(queue): \(error)")
        }
    }

    /// Sends an offset request and reads its `offset` field.
    private func offsetRequest(_ request: RemotingCommand, queue: MessageQueue) async throws(ClientError) -> Int64 {
        if client.masterAddress(brokerName: queue.brokerName) == nil { _ = try await client.topicRoute(queue.topic) }
        let response = try await client.invoke(brokerName: queue.brokerName, request: request, timeout: configuration.requestTimeout)
        guard response.responseCode == .success, let offset = response.extFields["offset"].flatMap({ Int64($0) }) else {
            throw ClientError.response(response, doing: "offset request \(request.code) for \(queue)", address: nil)
        }
        return offset
    }
}
