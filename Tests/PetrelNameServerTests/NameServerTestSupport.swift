import NIOCore
import NIOPosix
import PetrelCore
import PetrelNameServer
import PetrelRemoting
import PetrelTestSupport
import Synchronization
import Testing

/// A running name server on 127.0.0.1 with a free port, driven through its `run()` as a service
/// group would, and a client to talk to it.
struct NameServerFixture {
    /// The server.
    let nameServer: NameServer
    /// A client for requests that are not a broker's (route queries, admin).
    let client: RemotingClient
    /// The bound port.
    let port: Int

    /// `127.0.0.1:port`.
    var address: String { "127.0.0.1:\(port)" }

    /// Starts a name server, runs `body`, then cancels `run()` and waits for it to shut the server
    /// down, whatever `body` did.
    static func with(
        brokerExpiry: Duration = .seconds(120), scanInterval: Duration = .seconds(10),
        _ body: (NameServerFixture) async throws -> Void
    ) async throws {
        let configuration = NameServerConfiguration(host: "127.0.0.1", port: 0, brokerExpiry: brokerExpiry, scanInterval: scanInterval)
        let nameServer = NameServer(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
        let port = try await nameServer.start()
        let running = Task { try await nameServer.run() }
        let fixture = NameServerFixture(nameServer: nameServer, client: makeClient(), port: port)
        var failure: (any Error)?
        do {
            try await body(fixture)
        } catch {
            failure = error
        }
        await fixture.client.shutdown()
        running.cancel()
        try await running.value
        #expect(nameServer.port == nil, "run() must shut the listener down when cancelled")
        if let failure { throw failure }
    }

    /// A client on the shared event loop group.
    static func makeClient() -> RemotingClient {
        RemotingClient(group: MultiThreadedEventLoopGroup.singleton)
    }

    /// Sends a request with `fields` and `body` through `client` (the fixture's unless given).
    func invoke(
        _ code: RequestCode, _ fields: [String: String] = [:], body: ByteBuffer? = nil, via client: RemotingClient? = nil
    ) async throws -> RemotingCommand {
        let request = RemotingCommand.request(code: code, extFields: fields, body: body)
        return try await (client ?? self.client).invoke(address: address, request: request, timeout: .seconds(20))
    }

    /// Registers a broker the way a Petrel or Java broker does (REGISTER_BROKER with a JSON body and
    /// its CRC), through `client` so the broker's connection can be closed separately.
    func registerBroker(
        name: String = "broker-a", address brokerAddress: String = "10.1.2.3:10911", id: Int64 = 0,
        cluster: String = "DefaultCluster", topics: [String: Int32], counter: Int64 = 1, via client: RemotingClient? = nil
    ) async throws -> RemotingCommand {
        let body = registrationBody(topics, counter: counter).jsonBytes()
        let checksum = body.withUnsafeBytes { CRC32.bodyChecksum($0) }
        let fields = [
            "brokerName": name, "brokerAddr": brokerAddress, "clusterName": cluster, "haServerAddr": haAddress(of: brokerAddress),
            "brokerId": String(id), "compressed": "false", "bodyCrc32": String(checksum),
        ]
        return try await invoke(.registerBroker, fields, body: ByteBuffer(bytes: body), via: client)
    }

    /// The route of `topic`, or nil when the answer is TOPIC_NOT_EXIST.
    func route(_ topic: String) async throws -> TopicRouteData? {
        let response = try await invoke(.getRouteinfoByTopic, ["topic": topic])
        if response.responseCode == .topicNotExist { return nil }
        #expect(response.responseCode == .success, "route query failed: \(response)")
        return try TopicRouteData(jsonBuffer: try #require(response.body))
    }

    /// The HA address tests give a broker: its address with port 10912.
    func haAddress(of brokerAddress: String) -> String {
        brokerAddress.replacingPort(with: "10912")
    }
}

/// A TCP peer that writes hand-made frames and reads the raw answer, to check exactly what a C++
/// client would receive (spec §2.1, §20).
typealias RawSocket = RawConnection<UInt8>

extension RawConnection where Element == UInt8 {
    /// Connects to 127.0.0.1:`port`, keeping every byte that arrives.
    static func connect(port: Int) async throws -> RawSocket {
        try await connect(port: port) { store in [ReceivingHandler(store: store) { $0.append(contentsOf: $1.readableBytesView) }] }
    }

    /// The first complete frame received since the last call, split into the second int's type byte,
    /// the header text and the body; waits up to 3 s.
    func receiveFrame() async throws -> (serializeType: UInt8, header: String, body: [UInt8]) {
        #expect(await eventually { frameLength() != nil }, "no complete frame arrived")
        let length = try #require(frameLength())
        let frame = store.items.withLock { bytes in
            defer { bytes.removeFirst(4 + length) }
            return Array(bytes[4..<(4 + length)])
        }
        let second = UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3])
        let headerLength = Int(second & 0x00FF_FFFF)
        let header = String(decoding: frame[4..<(4 + headerLength)], as: UTF8.self)
        return (UInt8(second >> 24), header, Array(frame[(4 + headerLength)...]))
    }

    /// The `length` of the first frame if it has fully arrived.
    private func frameLength() -> Int? {
        store.items.withLock { bytes in
            guard bytes.count >= 4 else { return nil }
            let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            return bytes.count >= 4 + length ? length : nil
        }
    }

    /// Closes the socket.
    func close() async throws {
        try await channel.close()
    }
}

/// A frame as the C++ client writes it: `length`, header length with type byte 0, the JSON header
/// text (which, from jsoncpp, ends with `\n`), no body.
func cppFrame(header: String) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    return bigEndianBytes(Int32(4 + headerBytes.count)) + bigEndianBytes(Int32(headerBytes.count)) + headerBytes
}
