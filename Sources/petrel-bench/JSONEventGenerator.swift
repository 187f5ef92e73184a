/// Realistic, varied JSON events of 200–1,000 bytes for `--payload json-events`: user activity,
/// orders and device telemetry, with ids, ISO-8601 timestamps, nested objects, arrays of varying
/// length and optional fields, the kind of traffic a per-topic compression dictionary is for.
///
/// Deterministic: the same seed gives the same events, so runs and modes compare like with like.
/// Ids and measurements are random (they do not compress); field names, vocabularies and structure
/// repeat across events (what a dictionary learns). Every string is plain ASCII without characters
/// JSON would escape, so the text is valid JSON by construction.
struct JSONEventGenerator {
    /// The smallest event produced.
    static let minimumLength = 200
    /// The largest event produced.
    static let maximumLength = 1_000

    /// SplitMix64: small, fast, good enough for test data.
    private var state: UInt64
    /// Milliseconds since the epoch of the last event; grows by a few ms per event, as a stream does.
    private var clock: Int

    /// A generator seeded with `seed`.
    init(seed: UInt64) {
        state = seed
        clock = 1_795_000_000_000 + Int(seed % 1_000_000)
    }

    /// The next event's UTF-8 bytes; events outside 200...1,000 bytes are drawn again.
    mutating func next() -> [UInt8] {
        while true {
            let bytes = Array(event().utf8)
            if (Self.minimumLength...Self.maximumLength).contains(bytes.count) { return bytes }
        }
    }

    // MARK: Random pieces

    /// The next 64 random bits.
    private mutating func bits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `range`.
    private mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(bits() % UInt64(range.count))
    }

    /// True with probability `percent` %.
    private mutating func chance(_ percent: Int) -> Bool { number(0...99) < percent }

    /// One of `choices`.
    private mutating func pick(_ choices: [String]) -> String { choices[number(0...(choices.count - 1))] }

    /// `count` lowercase hex digits.
    private mutating func hex(_ count: Int) -> String {
        var text = ""
        text.reserveCapacity(count)
        for _ in 0..<count { text.append(Self.hexDigits[number(0...15)]) }
        return text
    }

    /// Hex digits.
    private static let hexDigits = Array("0123456789abcdef")

    /// A UUID-shaped id.
    private mutating func uuid() -> String { "\(hex(8))-\(hex(4))-4\(hex(3))-\(hex(4))-\(hex(12))" }

    /// The next timestamp, `2026-11-24T22:31:07.123Z`, a few milliseconds after the previous one.
    private mutating func timestamp() -> String {
        clock += number(0...40)
        return Self.iso8601(milliseconds: clock)
    }

    /// `milliseconds` since 1970 as ISO-8601 UTC with milliseconds.
    static func iso8601(milliseconds: Int) -> String {
        let seconds = milliseconds / 1_000
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millisecond = milliseconds % 1_000
        let fraction = millisecond < 10 ? "00\(millisecond)" : millisecond < 100 ? "0\(millisecond)" : "\(millisecond)"
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(fraction)Z"
    }

    /// A decimal with two places, as JSON number text.
    private mutating func amount(_ range: ClosedRange<Int>) -> String {
        let cents = number(range)
        let fraction = cents % 100
        return "\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    // MARK: Events

    /// One event of a random kind.
    private mutating func event() -> String {
        let header = "\"eventId\":\"\(uuid())\",\"occurredAt\":\"\(timestamp())\",\"schemaVersion\":\(number(1...3))"
        switch number(0...19) {
        case 0...5: return userActivity(header)
        case 6...11: return order(header)
        case 12...16: return telemetry(header)
        default: return heartbeat(header)
        }
    }

    /// A user's page view, click, search, …
    private mutating func userActivity(_ header: String) -> String {
        var fields = [
            "\"eventType\":\"user.activity\"", header, "\"source\":\"\(pick(Vocabulary.sources))\"",
            "\"user\":{\"id\":\"u_\(number(100_000...9_999_999))\",\"segment\":\"\(pick(Vocabulary.segments))\","
                + "\"locale\":\"\(pick(Vocabulary.locales))\",\"anonymous\":\(chance(15))}",
            "\"session\":{\"id\":\"\(hex(16))\",\"device\":\"\(pick(Vocabulary.devices))\",\"userAgent\":\"\(pick(Vocabulary.userAgents))\"}",
            "\"action\":\"\(pick(Vocabulary.actions))\"",
            "\"page\":{\"path\":\"/\(pick(Vocabulary.sections))/\(number(1...99_999))\",\"title\":\"\(pick(Vocabulary.titles))\"}",
        ]
        if chance(50) { fields.append("\"referrer\":\"https://\(pick(Vocabulary.referrers))/\(hex(6))\"") }
        if chance(40) {
            let experiments = (0..<number(1...3)).map { _ in
                "{\"name\":\"\(pick(Vocabulary.experiments))\",\"variant\":\"\(pick(["A", "B", "C", "control"]))\"}"
            }
            fields.append("\"experiments\":[\(experiments.joined(separator: ","))]")
        }
        if chance(60) { fields.append("\"durationMs\":\(number(3...45_000))") }
        return "{\(fields.joined(separator: ","))}"
    }

    /// An order with 1–5 line items.
    private mutating func order(_ header: String) -> String {
        let currency = pick(["EUR", "USD", "GBP", "JPY"])
        let items = (0..<number(1...5)).map { _ in
            "{\"sku\":\"\(pick(Vocabulary.skuPrefixes))-\(number(10_000...99_999))\",\"name\":\"\(pick(Vocabulary.products))\","
                + "\"quantity\":\(number(1...4)),\"unitPrice\":{\"amount\":\(amount(199...24_999)),\"currency\":\"\(currency)\"}}"
        }
        var fields = [
            "\"eventType\":\"order.\(pick(["created", "paid", "shipped", "cancelled"]))\"", header,
            "\"orderId\":\"ORD-2026-\(number(100_000_000...999_999_999))\"",
            "\"customer\":{\"id\":\"c_\(number(10_000...9_999_999))\",\"tier\":\"\(pick(Vocabulary.tiers))\",\"email\":\"customer\(number(1...999_999))@example.com\"}",
            "\"items\":[\(items.joined(separator: ","))]",
            "\"payment\":{\"method\":\"\(pick(Vocabulary.paymentMethods))\",\"status\":\"\(pick(["authorized", "captured", "pending"]))\"}",
            "\"total\":{\"amount\":\(amount(499...150_000)),\"currency\":\"\(currency)\"}",
        ]
        if chance(60) {
            fields.append("\"shippingAddress\":{\"city\":\"\(pick(Vocabulary.cities))\",\"country\":\"\(pick(Vocabulary.countries))\",\"postalCode\":\"\(number(10_000...99_999))\"}")
        }
        if chance(25) { fields.append("\"coupon\":\"\(pick(Vocabulary.coupons))\"") }
        if chance(15) { fields.append("\"giftWrap\":true") }
        return "{\(fields.joined(separator: ","))}"
    }

    /// A short session keep-alive: the small end of the size range.
    private mutating func heartbeat(_ header: String) -> String {
        var fields = [
            "\"eventType\":\"session.heartbeat\"", header, "\"sessionId\":\"\(hex(16))\"",
            "\"userId\":\"u_\(number(100_000...9_999_999))\"", "\"state\":\"\(pick(["active", "idle", "background"]))\"",
        ]
        if chance(50) { fields.append("\"sequence\":\(number(1...5_000))") }
        return "{\(fields.joined(separator: ","))}"
    }

    /// A device's readings, 1–6 metrics.
    private mutating func telemetry(_ header: String) -> String {
        let metrics = (0..<number(1...6)).map { _ in
            let metric = number(0...(Vocabulary.metrics.count - 1))
            return "{\"name\":\"\(Vocabulary.metrics[metric].name)\",\"value\":\(number(-200...2_000)).\(number(0...99)),\"unit\":\"\(Vocabulary.metrics[metric].unit)\"}"
        }
        var fields = [
            "\"eventType\":\"device.telemetry\"", header,
            "\"device\":{\"id\":\"dev-\(hex(10))\",\"model\":\"\(pick(Vocabulary.models))\",\"firmware\":\"\(number(1...4)).\(number(0...20)).\(number(0...99))\","
                + "\"site\":{\"region\":\"\(pick(Vocabulary.regions))\",\"building\":\"B\(number(1...40))\",\"floor\":\(number(0...12))}}",
            "\"metrics\":[\(metrics.joined(separator: ","))]",
            "\"status\":\"\(pick(["ok", "ok", "ok", "degraded", "maintenance"]))\"",
        ]
        if chance(30) { fields.append("\"battery\":{\"level\":\(number(1...100)),\"charging\":\(chance(40))}") }
        if chance(12) {
            fields.append("\"alerts\":[{\"code\":\"\(pick(Vocabulary.alerts))\",\"severity\":\"\(pick(["info", "warning", "critical"]))\",\"raisedAt\":\"\(timestamp())\"}]")
        }
        if chance(35) { fields.append("\"network\":{\"rssi\":\(number(-95 ... -30)),\"transport\":\"\(pick(["wifi", "lte", "lora", "ethernet"]))\"}") }
        return "{\(fields.joined(separator: ","))}"
    }
}
