import NIOCore
import PetrelCore
import Testing

/// Encodes `stored` compactly and completes it the way the commit log does at `offset`.
private func compactRecord(_ stored: StoredMessage, at offset: Int64) -> [UInt8] {
    var bytes: [UInt8] = []
    let size = CompactRecordCodec.append(stored, to: &bytes)
    precondition(size == bytes.count)
    bytes.withUnsafeMutableBytes { raw in
        let writer = RawWriter(base: raw.baseAddress!)
        let content = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: CompactRecordLayout.checkOffset, as: UInt32.self))
        writer.put(content ^ CompactRecordLayout.fold(offset), at: CompactRecordLayout.checkOffset)
        writer.put(CompactRecordLayout.magic, at: StoredMessageLayout.magicOffset)
    }
    return bytes
}

/// A message with every field away from its default.
private func sampleMessage(body: String = "{\"event\":\"click\",\"user\":42}") -> StoredMessage {
    var properties = MessageProperties()
    properties[PropertyKey.uniqueKey] = "0A0000070000C350A1B2C3D4E5F60001"
    properties[PropertyKey.cluster] = "DefaultCluster"
    properties["custom-name"] = "custom value ✓"
    properties[PropertyKey.keys] = "order-1 order-2"
    properties[PropertyKey.originMessageId] = "0a0000070000c350a1b2c3d4e5f60001"  // lower case: stored as text
    properties[PropertyKey.tags] = "TagA"
    var flags = MessageSysFlag()
    flags.compression = .zstd
    return StoredMessage(
        message: Message(topic: "CDICT", flag: -7, properties: properties, body: ByteBuffer(string: body)),
        queueId: 300, queueOffset: QueueOffset(1 << 40), commitLogOffset: CommitLogOffset(0), sysFlag: flags,
        bornTimestamp: 1_764_000_000_123, bornHost: MessageHost(ipv4: "192.168.7.9", port: 54_321)!,
        storeTimestamp: 1_764_000_000_456, storeHost: MessageHost(ipv4: "10.0.0.1", port: 10_911)!,
        reconsumeTimes: 3, preparedTransactionOffset: 987_654_321)
}

@Suite("Compact stored records")
struct CompactRecordCodecTests {
    @Test("a compact record decodes to exactly the message a v1 record of it decodes to")
    func roundTripMatchesVersionOne() throws {
        let offset: Int64 = 5_000_000_123
        var stored = sampleMessage()
        stored.commitLogOffset = CommitLogOffset(offset)
        let compact = compactRecord(stored, at: offset)
        let fromCompact = try compact.withUnsafeBytes { try StoredMessageCodec.decode($0, at: offset) }
        let fromVersionOne = try StoredMessageCodec.encode(stored).withUnsafeBytes { try StoredMessageCodec.decode($0) }
        #expect(fromCompact == fromVersionOne)
        #expect(fromCompact.message.properties.map(\.key) == stored.message.properties.map(\.key))
        #expect(compact.count < (try StoredMessageCodec.encode(stored)).count)
    }

    @Test("layout sizes: 46-byte minimum, and a broker-stored event saves 67 bytes over v1")
    func layoutSizes() throws {
        let empty = StoredMessage(message: Message(topic: "", properties: MessageProperties(), body: ByteBuffer()))
        #expect(compactRecord(empty, at: 0).count == CompactRecordLayout.minimumSize)
        #expect(CompactRecordLayout.minimumSize == 46)
        #expect(CompactRecordLayout.fieldsOffset == 28)
        // What the bench stores: UNIQ_KEY + CLUSTER, a 5-byte topic, zstd flag, ~1.7e12 timestamps.
        var properties = MessageProperties()
        properties[PropertyKey.uniqueKey] = "0A0000070000C350A1B2C3D4E5F60001"
        properties[PropertyKey.cluster] = "DefaultCluster"
        var flags = MessageSysFlag()
        flags.compression = .zstd
        let event = StoredMessage(
            message: Message(topic: "CDICT", properties: properties, body: ByteBuffer(repeating: 7, count: 110)),
            queueId: 3, queueOffset: QueueOffset(123_456), sysFlag: flags, bornTimestamp: 1_764_000_000_123,
            bornHost: MessageHost(ipv4: "127.0.0.1", port: 54_321)!, storeTimestamp: 1_764_000_000_456,
            storeHost: MessageHost(ipv4: "127.0.0.1", port: 10_911)!)
        let versionOne = try StoredMessageCodec.encode(event).count
        let compact = compactRecord(event, at: 0).count
        // v1: 91 fixed + 5 topic + 64 properties. Compact: 28 fixed + queue id 1, flag 1, sysFlag 1,
        // born 6, hosts 2 × 7, reconsume 1, prepared 1, topic 1 + 5, properties 1 + 17 + 16.
        #expect(versionOne == 91 + 5 + 64 + 110)
        #expect(compact == 28 + 1 + 1 + 1 + 6 + 14 + 1 + 1 + 6 + 1 + 33 + 110)
        #expect(versionOne - compact == 67)
    }

    @Test("CHECK binds a record to its position: read at another offset it is refused")
    func checkBindsPosition() throws {
        let compact = compactRecord(sampleMessage(), at: 4096)
        #expect(throws: CoreError.self) { try compact.withUnsafeBytes { try StoredMessageCodec.decode($0, at: 4097) } }
        #expect(throws: CoreError.self) { try compact.withUnsafeBytes { try StoredMessageCodec.decode($0) } }
        #expect(try compact.withUnsafeBytes { try StoredMessageCodec.decode($0, at: 4096) }.queueId == 300)
    }

    @Test("every cut and every single-byte change of a record is refused or decodes; nothing traps")
    func damageIsRefused() throws {
        let compact = compactRecord(sampleMessage(), at: 8192)
        for length in 0..<compact.count {
            var cut = Array(compact[0..<length])
            cut += [UInt8](repeating: 0, count: compact.count - length)
            #expect(throws: CoreError.self) { try cut.withUnsafeBytes { try StoredMessageCodec.decode($0, at: 8192) } }
        }
        var refused = 0
        for index in 12..<compact.count {
            var changed = compact
            changed[index] ^= 0x5A
            do { _ = try changed.withUnsafeBytes { try StoredMessageCodec.decode($0, at: 8192) } } catch { refused += 1 }
            // Unverified parsing of damaged bytes must fail cleanly too.
            _ = try? changed.withUnsafeBytes { try StoredMessageCodec.decodeProperties($0) }
        }
        // QUEUEOFFSET and STORETIMESTAMP (bytes 12..<28) are outside CHECK, as the commit log sets them.
        #expect(refused == compact.count - CompactRecordLayout.fieldsOffset)
    }

    @Test("field readers see through both layouts")
    func fieldReaders() throws {
        let stored = sampleMessage()
        let compact = compactRecord(stored, at: 0)
        let versionOne = try StoredMessageCodec.encode(stored)
        for bytes in [compact, versionOne] {
            let timestamp = try bytes.withUnsafeBytes { try StoredMessageCodec.storeTimestamp(ofRecord: $0) }
            let sysFlag = try bytes.withUnsafeBytes { try StoredMessageCodec.sysFlag(ofRecord: $0) }
            let properties = try bytes.withUnsafeBytes { try StoredMessageCodec.decodeProperties($0) }
            #expect(timestamp == 1_764_000_000_456)
            #expect(sysFlag.compression == .zstd)
            #expect(properties == stored.message.properties)
        }
        #expect(compact.withUnsafeBytes { StoredMessageCodec.isCompact($0) })
        #expect(!versionOne.withUnsafeBytes { StoredMessageCodec.isCompact($0) })
    }
}

@Suite("Compact properties")
struct CompactPropertiesTests {
    /// Encodes and decodes `properties`, returning the decoded set and the encoded size.
    private func roundTrip(_ properties: MessageProperties) throws -> (MessageProperties, Int) {
        var bytes: [UInt8] = []
        CompactProperties.append(properties, to: &bytes)
        return (try bytes.withUnsafeBytes { try CompactProperties.decode($0) }, bytes.count)
    }

    @Test("well-known names take one byte and upper-case 32-hex values sixteen")
    func packing() throws {
        let unique = MessageProperties([(PropertyKey.uniqueKey, "0123456789ABCDEF0123456789ABCDEF")])
        let (decoded, size) = try roundTrip(unique)
        #expect(decoded == unique)
        #expect(size == 1 + 16)
        let cluster = MessageProperties([(PropertyKey.cluster, "DefaultCluster")])
        #expect(try roundTrip(cluster).1 == 1 + 1 + 14)
    }

    @Test("values that only look like hex stay text, byte for byte")
    func nearHexStaysText() throws {
        let cases = [
            "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDE", "0123456789ABCDEF0123456789ABCDEF0",
            "0123456789ABCDEG0123456789ABCDEF", "", "é",
        ]
        for value in cases {
            let properties = MessageProperties([("name-\(value.count)", value), (PropertyKey.uniqueKey, value)])
            let (decoded, _) = try roundTrip(properties)
            #expect(decoded.entries.map(\.value) == properties.entries.map(\.value), "value \(value)")
        }
    }

    @Test("every table name round-trips and the order of entries is kept")
    func tableAndOrder() throws {
        let pairs = CompactProperties.wellKnownNames.reversed().enumerated().map { ($0.element, "v\($0.offset)") }
        let properties = MessageProperties(pairs + [("zz-user", "1"), ("aa-user", "2")])
        let (decoded, _) = try roundTrip(properties)
        #expect(decoded == properties)
    }

    @Test("a name code beyond the table and a length past the end are refused")
    func malformed() {
        let unknownCode: [UInt8] = [UInt8(CompactProperties.wellKnownNames.count + 1), 1, 0x41]
        #expect(throws: CoreError.self) { try unknownCode.withUnsafeBytes { try CompactProperties.decode($0) } }
        let longValue: [UInt8] = [1, 9, 0x41]
        #expect(throws: CoreError.self) { try longValue.withUnsafeBytes { try CompactProperties.decode($0) } }
        let shortHex: [UInt8] = [0x83, 1, 2, 3]
        #expect(throws: CoreError.self) { try shortHex.withUnsafeBytes { try CompactProperties.decode($0) } }
    }
}
