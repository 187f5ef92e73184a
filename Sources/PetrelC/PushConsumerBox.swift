import CPetrel
import Foundation
import PetrelClient
import PetrelCore
import Synchronization

/// What `petrel_push_consumer *` points to: settings, subscriptions and listener until start, then
/// the running Swift consumer. The listener runs on `callbacks` (options.thread_count threads).
final class PushConsumerBox: Handle, @unchecked Sendable {
    /// "push_consumer".
    override class var kind: String { "push_consumer" }

    /// The C listener and its user data.
    struct Listener {
        /// The C function.
        var function: petrel_message_listener
        /// Its `user_data`.
        var userData: UnsafeMutableRawPointer?
    }

    /// Lifecycle.
    enum Phase {
        /// Created: subscriptions and listener collect here.
        case created(subscriptions: [String: String], listener: Listener?)
        /// Started.
        case running(PushConsumer)
        /// Shut down for good.
        case stopped
    }

    /// The settings without subscriptions (validated at create).
    let configuration: PushConsumerConfiguration
    /// Whether delivery is orderly.
    let isOrderly: Bool
    /// The phase.
    let phase: Mutex<Unchecked<Phase>> = Mutex(Unchecked(.created(subscriptions: [:], listener: nil)))
    /// Threads running the listener.
    let callbacks: CallbackThreads

    /// A consumer with `configuration`.
    init(configuration: PushConsumerConfiguration, isOrderly: Bool) {
        self.configuration = configuration
        self.isOrderly = isOrderly
        callbacks = CallbackThreads(count: configuration.consumeThreadCount, name: "petrel-consumer")
    }

    /// Changes the collected settings; INVALID_STATE once started.
    func beforeStart(_ change: (inout [String: String], inout Listener?) throws(CallFailure) -> Void) throws(CallFailure) {
        try phase.withLock { phase throws(CallFailure) in
            guard case .created(var subscriptions, var listener) = phase.value else {
                throw .invalidState("subscriptions and the listener are set before petrel_push_consumer_start")
            }
            try change(&subscriptions, &listener)
            phase = Unchecked(.created(subscriptions: subscriptions, listener: listener))
        }
    }

    /// Builds and starts the Swift consumer.
    func start() throws(CallFailure) {
        guard case .created(let subscriptions, let listener) = phase.withLock({ $0.value }) else {
            throw .invalidState("the push consumer was started before")
        }
        guard let listener else { throw .invalidState("no listener: call petrel_push_consumer_set_listener before start") }
        guard !subscriptions.isEmpty else { throw .invalidState("no subscription: call petrel_push_consumer_subscribe before start") }
        var settings = configuration
        settings.subscriptions = subscriptions
        let deliver = delivery(Unchecked(listener))
        let consumer: PushConsumer
        do throws(ClientError) {
            consumer = try PushConsumer(configuration: settings, listener: isOrderly ? .orderly(deliver) : .concurrently(deliver))
        } catch {
            throw CallFailure(error)
        }
        try BlockingCall<Void>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                try await consumer.start()
            } catch {
                throw CallFailure(error)
            }
        }
        phase.withLock { $0 = Unchecked(.running(consumer)) }
    }

    /// The Swift listener: hands each batch to a callback thread and waits for the C listener's answer.
    private func delivery(_ listener: Unchecked<Listener>) -> @Sendable ([ReceivedMessage], ConsumeContext) async -> ConsumeStatus {
        { [callbacks] messages, _ in
            await callbacks.run {
                let boxes = messages.map { MessageBox(received: $0) }
                let pointers = boxes.map { Optional($0.retainedPointer()) }
                defer { for pointer in pointers { if let pointer { _ = Handle.release(pointer) } } }
                let answer = pointers.withUnsafeBufferPointer { buffer in
                    listener.value.function(listener.value.userData, buffer.baseAddress, buffer.count)
                }
                // Anything but success (including values outside the enumeration) asks for a redelivery.
                return answer == PETREL_CONSUME_SUCCESS ? ConsumeStatus.success : .reconsumeLater
            }
        }
    }

    /// Shuts the Swift consumer down (running callbacks finish first). Idempotent.
    func shutdown() throws(CallFailure) {
        guard !CallbackMarker.isCallbackThread(of: callbacks) else {
            throw .invalidState("petrel_push_consumer_shutdown called from the consumer's own listener; it would wait for itself")
        }
        let previous = phase.withLock { phase -> Phase in
            defer { phase = Unchecked(.stopped) }
            return phase.value
        }
        guard case .running(let consumer) = previous else { return }
        try BlockingCall<Void>.wait { _ in await consumer.shutdown() }
    }
}

/// Settings shared by both consumers' options.
enum ConsumerOptions {
    /// The Swift start position of a C one.
    static func consumeFrom(_ value: petrel_consume_from) throws(CallFailure) -> ConsumeFromWhere {
        switch value {
        case PETREL_CONSUME_FROM_LAST_OFFSET: .consumeFromLastOffset
        case PETREL_CONSUME_FROM_FIRST_OFFSET: .consumeFromFirstOffset
        case PETREL_CONSUME_FROM_TIMESTAMP: .consumeFromTimestamp
        default: throw .invalidArgument("options->consume_from \(value.rawValue) is not a petrel_consume_from value")
        }
    }

    /// The allocation strategy a name stands for.
    static func allocation(_ name: UnsafePointer<CChar>?) throws(CallFailure) -> any QueueAllocationStrategy {
        switch try Arguments.optionalString(name, "options->allocation") ?? "average" {
        case "average": return AverageAllocationStrategy()
        case "circle": return AverageByCircleAllocationStrategy()
        case "consistent-hash": return ConsistentHashAllocationStrategy()
        case let other: throw .invalidArgument("options->allocation '\(other)' is not average, circle or consistent-hash")
        }
    }

    /// The group, required.
    static func group(_ pointer: UnsafePointer<CChar>?) throws(CallFailure) -> String {
        let group = try Arguments.string(pointer, "options->group")
        guard group.utf8.count <= 255 else { throw .invalidArgument("options->group is longer than 255 bytes") }
        return group
    }
}
