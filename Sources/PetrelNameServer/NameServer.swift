import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import ServiceLifecycle
import Synchronization

/// A RocketMQ-compatible name server: a `RemotingServer` answering the name-server requests
/// (`NameServerRequestHandler`) plus the scan that drops brokers silent for longer than
/// `brokerExpiry` (Java `NamesrvController`).
///
/// Lifecycle: `start()` binds and returns the port (callers that need the port before the service
/// group runs call it first); `run()`, as a swift-service-lifecycle `Service`, starts the server if
/// that has not happened, scans every `scanInterval` until graceful shutdown or cancellation, then
/// closes the listener and every connection. A name server runs once: it cannot be restarted.
public final class NameServer: Service {
    /// The settings it was created with.
    public let configuration: NameServerConfiguration
    /// The route tables.
    public let registry: RouteRegistry
    /// The request processor (for answering requests without a network, and for tests).
    public let handler: NameServerRequestHandler
    /// The listener.
    private let server: RemotingServer
    /// Where the server reports.
    private let logger: Logger
    /// Milliseconds since the epoch; the handler and the expiry scan share it.
    private let clock: @Sendable () -> Int64
    /// The one start attempt, shared by `start()` and `run()` so the server binds exactly once.
    private let startAttempt = Mutex<Task<Int, any Error>?>(nil)

    /// A name server that will listen on `configuration.host`:`configuration.port` once started.
    ///
    /// - Parameters:
    ///   - configuration: where to listen and how brokers expire.
    ///   - group: where the sockets run; owned by the caller.
    ///   - logger: where the server reports.
    ///   - registry: the route tables; a fresh, empty one unless given (e.g. restored KV configuration).
    ///   - clock: milliseconds since the epoch; injectable for tests.
    public init(
        configuration: NameServerConfiguration = NameServerConfiguration(), group: any EventLoopGroup,
        logger: Logger = Logger(label: "petrel.namesrv"), registry: RouteRegistry = RouteRegistry(),
        clock: @escaping @Sendable () -> Int64 = NameServerClock.nowMilliseconds
    ) {
        let handler = NameServerRequestHandler(registry: registry, configuration: configuration, logger: logger, clock: clock)
        self.configuration = configuration
        self.registry = registry
        self.handler = handler
        self.logger = logger
        self.clock = clock
        self.server = RemotingServer(
            host: configuration.host, port: configuration.port, group: group, handler: handler, logger: logger,
            onConnectionClosed: { connection in handler.connectionClosed(connection.id) })
    }

    /// Starts listening and returns the bound port (a free one when the configured port is 0).
    /// Calling it again returns the same port, or throws the same error (`RemotingError` `.bindFailed`
    /// when the port is taken).
    @discardableResult
    public func start() async throws -> Int {
        let attempt = startAttempt.withLock { attempt -> Task<Int, any Error> in
            if let attempt { return attempt }
            let started = Task { [server, handler] in
                let port = try await server.start()
                handler.listening(on: port)
                return port
            }
            attempt = started
            return started
        }
        return try await attempt.value
    }

    /// The bound port while listening, else nil.
    public var port: Int? { server.port }

    /// Runs the name server: starts it if `start()` was not called, drops silent brokers every
    /// `scanInterval` until graceful shutdown (or cancellation), then shuts the listener and every
    /// connection down. Throws only when the server cannot start.
    public func run() async throws {
        let port = try await start()
        logger.info(
            "name server running",
            metadata: [
                "address": "\(configuration.host):\(port)", "brokerExpiry": "\(configuration.brokerExpiry)",
                "scanInterval": "\(configuration.scanInterval)",
            ])
        await cancelWhenGracefulShutdown { [self] in await scanUntilCancelled() }
        await server.shutdown()
        logger.info("name server stopped")
    }

    /// Drops every broker not heard from within `brokerExpiry` and closes its connection, as Java's
    /// `scanNotActiveBroker` does (a half-dead broker must reconnect and register anew). Returns the
    /// dropped brokers. `run()` calls it every `scanInterval`.
    @discardableResult
    public func expireSilentBrokers() -> [LiveBroker] {
        let expired = registry.expireBrokers(now: clock(), timeout: configuration.brokerExpiry.wholeMilliseconds)
        guard !expired.isEmpty else { return [] }
        let connections = server.connections
        for broker in expired {
            logger.warning(
                "broker expired: silent for too long",
                metadata: [
                    "broker": "\(broker.brokerName)", "brokerId": "\(broker.brokerId)", "address": "\(broker.address)",
                    "lastUpdate": "\(broker.lastUpdateTimestamp)",
                ])
            connections.first { $0.id == broker.connectionId }?.close()
        }
        return expired
    }

    /// The expiry scan loop; returns when its task is cancelled.
    private func scanUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.scanInterval)
            } catch {
                // Cancellation (graceful shutdown) interrupting the sleep is the normal way out;
                // Task.sleep throws nothing else, but anything else must not vanish silently.
                if !(error is CancellationError) { logger.error("expiry scan stopped", metadata: ["error": "\(error)"]) }
                return
            }
            expireSilentBrokers()
        }
    }
}
