import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting

/// A consumer's own connection to name servers and brokers: route lookups, broker addresses,
/// heartbeats every 30 s and NOTIFY_CONSUMER_IDS_CHANGED. Used when no shared client instance is given.
final class StandaloneConsumerClient: ConsumerClient, RemotingRequestHandler {
    /// Mutable state, guarded by `state`'s lock.
    private struct State {
        /// Master addresses by broker name, from every route fetched.
        var brokerAddresses: [String: String] = [:]
        /// Registered consumer groups.
        var registrations: [String: ConsumerRegistration] = [:]
        /// The heartbeat loop.
        var heartbeatTask: Task<Void, Never>?
    }

    /// Process-wide counter making client ids of consumers in one process distinct.
    private static let instanceCounter = NIOLockedValueBox(0)

    /// Name servers to ask for routes.
    let nameServerAddresses: [String]
    /// This client's id.
    let clientId: String
    /// Timeout of requests other than pulls.
    let requestTimeout: Duration
    /// The connections.
    private let remoting: NIOLockedValueBox<RemotingClient?> = NIOLockedValueBox(nil)
    /// Broker addresses and registrations.
    private let state = NIOLockedValueBox(State())
    /// Where the client reports.
    private let logger: Logger

    /// A client talking to `nameServerAddresses`; `instanceName` becomes part of the client id.
    init(nameServerAddresses: [String], instanceName: String, requestTimeout: Duration = .seconds(3), logger: Logger) {
        let number = Self.instanceCounter.withLockedValue { counter in
            counter += 1
            return counter
        }
        self.nameServerAddresses = nameServerAddresses
        self.clientId = "127.0.0.1@\(ProcessInfo.processInfo.processIdentifier)#\(instanceName)#\(number)"
        self.requestTimeout = requestTimeout
        self.logger = logger
        let client = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, requestHandler: self, logger: logger)
        remoting.withLockedValue { $0 = client }
    }

    /// The connections (set in `init`).
    private var client: RemotingClient { remoting.withLockedValue { $0! } }

    /// GET_ROUTEINFO_BY_TOPIC from the first name server that answers; remembers broker addresses.
    func topicRoute(_ topic: String) async throws -> TopicRouteData {
        var lastError: any Error = ConsumerFailure("no name server configured")
        for address in nameServerAddresses {
            do {
                let request = RemotingCommand.request(code: .getRouteinfoByTopic, extFields: ["topic": topic])
                let response = try await client.invoke(address: address, request: request, timeout: requestTimeout)
                guard response.responseCode == .success, let body = response.body else {
                    throw ConsumerFailure("no route for topic \(topic): code \(response.code) \(response.remark ?? "")")
                }
                let route = try TopicRouteData(jsonBuffer: body)
                state.withLockedValue { state in
                    for broker in route.brokerDatas {
                        if let master = broker.masterAddress { state.brokerAddresses[broker.brokerName] = master }
                    }
                }
                return route
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Sends to the broker's master address.
    func invoke(brokerName: String, request: RemotingCommand, timeout: Duration) async throws -> RemotingCommand {
        guard let address = state.withLockedValue({ $0.brokerAddresses[brokerName] }) else {
            throw ConsumerFailure("no address known for broker \(brokerName)")
        }
        return try await client.invoke(address: address, request: request, timeout: timeout)
    }

    /// Sends to `address`.
    func invoke(address: String, request: RemotingCommand, timeout: Duration) async throws -> RemotingCommand {
        try await client.invoke(address: address, request: request, timeout: timeout)
    }

    /// Adds the group and starts the heartbeat loop on first use.
    func register(_ registration: ConsumerRegistration) async {
        state.withLockedValue { state in
            state.registrations[registration.group] = registration
            if state.heartbeatTask == nil {
                state.heartbeatTask = Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(30))
                        await self?.sendHeartbeatNow()
                    }
                }
            }
        }
    }

    /// Removes the group and tells every broker.
    func unregister(group: String) async {
        let addresses = state.withLockedValue { state in
            state.registrations[group] = nil
            return Set(state.brokerAddresses.values)
        }
        for address in addresses {
            let request = RemotingCommand.request(
                code: .unregisterClient, extFields: ["clientID": clientId, "consumerGroup": group, "producerGroup": ""])
            do {
                _ = try await client.invoke(address: address, request: request, timeout: requestTimeout)
            } catch {
                logger.warning("unregistering failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            }
        }
    }

    /// HEART_BEAT with every registered group to every known broker.
    func sendHeartbeatNow() async {
        let (addresses, registrations) = state.withLockedValue { (Set($0.brokerAddresses.values), Array($0.registrations.values)) }
        guard !registrations.isEmpty else { return }
        let heartbeat = HeartbeatData(clientID: clientId, consumerDataSet: registrations.map { $0.consumerData() })
        for address in addresses {
            do {
                let request = RemotingCommand.request(code: .heartBeat, body: heartbeat.jsonBuffer())
                _ = try await client.invoke(address: address, request: request, timeout: requestTimeout)
            } catch {
                logger.warning("heartbeat failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            }
        }
    }

    /// Stops the heartbeat and closes every connection.
    func shutdown() async {
        state.withLockedValue { $0.heartbeatTask?.cancel() }
        await client.shutdown()
    }

    /// Broker requests: NOTIFY_CONSUMER_IDS_CHANGED triggers the group's rebalance; others are declined.
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        guard request.requestCode == .notifyConsumerIdsChanged else {
            return request.response(code: .requestCodeNotSupported, remark: "request type \(request.code) not supported")
        }
        if let group = request.optionalString("consumerGroup"),
            let registration = state.withLockedValue({ $0.registrations[group] }) {
            registration.consumerIdsChanged()
        }
        return nil
    }
}
