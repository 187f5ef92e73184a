import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelNameServer
import PetrelRemoting
import PetrelTestSupport
import ServiceLifecycle
import Testing

@Suite("Name server over TCP: C++ frames and admin requests")
struct NameServerAdminTransportTests {
    /// The C++ 1.2.3 route request of spec §2.1, byte for byte (jsoncpp ends the header with `\n`).
    static let cppRouteRequestHeader =
        #"{"code":105,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"N/YT7X6tJe5UfutmW+uNwTTJ7Fc=","topic":"TopicTest"},"flag":0,"language":"CPP","opaque":0,"remark":"","version":63}"#
        + "\n"

    /// The header of a raw answer as a JSON object, checked for what C++ needs: type byte 0 (C++ does
    /// not mask it), flag 1, the request's opaque, and every extFields value a JSON string.
    static func checkedCppAnswer(_ frame: (serializeType: UInt8, header: String, body: [UInt8])) throws -> [String: JSONValue] {
        #expect(frame.serializeType == 0, "C++ reads the header length unmasked, so the type byte must be 0")
        guard case .object(let header) = try JSONValue.parse(frame.header) else {
            Issue.record("the header is not a JSON object: \(frame.header)")
            return [:]
        }
        #expect(header["flag"] == .integer(1))
        #expect(header["opaque"] == .integer(0))
        #expect(header["language"] == .string("JAVA"))
        if case .object(let fields) = header["extFields"] {
            for (key, value) in fields {
                guard case .string = value else {
                    Issue.record("extFields \(key) is \(value), but C++ only reads string values")
                    continue
                }
            }
        }
        return header
    }

    @Test("the C++ client's exact route request frame gets TOPIC_NOT_EXIST, then the route")
    func cppRouteFrame() async throws {
        try await NameServerFixture.with { server in
            let frame = cppFrame(header: Self.cppRouteRequestHeader)
            #expect(frame.count == 4 + 193 && Array(frame[4..<8]) == [0, 0, 0, 0xBD], "the spec's observed length and header length")
            let socket = try await RawSocket.connect(port: server.port)

            try await socket.send(frame)
            let miss = try Self.checkedCppAnswer(try await socket.receiveFrame())
            #expect(miss["code"] == .integer(17))

            _ = try await server.registerBroker(address: "127.0.0.1:20911", topics: ["TopicTest": 4])
            try await socket.send(frame)
            let answer = try await socket.receiveFrame()
            let hit = try Self.checkedCppAnswer(answer)
            #expect(hit["code"] == .integer(0))
            let route = try TopicRouteData(jsonBytes: answer.body)
            #expect(route.brokerDatas.first?.brokerAddrs == [0: "127.0.0.1:20911"])
            #expect(route.queueDatas.first?.writeQueueNums == 4)

            // C++ writes some values as JSON numbers; the answer's count must still be a string.
            let wipe =
                #"{"code":205,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","brokerName":"broker-a","unused":7},"flag":0,"language":"CPP","opaque":0,"remark":"","version":63}"#
                + "\n"
            try await socket.send(cppFrame(header: wipe))
            let wiped = try Self.checkedCppAnswer(try await socket.receiveFrame())
            #expect(wiped["extFields"] == .object(["wipeTopicCount": .string("1")]))
            try await socket.close()
        }
    }

    @Test("wipe and add write permission change the routes' perm and report the topic count")
    func writePermission() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4, "TopicB": 4])
            let wipe = try await server.invoke(.wipeWritePermOfBroker, ["brokerName": "broker-a"])
            #expect(wipe.responseCode == .success && wipe.extFields == ["wipeTopicCount": "2"])
            #expect(try await server.route("TopicA")?.queueDatas.first?.perm == .read)
            let add = try await server.invoke(.addWritePermOfBroker, ["brokerName": "broker-a"])
            #expect(add.responseCode == .success && add.extFields == ["addTopicCount": "2"])
            #expect(try await server.route("TopicA")?.queueDatas.first?.perm == .readWrite)
        }
    }

    @Test("QUERY_DATA_VERSION says whether the broker's topic table changed")
    func dataVersion() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4], counter: 5)
            let fields = ["brokerName": "broker-a", "brokerAddr": "10.1.2.3:10911", "clusterName": "DefaultCluster", "brokerId": "0"]
            let registered = DataVersion(counter: 5, timestamp: 5000)
            let same = try await server.invoke(.queryDataVersion, fields, body: registered.jsonBuffer())
            #expect(same.responseCode == .success && same.extFields == ["changed": "false"])
            #expect(try DataVersion(jsonBuffer: try #require(same.body)) == registered)
            let newer = try await server.invoke(.queryDataVersion, fields, body: DataVersion(counter: 6, timestamp: 6000).jsonBuffer())
            #expect(newer.extFields == ["changed": "true"])
            let noBody = try await server.invoke(.queryDataVersion, fields)
            #expect(noBody.responseCode == .systemError && noBody.remark?.contains("DataVersion") == true)
        }
    }

    @Test("DELETE_TOPIC_IN_NAMESRV removes a topic's route")
    func deleteTopic() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4, "TopicB": 4])
            #expect(try await server.invoke(.deleteTopicInNamesrv, ["topic": "TopicA"]).responseCode == .success)
            #expect(try await server.route("TopicA") == nil)
            #expect(try await server.route("TopicB") != nil)
        }
    }

    @Test("GET/UPDATE_NAMESRV_CONFIG: the bound port is reported; orderMessageEnable adds orderTopicConf")
    func namesrvConfiguration() async throws {
        try await NameServerFixture.with { server in
            let text = String(buffer: try #require(try await server.invoke(.getNamesrvConfig).body))
            #expect(text == "listenPort=\(server.port)\norderMessageEnable=false\n")

            _ = try await server.registerBroker(topics: ["TopicA": 4])
            let order = ["namespace": RouteRegistry.orderTopicConfigNamespace, "key": "TopicA", "value": "broker-a:4"]
            _ = try await server.invoke(.putKvConfig, order)
            #expect(try await server.route("TopicA")?.orderTopicConf == nil, "off by default, as in Java")
            let enable = try await server.invoke(.updateNamesrvConfig, body: ByteBuffer(string: "orderMessageEnable=true\n"))
            #expect(enable.responseCode == .success)
            #expect(try await server.route("TopicA")?.orderTopicConf == "broker-a:4")

            let port = try await server.invoke(.updateNamesrvConfig, body: ByteBuffer(string: "listenPort=1234\n"))
            #expect(port.responseCode == .systemError && port.remark?.contains("listenPort") == true)
            let unknown = try await server.invoke(.updateNamesrvConfig, body: ByteBuffer(string: "noSuchKey=1\n"))
            #expect(unknown.responseCode == .systemError && unknown.remark?.contains("noSuchKey") == true)

            // A registering broker gets the ORDER_TOPIC_CONFIG namespace back.
            let registration = try await server.registerBroker(topics: ["TopicA": 4], counter: 2)
            #expect(try KVTable(jsonBuffer: try #require(registration.body)).table == ["TopicA": "broker-a:4"])
        }
    }
}

@Suite("Name server configuration text")
struct NameServerConfigurationTests {
    @Test("namesrv.conf lines: comments, blanks, both separators, surrounding spaces")
    func propertiesParsing() {
        let entries = PropertiesText.parse("# comment\n! also\n\n listenPort = 9877 \r\norderMessageEnable:true\nbare\n")
        #expect(entries.map(\.key) == ["listenPort", "orderMessageEnable", "bare"])
        #expect(entries.map(\.value) == ["9877", "true", ""])
    }

    @Test("known keys apply; an unknown key or a bad value stops, naming the key")
    func applyingProperties() throws {
        var configuration = NameServerConfiguration()
        try configuration.apply(properties: [(key: "listenPort", value: "9877"), (key: "orderMessageEnable", value: "TRUE")])
        #expect(configuration.port == 9877 && configuration.orderMessageEnable)
        #expect(throws: NameServerError.self) { try configuration.apply(properties: [(key: "listenport", value: "1")]) }
        do {
            try configuration.apply(properties: [(key: "brokerExpiry", value: "1")])
            Issue.record("an unknown key must be refused")
        } catch {
            #expect(error.code == .invalidConfiguration && error.message.contains("brokerExpiry"))
        }
        do {
            try configuration.apply(properties: [(key: "listenPort", value: "99999")])
            Issue.record("an out-of-range port must be refused")
        } catch {
            #expect(error.message.contains("listenPort"))
        }
    }
}

@Suite("Name server lifecycle")
struct NameServerLifecycleTests {
    @Test("run() in a service group starts the server itself and stops it on graceful shutdown")
    func serviceGroupLifecycle() async throws {
        let configuration = NameServerConfiguration(host: "127.0.0.1", port: 0)
        let nameServer = NameServer(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
        let group = ServiceGroup(services: [nameServer], logger: Logger(label: "petrel.namesrv.test"))
        let running = Task { try await group.run() }
        #expect(await eventually { nameServer.port != nil }, "run() must bind without start()")
        let port = try #require(nameServer.port)
        #expect(try await nameServer.start() == port, "start() after run() returns the same port")

        let client = NameServerFixture.makeClient()
        let request = RemotingCommand.request(code: .getBrokerClusterInfo)
        let response = try await client.invoke(address: "127.0.0.1:\(port)", request: request, timeout: .seconds(20))
        #expect(response.responseCode == .success)

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(nameServer.port == nil)
        await #expect(throws: RemotingError.self, "nothing listens after shutdown") {
            try await client.invoke(address: "127.0.0.1:\(port)", request: RemotingCommand.request(code: .getBrokerClusterInfo), timeout: .seconds(1))
        }
        await client.shutdown()
    }
}
