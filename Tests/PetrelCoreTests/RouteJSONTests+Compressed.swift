import PetrelCore
import Testing

/// Bytes from a hex string.
func bytesFromHex(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}

/// `bytes` wrapped as a zlib stream of stored (uncompressed) blocks, which every inflater accepts:
/// header 78 01, blocks of at most 65,535 bytes, Adler-32 big-endian.
func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = [0x78, 0x01]
    var start = 0
    repeat {
        let end = min(start + 65_535, bytes.count)
        let length = UInt16(end - start)
        output.append(end == bytes.count ? 1 : 0)
        output += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        output += bytes[start..<end]
        start = end
    } while start < bytes.count
    let adler = Inflate.adler32(bytes)
    output += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    return output
}

/// zlib level 9 output (fixed Huffman block) of a registration with data version {7, 1700000000000}
/// and topics TopicTest 4/4/6, TBW102 8/8/7, %RETRY%CG_push 1/1/6, no filter servers.
let fixedHuffmanRegistration = bytesFromHex(
    "78da63606050af564ace2fcd2b492d52b232d7512ac9cc4d2d2e49cc2d50b232343740805a0606066620960ac92fc84c0e01aa5130"
        + "01423385604f3f771fd7f8104777a0ac788853b8a181918205109aa34ac9ab06b9860445aa3abbc717941667281802219a6ea6e8"
        + "580033dd22d4")

/// zlib level 9 output (dynamic Huffman block) of a registration with data version {7, 1700000000000},
/// topics Topic-000 … Topic-039 with (i % 8 + 1) queues each way and perm 6, filter server 10.0.0.9:1.
let dynamicHuffmanRegistration = bytesFromHex(
    "78da7dcfbb4e03311085613f411e80ca720305449e195fb7a38822a4280de9a22842ab2d52845d259b0af1ee4c2a28f0f1919bf9ab"
        + "cf18f3f8e5faf1f6390f17d7e567379fcec375fe384faea3ec7fdfb731e649ffc36e9c4efd8b5e2ce9927d7fdbae37abe3ee75fd"
        + "b792655dabb2155dab8a0dba560d36ea5af55e52b3269b75ad9a6dd1b56a81de8abce491970879899197047929202f45e4a584bc"
        + "94a1b7406f455ef6c8cb84bcccc8cb82bc1c909723f272425eced05ba0b722af78e415425e61e415415e09c82b11792521af64e8"
        + "2dd05bfff32ef68efcf2beda913bfc0095f725bb")

extension RouteJSONTests {
    @Suite("Compressed registration bodies and the inflater (spec §6.4)")
    struct Compressed {
        @Test("a fixed-Huffman zlib registration from Python's zlib decodes")
        func fixedHuffman() throws {
            let body = try RegisterBrokerBody(body: fixedHuffmanRegistration, compressed: true)
            #expect(body.dataVersion == DataVersion(counter: 7, timestamp: 1_700_000_000_000))
            #expect(body.filterServerList.isEmpty)
            #expect(body.topicConfigTable == [
                "TopicTest": TopicConfig(topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4),
                "TBW102": TopicConfig(topicName: "TBW102", readQueueNums: 8, writeQueueNums: 8, perm: Permission(rawValue: 7)),
                "%RETRY%CG_push": TopicConfig(topicName: "%RETRY%CG_push", readQueueNums: 1, writeQueueNums: 1),
            ])
        }

        @Test("a dynamic-Huffman zlib registration with forty topics decodes")
        func dynamicHuffman() throws {
            let body = try RegisterBrokerBody(compressedBytes: dynamicHuffmanRegistration)
            #expect(body.topicConfigTable.count == 40)
            #expect(body.topicConfigTable["Topic-005"]?.readQueueNums == 6)
            #expect(body.topicConfigTable["Topic-039"]?.writeQueueNums == 8)
            #expect(body.filterServerList == ["10.0.0.9:1"])
            #expect(body.dataVersion.counter == 7)
        }

        @Test("the payload layout round-trips through stored zlib blocks, large ones included")
        func storedRoundTrip() throws {
            var table: [String: TopicConfig] = [:]
            for index in 0..<3_000 {
                let name = "topic-with-a-long-name-\(index)"
                table[name] = TopicConfig(topicName: name, readQueueNums: 8, writeQueueNums: 8)
            }
            let body = RegisterBrokerBody(topicConfigTable: table, dataVersion: DataVersion(counter: 2, timestamp: 3), filterServerList: ["a:1"])
            let payload = body.uncompressedPayload()
            #expect(payload.count > 65_535)
            #expect(try Inflate.zlib(zlibStored(payload)) == payload)
            #expect(try RegisterBrokerBody(compressedBytes: zlibStored(payload)) == body)
            #expect(try RegisterBrokerBody(inflatedPayload: payload) == body)
        }

        @Test("raw deflate streams and Adler-32")
        func rawDeflate() throws {
            let raw = bytesFromHex("cb48cdc9c957c840271501")
            #expect(try Inflate.raw(raw) == Array("hello hello hello hello!".utf8))
            #expect(try Inflate.decompress(raw) == Array("hello hello hello hello!".utf8))
            #expect(Inflate.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
            #expect(Inflate.adler32([]) == 1)
        }

        @Test("damaged streams fail with malformedCompressedData")
        func damagedStreams() {
            var badTrailer = fixedHuffmanRegistration
            badTrailer[badTrailer.count - 1] ^= 1
            #expect(coreErrorCode { _ = try Inflate.zlib(badTrailer) } == .malformedCompressedData)
            let truncated = Array(fixedHuffmanRegistration.dropLast(10))
            #expect(coreErrorCode { _ = try Inflate.zlib(truncated) } == .malformedCompressedData)
            #expect(coreErrorCode { _ = try Inflate.zlib([0x78]) } == .malformedCompressedData)
            #expect(coreErrorCode { _ = try Inflate.zlib([0x78, 0xBB, 0, 0]) } == .malformedCompressedData)  // preset dictionary
            #expect(coreErrorCode { _ = try Inflate.raw([0x07]) } == .malformedCompressedData)  // block type 3
            #expect(coreErrorCode { _ = try Inflate.raw([0x01, 0x05, 0x00, 0x00, 0x00]) } == .malformedCompressedData)  // LEN/NLEN
            #expect(coreErrorCode { _ = try Inflate.raw([]) } == .malformedCompressedData)
        }

        @Test("output beyond the limit is refused (no zip bombs)")
        func outputLimit() {
            let zeros = [UInt8](repeating: 0, count: 100_000)
            #expect(coreErrorCode { _ = try Inflate.zlib(zlibStored(zeros), maximumOutputSize: 50_000) } == .malformedCompressedData)
            #expect(coreErrorCode { _ = try Inflate.zlib(dynamicHuffmanRegistration, maximumOutputSize: 1_000) } == .malformedCompressedData)
        }

        @Test("payloads with impossible lengths or bad topic text fail with a CoreError")
        func badPayloads() throws {
            let good = RegisterBrokerBody(topicConfigTable: ["T": TopicConfig(topicName: "T")]).uncompressedPayload()
            #expect(coreErrorCode { _ = try RegisterBrokerBody(inflatedPayload: Array(good.dropLast(1))) } == .badSize)
            #expect(coreErrorCode { _ = try RegisterBrokerBody(inflatedPayload: Array(good.dropLast(3))) } == .truncated)
            #expect(coreErrorCode { _ = try RegisterBrokerBody(inflatedPayload: [0, 0]) } == .truncated)
            #expect(coreErrorCode { _ = try RegisterBrokerBody(inflatedPayload: [0xFF, 0xFF, 0xFF, 0xFF]) } == .badSize)
            var badTopic = good
            let textStart = good.count - 4 - 2 - "T 16 16 6 SINGLE_TAG".utf8.count
            badTopic[textStart + 2] = UInt8(ascii: "x")
            #expect(coreErrorCode { _ = try RegisterBrokerBody(inflatedPayload: badTopic) } == .invalidJSONField)
        }

        @Test("1,000 randomly damaged compressed bodies never crash")
        func randomDamage() {
            var generator = SeededGenerator(seed: 11)
            var failures = 0
            for round in 0..<1_000 {
                var bytes = round.isMultiple(of: 2) ? fixedHuffmanRegistration : dynamicHuffmanRegistration
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                if Bool.random(using: &generator) {
                    bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
                } else {
                    bytes.removeSubrange(position...)
                }
                if coreErrorCode({ _ = try RegisterBrokerBody(compressedBytes: bytes) }) != nil { failures += 1 }
            }
            // The Adler-32 catches nearly every change that still inflates.
            #expect(failures > 950)
        }
    }
}
