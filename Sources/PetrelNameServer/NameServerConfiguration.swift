#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a name server listens and how it ages out silent brokers. The defaults are RocketMQ's
/// (spec §1, §6.4, §21).
public struct NameServerConfiguration: Sendable, Hashable {
    /// The interface to listen on; `0.0.0.0` listens on all of them.
    public var host: String
    /// The port to listen on (RocketMQ's `listenPort`); 0 picks a free one.
    public var port: Int
    /// Silence after which a broker is dropped (Java `BROKER_CHANNEL_EXPIRED_TIME`).
    public var brokerExpiry: Duration
    /// How often silent brokers are looked for (Java `scanNotActiveBroker`, every 10 s).
    public var scanInterval: Duration
    /// Java's `orderMessageEnable`: add `orderTopicConf` from the `ORDER_TOPIC_CONFIG` KV namespace to
    /// routes. Off by default, as in Java.
    public var orderMessageEnable: Bool

    /// RocketMQ's name-server port.
    public static let defaultPort = 9876

    /// A configuration; every value defaults to RocketMQ's.
    public init(
        host: String = "0.0.0.0", port: Int = NameServerConfiguration.defaultPort, brokerExpiry: Duration = .seconds(120),
        scanInterval: Duration = .seconds(10), orderMessageEnable: Bool = false
    ) {
        self.host = host
        self.port = port
        self.brokerExpiry = brokerExpiry
        self.scanInterval = scanInterval
        self.orderMessageEnable = orderMessageEnable
    }

    /// The keys `apply(properties:)` understands, in RocketMQ's spelling (`namesrv.conf`).
    public static let propertyKeys: Set<String> = ["listenPort", "orderMessageEnable"]

    /// Applies `namesrv.conf`-style settings. Every key must be one of `propertyKeys`: a misspelt key
    /// silently ignored would leave the server running with a setting the operator did not choose.
    public mutating func apply(properties: [(key: String, value: String)]) throws(NameServerError) {
        for (key, value) in properties {
            switch key {
            case "listenPort":
                guard let port = Int(value), (0...65535).contains(port) else {
                    throw NameServerError(.invalidConfiguration, "listenPort must be a port number (0-65535), got \"\(value)\"")
                }
                self.port = port
            case "orderMessageEnable":
                guard let enabled = Self.parseBoolean(value) else {
                    throw NameServerError(.invalidConfiguration, "orderMessageEnable must be true or false, got \"\(value)\"")
                }
                orderMessageEnable = enabled
            default:
                let known = Self.propertyKeys.sorted().joined(separator: ", ")
                throw NameServerError(.invalidConfiguration, "unknown configuration key \(key) (known keys: \(known))")
            }
        }
    }

    /// `true`/`false` in any case, as Java's `Boolean.parseBoolean` reads them, but refusing anything
    /// else instead of reading it as false.
    static func parseBoolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }
}

/// The `key=value` text of Java properties files (`namesrv.conf`) and of the UPDATE_NAMESRV_CONFIG
/// body, in the subset RocketMQ's own files use: one entry per line, `#` or `!` comments, `=` or `:`
/// as separator, surrounding blanks trimmed. Line continuations and escapes are not supported.
public enum PropertiesText {
    /// The entries of `text`, in order. A line without a separator is a key with an empty value, as
    /// in Java.
    public static func parse(_ text: String) -> [(key: String, value: String)] {
        var entries: [(key: String, value: String)] = []
        // `isNewline`, not a comparison with "\n": Swift reads "\r\n" as one Character.
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = trimmed(rawLine)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!") else { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                entries.append((key: line, value: ""))
                continue
            }
            let key = trimmed(line[..<separator])
            let value = trimmed(line[line.index(after: separator)...])
            entries.append((key: key, value: value))
        }
        return entries
    }

    /// `entries` as properties text, one `key=value` line each.
    public static func render(_ entries: [(key: String, value: String)]) -> String {
        entries.map { "\($0.key)=\($0.value)\n" }.joined()
    }

    /// `text` without leading and trailing spaces and tabs.
    private static func trimmed(_ text: some StringProtocol) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(text[first...last])
    }
}

/// Wall-clock time in the unit the route tables use.
public enum NameServerClock {
    /// Milliseconds since the epoch, what registrations are stamped with.
    @Sendable
    public static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

extension Duration {
    /// The duration in whole milliseconds (rounded down), the unit of the route tables' timestamps.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
