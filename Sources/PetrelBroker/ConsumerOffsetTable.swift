import PetrelCore
import PetrelStore
import Synchronization

/// Committed consumer offsets (Java `ConsumerOffsetManager`, spec §13): for each consumer group,
/// topic and queue, the next offset the group will consume. Persisted as
/// `<storeRoot>/config/consumerOffset.json`, `{"offsetTable":{"<topic>@<group>":{"<queueId>":<offset>}}}`,
/// every 5 s by `BrokerController` (only when something changed), at shutdown, and on demand.
///
/// Offsets are committed many times a second and persisted only periodically: a crash loses at most
/// the last few seconds of commits, which makes consumers see a few messages again, as with Java.
public final class ConsumerOffsetTable: Sendable {
    /// Offsets plus change tracking.
    private struct State: Sendable {
        /// `topic@group` → queue id → offset.
        var table: [String: [Int32: Int64]] = [:]
        /// Incremented on every change.
        var changes: UInt64 = 0
        /// `changes` as of the last successful write.
        var persistedChanges: UInt64 = 0
    }

    /// The file.
    private let file: MetadataFile
    /// Offsets.
    private let state = Mutex(State())
    /// Serialises writers of the file.
    private let persistLock = Mutex(())

    /// Loads `consumerOffset.json` under `storeRoot`. Java writes the queue-id keys unquoted
    /// (`{0:5}`); the tolerant parser reads both forms.
    public init(storeRoot: String) throws(BrokerError) {
        file = MetadataFile(storeRoot: storeRoot, name: "consumerOffset.json")
        var loaded: [String: [Int32: Int64]] = [:]
        if let json = try file.read() {
            do {
                let reader = try JSONObjectReader(json, context: "consumerOffset.json")
                for (key, value) in try reader.object("offsetTable") ?? [:] where value != .null {
                    let queues = try JSONObjectReader(value, context: "offsetTable.\(key)")
                    var offsets: [Int32: Int64] = [:]
                    for queueText in queues.members.keys {
                        guard let queueId = Int32(queueText) else {
                            throw CoreError(.invalidJSONField, "offsetTable.\(key): queue id '\(queueText)' is not an integer")
                        }
                        offsets[queueId] = try queues.int64(queueText)
                    }
                    loaded[key] = offsets
                }
            } catch {
                throw BrokerError(.corruptMetadata, "\(file.path): \(error)")
            }
        }
        state.withLock { $0.table = loaded }
    }

    /// `topic@group`, the table key Java uses.
    static func key(group: String, topic: String) -> String { topic + "@" + group }

    /// Records that `group` will next consume `offset` in the queue.
    public func commit(group: String, topic: String, queueId: Int32, offset: Int64) {
        state.withLock { state in
            let key = Self.key(group: group, topic: topic)
            guard state.table[key]?[queueId] != offset else { return }
            state.table[key, default: [:]][queueId] = offset
            state.changes &+= 1
        }
    }

    /// The committed offset, nil when the group never committed one for the queue.
    public func offset(group: String, topic: String, queueId: Int32) -> Int64? {
        state.withLock { $0.table[Self.key(group: group, topic: topic)]?[queueId] }
    }

    /// Every committed offset: `topic@group` → queue id → offset.
    public var all: [String: [Int32: Int64]] { state.withLock { $0.table } }

    /// The groups with offsets for `topic`.
    public func groups(topic: String) -> [String] {
        let prefix = topic + "@"
        return state.withLock { state in
            state.table.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.sorted()
        }
    }

    /// Forgets every offset of `topic` (after the topic is deleted).
    public func removeTopic(_ topic: String) {
        let prefix = topic + "@"
        state.withLock { state in
            let doomed = state.table.keys.filter { $0.hasPrefix(prefix) }
            guard !doomed.isEmpty else { return }
            for key in doomed { state.table[key] = nil }
            state.changes &+= 1
        }
    }

    /// Forgets every offset of `group` (after the group is deleted with `removeOffset`); returns the
    /// topics it had offsets for.
    @discardableResult
    public func removeGroup(_ group: String) -> [String] {
        let suffix = "@" + group
        return state.withLock { state in
            // A topic name never contains '@', so the key's first '@' separates topic and group.
            let doomed = state.table.keys.filter { key in
                guard let separator = key.firstIndex(of: "@") else { return false }
                return key[separator...] == suffix
            }
            guard !doomed.isEmpty else { return [] }
            for key in doomed { state.table[key] = nil }
            state.changes &+= 1
            return doomed.map { String($0.dropLast(suffix.count)) }.sorted()
        }
    }

    /// True when commits were made since the last write.
    public var hasUnpersistedChanges: Bool {
        state.withLock { $0.changes != $0.persistedChanges }
    }

    /// The file's JSON.
    public var serialized: JSONValue {
        state.withLock { Self.json(of: $0.table) }
    }

    /// `{"offsetTable":{…}}` of `table`.
    private static func json(of table: [String: [Int32: Int64]]) -> JSONValue {
        .object(["offsetTable": .object(table.mapValues { queues in
            .object(Dictionary(uniqueKeysWithValues: queues.map { (String($0.key), JSONValue.integer($0.value)) }))
        })])
    }

    /// Writes the table when it changed since the last write (or always with `force`).
    public func persist(force: Bool = false) throws(BrokerError) {
        try persistLock.withLock { _ throws(BrokerError) in
            let (snapshot, changes, dirty) = state.withLock { ($0.table, $0.changes, $0.changes != $0.persistedChanges) }
            guard dirty || force else { return }
            try file.write(Self.json(of: snapshot))
            state.withLock { $0.persistedChanges = max($0.persistedChanges, changes) }
        }
    }
}
