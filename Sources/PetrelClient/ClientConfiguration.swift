import Foundation
import NIOCore
import NIOPosix
import PetrelRemoting

/// The header serialization of a client's requests (the frame's serialize type, spec §1).
public enum HeaderEncoding: String, Sendable, Hashable, CaseIterable {
    /// RocketMQ's binary layout (serializeType 1, `ROCKETMQ`): the default.
    case binary
    /// JSON text (serializeType 0), what RocketMQ's Java client sends unless told otherwise.
    case json

    /// The frame's serialize type for this encoding.
    public var serializeType: SerializeType {
        switch self {
        case .binary: .rocketmq
        case .json: .json
        }
    }
}

/// What a client instance needs to reach the cluster and how often it refreshes its view of it.
///
/// Defaults follow RocketMQ's Java client (`ClientConfig`): routes polled every 30 s, heartbeats every
/// 30 s, 3 s request timeout. The client id is `clientIP@instanceName` as in Java; two producers or
/// consumers with the same client id in one process share one `ClientInstance`.
public struct ClientConfiguration: Sendable, Hashable {
    /// The instance name Java replaces with a per-process value; Petrel does the same.
    public static let defaultInstanceName = "DEFAULT"

    /// Name servers as `host:port`; requests go to one of them and move to the next on failure.
    public var nameServerAddresses: [String]
    /// The instance part of the client id. `DEFAULT` (or nil at creation) becomes `pid#nanoseconds`,
    /// as in Java 4.9, so separately created clients get separate instances unless named alike.
    public var instanceName: String
    /// The address reported in the client id; by default the first non-loopback IPv4 address.
    public var clientIP: String
    /// Optional unit name, appended to the client id as `@unitName` (Java's unit deployments).
    public var unitName: String?
    /// How long a request to a name server or broker may take when the caller gives no timeout.
    public var requestTimeout: Duration
    /// How often the routes of every known topic are fetched again (Java `pollNameServerInterval`).
    public var pollNameServerInterval: Duration
    /// How often every known broker gets a heartbeat (Java `heartbeatBrokerInterval`).
    public var heartbeatBrokerInterval: Duration
    /// Label of the instance's logger.
    public var loggerLabel: String
    /// Frame limit and connect timeout of the remoting connections.
    public var connectTimeout: Duration
    /// How request headers are encoded. Binary by default: it costs a fraction of JSON to write and
    /// to read, and RocketMQ brokers and name servers (Java 4.x included) decode either form and
    /// answer in the request's.
    public var headerEncoding: HeaderEncoding

    /// A configuration with Java's defaults for everything not given.
    public init(
        nameServerAddresses: [String], instanceName: String? = nil, clientIP: String? = nil, unitName: String? = nil,
        requestTimeout: Duration = .seconds(3), pollNameServerInterval: Duration = .seconds(30),
        heartbeatBrokerInterval: Duration = .seconds(30),
        loggerLabel: String = "petrel.client", connectTimeout: Duration = .seconds(3),
        headerEncoding: HeaderEncoding = .binary
    ) {
        self.nameServerAddresses = nameServerAddresses
        if let instanceName, instanceName != Self.defaultInstanceName, !instanceName.isEmpty {
            self.instanceName = instanceName
        } else {
            self.instanceName = Self.processInstanceName()
        }
        self.clientIP = clientIP ?? Self.localIPv4Address()
        self.unitName = unitName
        self.requestTimeout = requestTimeout
        self.pollNameServerInterval = pollNameServerInterval
        self.heartbeatBrokerInterval = heartbeatBrokerInterval
        self.loggerLabel = loggerLabel
        self.connectTimeout = connectTimeout
        self.headerEncoding = headerEncoding
    }

    /// A configuration for the `;`-separated name-server list RocketMQ tools take (`namesrvAddr`).
    public init(nameServers: String) {
        self.init(nameServerAddresses: nameServers.split(separator: ";").map {
            String($0).trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty })
    }

    /// `clientIP@instanceName[@unitName]`, the id brokers know this client by (Java `buildMQClientId`).
    public var clientId: String {
        var id = "\(clientIP)@\(instanceName)"
        if let unitName, !unitName.isEmpty { id += "@\(unitName)" }
        return id
    }

    /// Checks the values a client cannot work without; the error names the setting.
    public func validate() throws(ClientError) {
        guard !nameServerAddresses.isEmpty else {
            throw ClientError(.invalidConfiguration, "nameServerAddresses is empty: give at least one name server as host:port")
        }
        for address in nameServerAddresses where !Self.looksLikeHostAndPort(address) {
            throw ClientError(.invalidConfiguration, "name server address '\(address)' is not host:port")
        }
        guard requestTimeout > .zero else { throw ClientError(.invalidConfiguration, "requestTimeout must be positive") }
        guard pollNameServerInterval > .zero, heartbeatBrokerInterval > .zero else {
            throw ClientError(.invalidConfiguration, "pollNameServerInterval and heartbeatBrokerInterval must be positive")
        }
    }

    /// The remoting settings derived from this configuration.
    var remotingConfiguration: RemotingConfiguration {
        RemotingConfiguration(connectTimeout: connectTimeout)
    }

    /// True for `host:port` with a port in range.
    static func looksLikeHostAndPort(_ address: String) -> Bool {
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
              let port = Int(address[address.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }

    /// `pid#nanoseconds`: unique per process and per call, as Java's `changeInstanceNameToPID`.
    static func processInstanceName() -> String {
        "\(getpid())#\(DispatchTime.now().uptimeNanoseconds)"
    }

    /// The first IPv4 address of an up, non-loopback interface, else `127.0.0.1` (Java prefers a
    /// site-local IPv4 address the same way, and falls back to the loopback address).
    public static func localIPv4Address() -> String {
        guard let devices = try? NIOCore.System.enumerateDevices() else { return "127.0.0.1" }
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress else { continue }
            if ip.hasPrefix("127.") || ip == "0.0.0.0" { continue }
            return ip
        }
        return "127.0.0.1"
    }
}
