import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import Synchronization

/// The name server's request processor (Java `DefaultRequestProcessor`): answers every name-server
/// request code of spec §4.1 from a `RouteRegistry`.
///
/// Failures are answers, never exceptions: a missing or malformed header field or body is answered
/// SYSTEM_ERROR with a remark naming the field (the typed accessors' message), a lookup miss with the
/// code the spec gives (TOPIC_NOT_EXIST, QUERY_NOT_FOUND), and an unknown code with
/// REQUEST_CODE_NOT_SUPPORTED. Every failure is also logged with the peer's address.
///
/// Brokers are tied to the connection they registered over (the registry keeps each broker's
/// connection id), so the owner calls `connectionClosed(_:)` from the server's close callback to drop
/// the brokers of a closed connection, as Java's `BrokerHousekeepingService` does.
public final class NameServerRequestHandler: RemotingRequestHandler {
    /// The route tables this handler reads and changes.
    public let registry: RouteRegistry
    /// Where failures and broker arrivals are reported.
    let logger: Logger
    /// The current time in ms; injectable so expiry can be tested without waiting.
    let clock: @Sendable () -> Int64
    /// The settings GET_NAMESRV_CONFIG reports and UPDATE_NAMESRV_CONFIG may change.
    let settings: Mutex<NameServerConfiguration>

    /// A handler over `registry`.
    ///
    /// - Parameters:
    ///   - registry: the route tables; a fresh, empty one unless given.
    ///   - configuration: the settings reported by GET_NAMESRV_CONFIG; `orderMessageEnable` decides
    ///     whether routes carry `orderTopicConf`.
    ///   - logger: where failures are reported.
    ///   - clock: milliseconds since the epoch, the registrations' timestamps.
    public init(
        registry: RouteRegistry = RouteRegistry(), configuration: NameServerConfiguration = NameServerConfiguration(),
        logger: Logger = Logger(label: "petrel.namesrv"),
        clock: @escaping @Sendable () -> Int64 = NameServerClock.nowMilliseconds
    ) {
        self.registry = registry
        self.logger = logger
        self.clock = clock
        self.settings = Mutex(configuration)
    }

    /// Answers `request`, which arrived on `connection`.
    public func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        var logger = logger
        logger[metadataKey: "remote"] = "\(connection.remoteAddress)"
        return response(to: request, connectionId: connection.id, logger: logger)
    }

    /// The answer to `request` as if it came over the connection `connectionId`, without a network
    /// (for embedding and tests). Never throws: every failure is an error response.
    public func response(to request: RemotingCommand, connectionId: UInt64) -> RemotingCommand {
        response(to: request, connectionId: connectionId, logger: logger)
    }

    /// Drops the brokers registered over a connection that closed; returns them.
    @discardableResult
    public func connectionClosed(_ connectionId: UInt64) -> [LiveBroker] {
        let gone = registry.connectionClosed(connectionId)
        for broker in gone {
            logger.info(
                "broker connection closed, broker removed",
                metadata: ["broker": "\(broker.brokerName)", "brokerId": "\(broker.brokerId)", "address": "\(broker.address)"])
        }
        return gone
    }

    /// Records the port the server actually listens on, so GET_NAMESRV_CONFIG reports it rather than 0.
    func listening(on port: Int) {
        settings.withLock { $0.port = port }
    }

    /// Runs `request` and turns any failure into its error response.
    private func response(to request: RemotingCommand, connectionId: UInt64, logger: Logger) -> RemotingCommand {
        do {
            return try dispatch(request, connectionId: connectionId, logger: logger)
        } catch {
            return failure(request, error, logger: logger)
        }
    }

    /// The per-code processing.
    private func dispatch(_ request: RemotingCommand, connectionId: UInt64, logger: Logger) throws -> RemotingCommand {
        switch request.requestCode {
        case .putKvConfig: return try putKV(request)
        case .getKvConfig: return try getKV(request)
        case .deleteKvConfig: return try deleteKV(request)
        case .getKvlistByNamespace: return try listKV(request)
        case .registerBroker: return try registerBroker(request, connectionId: connectionId, logger: logger)
        case .unregisterBroker: return try unregisterBroker(request, logger: logger)
        case .queryDataVersion: return try queryDataVersion(request)
        case .getRouteinfoByTopic: return try route(request)
        case .getBrokerClusterInfo: return Self.json(request, registry.clusterInfo())
        case .wipeWritePermOfBroker: return try changeWritePermission(request, grant: false, logger: logger)
        case .addWritePermOfBroker: return try changeWritePermission(request, grant: true, logger: logger)
        case .getAllTopicListFromNameserver: return Self.json(request, registry.allTopics())
        case .deleteTopicInNamesrv: return try deleteTopic(request, logger: logger)
        case .getTopicsByCluster: return Self.json(request, registry.topics(cluster: try request.string("cluster")))
        case .getSystemTopicListFromNs: return Self.json(request, registry.systemTopics())
        case .getUnitTopicList: return Self.json(request, registry.unitTopics())
        case .getHasUnitSubTopicList: return Self.json(request, registry.unitSubscriptionTopics())
        case .getHasUnitSubUnunitTopicList: return Self.json(request, registry.unitSubscriptionNonUnitTopics())
        case .getNamesrvConfig: return configurationText(request)
        case .updateNamesrvConfig: return try updateConfiguration(request, logger: logger)
        default:
            // 5.x clients probe with codes a 4.x name server does not know; answering 3 is their cue.
            logger.info("unsupported request code", metadata: ["code": "\(request.code)", "language": "\(request.language.name)"])
            return request.response(code: .requestCodeNotSupported, remark: "request code \(request.code) not supported")
        }
    }

    /// The SYSTEM_ERROR answer to a failed request, with the error's message as remark, logged.
    private func failure(_ request: RemotingCommand, _ error: any Error, logger: Logger) -> RemotingCommand {
        let remark: String
        switch error {
        case let error as RemotingError: remark = error.message
        case let error as NameServerError: remark = error.message
        default: remark = "\(error)"
        }
        let code = RequestCode(rawValue: request.code)
        logger.warning("request failed", metadata: ["code": "\(code)", "error": "\(error)"])
        return request.response(code: .systemError, remark: remark)
    }

    /// A SUCCESS answer whose body is `value`'s JSON (standard JSON, quoted keys, spec §6).
    static func json(_ request: RemotingCommand, _ value: some JSONConvertible) -> RemotingCommand {
        request.response(body: value.jsonBuffer())
    }

    /// The request body's bytes; empty when there is none.
    static func bodyBytes(of request: RemotingCommand) -> [UInt8] {
        guard let body = request.body else { return [] }
        return Array(body.readableBytesView)
    }
}

// MARK: KV configuration (100, 101, 102, 219)

extension NameServerRequestHandler {
    /// PUT_KV_CONFIG (100).
    func putKV(_ request: RemotingCommand) throws -> RemotingCommand {
        let namespace = try request.string("namespace")
        let key = try request.string("key")
        let value = try request.string("value")
        registry.putKV(namespace: namespace, key: key, value: value)
        return request.response()
    }

    /// GET_KV_CONFIG (101): the value in ext `value`, or QUERY_NOT_FOUND.
    func getKV(_ request: RemotingCommand) throws -> RemotingCommand {
        let namespace = try request.string("namespace")
        let key = try request.string("key")
        guard let value = registry.getKV(namespace: namespace, key: key) else {
            return request.response(code: .queryNotFound, remark: "No config item, Namespace: \(namespace) Key: \(key)")
        }
        return request.response(extFields: ["value": value])
    }

    /// DELETE_KV_CONFIG (102): SUCCESS whether or not the entry existed, as in Java.
    func deleteKV(_ request: RemotingCommand) throws -> RemotingCommand {
        let namespace = try request.string("namespace")
        let key = try request.string("key")
        registry.deleteKV(namespace: namespace, key: key)
        return request.response()
    }

    /// GET_KVLIST_BY_NAMESPACE (219): a KVTable, or QUERY_NOT_FOUND for an unknown namespace.
    func listKV(_ request: RemotingCommand) throws -> RemotingCommand {
        let namespace = try request.string("namespace")
        guard let table = registry.listKV(namespace: namespace) else {
            return request.response(code: .queryNotFound, remark: "No config item, Namespace: \(namespace)")
        }
        return Self.json(request, table)
    }
}
