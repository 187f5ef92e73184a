/// The few bytes the broker puts in front of a body it compressed in the store (sysFlag
/// `compressed` with type zstd), so that whoever decompresses knows the exact original size
/// (the compressor ABI takes it) and which dictionary the frame needs:
///
/// ```
/// +---------+--------------------------+--------------------------+---------------------------+
/// | version | original length          | dictionary id            | codec frame (zstd …)      |
/// | 1 byte  | LEB128 varint, 1–5 bytes | LEB128 varint, 1–5 bytes | the rest of the body      |
/// | = 1     | ≤ maximumOriginalLength  | 0 = no dictionary        |                           |
/// +---------+--------------------------+--------------------------+---------------------------+
/// ```
///
/// Dictionary ids are unique per broker (not per topic), so a compressed body may move between
/// topics (retry, schedule, timer, dead-letter) unchanged. Only Petrel's own client, which
/// declares it can decompress, ever receives an enveloped body; every other client is served the
/// plain body. A body of a few hundred bytes pays 3–5 bytes for the envelope.
public struct CompressedBodyEnvelope: Hashable, Sendable {
    /// The only version written so far.
    public static let currentVersion: UInt8 = 1
    /// The largest original length accepted when parsing: a forged length must not make a reader
    /// allocate gigabytes (RocketMQ's own message size limit is far below this).
    public static let maximumOriginalLength = 256 * 1024 * 1024
    /// The longest envelope: version + two 5-byte varints.
    public static let maximumSize = 11

    /// The body's length before compression.
    public var originalLength: Int
    /// The dictionary the frame was compressed with; 0 for none.
    public var dictionaryId: UInt32
    /// How many bytes the envelope takes at the front of the body (set by parsing; computed for new ones).
    public var headerLength: Int { 1 + LEB128.length(UInt64(originalLength)) + LEB128.length(UInt64(dictionaryId)) }

    /// An envelope for a body of `originalLength` bytes compressed with `dictionaryId` (0: none).
    public init(originalLength: Int, dictionaryId: UInt32) {
        precondition((0...Self.maximumOriginalLength).contains(originalLength), "original length \(originalLength) out of range")
        self.originalLength = originalLength
        self.dictionaryId = dictionaryId
    }

    /// Parses the envelope at the start of `body`; the frame starts `headerLength` bytes in.
    public init(parsing body: UnsafeRawBufferPointer) throws(CoreError) {
        guard let version = body.first else { throw CoreError(.truncated, "compressed body is empty") }
        guard version == Self.currentVersion else {
            throw CoreError(.malformedCompressedData, "compressed body envelope version \(version) is not \(Self.currentVersion)")
        }
        var cursor = 1
        let length = try Self.readVarint(body, &cursor, "original length")
        let dictionary = try Self.readVarint(body, &cursor, "dictionary id")
        guard length <= Self.maximumOriginalLength else {
            throw CoreError(.malformedCompressedData, "compressed body claims \(length) original bytes, above \(Self.maximumOriginalLength)")
        }
        self.init(originalLength: Int(length), dictionaryId: dictionary)
    }

    /// Parses the envelope at the start of `body`.
    public init(parsing body: [UInt8]) throws(CoreError) {
        let result: Result<Self, CoreError> = body.withUnsafeBytes { bytes in
            do throws(CoreError) { return .success(try Self(parsing: bytes)) } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// The envelope's bytes, to be followed by the codec frame.
    public var bytes: [UInt8] {
        var output: [UInt8] = [Self.currentVersion]
        output.reserveCapacity(headerLength)
        LEB128.append(UInt64(originalLength), to: &output)
        LEB128.append(UInt64(dictionaryId), to: &output)
        return output
    }

    /// Reads a LEB128 varint of at most five bytes (`LEB128.read32`) at `cursor`, advancing it; a
    /// varint cut off by the end is `.truncated`, a longer or wider one is malformed data.
    static func readVarint(_ body: UnsafeRawBufferPointer, _ cursor: inout Int, _ field: String) throws(CoreError) -> UInt32 {
        do {
            return try LEB128.read32(body, &cursor, "envelope varint")
        } catch where error.code == .truncated {
            throw CoreError(.truncated, "compressed body envelope ends inside its \(field)")
        } catch {
            throw CoreError(.malformedCompressedData, "compressed body envelope's \(field) is not a varint of at most 32 bits")
        }
    }
}
