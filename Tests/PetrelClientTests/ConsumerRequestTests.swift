import NIOCore
import PetrelCore
import PetrelRemoting
import Testing

@testable import PetrelClient

/// The consumer's requests carry the header fields and flags of spec §9, §14 and §17.
@Suite struct ConsumerRequestTests {
    /// The pulled queue.
    static let queue = MessageQueue(topic: "T", brokerName: "b", queueId: 3)

    /// A push pull: subscription, suspend and commit bits, timeout in milliseconds, subscription text.
    @Test func pullHeaderFlags() {
        let subscription = SubscriptionData(topic: "T", subString: "A || B", subVersion: 42)
        let push = ConsumerRequests.pull(
            group: "G", queue: Self.queue, offset: 17, maxMessages: 32, subscription: subscription, commitOffset: 9, suspend: .seconds(15))
        #expect(push.requestCode == .pullMessage)
        #expect(push.extFields["sysFlag"] == "7")
        #expect(push.extFields["suspendTimeoutMillis"] == "15000")
        #expect(push.extFields["commitOffset"] == "9")
        #expect(push.extFields["queueOffset"] == "17" && push.extFields["queueId"] == "3" && push.extFields["maxMsgNums"] == "32")
        #expect(push.extFields["subscription"] == "A || B" && push.extFields["subVersion"] == "42")
        #expect(push.extFields["consumerGroup"] == "G" && push.extFields["expressionType"] == "TAG")
        let plain = ConsumerRequests.pull(
            group: "G", queue: Self.queue, offset: 0, maxMessages: 8, subscription: subscription, commitOffset: nil, suspend: nil)
        #expect(plain.extFields["sysFlag"] == "4" && plain.extFields["suspendTimeoutMillis"] == "0" && plain.extFields["commitOffset"] == "0")
    }

    /// Send-back names the commit-log offset, group, delay level and the original id and topic.
    @Test func sendBackHeader() {
        var properties = MessageProperties()
        properties[PropertyKey.uniqueKey] = "U1"
        let stored = StoredMessage(
            message: Message(topic: "T", properties: properties, body: ByteBuffer(string: "x")), queueId: 3,
            commitLogOffset: CommitLogOffset(4096))
        let message = ReceivedMessage(stored: stored, brokerName: "b", pulledTopic: "T")
        let request = ConsumerRequests.sendBack(group: "G", message: message, delayLevel: 0, maxReconsumeTimes: 16)
        #expect(request.requestCode == .consumerSendMsgBack)
        #expect(request.extFields["offset"] == "4096" && request.extFields["group"] == "G" && request.extFields["delayLevel"] == "0")
        #expect(request.extFields["originMsgId"] == "U1" && request.extFields["originTopic"] == "T")
        #expect(request.extFields["maxReconsumeTimes"] == "16")
    }

    /// Lock bodies carry group, client id and MQ objects; responses decode to queue sets and id lists.
    @Test func lockBodiesAndConsumerLists() throws {
        let request = ConsumerRequests.lockBatch(.lockBatchMq, group: "G", clientId: "c1", queues: [Self.queue])
        let body = try JSONValue.parse(try #require(request.body))
        guard case .object(let fields) = body else { Issue.record("lock body is not an object"); return }
        #expect(fields["consumerGroup"] == .string("G") && fields["clientId"] == .string("c1"))
        #expect(fields["mqSet"] == .array([Self.queue.json]))
        let lockResponse = request.response(body: ByteBuffer(bytes: JSONValue.object(["lockOKMQSet": .array([Self.queue.json])]).serialized()))
        #expect(try ConsumerRequests.lockedQueues(lockResponse) == [Self.queue])
        let listResponse = request.response(body: ByteBuffer(string: #"{"consumerIdList":["b@2","a@1"]}"#))
        #expect(try ConsumerRequests.consumerIds(listResponse) == ["a@1", "b@2"])
    }
}
