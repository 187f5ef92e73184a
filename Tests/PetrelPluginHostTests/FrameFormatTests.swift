import PetrelCore
import PetrelPluginHost
import Testing

/// compress-zstd's `frame=compact` (the default) against `frame=standard`: compact frames drop the
/// magic number, dictionary id and content size the store's envelope already records.
@Suite struct FrameFormatTests {
    /// The zstd plugin at level 3 with `frame` set as given (nil: the default).
    func zstd(frame: String?) throws -> CompressorPlugin {
        let config = frame.map { "level=3,frame=\($0)" } ?? "level=3"
        return try PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory()))
            .compressor(.named("compress-zstd"), config: config)
    }

    /// `count` events from `seed`.
    func events(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var samples = JSONEventSamples(seed: seed)
        return (0..<count).map { _ in samples.next() }
    }

    /// The header length of a zstd frame whose Frame_Header_Descriptor is `descriptor`, preceded by
    /// `magicLength` bytes, read per RFC 8878 section 3.1.1.1: descriptor, window descriptor unless
    /// single-segment, dictionary id field, content size field. Also the lengths of the last two.
    func header(descriptor: UInt8, magicLength: Int) -> (total: Int, dictionaryId: Int, contentSize: Int) {
        let singleSegment = descriptor & 0x20 != 0
        let dictionaryId = [0, 1, 2, 4][Int(descriptor & 0x03)]
        let contentSize = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        return (magicLength + 1 + (singleSegment ? 0 : 1) + dictionaryId + contentSize, dictionaryId, contentSize)
    }

    /// With no dictionary, a raw dictionary and a prepared one: every compact frame round trips byte
    /// for byte, carries neither dictionary id nor content size, and is smaller than the standard frame
    /// of the same event by at least the header bytes it leaves out (measured from both headers).
    @Test func compactFramesAreSmallerAndRoundTrip() throws {
        let compact = try zstd(frame: nil)
        let standard = try zstd(frame: "standard")
        let dictionary = try compact.trainDictionary(samples: events(1_000, seed: 11), capacity: 16_384)
        let compactPrepared = try compact.prepareDictionary(dictionary, level: 3)
        let standardPrepared = try standard.prepareDictionary(dictionary, level: 3)
        let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        for (mode, use) in [("none", 0), ("raw dictionary", 1), ("prepared dictionary", 2)] {
            var compactTotal = 0
            var standardTotal = 0
            for event in events(200, seed: 12) {
                let small: [UInt8]
                let large: [UInt8]
                switch use {
                case 0: (small, large) = (try compact.compress(event), try standard.compress(event))
                case 1: (small, large) = (try compact.compress(event, dictionary: dictionary), try standard.compress(event, dictionary: dictionary))
                default: (small, large) = (try compact.compress(event, dictionary: compactPrepared), try standard.compress(event, dictionary: standardPrepared))
                }
                #expect(Array(large.prefix(4)) == magic && Array(small.prefix(4)) != magic, "\(mode)")
                let standardHeader = header(descriptor: large[4], magicLength: 4)
                let compactHeader = header(descriptor: small[0], magicLength: 0)
                #expect(compactHeader.dictionaryId == 0 && compactHeader.contentSize == 0, "\(mode)")
                #expect(standardHeader.contentSize > 0 && (use == 0) == (standardHeader.dictionaryId == 0), "\(mode)")
                #expect(small.count <= large.count - (standardHeader.total - compactHeader.total), "\(mode): \(small.count) vs \(large.count)")
                let restored: [UInt8]
                switch use {
                case 0: restored = try compact.decompress(small, originalSize: event.count)
                case 1: restored = try compact.decompress(small, originalSize: event.count, dictionary: dictionary)
                default: restored = try compact.decompress(small, originalSize: event.count, dictionary: compactPrepared)
                }
                #expect(restored == event, "\(mode)")
                compactTotal += small.count
                standardTotal += large.count
            }
            #expect(compactTotal < standardTotal, "\(mode): compact \(compactTotal) B vs standard \(standardTotal) B")
        }
        let event = events(1, seed: 13)[0]
        #expect(try standard.decompress(try standard.compress(event), originalSize: event.count) == event)
        // The setting chooses what is written; either instance reads both kinds (told apart by the
        // magic number), so a store outlives a change of the broker's or a consumer's setting.
        let compactFrame = try compact.compress(event)
        let standardFrame = try standard.compress(event)
        #expect(compactFrame.prefix(4) != standardFrame.prefix(4))
        #expect(try compact.decompress(standardFrame, originalSize: event.count) == event)
        #expect(try standard.decompress(compactFrame, originalSize: event.count) == event)
        let dictionaryFrame = try standard.compress(event, dictionary: dictionary)
        #expect(try compact.decompress(dictionaryFrame, originalSize: event.count, dictionary: compactPrepared) == event)
        #expect(try standard.decompress(try compact.compress(event, dictionary: compactPrepared), originalSize: event.count,
                                        dictionary: standardPrepared) == event)
    }

    /// `frame=compact` spelled out, in either order with the level, is accepted; anything else, or a
    /// setting given twice, stops init with a message naming the accepted settings.
    @Test func frameSettingParsesAndRefusesBadValues() throws {
        let host = PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory()))
        let event = events(1, seed: 14)[0]
        let defaultFrame = try host.compressor(.named("compress-zstd"), config: "").compress(event)
        for config in ["frame=compact", "frame=compact,level=3", "level=3,frame=compact"] {
            #expect(try host.compressor(.named("compress-zstd"), config: config).compress(event) == defaultFrame, "\(config)")
        }
        for config in ["frame=tiny", "level=3,level=4", "frame=compact,frame=standard", "level=3,,frame=compact", "level=99"] {
            #expect {
                try host.compressor(.named("compress-zstd"), config: config)
            } throws: { error in
                let error = error as? PluginError
                return error?.code == .initFailed && error?.message.contains("frame=compact|standard") == true
            }
        }
    }
}
