import NIOCore
import PetrelCore
import PetrelNameServer
import PetrelRemoting
import PetrelTestSupport
import Testing

@Suite("Name server over TCP")
struct NameServerTransportTests {
    @Test("a registered broker's two topics route to its advertised address")
    func registerAndRoute() async throws {
        try await NameServerFixture.with { server in
            let registration = try await server.registerBroker(topics: ["TopicA": 4, "TopicB": 8])
            #expect(registration.responseCode == .success)
            #expect(registration.extFields.isEmpty, "a master gets no masterAddr/haServerAddr")
            #expect(registration.body == nil, "no ORDER_TOPIC_CONFIG namespace yet")

            let routeA = try #require(try await server.route("TopicA"))
            #expect(routeA.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: .readWrite)])
            #expect(routeA.brokerDatas == [BrokerData(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: [0: "10.1.2.3:10911"])])
            let routeB = try #require(try await server.route("TopicB"))
            #expect(routeB.queueDatas.map(\.writeQueueNums) == [8])

            let raw = try await server.invoke(.getRouteinfoByTopic, ["topic": "TopicA"])
            let text = String(buffer: try #require(raw.body))
            #expect(text.contains(#""brokerAddrs":{"0":"10.1.2.3:10911"}"#), "broker ids must be quoted keys: \(text)")
        }
    }

    @Test("a slave is told its master's address and HA address; a wrong body CRC is refused")
    func slaveAndChecksum() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4])
            let slave = try await server.registerBroker(address: "10.1.2.4:10911", id: 1, topics: ["TopicA": 4])
            #expect(slave.extFields == ["masterAddr": "10.1.2.3:10911", "haServerAddr": "10.1.2.3:10912"])

            let fields = [
                "brokerName": "broker-b", "brokerAddr": "10.9.9.9:10911", "clusterName": "DefaultCluster",
                "haServerAddr": "10.9.9.9:10912", "brokerId": "0", "bodyCrc32": "12345",
            ]
            let body = ByteBuffer(bytes: registrationBody(["TopicZ": 4]).jsonBytes())
            let refused = try await server.invoke(.registerBroker, fields, body: body)
            #expect(refused.responseCode == .systemError)
            #expect(refused.remark?.contains("CRC32") == true)
            #expect(try await server.route("TopicZ") == nil)
        }
    }

    @Test("an unknown topic is TOPIC_NOT_EXIST with a remark naming it")
    func unknownTopic() async throws {
        try await NameServerFixture.with { server in
            let response = try await server.invoke(.getRouteinfoByTopic, ["topic": "NoSuchTopic"])
            #expect(response.responseCode == .topicNotExist)
            #expect(response.remark?.contains("NoSuchTopic") == true)
            #expect(response.body == nil)
        }
    }

    @Test("cluster info and the topic lists describe the registered brokers")
    func clusterInfoAndTopicLists() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4])
            _ = try await server.registerBroker(name: "broker-b", address: "10.1.2.5:10911", cluster: "OtherCluster", topics: ["TopicB": 2])

            let info = try ClusterInfo(jsonBuffer: try #require(try await server.invoke(.getBrokerClusterInfo).body))
            #expect(info.clusterAddrTable == ["DefaultCluster": ["broker-a"], "OtherCluster": ["broker-b"]])
            #expect(info.brokerAddrTable["broker-b"]?.masterAddress == "10.1.2.5:10911")

            let all = try TopicList(jsonBuffer: try #require(try await server.invoke(.getAllTopicListFromNameserver).body))
            #expect(all.topicList == ["TopicA", "TopicB"])
            let byCluster = try await server.invoke(.getTopicsByCluster, ["cluster": "OtherCluster"])
            #expect(try TopicList(jsonBuffer: try #require(byCluster.body)).topicList == ["TopicB"])
            let system = try TopicList(jsonBuffer: try #require(try await server.invoke(.getSystemTopicListFromNs).body))
            #expect(system.topicList == ["DefaultCluster", "OtherCluster", "broker-a", "broker-b"])
            #expect(system.brokerAddr == "10.1.2.3:10911")
            for code in [RequestCode.getUnitTopicList, .getHasUnitSubTopicList, .getHasUnitSubUnunitTopicList] {
                let units = try await server.invoke(code)
                #expect(try TopicList(jsonBuffer: try #require(units.body)).topicList.isEmpty)
            }
        }
    }

    @Test("KV put, get, list and delete; a missing entry is QUERY_NOT_FOUND")
    func keyValueConfiguration() async throws {
        try await NameServerFixture.with { server in
            let put = try await server.invoke(.putKvConfig, ["namespace": "ns", "key": "k", "value": "v1"])
            #expect(put.responseCode == .success)
            let get = try await server.invoke(.getKvConfig, ["namespace": "ns", "key": "k"])
            #expect(get.responseCode == .success && get.extFields == ["value": "v1"])
            let list = try await server.invoke(.getKvlistByNamespace, ["namespace": "ns"])
            #expect(try KVTable(jsonBuffer: try #require(list.body)).table == ["k": "v1"])

            #expect(try await server.invoke(.deleteKvConfig, ["namespace": "ns", "key": "k"]).responseCode == .success)
            let gone = try await server.invoke(.getKvConfig, ["namespace": "ns", "key": "k"])
            #expect(gone.responseCode == .queryNotFound && gone.extFields["value"] == nil)
            #expect(try await server.invoke(.getKvlistByNamespace, ["namespace": "ns"]).responseCode == .queryNotFound)
        }
    }

    @Test("an unregistered broker's topics lose their routes")
    func unregister() async throws {
        try await NameServerFixture.with { server in
            _ = try await server.registerBroker(topics: ["TopicA": 4])
            let fields = ["brokerName": "broker-a", "brokerAddr": "10.1.2.3:10911", "clusterName": "DefaultCluster", "brokerId": "0"]
            #expect(try await server.invoke(.unregisterBroker, fields).responseCode == .success)
            #expect(try await server.route("TopicA") == nil)
            #expect(server.nameServer.registry.liveBrokers().isEmpty)
        }
    }

    @Test("closing a broker's connection removes its brokers and routes")
    func closedConnectionRemovesBroker() async throws {
        try await NameServerFixture.with { server in
            let brokerClient = NameServerFixture.makeClient()
            _ = try await server.registerBroker(topics: ["TopicA": 4], via: brokerClient)
            #expect(try await server.route("TopicA") != nil)
            await brokerClient.shutdown()
            #expect(try await eventually { try await server.route("TopicA") == nil })
            #expect(server.nameServer.registry.liveBrokers().isEmpty)
        }
    }

    @Test("a silent broker expires and its connection is closed")
    func silentBrokerExpires() async throws {
        try await NameServerFixture.with(brokerExpiry: .seconds(10), scanInterval: .milliseconds(100)) { server in
            let brokerClient = NameServerFixture.makeClient()
            _ = try await server.registerBroker(topics: ["TopicA": 4], via: brokerClient)
            let connection = try await brokerClient.connection(to: server.address)
            #expect(try await server.route("TopicA") != nil)
            #expect(try await eventually { try await server.route("TopicA") == nil })
            #expect(await eventually { !connection.isActive }, "the name server closes an expired broker's connection")
            await brokerClient.shutdown()
        }
    }

    @Test("an unknown request code is REQUEST_CODE_NOT_SUPPORTED")
    func unknownCode() async throws {
        try await NameServerFixture.with { server in
            let response = try await server.invoke(RequestCode(rawValue: 9999))
            #expect(response.responseCode == .requestCodeNotSupported)
            #expect(response.remark == "request code 9999 not supported")
        }
    }

    @Test("a missing or malformed field is SYSTEM_ERROR with a remark naming it")
    func missingField() async throws {
        try await NameServerFixture.with { server in
            let noTopic = try await server.invoke(.getRouteinfoByTopic)
            #expect(noTopic.responseCode == .systemError)
            #expect(noTopic.remark?.contains("topic") == true)

            var fields = ["brokerName": "broker-a", "brokerAddr": "10.1.2.3:10911", "clusterName": "DefaultCluster", "haServerAddr": "x:1"]
            let noId = try await server.invoke(.registerBroker, fields)
            #expect(noId.responseCode == .systemError && noId.remark?.contains("brokerId") == true)
            fields["brokerId"] = "master"
            let badId = try await server.invoke(.registerBroker, fields)
            #expect(badId.responseCode == .systemError && badId.remark?.contains("brokerId") == true)
            #expect(server.nameServer.registry.liveBrokers().isEmpty)
        }
    }
}
