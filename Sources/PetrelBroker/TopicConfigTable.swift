import PetrelCore
import PetrelStore
import Synchronization

/// The broker's topics (Java `TopicConfigManager`), persisted as `<storeRoot>/config/topics.json`:
/// `{"dataVersion":{"counter":L,"timestamp":L},"topicConfigTable":{"<topic>":TopicConfig}}`.
///
/// Every change bumps the data version, which the name server compares on re-registration, and is
/// written to disk at once (topic changes are rare; losing one on a crash would lose a topic).
public final class TopicConfigTable: Sendable {
    /// What `createFromTemplate` did.
    public enum AutoCreateOutcome: Hashable, Sendable {
        /// The topic already existed.
        case existing(TopicConfig)
        /// The topic was created now.
        case created(TopicConfig)
        /// The topic may not be auto-created; the text says why.
        case refused(String)
    }

    /// Topics and version, guarded together so a registration never sees one without the other.
    private struct State: Sendable {
        /// Topic name → configuration.
        var topics: [String: TopicConfig] = [:]
        /// Bumped on every change.
        var dataVersion = DataVersion()
    }

    /// The file.
    private let file: MetadataFile
    /// Whether `TBW102` may serve as a template (`autoCreateTopicEnable`).
    private let autoCreateTopicEnable: Bool
    /// The topics the broker made itself at start.
    public let systemTopics: Set<String>
    /// Topics and version.
    private let state = Mutex(State())
    /// Serialises writers of the file, so an older snapshot never overwrites a newer one.
    private let persistLock = Mutex(())

    /// Loads `topics.json` under `storeRoot` on top of the system topics RocketMQ creates (a persisted
    /// entry wins, as in Java).
    public init(storeRoot: String, configuration: BrokerConfiguration) throws(BrokerError) {
        file = MetadataFile(storeRoot: storeRoot, name: "topics.json")
        autoCreateTopicEnable = configuration.autoCreateTopicEnable
        let builtIn = Self.systemTopicConfigs(configuration)
        systemTopics = Set(builtIn.map(\.topicName))
        var loaded = State()
        for topic in builtIn { loaded.topics[topic.topicName] = topic }
        if let json = try file.read() {
            do {
                let reader = try JSONObjectReader(json, context: "topics.json")
                loaded.dataVersion = try reader.decode("dataVersion", as: DataVersion.self) ?? DataVersion()
                for (name, value) in try reader.object("topicConfigTable") ?? [:] where value != .null {
                    let topic = try TopicConfig(json: value, fallbackName: name)
                    loaded.topics[topic.topicName] = topic
                }
            } catch {
                throw BrokerError(.corruptMetadata, "\(file.path): \(error)")
            }
        }
        state.withLock { $0 = loaded }
    }

    /// The topics a RocketMQ 4.9 broker creates at start (Java `TopicConfigManager`'s constructor).
    static func systemTopicConfigs(_ configuration: BrokerConfiguration) -> [TopicConfig] {
        var topics = [
            TopicConfig(topicName: SystemNames.selfTestTopic, readQueueNums: 1, writeQueueNums: 1),
            TopicConfig(topicName: SystemNames.benchmarkTopic, readQueueNums: 1024, writeQueueNums: 1024),
            // The cluster and broker names are topics only so the name server can route to them by name;
            // without read or write permission nobody sends to them.
            TopicConfig(topicName: configuration.brokerClusterName, perm: .inherit),
            TopicConfig(topicName: configuration.brokerName, readQueueNums: 1, writeQueueNums: 1, perm: .inherit),
            TopicConfig(topicName: SystemNames.offsetMovedEventTopic, readQueueNums: 1, writeQueueNums: 1),
            TopicConfig(
                topicName: SystemNames.scheduleTopic, readQueueNums: Int32(configuration.messageDelayLevels.count),
                writeQueueNums: Int32(configuration.messageDelayLevels.count)),
            TopicConfig(topicName: SystemNames.replyTopic(cluster: configuration.brokerClusterName), readQueueNums: 1, writeQueueNums: 1),
        ]
        if configuration.autoCreateTopicEnable {
            let queues = Int32(clamping: configuration.defaultTopicQueueNumbers)
            topics.append(TopicConfig(
                topicName: SystemNames.autoCreateTemplateTopic, readQueueNums: queues, writeQueueNums: queues,
                perm: [.inherit, .read, .write]))
        }
        return topics
    }

    /// The configuration of `name`, nil when unknown.
    public func topic(_ name: String) -> TopicConfig? {
        state.withLock { $0.topics[name] }
    }

    /// Every topic by name.
    public var topics: [String: TopicConfig] { state.withLock { $0.topics } }

    /// The current data version.
    public var dataVersion: DataVersion { state.withLock { $0.dataVersion } }

    /// What a registration with the name servers carries: every topic and the data version.
    public var registrationBody: RegisterBrokerBody {
        state.withLock { RegisterBrokerBody(topicConfigTable: $0.topics, dataVersion: $0.dataVersion) }
    }

    /// Creates or replaces a topic and persists the table. The change stays in memory when the
    /// write fails (the error says so); the next successful write includes it.
    public func update(_ topic: TopicConfig) throws(BrokerError) {
        let changed = state.withLock { state in
            guard state.topics[topic.topicName] != topic else { return false }
            state.topics[topic.topicName] = topic
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return true
        }
        if changed { try persist() }
    }

    /// Removes a topic and persists the table; false when it did not exist.
    @discardableResult
    public func delete(_ name: String) throws(BrokerError) -> Bool {
        let removed = state.withLock { state in
            guard state.topics.removeValue(forKey: name) != nil else { return false }
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return true
        }
        if removed { try persist() }
        return removed
    }

    /// Auto-creates `topic` from the `template` topic on a producer's first send (spec §8.3 step 2):
    /// the template must exist and carry the INHERIT bit (`TBW102` only while `autoCreateTopicEnable`);
    /// the new topic gets min(requested, template's write queues) queues and the template's
    /// permission without INHERIT. Persisting failures are returned in `persistFailure`.
    public func createFromTemplate(
        topic: String, template: String, requestedQueueNumbers: Int32, topicSysFlag: Int32
    ) -> (outcome: AutoCreateOutcome, persistFailure: BrokerError?) {
        let outcome = state.withLock { state -> AutoCreateOutcome in
            if let existing = state.topics[topic] { return .existing(existing) }
            guard let model = state.topics[template] else {
                return .refused("the default topic[\(template)] does not exist")
            }
            let inherits = model.perm.isInherited && (template != SystemNames.autoCreateTemplateTopic || autoCreateTopicEnable)
            guard inherits else { return .refused("the default topic[\(template)] has no inherit permission") }
            let requested = requestedQueueNumbers > 0 ? requestedQueueNumbers : model.writeQueueNums
            let queues = min(requested, model.writeQueueNums)
            guard queues > 0 else { return .refused("the default topic[\(template)] has no write queues") }
            let created = TopicConfig(
                topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: model.perm.subtracting(.inherit),
                topicFilterType: model.topicFilterType, topicSysFlag: topicSysFlag)
            state.topics[topic] = created
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return .created(created)
        }
        guard case .created = outcome else { return (outcome, nil) }
        do { try persist() } catch { return (outcome, error) }
        return (outcome, nil)
    }

    /// The topic `name`, created with `queueNumbers` queues and `perm` when missing: how retry and
    /// dead-letter topics come to exist (Java `createTopicInSendMessageBackMethod`).
    public func ensure(
        _ name: String, queueNumbers: Int32, perm: Permission, topicSysFlag: Int32 = 0
    ) -> (topic: TopicConfig, created: Bool, persistFailure: BrokerError?) {
        let (topic, created) = state.withLock { state -> (TopicConfig, Bool) in
            if let existing = state.topics[name] { return (existing, false) }
            let made = TopicConfig(
                topicName: name, readQueueNums: queueNumbers, writeQueueNums: queueNumbers, perm: perm, topicSysFlag: topicSysFlag)
            state.topics[name] = made
            state.dataVersion = state.dataVersion.next(now: System.nowMilliseconds())
            return (made, true)
        }
        guard created else { return (topic, false, nil) }
        do { try persist() } catch { return (topic, true, error) }
        return (topic, true, nil)
    }

    /// The file's JSON: Java's `TopicConfigSerializeWrapper`.
    public var serializedWrapper: JSONValue {
        state.withLock { state in
            .object([
                "dataVersion": state.dataVersion.json,
                "topicConfigTable": .object(state.topics.mapValues(\.json)),
            ])
        }
    }

    /// Writes the table to `topics.json`.
    public func persist() throws(BrokerError) {
        try persistLock.withLock { _ throws(BrokerError) in
            try file.write(serializedWrapper)
        }
    }
}
