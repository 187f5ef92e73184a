import PetrelCore

/// What a consumer must do to move from the queues it serves to a new assignment.
public enum RebalanceAction: Hashable, Sendable {
    /// Create a process queue and start pulling at the queue's stored (or initial) offset.
    case startPulling(MessageQueue)
    /// Stop pulling and delivering; with `commitOffset` commit its offset first (clustering).
    case dropQueue(MessageQueue, commitOffset: Bool)
    /// Orderly: ask the broker for these queues' locks; report the answer with `locksGranted`.
    case lock([MessageQueue])
    /// Orderly: release these queues' broker locks (after their offsets are committed).
    case unlock([MessageQueue])
}

/// The rebalance decisions as a pure state machine, in the manner of NIO's state machines: it is
/// told what happened (a new assignment, locks granted) and answers with actions; it performs no I/O.
///
/// Concurrent consumers start pulling an assigned queue at once. Orderly consumers first take the
/// broker lock: a queue is `locking` until `locksGranted` names it, and only then pulled, so no two
/// clients consume one queue at the same time during a rebalance.
public struct RebalanceStateMachine: Sendable {
    /// Where one served queue stands.
    public enum QueueState: Hashable, Sendable {
        /// Orderly: the lock was requested and not yet granted.
        case locking
        /// Pulling and delivering.
        case active
    }

    /// Whether queues are locked before they are consumed.
    public let isOrderly: Bool
    /// Whether dropped queues commit their offset (clustering); broadcasting keeps offsets locally anyway.
    public let commitsOnDrop: Bool
    /// The queues currently served, by state.
    public private(set) var queues: [MessageQueue: QueueState] = [:]

    /// A machine serving nothing yet.
    public init(isOrderly: Bool, commitsOnDrop: Bool = true) {
        self.isOrderly = isOrderly
        self.commitsOnDrop = commitsOnDrop
    }

    /// The queues being pulled.
    public var activeQueues: Set<MessageQueue> { Set(queues.filter { $0.value == .active }.keys) }

    /// Applies the new assignment of `topic`'s queues; queues of other topics are untouched.
    /// Returns drops first (and their unlock), then starts or lock requests, each in queue order.
    public mutating func assign(_ assignment: Set<MessageQueue>, topic: String) -> [RebalanceAction] {
        let served = Set(queues.keys.filter { $0.topic == topic })
        let dropped = served.subtracting(assignment).sorted()
        let added = assignment.filter { $0.topic == topic }.subtracting(served).sorted()
        var actions: [RebalanceAction] = []
        for queue in dropped {
            queues[queue] = nil
            actions.append(.dropQueue(queue, commitOffset: commitsOnDrop))
        }
        if isOrderly, !dropped.isEmpty { actions.append(.unlock(dropped)) }
        if isOrderly {
            for queue in added { queues[queue] = .locking }
            // Queues whose lock is still pending from an earlier round are asked for again.
            let pending = queues.filter { $0.key.topic == topic && $0.value == .locking }.keys.sorted()
            if !pending.isEmpty { actions.append(.lock(pending)) }
        } else {
            for queue in added {
                queues[queue] = .active
                actions.append(.startPulling(queue))
            }
        }
        return actions
    }

    /// Orderly: the broker granted these locks; queues still waiting for them start pulling.
    /// Grants for queues no longer assigned (the rebalance moved on) are answered with an unlock.
    public mutating func locksGranted(_ granted: Set<MessageQueue>) -> [RebalanceAction] {
        var actions: [RebalanceAction] = []
        var stray: [MessageQueue] = []
        for queue in granted.sorted() {
            switch queues[queue] {
            case .locking:
                queues[queue] = .active
                actions.append(.startPulling(queue))
            case .active:
                continue
            case nil:
                stray.append(queue)
            }
        }
        if !stray.isEmpty { actions.append(.unlock(stray)) }
        return actions
    }

    /// Drops every queue (shutdown): drop actions, then one unlock for orderly consumers.
    public mutating func dropAll() -> [RebalanceAction] {
        let all = queues.keys.sorted()
        queues.removeAll()
        var actions: [RebalanceAction] = all.map { .dropQueue($0, commitOffset: commitsOnDrop) }
        if isOrderly, !all.isEmpty { actions.append(.unlock(all)) }
        return actions
    }

    /// Forgets `queue` without an action (it could not be started); the next `assign` that
    /// includes it starts it again.
    public mutating func forget(_ queue: MessageQueue) {
        queues[queue] = nil
    }
}
