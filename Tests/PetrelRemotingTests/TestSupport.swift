import NIOCore
import NIOPosix
import PetrelRemoting
import PetrelTestSupport
import Synchronization
import Testing

/// Request codes `TestHandler` understands; outside RocketMQ's ranges so they cannot be confused.
enum TestCode {
    /// Answers with the request's fields and body.
    static let echo = RequestCode(rawValue: 9001)
    /// Sleeps `sleepMilliseconds`, then answers with the request's `index`.
    static let sleep = RequestCode(rawValue: 9002)
    /// Returns nil: no response from the handler.
    static let silent = RequestCode(rawValue: 9003)
    /// Closes the connection and returns nil.
    static let closeConnection = RequestCode(rawValue: 9004)
    /// Asks the client CHECK_TRANSACTION_STATE over the same connection and answers with its remark.
    static let callBack = RequestCode(rawValue: 9005)
    /// Answers with a response code that does not fit a binary header's int16.
    static let unencodable = RequestCode(rawValue: 9006)
    /// Answered on the event loop (`handleOnEventLoop`) with the request's fields: the deferred-flush path.
    static let echoOnEventLoop = RequestCode(rawValue: 9007)
}

/// The request handler of the test servers: records every request and acts by `TestCode`.
final class TestHandler: RemotingRequestHandler {
    /// Every request handled, in arrival order.
    let received = Mutex<[RemotingCommand]>([])

    /// Acts on `request` as its `TestCode` says.
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        received.withLock { $0.append(request) }
        switch request.requestCode {
        case TestCode.echo:
            return request.response(remark: "echo", extFields: request.extFields, body: request.body)
        case TestCode.sleep:
            let milliseconds = request.extFields["sleepMilliseconds"].flatMap { Int($0) } ?? 0
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return request.response(extFields: ["index": request.extFields["index"] ?? ""])
        case TestCode.silent:
            return nil
        case TestCode.closeConnection:
            connection.close()
            return nil
        case TestCode.callBack:
            do {
                let question = RemotingCommand.request(code: .checkTransactionState, extFields: ["question": "state?"])
                let answer = try await connection.invoke(question, timeout: .seconds(20))
                return request.response(remark: answer.remark)
            } catch {
                return request.response(code: .systemError, remark: "\(error)")
            }
        case TestCode.unencodable:
            return request.response(code: ResponseCode(rawValue: 200_000))
        default:
            return request.response(code: .requestCodeNotSupported, remark: "unknown test code \(request.code)")
        }
    }

    /// Answers `echoOnEventLoop` in place; everything else runs in `handle`.
    func handleOnEventLoop(_ request: RemotingCommand, from connection: RemotingConnection) -> EventLoopAnswer {
        guard request.requestCode == TestCode.echoOnEventLoop else { return .declined }
        return .answered(request.response(remark: "echo on the event loop", extFields: request.extFields))
    }

    /// How many requests with `code` were handled.
    func count(of code: RequestCode) -> Int {
        received.withLock { requests in requests.filter { $0.code == code.rawValue }.count }
    }
}

/// Counts connection open and close callbacks.
final class ConnectionCounter: Sendable {
    /// Connections opened so far.
    let opened = Atomic<Int>(0)
    /// Connections closed so far.
    let closed = Atomic<Int>(0)
}

/// A running test server on 127.0.0.1 with a free port.
struct ServerFixture {
    /// The server.
    let server: RemotingServer
    /// Its handler.
    let handler: TestHandler
    /// Its callbacks' counts.
    let counter: ConnectionCounter
    /// The bound port.
    let port: Int

    /// `127.0.0.1:port`.
    var address: String { "127.0.0.1:\(port)" }

    /// Starts a server, runs `body`, and shuts the server down whatever happens.
    static func with(
        configuration: RemotingConfiguration = RemotingConfiguration(), _ body: (ServerFixture) async throws -> Void
    ) async throws {
        let handler = TestHandler()
        let counter = ConnectionCounter()
        let server = RemotingServer(
            host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, handler: handler,
            configuration: configuration,
            onConnectionOpened: { _ in counter.opened.add(1, ordering: .relaxed) },
            onConnectionClosed: { _ in counter.closed.add(1, ordering: .relaxed) })
        let port = try await server.start()
        let fixture = ServerFixture(server: server, handler: handler, counter: counter, port: port)
        do {
            try await body(fixture)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }
}

/// A TCP peer that writes raw bytes and collects raw frames (without their length field), for
/// feeding the server bad input and for seeing exactly which responses the server wrote.
typealias RawPeer = RawConnection<ByteBuffer>

extension RawConnection where Element == ByteBuffer {
    /// Connects to 127.0.0.1:`port`, keeping every frame that arrives.
    static func connect(port: Int) async throws -> RawPeer {
        try await connect(port: port) { store in
            [ByteToMessageHandler(RemotingFrameDecoder()), ReceivingHandler(store: store) { $0.append($1) }]
        }
    }

    /// Writes `command` as one frame.
    func send(_ command: RemotingCommand) async throws {
        try await channel.writeAndFlush(try RemotingCommandCodec.encode(command)).get()
    }

    /// The commands received so far.
    func responses() throws -> [RemotingCommand] {
        try store.items.withLock { $0 }.map { try RemotingCommandCodec.decode(frame: $0) }
    }

    /// True once the server has closed the socket, waiting at most `timeout`.
    func isClosed(within timeout: Duration = .seconds(20)) async -> Bool {
        await eventually(within: timeout, every: .milliseconds(10)) { !channel.isActive }
    }
}
