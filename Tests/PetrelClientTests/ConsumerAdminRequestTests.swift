import Foundation
import NIOCore
@testable import PetrelClient
import PetrelCore
import PetrelRemoting
import Testing

/// The admin requests a broker forwards to a running push consumer: GET_CONSUMER_RUNNING_INFO through
/// the broker's relay; GET_CONSUMER_STATUS_FROM_CLIENT, CONSUME_MESSAGE_DIRECTLY and
/// RESET_CONSUMER_CLIENT_OFFSET (which the broker does not relay yet) handed to the live client's
/// request router on its real broker connection.
@Suite(.serialized) struct ConsumerAdminRequestTests {
    /// A started consumer of `AdminTopic` that consumed the 8 messages sent before it; bodies starting
    /// with "later" are answered RECONSUME_LATER.
    static func consumingSetup() async throws -> (ConsumerTestBroker, PushConsumer, ReceivedRecorder) {
        let broker = try await ConsumerTestBroker.start()
        try await broker.createTopic("AdminTopic")
        for index in 0..<8 { try await broker.send(topic: "AdminTopic", queueId: Int32(index % 4), body: "admin\(index)") }
        let recorder = ReceivedRecorder()
        let configuration = ConsumerPushTests.configuration(broker, group: "G-admin", topic: "AdminTopic")
        let consumer = try await ConsumerPushTests.consumer(configuration, recorder: recorder) { message in
            String(buffer: message.body).hasPrefix("later") ? .reconsumeLater : .success
        }
        let sent = Set((0..<8).map { "admin\($0)" })
        guard await poll(seconds: 30, { recorder.distinctBodies == sent }) else { throw HarnessError("the 8 messages were not consumed") }
        return (broker, consumer, recorder)
    }

    /// Sends `request` to the consumer's client the way a broker does: through its request router, with
    /// the client's own connection to the broker.
    static func askClient(_ consumer: PushConsumer, _ request: RemotingCommand, broker: ConsumerTestBroker) async throws -> RemotingCommand {
        let connection = try await consumer.client.remoting.connection(to: broker.broker.address)
        guard let answer = await consumer.client.router.handle(request, from: connection) else {
            throw HarnessError("the client sent no answer to request \(request.code)")
        }
        return answer
    }

    /// GET_CONSUMER_RUNNING_INFO relayed by the broker reaches the consumer, which answers its settings,
    /// subscription and one ProcessQueueInfo per served queue.
    @Test func runningInfoThroughTheBroker() async throws {
        let (broker, consumer, _) = try await Self.consumingSetup()
        defer { broker.broker.stop() }
        let ask = RemotingCommand.request(code: .getConsumerRunningInfo, extFields: [
            "consumerGroup": "G-admin", "clientId": consumer.clientId, "jstackEnable": "false",
        ])
        let answer = try await broker.invoke(ask)
        let text = answer.body.map { String(buffer: $0) } ?? ""
        #expect(text.contains(#""PROP_CONSUMEORDERLY":"false""#) && text.contains(#""PROP_CONSUME_TYPE":"CONSUME_PASSIVELY""#))
        #expect(text.contains(#""consumerGroup":"G-admin""#) && text.contains(#""messageModel":"CLUSTERING""#))
        #expect(text.contains(#""subscriptionSet":[{"#) && text.contains(#""subString":"*""#) && text.contains(#""topic":"AdminTopic""#))
        // One ProcessQueueInfo per served queue, keyed by the queue object as fastjson writes it.
        for queue in consumer.assignedQueues where queue.topic == "AdminTopic" {
            #expect(text.contains(queue.jsonText + #":{"cachedMsgCount":"#), "no mqTable entry for \(queue)")
        }
        // The 8 messages were pulled and consumed within the last minute: 8/60 per second each.
        #expect(text.contains(#""statusTable":{"#) && text.contains(#""AdminTopic":{"consumeFailedMsgs":0,"consumeFailedTPS":0"#), "\(text)")
        #expect(text.contains(#""consumeOKTPS":0.1333"#) && text.contains(#""pullTPS":0.1333"#), "\(text)")
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// GET_CONSUMER_STATUS_FROM_CLIENT lists the consumed offsets of the topic's queues; another group's
    /// request is not claimed, one without a topic is refused.
    @Test func consumerStatusListsTheTopicsOffsets() async throws {
        let (broker, consumer, _) = try await Self.consumingSetup()
        defer { broker.broker.stop() }
        let ask = RemotingCommand.request(code: .getConsumerStatusFromClient, extFields: [
            "topic": "AdminTopic", "group": "G-admin", "clientAddr": "127.0.0.1:1",
        ])
        let answer = try await Self.askClient(consumer, ask, broker: broker)
        #expect(answer.responseCode == .success)
        let text = answer.body.map { String(buffer: $0) } ?? ""
        #expect(text.hasPrefix(#"{"consumerTable":{},"messageQueueTable":{"#), "\(text)")
        // Each queue got 2 of the 8 messages, so each offset is 2 once consumed.
        for queue in consumer.assignedQueues where queue.topic == "AdminTopic" {
            let offset = consumer.offsetStore.offset(of: queue) ?? -1
            #expect(offset == 2 && text.contains(queue.jsonText + ":\(offset)"), "\(queue) in \(text)")
        }
        var otherGroup = ask
        otherGroup.extFields["group"] = "G-other"
        #expect(try await Self.askClient(consumer, otherGroup, broker: broker).responseCode == .requestCodeNotSupported)
        var noTopic = ask
        noTopic.extFields["topic"] = nil
        #expect(try await Self.askClient(consumer, noTopic, broker: broker).responseCode == .systemError)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// CONSUME_MESSAGE_DIRECTLY hands the stored message to the listener and reports its answer; an
    /// undecodable or missing body is refused.
    @Test func consumeMessageDirectlyRunsTheListener() async throws {
        let (broker, consumer, recorder) = try await Self.consumingSetup()
        defer { broker.broker.stop() }
        let stored = try await RawBrokerAccess().pull(address: broker.broker.address, topic: "AdminTopic", queueId: 0)
        guard var message = stored.first else { throw HarnessError("queue 0 is empty") }
        let ask = { (body: ByteBuffer?) in
            RemotingCommand.request(code: .consumeMessageDirectly, extFields: [
                "consumerGroup": "G-admin", "clientId": consumer.clientId, "msgId": message.offsetMessageId, "brokerName": "broker-a",
            ], body: body)
        }
        let success = try await Self.askClient(consumer, ask(ByteBuffer(bytes: try StoredMessageCodec.encode(message))), broker: broker)
        #expect(success.responseCode == .success)
        let result = try JSONObjectReader(try JSONValue.parse(success.body ?? ByteBuffer()), context: "result")
        #expect(try result.string("consumeResult") == "CR_SUCCESS")
        #expect(try result.bool("order") == false)
        #expect(recorder.bodies.filter { $0 == String(buffer: message.message.body) }.count >= 2, "delivered again, directly")
        message.message.body = ByteBuffer(string: "later-direct")
        let later = try await Self.askClient(consumer, ask(ByteBuffer(bytes: try StoredMessageCodec.encode(message))), broker: broker)
        let laterResult = try JSONObjectReader(try JSONValue.parse(later.body ?? ByteBuffer()), context: "result")
        #expect(try laterResult.string("consumeResult") == "CR_LATER")
        #expect(recorder.bodies.contains("later-direct"))
        #expect(try await Self.askClient(consumer, ask(ByteBuffer(string: "garbage")), broker: broker).responseCode == .systemError)
        #expect(try await Self.askClient(consumer, ask(nil), broker: broker).responseCode == .systemError)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// RESET_CONSUMER_CLIENT_OFFSET to 0 makes every queue deliver its messages again; a garbled body is
    /// refused and another group's request is not claimed.
    @Test func resetOffsetRedeliversFromTheNewOffsets() async throws {
        let (broker, consumer, recorder) = try await Self.consumingSetup()
        defer { broker.broker.stop() }
        // The body as Java's broker writes it: MessageQueue objects as keys (not standard JSON).
        let queues = consumer.assignedQueues.filter { $0.topic == "AdminTopic" }.sorted()
        #expect(queues.count == 4)
        let members = queues.map { #"{"brokerName":"\#($0.brokerName)","queueId":\#($0.queueId),"topic":"AdminTopic"}:0"# }
        let body = ByteBuffer(string: #"{"offsetTable":{"# + members.joined(separator: ",") + "}}")
        let reset = RemotingCommand.request(code: .resetConsumerClientOffset, extFields: [
            "topic": "AdminTopic", "group": "G-admin", "timestamp": "0", "isForce": "true",
        ], body: body)
        #expect(try await Self.askClient(consumer, reset, broker: broker).responseCode == .success)
        // Every message comes again, and the offsets climb back to 2 per queue.
        let twice = await poll(seconds: 30) {
            (0..<8).allSatisfy { index in recorder.bodies.filter { $0 == "admin\(index)" }.count >= 2 }
        }
        #expect(twice, "bodies after the reset: \(recorder.bodies.sorted())")
        #expect(await poll(seconds: 30) { queues.allSatisfy { consumer.offsetStore.offset(of: $0) == 2 } })
        var garbled = reset
        garbled.body = ByteBuffer(string: #"{"offsetTable":{{"topic":"AdminTopic"}:x}}"#)
        #expect(try await Self.askClient(consumer, garbled, broker: broker).responseCode == .systemError)
        var otherGroup = reset
        otherGroup.extFields["group"] = "G-other"
        #expect(try await Self.askClient(consumer, otherGroup, broker: broker).responseCode == .requestCodeNotSupported)
        await consumer.shutdown()
        await broker.raw.shutdown()
    }

    /// A subscribing pull consumer answers running info (through the broker) and status with the
    /// offsets of its assigned queues.
    @Test func subscribingPullConsumerAnswersRunningInfoAndStatus() async throws {
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("AdminPull")
        for index in 0..<4 { try await broker.send(topic: "AdminPull", queueId: Int32(index), body: "pull\(index)") }
        let consumer = try await PullConsumerTests.consumer(broker, group: "G-admin-pull", subscriptions: ["AdminPull": "*"])
        #expect(await poll(seconds: 30) { consumer.assignedQueues.count == 4 })
        var polled = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while polled < 4, ContinuousClock.now < deadline { polled += try await consumer.poll(timeout: .milliseconds(500)).count }
        #expect(polled == 4)
        let ask = RemotingCommand.request(code: .getConsumerRunningInfo, extFields: [
            "consumerGroup": "G-admin-pull", "clientId": consumer.clientId, "jstackEnable": "false",
        ])
        let text = try await broker.invoke(ask).body.map { String(buffer: $0) } ?? ""
        #expect(text.contains(#""PROP_CONSUME_TYPE":"CONSUME_ACTIVELY""#) && text.contains(#""topic":"AdminPull""#))
        for queue in consumer.assignedQueues {
            #expect(text.contains(queue.jsonText + #":{"cachedMsgCount":0"#), "no mqTable entry for \(queue)")
            // One message polled per queue: the next offset to read (and to commit) is 1.
            #expect(text.contains(queue.jsonText + #":{"#) && text.contains(#""commitOffset":1"#))
        }
        let status = RemotingCommand.request(code: .getConsumerStatusFromClient, extFields: [
            "topic": "AdminPull", "group": "G-admin-pull", "clientAddr": "127.0.0.1:1",
        ])
        let connection = try await consumer.client.remoting.connection(to: broker.broker.address)
        let answer = await consumer.client.router.handle(status, from: connection)
        let statusText = answer?.body.map { String(buffer: $0) } ?? ""
        for queue in consumer.assignedQueues { #expect(statusText.contains(queue.jsonText + ":1"), "\(queue) in \(statusText)") }
        await consumer.shutdown()
        await broker.raw.shutdown()
    }
}
