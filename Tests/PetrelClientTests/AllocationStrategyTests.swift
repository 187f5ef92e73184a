import PetrelClient
import PetrelCore
import Testing

/// The allocation strategies split a topic's queues so that every queue has exactly one owner.
@Suite struct AllocationStrategyTests {
    /// `count` queues of topic `T` on two brokers, sorted.
    static func queues(_ count: Int) -> [MessageQueue] {
        (0..<count).map { MessageQueue(topic: "T", brokerName: $0 % 2 == 0 ? "b0" : "b1", queueId: Int32($0 / 2)) }.sorted()
    }

    /// The clients `c0 … c(n-1)`, sorted.
    static func clients(_ count: Int) -> [String] { (0..<count).map { "c\($0)" }.sorted() }

    /// Every client's share, by client.
    static func shares(_ strategy: any QueueAllocationStrategy, clients: [String], queues: [MessageQueue]) -> [String: [MessageQueue]] {
        Dictionary(uniqueKeysWithValues: clients.map {
            ($0, strategy.allocate(group: "G", currentClientId: $0, allClientIds: clients, allQueues: queues))
        })
    }

    /// Each automatic strategy covers every queue exactly once for many client/queue counts.
    @Test(arguments: [
        AverageAllocationStrategy() as any QueueAllocationStrategy, AverageByCircleAllocationStrategy(),
        ConsistentHashAllocationStrategy(),
    ])
    func partitionsEveryQueueOnce(strategy: any QueueAllocationStrategy) {
        for clientCount in 1...9 {
            for queueCount in 0...17 {
                let all = Self.queues(queueCount)
                let shares = Self.shares(strategy, clients: Self.clients(clientCount), queues: all)
                let assigned = shares.values.flatMap { $0 }
                #expect(assigned.count == queueCount, "\(strategy.name) \(clientCount) clients \(queueCount) queues")
                #expect(Set(assigned) == Set(all))
            }
        }
    }

    /// Average gives contiguous blocks whose sizes differ by at most one, larger blocks first.
    @Test func averageGivesBalancedContiguousBlocks() {
        let all = Self.queues(8)
        let shares = Self.shares(AverageAllocationStrategy(), clients: Self.clients(3), queues: all)
        #expect(shares["c0"] == Array(all[0..<3]))
        #expect(shares["c1"] == Array(all[3..<6]))
        #expect(shares["c2"] == Array(all[6..<8]))
        // More clients than queues: the last clients get nothing.
        let sparse = Self.shares(AverageAllocationStrategy(), clients: Self.clients(5), queues: Self.queues(3))
        #expect(sparse["c3"] == [] && sparse["c4"] == [])
    }

    /// By circle deals queues round robin.
    @Test func averageByCircleDealsRoundRobin() {
        let all = Self.queues(7)
        let shares = Self.shares(AverageByCircleAllocationStrategy(), clients: Self.clients(3), queues: all)
        #expect(shares["c0"] == [all[0], all[3], all[6]])
        #expect(shares["c1"] == [all[1], all[4]])
        #expect(shares["c2"] == [all[2], all[5]])
    }

    /// A client not in the group gets nothing, whatever the strategy.
    @Test func unknownClientGetsNothing() {
        for strategy in [AverageAllocationStrategy() as any QueueAllocationStrategy, AverageByCircleAllocationStrategy(), ConsistentHashAllocationStrategy()] {
            #expect(strategy.allocate(group: "G", currentClientId: "stranger", allClientIds: ["a", "b"], allQueues: Self.queues(4)).isEmpty)
        }
    }

    /// Consistent hashing moves few queues when a client joins, and spreads queues over clients.
    @Test func consistentHashMovesFewQueuesWhenAClientJoins() {
        let strategy = ConsistentHashAllocationStrategy(virtualNodeCount: 50)
        let all = (0..<64).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }.sorted()
        let before = Self.shares(strategy, clients: Self.clients(4), queues: all)
        let after = Self.shares(strategy, clients: Self.clients(5), queues: all)
        var moved = 0
        for client in Self.clients(4) {
            moved += Set(before[client]!).subtracting(after[client]!).count
        }
        // Ideal is 64/5 ≈ 13; a plain modulo scheme would move about 51.
        #expect(moved <= 30, "moved \(moved)")
        #expect(before.values.allSatisfy { !$0.isEmpty })
        // Queues only ever move to the newcomer.
        #expect(moved == after["c4"]!.count)
    }

    /// The configured strategy answers its queues that exist, in the topic's order.
    @Test func configuredStrategyKeepsExistingConfiguredQueues() {
        let all = Self.queues(4)
        let missing = MessageQueue(topic: "T", brokerName: "gone", queueId: 0)
        let strategy = ConfiguredAllocationStrategy(queues: [all[2], all[0], missing])
        #expect(strategy.allocate(group: "G", currentClientId: "x", allClientIds: [], allQueues: all) == [all[0], all[2]])
    }
}
