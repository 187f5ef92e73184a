import PetrelCore
import Testing

/// Deflate's levels: every level is valid zlib, the header names the level, and higher levels find
/// more matches where there are more to find.
@Suite struct DeflateLevelTests {
    /// Text-like data with many near-repeats: 10 000 words drawn from a small vocabulary by a fixed
    /// linear congruential generator (deterministic, so the sizes compared below are too).
    static let wordSoup: [UInt8] = {
        let words = ["broker", "queue", "offset", "message", "topic", "consumer", "producer", "commit", "log",
                     "index", "tag", "key", "retry", "delay", "order", "batch", "flush", "store", "route", "group"]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var text = ""
        for _ in 0..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += words[Int(state >> 33) % words.count] + (state & 0x100 == 0 ? " " : ", ")
        }
        return Array(text.utf8)
    }()

    /// Every level round-trips through Inflate (and so is valid zlib), and levels outside 0 ... 9
    /// behave as the nearest one.
    @Test(arguments: 0...9) func everyLevelRoundTrips(level: Int) throws {
        for sample in DeflateTests.samples + [("word soup", Self.wordSoup)] {
            let compressed = Deflate.zlib(sample.bytes, level: level)
            #expect(try Inflate.zlib(compressed) == sample.bytes, "sample \(sample.name) at level \(level)")
            #expect(Inflate.hasZlibHeader(compressed))
        }
    }

    /// The header's FLEVEL field (bits 6-7 of the second byte) follows zlib's grouping of levels,
    /// and the header stays a multiple of 31.
    @Test func headerNamesTheLevel() {
        let expected: [Int: UInt8] = [0: 0, 1: 0, 2: 1, 5: 1, 6: 2, 7: 3, 9: 3]
        for (level, flevel) in expected {
            let header = Deflate.zlib([1, 2, 3], level: level).prefix(2)
            #expect(header.first == 0x78 && header.last.map { $0 >> 6 } == flevel, "level \(level)")
            #expect((Int(header.first!) * 256 + Int(header.last!)) % 31 == 0)
        }
        #expect(Deflate.zlib(Self.wordSoup, level: 42) == Deflate.zlib(Self.wordSoup, level: 9))
        #expect(Deflate.raw(Self.wordSoup, level: -3) == Deflate.raw(Self.wordSoup, level: 0))
    }

    /// Level 0 stores; higher levels are smaller on data with matches to find, and the best level is
    /// clearly smaller than the fastest.
    @Test func higherLevelsCompressMore() {
        let sizes = (0...9).map { Deflate.zlib(Self.wordSoup, level: $0).count }
        let blocks = (Self.wordSoup.count + 65_534) / 65_535
        #expect(sizes[0] == Self.wordSoup.count + 5 * blocks + 6, "level 0 is stored blocks")
        #expect(sizes[1] < sizes[0])
        #expect(sizes[6] < sizes[1] && sizes[9] <= sizes[6], "sizes by level: \(sizes)")
        #expect(Double(sizes[9]) < Double(sizes[1]) * 0.95, "sizes by level: \(sizes)")
        // Without matches to find there is nothing to gain: a run compresses alike at 1 and 9.
        let run = [UInt8](repeating: 0x41, count: 50_000)
        #expect(Deflate.zlib(run, level: 1).count == Deflate.zlib(run, level: 9).count)
    }

    /// Python's zlib reads the fastest and the best level.
    @Test(.enabled(if: DeflateTests.pythonAvailable, "python3 is not installed"))
    func pythonZlibReadsEveryLevel() throws {
        for level in [1, 4, 9] {
            #expect(try DeflateTests.pythonDecompress(Deflate.zlib(Self.wordSoup, level: level)) == Self.wordSoup)
        }
    }
}
