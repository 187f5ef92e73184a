import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import PetrelRemoting

/// A send budget for tests: Java's 3 s is too little when a 2-core machine runs the whole suite
/// (broker processes starting, every test busy) and a first route fetch or connect waits seconds.
let testSendTimeout: Duration = .seconds(15)

/// A client configuration for tests: connecting and a route query may take seconds on a saturated
/// 2-core machine (Java's 3 s request timeout then fails tests that are not about timeouts).
func testClientConfiguration(nameServers: [String], instanceName: String? = nil) -> ClientConfiguration {
    var configuration = ClientConfiguration(nameServerAddresses: nameServers, instanceName: instanceName)
    configuration.connectTimeout = .seconds(10)
    configuration.requestTimeout = .seconds(15)
    return configuration
}

/// Producers and topics on spawned brokers, for the producer tests.
enum ProducerFixture {
    /// A started producer on `nameServer` with its own group and instance.
    static func producer(
        nameServer: String, group: String = "PG_\(UUID().uuidString.prefix(8))",
        configure: (inout ProducerConfiguration) -> Void = { _ in }
    ) async throws -> Producer {
        var configuration = ProducerConfiguration(
            group: group, client: testClientConfiguration(nameServers: [nameServer]), sendMessageTimeout: testSendTimeout)
        configure(&configuration)
        let producer = Producer(configuration: configuration)
        try await producer.start()
        return producer
    }

    /// Creates `topic` with `queues` read and write queues on `broker` (UPDATE_AND_CREATE_TOPIC) and
    /// waits until the name server's route names the broker.
    static func createTopic(_ topic: String, on broker: BrokerProcess, queues: Int32 = 4, raw: RawBrokerAccess) async throws {
        let request = RemotingCommand.request(code: .updateAndCreateTopic, extFields: [
            "topic": topic, "defaultTopic": "TBW102", "readQueueNums": String(queues), "writeQueueNums": String(queues),
            "perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
        ])
        let response = try await raw.client.invoke(address: broker.address, request: request, timeout: .seconds(10))
        guard response.responseCode == .success else { throw HarnessError("creating \(topic) failed: \(response)") }
        let registered = await poll(seconds: 30) {
            (try? await routeBrokers(topic, nameServer: broker.nameServer, raw: raw).contains(broker.brokerName)) ?? false
        }
        guard registered else { throw HarnessError("the name server never listed \(broker.brokerName) for \(topic)") }
    }

    /// The broker names in the name server's route of `topic`.
    static func routeBrokers(_ topic: String, nameServer: String, raw: RawBrokerAccess) async throws -> [String] {
        let request = RemotingCommand.request(code: .getRouteinfoByTopic, extFields: ["topic": topic])
        let response = try await raw.client.invoke(address: nameServer, request: request, timeout: .seconds(10))
        guard response.responseCode == .success, let body = response.body else { return [] }
        return try TopicRouteData(jsonBuffer: body).queueDatas.map(\.brokerName)
    }

    /// Messages of `topic` on `broker` (queues 0…7), polling until at least `count` arrived.
    static func awaitMessages(_ topic: String, on broker: BrokerProcess, count: Int, raw: RawBrokerAccess) async throws -> [StoredMessage] {
        let messages = Locked<[StoredMessage]>([])
        _ = await poll(seconds: 15) {
            let pulled = (try? await raw.pullAll(address: broker.address, topic: topic)) ?? []
            messages.value = pulled
            return pulled.count >= count
        }
        return messages.value
    }
}

extension StoredMessage {
    /// The body as UTF-8 text (inflated when the record says it is compressed).
    var text: String {
        var bytes = Array(message.body.readableBytesView)
        if sysFlag.compression != nil, let inflated = try? Inflate.zlib(bytes) { bytes = inflated }
        return String(decoding: bytes, as: UTF8.self)
    }
}
