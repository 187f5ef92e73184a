import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A remoting listener: accepts TCP connections and runs every request that arrives on them through
/// one `RemotingRequestHandler`. The broker and the name server each run one.
///
/// Each accepted socket gets a pipeline of frame decoder → command encoder → command handler and a
/// `RemotingConnection`, through which the owner can also send requests to that client. A connection
/// that sends bad input is logged and closed; the others are not affected.
public final class RemotingServer: Sendable {
    /// Called with a connection that opened or closed.
    public typealias ConnectionCallback = @Sendable (RemotingConnection) -> Void

    /// Where the server is in its life.
    private enum Phase: Sendable {
        /// Created, not listening yet.
        case idle
        /// Listening on the channel.
        case listening(any Channel)
        /// Shut down; it cannot be started again.
        case shutDown
    }

    /// The mutable part, guarded by `state`'s lock.
    private struct State: Sendable {
        /// Where the server is in its life.
        var phase = Phase.idle
        /// Every open connection, by id.
        var connections: [UInt64: RemotingConnection] = [:]
    }

    /// Interface to listen on.
    private let host: String
    /// Port to listen on; 0 picks a free one.
    private let requestedPort: Int
    /// Where sockets run; owned by the caller.
    private let group: any EventLoopGroup
    /// Runs every incoming request.
    private let handler: any RemotingRequestHandler
    /// Frame cap and backlog.
    private let configuration: RemotingConfiguration
    /// Where the server reports.
    private let logger: Logger
    /// The owner's open callback.
    private let onConnectionOpened: ConnectionCallback?
    /// The owner's close callback, so the broker can expire the clients of a closed connection.
    private let onConnectionClosed: ConnectionCallback?
    /// Phase and connections.
    private let state = NIOLockedValueBox(State())

    /// A server that will listen on `host`:`port` once started. The callbacks run on the connection's
    /// event loop and must not block.
    public init(
        host: String = "0.0.0.0", port: Int = 0, group: any EventLoopGroup, handler: any RemotingRequestHandler,
        configuration: RemotingConfiguration = RemotingConfiguration(),
        logger: Logger = Logger(label: "petrel.remoting.server"),
        onConnectionOpened: ConnectionCallback? = nil, onConnectionClosed: ConnectionCallback? = nil
    ) {
        self.host = host
        self.requestedPort = port
        self.group = group
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
        self.onConnectionOpened = onConnectionOpened
        self.onConnectionClosed = onConnectionClosed
    }

    /// Starts listening and returns the bound port (the picked one when the port given was 0).
    @discardableResult
    public func start() async throws(RemotingError) -> Int {
        let place = "\(host):\(requestedPort)"
        let listener: any Channel
        do {
            listener = try await makeBootstrap().bind(host: host, port: requestedPort).get()
        } catch {
            throw RemotingError(.bindFailed, "could not listen: \(error)", address: place)
        }
        let refused = state.withLockedValue { state -> RemotingError? in
            guard case .idle = state.phase else { return RemotingError(.shutDown, "the server was already started or shut down", address: place) }
            state.phase = .listening(listener)
            return nil
        }
        if let refused {
            listener.close(promise: nil)
            throw refused
        }
        let port = listener.localAddress?.port ?? requestedPort
        logger.info("listening", metadata: ["address": "\(host):\(port)"])
        return port
    }

    /// The bound port while listening, else nil.
    public var port: Int? {
        state.withLockedValue { state in
            guard case .listening(let listener) = state.phase else { return nil }
            return listener.localAddress?.port
        }
    }

    /// The open connections.
    public var connections: [RemotingConnection] {
        state.withLockedValue { Array($0.connections.values) }
    }

    /// Stops listening, closes every connection and waits until they are closed. Requests still being
    /// handled finish, but their responses are dropped.
    public func shutdown() async {
        let (listener, connections) = state.withLockedValue { state -> ((any Channel)?, [RemotingConnection]) in
            defer { state.phase = .shutDown }
            guard case .listening(let listener) = state.phase else { return (nil, Array(state.connections.values)) }
            return (listener, Array(state.connections.values))
        }
        if let listener {
            do {
                try await listener.close()
            } catch {
                logger.debug("the listener was already closed", metadata: ["error": "\(error)"])
            }
        }
        for connection in connections {
            connection.close()
        }
        for connection in connections {
            do {
                try await connection.channel.closeFuture.get()
            } catch {
                logger.debug("error while closing a connection", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(error)"])
            }
        }
        logger.info("shut down", metadata: ["connections": "\(connections.count)"])
    }

    /// The bootstrap that builds each accepted connection's pipeline.
    private func makeBootstrap() -> ServerBootstrap {
        let events = ConnectionEvents(
            opened: { [self] connection in connectionOpened(connection) },
            closed: { [self] connection in connectionClosed(connection) })
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    _ = try RemotingPipeline.install(
                        on: channel, remoteAddress: RemotingConnection.describe(channel.remoteAddress),
                        configuration: configuration, requestHandler: handler, events: events, logger: logger)
                }
            }
    }

    /// Registers a new connection, or closes it when the server is shutting down.
    private func connectionOpened(_ connection: RemotingConnection) {
        let accepted = state.withLockedValue { state in
            if case .shutDown = state.phase { return false }
            state.connections[connection.id] = connection
            return true
        }
        guard accepted else {
            connection.logger.debug("closing a connection accepted during shutdown")
            connection.close()
            return
        }
        onConnectionOpened?(connection)
    }

    /// Forgets a closed connection and tells the owner.
    private func connectionClosed(_ connection: RemotingConnection) {
        let known = state.withLockedValue { $0.connections.removeValue(forKey: connection.id) != nil }
        if known { onConnectionClosed?(connection) }
    }
}
