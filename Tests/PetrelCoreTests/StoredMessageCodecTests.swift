import NIOCore
import PetrelCore
import Testing

@Suite("Stored message codec: spec §10.2 test vector")
struct SpecVectorTests {
    @Test("the dump in the test is the 164 bytes the spec describes")
    func dumpIsWellFormed() {
        #expect(specVectorBytes.count == 164)
        #expect(String(decoding: specVectorBytes[0x84..<0xA4], as: UTF8.self) == specVectorUniqueKey)
    }

    @Test("encode produces exactly the spec bytes")
    func encodeMatchesVector() throws {
        let encoded = try StoredMessageCodec.encode(specVectorMessage())
        #expect(encoded.count == 164)
        #expect(encoded == specVectorBytes)
        if encoded != specVectorBytes {
            let first = zip(encoded, specVectorBytes).enumerated().first(where: { $0.element.0 != $0.element.1 })
            Issue.record("first difference at byte \(first.map { String($0.offset, radix: 16) } ?? "end")")
        }
    }

    @Test("decode of the spec bytes gives back every field")
    func decodeGivesEveryField() throws {
        let decoded = try decodeRecord(specVectorBytes)
        #expect(decoded.message.topic == "TopicTest")
        #expect(decoded.message.flag == 0)
        #expect(decoded.message.body == ByteBuffer(string: "hello"))
        #expect(decoded.message.properties.map { $0.key } == ["KEYS", "TAGS", "UNIQ_KEY"])
        #expect(decoded.message.properties["KEYS"] == "k1")
        #expect(decoded.message.properties["TAGS"] == "TagA")
        #expect(decoded.message.properties["UNIQ_KEY"] == specVectorUniqueKey)
        #expect(decoded.message.tags == "TagA")
        #expect(decoded.message.keys == ["k1"])
        #expect(decoded.message.uniqueKey == specVectorUniqueKey)
        #expect(decoded.queueId == 1)
        #expect(decoded.queueOffset == QueueOffset(5))
        #expect(decoded.commitLogOffset == CommitLogOffset(4096))
        #expect(decoded.sysFlag == [])
        #expect(decoded.bornTimestamp == 1_700_000_000_000)
        #expect(decoded.bornHost == MessageHost("10.0.0.7:50000"))
        #expect(decoded.storeTimestamp == 1_700_000_000_123)
        #expect(decoded.storeHost == MessageHost("10.0.0.1:10911"))
        #expect(decoded.reconsumeTimes == 0)
        #expect(decoded.preparedTransactionOffset == 0)
        #expect(decoded.bodyCRC == 907_060_870)
        #expect(decoded == specVectorMessage())
    }

    @Test("offset msgId and BODYCRC match the spec")
    func messageIdAndChecksum() throws {
        #expect(specVectorMessage().offsetMessageId == "0A00000100002A9F0000000000001000")
        #expect(try decodeRecord(specVectorBytes).offsetMessageId == "0A00000100002A9F0000000000001000")
        #expect(specVectorMessage().bodyCRC == 907_060_870)
        let body: [UInt8] = Array("hello".utf8)
        #expect(body.withUnsafeBytes { CRC32.bodyChecksum($0) } == 907_060_870)
    }

    @Test("layout sizes of the v1 record")
    func layoutSizes() {
        #expect(StoredMessageLayout.recordSize(bodyLength: 5, topicLength: 9, propertiesLength: 59) == 164)
        #expect(StoredMessageLayout.fixedSize == 91)
        #expect(StoredMessageLayout.bodyOffset == 88)
        #expect(StoredMessageLayout.messageMagicV1 == Int32(bitPattern: 0xDAA3_20A7))
        #expect(StoredMessageLayout.messageMagicV2 == Int32(bitPattern: 0xDAA3_20AB))
        #expect(StoredMessageLayout.blankMagic == Int32(bitPattern: 0xCBD4_3194))
    }
}

@Suite("Stored message codec: round trips")
struct RoundTripTests {
    /// A stored message with every fixed field set to something non-default.
    static func sample(
        topic: String = "RoundTrip", body: [UInt8], properties: MessageProperties, commitLogOffset: Int64 = 1 << 40
    ) -> StoredMessage {
        var flag = MessageSysFlag()
        flag.transaction = .commit
        flag.insert(.multiTags)
        return StoredMessage(
            message: Message(topic: topic, flag: -7, properties: properties, body: ByteBuffer(bytes: body)),
            queueId: 31,
            queueOffset: QueueOffset(Int64.max - 3),
            commitLogOffset: CommitLogOffset(commitLogOffset),
            sysFlag: flag,
            bornTimestamp: 1_234_567_890_123,
            bornHost: MessageHost(address: 0xC0A8_0101, port: 65535),
            storeTimestamp: -1,
            storeHost: MessageHost(address: 0xFFFF_FFFF, port: 10911),
            reconsumeTimes: 16,
            preparedTransactionOffset: 0x0102_0304_0506_0708)
    }

    @Test("random bodies survive encode/decode", arguments: [0, 1, 64 * 1024])
    func randomBodies(length: Int) throws {
        var generator = SeededGenerator(seed: UInt64(length) &+ 17)
        let body = randomBytes(length, using: &generator)
        let original = Self.sample(body: body, properties: MessageProperties([("TAGS", "t")]))
        let encoded = try StoredMessageCodec.encode(original)
        #expect(encoded.count == StoredMessageLayout.recordSize(
            bodyLength: length, topicLength: "RoundTrip".utf8.count, propertiesLength: "TAGS\u{1}t".utf8.count))
        let decoded = try decodeRecord(encoded)
        #expect(decoded == original)
        #expect(Array(buffer: decoded.message.body) == body)
        #expect(decoded.bodyCRC == body.withUnsafeBytes { CRC32.bodyChecksum($0) })
    }

    @Test("many properties keep their order and values")
    func manyProperties() throws {
        let pairs = (0..<500).map { ("key\($0)", "value \($0) = \(String(repeating: "x", count: $0 % 13 + 1))") }
        let original = Self.sample(body: [1, 2, 3], properties: MessageProperties(pairs))
        let decoded = try decodeRecord(try StoredMessageCodec.encode(original))
        #expect(decoded.message.properties.entries.count == 500)
        #expect(decoded.message.properties.map { $0.key } == pairs.map { $0.0 })
        #expect(decoded.message.properties.map { $0.value } == pairs.map { $0.1 })
        #expect(decoded == original)
    }

    @Test("unicode topic and properties")
    func unicode() throws {
        let topic = "主题-テスト-🚀-ÄÖÜ"
        let properties = MessageProperties([
            ("TAGS", "标签😀"), ("KEYS", "ключ κλειδί"), ("名字", "値 = ✓"),
        ])
        let original = Self.sample(topic: topic, body: Array("тело".utf8), properties: properties)
        let encoded = try StoredMessageCodec.encode(original)
        let topicLength = topic.utf8.count
        #expect(encoded[StoredMessageLayout.bodyOffset + "тело".utf8.count] == UInt8(topicLength))
        let decoded = try decodeRecord(encoded)
        #expect(decoded.message.topic == topic)
        #expect(decoded.message.properties == properties)
        #expect(decoded == original)
    }

    @Test("topic of exactly 127 bytes and properties of exactly 32767 bytes encode")
    func limits() throws {
        let topic = String(repeating: "t", count: 127)
        let value = String(repeating: "v", count: 32767 - 2)
        let original = Self.sample(topic: topic, body: [], properties: MessageProperties([("K", value)]))
        let encoded = try StoredMessageCodec.encode(original)
        #expect(encoded.count == 91 + 127 + 32767)
        #expect(try decodeRecord(encoded) == original)
    }

    @Test("decodeAll reads back a concatenation")
    func decodeAllConcatenation() throws {
        var generator = SeededGenerator(seed: 99)
        var originals: [StoredMessage] = []
        var concatenation: [UInt8] = []
        for index in 0..<20 {
            let body = randomBytes(Int(generator.next() % 300), using: &generator)
            let properties = MessageProperties([("UNIQ_KEY", "id-\(index)"), ("KEYS", "a b \(index)")])
            let stored = Self.sample(
                topic: "T\(index)", body: body, properties: properties, commitLogOffset: Int64(concatenation.count))
            originals.append(stored)
            concatenation += try StoredMessageCodec.encode(stored)
        }
        concatenation += specVectorBytes
        originals.append(specVectorMessage())
        let decoded = try decodeRecords(concatenation)
        #expect(decoded == originals)
        #expect(try decodeRecords([]).isEmpty)
    }

    @Test("decodeAll fails on a torn last record")
    func decodeAllTornTail() {
        let bytes = specVectorBytes + specVectorBytes.prefix(100)
        let code = coreErrorCode { _ = try decodeRecords(bytes) }
        #expect(code == .badSize)
        let tiny = specVectorBytes + [0, 0]
        #expect(coreErrorCode { _ = try decodeRecords(tiny) } == .truncated)
    }

    @Test("encoding into a ByteBuffer equals the array form and appends")
    func byteBufferEncoding() throws {
        let messages = [
            specVectorMessage(),
            Self.sample(body: Array(repeating: 0xAB, count: 1000), properties: MessageProperties([("A", "b")])),
        ]
        var buffer = ByteBuffer(bytes: [0xEE, 0xEE, 0xEE])
        var expected: [UInt8] = [0xEE, 0xEE, 0xEE]
        for message in messages {
            var alone = ByteBuffer()
            try StoredMessageCodec.encode(message, into: &alone)
            #expect(Array(buffer: alone) == (try StoredMessageCodec.encode(message)))
            try StoredMessageCodec.encode(message, into: &buffer)
            expected += try StoredMessageCodec.encode(message)
        }
        #expect(Array(buffer: buffer) == expected)
    }

    @Test("a body that is a slice of a larger buffer encodes only its readable bytes")
    func bodySlice() throws {
        var body = ByteBuffer(string: "xxhelloyy")
        body.moveReaderIndex(forwardBy: 2)
        body.moveWriterIndex(to: 7)
        var stored = specVectorMessage()
        stored.message.body = body
        #expect(try StoredMessageCodec.encode(stored) == specVectorBytes)
    }
}

@Suite("Stored message codec: properties only")
struct DecodePropertiesTests {
    /// Decodes only the properties of the record at the start of `bytes`.
    static func properties(_ bytes: [UInt8]) throws -> MessageProperties {
        try bytes.withUnsafeBytes { raw in try StoredMessageCodec.decodeProperties(raw) }
    }

    @Test("decodeProperties reads the vector's properties")
    func vector() throws {
        let properties = try Self.properties(specVectorBytes)
        #expect(properties == specVectorMessage().message.properties)
        // A record followed by another: only the first record's properties.
        let two = specVectorBytes + (try StoredMessageCodec.encode(RoundTripTests.sample(
            body: [9], properties: MessageProperties([("X", "y")]))))
        #expect(try Self.properties(two) == properties)
    }

    @Test("decodeProperties agrees with decode for random records")
    func agreesWithDecode() throws {
        var generator = SeededGenerator(seed: 5)
        for index in 0..<50 {
            let body = randomBytes(Int(generator.next() % 2000), using: &generator)
            let pairs = (0..<Int(generator.next() % 8)).map { ("k\($0)", "v\(index) \($0)") }
            let encoded = try StoredMessageCodec.encode(RoundTripTests.sample(
                topic: String(repeating: "t", count: index + 1), body: body, properties: MessageProperties(pairs)))
            #expect(try Self.properties(encoded) == (try decodeRecord(encoded)).message.properties)
        }
    }

    @Test("decodeProperties rejects every truncation of the vector")
    func truncations() {
        for length in 0..<specVectorBytes.count {
            let prefix = Array(specVectorBytes.prefix(length))
            let code = coreErrorCode { _ = try Self.properties(prefix) }
            #expect(code == .truncated || code == .badSize, "length \(length) gave \(String(describing: code))")
        }
    }

    @Test("decodeProperties never crashes on corrupted records")
    func randomCorruption() {
        var generator = SeededGenerator(seed: 77)
        for _ in 0..<5000 {
            var bytes = specVectorBytes
            for _ in 0..<Int(generator.next() % 4 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? Self.properties(bytes)
        }
    }
}

@Suite("Stored message codec: errors")
struct CodecErrorTests {
    @Test("every truncation of the vector is rejected")
    func everyTruncation() {
        for length in 0..<specVectorBytes.count {
            let prefix = Array(specVectorBytes.prefix(length))
            let code = coreErrorCode { _ = try decodeRecord(prefix) }
            #expect(code == .truncated || code == .badSize, "length \(length) gave \(String(describing: code))")
        }
    }

    @Test("wrong magic is rejected")
    func wrongMagic() {
        var bytes = specVectorBytes
        bytes[4] ^= 0x01
        #expect(coreErrorCode { _ = try decodeRecord(bytes) } == .badMagic)
        // A blank record's magic is not a message either.
        bytes.replaceSubrange(4..<8, with: [0xCB, 0xD4, 0x31, 0x94])
        #expect(coreErrorCode { _ = try decodeRecord(bytes) } == .badMagic)
        // Nor is v2, which Petrel never writes.
        bytes.replaceSubrange(4..<8, with: [0xDA, 0xA3, 0x20, 0xAB])
        #expect(coreErrorCode { _ = try decodeRecord(bytes) } == .badMagic)
    }

    @Test("a flipped body byte fails the checksum", arguments: 0..<5)
    func flippedBodyByte(index: Int) throws {
        var bytes = specVectorBytes
        bytes[StoredMessageLayout.bodyOffset + index] ^= 0x20
        #expect(coreErrorCode { _ = try decodeRecord(bytes) } == .badChecksum)
        let unchecked = try decodeRecord(bytes, verifyChecksum: false)
        #expect(unchecked.bodyCRC == 907_060_870)
        #expect(unchecked.message.body.readableBytes == 5)
    }

    @Test("a flipped stored CRC fails the checksum")
    func flippedStoredCRC() {
        var bytes = specVectorBytes
        bytes[11] ^= 0x01
        #expect(coreErrorCode { _ = try decodeRecord(bytes) } == .badChecksum)
    }

    @Test("inconsistent sizes are rejected")
    func inconsistentSizes() {
        func withInt32(_ value: UInt32, at offset: Int) -> [UInt8] {
            var bytes = specVectorBytes
            bytes.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: value.bigEndian, Array.init))
            return bytes
        }
        // TOTALSIZE smaller than the fixed part, negative, or one less than the parts add up to.
        for total: UInt32 in [0, 90, 0xFFFF_FFFF, 163] {
            let code = coreErrorCode { _ = try decodeRecord(withInt32(total, at: 0)) }
            #expect(code == .badSize || code == .truncated, "total \(total) gave \(String(describing: code))")
        }
        // BODYLEN negative, too large, or off by one.
        for bodyLength: UInt32 in [0xFFFF_FFFF, 0x7FFF_FFFF, 76, 4, 6] {
            let code = coreErrorCode { _ = try decodeRecord(withInt32(bodyLength, at: 84)) }
            #expect(code == .badSize || code == .truncated, "body length \(bodyLength) gave \(String(describing: code))")
        }
        // PROPERTIESLEN negative or off by one.
        for propertiesLength: UInt16 in [0xFFFF, 58, 60] {
            var bytes = specVectorBytes
            bytes[0x67] = UInt8(propertiesLength >> 8)
            bytes[0x68] = UInt8(propertiesLength & 0xFF)
            let code = coreErrorCode { _ = try decodeRecord(bytes) }
            #expect(code == .badSize || code == .truncated, "properties length \(propertiesLength) gave \(String(describing: code))")
        }
        // TOPICLEN pointing past the record.
        var bytes = specVectorBytes
        bytes[0x5D] = 0xFF
        let code = coreErrorCode { _ = try decodeRecord(bytes) }
        #expect(code == .badSize || code == .truncated)
    }

    @Test("random corruption of the vector never crashes the decoder")
    func randomCorruption() {
        var generator = SeededGenerator(seed: 2024)
        for _ in 0..<5000 {
            var bytes = specVectorBytes
            for _ in 0..<Int(generator.next() % 4 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if (try? decodeRecord(bytes)) != nil {
                // Only a record that still carries the v1 magic may decode.
                #expect(Array(bytes[4..<8]) == [0xDA, 0xA3, 0x20, 0xA7])
            }
        }
    }

    @Test("a topic of 128 bytes is rejected on encode")
    func topicTooLong() {
        var stored = specVectorMessage()
        stored.message.topic = String(repeating: "a", count: 128)
        #expect(coreErrorCode { _ = try StoredMessageCodec.encode(stored) } == .topicTooLong)
        var buffer = ByteBuffer()
        #expect(coreErrorCode { try StoredMessageCodec.encode(stored, into: &buffer) } == .topicTooLong)
        #expect(buffer.readableBytes == 0)
        // 43 three-byte characters: 43 characters, 129 bytes.
        stored.message.topic = String(repeating: "主", count: 43)
        #expect(coreErrorCode { _ = try StoredMessageCodec.encode(stored) } == .topicTooLong)
    }

    @Test("properties longer than 32767 bytes are rejected on encode")
    func propertiesTooLong() {
        var stored = specVectorMessage()
        stored.message.properties = MessageProperties([("K", String(repeating: "v", count: 32766))])
        #expect(coreErrorCode { _ = try StoredMessageCodec.encode(stored) } == .propertiesTooLong)
        stored.message.properties = MessageProperties((0..<4000).map { ("key\($0)", "value") })
        #expect(coreErrorCode { _ = try StoredMessageCodec.encode(stored) } == .propertiesTooLong)
        var buffer = ByteBuffer()
        #expect(coreErrorCode { try StoredMessageCodec.encode(stored, into: &buffer) } == .propertiesTooLong)
    }
}
