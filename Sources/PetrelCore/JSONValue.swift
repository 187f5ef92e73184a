import NIOCore

/// A JSON value, as the RocketMQ bodies (route data, heartbeats, registrations …) carry them.
///
/// Petrel reads these bodies with its own parser (`JSONParser`) rather than `JSONSerialization`
/// because the senders do not all write standard JSON: Java's fastjson writes integer map keys
/// unquoted (`{0:"127.0.0.1:10911"}`) and C++ ends its bodies with `\n`. Writing goes through
/// `serialized()`, which always produces standard JSON.
///
/// Objects are dictionaries: member order is not kept, and the writer emits members sorted by key,
/// which is also what fastjson does, so Petrel's output matches a Java name server's byte for byte.
public enum JSONValue: Hashable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept as its literal text so 64-bit integers never pass through a `Double`.
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; a later duplicate key replaces the earlier one, as in fastjson and jsoncpp.
    case object([String: JSONValue])

    /// An integer number.
    public static func integer(_ value: some BinaryInteger) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// An array of strings.
    public static func strings(_ values: some Sequence<String>) -> JSONValue {
        .array(values.map { .string($0) })
    }

    /// Parses `bytes` (UTF-8) tolerantly; see `JSONParser` for what is tolerated.
    public static func parse(_ bytes: some Collection<UInt8>) throws(CoreError) -> JSONValue {
        try JSONParser.parse(Array(bytes))
    }

    /// Parses the readable bytes of `buffer` without consuming them.
    public static func parse(_ buffer: ByteBuffer) throws(CoreError) -> JSONValue {
        try JSONParser.parse(buffer.readableBytesView.map { $0 })
    }

    /// Parses a string.
    public static func parse(_ text: String) throws(CoreError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    /// Standard, compact JSON (no spaces, keys sorted and quoted), as UTF-8 bytes.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        JSONWriter.write(self, into: &output)
        return output
    }

    /// Standard, compact JSON as a string.
    public var serializedString: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// The literal text of a JSON number: always valid JSON number syntax, so it can be written verbatim.
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The literal as written, e.g. `-12`, `3.5e2`.
    public let text: String

    /// The number written in decimal.
    public init(_ value: some BinaryInteger) {
        text = String(value)
    }

    /// The number written as Swift prints doubles; nil for NaN and infinities, which JSON cannot express.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        text = String(value)
    }

    /// The literal if it is valid JSON number syntax (`-?int frac? exp?`), else nil.
    public init?(literal: String) {
        guard JSONNumber.isValidLiteral(Array(literal.utf8)) else { return nil }
        text = literal
    }

    /// A literal the parser has already checked.
    init(checkedLiteral: String) {
        text = checkedLiteral
    }

    /// The value as a 64-bit integer when the literal is an integer in range (`12`, `-3`, also `12.0`
    /// and `1e3`, which Java's `Long.parseLong` would refuse but a lenient reader accepts).
    public var int64: Int64? {
        if let exact = Int64(text) { return exact }
        guard let double = Double(text), double.rounded() == double,
            double >= -9.223_372_036_854_775_808e18, double < 9.223_372_036_854_775_808e18
        else { return nil }
        return Int64(double)
    }

    /// The value as a double (possibly rounded).
    public var double: Double? { Double(text) }

    /// The literal text.
    public var description: String { text }

    /// True when `bytes` match JSON's number grammar exactly.
    static func isValidLiteral(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { return false }
        // JSON forbids leading zeros: `0` alone, or a non-zero first digit.
        if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }
}

/// Writes standard JSON: compact, object keys sorted and quoted, strings escaped minimally.
enum JSONWriter {
    /// Appends the JSON text of `value` to `output`.
    static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: number.text.utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // Sorted by UTF-8 bytes: the same order as Java's String.compareTo for the ASCII keys
            // RocketMQ uses, and independent of dictionary iteration order.
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(members[key]!, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a quoted JSON string. Non-ASCII is written as raw UTF-8 (as fastjson does);
    /// only `"`, `\` and control characters are escaped, which is all JSON requires.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        let hexDigits = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
