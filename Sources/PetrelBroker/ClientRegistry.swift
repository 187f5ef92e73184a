import PetrelCore
import PetrelRemoting
import Synchronization

/// One client connection in a producer or consumer group.
public struct RegisteredClient: Sendable {
    /// The client's id from its heartbeat (`clientID`).
    public var clientId: String
    /// The connection it heartbeats on.
    public var channel: any ClientChannel
    /// The language of its last request.
    public var language: LanguageCode
    /// The protocol version of its last request.
    public var version: Int32
    /// When its last heartbeat arrived, milliseconds since the epoch.
    public var lastHeartbeat: Int64

    /// A client as its heartbeat describes it.
    public init(clientId: String, channel: any ClientChannel, language: LanguageCode, version: Int32, lastHeartbeat: Int64) {
        self.clientId = clientId
        self.channel = channel
        self.language = language
        self.version = version
        self.lastHeartbeat = lastHeartbeat
    }
}

/// One consumer group as its clients describe it in heartbeats.
public struct ConsumerGroupState: Sendable {
    /// The group.
    public var groupName: String
    /// Pull or push (from the latest heartbeat).
    public var consumeType: ConsumeType
    /// Clustering or broadcasting.
    public var messageModel: MessageModel
    /// Where a new group starts.
    public var consumeFromWhere: ConsumeFromWhere
    /// Topic → subscription, as last heartbeated.
    public var subscriptions: [String: SubscriptionData] = [:]
    /// Connection id → client.
    public var clients: [UInt64: RegisteredClient] = [:]

    /// Client ids, sorted and without repeats (what GET_CONSUMER_LIST_BY_GROUP returns).
    public var clientIds: [String] { Array(Set(clients.values.map(\.clientId))).sorted() }
}

/// Who is connected, by group (Java `ProducerManager` + `ConsumerManager`, spec §7): producers for
/// transaction check-backs, consumers for subscriptions, rebalancing notices and running info.
///
/// Clients are keyed by connection, as in Java: a client process with one connection per broker
/// appears once per group. Methods that change a consumer group's membership or subscriptions
/// report it, so the caller can send NOTIFY_CONSUMER_IDS_CHANGED.
public final class ClientRegistry: Sendable {
    /// How long a client may stay silent before it is dropped (Java: 120 s).
    public static let defaultExpiry: Int64 = 120_000

    /// Every group.
    private struct State: Sendable {
        /// Producer group → connection id → client.
        var producers: [String: [UInt64: RegisteredClient]] = [:]
        /// Consumer group → state.
        var consumers: [String: ConsumerGroupState] = [:]
    }

    /// Every group.
    private let state = Mutex(State())

    /// An empty registry.
    public init() {}

    /// Records a consumer's heartbeat for one group. Returns true when the group's membership or
    /// subscriptions changed (a new client, or a new or changed subscription), so rebalancing is due.
    public func registerConsumer(_ data: ConsumerData, client: RegisteredClient) -> Bool {
        state.withLock { state in
            var group = state.consumers[data.groupName] ?? ConsumerGroupState(
                groupName: data.groupName, consumeType: data.consumeType, messageModel: data.messageModel,
                consumeFromWhere: data.consumeFromWhere)
            group.consumeType = data.consumeType
            group.messageModel = data.messageModel
            group.consumeFromWhere = data.consumeFromWhere
            let joined = group.clients[client.channel.id] == nil
            group.clients[client.channel.id] = client
            var subscriptions: [String: SubscriptionData] = [:]
            for subscription in data.subscriptionDataSet { subscriptions[subscription.topic] = subscription }
            let resubscribed = Self.subscriptionsDiffer(group.subscriptions, subscriptions)
            if resubscribed { group.subscriptions = subscriptions }
            state.consumers[data.groupName] = group
            return joined || resubscribed
        }
    }

    /// True when the topics differ or an expression changed. A higher `subVersion` alone is not a
    /// change: clients refresh it on every rebalance.
    private static func subscriptionsDiffer(_ old: [String: SubscriptionData], _ new: [String: SubscriptionData]) -> Bool {
        guard Set(old.keys) == Set(new.keys) else { return true }
        return new.contains { topic, subscription in
            old[topic]?.subString != subscription.subString || old[topic]?.expressionType != subscription.expressionType
        }
    }

    /// Records a producer's heartbeat for one group.
    public func registerProducer(group: String, client: RegisteredClient) {
        state.withLock { $0.producers[group, default: [:]][client.channel.id] = client }
    }

    /// Removes a consumer (UNREGISTER_CLIENT); true when it was a member. An emptied group is dropped.
    public func unregisterConsumer(group: String, channelId: UInt64) -> Bool {
        state.withLock { state in
            guard state.consumers[group]?.clients.removeValue(forKey: channelId) != nil else { return false }
            if state.consumers[group]?.clients.isEmpty == true { state.consumers[group] = nil }
            return true
        }
    }

    /// Removes a producer (UNREGISTER_CLIENT).
    public func unregisterProducer(group: String, channelId: UInt64) {
        state.withLock { state in
            state.producers[group]?.removeValue(forKey: channelId)
            if state.producers[group]?.isEmpty == true { state.producers[group] = nil }
        }
    }

    /// Removes every registration of a closed connection; returns the consumer groups that lost a member.
    public func connectionClosed(_ channelId: UInt64) -> [String] {
        removeClients { $0.channel.id == channelId }.changedGroups
    }

    /// Removes clients silent for longer than `expiry` ms; returns them (so their connections can be
    /// closed) and the consumer groups that lost a member.
    public func expire(now: Int64, expiry: Int64 = ClientRegistry.defaultExpiry) -> (expired: [RegisteredClient], changedGroups: [String]) {
        removeClients { now - $0.lastHeartbeat > expiry }
    }

    /// Removes every client `doomed` selects, from all groups.
    private func removeClients(where doomed: (RegisteredClient) -> Bool) -> (expired: [RegisteredClient], changedGroups: [String]) {
        state.withLock { state in
            var removed: [UInt64: RegisteredClient] = [:]
            var changed: [String] = []
            for (name, var group) in state.consumers {
                let leaving = group.clients.filter { doomed($0.value) }
                guard !leaving.isEmpty else { continue }
                for (id, client) in leaving { removed[id] = client; group.clients[id] = nil }
                changed.append(name)
                state.consumers[name] = group.clients.isEmpty ? nil : group
            }
            for (name, var clients) in state.producers {
                let leaving = clients.filter { doomed($0.value) }
                guard !leaving.isEmpty else { continue }
                for (id, client) in leaving { removed[id] = client; clients[id] = nil }
                state.producers[name] = clients.isEmpty ? nil : clients
            }
            return (Array(removed.values), changed.sorted())
        }
    }

    /// A consumer group's state, nil when no client of it is connected.
    public func consumerGroup(_ name: String) -> ConsumerGroupState? {
        state.withLock { $0.consumers[name] }
    }

    /// The client ids of a consumer group (empty when none).
    public func consumerIds(group: String) -> [String] {
        state.withLock { $0.consumers[group]?.clientIds ?? [] }
    }

    /// The connections of a consumer group's clients.
    public func consumerChannels(group: String) -> [any ClientChannel] {
        state.withLock { $0.consumers[group]?.clients.values.map(\.channel) ?? [] }
    }

    /// The connection of one client of a consumer group.
    public func consumerChannel(group: String, clientId: String) -> (any ClientChannel)? {
        state.withLock { $0.consumers[group]?.clients.values.first { $0.clientId == clientId }?.channel }
    }

    /// A consumer group's subscription to `topic`, nil when it has none.
    public func subscription(group: String, topic: String) -> SubscriptionData? {
        state.withLock { $0.consumers[group]?.subscriptions[topic] }
    }

    /// The connections of a producer group's clients.
    public func producerChannels(group: String) -> [any ClientChannel] {
        state.withLock { $0.producers[group]?.values.map(\.channel) ?? [] }
    }

    /// Names of the consumer groups with a connected client.
    public var consumerGroupNames: [String] { state.withLock { $0.consumers.keys.sorted() } }
}

/// A client connection as the broker uses it: to identify the peer, to send it broker-to-client
/// requests (NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_RUNNING_INFO, spec §3), and to close it
/// when it falls silent.
///
/// `RemotingConnection` is the real one; the protocol exists so the request handler can be driven
/// directly, without sockets, and so tests can see what the broker sends to clients.
public protocol ClientChannel: AnyObject, Sendable {
    /// Unique per connection; the registry keys clients by it.
    var id: UInt64 { get }
    /// The peer as `ip:port` (`[ip]:port` for IPv6).
    var remoteAddress: String { get }
    /// Sends a request that expects no response.
    func invokeOneway(_ request: RemotingCommand) async throws(RemotingError)
    /// Sends a request and waits at most `timeout` for its response.
    func invoke(_ request: RemotingCommand, timeout: Duration) async throws(RemotingError) -> RemotingCommand
    /// Closes the connection.
    func close()
    /// Answers `request`, which the event loop took on (`EventLoopAnswer.later`), with the response
    /// `build` makes on the connection's event loop; callable from any thread, never blocks.
    func answerLater(_ request: RemotingCommand, building build: @escaping @Sendable () -> RemotingCommand)
}

extension RemotingConnection: ClientChannel {}
