import NIOCore

/// A forward-only reader over the bytes of one JSON text, just enough for remoting headers.
///
/// Hand-written rather than `JSONSerialization` because the header is parsed once per request on the
/// broker's hot path, and because the header's quirks need the raw token: a C++ client's number in
/// `extFields` must become exactly its literal text (`4` → `"4"`), which a generic parser's
/// floating-point or `NSNumber` detour would not preserve.
struct JSONReader {
    /// Nesting deeper than this is refused, so a hostile header cannot exhaust the stack.
    static let maximumDepth = 64

    /// The whole JSON text.
    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    private var index = 0

    /// A reader positioned at the start of `bytes`.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Reads the `{` that opens an object.
    mutating func enterObject() throws(RemotingError) {
        guard nextSignificantByte() == UInt8(ascii: "{") else { throw Self.error("expected an object") }
        index += 1
    }

    /// The key of the next member of the object being read, with its `:` consumed; nil once the
    /// closing `}` has been read. `first` says whether this is the first call for the object.
    mutating func nextMemberKey(first: Bool) throws(RemotingError) -> String? {
        if nextSignificantByte() == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        if !first {
            guard nextSignificantByte() == UInt8(ascii: ",") else { throw Self.error("expected , or }") }
            index += 1
        }
        guard nextSignificantByte() == UInt8(ascii: "\"") else { throw Self.error("expected a member name") }
        let key = try readString()
        guard nextSignificantByte() == UInt8(ascii: ":") else { throw Self.error("expected : after \(key)") }
        index += 1
        return key
    }

    /// Consumes a `null` and returns true, or returns false leaving any other value unread.
    mutating func skipNull() throws(RemotingError) -> Bool {
        guard nextSignificantByte() == UInt8(ascii: "n") else { return false }
        try readLiteral("null")
        return true
    }

    /// Any value as text: a string's contents, a number's literal, `true`/`false`, the raw JSON of an
    /// object or array, and nil for `null`. This is the "any scalar becomes a string" rule of spec §2.1.
    mutating func readValueText() throws(RemotingError) -> String? {
        if try skipNull() { return nil }
        if nextSignificantByte() == UInt8(ascii: "\"") { return try readString() }
        let start = index
        try skipValue(depth: 0)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// An integer given as a number or as a string holding one; nil for `null`.
    mutating func readInteger<Integer: FixedWidthInteger>(_ type: Integer.Type, field: String) throws(RemotingError) -> Integer? {
        guard let text = try readValueText() else { return nil }
        guard let value = Integer(text, radix: 10) else { throw Self.error("\(field) is not an integer: \(text)") }
        return value
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue(depth: Int) throws(RemotingError) {
        guard depth < Self.maximumDepth else { throw Self.error("nested deeper than \(Self.maximumDepth)") }
        switch nextSignificantByte() {
        case UInt8(ascii: "{"):
            try enterObject()
            var first = true
            while try nextMemberKey(first: first) != nil {
                first = false
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            index += 1
            var first = true
            while nextSignificantByte() != UInt8(ascii: "]") {
                if !first {
                    guard nextSignificantByte() == UInt8(ascii: ",") else { throw Self.error("expected , or ]") }
                    index += 1
                }
                first = false
                try skipValue(depth: depth + 1)
            }
            index += 1
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        case UInt8(ascii: "n"): try readLiteral("null")
        default: try skipNumber()
        }
    }

    /// Checks that only whitespace is left: C++ ends its header with `\n` (spec §1).
    mutating func expectEnd() throws(RemotingError) {
        guard nextSignificantByte() == nil else { throw Self.error("unexpected bytes after the header object") }
    }

    /// The byte at the next non-whitespace position (which becomes `index`), nil at the end.
    private mutating func nextSignificantByte() -> UInt8? {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return bytes[index]
            }
        }
        return nil
    }

    /// Reads `literal` exactly.
    private mutating func readLiteral(_ literal: StaticString) throws(RemotingError) {
        let length = literal.utf8CodeUnitCount
        guard index + length <= bytes.count,
            (0..<length).allSatisfy({ bytes[index + $0] == literal.utf8Start[$0] })
        else { throw Self.error("expected \(literal)") }
        index += length
    }

    /// Skips a number token; the characters are checked loosely, the header fields that matter are
    /// parsed again as integers.
    private mutating func skipNumber() throws(RemotingError) {
        let start = index
        while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
        guard index > start else { throw Self.error("expected a value") }
    }

    /// True for the bytes a JSON number can contain.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default:
            false
        }
    }

    /// Reads a string starting at its opening quote, decoding escapes.
    private mutating func readString() throws(RemotingError) -> String {
        index += 1
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                defer { index += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            case UInt8(ascii: "\\"):
                return try readEscapedString(prefix: start..<index)
            default:
                index += 1
            }
        }
        throw Self.error("unterminated string")
    }

    /// Finishes a string that contains escapes; `prefix` is the escape-free part already scanned.
    private mutating func readEscapedString(prefix: Range<Int>) throws(RemotingError) -> String {
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[prefix]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try appendEscape(to: &utf8)
            default:
                utf8.append(byte)
            }
        }
        throw Self.error("unterminated string")
    }

    /// Decodes the escape after a backslash into `utf8`.
    private mutating func appendEscape(to utf8: inout [UInt8]) throws(RemotingError) {
        guard index < bytes.count else { throw Self.error("unterminated escape") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(letter)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"): utf8.append(contentsOf: String(try readUnicodeEscape()).utf8)
        default: throw Self.error("unknown escape \\\(Character(Unicode.Scalar(letter)))")
        }
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a surrogate pair; a lone
    /// surrogate becomes U+FFFD rather than an error, as lenient JSON readers do.
    private mutating func readUnicodeEscape() throws(RemotingError) -> Unicode.Scalar {
        let unit = try readHexQuad()
        if UTF16.isLeadSurrogate(unit), index + 6 <= bytes.count,
            bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
        {
            index += 2
            let trail = try readHexQuad()
            if UTF16.isTrailSurrogate(trail) {
                let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(trail) - 0xDC00)
                return Unicode.Scalar(value) ?? "\u{FFFD}"
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(unit) ?? "\u{FFFD}"
    }

    /// Four hex digits as a UTF-16 unit.
    private mutating func readHexQuad() throws(RemotingError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw Self.error("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexValue(bytes[index]) else { throw Self.error("bad hex digit in \\u escape") }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// The value of one hex digit, nil for other bytes.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A `.badHeader` error for a JSON syntax problem.
    private static func error(_ problem: String) -> RemotingError {
        RemotingError(.badHeader, "invalid JSON header: \(problem)")
    }
}

extension ByteBuffer {
    /// Writes `string` as a quoted JSON string, escaping quotes, backslashes and control characters
    /// (properties strings carry \u0001 and \u0002 inside `extFields`, spec §11).
    mutating func writeJSONString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            writeInteger(UInt8(ascii: "\""))
            var runStart = 0
            for (position, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart..<position])))
                writeJSONEscape(for: byte)
                runStart = position + 1
            }
            writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart...])))
            writeInteger(UInt8(ascii: "\""))
        }
    }

    /// Writes the escape sequence of one byte that JSON does not allow raw inside a string.
    private mutating func writeJSONEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): writeStaticString("\\\"")
        case UInt8(ascii: "\\"): writeStaticString("\\\\")
        case 0x0A: writeStaticString("\\n")
        case 0x0D: writeStaticString("\\r")
        case 0x09: writeStaticString("\\t")
        case 0x08: writeStaticString("\\b")
        case 0x0C: writeStaticString("\\f")
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            writeStaticString("\\u00")
            writeInteger(hexDigits.utf8Start[Int(byte >> 4)])
            writeInteger(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
    }
}
