import NIOCore

/// A value with a JSON form in RocketMQ bodies: route data, heartbeats, registrations and the like.
///
/// Decoding is tolerant in the ways the spec requires (§6, §7): numbers may arrive as strings and
/// strings as numbers, enums as names or ordinals, unknown members are ignored, and missing optional
/// members take the Java defaults. Encoding is standard JSON with Java's member names.
public protocol JSONConvertible {
    /// Decodes a parsed JSON value; throws `CoreError(.invalidJSONField)` when it has the wrong shape.
    init(json: JSONValue) throws(CoreError)
    /// The JSON form.
    var json: JSONValue { get }
}

extension JSONConvertible {
    /// Parses and decodes UTF-8 JSON text.
    public init(jsonBytes: some Collection<UInt8>) throws(CoreError) {
        try self.init(json: JSONValue.parse(jsonBytes))
    }

    /// Parses and decodes the readable bytes of `jsonBuffer` (not consumed).
    public init(jsonBuffer: ByteBuffer) throws(CoreError) {
        try self.init(json: JSONValue.parse(jsonBuffer))
    }

    /// Parses and decodes JSON text.
    public init(jsonText: String) throws(CoreError) {
        try self.init(json: JSONValue.parse(jsonText))
    }

    /// Standard compact JSON, UTF-8.
    public func jsonBytes() -> [UInt8] { json.serialized() }

    /// Standard compact JSON in a buffer, ready to be a remoting body.
    public func jsonBuffer() -> ByteBuffer { ByteBuffer(bytes: json.serialized()) }

    /// Standard compact JSON text.
    public var jsonText: String { json.serializedString }
}

/// An enum that Java writes by name and C++ by ordinal (spec §7): decoding accepts either.
public protocol JSONEnumeration: CaseIterable, RawRepresentable, Sendable where RawValue == Int32 {
    /// The Java enum constant's name, which is also what Petrel writes.
    var javaName: String { get }
}

extension JSONEnumeration {
    /// The case for a Java name or an ordinal (as a number or a numeric string); nil when neither matches.
    public init?(json: JSONValue) {
        if let text = json.scalarText, let match = Self.allCases.first(where: { $0.javaName == text }) {
            self = match
            return
        }
        guard let ordinal = json.lenientInt64, let narrow = Int32(exactly: ordinal), let match = Self(rawValue: narrow) else {
            return nil
        }
        self = match
    }

    /// The JSON form: the Java name.
    public var json: JSONValue { .string(javaName) }
}

extension JSONValue {
    /// The text of a string, number or boolean (numbers as their literal, booleans as `true`/`false`),
    /// nil for null, arrays and objects. Java renders header numbers with `toString()`; this is the inverse.
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .number(let number): return number.text
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// An integer from a number or a numeric string (C++ writes `subVersion` as a string, spec §7).
    public var lenientInt64: Int64? {
        switch self {
        case .number(let number): return number.int64
        case .string(let text):
            let trimmed = text.trimmingASCIIWhitespace()
            return Int64(trimmed) ?? JSONNumber(literal: trimmed)?.int64
        case .null, .bool, .array, .object: return nil
        }
    }

    /// A boolean from `true`/`false`, the strings `"true"`/`"false"` (any case), or `0`/`1` as a number
    /// or string (C++ sends `"0"`/`"1"` for booleans, spec §2.1).
    public var lenientBool: Bool? {
        switch self {
        case .bool(let flag): return flag
        case .number(let number): return number.int64.map { $0 != 0 }
        case .string(let text):
            switch text.trimmingASCIIWhitespace().lowercased() {
            case "true", "1": return true
            case "false", "0", "": return false
            default: return nil
            }
        case .null, .array, .object: return nil
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, carriage returns and line feeds.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

/// Typed, tolerant access to the members of one JSON object, with errors that name the member.
///
/// Every accessor returns nil when the member is missing or `null` (so the caller applies the Java
/// default), and throws `CoreError(.invalidJSONField)` when it is present with a type that cannot
/// be converted.
public struct JSONObjectReader {
    /// The object's members.
    public let members: [String: JSONValue]
    /// What is being decoded, for error messages (e.g. `QueueData`).
    public let context: String

    /// A reader over `value`, which must be an object.
    public init(_ value: JSONValue, context: String) throws(CoreError) {
        guard case .object(let members) = value else {
            throw CoreError(.invalidJSONField, "\(context): expected a JSON object")
        }
        self.members = members
        self.context = context
    }

    /// A reader over already-extracted members (a nested object whose keys are data, not field names).
    public init(members: [String: JSONValue], context: String) {
        self.members = members
        self.context = context
    }

    /// The member's value, nil when missing or null.
    public func value(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    /// The error for a member of the wrong type.
    public func typeError(_ key: String, expected: String) -> CoreError {
        CoreError(.invalidJSONField, "\(context).\(key): expected \(expected)")
    }

    /// A string member; numbers and booleans are converted to their text.
    public func string(_ key: String) throws(CoreError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.scalarText else { throw typeError(key, expected: "a string") }
        return text
    }

    /// A string member that must be present.
    public func requiredString(_ key: String) throws(CoreError) -> String {
        guard let text = try string(key) else {
            throw CoreError(.invalidJSONField, "\(context).\(key): missing")
        }
        return text
    }

    /// A 64-bit integer member, from a number or a numeric string.
    public func int64(_ key: String) throws(CoreError) -> Int64? {
        guard let value = value(key) else { return nil }
        guard let number = value.lenientInt64 else { throw typeError(key, expected: "an integer") }
        return number
    }

    /// A 32-bit integer member, from a number or a numeric string.
    public func int32(_ key: String) throws(CoreError) -> Int32? {
        guard let wide = try int64(key) else { return nil }
        guard let narrow = Int32(exactly: wide) else { throw typeError(key, expected: "a 32-bit integer") }
        return narrow
    }

    /// A boolean member (see `JSONValue.lenientBool`).
    public func bool(_ key: String) throws(CoreError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.lenientBool else { throw typeError(key, expected: "a boolean") }
        return flag
    }

    /// An array member.
    public func array(_ key: String) throws(CoreError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw typeError(key, expected: "an array") }
        return elements
    }

    /// An object member.
    public func object(_ key: String) throws(CoreError) -> [String: JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else { throw typeError(key, expected: "an object") }
        return members
    }

    /// An array of strings (numbers converted to text; null elements skipped).
    public func stringArray(_ key: String) throws(CoreError) -> [String]? {
        guard let elements = try array(key) else { return nil }
        var strings: [String] = []
        for element in elements where element != .null {
            guard let text = element.scalarText else { throw typeError(key, expected: "an array of strings") }
            strings.append(text)
        }
        return strings
    }

    /// An object whose values are strings (numbers converted to text; null values skipped).
    public func stringMap(_ key: String) throws(CoreError) -> [String: String]? {
        guard let object = try object(key) else { return nil }
        var map: [String: String] = [:]
        for (name, element) in object where element != .null {
            guard let text = element.scalarText else { throw typeError(key, expected: "an object of strings") }
            map[name] = text
        }
        return map
    }

    /// A nested value decoded as `T`.
    public func decode<T: JSONConvertible>(_ key: String, as type: T.Type) throws(CoreError) -> T? {
        guard let value = value(key) else { return nil }
        return try T(json: value)
    }

    /// An array of values decoded as `T` (null elements skipped).
    public func decodeArray<T: JSONConvertible>(_ key: String, of type: T.Type) throws(CoreError) -> [T]? {
        guard let elements = try array(key) else { return nil }
        var decoded: [T] = []
        for element in elements where element != .null {
            decoded.append(try T(json: element))
        }
        return decoded
    }

    /// An enum member given by Java name or ordinal.
    public func enumeration<E: JSONEnumeration>(_ key: String, as type: E.Type) throws(CoreError) -> E? {
        guard let value = value(key) else { return nil }
        guard let decoded = E(json: value) else {
            let names = E.allCases.map(\.javaName).joined(separator: ", ")
            throw typeError(key, expected: "one of \(names) or its ordinal")
        }
        return decoded
    }
}
