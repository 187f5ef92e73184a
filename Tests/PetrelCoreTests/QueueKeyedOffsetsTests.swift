import PetrelCore
import Testing

/// Queue-keyed offset maps as fastjson writes them (`ResetOffsetBody`, `GetConsumerStatusBody`).
@Suite struct QueueKeyedOffsetsTests {
    /// What `text` writes `parse` reads back, from the named member; an empty map stays empty.
    @Test func textAndParseRoundTrip() throws {
        let offsets: [MessageQueue: Int64] = [
            MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0): 42,
            MessageQueue(topic: "T", brokerName: "broker-a", queueId: 1): -1,
            MessageQueue(topic: "T", brokerName: "broker-b", queueId: 0): 7_000_000_000,
        ]
        let text = QueueKeyedOffsets.text(offsets)
        #expect(text.hasPrefix(#"{{"brokerName":"broker-a","queueId":0,"topic":"T"}:42,"#))
        #expect(try QueueKeyedOffsets.parse(Array(#"{"offsetTable":\#(text)}"#.utf8)) == offsets)
        let status = #"{"consumerTable":{"c1":{},"c2":\#(text)},"messageQueueTable":{}}"#
        #expect(try QueueKeyedOffsets.parse(Array(status.utf8), member: "c2") == offsets)
        #expect(try QueueKeyedOffsets.parse(Array(status.utf8), member: "c1").isEmpty)
        #expect(try QueueKeyedOffsets.parse(Array(status.utf8), member: "messageQueueTable").isEmpty)
        #expect(throws: CoreError.self) { try QueueKeyedOffsets.parse(Array(status.utf8), member: "c3") }
        #expect(throws: CoreError.self) { try QueueKeyedOffsets.parse(Array(#"{"offsetTable":{{"topic":"T"}:1"#.utf8)) }
    }
}
