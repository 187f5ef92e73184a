import PetrelClient
import PetrelCore
import Testing

/// The rebalance state machine turns assignments into start/drop/lock/unlock actions.
@Suite struct RebalanceStateMachineTests {
    /// Queue `id` of topic `topic`.
    static func queue(_ id: Int32, _ topic: String = "T") -> MessageQueue {
        MessageQueue(topic: topic, brokerName: "b", queueId: id)
    }

    /// Concurrent: new queues start at once, removed ones are dropped with a commit.
    @Test func concurrentStartsAndDrops() {
        var machine = RebalanceStateMachine(isOrderly: false)
        #expect(machine.assign([Self.queue(0), Self.queue(1)], topic: "T") == [.startPulling(Self.queue(0)), .startPulling(Self.queue(1))])
        #expect(machine.assign([Self.queue(1), Self.queue(2)], topic: "T") == [
            .dropQueue(Self.queue(0), commitOffset: true), .startPulling(Self.queue(2)),
        ])
        #expect(machine.assign([Self.queue(1), Self.queue(2)], topic: "T") == [])
        #expect(machine.activeQueues == [Self.queue(1), Self.queue(2)])
    }

    /// An assignment of one topic leaves other topics' queues alone.
    @Test func topicsAreIndependent() {
        var machine = RebalanceStateMachine(isOrderly: false)
        _ = machine.assign([Self.queue(0, "A")], topic: "A")
        #expect(machine.assign([Self.queue(0, "B")], topic: "B") == [.startPulling(Self.queue(0, "B"))])
        #expect(machine.assign([], topic: "B") == [.dropQueue(Self.queue(0, "B"), commitOffset: true)])
        #expect(machine.activeQueues == [Self.queue(0, "A")])
    }

    /// Orderly: a queue is pulled only once its lock is granted; ungranted ones are asked for again.
    @Test func orderlyPullsOnlyLockedQueues() {
        var machine = RebalanceStateMachine(isOrderly: true)
        #expect(machine.assign([Self.queue(0), Self.queue(1)], topic: "T") == [.lock([Self.queue(0), Self.queue(1)])])
        #expect(machine.activeQueues.isEmpty)
        #expect(machine.locksGranted([Self.queue(1)]) == [.startPulling(Self.queue(1))])
        #expect(machine.assign([Self.queue(0), Self.queue(1)], topic: "T") == [.lock([Self.queue(0)])])
        #expect(machine.locksGranted([Self.queue(0), Self.queue(1)]) == [.startPulling(Self.queue(0))])
        #expect(machine.assign([Self.queue(0)], topic: "T") == [
            .dropQueue(Self.queue(1), commitOffset: true), .unlock([Self.queue(1)]),
        ])
    }

    /// Orderly: a grant that arrives after the queue was reassigned away is given back.
    @Test func lateGrantIsUnlocked() {
        var machine = RebalanceStateMachine(isOrderly: true)
        _ = machine.assign([Self.queue(0)], topic: "T")
        _ = machine.assign([], topic: "T")
        #expect(machine.locksGranted([Self.queue(0)]) == [.unlock([Self.queue(0)])])
    }

    /// Shutdown drops everything; broadcasting drops without committing to a broker.
    @Test func dropAllAtShutdown() {
        var machine = RebalanceStateMachine(isOrderly: true, commitsOnDrop: false)
        _ = machine.assign([Self.queue(0), Self.queue(1)], topic: "T")
        _ = machine.locksGranted([Self.queue(0)])
        #expect(machine.dropAll() == [
            .dropQueue(Self.queue(0), commitOffset: false), .dropQueue(Self.queue(1), commitOffset: false),
            .unlock([Self.queue(0), Self.queue(1)]),
        ])
        #expect(machine.queues.isEmpty)
    }
}
