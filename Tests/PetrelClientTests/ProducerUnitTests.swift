import NIOCore
@testable import PetrelClient
import PetrelCore
import Testing

/// The producer's pure parts: batch layout, Java-compatible selector hashing, broker avoidance.
@Suite struct ProducerUnitTests {
    /// One batch entry is 22 fixed bytes + body + properties, fields at the offsets of the diagram.
    @Test func batchEntryLayout() throws {
        var properties = MessageProperties()
        properties[PropertyKey.uniqueKey] = "ID"
        let encodedProperties = properties.encoded()
        let body = ByteBuffer(string: "hello")
        let batch = BatchEncoding.encode([(flag: 9, body: body, properties: properties), (flag: 1, body: body, properties: properties)])
        let entrySize = BatchEncoding.fixedSize + 5 + encodedProperties.count
        #expect(BatchEncoding.fixedSize == 22)
        #expect(batch.readableBytes == 2 * entrySize)
        #expect(batch.getInteger(at: 0, as: Int32.self) == Int32(entrySize))
        #expect(batch.getInteger(at: 4, as: Int32.self) == 0, "magic")
        #expect(batch.getInteger(at: 8, as: Int32.self) == 0, "body CRC")
        #expect(batch.getInteger(at: 12, as: Int32.self) == 9, "flag")
        #expect(batch.getInteger(at: 16, as: Int32.self) == 5, "body length")
        #expect(batch.getString(at: 20, length: 5) == "hello")
        #expect(batch.getInteger(at: 25, as: Int16.self) == Int16(encodedProperties.count))
        #expect(batch.getBytes(at: 27, length: encodedProperties.count) == encodedProperties)
        #expect(batch.getInteger(at: entrySize + 12, as: Int32.self) == 1, "second entry's flag")
    }

    /// Selector arguments hash as Java's `Integer`, `Long` and `String` do.
    @Test func selectorArgumentsHashLikeJava() {
        #expect(SelectorArgument.integer(7).javaHashCode == 7)
        #expect(SelectorArgument.integer(-3).javaHashCode == -3)
        #expect(SelectorArgument.integer(1 << 32).javaHashCode == 1, "Long.hashCode: value ^ value >>> 32")
        #expect(SelectorArgument.string("TagA").javaHashCode == 2_598_919)
        let queues = (0..<4).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
        let message = ProducerMessage(topic: "T", body: "x")
        #expect(HashQueueSelector().select(from: queues, message: message, argument: -3)?.queueId == 3, "abs(-3 % 4)")
        #expect(HashQueueSelector().select(from: [], message: message, argument: 1) == nil)
    }

    /// A failed broker is avoided until its isolation ends; with avoidance off only the last failed
    /// broker is skipped.
    @Test func faultTrackerAvoidsFailedBrokers() {
        let queues = ["a", "b"].flatMap { name in (0..<2).map { MessageQueue(topic: "T", brokerName: name, queueId: Int32($0)) } }
        let tracker = BrokerFaultTracker(isEnabled: true, isolationTime: .seconds(60))
        tracker.record(brokerName: "b", latency: .milliseconds(5), failed: true)
        #expect(!tracker.isAvailable("b"))
        #expect((0..<8).allSatisfy { _ in tracker.pick(from: queues, topic: "T", lastBroker: nil).brokerName == "a" })
        tracker.record(brokerName: "b", latency: .milliseconds(5), failed: false)
        #expect(tracker.isAvailable("b"), "a fast answer ends the avoidance")
        tracker.record(brokerName: "a", latency: .milliseconds(2_500), failed: false)
        #expect(!tracker.isAvailable("a"), "a slow answer (2.5 s) avoids the broker for a while")
        let disabled = BrokerFaultTracker(isEnabled: false, isolationTime: .seconds(60))
        disabled.record(brokerName: "b", latency: .zero, failed: true)
        #expect(disabled.isAvailable("b"))
        #expect((0..<8).allSatisfy { _ in disabled.pick(from: queues, topic: "T", lastBroker: "b").brokerName == "a" })
        let picks = Set((0..<4).map { _ in disabled.pick(from: queues, topic: "T", lastBroker: nil) })
        #expect(picks.count == 4, "round-robin visits every queue")
    }
}
