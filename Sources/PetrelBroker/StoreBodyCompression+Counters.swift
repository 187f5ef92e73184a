import PetrelCore
import PetrelStore

/// The per-topic body byte counters on disk, `<storeRoot>/config/compressionBytes.json`:
/// `{"topics":{"<topic>":{"received":<bytes>,"stored":<bytes>}}}`. Written at shutdown and by the
/// broker's compression loop (every `retirementInterval`), so they survive a restart; a crash loses
/// at most one interval of counts.
extension StoreBodyCompression {
    /// The file's name under `config/`.
    static let countersFileName = "compressionBytes.json"

    /// The counters saved under `storeRoot`, empty when there are none.
    static func loadCounters(storeRoot: String) throws(BrokerError) -> [String: TopicBodyBytes] {
        let file = MetadataFile(storeRoot: storeRoot, name: countersFileName)
        guard let json = try file.read() else { return [:] }
        guard case .object(let root) = json, case .object(let topics)? = root["topics"] else {
            throw BrokerError(.corruptMetadata, "\(file.path) has no \"topics\" object")
        }
        var counters: [String: TopicBodyBytes] = [:]
        for (topic, value) in topics {
            guard case .object(let members) = value, let received = members["received"]?.lenientInt64,
                  let stored = members["stored"]?.lenientInt64 else {
                throw BrokerError(.corruptMetadata, "\(file.path): bad counters for topic \(topic)")
            }
            counters[topic] = TopicBodyBytes(received: received, stored: stored)
        }
        return counters
    }

    /// Writes the counters (crash-safely); nothing without a store root.
    public func persistCounters() throws(BrokerError) {
        guard let storeRoot else { return }
        let snapshot = counters.withLock { $0 }
        let topics = snapshot.mapValues { bytes in JSONValue.object(["received": .integer(bytes.received), "stored": .integer(bytes.stored)]) }
        try MetadataFile(storeRoot: storeRoot, name: Self.countersFileName).write(.object(["topics": .object(topics)]))
    }

    /// Counts one record of `topic` left out of a pull because its body cannot be decompressed.
    func countUndecodable(topic: String) {
        undecodableCounts.withLock { $0[topic, default: 0] += 1 }
    }

    /// Whether a skip on `topic` at `nowMilliseconds` is logged: the first of each minute per topic,
    /// so one lost dictionary does not write a line per record per pull. Returns the skips left
    /// unlogged since the last logged one (to report with it), nil when this one stays quiet too.
    func undecodableSkipToLog(topic: String, nowMilliseconds: Int64) -> Int64? {
        let minute = nowMilliseconds / 60_000
        return undecodableLogState.withLock { state -> Int64? in
            var entry = state[topic] ?? (minute: Int64.min, quiet: 0)
            defer { state[topic] = entry }
            guard entry.minute != minute else {
                entry.quiet += 1
                return nil
            }
            let quiet = entry.quiet
            entry = (minute, 0)
            return quiet
        }
    }

    /// How often pulls of `topic` left out a record whose body cannot be decompressed, since the
    /// broker started (a record skipped by several pulls, e.g. of several groups, counts each time).
    public func undecodableSkips(topic: String) -> Int64 {
        undecodableCounts.withLock { $0[topic] ?? 0 }
    }
}
