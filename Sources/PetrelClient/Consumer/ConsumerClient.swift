import PetrelCore
import PetrelRemoting

/// What a consumer needs from the process's client: identity, routes, requests to brokers, and a
/// place in the heartbeat. Kept narrow so a consumer works over the shared client instance as well
/// as over the small standalone connection used until that instance exists.
protocol ConsumerClient: Sendable {
    /// This client's id as brokers see it (heartbeat `clientID`, consumer lists, locks).
    var clientId: String { get }
    /// The route of `topic`, fetched from a name server.
    func topicRoute(_ topic: String) async throws -> TopicRouteData
    /// Sends `request` to the master of the broker named `brokerName` (known from fetched routes).
    func invoke(brokerName: String, request: RemotingCommand, timeout: Duration) async throws -> RemotingCommand
    /// Sends `request` to `address` (`host:port`).
    func invoke(address: String, request: RemotingCommand, timeout: Duration) async throws -> RemotingCommand
    /// Includes `registration`'s group in every heartbeat and routes NOTIFY_CONSUMER_IDS_CHANGED for it.
    func register(_ registration: ConsumerRegistration) async
    /// Removes the group from heartbeats and sends UNREGISTER_CLIENT to the brokers.
    func unregister(group: String) async
    /// Sends a heartbeat to every known broker now.
    func sendHeartbeatNow() async
    /// Closes connections (for a client owned by one consumer).
    func shutdown() async
}

/// A consumer group's entry in the client's heartbeat and its reaction to broker notifications.
struct ConsumerRegistration: Sendable {
    /// The group.
    var group: String
    /// The group's heartbeat entry, asked for at each heartbeat (subscriptions may change).
    var consumerData: @Sendable () -> ConsumerData
    /// Called when a broker sends NOTIFY_CONSUMER_IDS_CHANGED for the group.
    var consumerIdsChanged: @Sendable () -> Void
}
