/// Bounds-checked big-endian reads from raw bytes: input may be torn or hostile, so every read
/// says `truncated` instead of running off the end.
public struct RawReader {
    /// The bytes being read.
    public var bytes: UnsafeRawBufferPointer

    /// Wraps bytes to read.
    public init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Reads a big-endian fixed-width integer at `offset`.
    @inlinable
    public func integer<T: FixedWidthInteger>(at offset: Int, as type: T.Type) throws(CoreError) -> T {
        guard offset >= 0, offset + MemoryLayout<T>.size <= bytes.count else {
            throw CoreError(.truncated, "\(MemoryLayout<T>.size)-byte field at \(offset) past \(bytes.count) bytes")
        }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Reads a big-endian int64.
    @inlinable public func int64(at offset: Int) throws(CoreError) -> Int64 { try integer(at: offset, as: Int64.self) }
    /// Reads a big-endian int32.
    @inlinable public func int32(at offset: Int) throws(CoreError) -> Int32 { try integer(at: offset, as: Int32.self) }
    /// Reads a big-endian int16.
    @inlinable public func int16(at offset: Int) throws(CoreError) -> Int16 { try integer(at: offset, as: Int16.self) }
    /// Reads one byte.
    @inlinable public func uint8(at offset: Int) throws(CoreError) -> UInt8 { try integer(at: offset, as: UInt8.self) }

    /// Reads an 8-byte IPv4 host (address + port).
    public func host(at offset: Int) throws(CoreError) -> MessageHost {
        MessageHost(address: try integer(at: offset, as: UInt32.self), port: try int32(at: offset + 4))
    }
}

/// Unchecked big-endian writes to memory the caller has sized; used where the size was computed first.
public struct RawWriter {
    /// Start of the destination.
    public var base: UnsafeMutableRawPointer

    /// Wraps a destination.
    public init(base: UnsafeMutableRawPointer) { self.base = base }

    /// Writes a big-endian fixed-width integer at `offset`.
    @inlinable
    public func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }

    /// Writes an 8-byte IPv4 host.
    public func put(_ host: MessageHost, at offset: Int) {
        put(host.address, at: offset)
        put(host.port, at: offset + 4)
    }

    /// Copies bytes to `offset`.
    public func copy(_ source: UnsafeRawBufferPointer, at offset: Int) {
        guard let sourceBase = source.baseAddress, !source.isEmpty else { return }
        (base + offset).copyMemory(from: sourceBase, byteCount: source.count)
    }
}
