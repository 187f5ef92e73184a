/// The properties section of a compact record (`CompactRecordLayout`): the same entries, in the
/// same order, as the v1 `name 0x01 value 0x02 …` string, but with the names RocketMQ itself
/// sets replaced by one-byte codes and 32-character upper-case hex values (`UNIQ_KEY`, message
/// ids) stored as their 16 bytes. A typical broker-stored message (`UNIQ_KEY` + `CLUSTER`) drops
/// from 65 bytes to 33.
///
/// ```
/// entry := code (1 byte) [name] value
///   code & 0x7F == 0        a literal name follows: LEB128 length + UTF-8 bytes
///   code & 0x7F in 1…n      the well-known name `wellKnownNames[code & 0x7F - 1]`
///   code & 0x80 set         value is 16 bytes, printed as 32 upper-case hex characters
///   code & 0x80 clear       value is LEB128 length + UTF-8 bytes
/// ```
///
/// The table is part of the on-disk format: names may be appended, never reordered or removed.
public enum CompactProperties {
    /// Names with a one-byte code, code = index + 1. Append only.
    public static let wellKnownNames: [String] = [
        PropertyKey.tags, PropertyKey.keys, PropertyKey.uniqueKey, PropertyKey.cluster,
        PropertyKey.waitStoreMessageOK, PropertyKey.delayLevel, PropertyKey.retryTopic, PropertyKey.realTopic,
        PropertyKey.realQueueId, PropertyKey.transactionPrepared, PropertyKey.producerGroup, PropertyKey.originMessageId,
        "MSG_REGION", "TRACE_ON", "MIN_OFFSET", "MAX_OFFSET",
    ]

    /// Code bit: the value is 16 bytes of packed hex.
    static let packedHexBit: UInt8 = 0x80

    /// Appends the section's entries (without its length prefix) to `output`.
    public static func append(_ properties: MessageProperties, to output: inout [UInt8]) {
        for entry in properties.entries {
            let known = wellKnownCode(entry.key)
            let packed = isPackableHex(entry.value)
            output.append(known | (packed ? packedHexBit : 0))
            if known == 0 { appendText(entry.key, to: &output) }
            if packed { appendPackedHex(entry.value, to: &output) } else { appendText(entry.value, to: &output) }
        }
    }

    /// Decodes a section (without its length prefix).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(CoreError) -> MessageProperties {
        var properties = MessageProperties()
        var cursor = 0
        while cursor < bytes.count {
            let code = bytes[cursor]
            cursor += 1
            let index = Int(code & ~packedHexBit)
            let name: String
            if index == 0 {
                name = try readText(bytes, &cursor, "property name length")
            } else {
                guard index <= wellKnownNames.count else {
                    throw CoreError(.badSize, "property name code \(index) is not in the table of \(wellKnownNames.count)")
                }
                name = wellKnownNames[index - 1]
            }
            let value = code & packedHexBit != 0 ? try readPackedHex(bytes, &cursor) : try readText(bytes, &cursor, "property value length")
            properties[name] = value
        }
        return properties
    }

    /// The one-byte code of a well-known name, 0 for any other.
    static func wellKnownCode(_ name: String) -> UInt8 {
        guard let index = wellKnownNames.firstIndex(of: name) else { return 0 }
        return UInt8(index + 1)
    }

    /// True for exactly 32 characters of 0-9 and A-F, which print back identically from 16 bytes.
    static func isPackableHex(_ value: String) -> Bool {
        var count = 0
        for byte in value.utf8 {
            guard (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) else { return false }
            count += 1
        }
        return count == 32
    }

    /// Appends LEB128 length + UTF-8 bytes.
    private static func appendText(_ text: String, to output: inout [UInt8]) {
        LEB128.append(UInt64(text.utf8.count), to: &output)
        output.append(contentsOf: text.utf8)
    }

    /// Reads LEB128 length + UTF-8 bytes.
    private static func readText(_ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, _ what: StaticString) throws(CoreError) -> String {
        let length = try LEB128.read(bytes, &cursor, what)
        guard length <= UInt64(bytes.count - cursor) else { throw CoreError(.badSize, "\(what) \(length) runs past the section") }
        let end = cursor + Int(length)
        defer { cursor = end }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[cursor..<end]), as: UTF8.self)
    }

    /// Appends the 16 bytes 32 hex characters spell.
    private static func appendPackedHex(_ value: String, to output: inout [UInt8]) {
        var high: UInt8?
        for byte in value.utf8 {
            let nibble = byte <= 0x39 ? byte - 0x30 : byte - 0x41 + 10
            if let first = high {
                output.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
    }

    /// Reads 16 bytes as 32 upper-case hex characters.
    private static func readPackedHex(_ bytes: UnsafeRawBufferPointer, _ cursor: inout Int) throws(CoreError) -> String {
        guard bytes.count - cursor >= 16 else { throw CoreError(.truncated, "packed hex property value runs past the section") }
        let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
        let text = String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<16 {
                let byte = bytes[cursor + index]
                buffer[2 * index] = digits[Int(byte >> 4)]
                buffer[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return 32
        }
        cursor += 16
        return text
    }
}
