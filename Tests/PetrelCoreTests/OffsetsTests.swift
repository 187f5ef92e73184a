import PetrelCore
import Testing

@Suite("Offsets")
struct OffsetsTests {
    @Test("commit-log offsets order, advance and measure distance")
    func commitLogOffsets() {
        let a = CommitLogOffset(4096)
        let b = a.advanced(by: 164)
        #expect(b == CommitLogOffset(4260))
        #expect(a < b && !(b < a) && a != b)
        #expect(b.distance(from: a) == 164)
        #expect(a.distance(from: b) == -164)
        #expect(a.advanced(by: -4096) == .zero)
        #expect(CommitLogOffset.zero.rawValue == 0)
        #expect([CommitLogOffset(9), .zero, CommitLogOffset(3)].sorted() == [.zero, CommitLogOffset(3), CommitLogOffset(9)])
        #expect(CommitLogOffset(rawValue: 12) == CommitLogOffset(12))
        #expect(a.description == "4096")
        #expect(max(a, b) == b)
    }

    @Test("queue offsets order and advance")
    func queueOffsets() {
        let first = QueueOffset.zero
        let next = first.advanced(by: 1)
        #expect(next == QueueOffset(1))
        #expect(first < next)
        #expect(next.advanced(by: 299_999).rawValue == 300_000)
        #expect([QueueOffset(5), QueueOffset(2)].sorted() == [QueueOffset(2), QueueOffset(5)])
        #expect(QueueOffset(rawValue: 7).description == "7")
    }

    @Test("queue keys print as topic-queueId and hash by both parts")
    func queueKeys() {
        let key = QueueKey(topic: "TopicTest", queueId: 3)
        #expect(key.description == "TopicTest-3")
        #expect(Set([key, QueueKey(topic: "TopicTest", queueId: 3), QueueKey(topic: "TopicTest", queueId: 4)]).count == 2)
    }
}
