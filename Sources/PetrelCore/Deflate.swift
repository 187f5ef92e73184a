/// Compression into zlib (RFC 1950) streams: the format RocketMQ's COMPRESSED sysFlag means for
/// message bodies (Java `UtilAll.compress`, C++ `zlib::compress`), readable by every zlib.
///
/// A small compressor, in the same spirit as `Inflate`: LZ77 matching over a 32 KiB window with hash
/// chains, then one block of fixed Huffman codes (RFC 1951 §3.2.6). When that would not be smaller than
/// the input (random or already compressed data), the data goes into stored blocks instead, so the
/// output never grows by more than 5 bytes per 64 KiB plus 6.
///
/// Levels 0 ... 9 (zlib's scale) trade speed for size as zlib's do, through the match search only:
/// how many hash-chain candidates are tried per position, the match length that ends the search early,
/// and (from level 4) lazy matching, which emits a literal when the next position starts a longer
/// match. Level 0 stores. The Huffman codes are always the fixed ones (no dynamic trees at any level),
/// so the best level here compresses less than zlib's; the zlib header's FLEVEL field names the level.
public enum Deflate {
    /// Longest match deflate can express.
    static let maximumMatch = 258
    /// Shortest match worth a length/distance pair.
    static let minimumMatch = 3
    /// The window: farthest back a match may start.
    static let windowSize = 32_768
    /// Largest stored block (its length field is 16 bits).
    static let maximumStoredBlock = 65_535
    /// zlib's default level, used when none is given.
    public static let defaultLevel = 6

    /// How hard one level searches for matches.
    struct Search: Sendable {
        /// Hash-chain candidates tried per position; more finds longer matches, slower.
        var chainSteps: Int
        /// A match at least this long ends the search (and skips the lazy look-ahead).
        var niceLength: Int
        /// Whether to look one position ahead for a longer match before taking one.
        var lazy: Bool
    }

    /// The search of `level` (clamped to 1 ... 9; level 0 does not search).
    static func search(level: Int) -> Search {
        switch min(max(level, 1), 9) {
        case 1: Search(chainSteps: 4, niceLength: 8, lazy: false)
        case 2: Search(chainSteps: 8, niceLength: 16, lazy: false)
        case 3: Search(chainSteps: 32, niceLength: 32, lazy: false)
        case 4: Search(chainSteps: 32, niceLength: 64, lazy: true)
        case 5: Search(chainSteps: 64, niceLength: 128, lazy: true)
        case 6: Search(chainSteps: 128, niceLength: 128, lazy: true)
        case 7: Search(chainSteps: 256, niceLength: maximumMatch, lazy: true)
        case 8: Search(chainSteps: 1024, niceLength: maximumMatch, lazy: true)
        default: Search(chainSteps: 4096, niceLength: maximumMatch, lazy: true)
        }
    }

    /// The zlib header's second byte for `level`: FLEVEL 0 (fastest, levels 0-1), 1 (2-5), 2 (6),
    /// 3 (7-9), with FCHECK making the header a multiple of 31 (RFC 1950 §2.2).
    static func headerFlags(level: Int) -> UInt8 {
        switch level {
        case ...1: 0x01
        case 2...5: 0x5E
        case 6: 0x9C
        default: 0xDA
        }
    }

    /// `input` as a zlib stream at `level` (0 ... 9, clamped): header, deflate data, Adler-32 big-endian.
    public static func zlib(_ input: [UInt8], level: Int = defaultLevel) -> [UInt8] {
        var output: [UInt8] = [0x78, headerFlags(level: level)]
        output += raw(input, level: level)
        let checksum = Inflate.adler32(input)
        output += [UInt8(checksum >> 24), UInt8(truncatingIfNeeded: checksum >> 16), UInt8(truncatingIfNeeded: checksum >> 8), UInt8(truncatingIfNeeded: checksum)]
        return output
    }

    /// `input` as raw deflate data (no header or trailer) at `level`; level 0 or less only stores.
    public static func raw(_ input: [UInt8], level: Int = defaultLevel) -> [UInt8] {
        guard level > 0 else { return storedBlocks(input) }
        let compressed = fixedHuffmanBlock(input, search: search(level: level))
        let storedSize = input.count + 5 * max(1, (input.count + maximumStoredBlock - 1) / maximumStoredBlock)
        return compressed.count <= storedSize ? compressed : storedBlocks(input)
    }

    /// `input` in stored blocks (BTYPE 00): length, its complement, the bytes.
    static func storedBlocks(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 5 * (input.count / maximumStoredBlock + 1))
        var start = 0
        repeat {
            let end = min(start + maximumStoredBlock, input.count)
            let length = UInt16(end - start)
            output.append(end == input.count ? 1 : 0)  // BFINAL bit, BTYPE 00, padding to the byte
            output += [UInt8(truncatingIfNeeded: length), UInt8(length >> 8), UInt8(truncatingIfNeeded: ~length), UInt8(~length >> 8)]
            output += input[start..<end]
            start = end
        } while start < input.count
        return output
    }

    /// One final block with fixed Huffman codes over the LZ77 matches `search` finds.
    static func fixedHuffmanBlock(_ input: [UInt8], search: Search) -> [UInt8] {
        var writer = DeflateBitWriter()
        writer.write(1, bits: 1)  // BFINAL
        writer.write(1, bits: 2)  // BTYPE 01: fixed Huffman
        input.withUnsafeBufferPointer { bytes in
            var matcher = LZ77Matcher(count: bytes.count)
            // Positions below `inserted` are in the hash chains; a search at p needs p itself absent.
            var inserted = 0
            var position = 0
            while position < bytes.count {
                let match = matcher.longestMatch(bytes, at: position, search: search)
                if match.length >= minimumMatch, search.lazy, match.length < search.niceLength, position + 1 < bytes.count {
                    while inserted <= position { matcher.insert(bytes, at: inserted); inserted += 1 }
                    // A longer match one byte later is worth a literal now (the next round takes it).
                    if matcher.longestMatch(bytes, at: position + 1, search: search).length > match.length {
                        writer.writeLiteral(Int(bytes[position]))
                        position += 1
                        continue
                    }
                }
                if match.length >= minimumMatch {
                    writer.writeLength(match.length)
                    writer.writeDistance(match.distance)
                    position += match.length
                } else {
                    writer.writeLiteral(Int(bytes[position]))
                    position += 1
                }
                while inserted < position { matcher.insert(bytes, at: inserted); inserted += 1 }
            }
        }
        writer.writeLiteral(256)  // end of block
        return writer.finish()
    }
}

/// Finds earlier occurrences of the bytes at a position through hash chains of 3-byte prefixes.
struct LZ77Matcher {
    /// Bits of the prefix hash.
    static let hashBits = 15
    /// Most recent position of each hash, -1 for none.
    private var head: [Int32]
    /// Previous position with the same hash, by position modulo the window.
    private var previous: [Int32]

    /// A matcher for an input of `count` bytes.
    init(count: Int) {
        head = [Int32](repeating: -1, count: 1 << Self.hashBits)
        previous = [Int32](repeating: -1, count: Deflate.windowSize)
    }

    /// The hash of the 3 bytes at `position` (which must have 3 bytes left).
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ position: Int) -> Int {
        let value = Int(bytes[position]) << 10 ^ Int(bytes[position + 1]) << 5 ^ Int(bytes[position + 2])
        return value & ((1 << hashBits) - 1)
    }

    /// Records `position` as the newest occurrence of its prefix.
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) {
        guard position + Deflate.minimumMatch <= bytes.count else { return }
        let key = Self.hash(bytes, position)
        previous[position & (Deflate.windowSize - 1)] = head[key]
        head[key] = Int32(position)
    }

    /// The longest earlier match of the bytes at `position` within the window that `search` finds
    /// (it stops after its chain steps, or at its nice length); length 0 when none.
    func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int, search: Deflate.Search) -> (length: Int, distance: Int) {
        guard position + Deflate.minimumMatch <= bytes.count else { return (0, 0) }
        let limit = min(Deflate.maximumMatch, bytes.count - position)
        let enough = min(search.niceLength, limit)
        var best = (length: 0, distance: 0)
        var candidate = Int(head[Self.hash(bytes, position)])
        var steps = 0
        while candidate >= 0, position - candidate <= Deflate.windowSize, steps < search.chainSteps {
            if bytes[candidate + best.length] == bytes[position + best.length] {
                var length = 0
                while length < limit && bytes[candidate + length] == bytes[position + length] { length += 1 }
                if length > best.length {
                    best = (length, position - candidate)
                    if length >= enough { break }
                }
            }
            let next = Int(previous[candidate & (Deflate.windowSize - 1)])
            // A slot overwritten by a newer position would point forward; the chain ends there.
            if next >= candidate { break }
            candidate = next
            steps += 1
        }
        return best
    }
}

/// Writes deflate's bit stream: fields least-significant bit first, Huffman codes most-significant first.
struct DeflateBitWriter {
    /// Base lengths of length codes 257…285.
    static let lengthBases: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    /// Extra bits of length codes 257…285.
    static let lengthExtraBits: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// Base distances of distance codes 0…29.
    static let distanceBases: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    /// Extra bits of distance codes 0…29.
    static let distanceExtraBits: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Finished bytes.
    private var bytes: [UInt8] = []
    /// Bits not yet forming a whole byte, low bits first.
    private var pending: UInt64 = 0
    /// How many bits `pending` holds.
    private var pendingCount = 0

    /// Appends the low `bits` bits of `value`, least-significant first.
    mutating func write(_ value: Int, bits: Int) {
        pending |= UInt64(value & ((1 << bits) - 1)) << UInt64(pendingCount)
        pendingCount += bits
        while pendingCount >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: pending))
            pending >>= 8
            pendingCount -= 8
        }
    }

    /// Appends a Huffman `code` of `length` bits, most-significant bit first.
    mutating func writeCode(_ code: Int, length: Int) {
        var reversed = 0
        for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
        write(reversed, bits: length)
    }

    /// Appends a literal/length symbol 0…287 in its fixed code (RFC 1951 §3.2.6).
    mutating func writeLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(0x30 + symbol, length: 8)
        case 144...255: writeCode(0x190 + symbol - 144, length: 9)
        case 256...279: writeCode(symbol - 256, length: 7)
        default: writeCode(0xC0 + symbol - 280, length: 8)
        }
    }

    /// Appends a match length 3…258: its symbol, then the extra bits.
    mutating func writeLength(_ length: Int) {
        var code = Self.lengthBases.count - 1
        while Self.lengthBases[code] > length { code -= 1 }
        writeLiteral(257 + code)
        write(length - Self.lengthBases[code], bits: Self.lengthExtraBits[code])
    }

    /// Appends a match distance 1…32768: its 5-bit code, then the extra bits.
    mutating func writeDistance(_ distance: Int) {
        var code = Self.distanceBases.count - 1
        while Self.distanceBases[code] > distance { code -= 1 }
        writeCode(code, length: 5)
        write(distance - Self.distanceBases[code], bits: Self.distanceExtraBits[code])
    }

    /// The bytes, the last one padded with zero bits.
    mutating func finish() -> [UInt8] {
        if pendingCount > 0 { bytes.append(UInt8(truncatingIfNeeded: pending)) }
        pending = 0
        pendingCount = 0
        return bytes
    }
}
