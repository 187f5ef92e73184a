/// Unsigned LEB128 varints: seven bits a byte, low bits first, the high bit set while more bytes
/// follow. The compact record format (`CompactRecordLayout`) stores its small integers this way;
/// signed values are stored as their bit pattern, so a negative one takes the full width.
public enum LEB128 {
    /// The longest encoding of a 64-bit value.
    public static let maximumLength = 10

    /// Bytes `value` takes.
    @inlinable public static func length(_ value: UInt64) -> Int {
        var length = 1
        var rest = value >> 7
        while rest != 0 {
            length += 1
            rest >>= 7
        }
        return length
    }

    /// Appends `value` to `output`.
    @inlinable public static func append(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    /// Reads a varint at `cursor`, advancing it; `what` names the field in the error for a varint
    /// that runs past the end or past ten bytes (which no encoder writes).
    @inlinable public static func read(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, _ what: StaticString
    ) throws(CoreError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard cursor < bytes.count else { throw CoreError(.truncated, "\(what) runs past the end of the record") }
            let byte = bytes[cursor]
            cursor += 1
            guard shift < 64, shift < 63 || byte <= 1 else {
                throw CoreError(.badSize, "\(what) is longer than a 64-bit varint")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// Reads a varint that must fit 32 bits (a field stored as a 32-bit bit pattern).
    @inlinable public static func read32(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, _ what: StaticString
    ) throws(CoreError) -> UInt32 {
        let value = try read(bytes, &cursor, what)
        guard let narrow = UInt32(exactly: value) else { throw CoreError(.badSize, "\(what) \(value) does not fit 32 bits") }
        return narrow
    }
}
