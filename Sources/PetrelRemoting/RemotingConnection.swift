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
    /// Answers promised by handlers (`answerLater`), waiting for their drain on the event loop.
    let laterAnswers = NIOLockedValueBox<[LaterAnswer]>([])

    /// The mutable part, guarded by `state`'s lock.
    private struct State: Sendable {
        /// Requests sent with `invoke` and not yet answered, by opaque.
        var pending: [Int32: PendingRequest] = [:]
        /// Set once the channel went inactive; no request is accepted after that.
        var isClosed = false
        /// The one timer that expires requests, armed for `timerDeadline`; nil when nothing waits.
        var timer: Scheduled<Void>?
        /// When `timer` fires: never later than the earliest deadline of `pending`.
        var timerDeadline: NIODeadline?
        /// Registered requests not yet handed to the channel, in order, with their deadlines.
        var outbox: [(request: RemotingCommand, deadline: NIODeadline)] = []
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
        /// When the request times out.
        let deadline: NIODeadline
        /// The request's code and timeout, for the timeout's message.
        let code: Int32
        /// The timeout the caller gave.
        let timeout: Duration
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
        // A task cancelled already never registers its request: the cancellation handler below runs
        // before the request exists, and an outbox drain could write it before a later check.
        if Task.isCancelled { throw RemotingError.cancelled(address: remoteAddress) }
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
        // A refusal is reported from the event loop too, so `completion` never runs inside this call.
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
        let (abandoned, timer) = state.withLockedValue { state in
            state.isClosed = true
            defer {
                state.pending.removeAll()
                state.timer = nil
                state.timerDeadline = nil
            }
            return (Array(state.pending.values), state.timer)
        }
        timer?.cancel()
        for request in abandoned {
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
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let registered: Result<Bool, RemotingError> = state.withLockedValue { state in
            if state.isClosed { return .failure(RemotingError(.connectionClosed, "the connection is closed", address: remoteAddress)) }
            if state.pending[opaque] != nil {
                return .failure(RemotingError(.invalidRequest, "opaque \(opaque) is already outstanding", address: remoteAddress))
            }
            state.pending[opaque] = PendingRequest(waiter: waiter, deadline: deadline, code: request.code, timeout: timeout)
            state.outbox.append((request, deadline))
            return .success(state.outbox.count == 1)
        }
        let startsOutbox: Bool
        switch registered {
        case .failure(let refusal): return refusal
        case .success(let first): startsOutbox = first
        }
        // The request that finds the outbox empty schedules its drain; those that follow before the
        // event loop gets to it ride along and share one flush (one write system call). Scheduled
        // before anything else can return, or the outbox would never drain again.
        if startsOutbox { channel.eventLoop.execute { self.drainOutbox() } }
        // A cancellation that arrived before the request was registered found nothing to cancel;
        // the drain skips a request that is no longer pending.
        if case .continuation = waiter, Task.isCancelled {
            finish(opaque, with: .failure(.cancelled(address: remoteAddress)))
        }
        return nil
    }

    /// Writes every request of the outbox and flushes once; arms the timer for the first's deadline
    /// (the earliest of those: deadlines grow with registration for one timeout). Runs on the event loop.
    private func drainOutbox() {
        let batch = state.withLockedValue { state in
            let taken = state.outbox.filter { state.pending[$0.request.opaque] != nil }
            state.outbox = []
            return taken
        }
        guard let first = batch.first else { return }
        armTimer(before: batch.reduce(first.deadline) { min($0, $1.deadline) })
        for (request, _) in batch {
            let opaque = request.opaque
            channel.write(request).whenFailure { error in
                self.finish(opaque, with: .failure(.wrapping(error, while: "sending code \(request.code)", address: self.remoteAddress)))
            }
        }
        channel.flush()
    }

    /// Makes sure the connection's one timer fires by `deadline`. One timer per connection instead of
    /// one per request: requests of one timeout arrive in deadline order, so the armed timer usually
    /// stays as it is and a pipelined sender pays no timer work per request (scheduling and
    /// cancelling a task each was ~10 % of a pipelined client's CPU). Runs on the event loop.
    private func armTimer(before deadline: NIODeadline) {
        let replaced = state.withLockedValue { state -> Scheduled<Void>? in
            if let armed = state.timerDeadline, armed <= deadline { return nil }
            guard !state.isClosed, !state.pending.isEmpty else { return nil }
            let old = state.timer
            state.timerDeadline = deadline
            state.timer = channel.eventLoop.scheduleTask(deadline: deadline) { self.expireRequests() }
            return old
        }
        replaced?.cancel()
    }

    /// Fails every request past its deadline with `.timeout` (a late response is then dropped) and
    /// re-arms the timer for the earliest deadline left. Runs on the event loop.
    private func expireRequests() {
        let now = NIODeadline.now()
        let (expired, next) = state.withLockedValue { state -> ([PendingRequest], NIODeadline?) in
            state.timer = nil
            state.timerDeadline = nil
            var expired: [PendingRequest] = []
            var next: NIODeadline?
            for (opaque, request) in state.pending {
                if request.deadline <= now {
                    expired.append(request)
                    state.pending[opaque] = nil
                } else if next.map({ request.deadline < $0 }) ?? true {
                    next = request.deadline
                }
            }
            return (expired, next)
        }
        for request in expired {
            let error = RemotingError(.timeout, "no response to code \(request.code) within \(request.timeout)", address: remoteAddress)
            request.waiter.resume(.failure(error))
        }
        if let next { armTimer(before: next) }
    }

    /// Removes the pending request and resumes it with `result`; false when it was already finished.
    @discardableResult
    private func finish(_ opaque: Int32, with result: Result<RemotingCommand, RemotingError>) -> Bool {
        guard let request = state.withLockedValue({ $0.pending.removeValue(forKey: opaque) }) else { return false }
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
