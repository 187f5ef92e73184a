import PetrelCore
import Testing

@Suite("Store compression: body envelope and topic settings")
struct TopicCompressionTests {
    @Test("the envelope round-trips every length class and reports its own size")
    func envelopeRoundTrip() throws {
        for (length, dictionary) in [(0, UInt32(0)), (127, 1), (128, 127), (16_383, 128), (1 << 21, 70_000), (CompressedBodyEnvelope.maximumOriginalLength, .max)] {
            let envelope = CompressedBodyEnvelope(originalLength: length, dictionaryId: dictionary)
            let bytes = envelope.bytes
            #expect(bytes.count == envelope.headerLength)
            #expect(bytes.count <= CompressedBodyEnvelope.maximumSize)
            let parsed = try CompressedBodyEnvelope(parsing: bytes + [0xAA, 0xBB])
            #expect(parsed == envelope)
            #expect(parsed.headerLength == bytes.count)
        }
    }

    @Test("the envelope of a typical small body costs three bytes; the longest is eleven")
    func envelopeSizes() {
        #expect(CompressedBodyEnvelope(originalLength: 600, dictionaryId: 3).bytes == [1, 0xD8, 0x04, 3])
        #expect(CompressedBodyEnvelope(originalLength: 100, dictionaryId: 0).headerLength == 3)
        let varintMaximum = 1 + 5 + 5
        #expect(CompressedBodyEnvelope.maximumSize == varintMaximum)
    }

    @Test("damaged envelopes are refused with a reason, never trusted")
    func damagedEnvelopes() {
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [UInt8]()) } == .truncated)
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [2, 1, 0]) } == .malformedCompressedData)
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [1, 0x80]) } == .truncated)
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [1, 5]) } == .truncated)
        // Six continuation bytes: longer than any 32-bit varint.
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0]) } == .malformedCompressedData)
        // 0xFFFFFFFF original bytes: above the cap.
        #expect(coreErrorCode { _ = try CompressedBodyEnvelope(parsing: [1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0]) } == .malformedCompressedData)
    }

    @Test("topic attributes override the broker's defaults one by one")
    func settingsFromAttributes() throws {
        let defaults = TopicCompressionSettings(codec: .none, level: 3, minimumBodySize: 64, usesDictionary: true)
        #expect(try TopicCompressionSettings(attributes: [:], defaults: defaults) == defaults)
        let settings = try TopicCompressionSettings(attributes: [
            "compression.type": "ZSTD", "compression.level": "9", "compression.min.body.size": "0",
            "compression.dictionary": "false", "message.type": "NORMAL",
        ], defaults: defaults)
        #expect(settings == TopicCompressionSettings(codec: .zstd, level: 9, minimumBodySize: 0, usesDictionary: false))
        #expect(settings.isEnabled)
    }

    @Test("a bad attribute value is refused naming the attribute")
    func badAttributes() {
        let defaults = TopicCompressionSettings()
        for (key, value) in [("compression.type", "lz5"), ("compression.level", "23"), ("compression.level", "x"),
                             ("compression.min.body.size", "-1"), ("compression.dictionary", "yes")] {
            do {
                _ = try TopicCompressionSettings(attributes: [key: value], defaults: defaults)
                Issue.record("\(key)=\(value) was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(key))
            }
        }
    }

    @Test("topic attributes survive the JSON round trip and stay absent when empty")
    func attributesJSON() throws {
        var config = TopicConfig(topicName: "Events")
        guard case .object(let members) = config.json else { Issue.record("not an object"); return }
        #expect(members["attributes"] == nil)
        config.attributes = ["compression.type": "zstd"]
        let decoded = try TopicConfig(json: config.json)
        #expect(decoded.attributes == ["compression.type": "zstd"])
        #expect(decoded == config)
    }
}
