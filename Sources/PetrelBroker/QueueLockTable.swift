import NIOCore
import PetrelCore
import Synchronization

/// The body of LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42):
/// `{"consumerGroup":S,"clientId":S,"mqSet":[MQ…]}` (spec §17). The C++ client ends it with `\n`,
/// which the tolerant parser accepts.
public struct LockBatchRequestBody: Sendable {
    /// The consumer group.
    public var consumerGroup: String
    /// The requesting client.
    public var clientId: String
    /// The queues to lock or unlock.
    public var queues: [MessageQueue]

    /// A body.
    public init(consumerGroup: String, clientId: String, queues: [MessageQueue]) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.queues = queues
    }

    /// Parses the body; `consumerGroup` and `clientId` must be present, `mqSet` may be missing (no queues).
    public init(jsonBuffer: ByteBuffer) throws(CoreError) {
        let reader = try JSONObjectReader(JSONValue.parse(jsonBuffer), context: "LockBatchRequestBody")
        consumerGroup = try reader.requiredString("consumerGroup")
        clientId = try reader.requiredString("clientId")
        var queues: [MessageQueue] = []
        for element in try reader.array("mqSet") ?? [] where element != .null {
            queues.append(try MessageQueue(json: element, defaultBrokerName: ""))
        }
        self.queues = queues
    }

    /// The JSON form (what clients send).
    public var json: JSONValue {
        .object([
            "consumerGroup": .string(consumerGroup), "clientId": .string(clientId), "mqSet": .array(queues.map(\.json)),
        ])
    }
}

/// Which client holds each queue of each consumer group for orderly consumption (Java's
/// `RebalanceLockManager`, spec §17).
///
/// A queue is granted to a client when nobody holds it, when the client already holds it (the lock
/// is renewed), or when the holder's lock is older than `expiry` or the holder is no longer alive
/// (the caller says who is alive, so a consumer whose connection closed or that unregistered loses
/// its locks at once instead of after the expiry). Time is passed in, so tests control it.
public final class QueueLockTable: Sendable {
    /// How long a lock lasts without renewal (Java's `rocketmq.broker.rebalance.lockMaxLiveTime`,
    /// 60 s); clients renew every 20 s.
    public static let defaultExpiry: Int64 = 60_000

    /// One lock.
    struct Lock: Sendable {
        /// The holder.
        var clientId: String
        /// When it last locked the queue, milliseconds since the epoch.
        var lastLocked: Int64
    }

    /// Lock lifetime in milliseconds.
    public let expiry: Int64
    /// Consumer group → queue → lock.
    private let locks = Mutex<[String: [MessageQueue: Lock]]>([:])

    /// An empty table whose locks last `expiry` ms.
    public init(expiry: Int64 = QueueLockTable.defaultExpiry) {
        self.expiry = expiry
    }

    /// Locks `queues` for `clientId` in `group` at time `now`; returns the queues it now holds among
    /// them. `isAlive` tells whether another holder is still a live member of the group; a lock of a
    /// holder that is not is taken over.
    public func lock(
        group: String, clientId: String, queues: [MessageQueue], now: Int64, isAlive: (String) -> Bool = { _ in true }
    ) -> [MessageQueue] {
        locks.withLock { locks in
            var table = locks[group] ?? [:]
            var granted: [MessageQueue] = []
            for queue in Set(queues) {
                if let held = table[queue], held.clientId != clientId, now - held.lastLocked <= expiry, isAlive(held.clientId) {
                    continue
                }
                table[queue] = Lock(clientId: clientId, lastLocked: now)
                granted.append(queue)
            }
            locks[group] = table.isEmpty ? nil : table
            return granted.sorted()
        }
    }

    /// Releases those of `queues` that `clientId` holds in `group`; returns them.
    @discardableResult
    public func unlock(group: String, clientId: String, queues: [MessageQueue]) -> [MessageQueue] {
        locks.withLock { locks in
            guard var table = locks[group] else { return [] }
            var released: [MessageQueue] = []
            for queue in Set(queues) where table[queue]?.clientId == clientId {
                table[queue] = nil
                released.append(queue)
            }
            locks[group] = table.isEmpty ? nil : table
            return released.sorted()
        }
    }

    /// Releases every lock `clientId` holds in `group`; returns how many.
    @discardableResult
    public func unlockAll(group: String, clientId: String) -> Int {
        locks.withLock { locks in
            guard let table = locks[group] else { return 0 }
            let kept = table.filter { $0.value.clientId != clientId }
            locks[group] = kept.isEmpty ? nil : kept
            return table.count - kept.count
        }
    }

    /// The client holding `queue` in `group` at time `now`, nil when it is free or the lock expired.
    public func holder(group: String, queue: MessageQueue, now: Int64) -> String? {
        locks.withLock { locks in
            guard let held = locks[group]?[queue], now - held.lastLocked <= expiry else { return nil }
            return held.clientId
        }
    }

    /// Locks held, across every group (expired ones included until swept).
    public var count: Int { locks.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Drops locks older than `expiry` (they would be taken over anyway); returns how many.
    @discardableResult
    public func removeExpired(now: Int64) -> Int {
        locks.withLock { locks in
            var removed = 0
            for (group, table) in locks {
                let kept = table.filter { now - $0.value.lastLocked <= expiry }
                removed += table.count - kept.count
                locks[group] = kept.isEmpty ? nil : kept
            }
            return removed
        }
    }
}
