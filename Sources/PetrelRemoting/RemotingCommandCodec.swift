import NIOCore

/// One remoting frame on the wire (spec §1). All integers big-endian.
///
/// ```
///  0                   4        5                   8
///  +-------------------+--------+-------------------+---------------------+----------------------+
///  | length int32      | type   | headerLength      | header              | body                 |
///  | = 4 + header      | uint8  | uint24            | headerLength bytes  | length - 4 -         |
///  |   + body bytes    | 0 JSON | (low 24 bits of   | JSON or binary,     | headerLength bytes   |
///  |                   | 1 RMQ  |  the second int)  | per `type`          | (may be empty)       |
///  +-------------------+--------+-------------------+---------------------+----------------------+
///  frame size = 8 + header bytes + body bytes
/// ```
///
/// `RemotingFrameDecoder` strips `length` and hands on the rest, which `decode(frame:)` reads.
public enum RemotingCommandCodec {
    /// Bytes of the two ints in front of the header.
    public static let prefixSize = 8
    /// The largest header the 24-bit header-length field can describe.
    public static let maximumHeaderLength = (1 << 24) - 1

    /// Decodes one frame without its leading `length` field, as `RemotingFrameDecoder` emits it. The
    /// body is a slice of `frame`, not a copy.
    public static func decode(frame: ByteBuffer) throws(RemotingError) -> RemotingCommand {
        var frame = frame
        guard let typeAndHeaderLength = frame.readInteger(as: UInt32.self) else {
            throw RemotingError(.malformedFrame, "a frame of \(frame.readableBytes) bytes has no header length")
        }
        let headerLength = Int(typeAndHeaderLength & 0x00FF_FFFF)
        let typeByte = UInt8(typeAndHeaderLength >> 24)
        guard let header = frame.readSlice(length: headerLength) else {
            throw RemotingError(
                .malformedFrame, "header length \(headerLength) exceeds the \(frame.readableBytes) bytes left in the frame")
        }
        var command: RemotingCommand
        switch SerializeType(rawValue: typeByte) {
        case .json: command = try JSONHeaderCodec.decode(header)
        case .rocketmq: command = try BinaryHeaderCodec.decode(header)
        case nil: throw RemotingError(.badHeader, "unknown serialize type \(typeByte)")
        }
        command.body = frame.readableBytes > 0 ? frame : nil
        return command
    }

    /// Appends the whole frame of `command`, `length` field included, to `buffer`, with the header in
    /// the command's serialize type. On failure `buffer` is left as it was.
    public static func encode(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws(RemotingError) {
        try encodeHead(command, into: &buffer)
        if var body = command.body {
            buffer.writeBuffer(&body)
        }
    }

    /// Appends the frame of `command` without its body: `length` (which counts the body), type, header
    /// length and header. Writing the body as a buffer of its own spares copying large pull bodies.
    /// On failure `buffer` is left as it was.
    public static func encodeHead(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws(RemotingError) {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))  // length, set below
        buffer.writeInteger(UInt32(0))  // type and header length, set below
        do throws(RemotingError) {
            switch command.serializeType {
            case .json: JSONHeaderCodec.encode(command, into: &buffer)
            case .rocketmq: try BinaryHeaderCodec.encode(command, into: &buffer)
            }
            let headerLength = buffer.writerIndex - start - prefixSize
            guard headerLength <= maximumHeaderLength else {
                throw RemotingError(.encodeFailed, "a header of \(headerLength) bytes exceeds the 24-bit header length")
            }
            let length = 4 + headerLength + (command.body?.readableBytes ?? 0)
            guard let wireLength = Int32(exactly: length) else {
                throw RemotingError(.encodeFailed, "a frame of \(length) bytes exceeds the int32 length field")
            }
            buffer.setInteger(wireLength, at: start)
            buffer.setInteger(UInt32(command.serializeType.rawValue) << 24 | UInt32(headerLength), at: start + 4)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// The whole frame of `command` in a new buffer.
    public static func encode(_ command: RemotingCommand, allocator: ByteBufferAllocator = ByteBufferAllocator())
        throws(RemotingError) -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: 256 + (command.body?.readableBytes ?? 0))
        try encode(command, into: &buffer)
        return buffer
    }
}

/// The outbound half of a remoting pipeline: writes each `RemotingCommand` as one frame, the body as
/// a buffer of its own so it is not copied.
///
/// A `ChannelOutboundHandler` rather than NIO's `MessageToByteEncoder`, because `MessageToByteHandler`
/// latches the first encoding error and fails every later write on the channel: one response that
/// does not fit the binary header would silently break the whole connection. Here an encoding failure
/// fails that one write's promise with the `RemotingError`, and its writer answers SYSTEM_ERROR or
/// fails its `invoke` instead.
final class RemotingCommandEncoder: ChannelOutboundHandler {
    /// Commands in.
    typealias OutboundIn = RemotingCommand
    /// Frame bytes out.
    typealias OutboundOut = ByteBuffer

    /// Encodes `data` and passes its head and body on; fails only `promise` when it cannot be encoded.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = Self.unwrapOutboundIn(data)
        var head = context.channel.allocator.buffer(capacity: 256)
        do {
            try RemotingCommandCodec.encodeHead(command, into: &head)
        } catch {
            // Every writer in this module passes a promise; without one the error would be lost, so it
            // goes down the pipeline, which logs it and closes the connection.
            guard let promise else { return context.fireErrorCaught(error) }
            promise.fail(error)
            return
        }
        guard let body = command.body, body.readableBytes > 0 else {
            context.write(Self.wrapOutboundOut(head), promise: promise)
            return
        }
        context.write(Self.wrapOutboundOut(head), promise: nil)
        context.write(Self.wrapOutboundOut(body), promise: promise)
    }
}

/// Splits a TCP byte stream into remoting frames (spec §1): reads the int32 `length`, then emits the
/// `length` bytes that follow (type, header length, header, body) as one `ByteBuffer` slice.
///
/// ```
///  +-------------------+------------------------------------------------------+
///  | length int32 BE   | length bytes: emitted as one frame                   |
///  +-------------------+------------------------------------------------------+
/// ```
///
/// The length is checked as soon as its four bytes arrive, before any of the frame is buffered, so a
/// peer cannot make the broker allocate more than `maximumFrameLength`: a length above it throws
/// `.frameTooLarge`, a negative one or one below 4 (no room for the header-length int) throws
/// `.malformedFrame`. NIO hands the error to `errorCaught`, where the connection is logged and closed.
/// Modelled on swift-nio-extras' `LengthFieldBasedFrameDecoder`.
public struct RemotingFrameDecoder: ByteToMessageDecoder {
    /// Frames out, without their `length` field.
    public typealias InboundOut = ByteBuffer

    /// Java's default cap on `length` (`com.rocketmq.remoting.frameMaxLength`): 16 MiB.
    public static let defaultMaximumFrameLength = 16 * 1024 * 1024
    /// Bytes of the `length` field.
    public static let lengthFieldSize = 4

    /// What the decoder waits for.
    private enum ReadState {
        /// The four bytes of the next `length`.
        case waitingForLength
        /// The rest of a frame whose `length` has been read and checked.
        case waitingForFrame(length: Int)
    }

    /// The largest `length` accepted.
    public let maximumFrameLength: Int
    /// Where in a frame the decoder is.
    private var readState = ReadState.waitingForLength

    /// A decoder accepting frames up to `maximumFrameLength` bytes after the length field.
    public init(maximumFrameLength: Int = RemotingFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Emits the next frame if it is complete.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if case .waitingForLength = readState {
            guard let length = buffer.readInteger(as: Int32.self) else { return .needMoreData }
            readState = .waitingForFrame(length: try checked(length: length))
        }
        guard case .waitingForFrame(let length) = readState, let frame = buffer.readSlice(length: length) else {
            return .needMoreData
        }
        readState = .waitingForLength
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Emits what complete frames remain at end of input; bytes of an unfinished frame are an error,
    /// so that a peer that hangs up mid-frame is logged rather than silently forgotten.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        switch readState {
        case .waitingForFrame(let length):
            throw RemotingError(
                .malformedFrame, "the connection ended inside a frame: \(buffer.readableBytes) of \(length) bytes")
        case .waitingForLength where buffer.readableBytes > 0:
            throw RemotingError(
                .malformedFrame, "the connection ended inside a length field: \(buffer.readableBytes) of \(Self.lengthFieldSize) bytes")
        case .waitingForLength:
            return .needMoreData
        }
    }

    /// `length` as a frame size, or the error that closes the connection.
    private func checked(length: Int32) throws(RemotingError) -> Int {
        guard length >= 0 else {
            throw RemotingError(.malformedFrame, "negative frame length \(length)")
        }
        guard length >= 4 else {
            throw RemotingError(.malformedFrame, "frame length \(length) leaves no room for the header length")
        }
        guard length <= maximumFrameLength else {
            throw RemotingError(.frameTooLarge, "frame length \(length) exceeds the maximum \(maximumFrameLength)")
        }
        return Int(length)
    }
}
