import CPetrel
import Foundation
import PetrelClient
import Synchronization

/// What `petrel_producer *` points to: the settings until start, then the running Swift producer.
final class ProducerBox: Handle, @unchecked Sendable {
    /// "producer".
    override class var kind: String { "producer" }

    /// The transaction check-back callback and its user data.
    struct Checker {
        /// The C function.
        var function: petrel_transaction_checker
        /// Its `user_data`.
        var userData: UnsafeMutableRawPointer?
    }

    /// Lifecycle.
    enum Phase {
        /// Created; a checker may be registered.
        case created(Checker?)
        /// Started: the producer, and the transaction producer around it when a checker was set.
        case running(Producer, TransactionProducer?)
        /// Shut down for good.
        case stopped
    }

    /// The settings (validated at create).
    let configuration: ProducerConfiguration
    /// The phase.
    let phase: Mutex<Unchecked<Phase>> = Mutex(Unchecked(.created(nil)))
    /// Runs send callbacks and check-backs.
    let callbacks = CallbackThreads(count: 1, name: "petrel-producer-callback")
    /// Asynchronous sends whose callback has not returned yet; shutdown waits for them.
    let inFlight = DispatchGroup()

    /// A producer with `configuration`.
    init(configuration: ProducerConfiguration) {
        self.configuration = configuration
    }

    /// The running producer (and transaction producer); INVALID_STATE before start, SHUT_DOWN after.
    func running() throws(CallFailure) -> (Producer, TransactionProducer?) {
        switch phase.withLock({ $0.value }) {
        case .created: throw .invalidState("the producer is not started; call petrel_producer_start first")
        case .running(let producer, let transactional): return (producer, transactional)
        case .stopped: throw .shutDown("producer")
        }
    }

    /// Starts the Swift producer (a transaction producer when a checker is registered).
    func start() throws(CallFailure) {
        guard case .created(let checker) = phase.withLock({ $0.value }) else {
            throw .invalidState("the producer was started before")
        }
        let transactional = checker.map { checker in
            TransactionProducer(
                configuration: configuration, listener: CheckerListener(checker: Unchecked(checker), callbacks: callbacks))
        }
        let producer = transactional?.producer ?? Producer(configuration: configuration)
        try BlockingCall<Void>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                if let transactional { try await transactional.start() } else { try await producer.start() }
            } catch {
                throw CallFailure(error)
            }
        }
        phase.withLock { $0 = Unchecked(.running(producer, transactional)) }
    }

    /// Waits for asynchronous sends, then shuts the Swift producer down. Idempotent.
    func shutdown() throws(CallFailure) {
        guard !CallbackMarker.isCallbackThread(of: callbacks) else {
            throw .invalidState("petrel_producer_shutdown called from the producer's own callback; it would wait for itself")
        }
        let previous = phase.withLock { phase -> Phase in
            defer { phase = Unchecked(.stopped) }
            return phase.value
        }
        guard case .running(let producer, let transactional) = previous else { return }
        inFlight.wait()
        try BlockingCall<Void>.wait { _ in
            if let transactional { await transactional.shutdown() } else { await producer.shutdown() }
        }
    }

    /// Stops the callback thread once nothing can post to it any more.
    func stopCallbacks() {
        callbacks.stop()
    }
}

/// The producer settings from the C options.
enum ProducerOptions {
    /// The defaults `petrel_producer_options_init` writes.
    static var defaults: petrel_producer_options {
        var options = petrel_producer_options()
        options.size = UInt32(MemoryLayout<petrel_producer_options>.size)
        options.send_timeout_milliseconds = 3000
        options.retry_times = 2
        options.compress_over_bytes = 4096
        options.max_message_bytes = 4 * 1024 * 1024
        options.compression_level = 5
        return options
    }

    /// A validated configuration.
    static func configuration(_ options: petrel_producer_options) throws(CallFailure) -> ProducerConfiguration {
        let client = try ClientOptions.configuration(nameServers: options.name_servers, instanceName: options.instance_name)
        let group = try Arguments.optionalString(options.group, "options->group") ?? "DEFAULT_PRODUCER"
        guard options.send_timeout_milliseconds > 0 else { throw .invalidArgument("options->send_timeout_milliseconds is 0") }
        guard options.max_message_bytes > 0 else { throw .invalidArgument("options->max_message_bytes is 0") }
        let configuration = ProducerConfiguration(
            group: group, client: client, sendMessageTimeout: .milliseconds(Int64(options.send_timeout_milliseconds)),
            retryTimesWhenSendFailed: Int(options.retry_times), retryTimesWhenSendAsyncFailed: Int(options.retry_times),
            compressBodyThreshold: options.compress_over_bytes == 0 ? Int.max : Int(options.compress_over_bytes),
            compressionLevel: Int(options.compression_level), maximumMessageSize: Int(options.max_message_bytes))
        do throws(ClientError) {
            try configuration.validate()
        } catch {
            throw CallFailure(error)
        }
        return configuration
    }
}

/// Client settings shared by producers and consumers.
enum ClientOptions {
    /// A validated client configuration for `"host:port;host:port"` and an optional instance name.
    static func configuration(
        nameServers: UnsafePointer<CChar>?, instanceName: UnsafePointer<CChar>?
    ) throws(CallFailure) -> ClientConfiguration {
        let servers = try Arguments.string(nameServers, "options->name_servers")
        let addresses = servers.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let instance = try Arguments.optionalString(instanceName, "options->instance_name")
        let configuration = ClientConfiguration(nameServerAddresses: addresses, instanceName: instance)
        do throws(ClientError) {
            try configuration.validate()
        } catch {
            throw CallFailure(error)
        }
        return configuration
    }
}

/// `petrel_producer_options_init`.
@_cdecl("petrel_producer_options_init")
public func petrel_producer_options_init(_ options: UnsafeMutablePointer<petrel_producer_options>?) {
    guard let options else {
        CallBoundary.note("petrel_producer_options_init: options is NULL")
        return
    }
    options.pointee = ProducerOptions.defaults
}

/// `petrel_producer_create`.
@_cdecl("petrel_producer_create")
public func petrel_producer_create(
    _ options: UnsafePointer<petrel_producer_options>?, _ outProducer: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outProducer, "out_producer")
        let values = try Arguments.options(options, defaults: ProducerOptions.defaults, argument: "options")
        out.pointee = ProducerBox(configuration: try ProducerOptions.configuration(values)).retainedPointer()
    }
}

/// `petrel_producer_start`.
@_cdecl("petrel_producer_start")
public func petrel_producer_start(_ producer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(producer, as: ProducerBox.self, argument: "producer").start()
    }
}

/// `petrel_producer_shutdown`.
@_cdecl("petrel_producer_shutdown")
public func petrel_producer_shutdown(_ producer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(producer, as: ProducerBox.self, argument: "producer").shutdown()
    }
}

/// `petrel_producer_destroy`: shuts down if needed and releases; NULL is ignored.
@_cdecl("petrel_producer_destroy")
public func petrel_producer_destroy(_ producer: OpaquePointer?) {
    guard let producer else { return }
    guard let box = Handle.resolve(producer, as: ProducerBox.self) else {
        CallBoundary.note("petrel_producer_destroy: not a live petrel_producer")
        return
    }
    do throws(CallFailure) {
        try box.shutdown()
    } catch {
        CallBoundary.note("petrel_producer_destroy: \(error.message); not destroyed")
        return
    }
    box.stopCallbacks()
    _ = Handle.release(producer)
}
