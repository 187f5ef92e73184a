import PetrelCore
import Synchronization

/// The name server's route tables, without any transport: which broker groups exist, where they
/// live, which topics they host, and the name server's KV configuration (spec §4.1, §6).
///
/// It follows Java's `RouteInfoManager`: brokers register every 30 s; topic queue data is taken only
/// from masters, and only when their data version changed or on first registration; brokers silent
/// for 120 s, or whose connection closes, are dropped, and with the last member of a broker group go
/// its topic queues. Time is passed in (`now`, ms since the epoch) so behaviour is testable without
/// sleeping. All operations are serialised by one lock; each is a handful of dictionary operations.
public final class RouteRegistry: Sendable {
    /// Silence after which a broker is dropped (Java `BROKER_CHANNEL_EXPIRED_TIME`, spec §21).
    public static let defaultBrokerTimeout: Int64 = 120_000
    /// The KV namespace holding ordered-topic queue layouts (`brokerA:4;brokerB:4`), returned to
    /// registering brokers and optionally added to routes as `orderTopicConf`.
    public static let orderTopicConfigNamespace = "ORDER_TOPIC_CONFIG"

    /// The tables, behind the lock.
    let tables: Mutex<RouteTables>

    /// An empty registry, optionally seeded with KV configuration restored from disk
    /// (namespace → key → value).
    public init(kvConfig: [String: [String: String]] = [:]) {
        var initial = RouteTables()
        initial.kvConfig = kvConfig
        tables = Mutex(initial)
    }

    /// Records a broker's (re-)registration (REGISTER_BROKER, 103).
    ///
    /// - Parameters:
    ///   - cluster: the broker's cluster, e.g. `DefaultCluster`.
    ///   - brokerName: the broker group (shared by master and slaves).
    ///   - brokerAddress: the `ip:port` clients connect to.
    ///   - brokerId: 0 for the master, 1… for slaves.
    ///   - haServerAddress: where slaves replicate from (kept for the slaves' registration answers).
    ///   - body: the broker's topics and their data version.
    ///   - connectionId: the transport's id for the connection the request came on, so the broker can
    ///     be dropped when it closes.
    ///   - now: the current time, ms.
    /// - Returns: for a slave, its master's address and HA address, when the master is registered.
    @discardableResult
    public func registerBroker(
        cluster: String, brokerName: String, brokerAddress: String, brokerId: Int64, haServerAddress: String,
        body: RegisterBrokerBody, connectionId: UInt64, now: Int64
    ) throws(NameServerError) -> RegisterResult {
        guard !cluster.isEmpty, !brokerName.isEmpty, !brokerAddress.isEmpty else {
            throw NameServerError(.invalidRequest, "registration needs a cluster, broker name and broker address")
        }
        guard brokerId >= 0 else { throw NameServerError(.invalidRequest, "broker id \(brokerId) is negative") }
        let broker = LiveBroker(
            address: brokerAddress, cluster: cluster, brokerName: brokerName, brokerId: brokerId,
            haServerAddress: haServerAddress, dataVersion: body.dataVersion, connectionId: connectionId,
            lastUpdateTimestamp: now)
        return tables.withLock { tables in tables.register(broker, body: body) }
    }

    /// Removes one broker at its own request (UNREGISTER_BROKER, 104). Returns false when it was not registered.
    @discardableResult
    public func unregisterBroker(cluster: String, brokerName: String, brokerAddress: String, brokerId: Int64) -> Bool {
        tables.withLock { tables in
            let live = tables.brokerLiveTable.removeValue(forKey: brokerAddress)
            tables.filterServerTable.removeValue(forKey: brokerAddress)
            let identity = live ?? LiveBroker(
                address: brokerAddress, cluster: cluster, brokerName: brokerName, brokerId: brokerId,
                haServerAddress: "", dataVersion: DataVersion(), connectionId: 0, lastUpdateTimestamp: 0)
            let removedAddress = tables.removeAddress(of: identity)
            return live != nil || removedAddress
        }
    }

    /// Drops every broker not heard from for longer than `timeout` ms (the 10-second scan of spec §6.4).
    /// Returns the dropped brokers, so the transport can close their connections.
    @discardableResult
    public func expireBrokers(now: Int64, timeout: Int64 = RouteRegistry.defaultBrokerTimeout) -> [LiveBroker] {
        tables.withLock { tables in
            let expired = tables.brokerLiveTable.values.filter { $0.lastUpdateTimestamp + timeout < now }
            for broker in expired { tables.remove(broker) }
            return expired.sorted { $0.address < $1.address }
        }
    }

    /// Drops every broker registered over the connection `connectionId`, which has closed.
    @discardableResult
    public func connectionClosed(_ connectionId: UInt64) -> [LiveBroker] {
        tables.withLock { tables in
            let gone = tables.brokerLiveTable.values.filter { $0.connectionId == connectionId }
            for broker in gone { tables.remove(broker) }
            return gone.sorted { $0.address < $1.address }
        }
    }

    /// Answers QUERY_DATA_VERSION (322): whether the broker's `dataVersion` differs from the one the
    /// name server holds. An unchanged version counts as a sign of life, as in Java.
    public func queryDataVersion(brokerAddress: String, dataVersion: DataVersion, now: Int64) -> DataVersionQueryResult {
        tables.withLock { tables in
            let current = tables.brokerLiveTable[brokerAddress]?.dataVersion
            let changed = current != dataVersion
            if !changed { tables.brokerLiveTable[brokerAddress]?.lastUpdateTimestamp = now }
            return DataVersionQueryResult(changed: changed, current: current)
        }
    }

    /// Every registered broker, keyed by address (for diagnostics and tests).
    public func liveBrokers() -> [String: LiveBroker] {
        tables.withLock { $0.brokerLiveTable }
    }
}

extension RouteRegistry {
    /// Decodes a REGISTER_BROKER body as its header describes it (spec §6.4): checks `bodyCrc32`
    /// when it is non-zero (CRC-32 of the body as sent, sign bit cleared), then decodes the plain JSON
    /// or, when `compressed`, the zlib form. An empty body is an empty registration, as Java treats it.
    public static func decodeRegistrationBody(
        _ body: [UInt8], compressed: Bool, bodyCrc32: Int32
    ) throws(NameServerError) -> RegisterBrokerBody {
        if bodyCrc32 != 0 {
            let actual = body.withUnsafeBytes { CRC32.bodyChecksum($0) }
            guard actual == bodyCrc32 else {
                throw NameServerError(.checksumMismatch, "registration body CRC32 is \(actual), the header says \(bodyCrc32)")
            }
        }
        guard !body.isEmpty else { return RegisterBrokerBody() }
        do {
            return try RegisterBrokerBody(body: body, compressed: compressed)
        } catch {
            throw NameServerError(malformedBody: error, decoding: compressed ? "compressed registration body" : "registration body")
        }
    }
}

/// What a registering broker is told (REGISTER_BROKER response header, spec §4.1).
public struct RegisterResult: Hashable, Sendable {
    /// For a slave: its master's address, when the master is registered; nil for masters.
    public var masterAddress: String?
    /// For a slave: the master's HA address, when the master is registered; nil for masters.
    public var haServerAddress: String?

    /// A result.
    public init(masterAddress: String? = nil, haServerAddress: String? = nil) {
        self.masterAddress = masterAddress
        self.haServerAddress = haServerAddress
    }
}

/// The answer to QUERY_DATA_VERSION.
public struct DataVersionQueryResult: Hashable, Sendable {
    /// True when the broker's version differs from the registered one (or it is not registered).
    public var changed: Bool
    /// The version the name server holds, nil when the broker is not registered.
    public var current: DataVersion?

    /// A result.
    public init(changed: Bool, current: DataVersion?) {
        self.changed = changed
        self.current = current
    }
}

/// One registered broker, as the live-broker table keeps it.
public struct LiveBroker: Hashable, Sendable {
    /// `ip:port`, the table key.
    public var address: String
    /// Its cluster.
    public var cluster: String
    /// Its broker group.
    public var brokerName: String
    /// 0 for a master.
    public var brokerId: Int64
    /// Where its slaves replicate from.
    public var haServerAddress: String
    /// The data version of its last registration.
    public var dataVersion: DataVersion
    /// The transport connection it registered over.
    public var connectionId: UInt64
    /// When it last registered (ms).
    public var lastUpdateTimestamp: Int64

    /// A live-broker record.
    public init(
        address: String, cluster: String, brokerName: String, brokerId: Int64, haServerAddress: String,
        dataVersion: DataVersion, connectionId: UInt64, lastUpdateTimestamp: Int64
    ) {
        self.address = address
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.haServerAddress = haServerAddress
        self.dataVersion = dataVersion
        self.connectionId = connectionId
        self.lastUpdateTimestamp = lastUpdateTimestamp
    }
}
