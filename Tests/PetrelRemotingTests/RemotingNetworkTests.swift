import NIOCore
import NIOPosix
import PetrelRemoting
import PetrelTestSupport
import Synchronization
import Testing

/// Answers CHECK_TRANSACTION_STATE the way a Petrel producer would, so server-to-client calls can be tested.
struct ClientSideHandler: RemotingRequestHandler {
    /// Answers with a remark echoing the question.
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        guard request.requestCode == .checkTransactionState else { return nil }
        return request.response(remark: "client says: \(request.extFields["question"] ?? "?")")
    }
}

@Suite("Remoting over TCP")
struct RemotingNetworkTests {
    /// A client on the shared event loop group.
    static func makeClient(handler: (any RemotingRequestHandler)? = nil) -> RemotingClient {
        RemotingClient(group: MultiThreadedEventLoopGroup.singleton, requestHandler: handler)
    }

    /// The code of the `RemotingError` `body` throws; records an issue when it returns.
    static func failure<Value>(_ body: () async throws(RemotingError) -> Value) async -> RemotingError? {
        do {
            let value = try await body()
            Issue.record("expected an error, got \(value)")
            return nil
        } catch {
            return error
        }
    }

    @Test("request and response, with fields and body, in both serialize types", arguments: [SerializeType.json, .rocketmq])
    func requestResponse(type: SerializeType) async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            var request = RemotingCommand.request(code: TestCode.echo, extFields: ["topic": "T"], body: ByteBuffer(string: "payload"))
            request.serializeType = type
            let response = try await client.invoke(address: server.address, request: request, timeout: .seconds(20))
            #expect(response.isResponse)
            #expect(response.opaque == request.opaque)
            #expect(response.serializeType == type)
            #expect(response.remark == "echo")
            #expect(response.extFields == ["topic": "T"])
            #expect(response.body == ByteBuffer(string: "payload"))
            await client.shutdown()
        }
    }

    @Test("200 concurrent requests on one connection are matched by opaque despite answering out of order")
    func concurrentRequests() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let request = RemotingCommand.request(
                            code: TestCode.sleep, extFields: ["index": "\(index)", "sleepMilliseconds": "\(Int.random(in: 0...40))"])
                        let response = try await client.invoke(address: server.address, request: request, timeout: .seconds(20))
                        #expect(response.opaque == request.opaque)
                        #expect(response.extFields["index"] == "\(index)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(server.counter.opened.load(ordering: .relaxed) == 1)
            #expect(server.server.connections.count == 1)
            await client.shutdown()
        }
    }

    @Test("a oneway request is handled but never answered; a flag=0 request whose handler returns nil is")
    func onewayAndAlwaysAnswered() async throws {
        try await ServerFixture.with { server in
            let peer = try await RawPeer.connect(port: server.port)
            var oneway = RemotingCommand.request(code: TestCode.echo)
            oneway.flag = RemotingCommand.onewayFlag
            try await peer.send(oneway)
            #expect(await eventually { server.handler.count(of: TestCode.echo) == 1 })
            // C++ sends its oneway requests with flag 0: they are answered even when the handler has nothing to say.
            let silent = RemotingCommand.request(code: TestCode.silent)
            try await peer.send(silent)
            #expect(await eventually { (try? peer.responses().count) == 1 })
            try await Task.sleep(for: .milliseconds(50))
            let responses = try peer.responses()
            #expect(responses.count == 1)
            #expect(responses.first?.opaque == silent.opaque)
            #expect(responses.first?.responseCode == .success)
            #expect(responses.first?.flag == 1)
            try await peer.channel.close()
        }
    }

    @Test("the client's invokeOneway sets the oneway flag and gets no response")
    func clientOneway() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            try await client.invokeOneway(address: server.address, request: .request(code: TestCode.echo))
            #expect(await eventually { server.handler.count(of: TestCode.echo) == 1 })
            #expect(server.handler.received.withLock { $0.first?.isOneway } == true)
            await client.shutdown()
        }
    }

    @Test("the server invokes the client over the client's connection and the client's handler answers")
    func serverToClient() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient(handler: ClientSideHandler())
            let response = try await client.invoke(address: server.address, request: .request(code: TestCode.callBack), timeout: .seconds(20))
            #expect(response.responseCode == .success)
            #expect(response.remark == "client says: state?")
            // Without a handler the client answers REQUEST_CODE_NOT_SUPPORTED.
            let plainClient = Self.makeClient()
            let refused = try await plainClient.invoke(address: server.address, request: .request(code: TestCode.callBack), timeout: .seconds(20))
            #expect(refused.responseCode == .success)
            #expect(refused.remark == " request type 39 not supported")
            await client.shutdown()
            await plainClient.shutdown()
        }
    }

    @Test("an unencodable response becomes SYSTEM_ERROR; an unencodable request fails alone")
    func unencodableResponse() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            var request = RemotingCommand.request(code: TestCode.unencodable)
            request.serializeType = .rocketmq
            let response = try await client.invoke(address: server.address, request: request, timeout: .seconds(20))
            #expect(response.responseCode == .systemError)
            #expect(response.remark?.contains("could not encode") == true)
            // An unencodable request fails alone; the connection keeps working.
            var unencodable = RemotingCommand.request(code: .popMessage)
            unencodable.serializeType = .rocketmq
            let error = await Self.failure { () async throws(RemotingError) in
                try await client.invoke(address: server.address, request: unencodable, timeout: .seconds(20))
            }
            #expect(error?.code == .encodeFailed)
            let next = try await client.invoke(address: server.address, request: request, timeout: .seconds(20))
            #expect(next.responseCode == .systemError)
            #expect(server.counter.opened.load(ordering: .relaxed) == 1)
            await client.shutdown()
        }
    }

    @Test("a slow response times out, is dropped when it arrives, and the connection stays usable")
    func timeout() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            let slow = RemotingCommand.request(code: TestCode.sleep, extFields: ["sleepMilliseconds": "300"])
            let error = await Self.failure { () async throws(RemotingError) in
                try await client.invoke(address: server.address, request: slow, timeout: .milliseconds(100))
            }
            #expect(error?.code == .timeout)
            try await Task.sleep(for: .milliseconds(300))
            let next = try await client.invoke(address: server.address, request: .request(code: TestCode.echo), timeout: .seconds(20))
            #expect(next.remark == "echo")
            #expect(server.counter.opened.load(ordering: .relaxed) == 1)
            await client.shutdown()
        }
    }

    @Test("connecting to a closed port is .connectFailed naming the address")
    func connectionRefused() async throws {
        var freePort = 0
        try await ServerFixture.with { server in freePort = server.port }
        let client = Self.makeClient()
        let address = "127.0.0.1:\(freePort)"
        let error = await Self.failure { () async throws(RemotingError) in
            try await client.invoke(address: address, request: .request(code: TestCode.echo), timeout: .seconds(20))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.description.contains(address) == true)
        let malformed = await Self.failure { () async throws(RemotingError) in
            try await client.invoke(address: "no-port", request: .request(code: TestCode.echo), timeout: .seconds(20))
        }
        #expect(malformed?.code == .invalidAddress)
        await client.shutdown()
    }

    @Test("when the server closes the connection, pending requests fail and the next call reconnects")
    func reconnect() async throws {
        try await ServerFixture.with { server in
            let client = Self.makeClient()
            let error = await Self.failure { () async throws(RemotingError) in
                // The server closes at once; the long timeout only matters on a heavily loaded machine.
                try await client.invoke(address: server.address, request: .request(code: TestCode.closeConnection), timeout: .seconds(30))
            }
            #expect(error?.code == .connectionClosed)
            let response = try await client.invoke(address: server.address, request: .request(code: TestCode.echo), timeout: .seconds(20))
            #expect(response.remark == "echo")
            #expect(server.counter.opened.load(ordering: .relaxed) == 2)
            #expect(await eventually { server.counter.closed.load(ordering: .relaxed) == 1 })
            await client.shutdown()
            let afterShutdown = await Self.failure { () async throws(RemotingError) in
                try await client.invoke(address: server.address, request: .request(code: TestCode.echo), timeout: .seconds(20))
            }
            #expect(afterShutdown?.code == .shutDown)
        }
    }

    @Test("server shutdown closes every connection and fires the close callback")
    func serverShutdown() async throws {
        let handler = TestHandler()
        let closed = Atomic<Int>(0)
        let server = RemotingServer(
            host: "127.0.0.1", group: MultiThreadedEventLoopGroup.singleton, handler: handler,
            onConnectionClosed: { _ in closed.add(1, ordering: .relaxed) })
        let port = try await server.start()
        #expect(server.port == port)
        let peers = [try await RawPeer.connect(port: port), try await RawPeer.connect(port: port)]
        #expect(await eventually { server.connections.count == 2 })
        await server.shutdown()
        for peer in peers {
            #expect(await peer.isClosed())
        }
        #expect(closed.load(ordering: .relaxed) == 2)
        #expect(server.port == nil)
    }
}
