import PetrelCore
import Testing

@Suite("Message ids (spec §12)")
struct MessageIdTests {
    @Test("offset id layout and round trip")
    func offsetIdRoundTrip() throws {
        let host = MessageHost(address: 0xC0A8_0A0B, port: 10911)
        let offset = CommitLogOffset(0x0123_4567_89AB_CDEF)
        let id = MessageId.offsetId(storeHost: host, commitLogOffset: offset)
        #expect(id == "C0A80A0B00002A9F0123456789ABCDEF")
        let decoded = try MessageId.decodeOffsetId(id)
        #expect(decoded.storeHost == host)
        #expect(decoded.commitLogOffset == offset)
        // Lower case is accepted on decode.
        let lower = try MessageId.decodeOffsetId(id.lowercased())
        #expect(lower.storeHost == host && lower.commitLogOffset == offset)
    }

    @Test("extreme values round trip", arguments: [
        (UInt32(0), Int32(0), Int64(0)),
        (UInt32.max, Int32.max, Int64.max),
        (UInt32(0x7F00_0001), Int32(-1), Int64(-1)),
    ])
    func extremes(address: UInt32, port: Int32, offset: Int64) throws {
        let host = MessageHost(address: address, port: port)
        let id = MessageId.offsetId(storeHost: host, commitLogOffset: CommitLogOffset(offset))
        #expect(id.count == 32)
        let decoded = try MessageId.decodeOffsetId(id)
        #expect(decoded.storeHost == host)
        #expect(decoded.commitLogOffset.rawValue == offset)
    }

    @Test("malformed offset ids are rejected", arguments: [
        "0A00000100002A9F000000000000100",  // 31 characters
        "0A00000100002A9F00000000000010000",  // 33 characters
        "",
        "0A00000100002A9F000000000000100G",  // non-hex
        "0A00000100002A9F00000000000010 0",  // space
        "0A00000100002A9F00000000000010é",  // 31 characters, 32 UTF-8 bytes
        "0A00000100002A9F0000000000001000,0A00000100002A9F0000000000001000",  // a batch id list
    ])
    func malformed(id: String) {
        #expect(coreErrorCode { _ = try MessageId.decodeOffsetId(id) } == .badMessageId)
    }

    @Test("hex helpers")
    func hexHelpers() {
        #expect(MessageId.hex([0x00, 0x0A, 0xFF, 0x10]) == "000AFF10")
        #expect(MessageId.unhex("000aFF10") == [0x00, 0x0A, 0xFF, 0x10])
        #expect(MessageId.unhex("") == [])
        #expect(MessageId.unhex("ABC") == nil)
        #expect(MessageId.unhex("zz") == nil)
    }

    @Test("unique keys: 32 upper-case hex characters, address first, 10,000 distinct in a row")
    func uniqueKeys() {
        let generator = UniqueKeyGenerator(address: 0x0A00_0007)
        var seen = Set<String>()
        let now: Int64 = 1_700_000_000_000
        for index in 0..<10_000 {
            let id = generator.next(nowMilliseconds: now + Int64(index / 100))
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (65...70).contains($0) }, "\(id)")
            #expect(id.hasPrefix("0A000007"))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    @Test("unique keys carry the milliseconds since the start of the UTC month")
    func uniqueKeyMonthMilliseconds() throws {
        let generator = UniqueKeyGenerator(address: 0x7F00_0001)
        // 1700000000000 is 2023-11-14T22:13:20Z; the month began at 1698796800000.
        let id = generator.next(nowMilliseconds: 1_700_000_000_000)
        let bytes = try #require(MessageId.unhex(id))
        let sinceMonth = bytes[10..<14].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(sinceMonth == 1_700_000_000_000 - 1_698_796_800_000)
        // Exactly at a month boundary the count restarts at zero.
        let atStart = try #require(MessageId.unhex(generator.next(nowMilliseconds: 1_698_796_800_000)))
        #expect(atStart[10..<14].allSatisfy { $0 == 0 })
        // The counter advances by one per id.
        let a = try #require(MessageId.unhex(generator.next(nowMilliseconds: 1_700_000_000_000)))
        let b = try #require(MessageId.unhex(generator.next(nowMilliseconds: 1_700_000_000_000)))
        let counterA = UInt16(a[14]) << 8 | UInt16(a[15])
        let counterB = UInt16(b[14]) << 8 | UInt16(b[15])
        #expect(counterB == counterA &+ 1)
        #expect(a[0..<10] == b[0..<10])
    }
}
