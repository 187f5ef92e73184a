import PetrelCore
import PetrelStore
import Synchronization

/// One consumer group's broker-side settings (Java `SubscriptionGroupConfig`), with RocketMQ's
/// defaults for an auto-created group (spec §7).
public struct SubscriptionGroupConfig: Hashable, Sendable, JSONConvertible {
    /// The group.
    public var groupName: String
    /// Whether the group may pull at all.
    public var consumeEnable = true
    /// Whether a new group may start from the queue's minimum offset.
    public var consumeFromMinEnable = true
    /// Whether broadcasting consumers are allowed.
    public var consumeBroadcastEnable = true
    /// Queues of the group's `%RETRY%` topic.
    public var retryQueueNums: Int32 = 1
    /// Redeliveries before a message goes to the dead-letter topic.
    public var retryMaxTimes: Int32 = 16
    /// The broker consumers pull from normally (0, the master).
    public var brokerId: Int64 = 0
    /// The broker slow consumers are sent to.
    public var whichBrokerWhenConsumeSlowly: Int64 = 1
    /// Whether the broker tells the group's clients when membership changes.
    public var notifyConsumerIdsChangedEnable = true

    /// A group with the defaults.
    public init(groupName: String) {
        self.groupName = groupName
    }

    /// Decodes Java's JSON; missing members take the defaults.
    public init(json: JSONValue) throws(CoreError) {
        try self.init(json: json, fallbackName: nil)
    }

    /// Decodes Java's JSON, taking the name from the table key when the object has none.
    public init(json: JSONValue, fallbackName: String?) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "SubscriptionGroupConfig")
        guard let name = try reader.string("groupName") ?? fallbackName else {
            throw CoreError(.invalidJSONField, "SubscriptionGroupConfig.groupName: missing")
        }
        self.init(groupName: name)
        consumeEnable = try reader.bool("consumeEnable") ?? consumeEnable
        consumeFromMinEnable = try reader.bool("consumeFromMinEnable") ?? consumeFromMinEnable
        consumeBroadcastEnable = try reader.bool("consumeBroadcastEnable") ?? consumeBroadcastEnable
        retryQueueNums = try reader.int32("retryQueueNums") ?? retryQueueNums
        retryMaxTimes = try reader.int32("retryMaxTimes") ?? retryMaxTimes
        brokerId = try reader.int64("brokerId") ?? brokerId
        whichBrokerWhenConsumeSlowly = try reader.int64("whichBrokerWhenConsumeSlowly") ?? whichBrokerWhenConsumeSlowly
        notifyConsumerIdsChangedEnable = try reader.bool("notifyConsumerIdsChangedEnable") ?? notifyConsumerIdsChangedEnable
    }

    /// Java's JSON, every member present.
    public var json: JSONValue {
        .object([
            "groupName": .string(groupName),
            "consumeEnable": .bool(consumeEnable),
            "consumeFromMinEnable": .bool(consumeFromMinEnable),
            "consumeBroadcastEnable": .bool(consumeBroadcastEnable),
            "retryQueueNums": .integer(retryQueueNums),
            "retryMaxTimes": .integer(retryMaxTimes),
            "brokerId": .integer(brokerId),
            "whichBrokerWhenConsumeSlowly": .integer(whichBrokerWhenConsumeSlowly),
            "notifyConsumerIdsChangedEnable": .bool(notifyConsumerIdsChangedEnable),
        ])
    }
}

/// The broker's consumer groups (Java `SubscriptionGroupManager`), persisted as
/// `<storeRoot>/config/subscriptionGroup.json`:
/// `{"dataVersion":{…},"subscriptionGroupTable":{"<group>":SubscriptionGroupConfig}}`.
public final class SubscriptionGroupTable: Sendable {
    /// Groups and version.
    private struct State: Sendable {
        /// Group name → settings.
        var groups: [String: SubscriptionGroupConfig] = [:]
        /// Bumped on every change.
        var dataVersion = DataVersion()
    }

    /// The file.
    private let file: MetadataFile
    /// `autoCreateSubscriptionGroup`.
    private let autoCreate: Bool
    /// Groups and version.
    private let state = Mutex(State())
    /// Serialises writers of the file.
    private let persistLock = Mutex(())

    /// Loads `subscriptionGroup.json` under `storeRoot` on top of RocketMQ's system groups.
    public init(storeRoot: String, autoCreate: Bool) throws(BrokerError) {
        file = MetadataFile(storeRoot: storeRoot, name: "subscriptionGroup.json")
        self.autoCreate = autoCreate
        var loaded = State()
        for name in SystemNames.systemGroups { loaded.groups[name] = SubscriptionGroupConfig(groupName: name) }
        if let json = try file.read() {
            do {
                let reader = try JSONObjectReader(json, context: "subscriptionGroup.json")
                loaded.dataVersion = try reader.decode("dataVersion", as: DataVersion.self) ?? DataVersion()
                for (name, value) in try reader.object("subscriptionGroupTable") ?? [:] where value != .null {
                    let group = try SubscriptionGroupConfig(json: value, fallbackName: name)
                    loaded.groups[group.groupName] = group
                }
            } catch {
                throw BrokerError(.corruptMetadata, "\(file.path): \(error)")
            }
        }
        state.withLock { $0 = loaded }
    }

    /// The settings of `group`, nil when unknown.
    public func group(_ name: String) -> SubscriptionGroupConfig? {
        state.withLock { $0.groups[name] }
    }

    /// Every group by name.
    public var groups: [String: SubscriptionGroupConfig] { state.withLock { $0.groups } }

    /// The settings of `group`, created with the defaults when missing and `autoCreateSubscriptionGroup`
    /// is on (Java `findSubscriptionGroupConfig`); nil when missing and auto-creation is off. A failed
    /// write of the new group is returned beside it: the group exists in memory either way.
    public func findOrCreate(_ name: String) -> (group: SubscriptionGroupConfig?, persistFailure: BrokerError?) {
        let (group, created) = state.withLock { state -> (SubscriptionGroupConfig?, Bool) in
            if let existing = state.groups[name] { return (existing, false) }
            guard autoCreate else { return (nil, false) }
            let made = SubscriptionGroupConfig(groupName: name)
            state.groups[name] = made
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return (made, true)
        }
        guard created else { return (group, nil) }
        do { try persist() } catch { return (group, error) }
        return (group, nil)
    }

    /// Creates or replaces a group and persists the table.
    public func update(_ group: SubscriptionGroupConfig) throws(BrokerError) {
        state.withLock { state in
            state.groups[group.groupName] = group
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
        }
        try persist()
    }

    /// Removes a group and persists the table; false when it did not exist.
    @discardableResult
    public func delete(_ name: String) throws(BrokerError) -> Bool {
        let removed = state.withLock { state in
            guard state.groups.removeValue(forKey: name) != nil else { return false }
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return true
        }
        if removed { try persist() }
        return removed
    }

    /// The file's JSON.
    public var serialized: JSONValue {
        state.withLock { state in
            .object([
                "dataVersion": state.dataVersion.json,
                "subscriptionGroupTable": .object(state.groups.mapValues(\.json)),
            ])
        }
    }

    /// Writes the table to `subscriptionGroup.json`.
    public func persist() throws(BrokerError) {
        try persistLock.withLock { _ throws(BrokerError) in
            try file.write(serialized)
        }
    }
}
