/// A small recursive-descent JSON reader that accepts what RocketMQ's clients, brokers and name
/// servers actually send, which is not always standard JSON.
///
/// Accepted beyond RFC 8259:
/// * object keys that are bare tokens — fastjson writes integer map keys unquoted, e.g.
///   `{"brokerAddrs":{0:"127.0.0.1:10911"}}` (spec §6.1); a bare key is any run of ASCII letters,
///   digits, `_`, `$`, `.`, `+`, `-` and is read as that text;
/// * raw control characters inside strings (fastjson tolerates them);
/// * invalid UTF-8 and lone `\u` surrogates, which become U+FFFD instead of failing the whole body.
///
/// Whitespace (including the `\n` the C++ client appends, spec §1) may surround the value; anything
/// else after it is an error. Nesting is limited to `maximumDepth` so a hostile body cannot exhaust
/// the stack. Every failure is a `CoreError(.malformedJSON)` naming the byte offset.
public enum JSONParser {
    /// Deepest nesting of arrays and objects accepted. RocketMQ bodies nest at most five deep.
    public static let maximumDepth = 128

    /// Parses one JSON value from UTF-8 `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(CoreError) -> JSONValue {
        var cursor = Cursor(bytes: bytes)
        cursor.skipWhitespace()
        let value = try cursor.readValue(depth: 0)
        cursor.skipWhitespace()
        guard cursor.index == bytes.count else { throw cursor.error("unexpected text after the JSON value") }
        return value
    }

    /// The read position within one JSON text.
    private struct Cursor {
        /// The whole text.
        let bytes: [UInt8]
        /// The next byte to read.
        var index = 0

        /// A malformed-JSON error at the current position.
        func error(_ what: String) -> CoreError {
            CoreError(.malformedJSON, "\(what) at byte \(index) of \(bytes.count)")
        }

        /// The byte at the current position, nil at the end.
        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        /// Skips spaces, tabs, carriage returns and line feeds.
        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// Reads any value starting at the current (non-whitespace) position.
        mutating func readValue(depth: Int) throws(CoreError) -> JSONValue {
            guard let byte = current else { throw error("unexpected end of text, expected a value") }
            switch byte {
            case UInt8(ascii: "{"): return try readObject(depth: depth + 1)
            case UInt8(ascii: "["): return try readArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try readString())
            case UInt8(ascii: "t"): return try readKeyword("true", .bool(true))
            case UInt8(ascii: "f"): return try readKeyword("false", .bool(false))
            case UInt8(ascii: "n"): return try readKeyword("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
            default: throw error("unexpected character '\(Unicode.Scalar(byte))'")
            }
        }

        /// Reads `true`, `false` or `null`.
        mutating func readKeyword(_ word: StaticString, _ value: JSONValue) throws(CoreError) -> JSONValue {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw error("unexpected end of text in a keyword") }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            guard bytes[index..<(index + count)].elementsEqual(expected) else { throw error("unknown keyword") }
            index += count
            return value
        }

        /// Reads a number and checks it against JSON's grammar.
        mutating func readNumber() throws(CoreError) -> JSONNumber {
            let start = index
            while let byte = current, Self.isNumberCharacter(byte) { index += 1 }
            let literal = Array(bytes[start..<index])
            guard JSONNumber.isValidLiteral(literal) else { throw error("malformed number") }
            return JSONNumber(checkedLiteral: String(decoding: literal, as: UTF8.self))
        }

        /// Characters that can appear in a number literal.
        static func isNumberCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                return true
            default: return false
            }
        }

        /// Characters of an unquoted object key (fastjson's integer keys, and identifiers for good measure).
        static func isBareKeyCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"),
                UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"):
                return true
            default: return false
            }
        }

        /// Reads an array; the cursor is on `[`.
        mutating func readArray(depth: Int) throws(CoreError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try readValue(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                default: throw error("expected ',' or ']' in an array")
                }
            }
        }

        /// Reads an object; the cursor is on `{`.
        mutating func readObject(depth: Int) throws(CoreError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
            index += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                let key = try readKey()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
                index += 1
                skipWhitespace()
                members[key] = try readValue(depth: depth)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(members)
                default: throw error("expected ',' or '}' in an object")
                }
            }
        }

        /// Reads an object key: a quoted string, or a bare token such as fastjson's `0`.
        mutating func readKey() throws(CoreError) -> String {
            if current == UInt8(ascii: "\"") { return try readString() }
            let start = index
            while let byte = current, Self.isBareKeyCharacter(byte) { index += 1 }
            guard index > start else { throw error("expected an object key") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// Reads a quoted string; the cursor is on the opening `"`.
        mutating func readString() throws(CoreError) -> String {
            index += 1
            var utf8: [UInt8] = []
            while true {
                guard let byte = current else { throw error("unterminated string") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"): try readEscape(into: &utf8)
                default: utf8.append(byte)
                }
            }
        }

        /// Reads the escape after a backslash and appends its UTF-8 to `utf8`.
        mutating func readEscape(into utf8: inout [UInt8]) throws(CoreError) {
            guard let byte = current else { throw error("unterminated escape") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try readUnicodeEscape()
                utf8.append(contentsOf: String(Character(scalar)).utf8)
            default: throw error("unknown escape '\\\(Unicode.Scalar(byte))'")
            }
        }

        /// Reads the four hex digits after `\u` (and a following low surrogate when the first is a high
        /// one); an unpaired surrogate becomes U+FFFD.
        mutating func readUnicodeEscape() throws(CoreError) -> Unicode.Scalar {
            let first = try readHexQuad()
            guard (0xD800...0xDBFF).contains(first) else {
                return Unicode.Scalar(first) ?? "\u{FFFD}"
            }
            let save = index
            if current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
                index += 2
                let second = try readHexQuad()
                if (0xDC00...0xDFFF).contains(second) {
                    let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    return Unicode.Scalar(combined) ?? "\u{FFFD}"
                }
                // Not a low surrogate: leave it to be read as its own escape.
                index = save
            }
            return "\u{FFFD}"
        }

        /// Reads exactly four hex digits.
        mutating func readHexQuad() throws(CoreError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Self.hexValue(bytes[index]) else { throw error("bad hex digit in \\u escape") }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// The value of one hex digit, nil for anything else.
        static func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
    }
}
