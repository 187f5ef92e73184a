import PetrelCore
import PetrelNameServer
import Testing

@Suite("Route registry: topic administration, permissions, KV configuration, registration bodies")
struct RouteRegistryAdminTests {
    /// Two clusters: C1 = broker-a (topics Shared, A), broker-b (Shared); C2 = broker-c (Shared, C).
    static func twoClusters() throws -> RouteRegistry {
        let registry = RouteRegistry()
        try register(registry, name: "broker-a", address: "10.0.0.1:10911", cluster: "C1", topics: ["Shared": 4, "A": 4])
        try register(registry, name: "broker-b", address: "10.0.0.2:10911", cluster: "C1", topics: ["Shared": 4])
        try register(registry, name: "broker-c", address: "10.0.0.3:10911", cluster: "C2", topics: ["Shared": 4, "C": 4])
        return registry
    }

    @Test("topic lists: all, by cluster, and Java's system-topic list")
    func topicLists() throws {
        let registry = try Self.twoClusters()
        #expect(registry.allTopics() == TopicList(topicList: ["Shared", "A", "C"]))
        #expect(registry.topics(cluster: "C1") == TopicList(topicList: ["Shared", "A"]))
        #expect(registry.topics(cluster: "C2") == TopicList(topicList: ["Shared", "C"]))
        #expect(registry.topics(cluster: "nope") == TopicList())
        let system = registry.systemTopics()
        #expect(system.topicList == ["C1", "C2", "broker-a", "broker-b", "broker-c"])
        #expect(system.brokerAddr == "10.0.0.1:10911")
        #expect(RouteRegistry().systemTopics() == TopicList())
    }

    @Test("deleting a topic in one cluster leaves the other cluster's queues; without a cluster it goes entirely")
    func deleteTopic() throws {
        let registry = try Self.twoClusters()
        #expect(registry.deleteTopic("Shared", cluster: "C1"))
        #expect(try #require(registry.route(topic: "Shared")).queueDatas.map(\.brokerName) == ["broker-c"])
        #expect(!registry.deleteTopic("Shared", cluster: "C1"))
        #expect(registry.deleteTopic("Shared", cluster: "C2"))
        #expect(registry.route(topic: "Shared") == nil)
        #expect(registry.deleteTopic("A"))
        #expect(registry.route(topic: "A") == nil)
        #expect(!registry.deleteTopic("A"))
        #expect(registry.deleteTopic("C", cluster: ""))
        #expect(registry.allTopics().topicList.isEmpty)
    }

    @Test("wiping and adding write permission counts a broker's topics and changes only its queues")
    func writePermissions() throws {
        let registry = try Self.twoClusters()
        #expect(registry.wipeWritePermission(brokerName: "broker-a") == 2)
        let shared = try #require(registry.route(topic: "Shared"))
        #expect(shared.queueDatas.map(\.perm) == [.read, .readWrite, .readWrite])
        #expect(try #require(registry.route(topic: "A")).queueDatas[0].perm == .read)
        #expect(registry.wipeWritePermission(brokerName: "nobody") == 0)
        // An unchanged re-registration does not undo the wipe (the table is not re-read).
        try register(registry, name: "broker-a", address: "10.0.0.1:10911", cluster: "C1", topics: ["Shared": 4, "A": 4])
        #expect(try #require(registry.route(topic: "A")).queueDatas[0].perm == .read)
        #expect(registry.addWritePermission(brokerName: "broker-a") == 2)
        #expect(try #require(registry.route(topic: "Shared")).queueDatas.map(\.perm) == [.readWrite, .readWrite, .readWrite])
    }

    @Test("unit-topic lists follow the topic system flags")
    func unitTopicLists() throws {
        let registry = RouteRegistry()
        var table: [String: TopicConfig] = [:]
        for (name, flag) in [("Plain", Int32(0)), ("Unit", TopicSysFlag.unit), ("UnitSub", TopicSysFlag.unitSubscription),
                             ("Both", TopicSysFlag.unit | TopicSysFlag.unitSubscription)] {
            table[name] = TopicConfig(topicName: name, topicSysFlag: flag)
        }
        try registry.registerBroker(
            cluster: "C", brokerName: "b", brokerAddress: "a:1", brokerId: 0, haServerAddress: "a:2",
            body: RegisterBrokerBody(topicConfigTable: table, dataVersion: DataVersion(counter: 1)), connectionId: 1, now: 0)
        #expect(registry.unitTopics().topicList == ["Unit", "Both"])
        #expect(registry.unitSubscriptionTopics().topicList == ["UnitSub", "Both"])
        #expect(registry.unitSubscriptionNonUnitTopics().topicList == ["UnitSub"])
    }

    @Test("KV configuration: put, get, delete, list by namespace, restore")
    func kvConfig() {
        let registry = RouteRegistry()
        registry.putKV(namespace: "ns", key: "k1", value: "v1")
        registry.putKV(namespace: "ns", key: "k2", value: "v2")
        registry.putKV(namespace: "ns", key: "k1", value: "v1b")
        registry.putKV(namespace: "other", key: "k", value: "v")
        #expect(registry.getKV(namespace: "ns", key: "k1") == "v1b")
        #expect(registry.getKV(namespace: "ns", key: "missing") == nil)
        #expect(registry.getKV(namespace: "missing", key: "k1") == nil)
        #expect(registry.listKV(namespace: "ns") == KVTable(table: ["k1": "v1b", "k2": "v2"]))
        #expect(registry.listKV(namespace: "missing") == nil)
        #expect(registry.deleteKV(namespace: "ns", key: "k1"))
        #expect(!registry.deleteKV(namespace: "ns", key: "k1"))
        #expect(registry.deleteKV(namespace: "other", key: "k"))
        #expect(registry.listKV(namespace: "other") == nil)
        let snapshot = registry.allKVConfig()
        #expect(snapshot == ["ns": ["k2": "v2"]])
        #expect(RouteRegistry(kvConfig: snapshot).getKV(namespace: "ns", key: "k2") == "v2")
    }

    @Test("ordered-topic configuration reaches routes only when asked for")
    func orderTopicConfig() throws {
        let registry = RouteRegistry()
        try register(registry, topics: ["Ordered": 4])
        registry.putKV(namespace: RouteRegistry.orderTopicConfigNamespace, key: "Ordered", value: "broker-a:4")
        #expect(try #require(registry.route(topic: "Ordered")).orderTopicConf == nil)
        #expect(try #require(registry.route(topic: "Ordered", includeOrderTopicConfig: true)).orderTopicConf == "broker-a:4")
    }

    @Test("registration bodies: CRC check, empty body, plain and compressed forms, malformed bodies")
    func registrationBodies() throws {
        let body = registrationBody(["T": 4], counter: 2)
        let plain = body.jsonBytes()
        let crc = plain.withUnsafeBytes { CRC32.bodyChecksum($0) }
        #expect(try RouteRegistry.decodeRegistrationBody(plain, compressed: false, bodyCrc32: crc) == body)
        #expect(try RouteRegistry.decodeRegistrationBody(plain, compressed: false, bodyCrc32: 0) == body)
        #expect(try RouteRegistry.decodeRegistrationBody([], compressed: false, bodyCrc32: 0) == RegisterBrokerBody())
        #expect(nameServerErrorCode { _ = try RouteRegistry.decodeRegistrationBody(plain, compressed: false, bodyCrc32: crc ^ 1) } == .checksumMismatch)
        #expect(nameServerErrorCode { _ = try RouteRegistry.decodeRegistrationBody(Array("{".utf8), compressed: false, bodyCrc32: 0) } == .malformedBody)
        #expect(nameServerErrorCode { _ = try RouteRegistry.decodeRegistrationBody(plain, compressed: true, bodyCrc32: 0) } == .malformedBody)
        // A stored-block zlib stream of the compressed layout.
        let compressed = storedZlib(body.uncompressedPayload())
        let decoded = try RouteRegistry.decodeRegistrationBody(compressed, compressed: true, bodyCrc32: 0)
        #expect(decoded.topicConfigTable == body.topicConfigTable)
        #expect(decoded.dataVersion == body.dataVersion)
    }
}

/// The code of the NameServerError `body` throws, nil when it throws nothing or something else.
func nameServerErrorCode(_ body: () throws -> Void) -> NameServerError.Code? {
    do {
        try body()
        return nil
    } catch let error as NameServerError {
        return error.code
    } catch {
        return nil
    }
}

/// `bytes` as a one-block stored zlib stream (at most 65,535 bytes).
func storedZlib(_ bytes: [UInt8]) -> [UInt8] {
    precondition(bytes.count <= 65_535)
    let length = UInt16(bytes.count), adler = Inflate.adler32(bytes)
    return [0x78, 0x01, 0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        + bytes + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
}
