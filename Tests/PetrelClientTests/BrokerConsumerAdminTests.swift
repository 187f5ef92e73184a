import Foundation
import NIOCore
@testable import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// The admin requests a real `petrel-broker` serves by calling a group's live Petrel push consumers:
/// INVOKE_BROKER_TO_RESET_OFFSET (222, the broker then sends RESET_CONSUMER_CLIENT_OFFSET),
/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223, GET_CONSUMER_STATUS_FROM_CLIENT to each client) and
/// CONSUME_MESSAGE_DIRECTLY (309, the broker adds the stored message and forwards it).
@Suite(.serialized) struct BrokerConsumerAdminTests {
    /// The broker's 223 answer for `group`, or its refusal.
    static func status(_ broker: ConsumerTestBroker, group: String, clientId: String? = nil) async throws -> RemotingCommand {
        var fields = ["topic": "AdminTopic", "group": group]
        fields["clientAddr"] = clientId
        return try await broker.invoke(RemotingCommand.request(code: .invokeBrokerToGetConsumerStatus, extFields: fields))
    }

    /// A 222 request.
    static func reset(group: String, topic: String = "AdminTopic", timestamp: Int64, force: String? = "true") -> RemotingCommand {
        var fields = ["topic": topic, "group": group, "timestamp": String(timestamp)]
        fields["isForce"] = force
        return RemotingCommand.request(code: .invokeBrokerToResetOffset, extFields: fields)
    }

    /// After 8 messages, a reset to the store time of 4 later ones makes the live consumer deliver
    /// exactly those again (its offsets go back to 2 of 3 per queue) and continue; the answer lists
    /// the new offsets. Once the consumer is gone a reset is still stored for the next start. Bad
    /// requests are refused with a code and a remark.
    @Test func resetOffsetByTimeRedeliversFromThere() async throws {
        let (broker, consumer, recorder) = try await ConsumerAdminRequestTests.consumingSetup()
        defer { broker.broker.stop() }
        var stored: [StoredMessage] = []
        for queueId in 0..<4 { stored += try await broker.messages(topic: "AdminTopic", queueId: Int32(queueId)) }
        let resetTime = (stored.map(\.storeTimestamp).max() ?? 0) + 1
        // Store times are milliseconds: wait until the clock is past resetTime, so the next 4 are after it.
        #expect(await poll(seconds: 5) { Int64(Date().timeIntervalSince1970 * 1000) > resetTime })
        for queueId in 0..<4 { _ = try await broker.send(topic: "AdminTopic", queueId: Int32(queueId), body: "after\(queueId)") }
        let queues = consumer.assignedQueues.filter { $0.topic == "AdminTopic" }
        #expect(await poll(seconds: 30) { queues.count == 4 && queues.allSatisfy { consumer.offsetStore.offset(of: $0) == 3 } })

        let answer = try await broker.invoke(Self.reset(group: "G-admin", timestamp: resetTime))
        #expect(answer.responseCode == .success, "\(answer.remark ?? "")")
        let table = try QueueKeyedOffsets.parse(Array(buffer: answer.body ?? ByteBuffer()))
        #expect(table.count == 4 && table.values.allSatisfy { $0 == 2 }, "\(table)")
        let redelivered = await poll(seconds: 30) {
            (0..<4).allSatisfy { index in recorder.bodies.filter { $0 == "after\(index)" }.count == 2 }
        }
        #expect(redelivered, "bodies: \(recorder.bodies.sorted())")
        #expect((0..<8).allSatisfy { index in recorder.bodies.filter { $0 == "admin\(index)" }.count == 1 }, "older ones stay consumed")
        #expect(await poll(seconds: 30) { queues.allSatisfy { consumer.offsetStore.offset(of: $0) == 3 } })
        await consumer.shutdown()

        // No live client: the reset is committed on the broker (what the next consumer reads).
        #expect(try await broker.invoke(Self.reset(group: "G-admin", timestamp: 0)).responseCode == .success)
        let query = RemotingCommand.request(code: .queryConsumerOffset, extFields: ["consumerGroup": "G-admin", "topic": "AdminTopic", "queueId": "1"])
        #expect(try await broker.invoke(query).extFields["offset"] == "0")
        // Without isForce an offset only moves back: the end of the queue (-1) leaves 0 in place.
        _ = try await broker.invoke(Self.reset(group: "G-admin", timestamp: -1, force: "false"))
        #expect(try await broker.invoke(query).extFields["offset"] == "0")
        #expect(try await broker.invoke(Self.reset(group: "G-admin", timestamp: -1)).responseCode == .success)
        #expect(try await broker.invoke(query).extFields["offset"] == "3")

        let refusals: [(RemotingCommand, ResponseCode, String)] = [
            (Self.reset(group: "G-admin", topic: "NoSuchTopic", timestamp: 0), .topicNotExist, "no topic in this broker"),
            (Self.reset(group: "G-never", timestamp: 0), .systemError, "G-never"),
            (Self.reset(group: "G-admin", timestamp: 0, force: nil), .systemError, "isForce"),
            (Self.reset(group: "G-admin", timestamp: 0, force: "maybe"), .systemError, "isForce"),
        ]
        for (request, code, remark) in refusals {
            let refused = try await broker.raw.invoke(address: broker.broker.address, request: request, timeout: .seconds(10))
            #expect(refused.responseCode == code && (refused.remark ?? "").contains(remark), "\(refused.code) \(refused.remark ?? "")")
        }
        await broker.raw.shutdown()
    }

    /// INVOKE_BROKER_TO_GET_CONSUMER_STATUS collects each client's consumed offsets (2 per queue
    /// after 8 messages), keyed by client id; an unknown client or group is refused.
    @Test func consumerStatusCollectsTheClientsOffsets() async throws {
        let (broker, consumer, _) = try await ConsumerAdminRequestTests.consumingSetup()
        defer { broker.broker.stop() }
        let queues = consumer.assignedQueues.filter { $0.topic == "AdminTopic" }
        #expect(await poll(seconds: 30) { queues.allSatisfy { consumer.offsetStore.offset(of: $0) == 2 } })
        for clientId in [nil, consumer.clientId] {
            let answer = try await Self.status(broker, group: "G-admin", clientId: clientId)
            #expect(answer.responseCode == .success, "\(answer.remark ?? "")")
            let bytes = Array(buffer: answer.body ?? ByteBuffer())
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"consumerTable":{"# + JSONValue.string(consumer.clientId).serializedString))
            let table = try QueueKeyedOffsets.parse(bytes, member: consumer.clientId)
            #expect(Set(table.keys) == Set(queues) && table.values.allSatisfy { $0 == 2 }, "\(table)")
        }
        let unknownClient = try await broker.raw.invoke(
            address: broker.broker.address, request: RemotingCommand.request(code: .invokeBrokerToGetConsumerStatus, extFields: [
                "topic": "AdminTopic", "group": "G-admin", "clientAddr": "127.0.0.1@nobody",
            ]), timeout: .seconds(10))
        #expect(unknownClient.responseCode == .systemError && (unknownClient.remark ?? "").contains("nobody"))
        let noGroup = try await broker.raw.invoke(
            address: broker.broker.address, request: RemotingCommand.request(code: .invokeBrokerToGetConsumerStatus, extFields: [
                "topic": "AdminTopic", "group": "G-nobody",
            ]), timeout: .seconds(10))
        #expect(noGroup.responseCode == .systemError && (noGroup.remark ?? "").contains("G-nobody"))
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// CONSUME_MESSAGE_DIRECTLY through the broker: the broker looks the message up by its offset id
    /// and the named client's listener gets it once more; the client's result comes back. A message
    /// id that is not an offset id, or a client that is not connected, is refused.
    @Test func consumeMessageDirectlyThroughTheBroker() async throws {
        let (broker, consumer, recorder) = try await ConsumerAdminRequestTests.consumingSetup()
        defer { broker.broker.stop() }
        guard let message = try await broker.messages(topic: "AdminTopic", queueId: 2).first else { throw HarnessError("queue 2 is empty") }
        let body = String(buffer: message.message.body)
        let ask = { (clientId: String, msgId: String) in
            RemotingCommand.request(code: .consumeMessageDirectly, extFields: [
                "consumerGroup": "G-admin", "clientId": clientId, "msgId": msgId,
            ])
        }
        let answer = try await broker.invoke(ask(consumer.clientId, message.offsetMessageId))
        #expect(answer.responseCode == .success, "\(answer.remark ?? "")")
        let result = try JSONObjectReader(try JSONValue.parse(answer.body ?? ByteBuffer()), context: "result")
        #expect(try result.string("consumeResult") == "CR_SUCCESS")
        #expect(recorder.bodies.filter { $0 == body }.count == 2, "delivered again, directly")
        let refusals = [(consumer.clientId, "not-an-id"), ("127.0.0.1@nobody", message.offsetMessageId)]
        for (clientId, msgId) in refusals {
            let refused = try await broker.raw.invoke(address: broker.broker.address, request: ask(clientId, msgId), timeout: .seconds(10))
            #expect(refused.responseCode == .systemError && !(refused.remark ?? "").isEmpty, "\(refused.code)")
        }
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
