import PetrelClient
import PetrelCore
import Testing

/// How a name server's route becomes publish and subscribe queues (Java's
/// `topicRouteData2TopicPublishInfo` / `…SubscribeInfo`), and the small value types around it.
@Suite struct TopicRouteTests {
    /// A route with a writable group, a read-only group and a group without a master.
    static let route = TopicRouteData(
        queueDatas: [
            QueueData(brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 3, perm: .readWrite),
            QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: .read),
            QueueData(brokerName: "broker-c", readQueueNums: 1, writeQueueNums: 1, perm: .readWrite),
        ],
        brokerDatas: [
            BrokerData(cluster: "C", brokerName: "broker-a", brokerAddrs: [0: "10.0.0.1:10911"]),
            BrokerData(cluster: "C", brokerName: "broker-b", brokerAddrs: [0: "10.0.0.2:10911", 1: "10.0.0.3:10911"]),
            BrokerData(cluster: "C", brokerName: "broker-c", brokerAddrs: [1: "10.0.0.4:10911"]),
        ])

    /// Publish queues: writable groups with a master only; subscribe queues: readable groups, sorted.
    @Test func queuesFollowPermissionsAndMasters() {
        let topic = TopicRoute(topic: "T", data: Self.route)
        #expect(topic.publishQueues == (0..<3).map { MessageQueue(topic: "T", brokerName: "broker-b", queueId: $0) })
        #expect(topic.subscribeQueues.map(\.description) == [
            "T@broker-a#0", "T@broker-a#1", "T@broker-a#2", "T@broker-a#3", "T@broker-b#0", "T@broker-b#1", "T@broker-c#0",
        ])
        #expect(topic.masterAddress(brokerName: "broker-b") == "10.0.0.2:10911")
        #expect(topic.masterAddress(brokerName: "broker-c") == nil)
        #expect(!topic.isOrdered)
    }

    /// `orderTopicConf` decides the publish queues of an ordered topic, in its order.
    @Test func orderTopicConfigurationWins() {
        var data = Self.route
        data.orderTopicConf = "broker-c:2;broker-a:1"
        let topic = TopicRoute(topic: "T", data: data)
        #expect(topic.isOrdered)
        #expect(topic.publishQueues.map(\.description) == ["T@broker-c#0", "T@broker-c#1", "T@broker-a#0"])
    }

    /// Message queues read and write the JSON of lock bodies.
    @Test func messageQueueJSONRoundTrips() throws {
        let queue = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 3)
        #expect(String(decoding: queue.jsonBytes(), as: UTF8.self) == #"{"brokerName":"broker-a","queueId":3,"topic":"T"}"#)
        #expect(try MessageQueue(jsonText: #"{"topic":"T","brokerName":"broker-a","queueId":3}"#) == queue)
        #expect(throws: CoreError.self) { try MessageQueue(jsonText: #"{"topic":"T","brokerName":"b"}"#) }
    }

    /// A `;`-separated name-server list is split and trimmed, as `namesrvAddr` is.
    @Test func nameServerListIsSplit() {
        let configuration = ClientConfiguration(nameServers: "10.0.0.1:9876; 10.0.0.2:9876;")
        #expect(configuration.nameServerAddresses == ["10.0.0.1:9876", "10.0.0.2:9876"])
    }
}
