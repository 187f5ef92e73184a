import Logging
import NIOCore

/// Answers the requests that arrive on a connection: the broker's and name server's request
/// processors on the server side, the client's CHECK_TRANSACTION_STATE handling on the client side.
///
/// Non-throwing on purpose: a failure is a response (SYSTEM_ERROR with a remark, or a more specific
/// code), never an exception that could leave a client waiting. Each request runs in its own task,
/// so a slow handler (a long-polling pull) does not hold up the connection.
public protocol RemotingRequestHandler: Sendable {
    /// The response to `request`, or nil for none. The server copies the request's opaque and
    /// serialize type into the response and sets its response flag. A oneway request (flag bit 1) is
    /// never answered; a two-way request is always answered, with an empty SUCCESS if this returns nil,
    /// because C++ clients send even their oneway requests with flag 0 and Java would wait (spec §3).
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand?

    /// Handles `request` on the connection's event loop: answers it at once, takes it on to answer
    /// later with `connection.answerLater` (work that waits for something, like a send waiting for
    /// its flush, without blocking), or declines to have `handle` run it in a task as usual. Sparing
    /// a small request the hops to the cooperative pool and back removes most of its cost. Must not
    /// block. The default declines everything.
    func handleOnEventLoop(_ request: RemotingCommand, from connection: RemotingConnection) -> EventLoopAnswer
}

extension RemotingRequestHandler {
    /// Handles nothing on the event loop: every request runs in a task.
    public func handleOnEventLoop(_ request: RemotingCommand, from connection: RemotingConnection) -> EventLoopAnswer {
        .declined
    }
}

/// Settings shared by `RemotingServer` and `RemotingClient`.
public struct RemotingConfiguration: Sendable {
    /// The largest frame accepted, counted like the `length` field (Java's default: 16 MiB).
    public var maximumFrameLength: Int
    /// How long a client waits for a TCP connection to open.
    public var connectTimeout: Duration
    /// The server's listen backlog.
    public var backlog: Int32

    /// Settings with Java's defaults unless given.
    public init(
        maximumFrameLength: Int = RemotingFrameDecoder.defaultMaximumFrameLength,
        connectTimeout: Duration = .seconds(3), backlog: Int32 = 1024
    ) {
        self.maximumFrameLength = maximumFrameLength
        self.connectTimeout = connectTimeout
        self.backlog = backlog
    }
}

/// What the owner of connections (server or client) wants to hear about them.
struct ConnectionEvents: Sendable {
    /// The connection became active.
    var opened: @Sendable (RemotingConnection) -> Void = { _ in }
    /// The connection closed; called before its outstanding requests fail, so an owner that forgets it
    /// here never hands it out again to a caller retrying after the failure.
    var closed: @Sendable (RemotingConnection) -> Void = { _ in }
}

/// Builds the pipeline of one remoting channel: frame decoder → command encoder → command handler.
enum RemotingPipeline {
    /// Creates the connection of `channel` and installs its handlers; runs on the channel's event loop.
    static func install(
        on channel: any Channel, remoteAddress: String, configuration: RemotingConfiguration,
        requestHandler: (any RemotingRequestHandler)?, events: ConnectionEvents, logger: Logger
    ) throws -> RemotingConnection {
        let connection = RemotingConnection(channel: channel, remoteAddress: remoteAddress, logger: logger)
        let dispatcher = RequestDispatcher(handler: requestHandler, connection: connection)
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(RemotingFrameDecoder(maximumFrameLength: configuration.maximumFrameLength)),
            RemotingCommandEncoder(),
            RemotingChannelHandler(connection: connection, dispatcher: dispatcher, events: events),
        ])
        return connection
    }
}

/// The last inbound handler of a remoting channel: decodes each frame, routes responses to the
/// connection's waiting `invoke`s and requests to the dispatcher, and closes the connection (logging
/// why, with the peer's address) on undecodable input.
final class RemotingChannelHandler: ChannelInboundHandler {
    /// Frames from `RemotingFrameDecoder`.
    typealias InboundIn = ByteBuffer

    /// The connection this channel carries.
    private let connection: RemotingConnection
    /// Runs requests.
    private let dispatcher: RequestDispatcher
    /// The owner's callbacks.
    private let events: ConnectionEvents
    /// Set once the handler closed the channel for an error, so follow-on errors are not reported as new.
    private var isClosing = false
    /// Whether answers were written during this read burst and wait for its `channelReadComplete`.
    private var needsFlush = false

    /// A handler for `connection`.
    init(connection: RemotingConnection, dispatcher: RequestDispatcher, events: ConnectionEvents) {
        self.connection = connection
        self.dispatcher = dispatcher
        self.events = events
    }

    /// The connection's logger, which names the peer.
    private var logger: Logger { connection.logger }

    /// Tells the owner.
    func channelActive(context: ChannelHandlerContext) {
        logger.debug("connection opened")
        events.opened(connection)
        context.fireChannelActive()
    }

    /// Tells the owner, then fails what still waits for a response.
    func channelInactive(context: ChannelHandlerContext) {
        logger.debug("connection closed")
        events.closed(connection)
        connection.markClosed()
        context.fireChannelInactive()
    }

    /// Decodes one frame and routes it; frames that arrive after bad input are ignored.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        let command: RemotingCommand
        do {
            command = try RemotingCommandCodec.decode(frame: Self.unwrapInboundIn(data))
        } catch {
            close(context: context, because: error)
            return
        }
        if command.isResponse {
            connection.complete(command)
        } else if dispatcher.dispatch(command), !needsFlush {
            needsFlush = true
            // channelReadComplete normally flushes first; this task is the backstop that makes sure
            // no answer waits longer than the current event-loop pass, whatever delivered the frame.
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute { bound.value.flushIfNeeded() }
        }
    }

    /// Flushes answers written but not yet flushed.
    private func flushIfNeeded() {
        guard needsFlush else { return }
        needsFlush = false
        connection.channel.flush()
    }

    /// Flushes the answers written during the read burst that just ended: one write system call for
    /// all the small requests answered on the event loop from one read, instead of one each (a
    /// `write` per answer was a fifth of the broker's CPU in a pipelined run of single sends).
    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    /// Closes the connection on any error: undecodable input from the frame decoder, or I/O failure.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context, because: error)
    }

    /// Logs why and closes this connection only.
    private func close(context: ChannelHandlerContext, because error: any Error) {
        if isClosing {
            logger.debug("further error while closing", metadata: ["error": "\(error)"])
            return
        }
        isClosing = true
        if error is RemotingError {
            logger.warning("closing the connection: the peer sent bad input", metadata: ["error": "\(error)"])
        } else {
            logger.info("closing the connection after an I/O error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }
}

/// Runs each incoming request in its own task and writes the answer (spec §3 rules on which requests
/// are answered).
struct RequestDispatcher: Sendable {
    /// The application's handler; nil on a client that answers no requests.
    let handler: (any RemotingRequestHandler)?
    /// Where requests come from and answers go.
    let connection: RemotingConnection

    /// The connection's logger, which names the peer.
    private var logger: Logger { connection.logger }

    /// Requests with a body up to this size answered on the event loop leave their answer unflushed
    /// until the end of the read burst; a larger one (a batch) is answered at once, because it takes
    /// long enough to handle that holding its answer back would stall a client's pipeline more than
    /// the system call it saves.
    static let deferredFlushBodyLimit = 16 * 1024

    /// Starts handling `request`; returns at once. Runs on the connection's event loop, where the
    /// handler may answer at once; otherwise the request runs in a task. Returns true when an answer
    /// was written but not flushed: the caller flushes at the end of the read burst.
    func dispatch(_ request: RemotingCommand) -> Bool {
        switch handler?.handleOnEventLoop(request, from: connection) ?? .declined {
        case .answered(let response):
            guard !request.isOneway else { return false }
            let defers = (request.body?.readableBytes ?? 0) <= Self.deferredFlushBodyLimit
            connection.writeAnswer(response, to: request, flush: !defers)
            return defers
        case .later:
            return false
        case .declined:
            break
        }
        Task {
            let response = await self.response(to: request)
            if request.isOneway {
                if response != nil { logger.trace("not answering a oneway request", metadata: ["code": "\(request.code)"]) }
                return
            }
            connection.writeAnswer(response ?? request.response(), to: request)
        }
        return false
    }

    /// The handler's response, or REQUEST_CODE_NOT_SUPPORTED when there is no handler.
    private func response(to request: RemotingCommand) async -> RemotingCommand? {
        guard let handler else {
            return request.response(code: .requestCodeNotSupported, remark: " request type \(request.code) not supported")
        }
        return await handler.handle(request, from: connection)
    }
}
