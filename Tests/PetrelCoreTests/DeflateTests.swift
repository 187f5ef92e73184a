import Foundation
import PetrelCore
import Testing

/// `Deflate` output is read back by `Inflate` and by Python's zlib (the reference implementation).
@Suite struct DeflateTests {
    /// Inputs that exercise literals, long and overlapping matches, far distances and stored blocks.
    static let samples: [(name: String, bytes: [UInt8])] = {
        var generator = SystemRandomNumberGenerator()
        let text = Array(String(repeating: "RocketMQ message body with repeated words, ", count: 300).utf8)
        let run = [UInt8](repeating: 0x41, count: 100_000)
        let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var farRepeat = (0..<40_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        farRepeat += farRepeat[0..<30_000]
        let mixed = (0..<70_000).map { index in UInt8(truncatingIfNeeded: index % 251 == 0 ? index / 7 : index % 13) }
        return [
            ("empty", []), ("one byte", [7]), ("two bytes", [1, 2]), ("text", text), ("run", run),
            ("random", random), ("far repeat", farRepeat), ("mixed", mixed),
        ]
    }()

    /// Every sample round-trips through `Inflate.zlib`, and compressible ones shrink.
    @Test func roundTripsThroughInflate() throws {
        for sample in Self.samples {
            let compressed = Deflate.zlib(sample.bytes)
            #expect(try Inflate.zlib(compressed) == sample.bytes, "sample \(sample.name)")
            #expect(Inflate.hasZlibHeader(compressed))
        }
        let text = Self.samples.first { $0.name == "text" }!.bytes
        #expect(Deflate.zlib(text).count < text.count / 10)
        let random = Self.samples.first { $0.name == "random" }!.bytes
        #expect(Deflate.zlib(random).count <= random.count + 6 + 5 * 4, "incompressible input grows by block headers only")
    }

    /// Python's zlib decompresses every sample to the original bytes.
    @Test(.enabled(if: DeflateTests.pythonAvailable, "python3 is not installed"))
    func pythonZlibReadsTheOutput() throws {
        for sample in Self.samples {
            let decoded = try Self.pythonDecompress(Deflate.zlib(sample.bytes))
            #expect(decoded == sample.bytes, "sample \(sample.name)")
        }
    }

    /// Whether `python3` can be run.
    static let pythonAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")

    /// `zlib.decompress` of `data` by a python3 child.
    static func pythonDecompress(_ data: [UInt8]) throws -> [UInt8] {
        let directory = NSTemporaryDirectory() + "petrel-deflate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in", output = directory + "/out"
        try Data(data).write(to: URL(fileURLWithPath: input))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c", "import sys, zlib; open(sys.argv[2], 'wb').write(zlib.decompress(open(sys.argv[1], 'rb').read()))",
            input, output,
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }
}
