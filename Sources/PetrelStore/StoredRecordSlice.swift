import NIOCore
import PetrelCore

/// A stored record's bytes, exactly as they sit in the commit log, ready to be sent without
/// re-encoding. The slice keeps its segment mapped, so it stays valid even if retention removes the
/// file meanwhile.
public struct StoredRecordSlice: Sendable {
    /// The segment holding the bytes.
    let file: MappedFile
    /// Start within the segment.
    let position: Int
    /// Number of bytes.
    public let count: Int
    /// Commit-log offset of the first byte.
    public let commitLogOffset: CommitLogOffset

    /// Calls `body` with the bytes; they must not escape it.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(file.bytes(from: position, to: position + count))
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// True when the record is in Petrel's compact layout, which clients cannot read.
    public var isCompact: Bool { withUnsafeBytes { StoredMessageCodec.isCompact($0) } }

    /// Appends the record to a ByteBuffer as a v1 record, what clients read: a v1 record with one
    /// copy straight from the mapping, a compact one decoded and re-encoded.
    public func write(into buffer: inout ByteBuffer) throws(CoreError) {
        if isCompact {
            try StoredMessageCodec.encode(decode(), into: &buffer)
            return
        }
        withUnsafeBytes { _ = buffer.writeBytes($0) }
    }

    /// Decodes the record (verifying its body checksum, or a compact record's CHECK).
    public func decode() throws(CoreError) -> StoredMessage {
        return try StoredMessageCodec.decode(file.bytes(from: position, to: position + count), at: commitLogOffset.rawValue)
    }
}
