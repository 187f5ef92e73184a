import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import Testing

/// Bad arguments and misuse give a `ClientError` with a clear message, before anything is sent.
@Suite(.serialized) struct ProducerArgumentTests {
    /// Expects `body` to throw a `ClientError` with `code` whose message contains `text`.
    static func expectError(
        _ code: ClientError.Code, containing text: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("no error; expected \(code) containing '\(text)'", sourceLocation: sourceLocation)
        } catch let error as ClientError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a ClientError: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Empty, oversized, badly named, reserved and system-topic messages are refused by the client.
    @Test func badMessagesAreRefused() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer) { $0.maximumMessageSize = 1024 }
        await Self.expectError(.invalidArgument, containing: "topic is empty") {
            _ = try await producer.send(ProducerMessage(topic: "", body: "x"))
        }
        await Self.expectError(.invalidArgument, containing: "body is empty") {
            _ = try await producer.send(ProducerMessage(topic: "T", bytes: []))
        }
        await Self.expectError(.invalidArgument, containing: "more than the maximum of 1024") {
            _ = try await producer.send(ProducerMessage(topic: "T", bytes: [UInt8](repeating: 1, count: 1025)))
        }
        await Self.expectError(.invalidArgument, containing: "has characters other than") {
            _ = try await producer.send(ProducerMessage(topic: "bad topic", body: "x"))
        }
        await Self.expectError(.invalidArgument, containing: "longer than 127") {
            _ = try await producer.send(ProducerMessage(topic: String(repeating: "t", count: 128), body: "x"))
        }
        await Self.expectError(.invalidArgument, containing: "system topic") {
            _ = try await producer.send(ProducerMessage(topic: "RMQ_SYS_TRANS_HALF_TOPIC", body: "x"))
        }
        await Self.expectError(.invalidArgument, containing: "used by the system") {
            _ = try await producer.send(ProducerMessage(topic: "T", body: "x", userProperties: ["UNIQ_KEY": "mine"]))
        }
        await Self.expectError(.invalidArgument, containing: "control character") {
            _ = try await producer.send(ProducerMessage(topic: "T", body: "x", tags: "a\u{01}b"))
        }
        await Self.expectError(.invalidArgument, containing: "batch is empty") {
            _ = try await producer.send(batch: [])
        }
        await producer.shutdown()
        await Self.expectError(.shutDown, containing: "shut down") {
            _ = try await producer.send(ProducerMessage(topic: "T", body: "x"))
        }
    }

    /// A producer must be started, its group valid and not already used in its client instance.
    @Test func lifecycleMisuseIsRefused() async throws {
        let client = ClientConfiguration(nameServerAddresses: ["127.0.0.1:1"], instanceName: "misuse-\(UUID().uuidString)")
        let unstarted = Producer(configuration: ProducerConfiguration(group: "PG_misuse", client: client))
        await Self.expectError(.notStarted, containing: "start()") {
            _ = try await unstarted.send(ProducerMessage(topic: "T", body: "x"))
        }
        await Self.expectError(.invalidConfiguration, containing: "group") {
            try await Producer(configuration: ProducerConfiguration(group: "bad group", client: client)).start()
        }
        await Self.expectError(.invalidConfiguration, containing: "compressionLevel") {
            try await Producer(configuration: ProducerConfiguration(group: "PG_level", client: client, compressionLevel: 11)).start()
        }
        try await unstarted.start()
        let twin = Producer(configuration: ProducerConfiguration(group: "PG_misuse", client: client))
        #expect(twin.instance === unstarted.instance, "same client id, same instance")
        await Self.expectError(.groupAlreadyRegistered, containing: "PG_misuse") { try await twin.start() }
        await unstarted.shutdown()
    }

    /// A topic that no name server knows and that has no template route fails with `.topicNotFound`.
    @Test func unknownTopicWithoutTemplateIsReported() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer) { $0.templateTopic = "NoTemplate" }
        await Self.expectError(.topicNotFound, containing: "NoTemplate") {
            _ = try await producer.send(ProducerMessage(topic: "Unknown", body: "x"))
        }
        await producer.shutdown()
    }
}
