import NIOCore
import PetrelClient
import PetrelCore
import Testing

/// Process queues cache pulled messages, pause pulling when full and commit the lowest in-flight offset.
@Suite struct ConsumerProcessQueueTests {
    /// The queue the test messages come from.
    static let queue = MessageQueue(topic: "T", brokerName: "b", queueId: 0)

    /// A received message at `offset` with a body of `size` bytes.
    static func message(_ offset: Int64, size: Int = 1) -> ReceivedMessage {
        let stored = StoredMessage(
            message: Message(topic: "T", body: ByteBuffer(repeating: 7, count: size)), queueOffset: QueueOffset(offset))
        return ReceivedMessage(stored: stored, brokerName: "b", pulledTopic: "T")
    }

    /// The commit offset is the lowest message still in flight, then one past the highest.
    @Test func commitsLowestInFlightOffset() {
        let processQueue = ProcessQueue(queue: Self.queue)
        #expect(processQueue.committableOffset == nil)
        let messages = (10..<15).map { Self.message($0) }
        #expect(processQueue.put(messages) == 5)
        #expect(processQueue.put([Self.message(12)]) == 0)
        #expect(processQueue.remove([messages[1], messages[3]]) == 10)
        #expect(processQueue.remove([messages[0]]) == 12)
        #expect(processQueue.remove([messages[2], messages[4]]) == 15)
        #expect(processQueue.messageCount == 0 && processQueue.cachedBytes == 0)
    }

    /// Pulling pauses above the message count or byte limits.
    @Test func flowControlByCountAndSize() {
        let limits = ProcessQueue.Limits(maximumMessageCount: 3, maximumBytes: 100)
        let processQueue = ProcessQueue(queue: Self.queue)
        processQueue.put((0..<3).map { Self.message($0) })
        #expect(processQueue.flowControl(limits) == nil)
        processQueue.put([Self.message(3)])
        #expect(processQueue.flowControl(limits) == .tooManyMessages(4))
        let big = ProcessQueue(queue: Self.queue)
        big.put([Self.message(0, size: 60), Self.message(1, size: 60)])
        #expect(big.flowControl(limits) == .tooManyBytes(120))
        #expect(ProcessQueue.Limits() == ProcessQueue.Limits(maximumMessageCount: 1000, maximumBytes: 100 * 1024 * 1024))
    }

    /// Orderly taking hands out messages in order, one batch at a time.
    @Test func orderlyTakeAndCommit() {
        let processQueue = ProcessQueue(queue: Self.queue)
        processQueue.put((0..<5).map { Self.message($0) })
        #expect(processQueue.takeMessages(2).map(\.queueOffset) == [0, 1])
        #expect(processQueue.takeMessages(2).isEmpty)
        #expect(processQueue.committableOffset == 0)
        processQueue.returnTaken()
        #expect(processQueue.takeMessages(3).map(\.queueOffset) == [0, 1, 2])
        #expect(processQueue.commitTaken() == 3)
        #expect(processQueue.takeMessages(10).map(\.queueOffset) == [3, 4])
        #expect(processQueue.commitTaken() == 5)
    }

    /// A lock is valid only while granted and younger than its lifetime.
    @Test func lockValidity() {
        let processQueue = ProcessQueue(queue: Self.queue)
        let start = ContinuousClock.now
        #expect(!processQueue.isLockValid(now: start))
        processQueue.setLocked(true, at: start)
        #expect(processQueue.isLockValid(lifetime: .seconds(30), now: start + .seconds(29)))
        #expect(!processQueue.isLockValid(lifetime: .seconds(30), now: start + .seconds(31)))
        processQueue.setLocked(false)
        #expect(!processQueue.isLockValid(now: start))
    }
}
