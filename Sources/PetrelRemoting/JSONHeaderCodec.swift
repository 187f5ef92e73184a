import NIOCore

/// The JSON header, serializeType 0: the form every RocketMQ client sends by default (spec §2.1).
///
/// Decoding is as tolerant as real clients need:
/// * any scalar `extFields` value (string, number, boolean) becomes its text, because C++ sends
///   `queueId`, `sysFlag` … as JSON numbers; a nested object or array becomes its raw JSON text;
/// * whitespace after the object is ignored (C++'s jsoncpp ends the header with `\n`);
/// * `serializeTypeCurrentRPC` and any other unknown key is skipped;
/// * a missing or null `remark` is nil, an unknown `language` name is `.other`, a missing one `.java`
///   (Java's field default);
/// * a missing `code` or `opaque` is `.badHeader`, as is any JSON syntax error.
///
/// Encoding writes what Java's fastjson writes: keys in alphabetical order, `remark` omitted when nil,
/// `extFields` omitted when empty, every `extFields` value a JSON string (C++ response decoders ignore
/// numbers), and `"serializeTypeCurrentRPC":"JSON"`.
public enum JSONHeaderCodec {
    /// Decodes the header fields of a command from exactly the header's bytes; the result has no body
    /// and serialize type `.json`.
    public static func decode(_ header: ByteBuffer) throws(RemotingError) -> RemotingCommand {
        let result = header.withUnsafeReadableBytes { bytes in
            Result { () throws(RemotingError) -> RemotingCommand in
                var reader = JSONReader(bytes)
                return try decodeObject(&reader)
            }
        }
        return try result.get()
    }

    /// Appends the JSON header of `command` (not its body) to `buffer`.
    public static func encode(_ command: RemotingCommand, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"code\":")
        buffer.writeString(String(command.code))
        if !command.extFields.isEmpty {
            buffer.writeStaticString(",\"extFields\":{")
            // Sorted like fastjson's output, which also makes the bytes reproducible in tests.
            for (position, key) in command.extFields.keys.sorted().enumerated() {
                if position > 0 { buffer.writeStaticString(",") }
                buffer.writeJSONString(key)
                buffer.writeStaticString(":")
                buffer.writeJSONString(command.extFields[key]!)
            }
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString(",\"flag\":")
        buffer.writeString(String(command.flag))
        buffer.writeStaticString(",\"language\":")
        buffer.writeJSONString(command.language.name)
        buffer.writeStaticString(",\"opaque\":")
        buffer.writeString(String(command.opaque))
        if let remark = command.remark {
            buffer.writeStaticString(",\"remark\":")
            buffer.writeJSONString(remark)
        }
        buffer.writeStaticString(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
        buffer.writeString(String(command.version))
        buffer.writeStaticString("}")
    }

    /// Reads the header object and everything after it.
    private static func decodeObject(_ reader: inout JSONReader) throws(RemotingError) -> RemotingCommand {
        var code: Int32?
        var opaque: Int32?
        var command = RemotingCommand(code: 0, version: 0, opaque: 0)
        try reader.enterObject()
        var first = true
        while let key = try reader.nextMemberKey(first: first) {
            first = false
            switch key {
            case "code": code = try reader.readInteger(Int32.self, field: key)
            case "opaque": opaque = try reader.readInteger(Int32.self, field: key)
            case "flag": command.flag = try reader.readInteger(Int32.self, field: key) ?? 0
            case "version": command.version = try reader.readInteger(Int32.self, field: key) ?? 0
            case "language": command.language = try readLanguage(&reader)
            case "remark": command.remark = try reader.readValueText()
            case "extFields": command.extFields = try readExtFields(&reader)
            default: try reader.skipValue(depth: 0)
            }
        }
        try reader.expectEnd()
        guard let code else { throw RemotingError(.badHeader, "the JSON header has no code") }
        guard let opaque else { throw RemotingError(.badHeader, "the JSON header has no opaque") }
        command.code = code
        command.opaque = opaque
        return command
    }

    /// The `language` value: a name, or (leniently) a binary code given as a number.
    private static func readLanguage(_ reader: inout JSONReader) throws(RemotingError) -> LanguageCode {
        guard let text = try reader.readValueText() else { return .java }
        if let code = UInt8(text) { return LanguageCode(code: code) }
        return LanguageCode(name: text)
    }

    /// The `extFields` object with every value as text; `null` values are left out (Java's map would
    /// hold null, which its header decoding treats as absent).
    private static func readExtFields(_ reader: inout JSONReader) throws(RemotingError) -> [String: String] {
        guard try !reader.skipNull() else { return [:] }
        var fields: [String: String] = [:]
        try reader.enterObject()
        var first = true
        while let key = try reader.nextMemberKey(first: first) {
            first = false
            fields[key] = try reader.readValueText()
        }
        return fields
    }
}
