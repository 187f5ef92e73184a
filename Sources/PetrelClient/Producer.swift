import NIOCore
import PetrelCore
import Synchronization

/// Sends messages to a topic's queues (Java `DefaultMQProducer`).
///
/// Plain sends go round-robin over the topic's writable queues, avoiding brokers that just failed,
/// and retry on another queue (another broker when there is one) within `sendMessageTimeout`.
/// Ordered sends pick the queue with a `MessageQueueSelector` and are tried once, since another
/// queue would break the order. Bodies above `compressBodyThreshold` are sent zlib-compressed.
///
/// ```swift
/// let producer = Producer(configuration: ProducerConfiguration(group: "PG", client: ClientConfiguration(nameServers: "127.0.0.1:9876")))
/// try await producer.start()
/// let result = try await producer.send(ProducerMessage(topic: "T", body: "hello", tags: "TagA"))
/// await producer.shutdown()
/// ```
public final class Producer: Sendable {
    /// Lifecycle phases.
    private enum Phase {
        /// Created, not started.
        case created
        /// Started.
        case running
        /// Shut down.
        case stopped
    }

    /// The settings.
    public let configuration: ProducerConfiguration
    /// The client instance sends go through (shared with other clients of the same client id).
    public let instance: ClientInstance
    /// Broker avoidance and round-robin positions.
    let faults: BrokerFaultTracker
    /// Makes `UNIQ_KEY`s.
    let uniqueKeys: UniqueKeyGenerator
    /// Lifecycle phase.
    private let phase = Mutex(Phase.created)
    /// Messages waiting for an automatic batch, per topic (used when `configuration.autoBatch`).
    let autoBatches = Mutex(AutoBatchTable())
    /// Messages sent inside automatic batches of two or more, for tests and diagnostics.
    let autoBatchedMessages = Atomic<Int>(0)

    /// A producer; `instance` defaults to the shared instance of `configuration.client.clientId`.
    public init(configuration: ProducerConfiguration, instance: ClientInstance? = nil) {
        self.configuration = configuration
        self.instance = instance ?? ClientInstance.shared(configuration: configuration.client)
        faults = BrokerFaultTracker(isEnabled: configuration.faultAvoidanceEnabled, isolationTime: configuration.brokerIsolationTime)
        let address = MessageHost(ipv4: self.instance.configuration.clientIP, port: 0)?.address ?? 0x7F00_0001
        uniqueKeys = UniqueKeyGenerator(address: address)
    }

    /// The producer group.
    public var group: String { configuration.group }

    /// Validates the configuration, registers the group with the client instance and starts it.
    /// Throws `.invalidConfiguration`, `.groupAlreadyRegistered`, `.shutDown`.
    public func start() async throws(ClientError) {
        try configuration.validate()
        let canStart = phase.withLock { phase -> Bool in
            guard case .created = phase else { return false }
            phase = .running
            return true
        }
        guard canStart else { throw ClientError(.invalidArgument, "the producer was started before; create a new one") }
        do throws(ClientError) {
            try instance.registerProducer(group: configuration.group)
            do throws(ClientError) {
                try await instance.start()
            } catch {
                await instance.unregisterProducer(group: configuration.group)
                throw error
            }
        } catch {
            phase.withLock { $0 = .stopped }
            throw error
        }
    }

    /// Unregisters the group (UNREGISTER_CLIENT to the brokers) and releases the client instance.
    public func shutdown() async {
        let wasRunning = phase.withLock { phase -> Bool in
            defer { phase = .stopped }
            if case .running = phase { return true }
            return false
        }
        guard wasRunning else { return }
        await instance.unregisterProducer(group: configuration.group)
        await instance.shutdown()
    }

    /// Throws unless started and not shut down.
    func requireRunning() throws(ClientError) {
        switch phase.withLock({ $0 }) {
        case .running: return
        case .created: throw ClientError(.notStarted, "the producer is not started; call start() first")
        case .stopped: throw ClientError(.shutDown, "the producer is shut down")
        }
    }

    // MARK: - Sending

    /// Sends `message` and waits for the broker's answer, retrying up to `retryTimesWhenSendFailed`
    /// times on other queues within `timeout` (default `sendMessageTimeout`).
    public func send(_ message: ProducerMessage, timeout: Duration? = nil) async throws(ClientError) -> SendResult {
        let prepared = try prepare(message)
        return try await deliver(prepared, attempts: 1 + configuration.retryTimesWhenSendFailed, timeout: timeout)
    }

    /// Sends `message` to exactly `queue`, once.
    public func send(_ message: ProducerMessage, to queue: MessageQueue, timeout: Duration? = nil) async throws(ClientError) -> SendResult {
        guard queue.topic == message.topic else {
            throw ClientError(.invalidArgument, "the queue's topic \(queue.topic) is not the message's topic \(message.topic)")
        }
        let prepared = try prepare(message)
        return try await deliverOnce(prepared, to: queue, timeout: timeout ?? configuration.sendMessageTimeout)
    }

    /// Sends `message` to the queue `selector` picks for `argument` (ordered messages), once.
    public func send(
        _ message: ProducerMessage, selector: any MessageQueueSelector, argument: SelectorArgument, timeout: Duration? = nil
    ) async throws(ClientError) -> SendResult {
        let prepared = try prepare(message)
        let queue = try await select(prepared, message: message, selector: selector, argument: argument)
        return try await deliverOnce(prepared, to: queue, timeout: timeout ?? configuration.sendMessageTimeout)
    }

    /// Sends `message` in the background and reports to `completion`, retrying up to
    /// `retryTimesWhenSendAsyncFailed` times. Argument errors are reported to `completion` too, never
    /// from inside this call. `completion` may run on a network event loop thread (when the first attempt
    /// settles the send, which spares a task per message), so it must not block.
    /// With `autoBatch` the message may travel in a batch with others (see `ProducerConfiguration`).
    public func sendAsync(
        _ message: ProducerMessage, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<SendResult, ClientError>) -> Void
    ) {
        if joinsAutoBatch(message) {
            enqueueAutoBatch(message, timeout: timeout, completion: completion)
            return
        }
        let prepared: PreparedMessage
        do throws(ClientError) {
            prepared = try prepare(message)
        } catch {
            Task { completion(.failure(error)) }
            return
        }
        deliverInBackground(prepared, attempts: 1 + configuration.retryTimesWhenSendAsyncFailed, timeout: timeout, completion: completion)
    }

    /// Sends `message` to the queue `selector` picks, in the background, once; reports to `completion`.
    public func sendAsync(
        _ message: ProducerMessage, selector: any MessageQueueSelector, argument: SelectorArgument, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<SendResult, ClientError>) -> Void
    ) {
        Task {
            do throws(ClientError) {
                completion(.success(try await send(message, selector: selector, argument: argument, timeout: timeout)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    /// Sends `message` without waiting for an answer (no result, no retry); returns once written.
    public func sendOneway(_ message: ProducerMessage) async throws(ClientError) {
        let prepared = try prepare(message)
        let queue = try await nextQueue(for: prepared.topic, lastBroker: nil)
        try await sendRequest(prepared, to: queue, oneway: true, timeout: configuration.sendMessageTimeout)
    }

    /// Sends `message` oneway to the queue `selector` picks for `argument`.
    public func sendOneway(_ message: ProducerMessage, selector: any MessageQueueSelector, argument: SelectorArgument) async throws(ClientError) {
        let prepared = try prepare(message)
        let queue = try await select(prepared, message: message, selector: selector, argument: argument)
        try await sendRequest(prepared, to: queue, oneway: true, timeout: configuration.sendMessageTimeout)
    }

    /// Sends `messages` as one batch (SEND_BATCH_MESSAGE): stored as consecutive messages of one queue.
    /// All must have the same topic and no delay; the encoded batch must fit `maximumMessageSize`.
    public func send(batch messages: [ProducerMessage], timeout: Duration? = nil) async throws(ClientError) -> SendResult {
        let prepared = try prepareBatch(messages)
        return try await deliver(prepared, attempts: 1 + configuration.retryTimesWhenSendFailed, timeout: timeout)
    }

    /// Sends `messages` as one batch to exactly `queue`, once.
    public func send(batch messages: [ProducerMessage], to queue: MessageQueue, timeout: Duration? = nil) async throws(ClientError) -> SendResult {
        let prepared = try prepareBatch(messages)
        guard queue.topic == prepared.topic else {
            throw ClientError(.invalidArgument, "the queue's topic \(queue.topic) is not the batch's topic \(prepared.topic)")
        }
        return try await deliverOnce(prepared, to: queue, timeout: timeout ?? configuration.sendMessageTimeout)
    }

    /// The writable queues of `topic` (fetching its route, or the template route for a new topic).
    public func publishQueues(of topic: String) async throws(ClientError) -> [MessageQueue] {
        try requireRunning()
        try MessageValidation.checkTopic(topic)
        return try await publishRoute(topic).publishQueues
    }
}
