import PetrelCore
import PetrelStore

/// The `broker.conf` keys Petrel understands, with RocketMQ's names, and how each value is parsed.
/// An unknown key or a bad value is an error naming the key (and for an unknown key the closest
/// known one), so a typo stops start-up instead of being silently ignored.
public enum BrokerConfigurationKeys {
    /// Applies a value to a configuration.
    /// (Untyped `throws`: typed-throws closures are not inferred inside a dictionary literal; every
    /// setter throws only `BrokerError`, which `apply` re-establishes.)
    typealias Setter = @Sendable (inout BrokerConfiguration, String) throws -> Void

    /// Key → setter. Old spellings RocketMQ still accepts are aliases of the same setter.
    static let setters: [String: Setter] = {
        var table: [String: Setter] = [
            "brokerClusterName": { $0.brokerClusterName = try text($1, "brokerClusterName") },
            "brokerName": { $0.brokerName = try text($1, "brokerName") },
            "brokerId": { $0.brokerId = try integer($1, "brokerId", 0...Int64(Int32.max)) },
            "brokerIP1": { $0.brokerIP1 = try address($1, "brokerIP1") },
            "listenPort": { $0.listenPort = Int(try integer($1, "listenPort", 1...65535)) },
            "namesrvAddr": { $0.nameServerAddresses = try nameServers($1) },
            "namesrvListenPort": { $0.nameServerListenPort = Int(try integer($1, "namesrvListenPort", 1...65535)) },
            "brokerRole": { $0.brokerRole = try choice($1, "brokerRole") },
            "autoCreateTopicEnable": { $0.autoCreateTopicEnable = try boolean($1, "autoCreateTopicEnable") },
            "autoCreateSubscriptionGroup": { $0.autoCreateSubscriptionGroup = try boolean($1, "autoCreateSubscriptionGroup") },
            "defaultTopicQueueNums": { $0.defaultTopicQueueNumbers = Int(try integer($1, "defaultTopicQueueNums", 1...1024)) },
            "messageDelayLevel": { $0.messageDelayLevels = try delayLevels($1) },
            "registerNameServerPeriod": {
                $0.registerNameServerPeriodMilliseconds = Int(try integer($1, "registerNameServerPeriod", 1...Int64(Int32.max)))
            },
            "longPollingEnable": { $0.longPollingEnable = try boolean($1, "longPollingEnable") },
            "transactionCheckInterval": { $0.transactionCheckInterval = try integer($1, "transactionCheckInterval", 1...Int64(Int32.max)) },
            "transactionTimeOut": { $0.transactionTimeOut = try integer($1, "transactionTimeOut", 0...Int64(Int32.max)) },
            "transactionCheckMax": { $0.transactionCheckMax = Int(try integer($1, "transactionCheckMax", 1...10_000)) },
            "storePathRootDir": { $0.store.rootDirectory = try text($1, "storePathRootDir") },
            "storePathCommitLog": { $0.store.commitLogDirectory = try text($1, "storePathCommitLog") },
            "mappedFileSizeCommitLog": {
                $0.store.commitLogSegmentSize = Int(try integer($1, "mappedFileSizeCommitLog", 4096...(Int64(1) << 40)))
            },
            "mappedFileSizeConsumeQueue": {
                $0.store.consumeQueueUnitsPerFile = Int(try integer($1, "mappedFileSizeConsumeQueue", 20...(Int64(1) << 32)) / 20)
            },
            "flushDiskType": { $0.store.flushMode = try choice($1, "flushDiskType") },
            "flushIntervalCommitLog": { $0.store.asyncFlushInterval = .milliseconds(try integer($1, "flushIntervalCommitLog", 1...600_000)) },
            "syncFlushTimeout": { $0.store.syncFlushTimeout = .milliseconds(try integer($1, "syncFlushTimeout", 1...600_000)) },
            "deleteWhen": { $0.store.deleteWhenHours = try hours($1) },
            "fileReservedTime": { $0.store.fileReservedTime = .seconds(try integer($1, "fileReservedTime", 1...100_000) * 3600) },
            "diskMaxUsedSpaceRatio": { $0.store.diskCleanRatio = Double(try integer($1, "diskMaxUsedSpaceRatio", 10...95)) / 100 },
            "diskFullRatio": { $0.store.diskFullRatio = Double(try integer($1, "diskFullRatio", 10...99)) / 100 },
            "maxMessageSize": { $0.store.maximumMessageSize = Int(try integer($1, "maxMessageSize", 1...(Int64(1) << 30))) },
            "messageIndexEnable": { $0.store.indexEnabled = try boolean($1, "messageIndexEnable") },
            "truncateCorruptLog": { $0.store.truncateCorruptLog = try boolean($1, "truncateCorruptLog") },
        ]
        table["mapedFileSizeCommitLog"] = table["mappedFileSizeCommitLog"]
        table["mapedFileSizeConsumeQueue"] = table["mappedFileSizeConsumeQueue"]
        table.merge(timerSetters) { existing, _ in existing }
        table.merge(compressionSetters) { existing, _ in existing }
        return table
    }()

    /// Every known key, sorted.
    public static var knownKeys: [String] { setters.keys.sorted() }

    /// Applies `pairs` in order (a later pair overrides an earlier one). The commit-log directory
    /// follows `storePathRootDir` unless `storePathCommitLog` is given.
    public static func apply(_ pairs: [(key: String, value: String)], to configuration: inout BrokerConfiguration) throws(BrokerError) {
        var commitLogGiven = false
        for (key, value) in pairs {
            guard let setter = setters[key] else {
                let suggestion = closestKey(to: key).map { "; did you mean '\($0)'?" } ?? ""
                throw BrokerError(.unknownConfigurationKey, "unknown configuration key '\(key)'\(suggestion)")
            }
            do { try setter(&configuration, value.trimmingSpaces()) } catch let error as BrokerError { throw error } catch {
                throw BrokerError(.invalidConfigurationValue, "\(key)='\(value)': \(error)")
            }
            if key == "storePathCommitLog" { commitLogGiven = true }
        }
        if !commitLogGiven { configuration.store.commitLogDirectory = configuration.store.rootDirectory + "/commitlog" }
    }

    /// Parses RocketMQ's `key=value` properties text: `#` and `!` comment lines, blank lines, and
    /// `key=value` or `key:value` lines. A line without a separator is an error naming its line number.
    public static func parseProperties(_ text: String) throws(BrokerError) -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw BrokerError(.invalidConfigurationValue, "line \(number + 1) '\(line)' is not key=value")
            }
            pairs.append((String(line[..<separator]).trimmingSpaces(), String(line[line.index(after: separator)...]).trimmingSpaces()))
        }
        return pairs
    }

    /// The known key nearest to `key` by edit distance (ignoring case), if reasonably near.
    public static func closestKey(to key: String) -> String? {
        let lowered = key.lowercased()
        let ranked = setters.keys.map { ($0, editDistance(lowered, $0.lowercased())) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        guard let (best, distance) = ranked, distance <= max(3, key.count / 2) else { return nil }
        return best
    }

    /// Levenshtein distance.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        var previous = Array(0...b.count)
        for (i, characterA) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, characterB) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (characterA == characterB ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
