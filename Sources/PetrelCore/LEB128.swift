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

    /// Reads a varint of at most `maximumLength` bytes at `cursor`, advancing it; `what` names the
    /// field in the error for a varint that runs past the end (`.truncated`), or past the maximum
    /// length or 64 bits (`.badSize`; no encoder writes either).
    @inlinable public static func read(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, _ what: StaticString, maximumLength: Int = maximumLength
    ) throws(CoreError) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<min(maximumLength, Self.maximumLength) {
            guard cursor < bytes.count else { throw CoreError(.truncated, "\(what) runs past the end of the record") }
            let byte = bytes[cursor]
            cursor += 1
            // The tenth byte holds bit 63 alone.
            guard index < 9 || byte <= 1 else { throw CoreError(.badSize, "\(what) is wider than 64 bits") }
            value |= UInt64(byte & 0x7F) << UInt64(7 * index)
            if byte < 0x80 { return value }
        }
        throw CoreError(.badSize, "\(what) is longer than \(min(maximumLength, Self.maximumLength)) bytes")
    }

    /// Reads a varint that must fit 32 bits (a field stored as a 32-bit bit pattern): at most five bytes.
    @inlinable public static func read32(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, _ what: StaticString
    ) throws(CoreError) -> UInt32 {
        let value = try read(bytes, &cursor, what, maximumLength: 5)
        guard let narrow = UInt32(exactly: value) else { throw CoreError(.badSize, "\(what) \(value) does not fit 32 bits") }
        return narrow
    }
}
