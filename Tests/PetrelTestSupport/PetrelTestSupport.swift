import NIOCore
import NIOPosix
import Synchronization

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns its last value. The
/// bounded wait the network tests use instead of sleeping.
public func eventually(
    within timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// What a raw test socket received, in arrival order (single bytes or whole frames).
public final class ReceivedStore<Element: Sendable>: Sendable {
    /// Everything received so far.
    public let items = Mutex<[Element]>([])

    /// An empty store.
    public init() {}
}

/// Hands every inbound buffer to a `ReceivedStore`, through `append` (which decides whether the
/// buffer is kept whole or as its bytes).
public final class ReceivingHandler<Element: Sendable>: ChannelInboundHandler {
    /// Raw buffers in.
    public typealias InboundIn = ByteBuffer
    /// Where they go.
    let store: ReceivedStore<Element>
    /// Adds one buffer to the received items.
    let append: @Sendable (inout [Element], ByteBuffer) -> Void

    /// A handler storing into `store` with `append`.
    public init(store: ReceivedStore<Element>, append: @escaping @Sendable (inout [Element], ByteBuffer) -> Void) {
        self.store = store
        self.append = append
    }

    /// Stores the buffer.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        store.items.withLock { append(&$0, buffer) }
    }
}

/// Bytes of a big-endian int32.
public func bigEndianBytes(_ value: Int32) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// A TCP peer on 127.0.0.1 whose pipeline stores what arrives into a `ReceivedStore`, for writing
/// hand-made or bad input to a server and seeing exactly what it answered.
public struct RawConnection<Element: Sendable>: Sendable {
    /// The socket.
    public let channel: any Channel
    /// What arrived.
    public let store: ReceivedStore<Element>

    /// Connects to 127.0.0.1:`port`; `handlers` builds the pipeline around a fresh store (on the
    /// channel's event loop).
    public static func connect(
        port: Int, handlers: @escaping @Sendable (ReceivedStore<Element>) -> [any ChannelHandler]
    ) async throws -> RawConnection {
        let store = ReceivedStore<Element>()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandlers(handlers(store)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, store: store)
    }

    /// Writes `bytes` as they are.
    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }
}
