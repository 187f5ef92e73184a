import PetrelCore
import PetrelRemoting

/// Supplies a consumer group's current heartbeat entry (group, consume type, message model,
/// consume-from-where, subscriptions); called for every heartbeat, so it can change over time.
public typealias ConsumerDataProvider = @Sendable () -> ConsumerData

/// The producer and consumer groups registered in a client instance.
struct GroupRegistrations: Sendable {
    /// Producer group names.
    var producerGroups: Set<String> = []
    /// Consumer groups and their heartbeat providers.
    var consumers: [String: ConsumerDataProvider] = [:]

    /// Whether no group is registered.
    var isEmpty: Bool { producerGroups.isEmpty && consumers.isEmpty }
}

/// Group registration, heartbeats (HEART_BEAT 34) and UNREGISTER_CLIENT (35), spec §7 and §20.
extension ClientInstance {
    /// Registers a producer group; heartbeats name it from now on. Throws `.groupAlreadyRegistered`
    /// when this instance already has it (Java refuses the same way), `.invalidArgument` for an empty name.
    public func registerProducer(group: String) throws(ClientError) {
        guard !group.isEmpty else { throw ClientError(.invalidArgument, "the producer group name is empty") }
        let inserted = registrations.withLock { $0.producerGroups.insert(group).inserted }
        guard inserted else {
            throw ClientError(.groupAlreadyRegistered, "producer group \(group) is already registered in client \(clientId); use another group or instance name")
        }
    }

    /// Removes a producer group and tells every known broker (UNREGISTER_CLIENT with `producerGroup`).
    public func unregisterProducer(group: String) async {
        let removed = registrations.withLock { $0.producerGroups.remove(group) != nil }
        if removed { await unregisterClient(producerGroup: group, consumerGroup: nil) }
    }

    /// Registers a consumer group whose heartbeat entry `provider` supplies. Throws
    /// `.groupAlreadyRegistered` when this instance already has the group.
    public func registerConsumer(group: String, provider: @escaping ConsumerDataProvider) throws(ClientError) {
        guard !group.isEmpty else { throw ClientError(.invalidArgument, "the consumer group name is empty") }
        let inserted = registrations.withLock { registrations -> Bool in
            guard registrations.consumers[group] == nil else { return false }
            registrations.consumers[group] = provider
            return true
        }
        guard inserted else {
            throw ClientError(.groupAlreadyRegistered, "consumer group \(group) is already registered in client \(clientId); use another group or instance name")
        }
    }

    /// Removes a consumer group and tells every known broker (UNREGISTER_CLIENT with `consumerGroup`).
    public func unregisterConsumer(group: String) async {
        let removed = registrations.withLock { $0.consumers.removeValue(forKey: group) != nil }
        if removed { await unregisterClient(producerGroup: nil, consumerGroup: group) }
    }

    /// The heartbeat body for the groups registered now; nil when there are none.
    public func heartbeatData() -> HeartbeatData? {
        let current = registrations.withLock { $0 }
        guard !current.isEmpty else { return nil }
        return HeartbeatData(
            clientID: clientId,
            producerDataSet: current.producerGroups.sorted().map { ProducerData(groupName: $0) },
            consumerDataSet: current.consumers.keys.sorted().compactMap { current.consumers[$0]?() })
    }

    /// Sends a heartbeat to every known broker: masters only while no consumer is registered (Java
    /// skips slaves for producer-only clients), every broker otherwise. Returns how many brokers
    /// answered SUCCESS; failures are logged and retried at the next interval.
    @discardableResult
    public func sendHeartbeatToAllBrokers() async -> Int {
        guard let data = heartbeatData() else { return 0 }
        let includeSlaves = !data.consumerDataSet.isEmpty
        let targets = Set(knownBrokers.values.flatMap { addresses in
            addresses.filter { includeSlaves || $0.key == BrokerData.masterBrokerId }.values
        })
        return await withTaskGroup(of: Bool.self) { group in
            for address in targets {
                group.addTask { await self.sendHeartbeat(data, to: address) }
            }
            var succeeded = 0
            for await success in group where success { succeeded += 1 }
            return succeeded
        }
    }

    /// Sends the current heartbeat to one broker; true when it answered SUCCESS.
    @discardableResult
    func sendHeartbeat(to address: String) async -> Bool {
        guard let data = heartbeatData() else { return false }
        return await sendHeartbeat(data, to: address)
    }

    /// Sends `data` to `address`; true when it answered SUCCESS.
    private func sendHeartbeat(_ data: HeartbeatData, to address: String) async -> Bool {
        let request = RemotingCommand.request(code: .heartBeat, body: data.jsonBuffer())
        do {
            let response = try await invoke(address: address, request: request)
            guard response.responseCode == .success else {
                logger.warning("broker refused the heartbeat", metadata: [
                    "broker": "\(address)", "code": "\(response.code)", "remark": "\(response.remark ?? "")",
                ])
                return false
            }
            return true
        } catch {
            logger.warning("heartbeat failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            return false
        }
    }

    /// UNREGISTER_CLIENT (35) to every known broker for one group; failures are logged only, since
    /// brokers also drop a client whose connection closes.
    func unregisterClient(producerGroup: String?, consumerGroup: String?) async {
        var fields = ["clientID": clientId]
        if let producerGroup { fields["producerGroup"] = producerGroup }
        if let consumerGroup { fields["consumerGroup"] = consumerGroup }
        let addresses = Set(knownBrokers.values.flatMap(\.values))
        for address in addresses.sorted() {
            let request = RemotingCommand.request(code: .unregisterClient, extFields: fields)
            do {
                let response = try await invoke(address: address, request: request)
                if response.responseCode != .success {
                    logger.debug("broker refused UNREGISTER_CLIENT", metadata: ["broker": "\(address)", "code": "\(response.code)"])
                }
            } catch {
                logger.debug("UNREGISTER_CLIENT failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            }
        }
    }
}
