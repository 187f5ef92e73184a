import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import Synchronization

/// Registers the broker and its topics with every name server (REGISTER_BROKER 103, spec §6.4)
/// and unregisters it at shutdown (UNREGISTER_BROKER 104).
///
/// A failed registration is logged and retried by the next round (the periodic loop, or the next
/// topic change); one unreachable name server never delays the others, since all are called at once.
public final class NameServerRegistrar: Sendable {
    /// How long one name server gets to answer (Java's `registerBrokerTimeoutMills`).
    public static let timeout: Duration = .seconds(6)

    /// Coalescing of registration requests.
    private struct State: Sendable {
        /// A requested registration is running.
        var running = false
        /// Another was requested meanwhile; run once more when this one ends.
        var pending = false
        /// Set by `unregisterAll`; nothing is registered after it.
        var stopped = false
    }

    /// Name-server addresses, `host:port`.
    public let addresses: [String]
    /// The connections.
    private let client: RemotingClient
    /// Who the broker is.
    private let configuration: BrokerConfiguration
    /// What is registered.
    private let topics: TopicConfigTable
    /// Where failures go.
    private let logger: Logger
    /// Coalescing state.
    private let state = Mutex(State())

    /// A registrar for the broker described by `configuration`.
    public init(addresses: [String], client: RemotingClient, configuration: BrokerConfiguration, topics: TopicConfigTable, logger: Logger) {
        self.addresses = addresses
        self.client = client
        self.configuration = configuration
        self.topics = topics
        self.logger = logger
    }

    /// The header fields identifying this broker.
    private var identity: [String: String] {
        [
            "brokerName": configuration.brokerName,
            "brokerAddr": configuration.brokerAddress,
            "clusterName": configuration.brokerClusterName,
            "brokerId": String(configuration.brokerId),
        ]
    }

    /// Registers with every name server now and returns when all answered or failed.
    public func registerAll() async {
        guard !state.withLock({ $0.stopped }) else { return }
        let body = topics.registrationBody.jsonBytes()
        var fields = identity
        // No HA replication yet; Java advertises brokerIP2:(listenPort + 1), which slaves would dial.
        fields["haServerAddr"] = "\(configuration.brokerIP1):\(configuration.listenPort + 1)"
        fields["compressed"] = "false"
        fields["bodyCrc32"] = String(body.withUnsafeBytes { CRC32.bodyChecksum($0) })
        await callAll(code: .registerBroker, fields: fields, body: ByteBuffer(bytes: body))
    }

    /// Starts a registration without waiting for it (after a topic change). Requests made while
    /// one runs are folded into a single follow-up round.
    public func requestRegistration() {
        let starts = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            if state.running {
                state.pending = true
                return false
            }
            state.running = true
            return true
        }
        guard starts else { return }
        Task {
            repeat {
                await self.registerAll()
            } while self.state.withLock { state -> Bool in
                if state.pending && !state.stopped {
                    state.pending = false
                    return true
                }
                state.running = false
                return false
            }
        }
    }

    /// Unregisters from every name server and stops further registrations.
    public func unregisterAll() async {
        state.withLock { $0.stopped = true }
        await callAll(code: .unregisterBroker, fields: identity, body: nil)
    }

    /// Sends one request to every name server concurrently; failures are logged.
    private func callAll(code: RequestCode, fields: [String: String], body: ByteBuffer?) async {
        let client = client
        let logger = logger
        await withTaskGroup(of: Void.self) { group in
            for address in addresses {
                group.addTask {
                    let request = RemotingCommand.request(code: code, extFields: fields, body: body)
                    do {
                        let response = try await client.invoke(address: address, request: request, timeout: Self.timeout)
                        if response.responseCode != .success {
                            logger.warning("name server refused \(code)", metadata: [
                                "nameServer": "\(address)", "code": "\(response.responseCode)", "remark": "\(response.remark ?? "")",
                            ])
                        }
                    } catch {
                        logger.warning("\(code) failed", metadata: ["nameServer": "\(address)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
