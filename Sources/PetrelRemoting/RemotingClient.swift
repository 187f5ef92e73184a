import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The calling side of the remoting protocol: sends requests to `host:port` addresses (name servers,
/// brokers) over one reused connection per address, opened on first use and again after it closes.
///
/// Requests the peer sends on these connections (a broker's CHECK_TRANSACTION_STATE, for instance) go
/// to the `RemotingRequestHandler` given at creation, or are answered REQUEST_CODE_NOT_SUPPORTED.
public final class RemotingClient: Sendable {
    /// One address's connection, or the attempt to open it that concurrent callers share.
    private enum Slot: Sendable {
        /// Connecting; every caller waits for the same attempt.
        case connecting(EventLoopFuture<RemotingConnection>)
        /// Connected (until `isActive` says otherwise).
        case connected(RemotingConnection)
    }

    /// The mutable part, guarded by `state`'s lock.
    private struct State: Sendable {
        /// Connections by address as given by callers.
        var slots: [String: Slot] = [:]
        /// Set by `shutdown`; no connection is opened after it.
        var isShutDown = false
    }

    /// Where sockets run; owned by the caller.
    private let group: any EventLoopGroup
    /// Answers requests the peers send.
    private let requestHandler: (any RemotingRequestHandler)?
    /// Frame cap and connect timeout.
    private let configuration: RemotingConfiguration
    /// Where the client reports.
    private let logger: Logger
    /// Connections and shutdown flag.
    private let state = NIOLockedValueBox(State())

    /// A client running its connections on `group`.
    public init(
        group: any EventLoopGroup, requestHandler: (any RemotingRequestHandler)? = nil,
        configuration: RemotingConfiguration = RemotingConfiguration(),
        logger: Logger = Logger(label: "petrel.remoting.client")
    ) {
        self.group = group
        self.requestHandler = requestHandler
        self.configuration = configuration
        self.logger = logger
    }

    /// Sends `request` to `address` (`host:port`) and waits for the response. Time spent opening the
    /// connection (itself bounded by `configuration.connectTimeout`) counts against `timeout`, as in
    /// Java's client. Throws `.connectFailed`, `.timeout`, `.connectionClosed`, `.invalidAddress`,
    /// `.shutDown`, or what `RemotingConnection.invoke` throws.
    public func invoke(address: String, request: RemotingCommand, timeout: Duration) async throws(RemotingError) -> RemotingCommand {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let connection = try await connection(to: address)
        let remaining = deadline - clock.now
        guard remaining > .zero else {
            throw RemotingError(.timeout, "connecting took the whole timeout of \(timeout)", address: address)
        }
        return try await connection.invoke(request, timeout: remaining)
    }

    /// Sends `request` to `address` as a oneway request and returns once it is written.
    public func invokeOneway(address: String, request: RemotingCommand) async throws(RemotingError) {
        try await connection(to: address).invokeOneway(request)
    }

    /// The open connection to `address` if there is one now; nil when it would have to be opened
    /// (or the client is shut down). For callers that avoid awaiting on their fast path.
    public func openConnection(to address: String) -> RemotingConnection? {
        state.withLockedValue { state -> RemotingConnection? in
            guard !state.isShutDown, case .connected(let connection) = state.slots[address], connection.isActive else { return nil }
            return connection
        }
    }

    /// The open connection to `address`, opening one if there is none or the last one closed.
    public func connection(to address: String) async throws(RemotingError) -> RemotingConnection {
        enum Lookup {
            case ready(RemotingConnection)
            case waiting(EventLoopFuture<RemotingConnection>, isNew: Bool)
            case refused(RemotingError)
        }
        let lookup = state.withLockedValue { state -> Lookup in
            if state.isShutDown { return .refused(RemotingError(.shutDown, "the client is shut down", address: address)) }
            switch state.slots[address] {
            case .connected(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let attempt):
                return .waiting(attempt, isNew: false)
            case .connected, nil:
                let attempt = connect(to: address)
                state.slots[address] = .connecting(attempt)
                return .waiting(attempt, isNew: true)
            }
        }
        switch lookup {
        case .ready(let connection):
            return connection
        case .refused(let error):
            throw error
        case .waiting(let attempt, let isNew):
            if isNew { attempt.whenComplete { result in self.attemptFinished(attempt, to: address, result: result) } }
            do {
                return try await attempt.get()
            } catch let error as RemotingError {
                throw error
            } catch {
                throw RemotingError(.connectFailed, "could not connect: \(error)", address: address)
            }
        }
    }

    /// Closes the connection to `address`, if any; the next call opens a new one.
    public func closeConnection(to address: String) {
        let slot = state.withLockedValue { $0.slots.removeValue(forKey: address) }
        if case .connected(let connection) = slot { connection.close() }
    }

    /// Closes every connection and refuses further calls; waits until the connections are closed.
    public func shutdown() async {
        let slots = state.withLockedValue { state in
            state.isShutDown = true
            defer { state.slots.removeAll() }
            return Array(state.slots.values)
        }
        for slot in slots {
            let connection: RemotingConnection
            switch slot {
            case .connected(let open):
                connection = open
            case .connecting(let attempt):
                // attemptFinished closes it once it opens, since the client is shut down by then.
                attempt.whenFailure { error in self.logger.debug("a connect attempt ended at shutdown", metadata: ["error": "\(error)"]) }
                continue
            }
            connection.close()
            do {
                try await connection.channel.closeFuture.get()
            } catch {
                logger.debug("error while closing a connection", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(error)"])
            }
        }
    }

    /// Starts opening a connection to `address`.
    private func connect(to address: String) -> EventLoopFuture<RemotingConnection> {
        let eventLoop = group.next()
        guard let (host, port) = Self.split(address) else {
            return eventLoop.makeFailedFuture(
                RemotingError(.invalidAddress, "an address must look like host:port", address: address))
        }
        let events = ConnectionEvents(closed: { [self] connection in connectionClosed(connection, address: address) })
        let created = NIOLockedValueBox<RemotingConnection?>(nil)
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = try RemotingPipeline.install(
                        on: channel, remoteAddress: address, configuration: configuration,
                        requestHandler: requestHandler, events: events, logger: logger)
                    created.withLockedValue { $0 = connection }
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { _ in
                guard let connection = created.withLockedValue({ $0 }) else {
                    throw RemotingError(.connectFailed, "the channel was set up without a connection", address: address)
                }
                return connection
            }
    }

    /// Records the outcome of a connect attempt, unless the slot moved on meanwhile.
    private func attemptFinished(
        _ attempt: EventLoopFuture<RemotingConnection>, to address: String, result: Result<RemotingConnection, any Error>
    ) {
        let isShutDown = state.withLockedValue { state in
            if case .connecting(let current) = state.slots[address], current === attempt {
                switch result {
                case .success(let connection): state.slots[address] = .connected(connection)
                case .failure: state.slots[address] = nil
                }
            }
            return state.isShutDown
        }
        switch result {
        case .success(let connection):
            if isShutDown { connection.close() }
        case .failure(let error):
            logger.debug("could not connect", metadata: ["remote": "\(address)", "error": "\(error)"])
        }
    }

    /// Forgets a closed connection so the next call reconnects.
    private func connectionClosed(_ connection: RemotingConnection, address: String) {
        state.withLockedValue { state in
            if case .connected(let current) = state.slots[address], current == connection {
                state.slots[address] = nil
            }
        }
    }

    /// `host` and `port` of `host:port` or `[ipv6]:port`; nil when malformed.
    static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"),
            let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return (String(host), port)
    }
}
