import NIOCore
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
