import Foundation
import NIOCore
import NIOPosix
import PetrelClient
import PetrelCore
import PetrelRemoting
import Synchronization

/// A real broker for consumer tests, with raw-protocol helpers to create topics, send messages and
/// configure groups (no PetrelClient code on those paths, so consumers are checked against the broker).
struct ConsumerTestBroker {
    /// The broker child process.
    let broker: BrokerProcess
    /// Raw requests.
    let raw = RemotingClient(group: MultiThreadedEventLoopGroup.singleton)

    /// Starts a broker with its embedded name server.
    static func start() async throws -> ConsumerTestBroker {
        ConsumerTestBroker(broker: try await BrokerProcess())
    }

    /// Stops the broker and closes connections.
    func stop() async {
        await raw.shutdown()
        broker.stop()
    }

    /// A client configuration with a unique instance name (one client instance per consumer).
    func clientConfiguration() -> ClientConfiguration {
        testClientConfiguration(nameServers: [broker.nameServer], instanceName: "consumer-test-\(UUID().uuidString)")
    }

    /// Sends `request` to the broker and fails unless it answers SUCCESS.
    @discardableResult
    func invoke(_ request: RemotingCommand, address: String? = nil) async throws -> RemotingCommand {
        let response = try await raw.invoke(address: address ?? broker.address, request: request, timeout: .seconds(30))
        guard response.responseCode == .success else {
            throw HarnessError("request \(request.code) answered \(response.code): \(response.remark ?? "")")
        }
        return response
    }

    /// Creates `topic` with `queues` read and write queues and waits until the name server routes it.
    func createTopic(_ topic: String, queues: Int32 = 4) async throws {
        try await invoke(RemotingCommand.request(code: .updateAndCreateTopic, extFields: [
            "topic": topic, "defaultTopic": "TBW102", "readQueueNums": String(queues), "writeQueueNums": String(queues),
            "perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
        ]))
        let routed = await poll(seconds: 30) {
            let request = RemotingCommand.request(code: .getRouteinfoByTopic, extFields: ["topic": topic])
            let response = try? await raw.invoke(address: broker.nameServer, request: request, timeout: .seconds(5))
            return response?.responseCode == .success
        }
        guard routed else { throw HarnessError("topic \(topic) never appeared at the name server") }
    }

    /// Sends one message (SEND_MESSAGE) to `topic`/`queueId`; returns its queue offset.
    @discardableResult
    func send(topic: String, queueId: Int32, body: String, tags: String? = nil, keys: String? = nil) async throws -> Int64 {
        var properties = MessageProperties()
        if let tags { properties[PropertyKey.tags] = tags }
        if let keys { properties[PropertyKey.keys] = keys }
        properties[PropertyKey.uniqueKey] = UUID().uuidString
        let response = try await invoke(RemotingCommand.request(
            code: .sendMessage,
            extFields: [
                "producerGroup": "consumer-test-producer", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
                "queueId": String(queueId), "sysFlag": "0", "bornTimestamp": String(Int64(Date().timeIntervalSince1970 * 1000)),
                "flag": "0", "properties": String(decoding: properties.encoded(), as: UTF8.self), "reconsumeTimes": "0",
                "unitMode": "false", "batch": "false",
            ],
            body: ByteBuffer(string: body)))
        return Int64(response.extFields["queueOffset"] ?? "") ?? -1
    }

    /// Sets the group's `retryMaxTimes` (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).
    func createGroup(_ group: String, retryMaxTimes: Int32 = 16) async throws {
        let body = JSONValue.object([
            "groupName": .string(group), "retryMaxTimes": .integer(retryMaxTimes), "retryQueueNums": .integer(1),
            "consumeEnable": .bool(true), "consumeBroadcastEnable": .bool(true), "notifyConsumerIdsChangedEnable": .bool(true),
        ])
        try await invoke(RemotingCommand.request(code: .updateAndCreateSubscriptiongroup, body: ByteBuffer(bytes: body.serialized())))
    }

    /// Every message in `topic`'s queue `queueId` (raw pulls).
    func messages(topic: String, queueId: Int32) async throws -> [StoredMessage] {
        try await RawBrokerAccess().pull(address: broker.address, topic: topic, queueId: queueId)
    }

    /// The client ids of `group` the broker knows.
    func consumerIds(group: String) async throws -> [String] {
        let response = try await raw.invoke(
            address: broker.address, request: RemotingCommand.request(code: .getConsumerListByGroup, extFields: ["consumerGroup": group]),
            timeout: .seconds(5))
        guard response.responseCode == .success, let body = response.body,
            case .object(let members) = try JSONValue.parse(body), case .array(let ids)? = members["consumerIdList"]
        else { return [] }
        return ids.compactMap { if case .string(let id) = $0 { id } else { nil } }
    }
}

/// Collects what listeners received, from any task.
final class ReceivedRecorder: Sendable {
    /// Messages in arrival order, with the receiving consumer's label.
    private let received = Mutex<[(label: String, message: ReceivedMessage)]>([])

    /// Records `messages` received by `label`.
    func record(_ messages: [ReceivedMessage], by label: String = "") {
        received.withLock { list in for message in messages { list.append((label, message)) } }
    }

    /// Every received message.
    var messages: [ReceivedMessage] { received.withLock { $0.map(\.message) } }

    /// Messages received by `label`.
    func messages(by label: String) -> [ReceivedMessage] { received.withLock { $0.filter { $0.label == label }.map(\.message) } }

    /// Bodies as text.
    var bodies: [String] { messages.map { String(buffer: $0.body) } }

    /// Distinct bodies as text.
    var distinctBodies: Set<String> { Set(bodies) }
}
