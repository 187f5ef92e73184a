import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting
import Synchronization

/// The connection of one client id to a cluster, shared by that id's producers and consumers (Java's
/// `MQClientInstance`): one remoting client, the topic-route cache, the registered groups, the
/// heartbeat and route-refresh loops, and the handlers for requests brokers send to the client.
///
/// Lifecycle: every user calls `start()` once and `shutdown()` once; the instance runs from the first
/// `start()` to the last `shutdown()`, which sends UNREGISTER_CLIENT for the groups still registered
/// and closes the connections. A shut-down instance cannot be started again.
public final class ClientInstance: Sendable {
    /// Lifecycle phases.
    enum Phase: Sendable {
        /// Created, never started.
        case created
        /// Started by `users` callers that have not shut down yet.
        case running(users: Int)
        /// The last user shut down (or shutdown is in progress).
        case stopped
    }

    /// The configuration the instance was created with.
    public let configuration: ClientConfiguration
    /// Where the instance reports.
    public let logger: Logger
    /// Sockets to name servers and brokers.
    let remoting: RemotingClient
    /// Handlers of broker-initiated requests.
    let router = InboundRequestRouter()
    /// Routes by topic and known broker addresses.
    let routes = TopicRouteCache()
    /// Producer and consumer groups registered here.
    let registrations = Mutex(GroupRegistrations())
    /// Lifecycle phase.
    private let phase = Mutex(Phase.created)
    /// The background loops while running.
    private let maintenanceTask = Mutex<Task<Void, Never>?>(nil)
    /// Index of the name server to try first; moves on when one fails.
    private let nameServerIndex = Atomic<Int>(0)

    /// Instances handed out by `shared(configuration:)`, by client id.
    private static let sharedInstances = Mutex<[String: ClientInstance]>([:])

    /// An instance on `eventLoopGroup` (NIO's process-wide singleton group when nil).
    public init(configuration: ClientConfiguration, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        var logger = Logger(label: configuration.loggerLabel)
        logger[metadataKey: "clientId"] = "\(configuration.clientId)"
        self.logger = logger
        remoting = RemotingClient(
            group: eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton, requestHandler: router,
            configuration: configuration.remotingConfiguration, logger: logger)
    }

    /// The instance for `configuration.clientId`: the running one if this process has it, else a new
    /// one (then remembered until it shuts down). Producers and consumers use this, as Java's
    /// `MQClientManager.getOrCreateMQClientInstance`.
    public static func shared(configuration: ClientConfiguration) -> ClientInstance {
        sharedInstances.withLock { table in
            if let existing = table[configuration.clientId], !existing.isStopped { return existing }
            let created = ClientInstance(configuration: configuration)
            table[configuration.clientId] = created
            return created
        }
    }

    /// The client id brokers know this instance by.
    public var clientId: String { configuration.clientId }

    /// Whether the last user has shut the instance down.
    var isStopped: Bool {
        phase.withLock { if case .stopped = $0 { return true } else { return false } }
    }

    /// Whether the instance is running.
    public var isRunning: Bool {
        phase.withLock { if case .running = $0 { return true } else { return false } }
    }

    /// Counts one more user; the first starts the heartbeat and route-refresh loops. Throws
    /// `.invalidConfiguration` for an unusable configuration and `.shutDown` after the last shutdown.
    public func start() async throws(ClientError) {
        try configuration.validate()
        let isFirst = try phase.withLock { phase throws(ClientError) -> Bool in
            switch phase {
            case .created:
                phase = .running(users: 1)
                return true
            case .running(let users):
                phase = .running(users: users + 1)
                return false
            case .stopped:
                throw ClientError(.shutDown, "the client instance \(configuration.clientId) is shut down")
            }
        }
        guard isFirst else { return }
        let maintenance = ClientMaintenance(instance: self)
        maintenanceTask.withLock { $0 = Task { await maintenance.runLoops() } }
        logger.info("client instance started", metadata: ["nameServers": "\(configuration.nameServerAddresses.joined(separator: ";"))"])
    }

    /// Counts one user less; the last stops the loops, unregisters the remaining groups from every
    /// known broker and closes the connections. Extra calls do nothing.
    public func shutdown() async {
        let isLast = phase.withLock { phase -> Bool in
            switch phase {
            case .running(let users) where users > 1:
                phase = .running(users: users - 1)
                return false
            case .running, .created:
                phase = .stopped
                return true
            case .stopped:
                return false
            }
        }
        guard isLast else { return }
        if let task = maintenanceTask.withLock({ $0.take() }) {
            task.cancel()
            await task.value
        }
        let groups = registrations.withLock { $0 }
        for group in groups.producerGroups { await unregisterClient(producerGroup: group, consumerGroup: nil) }
        for group in groups.consumers.keys { await unregisterClient(producerGroup: nil, consumerGroup: group) }
        await remoting.shutdown()
        Self.sharedInstances.withLock { table in
            if table[configuration.clientId] === self { table[configuration.clientId] = nil }
        }
        logger.info("client instance shut down")
    }

    /// Throws `.notStarted` unless the instance is running.
    func requireRunning() throws(ClientError) {
        switch phase.withLock({ $0 }) {
        case .running: return
        case .created: throw ClientError(.notStarted, "the client instance is not started; call start() first")
        case .stopped: throw ClientError(.shutDown, "the client instance is shut down")
        }
    }

    // MARK: - Requests

    /// Sends `request` to `address` and returns the answer, whatever its code; `timeout` defaults to
    /// the configuration's `requestTimeout`. Throws `.timeout`, `.connectionFailed`, `.shutDown`.
    public func invoke(address: String, request: RemotingCommand, timeout: Duration? = nil) async throws(ClientError) -> RemotingCommand {
        var request = request
        request.serializeType = configuration.headerEncoding.serializeType
        do {
            return try await remoting.invoke(address: address, request: request, timeout: timeout ?? configuration.requestTimeout)
        } catch {
            throw ClientError(error, doing: "request \(request.requestCode.name ?? String(request.code)) to \(address)")
        }
    }

    /// Sends `request` to `address` and calls `completion` with the answer or the error `invoke`
    /// would throw. Over an open connection no task is made and `completion` runs on the connection's
    /// event loop (it must not block); otherwise a task opens the connection first.
    public func invoke(
        address: String, request: RemotingCommand, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<RemotingCommand, ClientError>) -> Void
    ) {
        var request = request
        request.serializeType = configuration.headerEncoding.serializeType
        let timeout = timeout ?? configuration.requestTimeout
        guard let connection = remoting.openConnection(to: address) else {
            Task { [request] in
                do throws(ClientError) {
                    completion(.success(try await invoke(address: address, request: request, timeout: timeout)))
                } catch {
                    completion(.failure(error))
                }
            }
            return
        }
        connection.invoke(request, timeout: timeout) { [request] result in
            completion(result.mapError { error in
                ClientError(error, doing: "request \(request.requestCode.name ?? String(request.code)) to \(address)")
            })
        }
    }

    /// Sends `request` to `address` as a oneway request (flag bit 1 set); returns once it is written.
    public func invokeOneway(address: String, request: RemotingCommand) async throws(ClientError) {
        var oneway = request
        oneway.flag |= RemotingCommand.onewayFlag
        oneway.serializeType = configuration.headerEncoding.serializeType
        do {
            try await remoting.invokeOneway(address: address, request: oneway)
        } catch {
            throw ClientError(error, doing: "oneway request \(request.requestCode.name ?? String(request.code)) to \(address)")
        }
    }

    /// Sends `request` to a name server, moving on to the next one when a name server cannot be
    /// reached (Java sticks to one name server until it fails, the same way).
    public func invokeNameServer(_ request: RemotingCommand, timeout: Duration? = nil) async throws(ClientError) -> RemotingCommand {
        let addresses = configuration.nameServerAddresses
        guard !addresses.isEmpty else { throw ClientError(.invalidConfiguration, "no name server is configured") }
        let first = nameServerIndex.load(ordering: .relaxed)
        var lastError = ClientError(.connectionFailed, "no name server could be reached")
        for attempt in 0..<addresses.count {
            let index = (first + attempt) % addresses.count
            do {
                let response = try await invoke(address: addresses[index], request: request, timeout: timeout)
                if attempt > 0 { nameServerIndex.store(index, ordering: .relaxed) }
                return response
            } catch where error.code == .connectionFailed || error.code == .timeout {
                lastError = error
                logger.debug("name server failed; trying the next", metadata: ["nameServer": "\(addresses[index])", "error": "\(error)"])
            }
        }
        throw lastError
    }

    // MARK: - Inbound requests

    /// Adds a handler for requests with `code` that brokers send to this client. Handlers of one code
    /// are asked in registration order until one claims the request (see `InboundRequestOutcome`).
    @discardableResult
    public func registerInboundHandler(code: RequestCode, handler: @escaping InboundRequestHandler) -> InboundHandlerRegistration {
        router.register(code: code, handler: handler)
    }

    /// Removes a handler added with `registerInboundHandler`.
    public func removeInboundHandler(_ registration: InboundHandlerRegistration) {
        router.remove(registration)
    }
}
