import NIOCore
import Synchronization

/// The language a peer says it is written in: the header's `language` field (spec §2.1).
///
/// JSON headers carry the name (`"JAVA"`), binary headers the one-byte code; both orders follow
/// RocketMQ's `LanguageCode` enum, so the raw value is the binary code.
public enum LanguageCode: UInt8, Sendable, Hashable, CaseIterable {
    /// `JAVA`, code 0: what Petrel answers with, because every client accepts it.
    case java = 0
    /// `CPP`, code 1: rocketmq-client-cpp and the Python wheel built on it.
    case cpp = 1
    /// `DOTNET`, code 2.
    case dotnet = 2
    /// `PYTHON`, code 3.
    case python = 3
    /// `DELPHI`, code 4.
    case delphi = 4
    /// `ERLANG`, code 5.
    case erlang = 5
    /// `RUBY`, code 6.
    case ruby = 6
    /// `OTHER`, code 7: also what an unknown name or code decodes to.
    case other = 7
    /// `HTTP`, code 8.
    case http = 8
    /// `GO`, code 9.
    case go = 9
    /// `PHP`, code 10.
    case php = 10
    /// `OMS`, code 11.
    case oms = 11
    /// `RUST`, code 12.
    case rust = 12

    /// The name as it travels in a JSON header.
    public var name: String {
        switch self {
        case .java: "JAVA"
        case .cpp: "CPP"
        case .dotnet: "DOTNET"
        case .python: "PYTHON"
        case .delphi: "DELPHI"
        case .erlang: "ERLANG"
        case .ruby: "RUBY"
        case .other: "OTHER"
        case .http: "HTTP"
        case .go: "GO"
        case .php: "PHP"
        case .oms: "OMS"
        case .rust: "RUST"
        }
    }

    /// The language with this JSON name; `.other` for a name RocketMQ does not define, because a peer's
    /// language is informational and must never make a request fail.
    public init(name: String) {
        self = Self.allCases.first { $0.name == name } ?? .other
    }

    /// The language with this binary code; `.other` for an unknown code.
    public init(code: UInt8) {
        self = LanguageCode(rawValue: code) ?? .other
    }
}

/// How a command's header is encoded: the top byte of the frame's second int (spec §1).
public enum SerializeType: UInt8, Sendable, Hashable {
    /// JSON text, what every client sends by default.
    case json = 0
    /// RocketMQ's binary layout (`ROCKETMQ`), opt-in on Java.
    case rocketmq = 1
}

/// One request or response of the remoting protocol: header fields plus an optional body.
public struct RemotingCommand: Sendable, Equatable, CustomStringConvertible {
    /// The `version` Petrel sends: ordinal of `V4_9_8`, the Java release it speaks like.
    public static let currentVersion: Int32 = 409
    /// Flag bit 0: set on responses.
    public static let responseFlag: Int32 = 1 << 0
    /// Flag bit 1: set on requests that expect no response.
    public static let onewayFlag: Int32 = 1 << 1

    /// Request code (for requests) or response code (for responses).
    public var code: Int32
    /// The sender's implementation language.
    public var language: LanguageCode
    /// The sender's `MQVersion.Version` ordinal.
    public var version: Int32
    /// Request id; a response carries its request's.
    public var opaque: Int32
    /// Bit 0 response, bit 1 oneway.
    public var flag: Int32
    /// Free text, usually the error message of a failed response; nil when absent.
    public var remark: String?
    /// The per-code header fields, always as text (spec §2.1).
    public var extFields: [String: String]
    /// The payload, nil when the frame has none.
    public var body: ByteBuffer?
    /// How the header is encoded on the wire; responses use their request's.
    public var serializeType: SerializeType

    /// Creates a command from all its parts.
    public init(
        code: Int32, language: LanguageCode = .java, version: Int32 = RemotingCommand.currentVersion,
        opaque: Int32, flag: Int32 = 0, remark: String? = nil, extFields: [String: String] = [:],
        body: ByteBuffer? = nil, serializeType: SerializeType = .json
    ) {
        self.code = code
        self.language = language
        self.version = version
        self.opaque = opaque
        self.flag = flag
        self.remark = remark
        self.extFields = extFields
        self.body = body
        self.serializeType = serializeType
    }

    /// True for a response (flag bit 0).
    public var isResponse: Bool { flag & Self.responseFlag != 0 }

    /// True for a request that expects no response (flag bit 1). C++ clients never set it (spec §3).
    public var isOneway: Bool { flag & Self.onewayFlag != 0 }

    /// `code` read as a request code.
    public var requestCode: RequestCode { RequestCode(rawValue: code) }

    /// `code` read as a response code.
    public var responseCode: ResponseCode { ResponseCode(rawValue: code) }

    /// A new JSON request from Petrel (language JAVA, version V4_9_8) with the next opaque.
    public static func request(
        code: RequestCode, extFields: [String: String] = [:], body: ByteBuffer? = nil
    ) -> RemotingCommand {
        RemotingCommand(code: code.rawValue, opaque: nextOpaque(), extFields: extFields, body: body)
    }

    /// The response to this request: same opaque and serialize type, flag 1, language JAVA, version
    /// V4_9_8 (the form the C++ client was observed to accept, spec §20).
    public func response(
        code: ResponseCode = .success, remark: String? = nil, extFields: [String: String] = [:],
        body: ByteBuffer? = nil
    ) -> RemotingCommand {
        RemotingCommand(
            code: code.rawValue, opaque: opaque, flag: Self.responseFlag, remark: remark,
            extFields: extFields, body: body, serializeType: serializeType)
    }

    /// The process-wide request-id counter; one counter for all connections, as the C++ client does.
    private static let opaqueCounter = Atomic<Int32>(0)

    /// The next request id. Wraps around at `Int32.max`, long after any request using the old value ended.
    public static func nextOpaque() -> Int32 {
        opaqueCounter.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// One line for logs: code, opaque, flag, sender, remark, field names and body size.
    public var description: String {
        var text = "code=\(code) opaque=\(opaque) flag=\(flag) \(language.name)/\(version)"
        if let remark, !remark.isEmpty { text += " remark=\"\(remark)\"" }
        if !extFields.isEmpty { text += " fields=[\(extFields.keys.sorted().joined(separator: ","))]" }
        if let body { text += " body=\(body.readableBytes)B" }
        return text
    }
}

/// Typed reading of `extFields`, the per-code header fields (spec §4).
///
/// Every value travels as text; these helpers parse it the way Java's header decoding does
/// (`parseInt`, `parseLong`), except that booleans also accept the `"1"`/`"0"` C++ sends (spec §8.4).
/// A missing required field throws `.missingField` naming the field, an unparsable one `.invalidField`,
/// so a broker can put the error's message straight into a SYSTEM_ERROR remark.
extension RemotingCommand {
    /// The text of a required field.
    public func string(_ key: String) throws(RemotingError) -> String {
        guard let value = extFields[key] else { throw .missingField(key) }
        return value
    }

    /// The text of an optional field, nil when absent.
    public func optionalString(_ key: String) -> String? {
        extFields[key]
    }

    /// A required 32-bit integer field.
    public func int32(_ key: String) throws(RemotingError) -> Int32 {
        try Self.parseInteger(key, try string(key), as: Int32.self, named: "a 32-bit integer")
    }

    /// An optional 32-bit integer field; nil when absent or empty.
    public func optionalInt32(_ key: String) throws(RemotingError) -> Int32? {
        guard let value = presentValue(key) else { return nil }
        return try Self.parseInteger(key, value, as: Int32.self, named: "a 32-bit integer")
    }

    /// A required 64-bit integer field.
    public func int64(_ key: String) throws(RemotingError) -> Int64 {
        try Self.parseInteger(key, try string(key), as: Int64.self, named: "a 64-bit integer")
    }

    /// An optional 64-bit integer field; nil when absent or empty.
    public func optionalInt64(_ key: String) throws(RemotingError) -> Int64? {
        guard let value = presentValue(key) else { return nil }
        return try Self.parseInteger(key, value, as: Int64.self, named: "a 64-bit integer")
    }

    /// A required boolean field: `true`/`false` in any case, or `1`/`0`.
    public func bool(_ key: String) throws(RemotingError) -> Bool {
        try Self.parseBool(key, try string(key))
    }

    /// An optional boolean field; nil when absent or empty.
    public func optionalBool(_ key: String) throws(RemotingError) -> Bool? {
        guard let value = presentValue(key) else { return nil }
        return try Self.parseBool(key, value)
    }

    /// The value of an optional field, treating the empty string as absent: clients leave optional
    /// fields empty rather than omitting them, and an empty number should not fail the request.
    private func presentValue(_ key: String) -> String? {
        guard let value = extFields[key], !value.isEmpty else { return nil }
        return value
    }

    /// `value` as an integer of type `Integer`, or `.invalidField` naming `key`.
    private static func parseInteger<Integer: FixedWidthInteger>(
        _ key: String, _ value: String, as type: Integer.Type, named typeName: String
    ) throws(RemotingError) -> Integer {
        guard let number = Integer(value, radix: 10) else {
            throw .invalidField(key, value: value, expected: typeName)
        }
        return number
    }

    /// `value` as a boolean, or `.invalidField` naming `key`.
    private static func parseBool(_ key: String, _ value: String) throws(RemotingError) -> Bool {
        switch value.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .invalidField(key, value: value, expected: "a boolean (true, false, 1 or 0)")
        }
    }
}
