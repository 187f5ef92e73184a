import PetrelCore

/// Decides which of a consumer group's queues one client consumes (clustering mode).
///
/// Every client of the group runs the same strategy over the same sorted inputs and takes its own
/// share, so without any coordination the shares cover every queue exactly once. A strategy must
/// therefore be deterministic across processes: no randomness, no per-process hashing seeds.
///
/// The plugin host provides C-plugin strategies through this same protocol.
public protocol QueueAllocationStrategy: Sendable {
    /// A short name for logs and the consumer's running info (`AVG`, `AVG_BY_CIRCLE` …).
    var name: String { get }

    /// The queues of `allQueues` that `currentClientId` consumes.
    ///
    /// - Parameters:
    ///   - group: the consumer group.
    ///   - currentClientId: this client's id; normally one of `allClientIds`.
    ///   - allClientIds: every client of the group, sorted.
    ///   - allQueues: every readable queue of one subscribed topic, sorted.
    /// - Returns: this client's queues; empty when `currentClientId` is not among `allClientIds`.
    func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue]

    /// `allocate`, or an error saying why this client's share cannot be computed. The default never
    /// fails; plugin strategies override it so a misbehaving plugin stops the rebalance with its
    /// reason instead of silently consuming nothing.
    func checkedAllocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) throws(ClientError) -> [MessageQueue]
}

extension QueueAllocationStrategy {
    /// `allocate`'s answer.
    public func checkedAllocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) throws(ClientError) -> [MessageQueue] {
        allocate(group: group, currentClientId: currentClientId, allClientIds: allClientIds, allQueues: allQueues)
    }
}

/// Contiguous blocks of nearly equal size: with 8 queues and 3 clients, the first two clients get
/// 3 queues each and the last gets 2. Java's default (`AllocateMessageQueueAveragely`, `AVG`).
public struct AverageAllocationStrategy: QueueAllocationStrategy {
    /// `AVG`.
    public var name: String { "AVG" }

    /// The average strategy.
    public init() {}

    /// This client's contiguous block; the first `queues % clients` clients get one queue more.
    public func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue] {
        guard let index = allClientIds.firstIndex(of: currentClientId), !allQueues.isEmpty else { return [] }
        let clientCount = allClientIds.count
        let base = allQueues.count / clientCount
        let remainder = allQueues.count % clientCount
        let size = base + (index < remainder ? 1 : 0)
        let start = index * base + min(index, remainder)
        guard size > 0 else { return [] }
        return Array(allQueues[start..<(start + size)])
    }
}

/// Round robin: queue `i` goes to client `i % clients` (`AVG_BY_CIRCLE`).
public struct AverageByCircleAllocationStrategy: QueueAllocationStrategy {
    /// `AVG_BY_CIRCLE`.
    public var name: String { "AVG_BY_CIRCLE" }

    /// The round-robin strategy.
    public init() {}

    /// Every `clients`-th queue, starting at this client's index.
    public func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue] {
        guard let index = allClientIds.firstIndex(of: currentClientId) else { return [] }
        return allQueues.enumerated().filter { $0.offset % allClientIds.count == index }.map(\.element)
    }
}

/// A fixed list of queues, whatever the group looks like (`CONFIG`): for deployments that pin
/// queues to machines. Queues not currently readable are left out.
public struct ConfiguredAllocationStrategy: QueueAllocationStrategy {
    /// The queues this client always takes.
    public var queues: Set<MessageQueue>

    /// `CONFIG`.
    public var name: String { "CONFIG" }

    /// A strategy that always answers `queues`.
    public init(queues: Set<MessageQueue>) {
        self.queues = queues
    }

    /// The configured queues that exist in `allQueues`, in `allQueues`' order.
    public func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue] {
        allQueues.filter { queues.contains($0) }
    }
}

/// Consistent hashing with virtual nodes (`CONSISTENT_HASH`): each client owns `virtualNodeCount`
/// points on a 64-bit ring, and a queue goes to the owner of the first point at or after the queue's
/// hash. A client joining or leaving moves only about `1/clients` of the queues.
///
/// The hash is FNV-1a 64 with a SplitMix64 finaliser, not Java's MD5, so a group must not mix
/// Java and Petrel clients using this strategy (their rings would differ).
public struct ConsistentHashAllocationStrategy: QueueAllocationStrategy {
    /// Points per client on the ring.
    public var virtualNodeCount: Int

    /// `CONSISTENT_HASH`.
    public var name: String { "CONSISTENT_HASH" }

    /// A ring with `virtualNodeCount` (at least 1) points per client; Java's default is 10.
    public init(virtualNodeCount: Int = 10) {
        self.virtualNodeCount = max(1, virtualNodeCount)
    }

    /// The queues whose ring successor belongs to this client.
    public func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue] {
        guard allClientIds.contains(currentClientId) else { return [] }
        var ring: [(point: UInt64, clientId: String)] = []
        ring.reserveCapacity(allClientIds.count * virtualNodeCount)
        for clientId in allClientIds {
            for node in 0..<virtualNodeCount {
                ring.append((Self.hash("\(clientId)-\(node)"), clientId))
            }
        }
        // Ties (vanishingly rare) are broken by client id so every client builds the same ring.
        ring.sort { $0.point != $1.point ? $0.point < $1.point : $0.clientId < $1.clientId }
        return allQueues.filter { queue in
            Self.owner(of: Self.hash(queue.description), on: ring) == currentClientId
        }
    }

    /// The client owning the first ring point at or after `point`, wrapping to the first point.
    static func owner(of point: UInt64, on ring: [(point: UInt64, clientId: String)]) -> String {
        var low = 0
        var high = ring.count
        while low < high {
            let middle = (low + high) / 2
            if ring[middle].point < point { low = middle + 1 } else { high = middle }
        }
        return ring[low == ring.count ? 0 : low].clientId
    }

    /// A stable 64-bit hash of `text`'s UTF-8 bytes: FNV-1a, then SplitMix64's finaliser because
    /// FNV alone clusters strings that differ only in their last characters (`…#1`, `…#2`).
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
        value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
        return value ^ (value >> 31)
    }
}
