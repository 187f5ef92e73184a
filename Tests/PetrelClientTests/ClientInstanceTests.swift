import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// `ClientInstance` against a real `petrel-broker` with its embedded name server.
@Suite(.serialized) struct ClientInstanceTests {
    /// A started instance on `broker`'s name server.
    static func instance(_ broker: BrokerProcess) async throws -> ClientInstance {
        let configuration = ClientConfiguration(nameServerAddresses: [broker.nameServer], instanceName: "test-\(UUID().uuidString)")
        let instance = ClientInstance(configuration: configuration)
        try await instance.start()
        return instance
    }

    /// The template topic's route comes from the name server, names the broker, and yields writable
    /// and readable queues; an unknown topic is `.topicNotFound`.
    @Test func routesComeFromTheNameServer() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let instance = try await Self.instance(broker)
        let route = try await instance.topicRoute("TBW102")
        #expect(route.masterAddress(brokerName: "broker-a") == broker.address)
        #expect(!route.publishQueues.isEmpty)
        #expect(route.publishQueues.allSatisfy { $0.brokerName == "broker-a" && $0.topic == "TBW102" })
        #expect(route.subscribeQueues.count == route.publishQueues.count)
        #expect(instance.masterAddress(brokerName: "broker-a") == broker.address)
        #expect(instance.knownTopics == ["TBW102"])
        await #expect(throws: ClientError.self) { try await instance.topicRoute("NoSuchTopic") }
        do {
            _ = try await instance.refreshRoute("NoSuchTopic")
            Issue.record("a route for an unknown topic")
        } catch {
            #expect(error.code == .topicNotFound)
            #expect(error.message.contains("NoSuchTopic"))
        }
        await instance.shutdown()
    }

    /// A registered consumer's heartbeat makes the broker list this client in the group, and
    /// shutdown's UNREGISTER_CLIENT removes it again.
    @Test func heartbeatRegistersAndShutdownUnregisters() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        let instance = try await Self.instance(broker)
        _ = try await instance.topicRoute("TBW102")
        #expect(await instance.sendHeartbeatToAllBrokers() == 0, "nothing registered, nothing sent")
        try instance.registerProducer(group: "PG_instance")
        try instance.registerConsumer(group: "CG_instance") {
            ConsumerData(groupName: "CG_instance", subscriptionDataSet: [SubscriptionData(topic: "TBW102", subString: "*")])
        }
        #expect(throws: ClientError.self) { try instance.registerProducer(group: "PG_instance") }
        #expect(await instance.sendHeartbeatToAllBrokers() == 1)
        #expect(try await raw.consumerIds(address: broker.address, group: "CG_instance") == [instance.clientId])
        await instance.shutdown()
        #expect(try await raw.consumerIds(address: broker.address, group: "CG_instance").isEmpty)
        await raw.close()
    }

    /// A request the broker sends (NOTIFY_CONSUMER_IDS_CHANGED when a second client joins the
    /// group) reaches the handler registered for its code; handlers answering `.notMine` pass it on.
    @Test func brokerRequestsReachInboundHandlers() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let first = try await Self.instance(broker)
        let second = try await Self.instance(broker)
        let consumerData: ConsumerDataProvider = {
            ConsumerData(groupName: "CG_notify", subscriptionDataSet: [SubscriptionData(topic: "TBW102", subString: "*")])
        }
        let declined = Locked(0)
        let notified = Locked<[String]>([])
        first.registerInboundHandler(code: .notifyConsumerIdsChanged) { _, _ in
            declined.update { $0 += 1 }
            return .notMine
        }
        first.registerInboundHandler(code: .notifyConsumerIdsChanged) { request, _ in
            notified.update { $0.append(request.extFields["consumerGroup"] ?? "") }
            return .handled
        }
        for instance in [first, second] {
            _ = try await instance.topicRoute("TBW102")
            try instance.registerConsumer(group: "CG_notify", provider: consumerData)
        }
        #expect(await first.sendHeartbeatToAllBrokers() == 1)
        #expect(await second.sendHeartbeatToAllBrokers() == 1)
        #expect(await poll(seconds: 15) { notified.value.contains("CG_notify") })
        #expect(declined.value >= 1)
        await second.shutdown()
        await first.shutdown()
    }

    /// Start/shutdown are counted: the instance runs until the last user shuts down, and cannot be
    /// started again after that.
    @Test func lifecycleIsCounted() async throws {
        let configuration = ClientConfiguration(nameServerAddresses: ["127.0.0.1:1"], instanceName: "counted-\(UUID().uuidString)")
        let instance = ClientInstance.shared(configuration: configuration)
        #expect(ClientInstance.shared(configuration: configuration) === instance)
        try await instance.start()
        try await instance.start()
        await instance.shutdown()
        #expect(instance.isRunning)
        await instance.shutdown()
        #expect(!instance.isRunning)
        await #expect(throws: ClientError.self) { try await instance.start() }
        #expect(ClientInstance.shared(configuration: configuration) !== instance)
    }

    /// An unusable configuration is refused at start with the setting's name.
    @Test func badConfigurationIsRefused() async throws {
        let instance = ClientInstance(configuration: ClientConfiguration(nameServerAddresses: []))
        do {
            try await instance.start()
            Issue.record("start succeeded without name servers")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("nameServerAddresses"))
        }
        let badAddress = ClientInstance(configuration: ClientConfiguration(nameServerAddresses: ["localhost"]))
        await #expect(throws: ClientError.self) { try await badAddress.start() }
    }

    /// The client id is `ip@instance`, and `DEFAULT` becomes a per-process name as in Java.
    @Test func clientIdFollowsJava() {
        let named = ClientConfiguration(nameServerAddresses: ["127.0.0.1:9876"], instanceName: "app", clientIP: "10.0.0.7")
        #expect(named.clientId == "10.0.0.7@app")
        let defaulted = ClientConfiguration(nameServerAddresses: ["127.0.0.1:9876"], instanceName: "DEFAULT", clientIP: "10.0.0.7")
        #expect(defaulted.clientId.hasPrefix("10.0.0.7@\(getpid())#"))
    }
}
