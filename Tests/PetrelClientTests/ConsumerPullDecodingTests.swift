import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

@testable import PetrelClient

/// Pull responses become pull results: statuses, offsets, decoded and filtered messages.
@Suite struct ConsumerPullDecodingTests {
    /// The pulled queue.
    static let queue = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 1)

    /// A stored message of topic `topic` with tag `tag` at queue offset `offset`.
    static func stored(_ offset: Int64, tag: String?, topic: String = "T", body: [UInt8] = Array("hello".utf8)) -> StoredMessage {
        var properties = MessageProperties()
        if let tag { properties[PropertyKey.tags] = tag }
        properties[PropertyKey.uniqueKey] = "UNIQ\(offset)"
        return StoredMessage(
            message: Message(topic: topic, properties: properties, body: ByteBuffer(bytes: body)), queueId: 1,
            queueOffset: QueueOffset(offset), commitLogOffset: CommitLogOffset(1000 + offset),
            storeHost: MessageHost(ipv4: "127.0.0.1", port: 10911)!, reconsumeTimes: 2)
    }

    /// A response with `code`, the four offsets and `messages` as the body.
    static func response(_ code: ResponseCode, _ messages: [StoredMessage] = []) throws -> RemotingCommand {
        var body = ByteBuffer()
        for message in messages { try StoredMessageCodec.encode(message, into: &body) }
        let request = RemotingCommand.request(code: .pullMessage)
        return request.response(
            code: code, extFields: ["nextBeginOffset": "7", "minOffset": "0", "maxOffset": "9", "suggestWhichBrokerId": "0"],
            body: messages.isEmpty ? nil : body)
    }

    /// Found messages are decoded, and the client re-checks tags against the subscription.
    @Test func decodesAndFiltersByTag() throws {
        let subscription = SubscriptionData(topic: "T", subString: "A || B")
        let result = try PullResponseDecoder.decode(
            try Self.response(.success, [Self.stored(4, tag: "A"), Self.stored(5, tag: "C"), Self.stored(6, tag: "B"), Self.stored(7, tag: nil)]),
            queue: Self.queue, subscription: subscription)
        #expect(result.status == .found)
        #expect(result.nextBeginOffset == 7 && result.minOffset == 0 && result.maxOffset == 9)
        #expect(result.messages.map(\.queueOffset) == [4, 6])
        let first = try #require(result.messages.first)
        #expect(first.messageId == "UNIQ4")
        #expect(first.offsetMessageId == MessageId.offsetId(storeHost: first.storeHost, commitLogOffset: CommitLogOffset(1004)))
        #expect(first.reconsumeTimes == 2 && first.brokerName == "broker-a" && first.queueId == 1)
        #expect(String(buffer: first.body) == "hello")
    }

    /// Not-found, no-match and offset-moved map to their statuses with the broker's offsets.
    @Test func mapsStatusCodes() throws {
        let cases: [(ResponseCode, PullResult.Status)] = [
            (.pullNotFound, .noNewMessages), (.pullRetryImmediately, .noMatchedMessages), (.pullOffsetMoved, .offsetIllegal),
        ]
        for (code, status) in cases {
            let result = try PullResponseDecoder.decode(try Self.response(code), queue: Self.queue, subscription: nil)
            #expect(result.status == status && result.nextBeginOffset == 7 && result.messages.isEmpty)
        }
        #expect(throws: ClientError.self) {
            try PullResponseDecoder.decode(try Self.response(.systemError), queue: Self.queue, subscription: nil)
        }
    }

    /// A retried message shows its original topic; a zlib-compressed body is inflated.
    @Test func restoresRetryTopicAndInflates() throws {
        var retried = Self.stored(0, tag: "A", topic: "%RETRY%G")
        retried.message.properties[PropertyKey.retryTopic] = "T"
        var compressed = Self.stored(1, tag: "A", body: Self.zlibStored(Array("squeezed".utf8)))
        compressed.sysFlag.insert(.compressed)
        let retryQueue = MessageQueue(topic: "%RETRY%G", brokerName: "broker-a", queueId: 0)
        let result = try PullResponseDecoder.decode(try Self.response(.success, [retried, compressed]), queue: retryQueue, subscription: nil)
        #expect(result.messages[0].topic == "T" && result.messages[0].isRetry)
        #expect(String(buffer: result.messages[1].body) == "squeezed")
        #expect(!result.messages[1].stored.sysFlag.contains(.compressed))
    }

    /// `bytes` as a zlib stream made of one stored (uncompressed) deflate block.
    static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        let length = UInt16(bytes.count)
        var stream: [UInt8] = [0x78, 0x01, 0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        stream += bytes
        let adler = Inflate.adler32(bytes)
        stream += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return stream
    }
}
