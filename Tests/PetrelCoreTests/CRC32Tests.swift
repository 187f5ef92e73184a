import PetrelCore
import Testing

@Suite("CRC-32")
struct CRC32Tests {
    /// Bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320): the textbook definition.
    static func reference(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }

    @Test("standard check value and empty input")
    func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(Self.reference(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test("1 MiB of random bytes matches the bitwise reference")
    func largeRandomBuffer() {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        let bytes = randomBytes(1 << 20, using: &generator)
        #expect(CRC32.checksum(bytes) == Self.reference(bytes))
    }

    @Test("every short length and misaligned start matches the reference")
    func shortAndMisaligned() {
        var generator = SeededGenerator(seed: 7)
        let bytes = randomBytes(80, using: &generator)
        bytes.withUnsafeBytes { raw in
            for start in 0..<8 {
                for end in start...(start + 70) {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    #expect(CRC32.checksum(slice) == Self.reference(bytes[start..<end]), "bytes \(start)..<\(end)")
                }
            }
        }
    }

    @Test("body checksum clears the sign bit")
    func bodyChecksum() {
        // Find inputs whose CRC has the top bit set, and check that only that bit is cleared.
        var checkedHighBit = false
        for value in 0..<64 {
            let bytes: [UInt8] = [UInt8(value)]
            let full = CRC32.checksum(bytes)
            let body = bytes.withUnsafeBytes { CRC32.bodyChecksum($0) }
            #expect(body >= 0)
            #expect(UInt32(body) == full & 0x7FFF_FFFF)
            if full & 0x8000_0000 != 0 { checkedHighBit = true }
        }
        #expect(checkedHighBit)
    }
}
