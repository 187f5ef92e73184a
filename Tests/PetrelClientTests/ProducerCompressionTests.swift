import NIOCore
@testable import PetrelClient
import PetrelCore
import Testing

/// The producer's body compression: the threshold decides whether, `compressionLevel` how hard.
@Suite struct ProducerCompressionTests {
    /// A compressible body: 3 000 words from a small vocabulary in a fixed pseudo-random order.
    static let body: ByteBuffer = {
        let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
        var state: UInt32 = 12_345
        var text = ""
        for _ in 0..<3_000 {
            state = state &* 1_103_515_245 &+ 12_345
            text += words[Int(state >> 16) % words.count] + " "
        }
        return ByteBuffer(string: text)
    }()

    /// The configured level reaches the compressor: level 1 and level 9 give different, valid streams,
    /// the higher level a smaller one, both inflating to the original body.
    @Test func levelChangesTheCompressedBody() throws {
        let fast = Producer.compressedBody(Self.body, threshold: 4096, level: 1)
        let best = Producer.compressedBody(Self.body, threshold: 4096, level: 9)
        #expect(fast.isCompressed && best.isCompressed)
        #expect(fast.body != best.body)
        #expect(best.body.readableBytes < fast.body.readableBytes)
        let original = Array(Self.body.readableBytesView)
        #expect(try Inflate.zlib(Array(fast.body.readableBytesView)) == original)
        #expect(try Inflate.zlib(Array(best.body.readableBytesView)) == original)
        #expect(Producer.compressedBody(Self.body, threshold: 4096, level: 5).body == ByteBuffer(bytes: Deflate.zlib(original, level: 5)))
    }

    /// At or below the threshold, and when compression would not shrink it, the body goes as it is.
    @Test func thresholdAndIncompressibleBodies() {
        let small = Producer.compressedBody(Self.body, threshold: Self.body.readableBytes, level: 9)
        #expect(!small.isCompressed && small.body == Self.body)
        var generator = SystemRandomNumberGenerator()
        let random = ByteBuffer(bytes: (0..<8_192).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let unchanged = Producer.compressedBody(random, threshold: 4096, level: 9)
        #expect(!unchanged.isCompressed && unchanged.body == random)
    }

    /// The configuration refuses levels outside 1 ... 9.
    @Test func configurationValidatesTheLevel() throws {
        let client = ClientConfiguration(nameServerAddresses: ["127.0.0.1:9876"])
        for level in [0, 10] {
            #expect(throws: ClientError.self) {
                try ProducerConfiguration(group: "G", client: client, compressionLevel: level).validate()
            }
        }
        try ProducerConfiguration(group: "G", client: client, compressionLevel: 9).validate()
    }
}
