import NIOCore

/// The binary header, serializeType 1 (`ROCKETMQ`, spec §2.2). Java uses it only when configured;
/// Petrel decodes it and answers a binary request in kind. All integers big-endian.
///
/// ```
///  0            2            3            5                 9                 13                17
///  +------------+------------+------------+-----------------+-----------------+-----------------+
///  | code int16 | language   | version    | opaque int32    | flag int32      | remarkLength    |
///  |            | int8       | int16      |                 |                 | int32 (0 = nil) |
///  +------------+------------+------------+-----------------+-----------------+-----------------+
///  | remark: remarkLength bytes UTF-8     | extLength int32 | ext entries: extLength bytes       |
///  +--------------------------------------+-----------------+------------------------------------+
///
///  one ext entry:
///  +-----------------+---------------------+-------------------+-------------------------------+
///  | keyLength int16 | key UTF-8           | valueLength int32 | value UTF-8                   |
///  +-----------------+---------------------+-------------------+-------------------------------+
///  fixed part = 21 bytes; each entry = 6 + key bytes + value bytes
/// ```
///
/// A zero-length remark decodes as nil and a zero-length value as an absent field, as Java reads them.
public enum BinaryHeaderCodec {
    /// Bytes of a header with no remark and no ext fields.
    public static let fixedSize = 21

    /// Decodes the header fields of a command from exactly the header's bytes; the result has no body
    /// and serialize type `.rocketmq`.
    public static func decode(_ header: ByteBuffer) throws(RemotingError) -> RemotingCommand {
        var header = header
        guard let code = header.readInteger(as: Int16.self),
            let language = header.readInteger(as: UInt8.self),
            let version = header.readInteger(as: Int16.self),
            let opaque = header.readInteger(as: Int32.self),
            let flag = header.readInteger(as: Int32.self)
        else { throw truncated("fixed fields") }
        let remark = try readText(&header, length: try readLength(&header, of: "remark"), of: "remark")
        let extLength = try readLength(&header, of: "ext fields")
        guard var entries = header.readSlice(length: extLength) else { throw truncated("ext fields") }
        var extFields: [String: String] = [:]
        // Capped: the count comes from the peer's bytes, and a frame of tiny or duplicate entries
        // would otherwise reserve far more memory than its own size for fields that are never kept.
        extFields.reserveCapacity(min(entryCount(entries), Self.reservedEntriesLimit))
        while entries.readableBytes > 0 {
            guard let keyLength = entries.readInteger(as: Int16.self), keyLength >= 0 else {
                throw RemotingError(.badHeader, "binary header: bad ext key length")
            }
            let key = try readText(&entries, length: Int(keyLength), of: "ext key")
            let value = try readText(&entries, length: try readLength(&entries, of: "ext value"), of: "ext value")
            if let key, let value { extFields[key] = value }
        }
        return RemotingCommand(
            code: Int32(code), language: LanguageCode(code: language), version: Int32(version),
            opaque: opaque, flag: flag, remark: remark, extFields: extFields, serializeType: .rocketmq)
    }

    /// Appends the binary header of `command` (not its body) to `buffer`; fails when the code, version
    /// or an ext key does not fit its int16 field.
    public static func encode(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws(RemotingError) {
        guard let code = Int16(exactly: command.code) else { throw doesNotFit("code \(command.code)") }
        guard let version = Int16(exactly: command.version) else { throw doesNotFit("version \(command.version)") }
        buffer.writeInteger(code)
        buffer.writeInteger(command.language.rawValue)
        buffer.writeInteger(version)
        buffer.writeInteger(command.opaque)
        buffer.writeInteger(command.flag)
        let remark = command.remark ?? ""
        buffer.writeInteger(Int32(remark.utf8.count))
        buffer.writeString(remark)
        let extLengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        for (key, value) in command.extFields {
            guard let keyLength = Int16(exactly: key.utf8.count) else { throw doesNotFit("ext key \(key.prefix(40))…") }
            buffer.writeInteger(keyLength)
            buffer.writeString(key)
            buffer.writeInteger(Int32(value.utf8.count))
            buffer.writeString(value)
        }
        buffer.setInteger(Int32(buffer.writerIndex - extLengthIndex - 4), at: extLengthIndex)
    }

    /// The exact size `encode` will write for `command`.
    public static func encodedSize(of command: RemotingCommand) -> Int {
        command.extFields.reduce(fixedSize + (command.remark?.utf8.count ?? 0)) { size, entry in
            size + 6 + entry.key.utf8.count + entry.value.utf8.count
        }
    }

    /// How many ext entries `entries` holds, counted from their length fields alone, so the dictionary
    /// is allocated once at its final size instead of growing through several rehashes (a send
    /// request has 12). Stops at the first bad length; `decode` then reports it.
    private static func entryCount(_ entries: ByteBuffer) -> Int {
        var count = 0
        var index = entries.readerIndex
        let end = entries.writerIndex
        while index + 2 <= end, let keyLength = entries.getInteger(at: index, as: Int16.self), keyLength >= 0 {
            index += 2 + Int(keyLength)
            guard index + 4 <= end, let valueLength = entries.getInteger(at: index, as: Int32.self), valueLength >= 0 else { break }
            index += 4 + Int(valueLength)
            count += 1
        }
        return count
    }

    /// The most ext entries `decode` reserves room for up front (a send request has 12 or 13); more
    /// grow the dictionary as they are inserted.
    static let reservedEntriesLimit = 64

    /// An int32 length that must be non-negative.
    private static func readLength(_ buffer: inout ByteBuffer, of field: String) throws(RemotingError) -> Int {
        guard let length = buffer.readInteger(as: Int32.self) else { throw truncated(field) }
        guard length >= 0 else { throw RemotingError(.badHeader, "binary header: negative \(field) length \(length)") }
        return Int(length)
    }

    /// `length` bytes as UTF-8 text, nil when `length` is 0.
    private static func readText(_ buffer: inout ByteBuffer, length: Int, of field: String) throws(RemotingError) -> String? {
        guard length > 0 else { return nil }
        guard let text = buffer.readString(length: length) else { throw truncated(field) }
        return text
    }

    /// The error for a header shorter than its own length fields say.
    private static func truncated(_ field: String) -> RemotingError {
        RemotingError(.badHeader, "binary header truncated in \(field)")
    }

    /// The error for a value too large for its binary field.
    private static func doesNotFit(_ what: String) -> RemotingError {
        RemotingError(.encodeFailed, "\(what) does not fit the binary header")
    }
}
