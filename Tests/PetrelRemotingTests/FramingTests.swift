import NIOCore
import NIOEmbedded
import NIOTestUtils
import PetrelRemoting
import PetrelTestSupport
import Testing

@Suite("Framing")
struct FramingTests {
    /// A frame with `payload` after the length field, and the payload as the decoder should emit it.
    static func frame(_ payload: [UInt8]) -> (ByteBuffer, [ByteBuffer]) {
        (ByteBuffer(bytes: bigEndianBytes(Int32(payload.count)) + payload), [ByteBuffer(bytes: payload)])
    }

    /// An embedded channel with just the frame decoder.
    static func decoderChannel(maximumFrameLength: Int = RemotingFrameDecoder.defaultMaximumFrameLength) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(maximumFrameLength: maximumFrameLength)))
    }

    /// The `RemotingError` code thrown by `body`, nil when it throws nothing or something else.
    static func remotingErrorCode(_ body: () throws -> Void) -> RemotingError.Code? {
        do {
            try body()
            return nil
        } catch let error as RemotingError {
            return error.code
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("the verifier's splits, drip feeds and batches of several frames all decode")
    func verifierSplitsFrames() throws {
        let command = RemotingCommand(code: 10, opaque: 3, extFields: ["topic": "TopicTest"], body: ByteBuffer(string: "hello"))
        let encoded = try RemotingCommandCodec.encode(command)
        let pairs = [
            Self.frame([0, 0, 0, 0]),  // the smallest frame: an empty header and no body
            Self.frame(Array(repeating: 0xAB, count: 300)),
            Self.frame(Array(encoded.readableBytesView.dropFirst(4))),
            Self.frame(Array("{\"code\":0,\"opaque\":1}".utf8)),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RemotingFrameDecoder() }
    }

    @Test("a length over the cap is .frameTooLarge as soon as the four bytes arrive")
    func oversizeLength() {
        let channel = Self.decoderChannel()
        let length = Int32(RemotingFrameDecoder.defaultMaximumFrameLength + 1)
        #expect(Self.remotingErrorCode { try channel.writeInbound(ByteBuffer(bytes: bigEndianBytes(length))) } == .frameTooLarge)
    }

    @Test("the cap is configurable, and a frame exactly at it is accepted")
    func configurableCap() throws {
        let small = Self.decoderChannel(maximumFrameLength: 100)
        #expect(Self.remotingErrorCode { try small.writeInbound(ByteBuffer(bytes: bigEndianBytes(101))) } == .frameTooLarge)
        let exact = Self.decoderChannel(maximumFrameLength: 100)
        try exact.writeInbound(ByteBuffer(bytes: bigEndianBytes(100) + Array(repeating: 1, count: 100)))
        #expect(try exact.readInbound(as: ByteBuffer.self)?.readableBytes == 100)
    }

    @Test("negative and too-short lengths are .malformedFrame", arguments: [Int32(-1), Int32.min, 0, 3])
    func impossibleLengths(length: Int32) {
        let channel = Self.decoderChannel()
        #expect(Self.remotingErrorCode { try channel.writeInbound(ByteBuffer(bytes: bigEndianBytes(length))) } == .malformedFrame)
    }

    @Test("a connection that ends inside a frame is .malformedFrame")
    func truncatedAtEnd() throws {
        let channel = Self.decoderChannel()
        try channel.writeInbound(ByteBuffer(bytes: bigEndianBytes(100) + [1, 2, 3]))
        #expect(Self.remotingErrorCode { _ = try channel.finish() } == .malformedFrame)
        let inLength = Self.decoderChannel()
        try inLength.writeInbound(ByteBuffer(bytes: [0, 0]))
        #expect(Self.remotingErrorCode { _ = try inLength.finish() } == .malformedFrame)
    }

    @Test("frame layout: length = 4 + header + body, second int = type << 24 | header length")
    func frameLayout() throws {
        for type in [SerializeType.json, .rocketmq] {
            let command = RemotingCommand(
                code: 34, opaque: 9, remark: "r", extFields: ["a": "b"], body: ByteBuffer(bytes: [1, 2, 3]),
                serializeType: type)
            let frame = try RemotingCommandCodec.encode(command)
            let length = try #require(frame.getInteger(at: 0, as: Int32.self))
            let typeAndHeaderLength = try #require(frame.getInteger(at: 4, as: UInt32.self))
            let headerLength = Int(typeAndHeaderLength & 0xFF_FFFF)
            #expect(Int(length) == frame.readableBytes - 4)
            #expect(typeAndHeaderLength >> 24 == UInt32(type.rawValue))
            #expect(frame.readableBytes == 8 + headerLength + 3)
        }
    }

    @Test("command round trip in both serialize types, body included", arguments: [SerializeType.json, .rocketmq])
    func commandRoundTrip(type: SerializeType) throws {
        let command = RemotingCommand(
            code: 11, language: .cpp, version: 63, opaque: -5, flag: 2, remark: "a \"remark\"\n",
            extFields: ["consumerGroup": "CG", "queueOffset": "9223372036854775807", "properties": "KEYS\u{1}k\u{2}"],
            body: ByteBuffer(bytes: Array(0...255)), serializeType: type)
        var frame = try RemotingCommandCodec.encode(command)
        frame.moveReaderIndex(forwardBy: 4)
        #expect(try RemotingCommandCodec.decode(frame: frame) == command)
    }

    @Test("a command without body decodes with a nil body")
    func emptyBody() throws {
        let command = RemotingCommand(code: 0, opaque: 1, flag: 1)
        var frame = try RemotingCommandCodec.encode(command)
        frame.moveReaderIndex(forwardBy: 4)
        #expect(try RemotingCommandCodec.decode(frame: frame).body == nil)
    }

    @Test("a header length beyond the frame is .malformedFrame; an unknown type is .badHeader")
    func badFrames() {
        let tooLong = ByteBuffer(bytes: bigEndianBytes(50) + Array("{}".utf8))
        #expect(Self.remotingErrorCode { _ = try RemotingCommandCodec.decode(frame: tooLong) } == .malformedFrame)
        let noHeaderLength = ByteBuffer(bytes: [0, 0])
        #expect(Self.remotingErrorCode { _ = try RemotingCommandCodec.decode(frame: noHeaderLength) } == .malformedFrame)
        let unknownType = ByteBuffer(bytes: [5, 0, 0, 2] + Array("{}".utf8))
        #expect(Self.remotingErrorCode { _ = try RemotingCommandCodec.decode(frame: unknownType) } == .badHeader)
    }

    @Test("an unencodable binary command leaves the buffer as it was")
    func encodeFailureLeavesBuffer() {
        var buffer = ByteBuffer(string: "keep")
        let command = RemotingCommand(code: 200_050, opaque: 1, serializeType: .rocketmq)
        #expect(Self.remotingErrorCode { try RemotingCommandCodec.encode(command, into: &buffer) } == .encodeFailed)
        #expect(buffer == ByteBuffer(string: "keep"))
    }
}
