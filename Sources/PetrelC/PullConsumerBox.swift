import CPetrel
import Foundation
import PetrelClient
import PetrelCore
import Synchronization

/// What `petrel_pull_consumer *` points to: settings and subscriptions until start, then the
/// running Swift consumer.
final class PullConsumerBox: Handle, @unchecked Sendable {
    /// "pull_consumer".
    override class var kind: String { "pull_consumer" }

    /// Lifecycle.
    enum Phase {
        /// Created: subscriptions collect here.
        case created([String: String])
        /// Started.
        case running(PullConsumer)
        /// Shut down for good.
        case stopped
    }

    /// The settings without subscriptions (validated at create).
    let configuration: PullConsumerConfiguration
    /// How long one pull may wait on the broker; nil answers at once.
    let pollTimeout: Duration?
    /// The phase.
    let phase: Mutex<Unchecked<Phase>> = Mutex(Unchecked(.created([:])))

    /// A consumer with `configuration`.
    init(configuration: PullConsumerConfiguration, pollTimeout: Duration?) {
        self.configuration = configuration
        self.pollTimeout = pollTimeout
    }

    /// Adds a subscription; INVALID_STATE once started.
    func subscribe(topic: String, expression: String) throws(CallFailure) {
        try phase.withLock { phase throws(CallFailure) in
            guard case .created(var subscriptions) = phase.value else {
                throw .invalidState("subscriptions are added before petrel_pull_consumer_start")
            }
            subscriptions[topic] = expression
            phase = Unchecked(.created(subscriptions))
        }
    }

    /// The running consumer; INVALID_STATE before start, SHUT_DOWN after.
    func running() throws(CallFailure) -> PullConsumer {
        switch phase.withLock({ $0.value }) {
        case .created: throw .invalidState("the pull consumer is not started; call petrel_pull_consumer_start first")
        case .running(let consumer): return consumer
        case .stopped: throw .shutDown("pull consumer")
        }
    }

    /// Builds and starts the Swift consumer.
    func start() throws(CallFailure) {
        guard case .created(let subscriptions) = phase.withLock({ $0.value }) else {
            throw .invalidState("the pull consumer was started before")
        }
        var settings = configuration
        settings.subscriptions = subscriptions
        let consumer: PullConsumer
        do throws(ClientError) {
            consumer = try PullConsumer(configuration: settings)
        } catch {
            throw CallFailure(error)
        }
        try Self.wait { () async throws(ClientError) in try await consumer.start() }
        phase.withLock { $0 = Unchecked(.running(consumer)) }
    }

    /// Shuts the consumer down, committing polled offsets. Idempotent.
    func shutdown() throws(CallFailure) {
        let previous = phase.withLock { phase -> Phase in
            defer { phase = Unchecked(.stopped) }
            return phase.value
        }
        guard case .running(let consumer) = previous else { return }
        try BlockingCall<Void>.wait { _ in await consumer.shutdown() }
    }

    /// Runs `operation` in a blocking call, its client error as a failure.
    static func wait<Value: Sendable>(_ operation: @escaping @Sendable () async throws(ClientError) -> Value) throws(CallFailure) -> Value {
        try BlockingCall<Value>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                return try await operation()
            } catch {
                throw CallFailure(error)
            }
        }
    }
}

/// What `petrel_pull_result *` points to: received messages (live handles until destroy) and the
/// next offset.
final class PullResultBox: Handle, @unchecked Sendable {
    /// "pull_result".
    override class var kind: String { "pull_result" }

    /// The messages' handles, retained until `releaseMessages`.
    let messages: [OpaquePointer]
    /// Where to pull next (-1 for poll results).
    let nextOffset: Int64

    /// A result holding `received`.
    init(received: [ReceivedMessage], nextOffset: Int64) {
        messages = received.map { MessageBox(received: $0).retainedPointer() }
        self.nextOffset = nextOffset
    }

    /// Releases the messages' handles (at destroy).
    func releaseMessages() {
        for message in messages { _ = Handle.release(message) }
    }
}

/// Conversions of `petrel_queue`.
enum Queues {
    /// The Swift queue of a C one; fails for unterminated or empty fields.
    static func swift(_ queue: petrel_queue) throws(CallFailure) -> MessageQueue {
        guard let topic = Arguments.text(of: queue.topic), !topic.isEmpty else {
            throw .invalidArgument("queue->topic is empty or not NUL-terminated UTF-8")
        }
        guard let brokerName = Arguments.text(of: queue.broker_name), !brokerName.isEmpty else {
            throw .invalidArgument("queue->broker_name is empty or not NUL-terminated UTF-8")
        }
        guard queue.queue_id >= 0 else { throw .invalidArgument("queue->queue_id \(queue.queue_id) is negative") }
        return MessageQueue(topic: topic, brokerName: brokerName, queueId: queue.queue_id)
    }

    /// The C queue of a Swift one.
    static func c(_ queue: MessageQueue) -> petrel_queue {
        var converted = petrel_queue()
        Arguments.copy(queue.topic, into: &converted.topic)
        Arguments.copy(queue.brokerName, into: &converted.broker_name)
        converted.queue_id = queue.queueId
        return converted
    }
}
