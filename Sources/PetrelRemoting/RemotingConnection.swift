import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One TCP connection speaking the remoting protocol, on either side: the server makes one per
/// accepted client, the client one per broker or name-server address.
///
/// Besides answering the peer's requests (see `RemotingRequestHandler`), a connection can send its
/// own: `invoke` waits for the response, matched by opaque against this connection's outstanding
/// requests; `invokeOneway` only writes. The broker uses this for broker-to-client requests such as
/// NOTIFY_CONSUMER_IDS_CHANGED and CHECK_TRANSACTION_STATE (spec §3).
///
/// Thread-safe: the outstanding-request table sits behind a lock, and NIO channels accept writes from
/// any thread.
public final class RemotingConnection: Sendable, Hashable, CustomStringConvertible {
    /// A process-wide unique id, for logs and as a dictionary key.
    public let id: UInt64
    /// The peer as `ip:port` (`[ip]:port` for IPv6), or the address the client dialled.
    public let remoteAddress: String
    /// The NIO channel underneath.
    let channel: any Channel
    /// The owner's logger with this connection's peer and id attached.
    let logger: Logger
    /// Outstanding requests and whether the connection has closed.
    private let state = NIOLockedValueBox(State())

    /// The mutable part, guarded by `state`'s lock.
    private struct State: Sendable {
        /// Requests sent with `invoke` and not yet answered, by opaque.
        var pending: [Int32: PendingRequest] = [:]
        /// Set once the channel went inactive; no request is accepted after that.
        var isClosed = false
    }

    /// What an outstanding request is answered through.
    private enum Waiter: Sendable {
        /// An `async` `invoke`, resumed where it awaits.
        case continuation(CheckedContinuation<Result<RemotingCommand, RemotingError>, Never>)
        /// A callback `invoke`, called on whichever thread finishes the request (normally the
        /// channel's event loop): no task, no hop to the cooperative pool and back.
        case callback(@Sendable (Result<RemotingCommand, RemotingError>) -> Void)

        /// Delivers `result`; called exactly once.
        func resume(_ result: Result<RemotingCommand, RemotingError>) {
            switch self {
            case .continuation(let continuation): continuation.resume(returning: result)
            case .callback(let callback): callback(result)
            }
        }
    }

    /// One `invoke` waiting for its response.
    private struct PendingRequest: Sendable {
        /// Resumed exactly once: with the response, or with the reason there will be none.
        let waiter: Waiter
        /// The timeout, cancelled when the request finishes first.
        var timer: Scheduled<Void>?
    }

    /// Source of `id`.
    private static let identifiers = Atomic<UInt64>(1)

    /// A connection over `channel`; the channel handler calls `complete` and `markClosed` on it.
    init(channel: any Channel, remoteAddress: String, logger: Logger) {
        self.id = Self.identifiers.wrappingAdd(1, ordering: .relaxed).oldValue
        self.channel = channel
        self.remoteAddress = remoteAddress
        var logger = logger
        logger[metadataKey: "remote"] = "\(remoteAddress)"
        logger[metadataKey: "connection"] = "\(id)"
        self.logger = logger
    }

    /// True until the connection closes.
    public var isActive: Bool {
        channel.isActive && !state.withLockedValue { $0.isClosed }
    }

    /// `#id remoteAddress`.
    public var description: String { "#\(id) \(remoteAddress)" }

    /// Sends `request` and waits for its response (matched by opaque) for at most `timeout`.
    ///
    /// Throws `.timeout` when no response came in time (a late one is then dropped),
    /// `.connectionClosed` when the connection closes first, `.cancelled` when the task is cancelled,
    /// `.invalidRequest` for a response or oneway command or an opaque already outstanding here.
    public func invoke(_ request: RemotingCommand, timeout: Duration) async throws(RemotingError) -> RemotingCommand {
        if let refusal = refusal(of: request) { throw refusal }
        let opaque = request.opaque
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if let refusal = start(request, timeout: timeout, waiter: .continuation(continuation)) {
                    continuation.resume(returning: .failure(refusal))
                }
            }
        } onCancel: {
            finish(opaque, with: .failure(.cancelled(address: remoteAddress)))
        }
        return try result.get()
    }

    /// Sends `request` and calls `completion` with its response, or with why there is none (the
    /// errors of the `async` `invoke` except `.cancelled`). Returns at once; `completion` runs later
    /// on the channel's event loop, so it must not block. Spares the caller a task and two thread
    /// hops per request.
    public func invoke(
        _ request: RemotingCommand, timeout: Duration,
        completion: @escaping @Sendable (Result<RemotingCommand, RemotingError>) -> Void
    ) {
        // A refusal is reported from the event loop too, so `completion` never runs before this returns.
        if let refusal = refusal(of: request) ?? start(request, timeout: timeout, waiter: .callback(completion)) {
            channel.eventLoop.execute { completion(.failure(refusal)) }
        }
    }

    /// Sends `request` with the oneway flag set and returns once it is written; no response is expected.
    public func invokeOneway(_ request: RemotingCommand) async throws(RemotingError) {
        guard !request.isResponse else {
            throw RemotingError(.invalidRequest, "invokeOneway needs a request, got a response", address: remoteAddress)
        }
        var request = request
        request.flag |= RemotingCommand.onewayFlag
        try await send(request)
    }

    /// Closes the connection; outstanding requests fail with `.connectionClosed`. Returns at once.
    public func close() {
        channel.close(promise: nil)
    }

    /// Identity: two values are equal when they are the same connection.
    public static func == (lhs: RemotingConnection, rhs: RemotingConnection) -> Bool {
        lhs.id == rhs.id
    }

    /// Hashes the id.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
    }

    /// Writes one command and waits until it is written (not answered).
    func send(_ command: RemotingCommand) async throws(RemotingError) {
        do {
            try await channel.writeAndFlush(command).get()
        } catch {
            throw RemotingError.wrapping(error, while: "sending code \(command.code)", address: remoteAddress)
        }
    }

    /// Hands a response to the `invoke` waiting for its opaque; a response nobody waits for (its
    /// request timed out, or the peer answered twice) is dropped.
    func complete(_ response: RemotingCommand) {
        if !finish(response.opaque, with: .success(response)) {
            logger.debug("dropping a response nobody waits for", metadata: ["opaque": "\(response.opaque)", "code": "\(response.code)"])
        }
    }

    /// Marks the connection closed and fails every outstanding request; called once the channel is
    /// inactive.
    func markClosed() {
        let abandoned = state.withLockedValue { state in
            state.isClosed = true
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for request in abandoned {
            request.timer?.cancel()
            request.waiter.resume(
                .failure(RemotingError(.connectionClosed, "the connection closed before the response", address: remoteAddress)))
        }
    }

    /// Why `request` cannot be invoked: a response or oneway command; nil when it can.
    private func refusal(of request: RemotingCommand) -> RemotingError? {
        guard !request.isResponse, !request.isOneway else {
            return RemotingError(.invalidRequest, "invoke needs a two-way request, got flag \(request.flag)", address: remoteAddress)
        }
        return nil
    }

    /// Registers the request, arms its timeout and writes it; returns why it was refused at once
    /// (then `waiter` is not resumed), otherwise every outcome resumes `waiter`.
    private func start(_ request: RemotingCommand, timeout: Duration, waiter: Waiter) -> RemotingError? {
        let opaque = request.opaque
        let refusal: RemotingError? = state.withLockedValue { state in
            if state.isClosed { return RemotingError(.connectionClosed, "the connection is closed", address: remoteAddress) }
            if state.pending[opaque] != nil {
                return RemotingError(.invalidRequest, "opaque \(opaque) is already outstanding", address: remoteAddress)
            }
            state.pending[opaque] = PendingRequest(waiter: waiter)
            return nil
        }
        if let refusal { return refusal }
        // A cancellation that arrived before the request was registered found nothing to cancel.
        if case .continuation = waiter, Task.isCancelled {
            finish(opaque, with: .failure(.cancelled(address: remoteAddress)))
            return nil
        }
        // One hop onto the event loop for both the timer and the write, instead of one for each.
        channel.eventLoop.execute {
            self.armTimeout(for: request, after: timeout)
            self.channel.writeAndFlush(request).whenFailure { error in
                self.finish(opaque, with: .failure(.wrapping(error, while: "sending code \(request.code)", address: self.remoteAddress)))
            }
        }
        return nil
    }

    /// Schedules the timeout of a registered request and stores it so a response can cancel it.
    private func armTimeout(for request: RemotingCommand, after timeout: Duration) {
        let opaque = request.opaque
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let error = RemotingError(.timeout, "no response to code \(request.code) within \(timeout)", address: self.remoteAddress)
            self.finish(opaque, with: .failure(error))
        }
        let stored = state.withLockedValue { state in
            guard state.pending[opaque] != nil else { return false }
            state.pending[opaque]?.timer = timer
            return true
        }
        if !stored { timer.cancel() }
    }

    /// Removes the pending request and resumes it with `result`; false when it was already finished.
    @discardableResult
    private func finish(_ opaque: Int32, with result: Result<RemotingCommand, RemotingError>) -> Bool {
        guard let request = state.withLockedValue({ $0.pending.removeValue(forKey: opaque) }) else { return false }
        request.timer?.cancel()
        request.waiter.resume(result)
        return true
    }

    /// `ip:port` of a socket address, the form RocketMQ logs and compares.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        guard let ip = address.ipAddress, let port = address.port else { return address.description }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
