import NIOCore
import NIOPosix
import PetrelRemoting
import PetrelTestSupport
import Testing

/// One kind of bad input a peer can send.
struct BadInput: CustomTestStringConvertible, Sendable {
    /// What the case shows.
    let name: String
    /// The bytes sent.
    let bytes: [UInt8]

    /// The case's name in test output.
    var testDescription: String { name }

    /// A frame with a valid length and the given second int and header.
    static func frame(typeAndLength: UInt32, header: [UInt8]) -> [UInt8] {
        bigEndianBytes(Int32(4 + header.count)) + bigEndianBytes(Int32(bitPattern: typeAndLength)) + header
    }

    /// Every case that must get the connection closed by the server.
    static let all: [BadInput] = {
        let brokenJSON = Array(#"{"code":10,"opaque":"#.utf8)
        let noCode = Array(#"{"opaque":1,"flag":0}"#.utf8)
        let validRequest = (try? RemotingCommandCodec.encode(.request(code: TestCode.echo))).map { Array($0.readableBytesView) } ?? []
        return [
            BadInput(name: "garbage (an HTTP request)", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
            BadInput(name: "oversized length", bytes: bigEndianBytes(16 * 1024 * 1024 + 1) + [0, 0, 0, 0]),
            BadInput(name: "negative length", bytes: bigEndianBytes(-8) + Array(repeating: 0, count: 8)),
            BadInput(name: "length too short for the header length", bytes: bigEndianBytes(2) + [0, 0]),
            BadInput(name: "header length beyond the frame", bytes: bigEndianBytes(6) + bigEndianBytes(100) + [0x7B, 0x7D]),
            BadInput(name: "broken JSON header", bytes: frame(typeAndLength: UInt32(brokenJSON.count), header: brokenJSON)),
            BadInput(
                name: "broken JSON header, then a valid request in the same write",
                bytes: frame(typeAndLength: UInt32(brokenJSON.count), header: brokenJSON) + validRequest),
            BadInput(name: "JSON header without code", bytes: frame(typeAndLength: UInt32(noCode.count), header: noCode)),
            BadInput(name: "unknown serialize type", bytes: frame(typeAndLength: 7 << 24 | 2, header: [0x7B, 0x7D])),
            BadInput(name: "truncated binary header", bytes: frame(typeAndLength: 1 << 24 | 3, header: [0, 10, 1])),
        ]
    }()
}

@Suite("Bad input over TCP")
struct BadInputTests {
    /// Checks that a healthy client still gets answers from `server`.
    static func expectHealthy(_ client: RemotingClient, _ server: ServerFixture) async throws {
        let response = try await client.invoke(address: server.address, request: .request(code: TestCode.echo), timeout: .seconds(20))
        #expect(response.remark == "echo")
    }

    @Test("bad input closes that connection only", arguments: BadInput.all)
    func badInputClosesConnection(input: BadInput) async throws {
        try await ServerFixture.with { server in
            let client = RemotingClient(group: MultiThreadedEventLoopGroup.singleton)
            try await Self.expectHealthy(client, server)
            let peer = try await RawPeer.connect(port: server.port)
            try await peer.send(input.bytes)
            #expect(await peer.isClosed(), "the server kept the connection after \(input.name)")
            try await Task.sleep(for: .milliseconds(20))
            #expect(try peer.responses().isEmpty)
            #expect(server.handler.count(of: TestCode.echo) == 1, "a request after the bad input was handled")
            try await Self.expectHealthy(client, server)
            #expect(await eventually { server.counter.closed.load(ordering: .relaxed) == 1 })
            #expect(server.server.connections.count == 1)
            await client.shutdown()
        }
    }

    @Test("the server's configured frame cap applies: a frame just over it closes the connection")
    func configuredFrameCap() async throws {
        try await ServerFixture.with(configuration: RemotingConfiguration(maximumFrameLength: 1024)) { server in
            let client = RemotingClient(group: MultiThreadedEventLoopGroup.singleton)
            let fits = RemotingCommand.request(code: TestCode.echo, body: ByteBuffer(repeating: 1, count: 900))
            let answer = try await client.invoke(address: server.address, request: fits, timeout: .seconds(20))
            #expect(answer.body?.readableBytes == 900)
            let peer = try await RawPeer.connect(port: server.port)
            try await peer.send(RemotingCommand.request(code: TestCode.echo, body: ByteBuffer(repeating: 1, count: 1100)))
            #expect(await peer.isClosed())
            #expect(server.handler.count(of: TestCode.echo) == 1)
            await client.shutdown()
        }
    }

    @Test("a peer that hangs up inside a frame is forgotten; others keep working")
    func truncatedFrameThenClose() async throws {
        try await ServerFixture.with { server in
            let client = RemotingClient(group: MultiThreadedEventLoopGroup.singleton)
            try await Self.expectHealthy(client, server)
            let peer = try await RawPeer.connect(port: server.port)
            #expect(await eventually { server.server.connections.count == 2 })
            try await peer.send(bigEndianBytes(100) + Array(repeating: 0x7B, count: 10))
            try await peer.channel.close()
            #expect(await eventually { server.counter.closed.load(ordering: .relaxed) == 1 })
            #expect(server.server.connections.count == 1)
            try await Self.expectHealthy(client, server)
            await client.shutdown()
        }
    }

    @Test("a request split across many writes is still answered")
    func dripFedRequest() async throws {
        try await ServerFixture.with { server in
            let peer = try await RawPeer.connect(port: server.port)
            let request = RemotingCommand.request(code: TestCode.echo, extFields: ["topic": "T"], body: ByteBuffer(string: "body"))
            let frame = Array(try RemotingCommandCodec.encode(request).readableBytesView)
            for byte in frame {
                try await peer.send([byte])
            }
            #expect(await eventually { (try? peer.responses().count) == 1 })
            let response = try #require(try peer.responses().first)
            #expect(response.opaque == request.opaque)
            #expect(response.body == ByteBuffer(string: "body"))
            try await peer.channel.close()
        }
    }
}
