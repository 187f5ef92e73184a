import PetrelCore
import Testing

/// `count` damaged copies of `text`: truncations, flipped/replaced/inserted/deleted bytes and
/// swapped structural characters, reproducible from `seed`.
func damagedCopies(of text: String, count: Int, seed: UInt64) -> [[UInt8]] {
    var generator = SeededGenerator(seed: seed)
    let original = Array(text.utf8)
    let structural = Array("{}[]:,\"\\ 0-e.tnf".utf8)
    var copies: [[UInt8]] = []
    for _ in 0..<count {
        var bytes = original
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            guard !bytes.isEmpty else { break }
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: bytes.removeSubrange(position...)
            case 1: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            case 2: bytes[position] = structural.randomElement(using: &generator)!
            case 3: bytes.insert(structural.randomElement(using: &generator)!, at: position)
            case 4: bytes.remove(at: position)
            default: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            }
        }
        copies.append(bytes)
    }
    return copies
}

/// Feeds damaged copies of `text` to `decode`: each must decode or throw a JSON CoreError, and every
/// strict truncation (which cannot be a complete JSON value) must throw `malformedJSON`.
/// Returns how many copies failed.
func expectDamageIsSafe(_ text: String, count: Int, seed: UInt64, decode: ([UInt8]) throws(CoreError) -> Void) -> Int {
    var failures = 0
    for bytes in damagedCopies(of: text, count: count, seed: seed) {
        do {
            try decode(bytes)
        } catch {
            failures += 1
            #expect(error.code == .malformedJSON || error.code == .invalidJSONField)
        }
    }
    var trimmed = Array(text.utf8)
    while let last = trimmed.last, last == 0x0A || last == 0x20 { trimmed.removeLast() }
    for length in stride(from: 0, to: trimmed.count, by: max(1, trimmed.count / 40)) {
        let code = coreErrorCode { try decode(Array(trimmed.prefix(length))) }
        #expect(code == .malformedJSON, "prefix of \(length) bytes")
    }
    return failures
}

extension RouteJSONTests {
    @Suite("Tolerant JSON reader and standard writer")
    struct Parser {
        @Test("whitespace, a trailing newline and bare keys are accepted")
        func tolerance() throws {
            #expect(try JSONValue.parse(" \t{\"a\" :1 }\r\n\n") == .object(["a": .integer(1)]))
            #expect(try JSONValue.parse("{0:\"x\",-1:\"y\",key_2:true}") == .object(["0": .string("x"), "-1": .string("y"), "key_2": .bool(true)]))
            #expect(try JSONValue.parse("[]") == .array([]))
            #expect(try JSONValue.parse("null") == .null)
            #expect(try JSONValue.parse("{\"a\":1,\"a\":2}") == .object(["a": .integer(2)]))
            #expect(try JSONValue.parse("\"raw\ttab\"") == .string("raw\ttab"))
        }

        @Test("escapes, surrogate pairs and unpaired surrogates")
        func escapes() throws {
            #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé"))
            #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
            #expect(try JSONValue.parse(#""\ud83dx""#) == .string("\u{FFFD}x"))
            #expect(try JSONValue.parse(#""\ude00\u0041""#) == .string("\u{FFFD}A"))
            #expect(try JSONValue.parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
            for bad in [#""\x""#, #""\u12""#, #""\u12g4""#, "\"abc", "\"\\"] {
                #expect(coreErrorCode { _ = try JSONValue.parse(bad) } == .malformedJSON, "\(bad)")
            }
        }

        @Test("numbers follow JSON's grammar; 64-bit integers stay exact")
        func numbers() throws {
            #expect(try JSONValue.parse("9223372036854775807") == .integer(Int64.max))
            #expect(try JSONValue.parse("-9223372036854775808") == .integer(Int64.min))
            guard case .number(let big) = try JSONValue.parse("123456789012345678901234567890") else {
                Issue.record("not a number")
                return
            }
            #expect(big.text == "123456789012345678901234567890")
            #expect(big.int64 == nil)
            #expect(JSONNumber(literal: "1e3")?.int64 == 1000)
            #expect(JSONNumber(literal: "2.5")?.int64 == nil)
            #expect(JSONNumber(literal: "2.5")?.double == 2.5)
            for bad in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "--1", "1.2.3", "0x10"] {
                #expect(coreErrorCode { _ = try JSONValue.parse(bad) } == .malformedJSON, "\(bad)")
                #expect(JSONNumber(literal: bad) == nil, "\(bad)")
            }
            #expect(JSONNumber(Double.nan) == nil)
            #expect(JSONNumber(1.5)?.text == "1.5")
        }

        @Test("trailing text, bad keywords and nesting beyond the limit fail cleanly")
        func failures() {
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            let cases = ["", " ", "{} {}", "{}x", "tru", "nul", "True", "{\"a\"}", "{\"a\":}", "{,}", "[1,]", "[1 2]", "{:1}", "'a'", deep]
            for text in cases {
                #expect(coreErrorCode { _ = try JSONValue.parse(text) } == .malformedJSON, "\(text.prefix(20))")
            }
            let limit = JSONParser.maximumDepth
            let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
            #expect(coreErrorCode { _ = try JSONValue.parse(atLimit) } == nil)
        }

        @Test("the writer escapes what JSON requires and sorts keys")
        func writer() throws {
            let value = JSONValue.object([
                "b": .array([.null, .bool(false), .integer(-3)]),
                "a": .string("q\"\\\n\u{1}é/"),
            ])
            #expect(value.serializedString == #"{"a":"q\"\\\n\u0001é/","b":[null,false,-3]}"#)
            #expect(try JSONValue.parse(value.serialized()) == value)
        }

        @Test("random values survive write → read")
        func randomRoundTrips() throws {
            var generator = SeededGenerator(seed: 7)
            for _ in 0..<300 {
                let value = Self.randomValue(depth: 0, using: &generator)
                #expect(try JSONValue.parse(value.serialized()) == value)
            }
        }

        /// A random JSON value at most four levels deep.
        static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
            let kind = Int.random(in: 0..<(depth >= 4 ? 4 : 6), using: &generator)
            switch kind {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &generator))
            case 3:
                let scalars = (0..<Int.random(in: 0..<8, using: &generator)).map { _ in
                    Unicode.Scalar(UInt32.random(in: 0..<0xD800, using: &generator)) ?? "?"
                }
                return .string(String(String.UnicodeScalarView(scalars)))
            case 4:
                return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
            default:
                var members: [String: JSONValue] = [:]
                for index in 0..<Int.random(in: 0..<4, using: &generator) {
                    members["k\(index)"] = randomValue(depth: depth + 1, using: &generator)
                }
                return .object(members)
            }
        }

        @Test("2,000 damaged route, cluster-info and registration bodies fail with a CoreError or decode")
        func damagedRouteBodies() {
            var failures = expectDamageIsSafe(specRouteJSON, count: 800, seed: 1) { bytes throws(CoreError) in
                _ = try TopicRouteData(jsonBytes: bytes)
            }
            failures += expectDamageIsSafe(specClusterInfoJSON, count: 600, seed: 2) { bytes throws(CoreError) in
                _ = try ClusterInfo(jsonBytes: bytes)
            }
            let registration = RegisterBrokerBody(
                topicConfigTable: ["T": TopicConfig(topicName: "T", readQueueNums: 4, writeQueueNums: 4)],
                dataVersion: DataVersion(counter: 1, timestamp: 2)
            ).jsonText
            failures += expectDamageIsSafe(registration, count: 600, seed: 3) { bytes throws(CoreError) in
                _ = try RegisterBrokerBody(jsonBytes: bytes)
            }
            // Most damage must be noticed; a few copies (a changed digit, a deleted space) stay valid.
            #expect(failures > 1_000)
        }
    }
}
