import Foundation
import Logging
import NIOConcurrencyHelpers
import PetrelCore
import PetrelRemoting

/// A consumer that pulls in the background and pushes messages to a listener (Java's
/// `DefaultMQPushConsumer`): rebalance at start, every `rebalanceInterval` and when the broker
/// reports the group changed; one long-polling pull loop per assigned queue with flow control;
/// concurrent or orderly delivery; failed messages sent back for retry; offsets committed every
/// `offsetPersistInterval` and at shutdown.
public final class PushConsumer: Sendable {
    /// Mutable state, guarded by `state`'s lock.
    struct State {
        /// Assignment decisions.
        var machine: RebalanceStateMachine
        /// Cached messages per served queue.
        var processQueues: [MessageQueue: ProcessQueue] = [:]
        /// Pull loop per served queue.
        var pullTasks: [MessageQueue: Task<Void, Never>] = [:]
        /// Orderly: delivery loop per served queue.
        var orderlyTasks: [MessageQueue: Task<Void, Never>] = [:]
        /// Orderly: wakes a queue's delivery loop when messages arrive.
        var orderlyWakeups: [MessageQueue: AsyncStream<Void>.Continuation] = [:]
        /// Concurrent deliveries in flight, by number.
        var deliveries: [UInt64: Task<Void, Never>] = [:]
        /// Numbers `deliveries`.
        var nextDeliveryNumber: UInt64 = 0
        /// Background loops (rebalance, offset commits).
        var backgroundTasks: [Task<Void, Never>] = []
        /// Requests a rebalance.
        var rebalanceTrigger: AsyncStream<Void>.Continuation?
        /// Whether `start` ran and `shutdown` did not.
        var isRunning = false
    }

    /// The settings.
    public let configuration: PushConsumerConfiguration
    /// How messages are handed over.
    let listener: MessageListener
    /// Routes, brokers, heartbeats: the process's instance for `configuration.client`.
    let client: ClientInstance
    /// Progress per queue.
    let offsetStore: any ConsumerOffsetStore
    /// Bounds concurrent deliveries.
    let limiter: ConcurrencyLimiter
    /// The subscriptions as heartbeats and pulls carry them (retry topic included in clustering).
    let subscriptions: [String: SubscriptionData]
    /// Queues, tasks, flags.
    let state: NIOLockedValueBox<State>
    /// The NOTIFY_CONSUMER_IDS_CHANGED handler while started.
    let notifyRegistration = NIOLockedValueBox<InboundHandlerRegistration?>(nil)
    /// The admin-request handlers (running info, status, direct consumption) while started.
    let adminRegistrations = NIOLockedValueBox<[InboundHandlerRegistration]>([])
    /// When `start` ran, ms since the epoch (0 before), for the running info.
    let startTimestamp = NIOLockedValueBox<Int64>(0)
    /// Where the consumer reports.
    let logger: Logger
    /// Decompresses zstd bodies; nil without `configuration.compression`.
    let decompressor: BodyDecompressor?
    /// Pull and consume rates per topic, for the running info's `statusTable`.
    let statistics = ConsumeStatistics()

    /// A consumer of `configuration.group` delivering to `listener`. Throws `.invalidConfiguration`
    /// for a consumer without subscriptions or an unreadable local offset file, `.pluginFailed` for a
    /// compressor plugin that cannot be loaded.
    public init(
        configuration: PushConsumerConfiguration, listener: MessageListener, logger: Logger = Logger(label: "petrel.consumer.push")
    ) throws(ClientError) {
        guard !configuration.subscriptions.isEmpty else {
            throw ClientError(.invalidConfiguration, "push consumer \(configuration.group) subscribes to nothing")
        }
        guard !configuration.group.isEmpty else { throw ClientError(.invalidConfiguration, "the consumer group name is empty") }
        self.configuration = configuration
        self.listener = listener
        let client = ClientInstance.shared(configuration: configuration.client)
        self.client = client
        self.logger = logger
        decompressor = try BodyDecompressor.load(configuration.compression, client: client, timeout: configuration.requestTimeout)
        self.limiter = ConcurrencyLimiter(limit: configuration.consumeThreadCount)
        let isClustering = configuration.messageModel == .clustering
        if isClustering {
            offsetStore = RemoteOffsetStore(group: configuration.group) { [client, timeout = configuration.requestTimeout] brokerName, request in
                try await client.invoke(brokerName: brokerName, request: request, timeout: timeout)
            }
        } else {
            do {
                offsetStore = try LocalOffsetStore(path: configuration.localOffsetStorePath)
            } catch {
                throw ClientError(.invalidConfiguration, "local offset store: \(error)")
            }
        }
        let version = Date.millisecondsSince1970()
        var subscriptions: [String: SubscriptionData] = [:]
        for (topic, expression) in configuration.subscriptions {
            subscriptions[topic] = SubscriptionData(topic: topic, subString: expression, subVersion: version)
        }
        if isClustering {
            let retryTopic = RetryTopics.retryTopic(group: configuration.group)
            subscriptions[retryTopic] = SubscriptionData(topic: retryTopic, subString: SubscriptionData.subscribeAll, subVersion: version)
        }
        self.subscriptions = subscriptions
        self.state = NIOLockedValueBox(State(machine: RebalanceStateMachine(isOrderly: listener.isOrderly, commitsOnDrop: isClustering)))
    }

    /// This consumer's client id.
    public var clientId: String { client.clientId }

    /// Decompression counters; all zero without a compressor plugin.
    public var decompressionStatistics: DecompressionStatistics { decompressor?.statistics ?? DecompressionStatistics() }

    /// The queues being consumed now.
    public var assignedQueues: Set<MessageQueue> { state.withLockedValue { $0.machine.activeQueues } }

    /// Fetches routes, registers the group, heartbeats, and runs the first rebalance (so on return
    /// every assigned queue has its starting offset); then starts the background loops. Throws
    /// `.invalidArgument` when already started, and what the client instance throws.
    public func start() async throws(ClientError) {
        guard state.withLockedValue({ !$0.isRunning && $0.backgroundTasks.isEmpty }) else {
            throw ClientError(.invalidArgument, "push consumer \(configuration.group) is already started")
        }
        try await client.start()
        let group = configuration.group
        do {
            try client.registerConsumer(group: group) { [weak self] in self?.consumerData ?? ConsumerData(groupName: group) }
            // The broker creates the retry topic at the first heartbeat: its route comes later.
            try await client.fetchSubscribedRoutes(subscriptions.keys, group: group) { $0.hasPrefix(RetryTopics.retryPrefix) }
        } catch {
            await client.unregisterConsumer(group: group)
            await client.shutdown()
            throw error
        }
        let registration = client.registerInboundHandler(code: .notifyConsumerIdsChanged) { [weak self] request, _ in
            guard let self, request.extFields["consumerGroup"] == group else { return .notMine }
            self.requestRebalance()
            return .handled
        }
        notifyRegistration.withLockedValue { $0 = registration }
        startTimestamp.withLockedValue { $0 = Date.millisecondsSince1970() }
        registerAdminHandlers()
        _ = await client.sendHeartbeatToAllBrokers()
        let (triggerStream, trigger) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLockedValue { state in
            state.isRunning = true
            state.rebalanceTrigger = trigger
        }
        await rebalance()
        startBackgroundLoops(triggers: triggerStream)
    }

    /// The group's heartbeat entry.
    var consumerData: ConsumerData {
        ConsumerData(
            groupName: configuration.group, consumeType: .consumePassively, messageModel: configuration.messageModel,
            consumeFromWhere: configuration.consumeFromWhere, subscriptionDataSet: subscriptions.keys.sorted().compactMap { subscriptions[$0] })
    }

    /// Asks the rebalance loop for a rebalance soon (coalesced with one already pending).
    func requestRebalance() {
        _ = state.withLockedValue { $0.rebalanceTrigger }?.yield()
    }

    /// Starts the rebalance loop (timer or trigger), the offset-commit loop and the rebalance timer.
    private func startBackgroundLoops(triggers: AsyncStream<Void>) {
        let rebalanceLoop = Task { [weak self] in
            for await _ in triggers {
                guard let self, self.isRunning else { return }
                await self.rebalance()
            }
        }
        let timer = Task { [weak self, interval = configuration.rebalanceInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                self?.requestRebalance()
            }
        }
        let committer = Task { [weak self, interval = configuration.offsetPersistInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.persistOffsets()
            }
        }
        state.withLockedValue { $0.backgroundTasks += [rebalanceLoop, timer, committer] }
    }

    /// True between `start` and `shutdown`.
    var isRunning: Bool { state.withLockedValue { $0.isRunning } }

    /// Commits the offsets of every served queue.
    func persistOffsets() async {
        let queues = state.withLockedValue { Array($0.processQueues.keys) }
        do {
            try await offsetStore.persist(queues)
        } catch {
            logger.warning("committing offsets failed", metadata: ["group": "\(configuration.group)", "error": "\(error)"])
        }
    }

    /// Stops cleanly: no new pulls, in-flight deliveries finish, offsets are committed, orderly
    /// locks released, the group unregistered. Does nothing unless started, and only once.
    public func shutdown() async {
        let stopping: ([Task<Void, Never>], [Task<Void, Never>])? = state.withLockedValue { state in
            // Only a started consumer stops, once: the client instance counts its users.
            guard state.isRunning else { return nil }
            state.isRunning = false
            state.rebalanceTrigger?.finish()
            defer { state.backgroundTasks.removeAll() }
            return (state.backgroundTasks, Array(state.pullTasks.values))
        }
        guard let (background, pulls) = stopping else { return }
        for task in background { task.cancel() }
        for task in pulls { task.cancel() }
        // A rebalance still running could otherwise start a queue after the drops below.
        for task in background { await task.value }
        for task in pulls { await task.value }
        await waitForDeliveries()
        let actions = state.withLockedValue { $0.machine.dropAll() }
        await perform(actions)
        if let registration = notifyRegistration.withLockedValue({ $0.take() }) { client.removeInboundHandler(registration) }
        removeAdminHandlers()
        await client.unregisterConsumer(group: configuration.group)
        await client.shutdown()
    }

    /// Waits until every concurrent delivery that started has finished.
    func waitForDeliveries() async {
        while true {
            let running = state.withLockedValue { Array($0.deliveries.values) }
            if running.isEmpty { return }
            for task in running { await task.value }
        }
    }
}
