import PetrelCore
import PetrelRemoting

/// What consumers add to the client instance: requests addressed by broker name.
extension ClientInstance {
    /// Sends `request` to the master of the broker named `brokerName`, as known from fetched routes.
    /// Throws `.brokerNotFound` when no route named that broker's master yet.
    func invoke(brokerName: String, request: RemotingCommand, timeout: Duration? = nil) async throws(ClientError) -> RemotingCommand {
        guard let address = masterAddress(brokerName: brokerName) else {
            throw ClientError(.brokerNotFound, "no master address known for broker \(brokerName); fetch a route that names it first")
        }
        return try await invoke(address: address, request: request, timeout: timeout)
    }
}
