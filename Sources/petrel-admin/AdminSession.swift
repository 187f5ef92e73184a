import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting

/// A connection to a name server and the brokers it names, with the look-ups the subcommands share.
final class AdminSession: Sendable {
    /// How long one request may take.
    static let timeout = Duration.seconds(10)
    /// The template topic new topics are created from.
    static let defaultTopic = "TBW102"

    /// The name server, `host:port`.
    let nameServer: String
    /// The event loops the client runs on.
    private let group: MultiThreadedEventLoopGroup
    /// The remoting client.
    private let client: RemotingClient

    /// A session on `nameServer`; connections open on first use.
    init(nameServer: String) {
        self.nameServer = nameServer
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        client = RemotingClient(group: group)
    }

    /// Closes the connections and stops the event loops.
    func close() async {
        await client.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Sends one request to `address`; `role` ("name server", "broker") names the peer in errors.
    func call(
        _ address: String, _ code: RequestCode, _ fields: [String: String] = [:], body: ByteBuffer? = nil,
        role: String = "broker"
    ) async throws(AdminError) -> RemotingCommand {
        let request = RemotingCommand.request(code: code, extFields: fields, body: body)
        do {
            return try await client.invoke(address: address, request: request, timeout: Self.timeout)
        } catch {
            throw AdminError("cannot reach \(role) \(address): \(error.message)")
        }
    }

    /// Sends one request to the name server.
    func callNameServer(_ code: RequestCode, _ fields: [String: String] = [:]) async throws(AdminError) -> RemotingCommand {
        try await call(nameServer, code, fields, role: "name server")
    }

    /// `response` when it is SUCCESS, else an error naming `action` and the peer's remark.
    @discardableResult
    func expectSuccess(_ response: RemotingCommand, _ action: String) throws(AdminError) -> RemotingCommand {
        guard response.responseCode == .success else {
            throw AdminError("\(action) failed: code \(response.code), \(response.remark ?? "no remark")")
        }
        return response
    }

    /// Decodes a JSON body as `T`.
    func decode<T: JSONConvertible>(_ type: T.Type, _ response: RemotingCommand, _ what: String) throws(AdminError) -> T {
        guard let body = response.body else { throw AdminError("the \(what) response has no body") }
        do { return try T(jsonBuffer: body) } catch { throw AdminError("the \(what) response is not valid: \(error)") }
    }

    /// A standard-JSON body.
    func decodeJSON(_ response: RemotingCommand, _ what: String) throws(AdminError) -> JSONValue {
        guard let body = response.body else { throw AdminError("the \(what) response has no body") }
        do { return try JSONValue.parse(body) } catch { throw AdminError("the \(what) response is not valid JSON: \(error)") }
    }

    /// The topic's route; "topic X does not exist" when the name server has none.
    func route(topic: String) async throws(AdminError) -> TopicRouteData {
        let response = try await callNameServer(.getRouteinfoByTopic, ["topic": topic])
        if response.responseCode == .topicNotExist { throw AdminError("topic \(topic) does not exist") }
        try expectSuccess(response, "GET_ROUTEINFO_BY_TOPIC")
        return try decode(TopicRouteData.self, response, "topic route")
    }

    /// The name server's cluster table.
    func clusterInfo() async throws(AdminError) -> ClusterInfo {
        let response = try expectSuccess(try await callNameServer(.getBrokerClusterInfo), "GET_BROKER_CLUSTER_INFO")
        return try decode(ClusterInfo.self, response, "cluster info")
    }

    /// Every topic the name server knows.
    func topicList() async throws(AdminError) -> TopicList {
        let response = try expectSuccess(try await callNameServer(.getAllTopicListFromNameserver), "GET_ALL_TOPIC_LIST")
        return try decode(TopicList.self, response, "topic list")
    }

    /// The master addresses of `cluster`'s broker groups, by broker name.
    func masters(cluster: String) async throws(AdminError) -> [(name: String, address: String)] {
        let info = try await clusterInfo()
        guard let names = info.clusterAddrTable[cluster] else { throw AdminError("cluster \(cluster) does not exist") }
        return names.sorted().compactMap { name in
            info.brokerAddrTable[name]?.masterAddress.map { (name, $0) }
        }
    }

    /// The master addresses of every broker group.
    func allMasters() async throws(AdminError) -> [(name: String, address: String)] {
        let info = try await clusterInfo()
        return info.brokerAddrTable.keys.sorted().compactMap { name in
            info.brokerAddrTable[name]?.masterAddress.map { (name, $0) }
        }
    }

    /// Where to send a broker-level admin request: `-b` as given, else every master of `-c`.
    func targets(cluster: String?, broker: String?) async throws(AdminError) -> [String] {
        if let broker { return [broker] }
        guard let cluster else { throw AdminError("give a cluster with -c or a broker address with -b") }
        let masters = try await masters(cluster: cluster)
        guard !masters.isEmpty else { throw AdminError("cluster \(cluster) has no master broker") }
        return masters.map(\.address)
    }

    /// The master address of `brokerName` in `route`.
    func masterAddress(_ route: TopicRouteData, brokerName: String) throws(AdminError) -> String {
        guard let address = route.brokerDatas.first(where: { $0.brokerName == brokerName })?.masterAddress else {
            throw AdminError("broker \(brokerName) has no master in the topic's route")
        }
        return address
    }

    /// Decodes a body of stored records.
    static func storedMessages(_ body: ByteBuffer?) throws(AdminError) -> [StoredMessage] {
        guard let body, body.readableBytes > 0 else { return [] }
        do {
            return try body.withUnsafeReadableBytes { bytes in try StoredMessageCodec.decodeAll(bytes, verifyChecksum: false) }
        } catch {
            throw AdminError("cannot decode the stored messages: \(error)")
        }
    }
}
