/// Varied JSON events of 200–1,000 bytes for the dictionary tests: user activity, orders and
/// telemetry with ids, timestamps, nested objects, arrays and optional fields, from a seeded
/// generator so every run sees the same events.
struct JSONEventSamples {
    /// A small deterministic generator (SplitMix64).
    struct Generator {
        /// The state.
        var state: UInt64

        /// The next 64 random bits.
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }

        /// A number in `range`.
        mutating func number(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }

        /// One of `choices`.
        mutating func pick(_ choices: [String]) -> String { choices[number(0...(choices.count - 1))] }

        /// `count` lowercase hex digits.
        mutating func hex(_ count: Int) -> String {
            String((0..<count).map { _ in Array("0123456789abcdef")[number(0...15)] })
        }
    }

    /// The generator.
    var generator: Generator

    /// Samples seeded with `seed`.
    init(seed: UInt64) { generator = Generator(state: seed) }

    /// The next event, 200–1,000 bytes of UTF-8 JSON (events outside that range are skipped).
    mutating func next() -> [UInt8] {
        while true {
            let bytes = Array(event().utf8)
            if (200...1_000).contains(bytes.count) { return bytes }
        }
    }

    /// One event of a random kind.
    mutating func event() -> String {
        let timestamp = "2026-\(pad(generator.number(1...12)))-\(pad(generator.number(1...28)))T\(pad(generator.number(0...23))):"
            + "\(pad(generator.number(0...59))):\(pad(generator.number(0...59))).\(generator.number(100...999))Z"
        let common = "\"id\":\"\(generator.hex(8))-\(generator.hex(4))-\(generator.hex(12))\",\"timestamp\":\"\(timestamp)\""
        switch generator.number(0...2) {
        case 0:
            let pages = (0..<generator.number(0...4)).map { _ in "\"/\(generator.pick(["home", "cart", "search", "product", "help"]))/\(generator.number(1...9999))\"" }
            let referrer = generator.number(0...1) == 0 ? ",\"referrer\":\"https://\(generator.pick(["example.com", "news.example.org", "mail.example.net"]))/\"" : ""
            return "{\"type\":\"user.activity\",\(common),\"user\":{\"id\":\(generator.number(1...5_000_000)),\"locale\":\""
                + "\(generator.pick(["en-US", "de-DE", "fr-FR", "ja-JP"]))\",\"plan\":\"\(generator.pick(["free", "pro", "team"]))\"},"
                + "\"action\":\"\(generator.pick(["login", "view", "click", "logout", "share"]))\",\"pages\":[\(pages.joined(separator: ","))]\(referrer)}"
        case 1:
            let items = (0..<generator.number(1...6)).map { _ in
                "{\"sku\":\"SKU-\(generator.number(10_000...99_999))\",\"quantity\":\(generator.number(1...5)),\"price\":\(generator.number(100...99_999)),"
                    + "\"currency\":\"\(generator.pick(["EUR", "USD", "JPY"]))\"}"
            }
            let coupon = generator.number(0...2) == 0 ? ",\"coupon\":\"\(generator.pick(["WELCOME10", "SPRING", "VIP"]))\"" : ""
            return "{\"type\":\"order.created\",\(common),\"orderId\":\(generator.number(1...99_999_999)),\"customer\":{\"id\":"
                + "\(generator.number(1...900_000)),\"country\":\"\(generator.pick(["DE", "FR", "US", "JP", "BR"]))\"},\"items\":["
                + "\(items.joined(separator: ","))],\"status\":\"\(generator.pick(["pending", "paid"]))\"\(coupon)}"
        default:
            let readings = (0..<generator.number(1...8)).map { _ in "\(generator.number(-400...1200)).\(generator.number(0...9))" }
            return "{\"type\":\"telemetry\",\(common),\"device\":{\"id\":\"dev-\(generator.hex(6))\",\"firmware\":\"\(generator.number(1...4)).\(generator.number(0...20))\","
                + "\"site\":\"\(generator.pick(["north", "south", "east", "west"]))-\(generator.number(1...40))\"},\"metric\":\""
                + "\(generator.pick(["temperature", "humidity", "pressure", "voltage"]))\",\"readings\":[\(readings.joined(separator: ","))],"
                + "\"battery\":\(generator.number(0...100))}"
        }
    }

    /// Two digits.
    func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
