import PetrelCore
import PetrelStore

/// Value parsers for `BrokerConfigurationKeys`; each error names the key and says what was expected.
extension BrokerConfigurationKeys {
    /// The error for a bad value.
    static func invalid(_ key: String, _ value: String, _ expected: String) -> BrokerError {
        BrokerError(.invalidConfigurationValue, "\(key)='\(value)' is not valid: expected \(expected)")
    }

    /// A non-empty string.
    static func text(_ value: String, _ key: String) throws(BrokerError) -> String {
        guard !value.isEmpty else { throw invalid(key, value, "a non-empty value") }
        return value
    }

    /// A decimal integer within `range`.
    static func integer(_ value: String, _ key: String, _ range: ClosedRange<Int64>) throws(BrokerError) -> Int64 {
        guard let number = Int64(value), range.contains(number) else {
            throw invalid(key, value, "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// `true` or `false` (any case), as Java's `Boolean.parseBoolean` reads them, but strict.
    static func boolean(_ value: String, _ key: String) throws(BrokerError) -> Bool {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw invalid(key, value, "true or false")
        }
    }

    /// One of an enum's raw values.
    static func choice<Choice: RawRepresentable & CaseIterable>(_ value: String, _ key: String) throws(BrokerError) -> Choice
    where Choice.RawValue == String {
        guard let chosen = Choice(rawValue: value.uppercased()) else {
            throw invalid(key, value, "one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return chosen
    }

    /// An IPv4 address.
    static func address(_ value: String, _ key: String) throws(BrokerError) -> String {
        guard MessageHost(ipv4: value, port: 0) != nil else { throw invalid(key, value, "an IPv4 address such as 127.0.0.1") }
        return value
    }

    /// `host:port;host:port`.
    static func nameServers(_ value: String) throws(BrokerError) -> [String] {
        let addresses = value.split(separator: ";").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        for address in addresses where !address.contains(":") {
            throw invalid("namesrvAddr", value, "host:port entries separated by ';'")
        }
        return addresses
    }

    /// `deleteWhen`: hours of the day separated by `;`, e.g. `04` or `04;16`.
    static func hours(_ value: String) throws(BrokerError) -> Set<Int> {
        var hours: Set<Int> = []
        for part in value.split(separator: ";") {
            guard let hour = Int(String(part).trimmingSpaces()), (0...23).contains(hour) else {
                throw invalid("deleteWhen", value, "hours 00–23 separated by ';'")
            }
            hours.insert(hour)
        }
        guard !hours.isEmpty else { throw invalid("deleteWhen", value, "at least one hour") }
        return hours
    }

    /// `messageDelayLevel`: space-separated durations with a unit s, m, h or d.
    static func delayLevels(_ value: String) throws(BrokerError) -> [Duration] {
        var levels: [Duration] = []
        for word in value.split(separator: " ") where !word.isEmpty {
            guard let unit = word.last, let amount = Int64(word.dropLast()), amount > 0,
                  let seconds = ["s": 1, "m": 60, "h": 3600, "d": 86400][String(unit)] else {
                throw invalid("messageDelayLevel", value, "durations like '1s 5s 10s 1m 2h' (units s, m, h, d)")
            }
            levels.append(.seconds(amount * Int64(seconds)))
        }
        guard !levels.isEmpty else { throw invalid("messageDelayLevel", value, "at least one level") }
        return levels
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and carriage returns.
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" || first == "\r" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" { view.removeLast() }
        return String(view)
    }
}
