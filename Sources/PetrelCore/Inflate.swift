/// Decompression of zlib (RFC 1950) and raw deflate (RFC 1951) streams.
///
/// A Java broker registers with `compressed=true` when `compressedRegister` is on, deflating the
/// body with `java.util.zip.Deflater` (zlib framing, spec §6.4). Foundation on Linux offers no zlib
/// API and the project takes no C dependency for this, so this is a small canonical-Huffman
/// decoder in the manner of zlib's `puff.c`: simple rather than fast, which suits a body that
/// arrives every 30 seconds per broker.
public enum Inflate {
    /// Output beyond this many bytes is refused, so a tiny "zip bomb" cannot exhaust memory.
    public static let defaultMaximumOutputSize = 64 << 20

    /// Decompresses a zlib stream when `input` starts with a valid zlib header, else a raw deflate stream.
    public static func decompress(_ input: [UInt8], maximumOutputSize: Int = defaultMaximumOutputSize) throws(CoreError) -> [UInt8] {
        if hasZlibHeader(input) { return try zlib(input, maximumOutputSize: maximumOutputSize) }
        return try raw(input, maximumOutputSize: maximumOutputSize)
    }

    /// True when the first two bytes are a zlib header: method 8 (deflate), window ≤ 32 KiB, check bits valid.
    public static func hasZlibHeader(_ input: [UInt8]) -> Bool {
        guard input.count >= 2 else { return false }
        let method = input[0] & 0x0F, windowBits = input[0] >> 4
        return method == 8 && windowBits <= 7 && (UInt16(input[0]) << 8 | UInt16(input[1])) % 31 == 0
    }

    /// Decompresses a zlib stream: header, deflate data, Adler-32 of the output (checked).
    public static func zlib(_ input: [UInt8], maximumOutputSize: Int = defaultMaximumOutputSize) throws(CoreError) -> [UInt8] {
        guard hasZlibHeader(input) else { throw failure("not a zlib header") }
        guard input[1] & 0x20 == 0 else { throw failure("zlib preset dictionaries are not supported") }
        var state = InflateState(input: input, start: 2, maximumOutputSize: maximumOutputSize)
        try state.inflate()
        let trailer = state.bits.bytePosition
        guard trailer + 4 <= input.count else { throw failure("zlib stream ends before its Adler-32") }
        let expected = input[trailer..<(trailer + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard adler32(state.output) == expected else { throw failure("zlib Adler-32 mismatch") }
        return state.output
    }

    /// Decompresses a raw deflate stream (no header or trailer).
    public static func raw(_ input: [UInt8], maximumOutputSize: Int = defaultMaximumOutputSize) throws(CoreError) -> [UInt8] {
        var state = InflateState(input: input, start: 0, maximumOutputSize: maximumOutputSize)
        try state.inflate()
        return state.output
    }

    /// The Adler-32 checksum zlib appends (RFC 1950 §9).
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var low: UInt32 = 1, high: UInt32 = 0
        // 5552 is the most bytes that can be summed before `high` could overflow 32 bits.
        var index = 0
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            for byte in bytes[index..<end] {
                low += UInt32(byte)
                high += low
            }
            low %= 65521
            high %= 65521
            index = end
        }
        return high << 16 | low
    }

    /// A malformed-compressed-data error.
    static func failure(_ what: String) -> CoreError {
        CoreError(.malformedCompressedData, what)
    }
}

/// Reads bits least-significant first, as deflate packs them.
struct DeflateBitReader {
    /// The compressed bytes.
    let input: [UInt8]
    /// The next byte not yet loaded into `buffer`.
    private(set) var bytePosition: Int
    /// Loaded bits not yet consumed, lowest first.
    private var buffer: UInt32 = 0
    /// How many bits of `buffer` are valid.
    private var count = 0

    /// A reader starting at byte `start`.
    init(input: [UInt8], start: Int) {
        self.input = input
        bytePosition = start
    }

    /// The next `width` (≤ 16) bits as an integer.
    mutating func read(_ width: Int) throws(CoreError) -> Int {
        while count < width {
            guard bytePosition < input.count else { throw Inflate.failure("compressed stream is truncated") }
            buffer |= UInt32(input[bytePosition]) << count
            bytePosition += 1
            count += 8
        }
        let value = Int(buffer & ((1 << width) - 1))
        buffer >>= width
        count -= width
        return value
    }

    /// Drops the bits left in the current byte (stored blocks and the zlib trailer are byte-aligned).
    /// Whole bytes never stay buffered: `read` loads only what it needs, so fewer than 8 bits remain.
    mutating func alignToByte() {
        buffer = 0
        count = 0
    }
}

/// A canonical Huffman code: how many codes each length has, and the symbols in code order.
struct HuffmanCode {
    /// Longest code length deflate allows.
    static let maximumLength = 15
    /// `counts[length]` = number of codes of that length.
    private(set) var counts = [Int](repeating: 0, count: maximumLength + 1)
    /// Symbols ordered by code.
    private(set) var symbols: [Int]

    /// Builds the code from per-symbol lengths (0 = unused). An over-subscribed set of lengths is an
    /// error; an incomplete one is accepted (zlib does the same for single-code distance trees) and
    /// only fails if the stream uses a missing code.
    init(lengths: [Int]) throws(CoreError) {
        for length in lengths { counts[length] += 1 }
        var left = 1
        for length in 1...Self.maximumLength {
            left = left << 1 - counts[length]
            guard left >= 0 else { throw Inflate.failure("over-subscribed Huffman code") }
        }
        var offsets = [Int](repeating: 0, count: Self.maximumLength + 2)
        for length in 1...Self.maximumLength { offsets[length + 1] = offsets[length] + counts[length] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length != 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
    }

    /// Decodes one symbol, one bit at a time (codes are stored bit-reversed, so this walks them in order).
    func decode(_ bits: inout DeflateBitReader) throws(CoreError) -> Int {
        var code = 0, first = 0, index = 0
        for length in 1...Self.maximumLength {
            code |= try bits.read(1)
            let count = counts[length]
            if code - first < count { return symbols[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw Inflate.failure("invalid Huffman code")
    }
}

/// One decompression in progress.
struct InflateState {
    /// Length-code base lengths, for symbols 257…285.
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    /// Extra bits after each length code.
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// Distance-code base distances, for symbols 0…29.
    static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    /// Extra bits after each distance code.
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// The order code-length code lengths are sent in (RFC 1951 §3.2.7).
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// The compressed input.
    var bits: DeflateBitReader
    /// Everything decompressed so far (also the back-reference window).
    var output: [UInt8] = []
    /// Refuse to grow `output` beyond this.
    let maximumOutputSize: Int

    /// A state reading `input` from byte `start`.
    init(input: [UInt8], start: Int, maximumOutputSize: Int) {
        bits = DeflateBitReader(input: input, start: start)
        self.maximumOutputSize = maximumOutputSize
    }

    /// Decompresses blocks until the one marked final.
    mutating func inflate() throws(CoreError) {
        var isFinal = false
        while !isFinal {
            isFinal = try bits.read(1) == 1
            switch try bits.read(2) {
            case 0: try storedBlock()
            case 1: try codedBlock(literals: Self.fixedCodes.literals, distances: Self.fixedCodes.distances)
            case 2:
                let codes = try readDynamicCodes()
                try codedBlock(literals: codes.literals, distances: codes.distances)
            default: throw Inflate.failure("invalid deflate block type 3")
            }
        }
        bits.alignToByte()
    }

    /// Copies a stored (uncompressed) block.
    mutating func storedBlock() throws(CoreError) {
        bits.alignToByte()
        let length = try bits.read(16), complement = try bits.read(16)
        guard length == ~complement & 0xFFFF else { throw Inflate.failure("stored block length check failed") }
        let start = bits.bytePosition
        guard start + length <= bits.input.count else { throw Inflate.failure("stored block is truncated") }
        try reserve(length)
        output.append(contentsOf: bits.input[start..<(start + length)])
        bits = DeflateBitReader(input: bits.input, start: start + length)
    }

    /// Fails when `count` more output bytes would exceed the limit.
    func reserve(_ count: Int) throws(CoreError) {
        guard output.count + count <= maximumOutputSize else {
            throw Inflate.failure("decompressed data exceeds \(maximumOutputSize) bytes")
        }
    }

    /// The fixed codes of block type 1 (RFC 1951 §3.2.6).
    static let fixedCodes: (literals: HuffmanCode, distances: HuffmanCode) = {
        var lengths = [Int](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        // Both length sets are complete, so construction cannot fail.
        let literals = try! HuffmanCode(lengths: lengths)
        let distances = try! HuffmanCode(lengths: [Int](repeating: 5, count: 30))
        return (literals, distances)
    }()

    /// Reads the code descriptions at the start of a dynamic block (RFC 1951 §3.2.7).
    mutating func readDynamicCodes() throws(CoreError) -> (literals: HuffmanCode, distances: HuffmanCode) {
        let literalCount = try bits.read(5) + 257, distanceCount = try bits.read(5) + 1, codeLengthCount = try bits.read(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw Inflate.failure("too many codes in a dynamic block") }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[Self.codeLengthOrder[index]] = try bits.read(3) }
        let codeLengthCode = try HuffmanCode(lengths: codeLengthLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&bits)
            switch symbol {
            case 0...15: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw Inflate.failure("length repeat with no previous length") }
                lengths.append(contentsOf: repeatElement(previous, count: 3 + (try bits.read(2))))
            case 17: lengths.append(contentsOf: repeatElement(0, count: 3 + (try bits.read(3))))
            default: lengths.append(contentsOf: repeatElement(0, count: 11 + (try bits.read(7))))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw Inflate.failure("code lengths overrun the table") }
        guard lengths[256] != 0 else { throw Inflate.failure("dynamic block has no end-of-block code") }
        let literals = try HuffmanCode(lengths: Array(lengths[0..<literalCount]))
        let distances = try HuffmanCode(lengths: Array(lengths[literalCount...]))
        return (literals, distances)
    }

    /// Decodes literals and back-references until the end-of-block symbol.
    mutating func codedBlock(literals: HuffmanCode, distances: HuffmanCode) throws(CoreError) {
        while true {
            let symbol = try literals.decode(&bits)
            if symbol < 256 {
                try reserve(1)
                output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < Self.lengthBase.count else { throw Inflate.failure("invalid length symbol \(symbol)") }
            let length = Self.lengthBase[lengthIndex] + (try bits.read(Self.lengthExtra[lengthIndex]))
            let distanceIndex = try distances.decode(&bits)
            guard distanceIndex < Self.distanceBase.count else { throw Inflate.failure("invalid distance symbol \(distanceIndex)") }
            let distance = Self.distanceBase[distanceIndex] + (try bits.read(Self.distanceExtra[distanceIndex]))
            guard distance <= output.count else { throw Inflate.failure("back-reference before the start of the data") }
            try reserve(length)
            // Byte by byte: a reference may overlap the bytes it produces (distance < length).
            let start = output.count - distance
            for offset in 0..<length { output.append(output[start + offset]) }
        }
    }
}
