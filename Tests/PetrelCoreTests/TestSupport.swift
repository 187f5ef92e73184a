import NIOCore
import PetrelCore

/// The 164-byte record of spec §10.2, exactly as the spec prints it (offset column included).
let specVectorDump = """
    0000  00 00 00 a4 da a3 20 a7 36 10 a6 86 00 00 00 01
    0010  00 00 00 00 00 00 00 00 00 00 00 05 00 00 00 00
    0020  00 00 10 00 00 00 00 00 00 00 01 8b cf e5 68 00
    0030  0a 00 00 07 00 00 c3 50 00 00 01 8b cf e5 68 7b
    0040  0a 00 00 01 00 00 2a 9f 00 00 00 00 00 00 00 00
    0050  00 00 00 00 00 00 00 05 68 65 6c 6c 6f 09 54 6f
    0060  70 69 63 54 65 73 74 00 3b 4b 45 59 53 01 6b 31
    0070  02 54 41 47 53 01 54 61 67 41 02 55 4e 49 51 5f
    0080  4b 45 59 01 30 41 30 30 30 30 30 37 30 46 34 41
    0090  31 42 32 43 33 44 34 45 35 46 36 30 30 30 30 30
    00a0  30 30 30 31
    """

/// Parses a hex dump whose lines are `offset  byte byte …`; traps on malformed text.
func parseHexDump(_ dump: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in dump.split(separator: "\n") {
        let tokens = line.split(separator: " ")
        guard let offsetToken = tokens.first, let offset = Int(offsetToken, radix: 16) else { continue }
        precondition(offset == bytes.count, "dump line at \(offsetToken) does not continue at \(bytes.count)")
        for token in tokens.dropFirst() {
            precondition(token.count == 2, "bad byte '\(token)'")
            bytes.append(UInt8(token, radix: 16)!)
        }
    }
    return bytes
}

/// The spec vector's bytes.
let specVectorBytes = parseHexDump(specVectorDump)

/// The UNIQ_KEY inside the spec vector (bytes 0x84..<0xA4, read off the dump).
let specVectorUniqueKey = "0A0000070F4A1B2C3D4E5F6000000001"

/// The message the spec vector encodes, built field by field from the spec's description.
func specVectorMessage() -> StoredMessage {
    StoredMessage(
        message: Message(
            topic: "TopicTest",
            flag: 0,
            properties: MessageProperties([("KEYS", "k1"), ("TAGS", "TagA"), ("UNIQ_KEY", specVectorUniqueKey)]),
            body: ByteBuffer(string: "hello")),
        queueId: 1,
        queueOffset: QueueOffset(5),
        commitLogOffset: CommitLogOffset(4096),
        sysFlag: [],
        bornTimestamp: 1_700_000_000_000,
        bornHost: MessageHost(address: 0x0A00_0007, port: 50000),
        storeTimestamp: 1_700_000_000_123,
        storeHost: MessageHost(address: 0x0A00_0001, port: 10911))
}

/// Decodes one record from a byte array.
func decodeRecord(_ bytes: [UInt8], verifyChecksum: Bool = true) throws -> StoredMessage {
    try bytes.withUnsafeBytes { raw in try StoredMessageCodec.decode(raw, verifyChecksum: verifyChecksum) }
}

/// Decodes every record of a byte array.
func decodeRecords(_ bytes: [UInt8]) throws -> [StoredMessage] {
    try bytes.withUnsafeBytes { raw in try StoredMessageCodec.decodeAll(raw) }
}

/// The code of the CoreError `body` throws, nil when it throws nothing or something else.
func coreErrorCode(_ body: () throws -> Void) -> CoreError.Code? {
    do {
        try body()
        return nil
    } catch let error as CoreError {
        return error.code
    } catch {
        return nil
    }
}

/// A small seeded generator (SplitMix64) so random tests are reproducible from their seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` random bytes.
func randomBytes(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}
