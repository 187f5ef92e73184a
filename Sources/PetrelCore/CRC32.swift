/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum RocketMQ stores as BODYCRC.
/// Slice-by-8 keeps it well above a gigabyte per second, so checksumming stays off the critical path.
public enum CRC32 {
    /// Eight 256-entry tables for slice-by-8, built once.
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[0][index] = crc
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][index]
                tables[slice][index] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { outer in
            outer[0].withUnsafeBufferPointer { t0 in
            outer[1].withUnsafeBufferPointer { t1 in
            outer[2].withUnsafeBufferPointer { t2 in
            outer[3].withUnsafeBufferPointer { t3 in
            outer[4].withUnsafeBufferPointer { t4 in
            outer[5].withUnsafeBufferPointer { t5 in
            outer[6].withUnsafeBufferPointer { t6 in
            outer[7].withUnsafeBufferPointer { t7 in
                var index = 0
                let count = bytes.count
                while index + 8 <= count {
                    let low = bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
                    let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                    crc = t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)]
                        ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                        ^ t3[Int(high & 0xFF)] ^ t2[Int((high >> 8) & 0xFF)]
                        ^ t1[Int((high >> 16) & 0xFF)] ^ t0[Int(high >> 24)]
                    index += 8
                }
                while index < count {
                    crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                    index += 1
                }
            }}}}}}}}
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The CRC-32 of a byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// RocketMQ's BODYCRC: the CRC-32 with the sign bit cleared, so it fits a positive Java int.
    public static func bodyChecksum(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        Int32(bitPattern: checksum(bytes) & 0x7FFF_FFFF)
    }
}
